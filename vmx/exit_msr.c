/*
 * RDMSR/WRMSR exits: MSRs the bitmap traps (core/vmsr.c) and every MSR outside
 * the two bitmap ranges, which always exits (SDM 25.1.3). Those are not
 * executed on the host, where a missing MSR would fault Nestor: L1 gets #GP.
 */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/log.h"
#include "nestor/vmx_ops.h"

/* MSRs the VMCS switches on entry and exit: the guest's value is a VMCS field, not the MSR. */
static bool vmcs_msr(uint32_t msr, bool write, uint64_t *value)
{
    if (msr != MSR_IA32_DEBUGCTL)
        return false;
    if (!write)
        *value = vmread(VMCS_GUEST_DEBUGCTL);
    return true;
}

static uint64_t edx_eax(const struct vcpu *v)
{
    return ((v->regs.gpr[GPR_RDX] & 0xffffffffull) << 32) | (v->regs.gpr[GPR_RAX] & 0xffffffffull);
}

enum exit_action handle_rdmsr(struct vcpu *v)
{
    uint32_t msr = (uint32_t)v->regs.gpr[GPR_RCX];
    uint64_t value;
    if (!vmcs_msr(msr, false, &value) && vmsr_read(&v->msr, msr, &value) != VMSR_OK) {
        log_debug("L1 RDMSR 0x%x: #GP", msr);
        vcpu_inject_exception(v, VEC_GP, true, 0);
        return EXIT_RESUME;
    }
    log_debug("L1 RDMSR 0x%x = 0x%lx", msr, value);
    v->regs.gpr[GPR_RAX] = value & 0xffffffffull;
    v->regs.gpr[GPR_RDX] = value >> 32;
    vcpu_skip_instruction(v);
    return EXIT_RESUME;
}

enum exit_action handle_wrmsr(struct vcpu *v)
{
    uint32_t msr = (uint32_t)v->regs.gpr[GPR_RCX];
    uint64_t value = edx_eax(v);
    if (vmcs_msr(msr, true, &value)) {
        /* BTS is reported unavailable (IA32_MISC_ENABLE[11]): its records would go to the DS area. */
        if (value & (~DEBUGCTL_VALID_BITS | DEBUGCTL_BTS_BITS)) {
            log_debug("L1 WRMSR IA32_DEBUGCTL = 0x%lx: #GP (reserved or BTS bits)", value);
            vcpu_inject_exception(v, VEC_GP, true, 0);
            return EXIT_RESUME;
        }
        vmwrite(VMCS_GUEST_DEBUGCTL, value);
    } else if (vmsr_write(&v->msr, msr, value) != VMSR_OK) {
        log_debug("L1 WRMSR 0x%x = 0x%lx: #GP", msr, value);
        vcpu_inject_exception(v, VEC_GP, true, 0);
        return EXIT_RESUME;
    }
    log_debug("L1 WRMSR 0x%x = 0x%lx", msr, value);
    vcpu_skip_instruction(v);
    return EXIT_RESUME;
}
