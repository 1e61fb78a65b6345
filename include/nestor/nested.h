/*
 * Nested VMX: Nestor emulating VMX for L1 (nested/). L1's VMCSs (vmcs12) are
 * cached by their guest-physical address; L2 runs on vmcs02, built from
 * vmcs12 and Nestor's own requirements.
 */
#ifndef NESTOR_NESTED_H
#define NESTOR_NESTED_H

#include "ept.h"
#include "nested_caps.h"
#include "types.h"
#include "vmcs12.h"
#include "vmx_arch.h"

#define VMCS12_CACHE_SIZE 4
#define VMCS12_NONE (~(gpa_t)0)

struct vmcs12_cache_entry {
    gpa_t gpa;          /* VMCS12_NONE when the slot is free */
    uint64_t last_used; /* LRU clock */
    struct vmcs12 v;
};

#define EPT02_ROOTS 4
#define EPT02_MIN_FREE_PAGES 256 /* below this much free memory (1 MiB), shadows are dropped before a fill */

/* One shadow EPT02, for one EPTP12. */
struct ept02_root {
    bool valid;
    uint64_t eptp12;
    uint64_t last_used;
    struct ept ept;
};

struct nested_stats {
    uint64_t l2_by_l0[EXIT_REASON_COUNT];  /* L2 exits Nestor handled without L1 */
    uint64_t l2_to_l1[EXIT_REASON_COUNT];  /* L2 exits reflected to L1 */
    uint64_t entries;                      /* emulated VMLAUNCH/VMRESUME that reached L2 */
    uint64_t l1_vmx_exits_nested;          /* L1's VMX-instruction exits once it runs L2s */
    uint64_t ept02_fills;                  /* shadow EPT entries installed on L2 EPT violations */
    uint64_t ept02_roots;                  /* shadow EPTs created */
    uint64_t invepts;                      /* INVEPTs emulated */
    uint64_t ept02_flushes;                /* all shadows dropped because memory ran low */
    uint64_t l2_reinjected;                /* events re-delivered to L2 after an exit L0 handled */
    uint64_t ept02_prefills;               /* shadow entries installed at entry for the violation just reflected */
    uint64_t ept02_prefetched;             /* shadow entries installed ahead of a fault from neighbouring EPT12 entries */
    uint64_t ept12_ad_writes;              /* L2 accesses for which Nestor wrote A/D flags into EPT12 */
    uint64_t ept12_dirtied;                /* EPT12 D flags Nestor set (0 -> 1) */
    uint64_t pml_logged;                   /* of those, logged into L1's PML */
};

/* The nonzero 64-bit words of one of Nestor's own bitmap pages, for cheap merging into vmcs02's. */
#define SPARSE_PAGE_MAX 96
struct sparse_page {
    bool complete; /* false: more nonzero words than fit, merge the whole page */
    unsigned count;
    uint16_t index[SPARSE_PAGE_MAX];
};

struct nested_vmx {
    bool offered;   /* VMX visible to L1 at all (nested= option) */
    bool rtm;       /* the CPU has RTM (CPUID.(7,0):EBX[11], passed through to L1): read once, not per entry */
    struct nested_caps caps;
    bool vmxon;     /* L1 is in (emulated) VMX operation */
    gpa_t vmxon_ptr;
    gpa_t current_ptr; /* VMCS12_NONE: no current VMCS */
    struct vmcs12_cache_entry *current;
    struct vmcs12_cache_entry cache[VMCS12_CACHE_SIZE];
    uint64_t lru_clock;

    bool in_l2;
    paddr_t vmcs02;
    bool vmcs02_launched;
    bool entry_was_launch;        /* the last emulated entry was L1's VMLAUNCH */
    uint16_t vpid02;
    uint16_t last_vpid12;
    bool vpid12_seen;
    paddr_t io_bitmap02[2]; /* no MSR bitmap: vmcs02 lets every RDMSR/WRMSR exit (vmcs02_io_msr_exiting) */
    struct sparse_page io_bitmap01_words[2]; /* Nestor's own I/O exits, indexed */
    bool io_snapshot; /* vmcs02 uses a merged I/O bitmap until the next entry (a string I/O L0 lets run) */
    paddr_t vapic_hpa, apic_access_hpa; /* vmcs12's APIC-virtualization pages through EPT01 (apic_virt.c) */

    bool ept;            /* nested EPT offered (nested_ept=1) */
    /*
     * Host addresses of L1 pages that EPT12 tables were read from (nested/operand.c). EPT01
     * never changes after boot; were it to, ept02_drop_all empties this too. page[i] is the
     * L1 page number + 1 (0: empty).
     */
    struct {
        uint64_t page[16];
        paddr_t hpa[16];
    } l1_tlb;
    bool prefetch;       /* shadow EPT02 prefetch on a shadow miss (ept02_prefetch=1, the default) */
    struct ept02_root ept02[EPT02_ROOTS];
    /* Livelock guard (ept02.c): violations on a page the shadow already allows, same EPTP, same epoch. */
    gpa_t last_fill_gpa;
    uint64_t last_fill_eptp12;
    uint64_t fill_epoch, last_fill_epoch; /* moves at every emulated VM entry and INVEPT */
    unsigned same_fill_count;

    /* The EPT violation last reflected to L1, pre-filled when L1 resumes L2 (nested/ept02_prefill.c). */
    struct {
        bool pending;
        gpa_t gpa2;
        uint64_t eptp12, need;
    } prefill;

    /*
     * vmcs02 as a copy of one vmcs12 (nested/vmcs02.c): built in full when another vmcs12
     * (or a fresh copy of one) is entered, then only what changed since. dirty has a bit per
     * vmcs12 slot that L1 wrote (VMWRITE, or a shadowed write seen when the shadow is drained)
     * or that Nestor changed without vmcs02 changing alike; what Nestor saves from vmcs02 at
     * an exit is the same in both and is not marked.
     */
    const struct vmcs12_cache_entry *vmcs02_of; /* NULL: full build at the next entry */
    uint64_t dirty[(VMCS12_NFIELDS + 63) / 64];
    bool checked_l1_ia32e; /* the L1 mode vmcs02_of's controls and host state were checked in */

    bool shadowing;      /* VMCS shadowing in use for L1 (vmcs_shadowing=1 and the CPU has it) */
    bool shadow_ro;      /* the exit-information fields are shadowed too (CPU has VMWRITE to any field) */
    bool shadow_active;  /* vmcs01 currently links the shadow VMCS */
    paddr_t shadow_vmcs;
    /* What the shadow VMCS holds of the read/write fields (vmcs_shadow.c), valid after a fill or drain. */
    bool shadow_known;
    uint64_t shadow_rw_vals[48];

    struct nested_stats stats;
};

struct vcpu;

/* nested/nested_init.c */
void nested_init(struct vcpu *v, bool offer_vmx, bool vmcs_shadowing, bool nested_ept);
/* nested/vmx_insn.c: exit handlers for L1's VMX instructions */
enum exit_action nested_handle_vmxon(struct vcpu *v);
enum exit_action nested_handle_vmxoff(struct vcpu *v);
enum exit_action nested_handle_vmclear(struct vcpu *v);
enum exit_action nested_handle_vmptrld(struct vcpu *v);
enum exit_action nested_handle_vmptrst(struct vcpu *v);
enum exit_action nested_handle_vmread(struct vcpu *v);
enum exit_action nested_handle_vmwrite(struct vcpu *v);
enum exit_action nested_handle_vmlaunch(struct vcpu *v);
enum exit_action nested_handle_vmresume(struct vcpu *v);
enum exit_action nested_handle_invvpid(struct vcpu *v);
enum exit_action nested_handle_invept(struct vcpu *v);
/* nested/nested_exit.c: an exit from L2 (vmcs02 current) */
enum exit_action nested_l2_exit(struct vcpu *v);
/* The CPU refused vmcs02 at VMLAUNCH/VMRESUME (r = VMX_FAIL_*): tell L1 and go back to it. */
void nested_hw_entry_failed(struct vcpu *v, int r, unsigned err);
void nested_stats_print(const struct vcpu *v);
/* nested/nested_debug.c: the console's views (Ctrl-A v and e) of L1's current vmcs12/vmcs02 and of EPT02. */
void nested_debug_dump_vmcs(struct vcpu *v);
void nested_debug_ept02(struct vcpu *v, gpa_t gpa);

#endif
