/*
 * What VMX Nestor offers L1: the capability MSRs L1 reads (0x480-0x491) and
 * the allowed settings the emulated VM-entry checks enforce. A consistent
 * subset of the hardware's: a control is offered only if the CPU has it AND
 * Nestor emulates it (docs/NESTED.md lists them).
 */
#ifndef NESTOR_NESTED_CAPS_H
#define NESTOR_NESTED_CAPS_H

#include "types.h"
#include "vmx.h"

#define NESTED_CAP_MSR_FIRST MSR_IA32_VMX_BASIC
#define NESTED_CAP_MSR_COUNT 18 /* 0x480-0x491 */

struct nested_caps {
    uint64_t msr[NESTED_CAP_MSR_COUNT]; /* indexed by MSR - 0x480 */
    bool present[NESTED_CAP_MSR_COUNT]; /* absent ones #GP, as on a CPU without the feature */
    /* The TRUE allowed settings, which the entry checks use (SDM A.2: TRUE MSRs decide). */
    struct vmx_ctl_cap pin, proc, proc2, exit, entry;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    uint64_t misc, ept_vpid;
    unsigned v12_features; /* V12F_*: which optional vmcs12 fields exist */
};

struct nested_options {
    bool ept; /* nested EPT offered (issue 4) */
    bool vmcs_shadowing; /* VMCS shadowing offered to L1 where the CPU has it (issue 12) */
};

void nested_caps_compute(const struct vmx_caps *hw, const struct nested_options *opt, struct nested_caps *out);

#endif
