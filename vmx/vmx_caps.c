/* Pure decisions over the VMX capability MSRs (unit-tested on the host). */
#include "nestor/arch.h"
#include "nestor/vmx.h"
#include "nestor/vmx_arch.h"

bool vmx_derive_controls(struct vmx_ctl_cap cap, uint32_t required, uint32_t optional, uint32_t *value,
                         uint32_t *missing)
{
    uint32_t v = (required | (optional & cap.allowed1) | cap.allowed0) & cap.allowed1;
    *missing = required & ~cap.allowed1;
    *value = v;
    return *missing == 0;
}

enum feature_control_action vmx_feature_control_action(uint64_t value)
{
    if (!(value & FEATURE_CONTROL_LOCK))
        return FC_SET_AND_LOCK;
    return (value & FEATURE_CONTROL_VMX_OUTSIDE_SMX) ? FC_READY : FC_LOCKED_OFF;
}

const char *vmx_missing_secondary(bool has_proc2, uint32_t proc2_allowed1)
{
    bool ept = has_proc2 && (proc2_allowed1 & PROC2_ENABLE_EPT);
    bool ug = has_proc2 && (proc2_allowed1 & PROC2_UNRESTRICTED_GUEST);
    if (!has_proc2)
        return "secondary processor-based controls (hence EPT and unrestricted guest)";
    if (!ept && !ug)
        return "EPT and unrestricted guest";
    if (!ept)
        return "EPT"; /* unrestricted guest requires EPT (SDM 26.2.1.1), so no CPU should report this */
    if (!ug)
        return "unrestricted guest"; /* e.g. Nehalem (Bochs corei5_lynnfield_750): EPT without it */
    return 0;
}
