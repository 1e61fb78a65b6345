/* The L1 run loop: enter, take the exit, dispatch, re-inject what was in flight. */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/console.h"
#include "nestor/cpu.h"
#include "nestor/gdb_stub.h"
#include "nestor/log.h"
#include "nestor/percpu.h"
#include "nestor/platform.h"
#include "nestor/smp.h"
#include "nestor/vmx_ops.h"

/*
 * An exit Nestor handles itself may have interrupted the delivery of an event
 * through L1's IDT (IDT-vectoring information, SDM 27.2.4): deliver it again
 * on the next entry (SDM 28.2.1.1 describes the same for hypervisors).
 */
static void reinject_vectoring_event(struct vcpu *v)
{
    uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
    if (!(info & INTR_INFO_VALID) || v->injected)
        return;
    if (v->nested.in_l2)
        v->nested.stats.l2_reinjected++;
    vmwrite(VMCS_ENTRY_INTR_INFO, info & ~(uint32_t)INTR_INFO_NMI_UNBLOCKING);
    if (info & INTR_INFO_ERROR_CODE_VALID)
        vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, vmread(VMCS_IDT_VECTORING_ERROR_CODE));
    unsigned type = INTR_INFO_TYPE(info);
    if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION || type == INTR_TYPE_SW_EXCEPTION)
        vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, vmread(VMCS_EXIT_INSTRUCTION_LEN));
    v->injected = true;
}

/*
 * NMIs arrive at Nestor's IDT while it runs (NMI exiting is off): they belong to L1, or to
 * L2 when L1 lets NMIs reach it (no NMI exiting in vmcs12), as on hardware. An NMI L1
 * intercepts waits until L1 runs again and is delivered to L1 itself then.
 */
static void forward_host_nmi(struct vcpu *v)
{
    if (v->nmis_delivered == this_cpu()->nmi_count || v->injected || v->waiting_for_sipi)
        return;
    if (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID)
        return; /* an event is already queued for this entry (L1's for L2, or a re-injection): the NMI waits */
    if (v->nested.in_l2 && (V12(&v->nested.current->v, VMCS_PIN_CONTROLS) & PIN_NMI_EXITING))
        return;
    uint64_t blocking = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (blocking & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
        return; /* try again after the next exit */
    vmwrite(VMCS_ENTRY_INTR_INFO, VEC_NMI | (INTR_TYPE_NMI << 8) | INTR_INFO_VALID);
    v->nmis_delivered++;
    v->halted_irq_off = false; /* an NMI wakes a CPU halted with interrupts off */
    v->injected = true;
}

uint32_t vcpu_run(struct vcpu *v)
{
    if (v->waiting_for_sipi)
        log_info("L1 CPU %u waits for SIPI", v->l1_index);
    else
        log_info("entering L1 at 0x%lx (eax=0x%lx ebx=0x%lx)", vmread(VMCS_GUEST_RIP), v->regs.gpr[GPR_RAX],
                 v->regs.gpr[GPR_RBX]);
    uint64_t left_guest = 0;
    for (;;) {
        if (left_guest)
            v->l0_cycles += read_tsc() - left_guest; /* time Nestor spent on the last exit */
        bool l2 = v->nested.in_l2;
        forward_host_nmi(v);
        if (!l2)
            vcpu_deliver_device_irqs(v);
        bool *launched = l2 ? &v->nested.vmcs02_launched : &v->launched;
        int r = vmx_enter(&v->regs, *launched);
        if (r != VMX_OK) {
            unsigned err = r == VMX_FAIL_VALID ? (unsigned)vmread(VMCS_VM_INSTRUCTION_ERROR) : 0;
            if (l2) {
                nested_hw_entry_failed(v, r, err);
                continue;
            }
            vcpu_stop(v, STATUS_NESTOR_PANIC, true, "%s of VMCS01 failed: %s (VM-instruction error %u: %s)",
                      v->launched ? "VMRESUME" : "VMLAUNCH", r == VMX_FAIL_VALID ? "VMfailValid" : "VMfailInvalid", err,
                      err ? vm_instruction_error_name(err) : "no current VMCS");
            return v->status;
        }
        left_guest = read_tsc();
        v->exit_reason = (uint32_t)vmread(VMCS_EXIT_REASON);
        level_stats_exit(v, l2);
        /* Only a successful entry makes a VMCS launched (SDM 26.8: entry failures leave it clear). */
        if (!(v->exit_reason & EXIT_REASON_ENTRY_FAILURE))
            *launched = true;
        v->injected = false;
        v->vmcs_switched = false;
        if (v->smi_blocking_quirk)
            vcpu_clear_smi_blocking(); /* before anything (L2's exit saved into vmcs12 too) reads it */
        if (g_run_ending)
            smp_park_this_cpu(); /* another CPU is ending the run (it sent the INIT that made this exit) */
        v->exit_qual = vmread(VMCS_EXIT_QUALIFICATION);
        enum exit_action a = l2 ? nested_l2_exit(v) : exit_dispatch(v);
        if (a == EXIT_L0_HANDLES)
            a = exit_dispatch_l2_for_l0(v);
        level_stats_handled(v, l2);
        a = gdb_stub_after_exit(v, a); /* gdb=com2: Ctrl-C, ended steps, L1's end (vmx/gdb_stub.c) */
        if (a == EXIT_STOP)
            return v->status;
        if (!v->vmcs_switched)
            reinject_vectoring_event(v);
        if (v->ipi_pending)
            vcpu_take_ipis(v);
        if (v->init_pending)
            vcpu_take_pending_init(v);
        if (left_guest >= v->console_deadline && console_input_tick(v, left_guest) == EXIT_STOP)
            return v->status;
    }
}
