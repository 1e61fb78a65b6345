/*
 * ghv: shared machinery of the extended tests (events, l0, msrarea, pae).
 *
 * Each extended test runs L2 through one or more small scenarios. Every VM
 * exit is printed in the basic test's format ("ghv: exit n=..", numbered
 * from 1 per test) and compared with what the SDM says it must be; values
 * are printed as "ghv: <test> <key>=0x..", deliberate VM-entry failures as
 * "ghv: <test> <case> = <outcome>" (the neg test's outcome format), and the
 * test ends with "ghv: <test> exits=<dec>" and "ghv: <test> ok|FAIL ..".
 *
 * The objects of these tests are linked after the original image (link.ld,
 * build/tests/ghv/x/): basic and neg keep their exact addresses, so their
 * transcripts stay byte-for-byte the same.
 */
#ifndef GHV_XTEST_H
#define GHV_XTEST_H

#include "check.h"
#include "l2_more.h"
#include "vmx.h"

/* Controls beyond those vmx.h names (SDM Vol. 3C, VM-execution, VM-exit
 * and VM-entry control fields: 25.6-25.8 in the current edition). */
#define PIN_EXT_INT_EXIT   (1u << 0)
#define PIN_NMI_EXIT       (1u << 3)
#define PIN_VIRTUAL_NMIS   (1u << 5)
#define PIN_PREEMPT_TIMER  (1u << 6)
#define PROC_INT_WINDOW    (1u << 2)
#define PROC_NMI_WINDOW    (1u << 22)
#define EXIT_ACK_INT       (1u << 15)
#define EXIT_SAVE_TIMER    (1u << 22)

/* Fields beyond vmx.h's (Appendix B). */
#define EXIT_MSR_STORE_ADDR 0x2006
#define EXIT_MSR_LOAD_ADDR  0x2008
#define ENTRY_MSR_LOAD_ADDR 0x200a
#define GUEST_PREEMPT_TIMER 0x482e

/* Exit reasons the extended tests expect. */
enum {
    XR_EXCEPTION = 0, XR_EXTINT = 1, XR_INT_WINDOW = 7, XR_NMI_WINDOW = 8, XR_CPUID = 10, XR_VMCALL = 18,
    XR_TIMER = 52,
};

struct xt {
    const char *name;               /* the test, as on the command line */
    struct faillist f;
    u32 n;                          /* VM exits seen so far */
    bool launched;                  /* the current VMCS has been launched */
    u64 regs[16];                   /* L2's GPRs, ghv_vmrun numbering */
};

/* One expected VM exit. idtv and info must always be 0 here. */
struct xexp {
    u32 reason;
    u64 qual, rip;
    u32 len, intr, err;
};

void xt_begin(struct xt *t, const char *name);
/* VMXON (if ghv is not in VMX operation yet) and the controls of basic. */
bool xt_vmx(struct xt *t);
/* vmcs_setup() (basic's VMCS: 64-bit L2 on its own tables) at rip, L2's
 * GPRs cleared; the next xt_step launches. */
bool xt_vmcs(struct xt *t, void *vmcs, u64 rip);
/* True if every bit of want may be 1 in the (TRUE_) capability MSR cap;
 * else prints "ghv: <test> skipped <what>" and returns false. */
bool xt_offered(struct xt *t, const char *what, u64 cap, u32 want);

/* Enter L2 (VMLAUNCH or VMRESUME) and wait for one VM exit. On an exit,
 * prints it, checks it against *want (failure recorded as tag) and returns
 * true. A failed VMLAUNCH/VMRESUME or VM entry is printed as
 * "ghv: <test> <tag> entry failed ..." and recorded; returns false. */
bool xt_step(struct xt *t, const char *tag, const struct xexp *want, struct exit_info *e);

/* Enter L2 expecting a VM-entry failure: prints "ghv: <test> <tag> = <outcome>"
 * and checks it against the failure (reason, qual). */
void xt_expect_entryfail(struct xt *t, const char *tag, u32 reason, u64 qual);

/* Prints "ghv: <test> <key>=0x<got>" and checks it. */
void xt_show(struct xt *t, const char *key, u64 got, u64 want);

/* Prints "ghv: <test> exits=<n>", checks n and the verdict line. */
bool xt_end(struct xt *t, u32 want_exits);

/* ---- legacy PIC and PIT (events test) ---- */
void pic_remap_masked(void);        /* ICW1-4: master 0x20, slave 0x28; all masked */
void pic_set_mask(u8 master);       /* OCW1 on the master, slave stays masked */
void pic_eoi(void);                 /* non-specific EOI to the master */
void pit_oneshot(u16 count);        /* channel 0, mode 0: one rising edge on IRQ0 */
/* Install/remove a gate in ghv's own IDT (found with SIDT). */
void ghv_idt_set(u8 vec, u64 handler);
void ghv_idt_clear(u8 vec);

#endif
