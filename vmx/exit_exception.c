/*
 * Exceptions L1 takes that Nestor intercepts (exit reason 0): #DB and #AC.
 * Both can be raised again by their own delivery (a #DB on the IDT or stack
 * through a data breakpoint, an #AC on a misaligned stack in ring 3): without
 * interception the CPU loops delivering them and never leaves L1, not even for
 * an interrupt (CVE-2015-8104, CVE-2015-5307). Intercepted, every round is a
 * VM exit and Nestor stays in control; the exception is reflected to the guest
 * that raised it, L1, or L2 when L1 did not intercept it itself.
 */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/gdb_stub.h"
#include "nestor/log.h"
#include "nestor/platform.h"
#include "nestor/vmx_ops.h"

/* Exit qualification of a #DB exit (SDM 27.2.1, Table 27-1): the DR6 bits the CPU did not write. */
#define DBQUAL_DR6_BITS (DR6_B0_B3 | DR6_BD | DR6_BS)
#define DBQUAL_RTM BIT(16)

/*
 * A #DB that causes a VM exit leaves DR6 unchanged (SDM 27.1): write what the CPU
 * would have (qualification B0-B3/BD/BS; RTM active low), as KVM does, then deliver.
 */
static void update_dr6(uint64_t qual)
{
    uint64_t dr6 = (read_dr6() & ~DR6_B0_B3) | DR6_FIXED_1 | (qual & DBQUAL_DR6_BITS);
    dr6 = (qual & DBQUAL_RTM) ? dr6 & ~DR6_RTM : dr6 | DR6_RTM;
    write_dr6(dr6);
}

enum exit_action handle_exception(struct vcpu *v)
{
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
    unsigned vector = INTR_INFO_VECTOR(info), type = INTR_INFO_TYPE(info);
    if ((info & INTR_INFO_VALID) && vector == VEC_BP && gdb_stub_enabled())
        return gdb_stub_breakpoint(v); /* #BP is intercepted only for the GDB stub */
    if (!(info & INTR_INFO_VALID) || !(BIT(vector) & L1_EXCEPTION_BITMAP))
        return vcpu_stop(v, STATUS_L1_FAILED, true, "exception exit for vector %u (type %u), which Nestor does not "
                         "intercept", vector, type);
    if (vector == VEC_DB && type == INTR_TYPE_PRIV_SW_EXCEPTION) {
        /* INT1 (ICEBP): re-inject it as the instruction it was, so RIP moves past it (SDM 26.6.1.3). */
        vmwrite(VMCS_ENTRY_INTR_INFO, info & ~(uint32_t)INTR_INFO_NMI_UNBLOCKING);
        vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, vmread(VMCS_EXIT_INSTRUCTION_LEN));
        v->injected = true;
        log_debug("%s INT1 at rip 0x%lx: reflected", v->nested.in_l2 ? "L2" : "L1", vmread(VMCS_GUEST_RIP));
        return EXIT_RESUME;
    }
    enum exit_action step_done;
    if (vector == VEC_DB && gdb_stub_step_trap(v, &step_done))
        return step_done; /* the debugger's single step, not L1's #DB */
    if (vector == VEC_DB) {
        update_dr6(v->exit_qual);
        log_debug("%s #DB (qualification 0x%lx) at rip 0x%lx: reflected", v->nested.in_l2 ? "L2" : "L1", v->exit_qual,
                  vmread(VMCS_GUEST_RIP));
        vcpu_inject_exception(v, VEC_DB, false, 0);
        return EXIT_RESUME;
    }
    log_debug("%s #AC at rip 0x%lx: reflected", v->nested.in_l2 ? "L2" : "L1", vmread(VMCS_GUEST_RIP));
    vcpu_inject_exception(v, VEC_AC, true, (uint32_t)vmread(VMCS_EXIT_INTR_ERROR_CODE));
    return EXIT_RESUME;
}
