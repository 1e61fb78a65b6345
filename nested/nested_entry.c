/*
 * VMLAUNCH and VMRESUME from L1 (SDM vol. 3C 31 "VMLAUNCH/VMRESUME" and
 * chapter 26): instruction checks, then controls (VMfailValid 7) and host
 * state (VMfailValid 8), then guest state (VM-entry failure, exit reason 33)
 * and the MSR-load area (exit reason 34); only then does vmcs02 become L2.
 */
#include "nested_internal.h"
#include "nestor/arch.h"
#include "nestor/entry_checks.h"
#include "nestor/log.h"
#include "nestor/platform.h"
#include "nestor/vmx_ops.h"

static const char *insn_name(bool launch) { return launch ? "VMLAUNCH" : "VMRESUME"; }

static enum exit_action entry_failure(struct vcpu *v, bool launch, uint32_t reason, uint32_t qual, const char *why)
{
    log_info("L1 %s of vmcs12 0x%lx: VM-entry failure (exit reason %u, qualification %u): %s", insn_name(launch),
             v->nested.current_ptr, reason, qual, why);
    vmcs02_forget(&v->nested);
    nested_reflect(v, reason | EXIT_REASON_ENTRY_FAILURE, qual, true);
    return EXIT_RESUME;
}

static enum exit_action vmentry(struct vcpu *v, bool launch)
{
    struct nested_vmx *n = &v->nested;
    if (!vmx_insn_checks(v, true))
        return EXIT_RESUME;
    if (!n->current) {
        nested_vmfail_invalid(v);
        return EXIT_RESUME;
    }
    if (vmcs12_is_shadow(&n->current->v)) { /* 26.1: no VM entry with a shadow VMCS */
        log_info("L1 %s of vmcs12 0x%lx: VMfailInvalid: 26.1 the current VMCS must not be a shadow VMCS",
                 insn_name(launch), n->current_ptr);
        nested_vmfail_invalid(v);
        return EXIT_RESUME;
    }
    if (vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_MOV_SS) {
        nested_vmfail_valid(v, VMERR_ENTRY_MOV_SS_BLOCKING);
        return EXIT_RESUME;
    }
    vmcs_shadow_drain(v);
    struct vmcs12 *v12 = &n->current->v;
    bool launched = v12->launch_state == VMCS12_LAUNCHED;
    if (launch && launched) {
        nested_vmfail_valid(v, VMERR_VMLAUNCH_NONCLEAR);
        return EXIT_RESUME;
    }
    if (!launch && !launched) {
        nested_vmfail_valid(v, VMERR_VMRESUME_NONLAUNCHED);
        return EXIT_RESUME;
    }

    /* L1's APIC-virtualization pages first: VTPR is read only from a page that is L1's RAM. */
    const char *page_rule = apic_virt_pages(v, v12);
    struct entry_check_ctx ctx = {&n->caps, nested_maxphy_mask(), (vmread(VMCS_GUEST_EFER) & EFER_LMA) != 0,
                                  n->rtm, apic_virt_vtpr(v)};
    /* Checks over fields that have not changed since they passed give the same answer; not the TPR
     * threshold against VTPR, which lives in L1's memory (TPR shadow without APIC-access or
     * virtual-interrupt delivery, 26.2.1.1): those controls are checked at every entry. */
    bool recheck = entry_check_reads_vtpr(v12) || !vmcs02_checks_still_hold(n, ctx.l1_ia32e), unchanged = vmcs02_unchanged(n, ctx.l1_ia32e);
    const char *rule = recheck ? entry_check_controls(v12, &ctx) : NULL;
    if (!rule)
        rule = page_rule; /* after the SDM's own checks (26.2.1.1 names alignment and width first) */
    if (rule) {
        log_info("L1 %s of vmcs12 0x%lx: VMfailValid(7): %s", insn_name(launch), n->current_ptr, rule);
        nested_vmfail_valid(v, VMERR_ENTRY_INVALID_CONTROLS);
        return EXIT_RESUME;
    }
    rule = recheck ? entry_check_host_state(v12, &ctx) : NULL;
    if (rule) {
        log_info("L1 %s of vmcs12 0x%lx: VMfailValid(8): %s", insn_name(launch), n->current_ptr, rule);
        nested_vmfail_valid(v, VMERR_ENTRY_INVALID_HOST_STATE);
        return EXIT_RESUME;
    }
    n->checked_l1_ia32e = ctx.l1_ia32e;
    uint32_t qual = 0;
    /*
     * L2's state as the CPU saved it at the last exit from vmcs02, which passed these checks
     * at the entry before, with nothing L1 changed since: not checked again (KVM does the
     * same). The CPU still checks vmcs02; were it to refuse it, L1 gets that VM-entry
     * failure (nested_l2_exit), never an L2 running on state L1 could not give it.
     */
    rule = unchanged ? NULL : entry_check_guest_state(v12, &ctx, &qual);
    if (!rule && (rule = nested_link_pointer_rule(v, v12)) != NULL)
        qual = ENTRY_FAIL_QUAL_LINK_POINTER;
    if (rule)
        return entry_failure(v, launch, EXIT_INVALID_GUEST_STATE, qual, rule);

    if (!vmcs02_build(v, v12))
        return vcpu_stop(v, STATUS_NESTOR_PANIC, true,
                         "out of memory for the shadow EPT02 of vmcs12 0x%lx: L1 stopped (L2 never runs without it)",
                         n->current_ptr);
    /* vmcs02 is now current */
    n->in_l2 = true;
    v->vmcs_switched = true;
    if (!vmcs02_load_pdptes(v, v12))
        return entry_failure(v, launch, EXIT_INVALID_GUEST_STATE, ENTRY_FAIL_QUAL_PDPTE,
                             "26.3.1.6 PDPTEs referenced by guest CR3 must not set reserved bits");
    uint32_t bad = nested_load_msr_area(v, V12(v12, VMCS_ENTRY_MSR_LOAD_ADDR), (uint32_t)V12(v12, VMCS_ENTRY_MSR_LOAD_COUNT));
    if (bad)
        return entry_failure(v, launch, EXIT_MSR_LOADING, bad, "26.4 an entry of the VM-entry MSR-load area cannot be loaded");
    /*
     * "launched" only once an entry succeeds (SDM 31 VMLAUNCH Operation). The CPU may still
     * refuse vmcs02 with an entry-failure exit (a check Nestor lacks): nested_l2_exit then
     * clears it again (nested_entry_failed_in_hw).
     */
    if (launch)
        v12->launch_state = VMCS12_LAUNCHED;
    /* L1 injects an event into L2: nothing of Nestor's (a forwarded host NMI) may take its place. */
    if (V12(v12, VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID)
        v->injected = true;
    n->entry_was_launch = launch;
    n->stats.entries++;
    n->fill_epoch++;
    ept02_prefill(v, v12);
    log_trace("entering L2 at 0x%lx (vmcs12 0x%lx)", V12(v12, VMCS_GUEST_RIP), n->current_ptr);
    return EXIT_RESUME;
}

/*
 * The CPU answered the entry into vmcs02 with an entry-failure exit (bit 31): vmcs12 is not
 * launched if this was L1's VMLAUNCH. vmcs02's own launch state is the CPU's (SDM 26.8: only a
 * failed VMLAUNCH leaves it clear), which vcpu_run already tracks: the entry that failed may be
 * a VMRESUME after exits L0 handled, with vmcs02 launched long before.
 */
void nested_entry_failed_in_hw(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    vmcs02_forget(n);
    if (n->entry_was_launch)
        n->current->v.launch_state = 0;
}

enum exit_action nested_handle_vmlaunch(struct vcpu *v) { return vmentry(v, true); }
enum exit_action nested_handle_vmresume(struct vcpu *v) { return vmentry(v, false); }

/*
 * The CPU refused vmcs02 although vmcs12 passed Nestor's checks: a check
 * Nestor lacks. L1's VMLAUNCH/VMRESUME has not completed yet, so it gets the
 * CPU's own VMfail, and the log says it is Nestor's gap.
 */
void nested_hw_entry_failed(struct vcpu *v, int r, unsigned err)
{
    struct nested_vmx *n = &v->nested;
    log_warn("the CPU refused vmcs02 (%s, VM-instruction error %u: %s) although vmcs12 0x%lx passed Nestor's checks",
             r == VMX_FAIL_VALID ? "VMfailValid" : "VMfailInvalid", err, vm_instruction_error_name(err), n->current_ptr);
    vmcs02_forget(n);
    vmptrld(v->vmcs);
    n->in_l2 = false;
    v->vmcs_switched = true;
    v->exit_reason = (uint32_t)vmread(VMCS_EXIT_REASON); /* L1's VMLAUNCH/VMRESUME exit, still in vmcs01 */
    if (EXIT_REASON_BASIC(v->exit_reason) == EXIT_VMLAUNCH)
        n->current->v.launch_state = 0;
    if (r == VMX_FAIL_VALID && err)
        nested_vmfail_valid(v, err);
    else
        nested_vmfail_invalid(v);
}
