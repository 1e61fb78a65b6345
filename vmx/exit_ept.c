/*
 * EPT violations and misconfigurations of EPT01. EPT01 maps all of L1's RAM
 * and the platform ranges up front, so a violation means L1 touched memory
 * that is not its own (for instance Nestor's): log it decoded and stop L1.
 * The one exception: L1's writes to its local APIC when those are trapped
 * (vmx/exit_lapic.c).
 */
#include "exit_handlers.h"
#include "nestor/ept.h"
#include "nestor/platform.h"
#include "nestor/vmx_ops.h"

enum exit_action handle_ept_violation(struct vcpu *v)
{
    char what[200];
    uint64_t gpa = vmread(VMCS_GUEST_PHYSICAL_ADDR);
    if (g_lapic_trap.on && ALIGN_DOWN(gpa, PAGE_SIZE) == g_lapic_trap.page && (v->exit_qual & EPTQUAL_WRITE))
        return lapic_write_exit(v, gpa);
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
