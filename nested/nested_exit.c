/*
 * Exits from L2. Nestor keeps the ones only vmcs02 asked for; every other
 * one is delivered to L1 as the CPU would (SDM chapter 27): L2's state saved
 * into vmcs12 (27.3), the exit information recorded (27.2), the MSR-store
 * area written (27.4), then L1's host state from vmcs12 loaded into vmcs01
 * (27.5), whose MSR-load area is applied last (27.6).
 */
#include "nested_internal.h"
#include "nestor/arch.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/platform.h"
#include "nestor/vmx_ops.h"

/* Exit information (27.2), recorded from the hardware's exit from vmcs02. */
static const uint32_t exit_info_fields[] = {
    VMCS_EXIT_INTR_INFO, VMCS_EXIT_INTR_ERROR_CODE, VMCS_IDT_VECTORING_INFO, VMCS_IDT_VECTORING_ERROR_CODE,
    VMCS_EXIT_INSTRUCTION_LEN, VMCS_EXIT_INSTRUCTION_INFO, VMCS_GUEST_LINEAR_ADDR, VMCS_IO_RCX, VMCS_IO_RSI,
    VMCS_IO_RDI, VMCS_IO_RIP, VMCS_GUEST_PHYSICAL_ADDR,
};

/* Their vmcs12 slots, looked up once: this copy runs at every reflected exit. */
static uint8_t exit_info_slots[ARRAY_SIZE(exit_info_fields)];
static bool exit_info_indexed;

static void save_l2_state(struct nested_vmx *n, struct vmcs12 *v12)
{
    uint32_t exit12 = (uint32_t)V12(v12, VMCS_EXIT_CONTROLS);
    /* VMREAD zero-extends to the field's width, which is how vmcs12 stores every field. */
    const uint8_t *slots = vmcs12_guest_slots();
    for (unsigned i = 0; i < vmcs12_guest_field_count; i++)
        v12->f[slots[i]] = vmread(vmcs12_guest_fields[i]);
    /* 27.3.1: the exit stores EFER.LMA into the IA-32e mode guest entry control. */
    uint64_t entry12 = V12(v12, VMCS_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE_GUEST;
    entry12 |= vmread(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST;
    if (entry12 != V12(v12, VMCS_ENTRY_CONTROLS))
        vmcs12_mark_dirty(n, SLOT_VMCS_ENTRY_CONTROLS); /* vmcs02 has it, but the entry checks read it */
    V12(v12, VMCS_ENTRY_CONTROLS) = entry12;
    if (exit12 & EXIT_SAVE_DEBUG_CONTROLS) {
        V12(v12, VMCS_GUEST_DR7) = vmread(VMCS_GUEST_DR7);
        V12(v12, VMCS_GUEST_DEBUGCTL) = vmread(VMCS_GUEST_DEBUGCTL);
    }
    if (exit12 & EXIT_SAVE_PAT)
        V12(v12, VMCS_GUEST_PAT) = vmread(VMCS_GUEST_PAT);
    if (exit12 & EXIT_SAVE_EFER)
        V12(v12, VMCS_GUEST_EFER) = vmread(VMCS_GUEST_EFER);
    if (exit12 & EXIT_SAVE_PREEMPTION_TIMER)
        V12(v12, VMCS_PREEMPTION_TIMER_VALUE) = vmread(VMCS_PREEMPTION_TIMER_VALUE);
    apic_virt_save(v12);
    /* 27.3.4: with EPT and PAE paging the exit saves the PDPTEs. */
    if (vmcs12_proc2(v12) & PROC2_ENABLE_EPT) {
        uint64_t cr0 = vmread(VMCS_GUEST_CR0), cr4 = vmread(VMCS_GUEST_CR4);
        if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(vmread(VMCS_GUEST_EFER) & EFER_LMA))
            for (int i = 0; i < 4; i++)
                v12->f[SLOT_VMCS_GUEST_PDPTE0 + i] = vmread(VMCS_GUEST_PDPTE0 + 2 * i);
    }
}

static void set_segment(uint32_t sel_field, uint64_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    unsigned i = (sel_field - VMCS_GUEST_ES_SEL) / 2;
    vmwrite(sel_field, sel);
    vmwrite(VMCS_GUEST_ES_BASE + 2 * i, base);
    vmwrite(VMCS_GUEST_ES_LIMIT + 2 * i, limit);
    vmwrite(VMCS_GUEST_ES_AR + 2 * i, ar);
}

/* Loading L1's host state from vmcs12 into vmcs01's guest area (SDM 27.5.1-27.5.3). */
static bool load_l1_host_state(struct vcpu *v, const struct vmcs12 *v12, bool nmi_exit)
{
    uint32_t exit12 = (uint32_t)V12(v12, VMCS_EXIT_CONTROLS);
    bool host64 = exit12 & EXIT_HOST_ADDR_SPACE_SIZE;

    /* 27.5.1: CR0.ET, CD, NW and reserved bits keep their values; fixed bits stay set. */
    uint64_t keep0 = CR0_ET | CR0_CD | CR0_NW | 0xffffffff1ffaffc0ull;
    uint64_t old_view = (vmread(VMCS_GUEST_CR0) & ~v->cr0_mask) | (vmread(VMCS_CR0_READ_SHADOW) & v->cr0_mask);
    uint64_t cr0 = (V12(v12, VMCS_HOST_CR0) & ~keep0) | (old_view & keep0);
    vmwrite(VMCS_CR0_READ_SHADOW, cr0);
    vmwrite(VMCS_GUEST_CR0, (cr0 | v->cr0_fixed0) & v->cr0_fixed1);
    uint64_t cr4 = V12(v12, VMCS_HOST_CR4);
    vmwrite(VMCS_CR4_READ_SHADOW, cr4);
    vmwrite(VMCS_GUEST_CR4, (cr4 | v->cr4_fixed0) & v->cr4_fixed1);
    uint64_t old_cr3 = vmread(VMCS_GUEST_CR3);
    vmwrite(VMCS_GUEST_CR3, V12(v12, VMCS_HOST_CR3));
    /* L1 runs with its own VPID, which this CR3 switch did not flush: do what a CR3 load would. */
    if (v->vpid && old_cr3 != V12(v12, VMCS_HOST_CR3) && invvpid(INVVPID_SINGLE_CONTEXT, v->vpid, 0) != VMX_OK)
        invvpid(INVVPID_ALL_CONTEXT, 0, 0);

    vmwrite(VMCS_GUEST_DR7, 0x400);
    vmwrite(VMCS_GUEST_DEBUGCTL, 0);
    vmwrite(VMCS_GUEST_SYSENTER_CS, V12(v12, VMCS_HOST_SYSENTER_CS));
    vmwrite(VMCS_GUEST_SYSENTER_ESP, V12(v12, VMCS_HOST_SYSENTER_ESP));
    vmwrite(VMCS_GUEST_SYSENTER_EIP, V12(v12, VMCS_HOST_SYSENTER_EIP));

    /* 27.5.2: flat segments; a null selector makes DS/ES/FS/GS/SS unusable. */
    uint32_t cs_ar = 0xb | VMX_AR_S | VMX_AR_P | VMX_AR_G | (host64 ? VMX_AR_L : VMX_AR_DB);
    uint32_t data_ar = 0x3 | VMX_AR_S | VMX_AR_P | VMX_AR_DB | VMX_AR_G;
    set_segment(VMCS_GUEST_CS_SEL, V12(v12, VMCS_HOST_CS_SEL), 0, 0xffffffff, cs_ar);
    static const struct {
        uint32_t guest;
        unsigned host_slot;
    } data[] = {{VMCS_GUEST_SS_SEL, SLOT_VMCS_HOST_SS_SEL}, {VMCS_GUEST_DS_SEL, SLOT_VMCS_HOST_DS_SEL},
                {VMCS_GUEST_ES_SEL, SLOT_VMCS_HOST_ES_SEL}, {VMCS_GUEST_FS_SEL, SLOT_VMCS_HOST_FS_SEL},
                {VMCS_GUEST_GS_SEL, SLOT_VMCS_HOST_GS_SEL}};
    for (unsigned i = 0; i < ARRAY_SIZE(data); i++) {
        uint64_t sel = v12->f[data[i].host_slot];
        uint64_t base = data[i].guest == VMCS_GUEST_FS_SEL   ? V12(v12, VMCS_HOST_FS_BASE)
                        : data[i].guest == VMCS_GUEST_GS_SEL ? V12(v12, VMCS_HOST_GS_BASE)
                                                             : 0;
        set_segment(data[i].guest, sel, base, 0xffffffff, sel ? data_ar : (data_ar | VMX_AR_UNUSABLE));
    }
    set_segment(VMCS_GUEST_TR_SEL, V12(v12, VMCS_HOST_TR_SEL), V12(v12, VMCS_HOST_TR_BASE), 0x67, 0xb | VMX_AR_P);
    set_segment(VMCS_GUEST_LDTR_SEL, 0, 0, 0, VMX_AR_UNUSABLE);
    vmwrite(VMCS_GUEST_GDTR_BASE, V12(v12, VMCS_HOST_GDTR_BASE));
    vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
    vmwrite(VMCS_GUEST_IDTR_BASE, V12(v12, VMCS_HOST_IDTR_BASE));
    vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);

    /* 27.5.1: EFER, PAT; the IA-32e mode of L1 follows host address-space size. */
    uint64_t efer = (exit12 & EXIT_LOAD_EFER) ? V12(v12, VMCS_HOST_EFER)
                    : host64 ? vmread(VMCS_GUEST_EFER) | EFER_LMA | EFER_LME
                             : vmread(VMCS_GUEST_EFER) & ~(EFER_LMA | EFER_LME);
    vmwrite(VMCS_GUEST_EFER, efer);
    v->entry_ctls = host64 ? v->entry_ctls | ENTRY_IA32E_MODE_GUEST : v->entry_ctls & ~ENTRY_IA32E_MODE_GUEST;
    vmwrite(VMCS_ENTRY_CONTROLS, v->entry_ctls);
    if (exit12 & EXIT_LOAD_PAT)
        vmwrite(VMCS_GUEST_PAT, V12(v12, VMCS_HOST_PAT));

    vmwrite(VMCS_GUEST_RIP, V12(v12, VMCS_HOST_RIP));
    vmwrite(VMCS_GUEST_RSP, V12(v12, VMCS_HOST_RSP));
    vmwrite(VMCS_GUEST_RFLAGS, 0x2);
    uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_NMI;
    if (nmi_exit)
        intr |= INTERRUPTIBILITY_NMI; /* an NMI that caused the exit leaves NMIs blocked in L1 */
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    vmwrite(VMCS_GUEST_PENDING_DBG, 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0);

    /* 27.5.4: a 32-bit PAE host needs its PDPTEs; an invalid one is a VMX abort. */
    if (!host64 && (cr0 & CR0_PG) && (cr4 & CR4_PAE))
        return vcpu_load_pdptes(v, V12(v12, VMCS_HOST_CR3));
    return true;
}

static void vmx_abort(struct vcpu *v, struct vmcs12_cache_entry *e, uint32_t indicator)
{
    e->v.abort = indicator;
    l1_phys_write(v, e->gpa, &e->v, sizeof e->v);
    vcpu_stop(v, STATUS_L1_FAILED, true, "VMX abort %u while delivering a VM exit to L1 (SDM 27.7): L1 shut down",
              indicator);
}

void nested_reflect(struct vcpu *v, uint32_t reason, uint64_t qual, bool entry_failure)
{
    struct nested_vmx *n = &v->nested;
    struct vmcs12_cache_entry *e = n->current;
    struct vmcs12 *v12 = &e->v;
    bool nmi_exit = false;

    V12(v12, VMCS_EXIT_REASON) = reason;
    V12(v12, VMCS_EXIT_QUALIFICATION) = qual;
    if (!entry_failure) {
        save_l2_state(n, v12);
        if (!exit_info_indexed) {
            vmcs12_slots(exit_info_fields, ARRAY_SIZE(exit_info_fields), exit_info_slots);
            exit_info_indexed = true;
        }
        /* VMREAD zero-extends to the field's width, which is how vmcs12 stores every field. */
        for (unsigned i = 0; i < ARRAY_SIZE(exit_info_fields); i++)
            v12->f[exit_info_slots[i]] = vmread(exit_info_fields[i]);
        uint32_t intr = (uint32_t)V12(v12, VMCS_EXIT_INTR_INFO);
        nmi_exit = EXIT_REASON_BASIC(reason) == EXIT_EXCEPTION_NMI && (intr & INTR_INFO_VALID) &&
                   INTR_INFO_TYPE(intr) == INTR_TYPE_NMI;
        /* 24.8.3: a VM exit clears the valid bit of the VM-entry interruption-information field. */
        if (V12(v12, VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID)
            vmcs12_mark_dirty(n, SLOT_VMCS_ENTRY_INTR_INFO); /* read by the entry checks */
        V12(v12, VMCS_ENTRY_INTR_INFO) &= ~(uint64_t)INTR_INFO_VALID;
        uint32_t bad = nested_store_msr_area(v, V12(v12, VMCS_EXIT_MSR_STORE_ADDR),
                                             (uint32_t)V12(v12, VMCS_EXIT_MSR_STORE_COUNT));
        if (bad) {
            vmptrld(v->vmcs);
            n->in_l2 = false;
            v->vmcs_switched = true;
            vmx_abort(v, e, VMX_ABORT_SAVING_MSRS);
            return;
        }
    } else {
        vmcs02_forget(n); /* vmcs02 was built but never entered (or refused by the CPU) */
        V12(v12, VMCS_EXIT_INTR_INFO) = 0;
        V12(v12, VMCS_IDT_VECTORING_INFO) = 0;
    }
    if (n->in_l2)
        vmptrld(v->vmcs);
    n->in_l2 = false;
    v->vmcs_switched = true;
    if (!load_l1_host_state(v, v12, nmi_exit)) {
        vmx_abort(v, e, VMX_ABORT_HOST_PDPTE);
        return;
    }
    if (nested_load_msr_area(v, V12(v12, VMCS_EXIT_MSR_LOAD_ADDR), (uint32_t)V12(v12, VMCS_EXIT_MSR_LOAD_COUNT))) {
        vmx_abort(v, e, VMX_ABORT_LOADING_MSRS);
        return;
    }
    vmcs_shadow_refresh(v);
    log_trace("L2 exit %u reflected to L1 (qualification 0x%lx)", EXIT_REASON_BASIC(reason), qual);
}

static bool l1_bitmap_bit(void *ctx, gpa_t page, uint32_t bit)
{
    uint8_t byte;
    l1_phys_read(ctx, page + bit / 8, &byte, 1);
    return byte & (1u << (bit % 8));
}

enum exit_action nested_l2_exit(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    unsigned reason = EXIT_REASON_BASIC(v->exit_reason);
    if (v->exit_reason & EXIT_REASON_ENTRY_FAILURE) {
        log_warn("the CPU refused to enter L2 (exit reason %u, qualification 0x%lx) although vmcs12 passed "
                 "Nestor's checks: reported to L1 as that VM-entry failure",
                 reason, v->exit_qual);
        nested_entry_failed_in_hw(v);
        nested_reflect(v, v->exit_reason, v->exit_qual, true);
        return EXIT_RESUME;
    }
    const struct vmcs12 *v12 = &n->current->v;
    bool ept12 = vmcs12_proc2(v12) & PROC2_ENABLE_EPT;
    if (ept12 && reason == EXIT_EPT_VIOLATION)
        return ept02_violation(v);
    if (ept12 && reason == EXIT_EPT_MISCONFIG)
        return vcpu_stop(v, STATUS_NESTOR_PANIC, true, "EPT misconfiguration in a shadow EPT02: a bug in Nestor");
    struct route_ctx r = {&n->current->v, l1_bitmap_bit, v,
                          reason == EXIT_EXCEPTION_NMI ? (uint32_t)vmread(VMCS_EXIT_INTR_INFO) : 0,
                          (reason == EXIT_VMREAD || reason == EXIT_VMWRITE) ? nested_l2_vmx_field_operand(v) : 0};
    if (nested_l1_wants_exit(&r, reason, v->exit_qual, (uint32_t)v->regs.gpr[GPR_RCX]) ||
        nested_l2_vmrw_needs_l1(v, reason)) {
        if (reason < EXIT_REASON_COUNT)
            n->stats.l2_to_l1[reason]++;
        nested_reflect(v, v->exit_reason, v->exit_qual, false);
        return EXIT_RESUME;
    }
    if (reason < EXIT_REASON_COUNT)
        n->stats.l2_by_l0[reason]++;
    switch (reason) {
    case EXIT_EXCEPTION_NMI: /* Nestor's #DB/#AC that L1 does not intercept: delivered to L2 */
        return EXIT_L0_HANDLES; /* vcpu_run passes it to L0's own handler (exit_dispatch_l2_for_l0) */
    case EXIT_IO_INSTRUCTION:
    case EXIT_RDMSR:
    case EXIT_WRMSR:
        return nested_l2_io_msr_for_l0(v, reason); /* L0's handler, or what the CPU would have done */
    case EXIT_VMREAD:
    case EXIT_VMWRITE: /* L1's VMREAD/VMWRITE bitmaps let it through: L1's shadow VMCS */
        return nested_l2_shadow_vmrw(v, reason == EXIT_VMWRITE);
    case EXIT_PREEMPTION_TIMER: /* Nestor's own timer (vmcs02.c, l0_timer_in_l2): vcpu_run's after-exit work is the point */
        return EXIT_RESUME;
    case EXIT_EPT_VIOLATION:
        return vcpu_stop(v, STATUS_L1_FAILED, true,
                         "EPT violation in L2 at guest-physical 0x%lx (rip 0x%lx): L2 runs on L1's physical memory "
                         "(no EPT12) and that address is not L1's memory",
                         vmread(VMCS_GUEST_PHYSICAL_ADDR), vmread(VMCS_GUEST_RIP));
    default:
        return vcpu_stop(v, STATUS_L1_FAILED, true, "L2 exit %u (%s) that neither L1 nor Nestor handles", reason,
                         exit_reason_name(reason));
    }
}

void nested_stats_print(const struct vcpu *v)
{
    const struct nested_stats *s = &v->nested.stats;
    uint64_t by_l0 = 0, to_l1 = 0;
    for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
        by_l0 += s->l2_by_l0[r];
        to_l1 += s->l2_to_l1[r];
    }
    if (!s->entries && !by_l0 && !to_l1)
        return;
    log_always("nested: %lu entries to L2, %lu L2 exits handled by L0, %lu reflected to L1, %lu events re-injected into L2",
               s->entries, by_l0, to_l1, s->l2_reinjected);
    if (s->ept02_roots)
        log_always("nested: EPT02: %lu shadow entries filled, %lu shadow EPTs created, %lu INVEPTs, %lu low-memory flushes",
                   s->ept02_fills, s->ept02_roots, s->invepts, s->ept02_flushes);
    if (s->ept12_ad_writes)
        log_always("nested: EPT A/D: flags written into EPT12 for %lu L2 accesses, %lu D flags set, %lu pages logged to PML",
                   s->ept12_ad_writes, s->ept12_dirtied, s->pml_logged);
    if (to_l1) {
        /* What an L2 exit that L1 handles costs in L0 exits: itself plus L1's VMX instructions (VMREAD, VMWRITE, VMRESUME...). */
        uint64_t per100 = (to_l1 + s->l1_vmx_exits_nested) * 100 / to_l1;
        log_always("nested: %lu.%02lu L0 exits per L2 exit reflected to L1 (%lu VMX-instruction exits of L1; VMCS shadowing %s)",
                   per100 / 100, per100 % 100, s->l1_vmx_exits_nested, v->nested.shadowing ? "on" : "off");
    }
    for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
        if (s->l2_by_l0[r])
            log_always("  L2->L0 %-28s %10lu", exit_reason_name(r), s->l2_by_l0[r]);
        if (s->l2_to_l1[r])
            log_always("  L2->L1 %-28s %10lu", exit_reason_name(r), s->l2_to_l1[r]);
    }
}
