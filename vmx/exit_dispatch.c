/*
 * Exit dispatch: one table indexed by basic exit reason (SDM Appendix C).
 * A reason without a handler is unexpected for Nestor's controls: L1 is
 * stopped with its full state, never silently resumed.
 */
#include "exit_handlers.h"
#include "nestor/log.h"
#include "nestor/vmx_ops.h"

struct exit_entry {
    const char *name;
    exit_handler_fn fn;
};

static const struct exit_entry exit_table[EXIT_REASON_COUNT] = {
    [EXIT_EXCEPTION_NMI] = {"exception or NMI", handle_exception},
    [EXIT_EXTERNAL_INTERRUPT] = {"external interrupt", NULL},
    [EXIT_TRIPLE_FAULT] = {"triple fault", handle_triple_fault},
    [EXIT_INIT] = {"INIT signal", handle_init_signal},
    [EXIT_SIPI] = {"SIPI", handle_sipi},
    [EXIT_IO_SMI] = {"I/O SMI", NULL},
    [EXIT_OTHER_SMI] = {"other SMI", NULL},
    [EXIT_INTERRUPT_WINDOW] = {"interrupt window", handle_interrupt_window},
    [EXIT_NMI_WINDOW] = {"NMI window", NULL},
    [EXIT_TASK_SWITCH] = {"task switch", NULL},
    [EXIT_CPUID] = {"CPUID", handle_cpuid},
    [EXIT_GETSEC] = {"GETSEC", handle_undefined_opcode},
    [EXIT_HLT] = {"HLT", handle_hlt},
    [EXIT_INVD] = {"INVD", handle_invd},
    [EXIT_INVLPG] = {"INVLPG", NULL},
    [EXIT_RDPMC] = {"RDPMC", NULL},
    [EXIT_RDTSC] = {"RDTSC", NULL},
    [EXIT_RSM] = {"RSM", NULL},
    [EXIT_VMCALL] = {"VMCALL", handle_undefined_opcode},
    [EXIT_VMCLEAR] = {"VMCLEAR", nested_handle_vmclear},
    [EXIT_VMLAUNCH] = {"VMLAUNCH", nested_handle_vmlaunch},
    [EXIT_VMPTRLD] = {"VMPTRLD", nested_handle_vmptrld},
    [EXIT_VMPTRST] = {"VMPTRST", nested_handle_vmptrst},
    [EXIT_VMREAD] = {"VMREAD", nested_handle_vmread},
    [EXIT_VMRESUME] = {"VMRESUME", nested_handle_vmresume},
    [EXIT_VMWRITE] = {"VMWRITE", nested_handle_vmwrite},
    [EXIT_VMXOFF] = {"VMXOFF", nested_handle_vmxoff},
    [EXIT_VMXON] = {"VMXON", nested_handle_vmxon},
    [EXIT_CR_ACCESS] = {"control-register access", handle_cr_access},
    [EXIT_DR_ACCESS] = {"debug-register access", NULL},
    [EXIT_IO_INSTRUCTION] = {"I/O instruction", handle_io},
    [EXIT_RDMSR] = {"RDMSR", handle_rdmsr},
    [EXIT_WRMSR] = {"WRMSR", handle_wrmsr},
    [EXIT_INVALID_GUEST_STATE] = {"VM-entry failure: invalid guest state", handle_entry_failure},
    [EXIT_MSR_LOADING] = {"VM-entry failure: MSR loading", handle_entry_failure},
    [EXIT_MWAIT] = {"MWAIT", NULL},
    [EXIT_MONITOR_TRAP_FLAG] = {"monitor trap flag", NULL},
    [EXIT_MONITOR] = {"MONITOR", NULL},
    [EXIT_PAUSE] = {"PAUSE", NULL},
    [EXIT_MACHINE_CHECK] = {"VM-entry failure: machine check", handle_entry_failure},
    [EXIT_TPR_BELOW_THRESHOLD] = {"TPR below threshold", NULL},
    [EXIT_APIC_ACCESS] = {"APIC access", NULL},
    [EXIT_VIRTUALIZED_EOI] = {"virtualized EOI", NULL},
    [EXIT_GDTR_IDTR] = {"GDTR/IDTR access", NULL},
    [EXIT_LDTR_TR] = {"LDTR/TR access", NULL},
    [EXIT_EPT_VIOLATION] = {"EPT violation", handle_ept_violation},
    [EXIT_EPT_MISCONFIG] = {"EPT misconfiguration", handle_ept_misconfig},
    [EXIT_INVEPT] = {"INVEPT", nested_handle_invept},
    [EXIT_RDTSCP] = {"RDTSCP", NULL},
    [EXIT_PREEMPTION_TIMER] = {"preemption timer", handle_preemption_timer},
    [EXIT_INVVPID] = {"INVVPID", nested_handle_invvpid},
    [EXIT_WBINVD] = {"WBINVD", handle_wbinvd},
    [EXIT_XSETBV] = {"XSETBV", handle_xsetbv},
    [EXIT_APIC_WRITE] = {"APIC write", NULL},
    [EXIT_RDRAND] = {"RDRAND", NULL},
    [EXIT_INVPCID] = {"INVPCID", NULL},
    [EXIT_VMFUNC] = {"VMFUNC", handle_undefined_opcode},
    [EXIT_ENCLS] = {"ENCLS", NULL},
    [EXIT_RDSEED] = {"RDSEED", NULL},
    [EXIT_PML_FULL] = {"page-modification log full", NULL},
    [EXIT_XSAVES] = {"XSAVES", NULL},
    [EXIT_XRSTORS] = {"XRSTORS", NULL},
};

const char *exit_reason_name(unsigned reason)
{
    return reason < EXIT_REASON_COUNT && exit_table[reason].name ? exit_table[reason].name : "unknown";
}

enum exit_action exit_dispatch(struct vcpu *v)
{
    unsigned reason = EXIT_REASON_BASIC(v->exit_reason);
    if (reason < EXIT_REASON_COUNT)
        v->exit_count[reason]++;
    v->exit_total++;
    bool vmx_insn = (reason >= EXIT_VMCLEAR && reason <= EXIT_VMXON) || reason == EXIT_INVEPT || reason == EXIT_INVVPID;
    if (vmx_insn && v->nested.stats.entries)
        v->nested.stats.l1_vmx_exits_nested++;
    log_trace("exit %u (%s) qual 0x%lx rip 0x%lx", reason, exit_reason_name(reason), v->exit_qual,
              vmread(VMCS_GUEST_RIP));
    if (reason < EXIT_REASON_COUNT && exit_table[reason].fn)
        return exit_table[reason].fn(v);
    return vcpu_stop(v, 0xfe, true, "unexpected VM exit %u (%s): Nestor does not handle it", reason,
                     exit_reason_name(reason));
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
}
