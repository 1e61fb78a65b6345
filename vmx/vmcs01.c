/*
 * VMCS01: the VMCS Nestor runs L1 with. Control values come from the
 * capability MSRs (vmx_derive_controls), never from constants; guest state is
 * the machine state the Multiboot specifications define at kernel entry
 * (Multiboot 0.6.96 3.2, Multiboot2 3.3): 32-bit flat protected mode, paging
 * off, which needs unrestricted guest (SDM 26.3.1.1 relaxes PE/PG).
 */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/cpu.h"
#include "nestor/gdb_stub.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/palloc.h"
#include "nestor/percpu.h"
#include "nestor/physmem.h"
#include "nestor/vcpu.h"
#include "nestor/vmx.h"
#include "nestor/vmx_ops.h"

#define L1_VPID 1
#define PAT_POWER_ON 0x0007040600070406ull
#define AR_CODE32 (0xb | VMX_AR_S | VMX_AR_P | VMX_AR_DB | VMX_AR_G)
#define AR_DATA32 (0x3 | VMX_AR_S | VMX_AR_P | VMX_AR_DB | VMX_AR_G)
#define AR_TSS32_BUSY (0xb | VMX_AR_P)
#define AR_LDT (0x2 | VMX_AR_P)

static bool failed_write;

static void w(uint32_t field, uint64_t value)
{
    if (vmwrite(field, value) != VMX_OK) {
        log_error("VMWRITE of field 0x%x = 0x%lx failed", field, value);
        failed_write = true;
    }
}

static bool derive(const char *name, struct vmx_ctl_cap cap, uint32_t required, uint32_t optional, uint32_t *out)
{
    uint32_t missing;
    if (vmx_derive_controls(cap, required, optional, out, &missing))
        return true;
    log_always("VMX: this CPU cannot set %s controls 0x%x that Nestor requires (allowed-1 = 0x%x)", name, missing,
               cap.allowed1);
    return false;
}

static bool choose_controls(struct vcpu *v)
{
    const struct vmx_caps *c = &g_vmx_caps;
    /* The preemption timer bounds how long a vCPU runs without an exit: with L1's APIC writes trapped, each
     * vCPU then sees the INITs other CPUs post for it (vmx/exit_lapic.c); L1's CPU 0 owns the console and
     * looks for input (vmx/console_input.c); with the GDB stub on, it bounds how long a Ctrl-C waits
     * (vmx/gdb_stub.c). Without save-on-exit, every entry restarts it at the full tick. */
    uint32_t pin_optional = g_lapic_trap.on || v->l1_index == 0 || gdb_stub_enabled() ? PIN_PREEMPTION_TIMER : 0;
    bool ok = derive("pin-based", c->pin, 0, pin_optional, &v->pin) &&
              derive("processor-based", c->proc,
                     PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_SECONDARY_CONTROLS, 0,
                     &v->proc) &&
              derive("secondary processor-based", c->proc2, PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST,
                     PROC2_ENABLE_VPID | PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | PROC2_ENABLE_XSAVES, &v->proc2) &&
              derive("VM-exit", c->exit,
                     EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
                         EXIT_SAVE_DEBUG_CONTROLS, /* L1's DR7 and IA32_DEBUGCTL survive exits (SDM 27.3.1) */
                     0, &v->exit_ctls) &&
              derive("VM-entry", c->entry, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CONTROLS, 0,
                     &v->entry_ctls);
    /* L1 starts outside long mode; the CR0 handler sets this when L1 enables paging with EFER.LME. */
    v->entry_ctls &= ~ENTRY_IA32E_MODE_GUEST;
    return ok;
}

static void setup_cr_masks(struct vcpu *v)
{
    const struct vmx_caps *c = &g_vmx_caps;
    /* With unrestricted guest, L1 may clear PE and PG (SDM 26.3.1.1). */
    v->cr0_fixed0 = c->cr0_fixed0 & ~(CR0_PE | CR0_PG);
    v->cr0_fixed1 = c->cr0_fixed1;
    v->cr4_fixed0 = c->cr4_fixed0;
    v->cr4_fixed1 = c->cr4_fixed1;
    /* Host-owned bits: those the CPU forces either way, plus VMXE which L1 must not see. */
    v->cr0_mask = (v->cr0_fixed0 | ~v->cr0_fixed1) & 0xffffffffull;
    v->cr4_mask = (v->cr4_fixed0 | ~v->cr4_fixed1 | CR4_VMXE) & 0xffffffffull;
}

static void set_segment(uint32_t sel_field, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    /* Selector, base, limit and AR fields are laid out in parallel (SDM Appendix B). */
    unsigned idx = (sel_field - VMCS_GUEST_ES_SEL) / 2;
    w(sel_field, sel);
    w(VMCS_GUEST_ES_BASE + 2 * idx, base);
    w(VMCS_GUEST_ES_LIMIT + 2 * idx, limit);
    w(VMCS_GUEST_ES_AR + 2 * idx, ar);
}

static void setup_guest_state(struct vcpu *v, const struct l1_vm *vm)
{
    uint64_t cr0_view = CR0_PE | CR0_ET, cr4_view = 0;
    w(VMCS_CR0_GUEST_HOST_MASK, v->cr0_mask);
    w(VMCS_CR4_GUEST_HOST_MASK, v->cr4_mask);
    w(VMCS_CR0_READ_SHADOW, cr0_view);
    w(VMCS_CR4_READ_SHADOW, cr4_view);
    w(VMCS_GUEST_CR0, vmx_apply_fixed(cr0_view, v->cr0_fixed0, v->cr0_fixed1));
    w(VMCS_GUEST_CR4, vmx_apply_fixed(cr4_view, v->cr4_fixed0, v->cr4_fixed1));
    w(VMCS_GUEST_CR3, 0);

    const struct l1_entry *e = &vm->entry;
    set_segment(VMCS_GUEST_CS_SEL, e->cs, 0, 0xffffffff, AR_CODE32);
    set_segment(VMCS_GUEST_SS_SEL, e->ds, 0, 0xffffffff, AR_DATA32);
    set_segment(VMCS_GUEST_DS_SEL, e->ds, 0, 0xffffffff, AR_DATA32);
    set_segment(VMCS_GUEST_ES_SEL, e->ds, 0, 0xffffffff, AR_DATA32);
    set_segment(VMCS_GUEST_FS_SEL, e->ds, 0, 0xffffffff, AR_DATA32);
    set_segment(VMCS_GUEST_GS_SEL, e->ds, 0, 0xffffffff, AR_DATA32);
    set_segment(VMCS_GUEST_TR_SEL, 0, 0, 0xffff, AR_TSS32_BUSY);
    set_segment(VMCS_GUEST_LDTR_SEL, 0, 0, 0xffff, AR_LDT | VMX_AR_UNUSABLE);
    w(VMCS_GUEST_GDTR_BASE, e->gdtr_base);
    w(VMCS_GUEST_GDTR_LIMIT, e->gdtr_limit);
    w(VMCS_GUEST_IDTR_BASE, 0);
    w(VMCS_GUEST_IDTR_LIMIT, 0xffff);

    w(VMCS_GUEST_RIP, vm->entry.rip);
    w(VMCS_GUEST_RSP, 0);
    w(VMCS_GUEST_RFLAGS, 0x2);
    w(VMCS_GUEST_DR7, 0x400);
    w(VMCS_GUEST_DEBUGCTL, 0);
    w(VMCS_GUEST_PENDING_DBG, 0);
    w(VMCS_GUEST_SYSENTER_CS, 0);
    w(VMCS_GUEST_SYSENTER_ESP, 0);
    w(VMCS_GUEST_SYSENTER_EIP, 0);
    w(VMCS_GUEST_EFER, 0);
    w(VMCS_GUEST_PAT, PAT_POWER_ON);
    w(VMCS_GUEST_INTERRUPTIBILITY, 0);
    w(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    w(VMCS_LINK_POINTER, ~0ull);

    memset(&v->regs, 0, sizeof v->regs);
    v->regs.gpr[GPR_RAX] = e->rax;
    v->regs.gpr[GPR_RBX] = e->rbx;
    v->regs.gpr[GPR_RSI] = e->rsi;
}

static void setup_io_bitmaps(struct vcpu *v)
{
    /* Bitmap A covers ports 0-0x7fff, B 0x8000-0xffff (SDM 24.6.4). */
    paddr_t a = page_alloc_zeroed(), b = page_alloc_zeroed();
    v->io_bitmap[0] = a;
    v->io_bitmap[1] = b;
    vcpu_io_fill_bitmaps(phys_to_virt(a), phys_to_virt(b)); /* the ports vmx/exit_io.c handles */
    w(VMCS_IO_BITMAP_A, a);
    w(VMCS_IO_BITMAP_B, b);
}

static void init_virtual_msrs(struct vcpu *v)
{
    struct vmsr_state *s = &v->msr;
    memset(s, 0, sizeof *s);
    s->apic_base = rdmsr(MSR_IA32_APIC_BASE) & ~APIC_BASE_X2APIC;
    s->feature_control = FEATURE_CONTROL_LOCK; /* locked with VMX off: L1 gets no VMX yet */
    s->misc_enable = BIT(0) | BIT(11) | BIT(12); /* fast strings; no BTS, no PEBS */
    s->read_tsc = read_tsc;
    s->phys_addr_mask = g_vmx_caps.phys_addr_mask;
    if (cpuid(1, 0).edx & BIT(12)) {
        s->have_mtrr = true;
        s->mtrr_cap = rdmsr(MSR_IA32_MTRRCAP);
        s->mtrr_var_count = MIN((unsigned)(s->mtrr_cap & 0xff), VMSR_MTRR_VAR_MAX);
        s->mtrr_def_type = rdmsr(MSR_IA32_MTRR_DEF_TYPE);
        for (unsigned i = 0; i < 2 * s->mtrr_var_count; i++)
            s->mtrr_var[i] = rdmsr(MSR_IA32_MTRR_PHYSBASE0 + i);
        if (s->mtrr_cap & BIT(8)) {
            static const uint32_t fixed[VMSR_MTRR_FIXED] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
                                                            0x26b, 0x26c, 0x26d, 0x26e, 0x26f};
            for (unsigned i = 0; i < VMSR_MTRR_FIXED; i++)
                s->mtrr_fixed[i] = rdmsr(fixed[i]);
        }
    }
}

bool vmcs01_setup(struct vcpu *v, struct l1_vm *vm, bool wait_for_sipi)
{
    const struct vmx_caps *c = &g_vmx_caps;
    v->vm = vm;
    if (!choose_controls(v))
        return false;
    setup_cr_masks(v);
    init_virtual_msrs(v);
    struct cpuid_regs xs = cpuid(0, 0).eax >= 0xd ? cpuid(0xd, 0) : (struct cpuid_regs){0};
    v->xcr0_supported = ((uint64_t)xs.edx << 32) | xs.eax;

    v->vmcs = page_alloc_zeroed();
    *(uint32_t *)phys_to_virt(v->vmcs) = (uint32_t)(c->basic & VMX_BASIC_REVISION_MASK);
    if (vmclear(v->vmcs) != VMX_OK || vmptrld(v->vmcs) != VMX_OK) {
        log_error("VMCLEAR/VMPTRLD of VMCS01 failed");
        return false;
    }
    failed_write = false;

    w(VMCS_PIN_CONTROLS, v->pin);
    if (v->pin & PIN_PREEMPTION_TIMER) {
        w(VMCS_PREEMPTION_TIMER_VALUE, g_vcpu_tick_tsc >> VMX_MISC_PREEMPTION_RATE(c->misc));
        if (gdb_stub_enabled())
            v->l0_timer_in_l2 = (uint32_t)(g_vcpu_tick_tsc >> VMX_MISC_PREEMPTION_RATE(c->misc));
    }
    v->lapic_dfr = 0xffffffffu; /* the xAPIC's DFR after reset: flat model (SDM vol. 3A 10.6.2.2) */
    w(VMCS_PROC_CONTROLS, v->proc);
    w(VMCS_PROC_CONTROLS2, v->proc2);
    w(VMCS_EXIT_CONTROLS, v->exit_ctls);
    w(VMCS_ENTRY_CONTROLS, v->entry_ctls);
    w(VMCS_EXCEPTION_BITMAP, L1_EXCEPTION_BITMAP); /* #DB, #AC: vmx/exit_exception.c */
    w(VMCS_PF_ERROR_CODE_MASK, 0);
    w(VMCS_PF_ERROR_CODE_MATCH, 0);
    w(VMCS_CR3_TARGET_COUNT, 0);
    w(VMCS_EXIT_MSR_STORE_COUNT, 0);
    w(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    w(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    w(VMCS_ENTRY_INTR_INFO, 0);
    w(VMCS_TSC_OFFSET, 0);
    if (v->proc2 & PROC2_ENABLE_VPID) {
        v->vpid = L1_VPID;
        w(VMCS_VPID, v->vpid);
    }
    if (v->proc2 & PROC2_ENABLE_XSAVES)
        w(VMCS_XSS_EXIT_BITMAP, 0);
    w(VMCS_EPT_POINTER, ept_eptp(&vm->ept));

    v->msr_bitmap = page_alloc_zeroed();
    vmsr_fill_bitmap(phys_to_virt(v->msr_bitmap));
    debugctl_bitmap(phys_to_virt(v->msr_bitmap));
    w(VMCS_MSR_BITMAP, v->msr_bitmap);
    setup_io_bitmaps(v);

    if (!vmcs_write_host_state())
        failed_write = true;
    setup_guest_state(v, vm);
    if (wait_for_sipi) {
        if (!(c->misc & VMX_MISC_ACTIVITY_WAIT_SIPI)) {
            log_always("VMX on this CPU has no wait-for-SIPI activity state (IA32_VMX_MISC = 0x%lx): L1 gets one "
                       "CPU", c->misc);
            return false;
        }
        vcpu_enter_init_state(v);
    }
    log_info("VMCS01: pin 0x%x proc 0x%x proc2 0x%x exit 0x%x entry 0x%x cr0_mask 0x%lx cr4_mask 0x%lx vpid %u", v->pin,
             v->proc, v->proc2, v->exit_ctls, v->entry_ctls, v->cr0_mask, v->cr4_mask, v->vpid);
    return !failed_write;
}
