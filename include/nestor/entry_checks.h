/*
 * The checks VM entry performs, done in software on a vmcs12 before any of it
 * reaches the CPU (SDM 26.2 controls and host state, 26.3.1 guest state).
 * Every check has a name citing its SDM rule; the failing one is returned so
 * that the log tells an L1 developer exactly what is wrong.
 */
#ifndef NESTOR_ENTRY_CHECKS_H
#define NESTOR_ENTRY_CHECKS_H

#include "nested_caps.h"
#include "vmcs12.h"

struct entry_check_ctx {
    const struct nested_caps *caps;
    uint64_t maxphyaddr_mask; /* physical-address width: (1 << MAXPHYADDR) - 1 */
    bool l1_ia32e;            /* L1 itself runs in IA-32e mode (EFER.LMA) */
    bool rtm;                 /* L1 sees RTM (CPUID.(EAX=7,ECX=0):EBX[11]) */
    uint8_t vtpr;             /* byte 0x80 of vmcs12's virtual-APIC page, read by the caller (use TPR shadow) */
};

/* Returns NULL when all pass, else the rule that failed (then VMfailValid(7)). */
const char *entry_check_controls(const struct vmcs12 *v, const struct entry_check_ctx *c);
/* 26.2.1.1 compares the TPR threshold with VTPR (ctx->vtpr): TPR shadow without virtualize APIC
 * accesses and virtual-interrupt delivery. VTPR is in L1's memory: this check is never skipped. */
bool entry_check_reads_vtpr(const struct vmcs12 *v);
/* Returns NULL when all pass, else the rule that failed (then VMfailValid(8)). */
const char *entry_check_host_state(const struct vmcs12 *v, const struct entry_check_ctx *c);
/*
 * Returns NULL when all pass, else the rule that failed: VM entry fails with
 * exit reason 33 and *qual (0, or 4 for the VMCS link pointer, SDM 26.8).
 * The PDPTE check (26.3.1.6) and the revision behind a VMCS link pointer need
 * memory and are done by the caller.
 */
const char *entry_check_guest_state(const struct vmcs12 *v, const struct entry_check_ctx *c, uint32_t *qual);

static inline bool is_canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

#endif
