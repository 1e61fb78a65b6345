/*
 * What every emulated VMX instruction starts with: the #UD and #GP checks at
 * the top of each instruction's "Operation" in SDM vol. 3C chapter 31 (and
 * vol. 2), and the outcomes VMsucceed / VMfailInvalid / VMfailValid (31.2).
 */
#include "nested_internal.h"
#include "nestor/arch.h"
#include "nestor/log.h"
#include "nestor/vmx.h"
#include "nestor/vmx_ops.h"

#define ARITH_FLAGS (RFLAGS_CF | BIT(2) | BIT(4) | RFLAGS_ZF | BIT(7) | BIT(11)) /* CF PF AF ZF SF OF */

bool l1_long_mode_code(void)
{
    return (vmread(VMCS_GUEST_EFER) & EFER_LMA) && (vmread(VMCS_GUEST_CS_AR) & VMX_AR_L);
}

/* L1 sees the CPU's MAXPHYADDR (CPUID.80000008H is passed through). */
uint64_t nested_maxphy_mask(void) { return g_vmx_caps.phys_addr_mask; }

bool vmx_insn_checks(struct vcpu *v, bool needs_vmx_operation)
{
    uint64_t cr0 = (vmread(VMCS_GUEST_CR0) & ~v->cr0_mask) | (vmread(VMCS_CR0_READ_SHADOW) & v->cr0_mask);
    bool compat = (vmread(VMCS_GUEST_EFER) & EFER_LMA) && !(vmread(VMCS_GUEST_CS_AR) & VMX_AR_L);
    if ((needs_vmx_operation && !v->nested.vmxon) || !(cr0 & CR0_PE) || (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_VM) ||
        compat) {
        vcpu_inject_exception(v, VEC_UD, false, 0);
        return false;
    }
    if (VMX_AR_DPL(vmread(VMCS_GUEST_SS_AR)) != 0) { /* CPL is SS.DPL */
        vcpu_inject_exception(v, VEC_GP, true, 0);
        return false;
    }
    return true;
}

static void set_flags(struct vcpu *v, uint64_t set)
{
    vmwrite(VMCS_GUEST_RFLAGS, (vmread(VMCS_GUEST_RFLAGS) & ~ARITH_FLAGS) | set);
    vcpu_skip_instruction(v);
}

void nested_vmsucceed(struct vcpu *v) { set_flags(v, 0); }

void nested_vmfail_invalid(struct vcpu *v)
{
    log_debug("L1 %s: VMfailInvalid", exit_reason_name(EXIT_REASON_BASIC(v->exit_reason)));
    set_flags(v, RFLAGS_CF);
}

void nested_vmfail_valid(struct vcpu *v, unsigned err)
{
    log_debug("L1 %s: VMfailValid(%u) %s", exit_reason_name(EXIT_REASON_BASIC(v->exit_reason)), err,
              vm_instruction_error_name(err));
    V12(&v->nested.current->v, VMCS_VM_INSTRUCTION_ERROR) = err;
    set_flags(v, RFLAGS_ZF);
}

bool nested_vmwrite_outcome(struct vcpu *v, enum vmcs12_result r)
{
    switch (r) {
    case V12_UNSUPPORTED:
        nested_vmfail_valid(v, VMERR_UNSUPPORTED_FIELD);
        return false;
    case V12_READ_ONLY:
        nested_vmfail_valid(v, VMERR_VMWRITE_READ_ONLY);
        return false;
    case V12_OK:
        break;
    }
    return true;
}

void nested_vmfail(struct vcpu *v, unsigned err)
{
    if (v->nested.current)
        nested_vmfail_valid(v, err);
    else
        nested_vmfail_invalid(v);
}
