/*
 * ghv: test=ept-hostile — EPTPs, INVEPT operands and EPT12 tables a
 * careless or hostile L1 could hand to its hypervisor; test=ept-outside —
 * an EPT12 leaf beyond ghv's RAM (last: under Nestor it ends the run).
 *
 * ept-hostile:
 *  a. VMLAUNCH with a bad EPTP, each VMfailValid(7) (SDM "VM-Execution
 *     Control Fields" checks: memory type supported by EPT_VPID_CAP, walk
 *     length 4, bit 6 only if accessed/dirty flags are offered):
 *     eptp-ad (bit 6; run only if EPT_VPID_CAP[21] = 0, else
 *     "skipped ad"), eptp-walk3 (bits 5:3 = 2), eptp-memtype7.
 *  b. INVEPT type 3 and INVEPT single-context of an EPTP with walk length
 *     3: VMfailValid(28); single- and all-context with good operands: ok.
 *  d. an EPT12 whose PML4[1] points to the PML4 itself: the walk of
 *     GPA 0x8040201000 (index 1 at every level) uses PML4[1] four times and
 *     ends with it as a PTE: RWX, memory type 0 (UC), no reserved bit set,
 *     so by the SDM a translation onto the PML4 page: L2 reads PML4[1]
 *     itself, no exit. (Needs MAXPHYADDR >= 40 for L2's own page tables.)
 *  e. the PDE of GPA 4-6 MiB has bit 3 set (reserved in a non-leaf PDE):
 *     L2's read there is an EPT misconfiguration (exit 49, qual 0, GPA);
 *     ghv clears the bit and resumes; L2 reads EV_MC. Then VMCALL.
 */
#include "ept.h"

#define PDE_RSVD3 (1ull << 3)

static void outcome_vmx(int r)
{
    if (r == VMX_FAIL_VALID)
        gprintf("VMfailValid(%lu)\n", vmread(VM_INSN_ERROR));
    else if (r == VMX_FAULTED && ghv_fault_vec == 6)
        gprintf("#UD\n");
    else if (r == VMX_FAULTED && ghv_fault_vec == 13)
        gprintf("#GP(0x%lx)\n", ghv_fault_err);
    else if (r == VMX_FAULTED)
        gprintf("#vector%lu(0x%lx)\n", ghv_fault_vec, ghv_fault_err);
    else
        gprintf("%s\n", vmx_result_name(r));
}

/* VMLAUNCH of a fresh VMCS whose EPTP is eptp; expects VMfailValid(7). */
static void bad_eptp(struct xt *t, void *vmcs, const struct ept12 *e, const char *tag, u64 eptp)
{
    if (!e_vmcs_64(t, vmcs, e, phys(l2_eh_entry)))
        return;
    vmwrite(EPT_POINTER, eptp);
    struct eexit x;
    int r = e_enter(t, &x);
    gprintf("ghv: %s %s = ", t->name, tag);
    bool ok = false;
    if (r != VMX_OK) {
        outcome_vmx(r);
        ok = r == VMX_FAIL_VALID && vmread(VM_INSN_ERROR) == 7;
    } else if (x.x.reason >> 31) {
        gprintf("entryfail reason=0x%x qual=0x%lx\n", x.x.reason, x.x.qual);
    } else {
        gprintf("exit reason=%u\n", x.x.basic);
        t->n++;
        exit_print(t->n, &x.x);
    }
    if (!ok)
        fail_add(&t->f, tag);
}

static void invept_case(struct xt *t, const char *tag, u64 type, u64 eptp, int want, u64 want_err)
{
    u64 desc[2] = {eptp, 0};
    int r = ghv_e_invept(type, desc);
    gprintf("ghv: %s %s = ", t->name, tag);
    outcome_vmx(r);
    if (r != want || (r == VMX_FAIL_VALID && vmread(VM_INSN_ERROR) != want_err))
        fail_add(&t->f, tag);
}

static u32 maxphyaddr(void)
{
    u32 r[4];
    cpuid(0x80000000, 0, r);
    if (r[0] < 0x80000008)
        return 36;
    cpuid(0x80000008, 0, r);
    return r[0] & 0xff;
}

static bool common_setup(struct xt *t, struct ept12 *e, u64 *vmcs)
{
    if (!xt_vmx(t))
        return false;
    if (!e_secondary_offered(t, PROC2_EPT))
        return false;
    if (!e_mem_check(t, E_POOL_BASE, E_POOL_END, "pool") || !e_mem_check(t, E_OFS, E_OFS + E_L2_SPAN, "l2 memory"))
        return false;
    *vmcs = e_pool_page();
    if (!*vmcs || !ept12_init(e) || !e_l2_build(t, e, true)) {
        fail_add(&t->f, "setup");
        return false;
    }
    return true;
}

bool ept_hostile_run(void)
{
    struct xt t;
    struct ept12 e;
    u64 vmcs;
    xt_begin(&t, "ept-hostile");
    if (!common_setup(&t, &e, &vmcs))
        return xt_end(&t, 0);
    u64 cap = ghv_caps.ept_vpid;

    /* e: GPA 4-6 MiB through a PDE with reserved bit 3 set. */
    volatile u64 *pde = ept12_entry(&e, E_GPA_SPECIAL, 2);
    u64 pt = e_pool_page();
    if (!pde || !pt) {
        fail_add(&t.f, "setup");
        return xt_end(&t, 0);
    }
    *(volatile u64 *)e_ptr(pt) = (E_GPA_SPECIAL + E_OFS) | EPT_R | EPT_W | EPT_WB;
    *pde = pt | EPT_RWX | PDE_RSVD3;
    *e_l1(E_GPA_SPECIAL) = EV_MC;
    /* d: PML4[1] -> the PML4 itself. */
    volatile u64 *pml4 = (volatile u64 *)e_ptr(e.pml4);
    pml4[1] = e.pml4 | EPT_RWX;
    bool self = maxphyaddr() >= 40;
    if (self)
        ER(ER_IN_SELF) = 1;
    else
        gprintf("ghv: ept-hostile skipped self-loop\n");

    /* a */
    if (cap & CAP_AD)
        gprintf("ghv: ept-hostile skipped ad\n");
    else
        bad_eptp(&t, e_ptr(vmcs), &e, "eptp-ad", e.eptp | (1 << 6));
    bad_eptp(&t, e_ptr(vmcs), &e, "eptp-walk3", (e.eptp & ~0x38ull) | (2 << 3));
    bad_eptp(&t, e_ptr(vmcs), &e, "eptp-memtype7", (e.eptp & ~7ull) | 7);

    /* b (a current VMCS exists: failures are VMfailValid) */
    if (!(cap & CAP_INVEPT)) {
        gprintf("ghv: ept-hostile skipped invept\n");
    } else {
        invept_case(&t, "invept-type3", 3, e.eptp, VMX_FAIL_VALID, 28);
        if (cap & CAP_INVEPT_1) {
            invept_case(&t, "invept-single-bad-eptp", 1, (e.eptp & ~0x38ull) | (2 << 3), VMX_FAIL_VALID, 28);
            invept_case(&t, "invept-single", 1, e.eptp, VMX_OK, 0);
        }
        if (cap & CAP_INVEPT_2)
            invept_case(&t, "invept-all", 2, 0, VMX_OK, 0);
    }

    /* d, e */
    if (e_vmcs_64(&t, e_ptr(vmcs), &e, phys(l2_eh_entry))) {
        struct eexit x;
        struct eexp w = {XR_EPT_MISCONFIG, 0, phys(l2_eh_mc_read), 0, 0, E_GPA_SPECIAL, 0};
        bool go = e_run(&t, "pde-reserved", &x);
        if (go && x.x.rip == phys(l2_eh_self_read)) {
            /* The self-loop read is a translation by the SDM: an exit there
             * is a failure; step over the read and go on. */
            fail_add(&t.f, "self-loop");
            vmwrite(GUEST_RIP, phys(l2_eh_self_next));
            go = e_run(&t, "pde-reserved", &x);
        }
        if (go)
            e_check(&t, "pde-reserved", &w, &x);
        if (go && x.x.basic == XR_EPT_MISCONFIG && x.x.rip == phys(l2_eh_mc_read)) {
            *pde &= ~PDE_RSVD3;
            w = (struct eexp){XR_VMCALL, 0, phys(l2_eh_done), 3, 0, 0, 0};
            e_step(&t, "done", &w, &x);
        }
    }
    if (self)
        xt_show(&t, "l2 self", ER(ER_SELF), e.pml4 | EPT_RWX);
    xt_show(&t, "l2 mc", ER(ER_MC), EV_MC);
    return xt_end(&t, 2);
}

bool ept_outside_run(void)
{
    struct xt t;
    struct ept12 e;
    u64 vmcs;
    xt_begin(&t, "ept-outside");
    if (!common_setup(&t, &e, &vmcs))
        return xt_end(&t, 0);
    /* 16 MiB above the end of L1's RAM: host RAM Nestor keeps for itself
     * (L1's memory map lists it reserved; EPT01 does not map it). Everything
     * that is not host RAM is device space L1 may reach (EPT01 maps it
     * identity, uncached), so the target must be RAM. */
    u64 target = (e_boot.ram_end + 0x1000000 + 0xfff) & ~0xfffull;
    if (target >= 0xc0000000) {
        gprintf("ghv: ept-outside skipped no-room\n");
        return xt_end(&t, 0);
    }
    if (!ept12_map(&e, E_GPA_SPECIAL, target, 1, EPT_R | EPT_W | EPT_WB) ||
        !e_vmcs_64(&t, e_ptr(vmcs), &e, phys(l2_eo_entry))) {
        fail_add(&t.f, "setup");
        return xt_end(&t, 0);
    }
    gprintf("ghv: ept-outside reading 0x%lx gpa=0x%x\n", target, E_GPA_SPECIAL);
    struct eexit x;
    struct eexp w = {XR_VMCALL, 0, phys(l2_eo_done), 3, 0, 0, 0};
    if (e_step(&t, "read", &w, &x) && x.x.basic == XR_VMCALL) {
        gprintf("ghv: ept-outside read=0x%lx\n", ER(ER_OUT));
        gprintf("ghv: ept-outside done\n");
    }
    return xt_end(&t, 1);
}
