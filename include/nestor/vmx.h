/*
 * VMX on the real CPU (L0 <-> L1): capabilities, enabling VMX operation,
 * and deriving VM-execution control values from the capability MSRs.
 */
#ifndef NESTOR_VMX_H
#define NESTOR_VMX_H

#include "types.h"

/* allowed-0 settings in the low half, allowed-1 in the high half (SDM Appendix A.3-A.5). */
struct vmx_ctl_cap {
    uint32_t allowed0, allowed1;
};

struct vmx_caps {
    uint64_t basic, misc, ept_vpid, vmfunc, vmcs_enum;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    bool true_ctls, has_proc2;
    struct vmx_ctl_cap pin, proc, proc2, exit, entry;
    uint64_t phys_addr_mask; /* (1 << MAXPHYADDR) - 1, from CPUID.80000008H (36 bits without it) */
};

extern struct vmx_caps g_vmx_caps;

static inline struct vmx_ctl_cap vmx_ctl_cap_from_msr(uint64_t msr)
{
    return (struct vmx_ctl_cap){(uint32_t)msr, (uint32_t)(msr >> 32)};
}

/*
 * Control value = what we need + what we would like and the CPU allows +
 * what the CPU forces on. Returns false, with *missing set, when a required
 * bit cannot be 1.
 */
bool vmx_derive_controls(struct vmx_ctl_cap cap, uint32_t required, uint32_t optional, uint32_t *value,
                         uint32_t *missing);

/* What to do with IA32_FEATURE_CONTROL as firmware left it (SDM 23.7). */
enum feature_control_action { FC_READY, FC_SET_AND_LOCK, FC_LOCKED_OFF };
enum feature_control_action vmx_feature_control_action(uint64_t value);

/*
 * What Nestor needs of the secondary controls and the CPU lacks (EPT, unrestricted guest, or
 * both), named exactly for the refusal message; NULL when both are there.
 */
const char *vmx_missing_secondary(bool has_proc2, uint32_t proc2_allowed1);

/* CR0/CR4 value forced into the ranges IA32_VMX_CRx_FIXED0/1 allow (SDM Appendix A.7, A.8). */
static inline uint64_t vmx_apply_fixed(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
    return (value | fixed0) & fixed1;
}

/*
 * On the calling CPU: detects VMX, sets IA32_FEATURE_CONTROL if firmware
 * left it unlocked, applies the fixed CR bits and executes VMXON. The BSP's
 * capabilities become g_vmx_caps; an AP must match them. On failure logs one
 * clear line with the reason and returns false.
 */
bool vmx_cpu_on(bool bsp);

#endif
