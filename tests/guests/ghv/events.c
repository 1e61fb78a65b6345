/*
 * ghv: the events test — window exits, the VMX-preemption timer, external
 * interrupts with and without acknowledgement on exit, and injection of a
 * hardware exception with an error code.
 *
 * Every scenario runs on a fresh VMCS (basic's, vmcs_setup) and ends with
 * L2's VMCALL at l2_ev_call, so each produces exactly two exits when its
 * controls are offered; a control that is not offered (allowed-1 = 0)
 * skips the scenario with "ghv: events skipped <what>".
 *
 * SDM Vol. 3C (by title; the numbers differ between editions): "Other
 * Causes of VM Exits" (window exits, external interrupts, the timer),
 * "Special Features of VM Entry" (window exits right after VM entry),
 * "VMX-Preemption Timer", "Information for VM Exits Due to Vectored Events"
 * (acknowledge on exit), "Saving Non-Register State" (saved timer value),
 * "Vectored-Event Injection".
 */
#include "xtest.h"

#define PIT_COUNT 0x2000            /* ~6.9 ms: well inside L2's spin loop */

static u8 vmcs_ev[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
/* L2's IDT for the injection scenario: basic's vectors are not needed,
 * only #GP (13). */
static u64 ev_idt[2 * 14] __attribute__((aligned(16)));

static struct exit_info e;

static struct xexp ex(u32 reason, const char *rip, u32 len, u32 intr)
{
    return (struct xexp){reason, 0, phys(rip), len, intr, 0};
}

/* After an asynchronous exit out of the spin loop: on to the final VMCALL
 * (controls already reset by the caller). */
static void finish_at_call(struct xt *t, const char *tag)
{
    vmwrite(GUEST_RIP, phys(l2_ev_call));
    struct xexp w = ex(XR_VMCALL, l2_ev_call, 3, 0);
    xt_step(t, tag, &w, &e);
}

/* Interrupt-window exiting with RFLAGS.IF = 1 and no STI/MOV-SS blocking:
 * the exit comes before L2's first instruction. */
static void int_window(struct xt *t)
{
    if (!xt_offered(t, "interrupt-window", ghv_caps.proc, PROC_INT_WINDOW))
        return;
    if (!xt_vmcs(t, vmcs_ev, phys(l2_ev_call)))
        return;
    vmwrite(GUEST_RFLAGS, 0x202);
    vmwrite(PROC_CONTROLS, ghv_ctls.proc | PROC_INT_WINDOW);
    struct xexp w = ex(XR_INT_WINDOW, l2_ev_call, 0, 0);
    if (!xt_step(t, "int-window", &w, &e))
        return;
    vmwrite(PROC_CONTROLS, ghv_ctls.proc);
    w = ex(XR_VMCALL, l2_ev_call, 3, 0);
    xt_step(t, "int-window-call", &w, &e);
}

/* VMX-preemption timer 0x100 while L2 spins; with "save VMX-preemption
 * timer value" the field holds the value at the exit: 0 for a timer exit. */
static void preemption_timer(struct xt *t)
{
    if (!xt_offered(t, "preemption-timer", ghv_caps.pin, PIN_PREEMPT_TIMER))
        return;
    bool save = (ghv_caps.exit >> 32) & EXIT_SAVE_TIMER;
    if (!save)
        gprintf("ghv: events skipped timer-save\n");
    if (!xt_vmcs(t, vmcs_ev, phys(l2_ev_spin)))
        return;
    t->regs[1] = X_SPIN_COUNT;
    vmwrite(GUEST_RFLAGS, 0x202);
    vmwrite(PIN_CONTROLS, ghv_ctls.pin | PIN_PREEMPT_TIMER);
    vmwrite(GUEST_PREEMPT_TIMER, 0x100);
    if (save)
        vmwrite(EXIT_CONTROLS, ghv_ctls.exit | EXIT_SAVE_TIMER);
    struct xexp w = ex(XR_TIMER, l2_ev_spin, 0, 0);
    if (!xt_step(t, "timer", &w, &e))
        return;
    if (save)
        xt_show(t, "timer.saved", vmread(GUEST_PREEMPT_TIMER), 0);
    /* "save timer value" requires "activate timer" (checks on VM-exit
     * control fields): both off. */
    vmwrite(PIN_CONTROLS, ghv_ctls.pin);
    vmwrite(EXIT_CONTROLS, ghv_ctls.exit);
    finish_at_call(t, "timer-call");
}

/* NMI-window exiting needs virtual NMIs, which need NMI exiting (checks on
 * VM-execution control fields); with no virtual-NMI blocking the exit is
 * immediate. */
static void nmi_window(struct xt *t)
{
    if (!xt_offered(t, "virtual-nmis", ghv_caps.pin, PIN_NMI_EXIT | PIN_VIRTUAL_NMIS) ||
        !xt_offered(t, "nmi-window", ghv_caps.proc, PROC_NMI_WINDOW))
        return;
    if (!xt_vmcs(t, vmcs_ev, phys(l2_ev_call)))
        return;
    vmwrite(PIN_CONTROLS, ghv_ctls.pin | PIN_NMI_EXIT | PIN_VIRTUAL_NMIS);
    vmwrite(PROC_CONTROLS, ghv_ctls.proc | PROC_NMI_WINDOW);
    struct xexp w = ex(XR_NMI_WINDOW, l2_ev_call, 0, 0);
    if (!xt_step(t, "nmi-window", &w, &e))
        return;
    vmwrite(PROC_CONTROLS, ghv_ctls.proc);
    w = ex(XR_VMCALL, l2_ev_call, 3, 0);
    xt_step(t, "nmi-window-call", &w, &e);
}

/* IRQ0 from a one-shot PIT while L2 spins with IF=1 and external-interrupt
 * exiting. With "acknowledge interrupt on exit" the CPU takes the vector
 * from the PIC (exit interruption information 0x80000020: valid, external
 * interrupt, vector 0x20) and ghv owes the PIC an EOI; without it the
 * interruption information is invalid and the request stays pending at the
 * PIC, so ghv takes it itself through its own IDT (vector 0x20), whose
 * handler sends the EOI. */
static void external_interrupt(struct xt *t, bool ack)
{
    const char *tag = ack ? "extint-ack" : "extint-noack";
    if (!xt_offered(t, "external-interrupt", ghv_caps.pin, PIN_EXT_INT_EXIT))
        return;
    if (ack && !xt_offered(t, "ack-interrupt", ghv_caps.exit, EXIT_ACK_INT))
        return;
    if (!xt_vmcs(t, vmcs_ev, phys(l2_ev_spin)))
        return;
    t->regs[1] = X_SPIN_COUNT;
    vmwrite(GUEST_RFLAGS, 0x202);
    vmwrite(PIN_CONTROLS, ghv_ctls.pin | PIN_EXT_INT_EXIT);
    if (ack)
        vmwrite(EXIT_CONTROLS, ghv_ctls.exit | EXIT_ACK_INT);

    pic_remap_masked();
    pit_oneshot(PIT_COUNT);
    pic_set_mask(0xfe);             /* IRQ0 only */
    struct xexp w = ex(XR_EXTINT, l2_ev_spin, 0, ack ? 0x80000020u : 0);
    bool exited = xt_step(t, tag, &w, &e);
    if (ack) {
        pic_eoi();
        pic_set_mask(0xff);
    } else {
        /* Masking first would hide the request: take it with IF=1 now. */
        XR(XR_IRQ0_COUNT) = 0;
        ghv_idt_set(0x20, phys(ghv_x_irq0));
        __asm__ volatile("sti");
        for (u32 i = 0; i < 1000000 && !XR(XR_IRQ0_COUNT); i++)
            __asm__ volatile("pause");
        __asm__ volatile("cli");
        pic_set_mask(0xff);
        ghv_idt_clear(0x20);
        xt_show(t, "noack.irq0", XR(XR_IRQ0_COUNT), 1);
    }
    if (!exited)
        return;
    vmwrite(PIN_CONTROLS, ghv_ctls.pin);
    vmwrite(EXIT_CONTROLS, ghv_ctls.exit);
    finish_at_call(t, ack ? "extint-ack-call" : "extint-noack-call");
}

/* Inject #GP with error code 0x10 (valid, deliver error code, hardware
 * exception, vector 13) on VM entry; L2's handler records it. */
static void inject_gp(struct xt *t)
{
    if (!xt_vmcs(t, vmcs_ev, phys(l2_ev_call)))
        return;
    u64 h = phys(l2_ev_gp_handler);
    memset(ev_idt, 0, sizeof ev_idt);
    ev_idt[2 * 13] = (h & 0xffff) | ((u64)GHV_L2_CS << 16) | (0x8eull << 40) | (((h >> 16) & 0xffff) << 48);
    ev_idt[2 * 13 + 1] = h >> 32;
    vmwrite(GUEST_IDTR_BASE, phys(ev_idt));
    vmwrite(GUEST_IDTR_LIMIT, sizeof ev_idt - 1);
    vmwrite(ENTRY_INTR_INFO, 0x80000000u | (1u << 11) | (3u << 8) | 13);
    vmwrite(ENTRY_EXC_ERRCODE, 0x10);
    vmwrite(ENTRY_INSN_LEN, 0);
    XR(XR_GP_COUNT) = XR(XR_GP_VEC) = XR(XR_GP_ERR) = XR(XR_GP_RIP) = 0;
    struct xexp w = ex(XR_VMCALL, l2_ev_call, 3, 0);
    if (!xt_step(t, "inject-gp", &w, &e))
        return;
    xt_show(t, "gp.count", XR(XR_GP_COUNT), 1);
    xt_show(t, "gp.vector", XR(XR_GP_VEC), 13);
    xt_show(t, "gp.err", XR(XR_GP_ERR), 0x10);
    xt_show(t, "gp.rip", XR(XR_GP_RIP), phys(l2_ev_call));
    /* Every VM exit clears the valid bit of the VM-entry interruption
     * information ("VM-Entry Controls for Event Injection"). */
    xt_show(t, "entry.intr", vmread(ENTRY_INTR_INFO), 0x80000b0d & 0x7fffffff);
}

bool events_run(void)
{
    struct xt t;
    xt_begin(&t, "events");
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    u32 want = 0;
    const u64 may_pin = ghv_caps.pin >> 32, may_proc = ghv_caps.proc >> 32, may_exit = ghv_caps.exit >> 32;

    int_window(&t);
    want += (may_proc & PROC_INT_WINDOW) ? 2 : 0;
    preemption_timer(&t);
    want += (may_pin & PIN_PREEMPT_TIMER) ? 2 : 0;
    nmi_window(&t);
    want += ((may_pin & (PIN_NMI_EXIT | PIN_VIRTUAL_NMIS)) == (PIN_NMI_EXIT | PIN_VIRTUAL_NMIS) &&
             (may_proc & PROC_NMI_WINDOW)) ? 2 : 0;
    external_interrupt(&t, true);
    want += ((may_pin & PIN_EXT_INT_EXIT) && (may_exit & EXIT_ACK_INT)) ? 2 : 0;
    external_interrupt(&t, false);
    want += (may_pin & PIN_EXT_INT_EXIT) ? 2 : 0;
    inject_gp(&t);
    want += 1;                      /* the injected #GP goes to L2's handler, not to ghv */
    return xt_end(&t, want);
}
