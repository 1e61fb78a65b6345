/*
 * IA32_DEBUGCTL (MSR 0x1d9) for L1. KVM reads it before every VMRESUME, so an exit per
 * read doubles the L0 exits of every L2 exit L1 handles. The VMCS switches the MSR with
 * the load-debug-controls entry and save-debug-controls exit controls (vmcs01 has both),
 * so where the CPU implements it L1's reads run natively: the MSR holds L1's value while
 * L1 runs. Writes keep exiting (vmx/exit_msr.c): the CPU would accept the BTS bits,
 * whose records would go to a DS area Nestor does not give L1.
 * Bochs 2.7 has the VMCS field but no MSR behind it (RDMSR faults): there the read is
 * emulated from the VMCS field, ahead of the general exit dispatch.
 */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/log.h"
#include "nestor/vmsr.h"
#include "nestor/vmx_ops.h"

static int native = -1; /* -1 not probed yet; the same answer on every CPU of one machine */

bool debugctl_native(void)
{
    if (native < 0) {
        uint64_t value;
        native = rdmsr_safe(MSR_IA32_DEBUGCTL, &value) == 0 && wrmsr_safe(MSR_IA32_DEBUGCTL, value) == 0;
        log_info("IA32_DEBUGCTL: %s", native ? "implemented by the CPU, L1 reads it natively"
                                             : "not implemented by the CPU, L1's reads emulated from the VMCS");
    }
    return native;
}

void debugctl_bitmap(uint8_t bitmap[4096])
{
    if (debugctl_native())
        msr_bitmap_clear(bitmap, MSR_IA32_DEBUGCTL, false);
}

enum exit_action handle_debugctl_read(struct vcpu *v)
{
    uint64_t value = vmread(VMCS_GUEST_DEBUGCTL);
    v->levels.now.debugctl_reads++;
    v->regs.gpr[GPR_RAX] = value & 0xffffffffull;
    v->regs.gpr[GPR_RDX] = value >> 32;
    vcpu_skip_instruction(v);
    return EXIT_RESUME;
}
