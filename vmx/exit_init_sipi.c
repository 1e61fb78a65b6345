/*
 * L1's CPUs start and restart the architectural way. Each AP of L1 waits in
 * the VMX wait-for-SIPI activity state. With one L1 CPU, the INIT and SIPI
 * that L1 sends through its local APIC reach the physical CPU, in VMX
 * non-root, as the INIT-signal (3) and SIPI (4) VM exits (SDM 25.2); with
 * more, L1's APIC writes are trapped and Nestor delivers INIT and SIPI as
 * requests (vmx/exit_lapic.c), the SIPI still arriving as the SIPI exit.
 * Nestor plays the processor's part: INIT puts the vCPU in the INIT state of
 * SDM vol. 3A 9.1.1 (Table 9-1) and waits for SIPI; SIPI starts it in real
 * mode at vector << 12 (SDM 8.4.4.1), which needs unrestricted guest.
 */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/log.h"
#include "nestor/vcpu.h"
#include "nestor/vmx.h"
#include "nestor/vmx_ops.h"

#define INIT_CR0 0x60000010ull /* CD, NW, ET */
#define AR_INIT_CODE (0x3 | 0x8 | VMX_AR_S | VMX_AR_P) /* execute/read, accessed */
#define AR_INIT_DATA (0x3 | VMX_AR_S | VMX_AR_P)       /* read/write, accessed */
#define AR_INIT_LDT (0x2 | VMX_AR_P)
#define AR_INIT_TSS_BUSY (0xb | VMX_AR_P)

static void real_mode_segment(unsigned idx, uint16_t sel, uint64_t base, uint32_t ar)
{
    /* Selector, base, limit and AR fields are laid out in parallel (SDM Appendix B). */
    vmwrite(VMCS_GUEST_ES_SEL + 2 * idx, sel);
    vmwrite(VMCS_GUEST_ES_BASE + 2 * idx, base);
    vmwrite(VMCS_GUEST_ES_LIMIT + 2 * idx, 0xffff);
    vmwrite(VMCS_GUEST_ES_AR + 2 * idx, ar);
}

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

void vcpu_enter_init_state(struct vcpu *v)
{
    vmwrite(VMCS_CR0_READ_SHADOW, INIT_CR0);
    vmwrite(VMCS_CR4_READ_SHADOW, 0);
    vmwrite(VMCS_GUEST_CR0, vmx_apply_fixed(INIT_CR0, v->cr0_fixed0, v->cr0_fixed1));
    vmwrite(VMCS_GUEST_CR4, vmx_apply_fixed(0, v->cr4_fixed0, v->cr4_fixed1));
    vmwrite(VMCS_GUEST_CR3, 0);
    real_mode_segment(SEG_CS, 0xf000, 0xffff0000, AR_INIT_CODE);
    for (unsigned s = SEG_ES; s <= SEG_GS; s++)
        if (s != SEG_CS)
            real_mode_segment(s, 0, 0, AR_INIT_DATA);
    real_mode_segment(SEG_LDTR, 0, 0, AR_INIT_LDT);
    real_mode_segment(SEG_TR, 0, 0, AR_INIT_TSS_BUSY);
    vmwrite(VMCS_GUEST_GDTR_BASE, 0);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
    vmwrite(VMCS_GUEST_IDTR_BASE, 0);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);
    vmwrite(VMCS_GUEST_RIP, 0xfff0);
    vmwrite(VMCS_GUEST_RSP, 0);
    vmwrite(VMCS_GUEST_RFLAGS, 0x2);
    vmwrite(VMCS_GUEST_DR7, 0x400);
    vmwrite(VMCS_GUEST_DEBUGCTL, 0);
    vmwrite(VMCS_GUEST_PENDING_DBG, 0);
    vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
    vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
    vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
    vmwrite(VMCS_GUEST_EFER, 0);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
    v->entry_ctls &= ~ENTRY_IA32E_MODE_GUEST;
    vmwrite(VMCS_ENTRY_CONTROLS, v->entry_ctls);
    /* Interrupt-window exiting off: nothing can be delivered while waiting for SIPI (SDM 26.3.1.5). */
    v->proc &= ~(uint32_t)PROC_INTR_WINDOW_EXITING;
    vmwrite(VMCS_PROC_CONTROLS, v->proc);
    for (unsigned i = 0; i < 16; i++)
        v->regs.gpr[i] = 0;
    v->regs.gpr[GPR_RDX] = cpuid(1, 0).eax; /* family, model, stepping (Table 9-1) */
    v->regs.cr2 = 0;
    v->injected = true; /* so nothing is (re)injected on this entry: no event may be while waiting for SIPI */
    v->irq_vector = 0;
    v->waiting_for_sipi = true;
    v->halted_irq_off = false;
    /* INIT resets XCR0 to 1 (SDM vol. 1 13.3); Nestor runs L1's XCR0 on the real register. */
    if (read_cr4() & CR4_OSXSAVE)
        xsetbv(0, 1);
}

/*
 * INIT is blocked while L1 is in VMX root operation (SDM 23.8): remembered and taken at VMXOFF. In L2 it is
 * L1's exit (nested/ reflects it); here L1 itself was running.
 */
enum exit_action handle_init_signal(struct vcpu *v)
{
    if (v->nested.vmxon) {
        log_debug("INIT while L1 is in VMX operation: blocked until VMXOFF (SDM 23.8)");
        v->init_pending = true;
        return EXIT_RESUME;
    }
    log_debug("INIT: L1 CPU %u reset, waiting for SIPI", v->l1_index);
    vcpu_enter_init_state(v);
    return EXIT_RESUME;
}

void vcpu_start_at_sipi(struct vcpu *v, unsigned vector)
{
    real_mode_segment(SEG_CS, (uint16_t)(vector << 8), (uint64_t)vector << 12, AR_INIT_CODE);
    vmwrite(VMCS_GUEST_RIP, 0);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    /* A started CPU blocks nothing. Bochs saves SMI and NMI blocking from its wait-for-SIPI state, and SMI
     * blocking outside SMM fails the next entry (SDM 26.3.1.5): the "invalid guest state" after SIPI. */
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
    v->waiting_for_sipi = false;
    v->smi_blocking_quirk = true;
    log_info("L1 CPU %u started by SIPI at 0x%x", v->l1_index, vector << 12);
}

/*
 * A SIPI exit. When L1's APIC writes are trapped, the SIPI is Nestor's own and the request L1 posted (its
 * vector) is taken in order after an INIT posted before it (vmx/exit_lapic.c); otherwise it is L1's.
 */
enum exit_action handle_sipi(struct vcpu *v)
{
    if (g_lapic_trap.on)
        vcpu_take_ipis(v);
    else
        vcpu_start_at_sipi(v, (unsigned)(v->exit_qual & 0xff));
    return EXIT_RESUME;
}

/*
 * Bochs 2.7 keeps the SMI and NMI masks of its wait-for-SIPI state after the
 * SIPI exit and saves "blocking by SMI" into every later exit of that CPU,
 * which then fails the next entry (SDM 26.3.1.5: bit 2 must be 0 outside
 * SMM; L1 never runs in SMM under Nestor). Cleared before each entry.
 */
void vcpu_clear_smi_blocking(void)
{
    uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & INTERRUPTIBILITY_SMI)
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(uint64_t)INTERRUPTIBILITY_SMI);
}

/* The INIT that L1 sent while in VMX operation, once L1 has left it (checked after each exit). */
void vcpu_take_pending_init(struct vcpu *v)
{
    if (v->init_pending && !v->nested.vmxon) {
        v->init_pending = false;
        vcpu_enter_init_state(v);
    }
}
