/*
 * Interrupts of the devices Nestor emulates for L1 (its COM1, IRQ 4). Since
 * L1 owns the interrupt controllers, an emulated device's interrupt is given
 * to L1 directly as the vector L1's I/O APIC entry for that pin names, on
 * the CPU that entry names (vectors are per CPU in L1), injected when L1 can
 * take an interrupt (RFLAGS.IF = 1, no STI/MOV-SS blocking), else after an
 * interrupt-window exit (SDM 26.6.5, 25.2). A pin
 * L1 has masked loses the edge, as with a real edge-triggered line. The EOI
 * L1 then writes reaches a local APIC with nothing in service for it, which
 * ignores it.
 */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/ioapic.h"
#include "nestor/lapic.h"
#include "nestor/percpu.h"
#include "nestor/vmx_ops.h"

#define COM1_IRQ 4

static void window_exiting(struct vcpu *v, bool on)
{
    uint32_t proc = on ? v->proc | PROC_INTR_WINDOW_EXITING : v->proc & ~(uint32_t)PROC_INTR_WINDOW_EXITING;
    if (proc != v->proc) {
        v->proc = proc;
        vmwrite(VMCS_PROC_CONTROLS, proc);
    }
}

void vcpu_deliver_device_irqs(struct vcpu *v)
{
    /* Peek first (a racy read is fine: the edge is taken under COM1's lock), then route, then take. */
    if (!v->irq_vector && !v->waiting_for_sipi && v->uart->irq_edge) {
        int vector = ioapic_pin_vector_for(COM1_IRQ, this_cpu()->apic_id, lapic_logical_id());
        if (vector > 0 && vcpu_com1_take_irq())
            v->irq_vector = (uint8_t)vector;
    }
    if (!v->irq_vector)
        return;
    uint64_t blocking = vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
    if (v->injected || blocking || !(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF)) {
        window_exiting(v, true);
        return;
    }
    vmwrite(VMCS_ENTRY_INTR_INFO, v->irq_vector | (INTR_TYPE_EXT_INTR << 8) | INTR_INFO_VALID);
    v->injected = true;
    v->irq_vector = 0;
    window_exiting(v, false);
}

/* L1 can take an interrupt now: vcpu_deliver_device_irqs injects it before the next entry. */
enum exit_action handle_interrupt_window(struct vcpu *v)
{
    window_exiting(v, false);
    return EXIT_RESUME;
}
