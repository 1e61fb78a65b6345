/*
 * Exit dispatch: one table of handlers indexed by basic exit reason (SDM
 * Appendix C); their names are in core/exit_names.c.
 * A reason without a handler is unexpected for Nestor's controls: L1 is
 * stopped with its full state, never silently resumed.
 */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/log.h"
#include "nestor/platform.h"
#include "nestor/vmx_ops.h"

static const exit_handler_fn exit_table[EXIT_REASON_COUNT] = {
    [EXIT_EXCEPTION_NMI] = handle_exception,
    [EXIT_TRIPLE_FAULT] = handle_triple_fault,
    [EXIT_INIT] = handle_init_signal,
    [EXIT_SIPI] = handle_sipi,
    [EXIT_INTERRUPT_WINDOW] = handle_interrupt_window,
    [EXIT_CPUID] = handle_cpuid,
    [EXIT_GETSEC] = handle_undefined_opcode,
    [EXIT_HLT] = handle_hlt,
    [EXIT_INVD] = handle_invd,
    [EXIT_VMCALL] = handle_undefined_opcode,
    [EXIT_VMCLEAR] = nested_handle_vmclear,
    [EXIT_VMLAUNCH] = nested_handle_vmlaunch,
    [EXIT_VMPTRLD] = nested_handle_vmptrld,
    [EXIT_VMPTRST] = nested_handle_vmptrst,
    [EXIT_VMREAD] = nested_handle_vmread,
    [EXIT_VMRESUME] = nested_handle_vmresume,
    [EXIT_VMWRITE] = nested_handle_vmwrite,
    [EXIT_VMXOFF] = nested_handle_vmxoff,
    [EXIT_VMXON] = nested_handle_vmxon,
    [EXIT_CR_ACCESS] = handle_cr_access,
    [EXIT_IO_INSTRUCTION] = handle_io,
    [EXIT_RDMSR] = handle_rdmsr,
    [EXIT_WRMSR] = handle_wrmsr,
    [EXIT_INVALID_GUEST_STATE] = handle_entry_failure,
    [EXIT_MSR_LOADING] = handle_entry_failure,
    [EXIT_MACHINE_CHECK] = handle_entry_failure,
    [EXIT_EPT_VIOLATION] = handle_ept_violation,
    [EXIT_EPT_MISCONFIG] = handle_ept_misconfig,
    [EXIT_INVEPT] = nested_handle_invept,
    [EXIT_PREEMPTION_TIMER] = handle_preemption_timer,
    [EXIT_INVVPID] = nested_handle_invvpid,
    [EXIT_WBINVD] = handle_wbinvd,
    [EXIT_XSETBV] = handle_xsetbv,
    [EXIT_VMFUNC] = handle_undefined_opcode,
};

enum exit_action exit_dispatch(struct vcpu *v)
{
    unsigned reason = EXIT_REASON_BASIC(v->exit_reason);
    if (reason < EXIT_REASON_COUNT)
        v->exit_count[reason]++;
    v->exit_total++;
    bool vmx_insn = (reason >= EXIT_VMCLEAR && reason <= EXIT_VMXON) || reason == EXIT_INVEPT || reason == EXIT_INVVPID;
    if (vmx_insn && v->nested.stats.entries)
        v->nested.stats.l1_vmx_exits_nested++;
    /* KVM as L1 reads IA32_DEBUGCTL before every VMRESUME: answered before anything else. */
    if (reason == EXIT_RDMSR && (uint32_t)v->regs.gpr[GPR_RCX] == MSR_IA32_DEBUGCTL)
        return handle_debugctl_read(v);
    log_trace("exit %u (%s) qual 0x%lx rip 0x%lx", reason, exit_reason_name(reason), v->exit_qual,
              vmread(VMCS_GUEST_RIP));
    if (reason < EXIT_REASON_COUNT && exit_table[reason])
        return exit_table[reason](v);
    return vcpu_stop(v, 0xfe, true, "unexpected VM exit %u (%s): Nestor does not handle it", reason,
                     exit_reason_name(reason));
}

enum exit_action exit_dispatch_l2_for_l0(struct vcpu *v)
{
    switch (EXIT_REASON_BASIC(v->exit_reason)) {
    case EXIT_EXCEPTION_NMI:
        return handle_exception(v); /* the current VMCS is vmcs02: the exception goes to L2 */
    case EXIT_IO_INSTRUCTION:
        return handle_io(v);
    case EXIT_RDMSR:
        return handle_rdmsr(v);
    case EXIT_WRMSR:
        return handle_wrmsr(v);
    default:
        return vcpu_stop(v, STATUS_NESTOR_PANIC, true, "L2 exit %u (%s) left to L0 without a handler: a bug in Nestor",
                         EXIT_REASON_BASIC(v->exit_reason), exit_reason_name(EXIT_REASON_BASIC(v->exit_reason)));
    }
}

void exit_stats_print(const struct vcpu *v)
{
    log_always("exit statistics: %lu L1 exits handled by L0", v->exit_total);
    uint64_t exits = v->exit_total; /* every VM exit Nestor took: L1's, and L2's below */
    for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
        exits += v->nested.stats.l2_by_l0[r] + v->nested.stats.l2_to_l1[r];
    log_always("time in Nestor: %lu TSC cycles over %lu VM exits, %lu per exit", v->l0_cycles, exits,
               exits ? v->l0_cycles / exits : 0);
    for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
        if (v->exit_count[r])
            log_always("  L1->L0 %-28s %10lu", exit_reason_name(r), v->exit_count[r]);
    nested_stats_print(v);
    level_stats_print(v);
}
