/*
 * ghv: the nested-EPT tests (ept, ept-ug, ept-hostile, ept-outside) and
 * runl2 — layout of L2's guest-physical space, result slots and constants
 * shared by the C side and L2's code in l2_ept.S.
 *
 * L2 guest-physical addresses (GPA) are NOT ghv's: EPT12 maps GPA g to
 * L1-physical g + E_OFS (64 MiB) unless a test says otherwise, and ghv
 * writes L2's memory through that offset (e_l1()). L2 runs a copy of ghv's
 * image placed at its link address in GPA space (GPA 1 MiB, L1-physical
 * 65 MiB), so L2's code labels are guest-physical (and, L2's page tables
 * being an identity map, guest-linear) addresses, exactly as printed.
 *
 * GPA layout of the 64-bit tests (ept, ept-hostile, ept-outside):
 *   0x000000-0x1fffff  one 2 MiB EPT12 leaf: marker at 0x1000, the image copy
 *                      from 0x100000, the real-mode stub of ept-ug at 0x8000
 *   0x200000-0x3fffff  4 KiB EPT12 leaves: L2's paging structures, GDT/TSS,
 *                      IDT, stack, result page and the test pages below
 *   0x400000-0x5fffff  ept-hostile / ept-outside special PDE
 *   1 GiB - 2 GiB      ept: one 1 GiB EPT12 leaf onto L1-physical 0, read-only
 *   0x8040201000       ept-hostile: the address whose EPT12 walk loops
 */
#ifndef GHV_EPT_H
#define GHV_EPT_H

#define E_OFS           0x4000000       /* L1-physical = GPA + E_OFS */
#define E_POOL_BASE     0x1000000       /* ghv's page pool: EPT12 tables, VMCS, bitmaps */
#define E_POOL_END      0x4000000
#define E_L2_SPAN       0x600000        /* GPA 0 - 6 MiB are backed at E_OFS */

/* L2's machine (GPA = L2-linear). */
#define E_GPA_PML4      0x200000
#define E_GPA_PDPT      0x201000
#define E_GPA_PD0       0x202000        /* 0 - 1 GiB, 2 MiB pages */
#define E_GPA_PD1       0x203000        /* 1 - 2 GiB, 2 MiB pages */
#define E_GPA_PDPT_HI   0x204000        /* PML4[1]: the self-loop address of ept-hostile */
#define E_GPA_PD_HI     0x205000
#define E_GPA_GDT       0x206000        /* null, code64 0x08, data 0x10, TSS 0x18 */
#define E_GPA_TSS       0x206100
#define E_GPA_IDT       0x207000
#define E_GPA_STACK     0x208000        /* 16 KiB, top = E_GPA_RES */
#define E_GPA_RES       0x20c000        /* result page */
#define E_GPA_DATA_END  0x20d000        /* end of the always-mapped data pages */

/* test=ept pages (4 KiB EPT12 leaves). */
#define E_GPA_MARK2M    0x001000        /* inside the 2 MiB leaf */
#define E_GPA_4KA       0x210000        /* -> L1 E_OFS + 0x3ff000 */
#define E_GPA_4KB       0x211000        /* -> L1 E_OFS + 0x3fe000 */
#define E_GPA_RO        0x212000        /* R */
#define E_GPA_XO        0x213000        /* X (execute-only), holds a RET */
#define E_GPA_NP        0x214000        /* not present, later -> L1 E_OFS + 0x3fd000 */
#define E_GPA_WO        0x215000        /* W without R: misconfigured */
#define E_GPA_P         0x216000        /* remapped: A, then B, then C */
#define E_L1_4KA        (E_OFS + 0x3ff000)
#define E_L1_4KB        (E_OFS + 0x3fe000)
#define E_L1_NP         (E_OFS + 0x3fd000)
#define E_L1_PA         (E_OFS + 0x3fc000)
#define E_L1_PB         (E_OFS + 0x3fb000)
#define E_L1_PC         (E_OFS + 0x3fa000)
#define E_GPA_1G        0x40000000      /* 1 GiB leaf onto L1-physical 0 */

/* ept-hostile / ept-outside */
#define E_GPA_SPECIAL   0x400000        /* under the reserved-bit PDE / the outside leaf */
#define E_GPA_SELF      0x8040201000    /* PML4[1], PDPT[1], PD[1], PT[1]: the self loop */

/* ept-ug: real-mode stub at GPA 0x8000 (CS = DS = SS = 0x800), results at 0x9000. */
#define UG_GPA          0x8000
#define UG_SEL          0x800
#define UG_RES          0x1000          /* offset from UG_GPA */
#define UG_SP           0x7000
#define UG_R_EAX        0x00
#define UG_R_EBX        0x04
#define UG_R_CR0RM      0x08
#define UG_R_CR0PM      0x0c

/* Result slots (64-bit) in the page at E_GPA_RES. "in" = written by ghv. */
#define ER_2M           0x00
#define ER_1G           0x08
#define ER_4KA          0x10
#define ER_4KB          0x18
#define ER_RO           0x20            /* read back after the write */
#define ER_NP           0x28
#define ER_XO_CALLED    0x30
#define ER_XO_BYTE      0x38
#define ER_WO           0x40
#define ER_PA           0x48
#define ER_PB           0x50
#define ER_PC           0x58
#define ER_BP_COUNT     0x60
#define ER_BP_RIP       0x68
#define ER_SELF         0x70            /* ept-hostile */
#define ER_MC           0x78
#define ER_OUT          0x80            /* ept-outside */
#define ER_IN_1G_ADDR   0x100           /* in: GPA to read through the 1 GiB leaf, 0 = skip */
#define ER_IN_XO        0x108           /* in: 1 = exec-only page usable */
#define ER_IN_SELF      0x110           /* in: 1 = run the self-loop read */

/* Values ghv puts behind the mappings (and L2 writes). */
#define EV_2M           0x326d326d326d326d
#define EV_1G           0x3167316731673167      /* ghv_e_known_1g, read through the 1 GiB leaf */
#define EV_4KA          0x6134613461346134
#define EV_4KB          0x6234623462346234
#define EV_WRONG        0x7778777877787778      /* behind the identity slot of a remapped page */
#define EV_RO           0x6f726f726f726f72
#define EV_RW           0x7772777277727772      /* what L2 writes into the read-only page */
#define EV_NP           0x706e706e706e706e
#define EV_WO           0x6f776f776f776f77
#define EV_PA           0x4150415041504150
#define EV_PB           0x4250425042504250
#define EV_PC           0x4350435043504350
#define EV_MC           0x636d636d636d636d

/* VMCALL codes (RAX). */
#define E_CALL_DONE     0
#define E_CALL_REMAP1   1               /* remap P to B, INVEPT single-context */
#define E_CALL_REMAP2   2               /* remap P to C, INVEPT all-context */

#ifndef __ASSEMBLER__
#include "xtest.h"

/* Extra VMCS fields and controls (SDM Appendix B / 25.6.2). */
#define SECONDARY_CONTROLS   0x401e
#define EPT_POINTER          0x201a
#define GUEST_PHYS_ADDR      0x2400
#define GUEST_LINEAR_ADDR    0x640a
#define PROC2_UG             (1u << 7)

/* EPT entry bits (SDM 29.3.2). */
#define EPT_R    1ull
#define EPT_W    2ull
#define EPT_X    4ull
#define EPT_RWX  7ull
#define EPT_WB   (6ull << 3)
#define EPT_LEAF (1ull << 7)            /* PS in a PDPTE/PDE */

/* IA32_VMX_EPT_VPID_CAP bits */
#define CAP_XO        (1ull << 0)
#define CAP_WALK4     (1ull << 6)
#define CAP_UC        (1ull << 8)
#define CAP_WB        (1ull << 14)
#define CAP_2M        (1ull << 16)
#define CAP_1G        (1ull << 17)
#define CAP_INVEPT    (1ull << 20)
#define CAP_AD        (1ull << 21)
#define CAP_ADV_INFO  (1ull << 22)
#define CAP_INVEPT_1  (1ull << 25)
#define CAP_INVEPT_2  (1ull << 26)

enum { XR_EPT_VIOLATION = 48, XR_EPT_MISCONFIG = 49, XR_IO = 30 };

/* What the boot information told ghv (copied at start: the MBI may sit
 * anywhere, including where the pool goes). */
struct e_boot {
    u64 ram_end;                /* end of the usable RAM block that holds 1 MiB */
    const char *cmdline;        /* copy */
    bool has_module;
    u64 mod_start, mod_end;
    const char *mod_cmdline;    /* copy */
    u64 mbi_start, mbi_end;
};
extern struct e_boot e_boot;

static inline void *e_ptr(u64 l1pa) { return (void *)(uintptr_t)l1pa; }
/* L2 guest-physical g as ghv sees it (the default E_OFS mapping). */
static inline volatile u64 *e_l1(u64 gpa) { return (volatile u64 *)(uintptr_t)(gpa + E_OFS); }
#define ER(off) (*e_l1(E_GPA_RES + (off)))

/* ---- eptlib.c ---- */
bool e_mem_check(struct xt *t, u64 lo, u64 hi, const char *what);  /* RAM and no module/MBI in [lo,hi) */
void e_pool_reset(void);
u64 e_pool_page(void);          /* zeroed 4 KiB page (L1-physical), 0 when exhausted */

struct ept12 {
    u64 pml4;                   /* L1-physical */
    u64 eptp;
};
bool ept12_init(struct ept12 *e);
/* Entry for gpa at level 1 (PTE), 2 (PDE) or 3 (PDPTE); non-leaf tables on
 * the way are created (RWX). NULL if the pool is exhausted or a leaf is in
 * the way. */
volatile u64 *ept12_entry(struct ept12 *e, u64 gpa, int level);
bool ept12_map(struct ept12 *e, u64 gpa, u64 l1pa, int level, u64 bits);

/* L2's 64-bit machine in GPA space (tables, GDT/TSS, IDT with #BP), the
 * image copy, the always-mapped EPT12 part (2 MiB leaf + data pages). */
bool e_l2_build(struct xt *t, struct ept12 *e, bool idt_present);
/* basic's VMCS + secondary controls (EPT | proc2) + EPTP + L2's 64-bit machine. */
bool e_vmcs_64(struct xt *t, void *vmcs, const struct ept12 *e, u64 rip);
bool e_secondary_offered(struct xt *t, u32 want);

/* An expected exit; gpa/gla are checked for EPT violations/misconfigurations. */
struct eexp {
    u32 reason;
    u64 qual, rip;
    u32 len, idtv;
    u64 gpa, gla;
};
struct eexit {
    struct exit_info x;
    u64 gpa, gla;
};
/* Enter, print the exit (plus "ghv: <test> gpa=.. gla=.. qual=.." for exits
 * 48/49), compare with *w (failure recorded as tag). False if there was no
 * VM exit (entry failure, printed and recorded). */
bool e_step(struct xt *t, const char *tag, const struct eexp *w, struct eexit *e);
/* e_step in two halves: enter and print; compare. */
bool e_run(struct xt *t, const char *tag, struct eexit *e);
void e_check(struct xt *t, const char *tag, const struct eexp *w, const struct eexit *e);
/* VMLAUNCH/VMRESUME of the current VMCS; VMX_* result, e filled on VMX_OK. */
int e_enter(struct xt *t, struct eexit *e);
/* Expected qualification of an EPT violation at a linear-address translation
 * (bits 7 and 8 set), with the advanced information (bits 9-11) where
 * EPT_VPID_CAP[22] says the CPU gives it: L2's pages are supervisor, writable
 * and executable, so only bit 10 is set. */
u64 e_qual_linear(u64 access_and_perm);

int ghv_e_invept(u64 type, const u64 *desc);    /* l2_ept.S: VMX_* or VMX_FAULTED */
extern const u64 ghv_e_known_1g;

/* ---- L2 code (l2_ept.S) ---- */
extern const char l2_ept_entry[], l2_ept_ro_write[], l2_ept_np_read[], l2_ept_xo_read[], l2_ept_wo_read[];
extern const char l2_ept_call1[], l2_ept_call2[], l2_ept_int3[], l2_ept_done[], l2_ept_bp_handler[];
extern const char l2_eh_entry[], l2_eh_self_read[], l2_eh_self_next[], l2_eh_mc_read[], l2_eh_done[];
extern const char l2_eo_entry[], l2_eo_read[], l2_eo_done[];
extern const char l2_ug_stub[], l2_ug_cpuid[], l2_ug_out[], l2_ug_vmcall[], l2_ug_stub_end[];

/* ---- tests ---- */
bool ept_run(void);
bool ept_ug_run(void);
bool ept_hostile_run(void);
bool ept_outside_run(void);
bool runl2_run(void);
#endif

#endif
