/*
 * EPT violations and misconfigurations of EPT01. EPT01 maps all of L1's RAM
 * and the platform ranges up front, so a violation means L1 touched memory
 * that is not its own (for instance Nestor's): log it decoded and stop L1.
 */
#include "exit_handlers.h"
#include "nestor/ept.h"
#include "nestor/platform.h"
#include "nestor/vmx_ops.h"

enum exit_action handle_ept_violation(struct vcpu *v)
{
    char what[200];
    uint64_t gpa = vmread(VMCS_GUEST_PHYSICAL_ADDR);
    ept_describe_violation(v->exit_qual, what, sizeof what);
    if (v->exit_qual & EPTQUAL_LINEAR_VALID)
        return vcpu_stop(v, STATUS_L1_FAILED, true,
                         "EPT violation: L1 accessed guest-physical 0x%lx (linear 0x%lx) at rip 0x%lx: %s "
                         "(qualification 0x%lx); that address is not L1's memory",
                         gpa, vmread(VMCS_GUEST_LINEAR_ADDR), vmread(VMCS_GUEST_RIP), what, v->exit_qual);
    return vcpu_stop(v, STATUS_L1_FAILED, true,
                     "EPT violation: L1 accessed guest-physical 0x%lx at rip 0x%lx: %s (qualification 0x%lx); "
                     "that address is not L1's memory",
                     gpa, vmread(VMCS_GUEST_RIP), what, v->exit_qual);
}

enum exit_action handle_ept_misconfig(struct vcpu *v)
{
    return vcpu_stop(v, STATUS_NESTOR_PANIC, true, "EPT misconfiguration at guest-physical 0x%lx: a bug in Nestor's EPT01",
                     vmread(VMCS_GUEST_PHYSICAL_ADDR));
}
