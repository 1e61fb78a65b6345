/*
 * ghv: the apicv test — APIC virtualization for ghv's L2 (SDM Vol. 3C chapter 29 "APIC
 * Virtualization and Virtual Interrupts", 25.6.8, 26.2.1.1).
 *
 * basic's VMCS (no EPT: L2-physical = ghv-physical, so the APIC-access page is a page of ghv's
 * memory that L2 reaches through its identity map) plus, scenario by scenario, each control
 * only if the (TRUE_) capability MSRs allow it, else "ghv: apicv skipped <control>" and the
 * scenarios that need it are left out (each needs those of the one before):
 *
 * | scenario | controls | L2 (l2_apicv.S) | exits |
 * | tpr | use TPR shadow; VTPR 0x50, threshold 4 | MOV from CR8 (5), MOV 2 to CR8 | 43 after the MOV; VMRESUME with the threshold above VTPR[7:4]: VMfailValid(7); threshold 2 |
 * | cr8x | + CR8-load and CR8-store exiting | MOV 7 to CR8, MOV from CR8 | 28 qual 0x108 (ghv writes VTPR 0x70), 28 qual 0x18 (ghv answers 9) |
 * | vaa | + virtualize APIC accesses; VTPR 0x50, threshold 4 | reads 0x80 (VTPR), 0x300, 0x30; writes 0x30 to 0x80, 0 to 0xb0 | 44 0x300, 44 0x30, 43 after the TPR write, 43 again at VM entry (VTPR still below the threshold), 44 0x10b0 |
 * | arv | + APIC-register virtualization | reads 0x30, 0x300 (virtual-APIC page), 0x390; writes 0x380, 0xb0 | 44 0x390, 56 0x380, 56 0xb0 |
 * | vid | + virtual-interrupt delivery, external-interrupt exiting; VIRR/RVI 0x41, RFLAGS.IF 1 | 0x41 delivered at VM entry; its handler's VMCALL, then its EOI | 18 (in service: SVI 0x41, VPPR 0x40), 45 qual 0x41 (EOI-exit bit set) |
 * | vid2 | the same, EOI-exit bit clear, VTPR 0x50 | VMCALL (0x41 held back: RVI 0x41, VPPR 0x50); MOV 0 to CR8 delivers it; the handler's VMCALL, EOI | 18, 18, none for the EOI |
 *
 * Every scenario ends in VMCALL (18). After each exit ghv prints VTPR, VPPR, and the ISR and IRR
 * words of vector 0x41 from the virtual-APIC page (and RVI/SVI from the guest interrupt status
 * with virtual-interrupt delivery) and checks them against the SDM; the boot test compares the
 * whole transcript with bare hardware. VM-entry checks tried on the way: TPR threshold bits
 * 31:4, threshold above VTPR, virtual-interrupt delivery without external-interrupt exiting.
 */
#include "xtest.h"
#include "apicv.h"
#include "l2_apicv.h"

static u8 vmcs_av[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 vapic[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));        /* the virtual-APIC page */
static u8 apic_page[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));    /* the APIC-access page */
static u64 av_idt[2 * (AV_VECTOR + 1)] __attribute__((aligned(16)));
static u32 want;                    /* exits the scenarios run so far must have produced */

/* What the virtual-APIC page (VTPR, VPPR, the ISR and IRR words of vector 0x41) and the guest
 * interrupt status (gis < 0: virtual-interrupt delivery off, not printed) must hold at the
 * next exits. */
static struct {
    u32 tpr, ppr, isr, irr;
    int gis;
} vs_want;

static void expect_state(u32 tpr, u32 ppr, u32 isr, u32 irr, int gis)
{
    vs_want.tpr = tpr;
    vs_want.ppr = ppr;
    vs_want.isr = isr;
    vs_want.irr = irr;
    vs_want.gis = gis;
}

static volatile u32 *vreg(u32 off) { return (volatile u32 *)(vapic + off); }

/* A fresh virtual-APIC page: VTPR and the registers L2 reads, everything else 0. */
static void vapic_reset(u32 vtpr)
{
    memset(vapic, 0, sizeof vapic);
    *vreg(AV_VER) = AV_VER_VALUE;
    *vreg(AV_TPR) = vtpr;
    *vreg(AV_ICR_LO) = AV_ICR_VALUE;
}

/* Prints what the virtual-APIC page and the guest interrupt status hold as the exit left them,
 * and checks them against vs_want. */
static void state(struct xt *t, const char *tag)
{
    u32 tpr = *vreg(AV_TPR), ppr = *vreg(AV_PPR);
    u32 isr = *vreg(AV_ISR + AV_VEC_WORD), irr = *vreg(AV_IRR + AV_VEC_WORD);
    gprintf("ghv: apicv vapic tpr=0x%x ppr=0x%x isr2=0x%x irr2=0x%x", tpr, ppr, isr, irr);
    bool ok = tpr == vs_want.tpr && ppr == vs_want.ppr && isr == vs_want.isr && irr == vs_want.irr;
    if (vs_want.gis >= 0) {
        u64 g = vmread(AV_GUEST_INTR_STATUS);
        gprintf(" rvi=0x%lx svi=0x%lx", g & 0xff, g >> 8);
        ok &= g == (u64)vs_want.gis;
    }
    gprintf("\n");
    if (!ok)
        fail_add(&t->f, tag);
}

static bool step(struct xt *t, const char *tag, u32 reason, u64 qual, const char *rip, u32 len, struct exit_info *e)
{
    struct xexp w = {reason, qual, phys(rip), len, 0, 0};
    want++;
    if (!xt_step(t, tag, &w, e))
        return false;
    state(t, tag);
    return true;
}

/* An entry that must be refused with VMfailValid(7), nothing run: the SDM's control checks
 * (26.2.1.1) here, Nestor's page rules in apicv-outside (apicv.h). */
void apicv_expect_vmfail(struct xt *t, const char *tag)
{
    int r = ghv_vmrun(t->regs, t->launched);
    gprintf("ghv: %s %s = ", t->name, tag);
    if (r == VMX_FAIL_VALID) {
        u64 err = vmread(VM_INSN_ERROR);
        gprintf("VMfailValid(%lu)\n", err);
        if (err == 7)
            return;
    } else if (r != VMX_OK) {
        gprintf("%s\n", vmx_result_name(r));
    } else {
        struct exit_info e;
        exit_read(&e);
        if (e.reason >> 31) {
            gprintf("entryfail reason=0x%x qual=0x%lx\n", e.reason, e.qual);
        } else {
            gprintf("exit reason=%u\n", e.basic);
            t->launched = true;
            t->n++;
            exit_print(t->n, &e);
        }
    }
    fail_add(&t->f, tag);
}

static void resume_at(const char *rip) { vmwrite(GUEST_RIP, phys(rip)); }

/* APIC-access exit for a read: ghv answers in EAX (the destination of every read in L2's code). */
static void answer_read(struct xt *t, const struct exit_info *e, const char *next)
{
    t->regs[0] = AV_APIC_READ_ANSWER | (e->qual & 0xfff);
    resume_at(next);
}

static bool run_tpr(struct xt *t, bool cr8x)
{
    struct exit_info e;
    u32 proc = ghv_ctls.proc | AV_PROC_TPR_SHADOW;
    vapic_reset(0x50);
    vmwrite(PROC_CONTROLS, proc);
    vmwrite(AV_VIRTUAL_APIC_ADDR, phys(vapic));
    vmwrite(AV_TPR_THRESHOLD, 0x14);
    apicv_expect_vmfail(t, "threshold-bits-31-4");
    vmwrite(AV_TPR_THRESHOLD, 4);
    expect_state(0x20, 0, 0, 0, -1);
    if (!step(t, "cr8-write", 43, 0, l2_av_cr8_write_next, 0, &e))
        return false;
    /* VTPR[7:4] = 2 is now below the threshold: with neither "virtualize APIC accesses" nor
     * "virtual-interrupt delivery", VM entry refuses that. */
    apicv_expect_vmfail(t, "threshold-above-vtpr");
    vmwrite(AV_TPR_THRESHOLD, 2);
    if (!step(t, "tpr-done", XR_VMCALL, 0, l2_av_tpr_done, 3, &e))
        return false;
    xt_show(t, "l2 cr8.1", XR(XR_AV_CR8_1), 5);
    xt_show(t, "l2 cr8.2", XR(XR_AV_CR8_2), 2);
    if (!cr8x)
        return true;

    /* With CR8-load/store exiting the MOVs exit before the TPR shadow is looked at; ghv
     * emulates them on the virtual-APIC page, as a hypervisor using the shadow does. */
    vmwrite(PROC_CONTROLS, proc | AV_PROC_CR8_LOAD | AV_PROC_CR8_STORE);
    resume_at(l2_av_cr8x);
    if (!step(t, "cr8-load", 28, 0x108, l2_av_cr8_load, 4, &e))
        return false;
    *vreg(AV_TPR) = (u32)(t->regs[1] & 0xf) << 4;
    vmwrite(GUEST_RIP, e.rip + e.len);
    expect_state(0x70, 0, 0, 0, -1);
    if (!step(t, "cr8-store", 28, 0x18, l2_av_cr8_store, 4, &e))
        return false;
    t->regs[0] = AV_CR8_STORE_ANSWER;
    vmwrite(GUEST_RIP, e.rip + e.len);
    if (!step(t, "cr8x-done", XR_VMCALL, 0, l2_av_cr8x_done, 3, &e))
        return false;
    xt_show(t, "l2 cr8.3", XR(XR_AV_CR8_3), AV_CR8_STORE_ANSWER);
    vmwrite(PROC_CONTROLS, proc);
    return true;
}

static bool run_vaa(struct xt *t)
{
    struct exit_info e;
    vapic_reset(0x50);
    vmwrite(PROC_CONTROLS, ghv_ctls.proc | AV_PROC_TPR_SHADOW | PROC_SECONDARY);
    vmwrite(AV_SECONDARY, AV_PROC2_VAA | (u32)ghv_caps.proc2);
    vmwrite(AV_APIC_ACCESS_ADDR, phys(apic_page));
    vmwrite(AV_TPR_THRESHOLD, 4);
    resume_at(l2_av_vaa);
    expect_state(0x50, 0, 0, 0, -1);
    if (!step(t, "vaa-icr-read", 44, AV_ICR_LO, l2_av_vaa_icr, 0, &e))
        return false;
    answer_read(t, &e, l2_av_vaa_icr_next);
    if (!step(t, "vaa-ver-read", 44, AV_VER, l2_av_vaa_ver, 0, &e))
        return false;
    answer_read(t, &e, l2_av_vaa_ver_next);
    expect_state(0x30, 0, 0, 0, -1);
    if (!step(t, "vaa-tpr-write", 43, 0, l2_av_vaa_tpr_next, 0, &e))
        return false;
    /* VM exits induced by the TPR threshold: with "virtualize APIC accesses" VM entry accepts
     * VTPR[7:4] below the threshold and exits right after it, before any instruction. */
    if (!step(t, "vaa-tpr-entry", 43, 0, l2_av_vaa_tpr_next, 0, &e))
        return false;
    vmwrite(AV_TPR_THRESHOLD, 3);
    if (!step(t, "vaa-eoi-write", 44, 0x1000 | AV_EOI, l2_av_vaa_eoi, 0, &e))
        return false;
    resume_at(l2_av_vaa_eoi_next);
    if (!step(t, "vaa-done", XR_VMCALL, 0, l2_av_vaa_done, 3, &e))
        return false;
    xt_show(t, "l2 vaa.tpr", XR(XR_AV_VAA_TPR), 0x50);
    xt_show(t, "l2 vaa.icr", XR(XR_AV_VAA_ICR), AV_APIC_READ_ANSWER | AV_ICR_LO);
    xt_show(t, "l2 vaa.ver", XR(XR_AV_VAA_VER), AV_APIC_READ_ANSWER | AV_VER);
    return true;
}

static bool run_arv(struct xt *t)
{
    struct exit_info e;
    vapic_reset(0x50);
    *vreg(AV_EOI) = 0xe01;          /* L2's EOI write of 0 must land here */
    vmwrite(AV_SECONDARY, AV_PROC2_VAA | AV_PROC2_ARV | (u32)ghv_caps.proc2);
    vmwrite(AV_TPR_THRESHOLD, 0);
    resume_at(l2_av_arv);
    expect_state(0x50, 0, 0, 0, -1);
    if (!step(t, "arv-cur-read", 44, AV_CUR_COUNT, l2_av_arv_cur, 0, &e))
        return false;
    answer_read(t, &e, l2_av_arv_cur_next);
    if (!step(t, "arv-count-write", 56, AV_INIT_COUNT, l2_av_arv_count_next, 0, &e))
        return false;
    xt_show(t, "vapic.380", *vreg(AV_INIT_COUNT), AV_INIT_COUNT_VALUE);
    if (!step(t, "arv-eoi-write", 56, AV_EOI, l2_av_arv_eoi_next, 0, &e))
        return false;
    xt_show(t, "vapic.0b0", *vreg(AV_EOI), 0);
    if (!step(t, "arv-done", XR_VMCALL, 0, l2_av_arv_done, 3, &e))
        return false;
    xt_show(t, "l2 arv.ver", XR(XR_AV_ARV_VER), AV_VER_VALUE);
    xt_show(t, "l2 arv.icr", XR(XR_AV_ARV_ICR), AV_ICR_VALUE);
    xt_show(t, "l2 arv.cur", XR(XR_AV_ARV_CUR), AV_APIC_READ_ANSWER | AV_CUR_COUNT);
    return true;
}

/* Vector 0x41 requested in VIRR and RVI, VTPR as given, the EOI-exit bit as given. */
static void vid_request(u32 vtpr, bool eoi_exit)
{
    vapic_reset(vtpr);
    *vreg(AV_IRR + AV_VEC_WORD) = AV_VEC_BIT;
    vmwrite(AV_GUEST_INTR_STATUS, AV_VECTOR);       /* RVI 0x41, SVI 0 */
    vmwrite(AV_EOI_EXIT0, 0);
    vmwrite(AV_EOI_EXIT0 + 2, eoi_exit ? 1ull << (AV_VECTOR - 64) : 0);
    vmwrite(AV_EOI_EXIT0 + 4, 0);
    vmwrite(AV_EOI_EXIT0 + 6, 0);
    vmwrite(GUEST_RFLAGS, 0x202);
}

static void show_handler(struct xt *t, u64 count, const char *rip)
{
    xt_show(t, "l2 int.count", XR(XR_AV_INT_COUNT), count);
    xt_show(t, "l2 int.rip", XR(XR_AV_INT_RIP), phys(rip));
    xt_show(t, "l2 int.isr", XR(XR_AV_INT_ISR), AV_VEC_BIT);
    xt_show(t, "l2 int.isr.after", XR(XR_AV_INT_ISR_AFTER), 0);
}

static bool run_vid(struct xt *t)
{
    struct exit_info e;
    u64 h = phys(l2_av_handler);
    memset(av_idt, 0, sizeof av_idt);
    av_idt[2 * AV_VECTOR] = (h & 0xffff) | ((u64)GHV_L2_CS << 16) | (0x8eull << 40) | (((h >> 16) & 0xffff) << 48);
    av_idt[2 * AV_VECTOR + 1] = h >> 32;
    vmwrite(GUEST_IDTR_BASE, phys(av_idt));
    vmwrite(GUEST_IDTR_LIMIT, sizeof av_idt - 1);
    XR(XR_AV_INT_COUNT) = XR(XR_AV_INT_RIP) = XR(XR_AV_INT_ISR) = XR(XR_AV_INT_ISR_AFTER) = 0;

    /* Delivered at VM entry (VPPR 0); the handler's EOI clears VISR, SVI and VPPR and, its
     * EOI-exit bit being set, exits (trap-like) after the write. */
    vid_request(0, true);
    vmwrite(AV_SECONDARY, AV_PROC2_VAA | AV_PROC2_ARV | AV_PROC2_VID | (u32)ghv_caps.proc2);
    resume_at(l2_av_vid);
    apicv_expect_vmfail(t, "vid-without-extint");
    vmwrite(PIN_CONTROLS, ghv_ctls.pin | AV_PIN_EXT_INT);
    expect_state(0, 0x40, AV_VEC_BIT, 0, AV_VECTOR << 8);       /* in service: SVI 0x41, VPPR 0x40 */
    if (!step(t, "vid-in-service", XR_VMCALL, 0, l2_av_handler_call, 3, &e))
        return false;
    vmwrite(GUEST_RIP, e.rip + e.len);
    expect_state(0, 0, 0, 0, 0);
    if (!step(t, "vid-eoi", 45, AV_VECTOR, l2_av_eoi_next, 0, &e))
        return false;
    if (!step(t, "vid-done", XR_VMCALL, 0, l2_av_vid_done, 3, &e))
        return false;
    show_handler(t, 1, l2_av_vid);

    /* VTPR 0x50 keeps VPPR above the request's priority class until L2 lowers its TPR. */
    vid_request(0x50, false);
    resume_at(l2_av_vid2);
    expect_state(0x50, 0x50, 0, AV_VEC_BIT, AV_VECTOR);          /* pending: RVI 0x41, VPPR = VTPR */
    if (!step(t, "vid2-held", XR_VMCALL, 0, l2_av_vid2, 3, &e))
        return false;
    vmwrite(GUEST_RIP, e.rip + e.len);
    expect_state(0, 0x40, AV_VEC_BIT, 0, AV_VECTOR << 8);
    if (!step(t, "vid2-in-service", XR_VMCALL, 0, l2_av_handler_call, 3, &e))
        return false;
    vmwrite(GUEST_RIP, e.rip + e.len);
    expect_state(0, 0, 0, 0, 0);
    if (!step(t, "vid2-done", XR_VMCALL, 0, l2_av_vid2_done, 3, &e))
        return false;
    xt_show(t, "l2 vid2.count.before", XR(XR_AV_VID2_COUNT), 1);
    show_handler(t, 2, l2_av_vid2_after);
    return true;
}

bool apicv_run(void)
{
    struct xt t;
    xt_begin(&t, "apicv");
    want = 0;
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    /* Each check prints its own "skipped" line; a scenario needs its controls and those of
     * the scenarios before it. */
    bool tpr = xt_offered(&t, "use TPR shadow", ghv_caps.proc, AV_PROC_TPR_SHADOW);
    bool cr8l = xt_offered(&t, "CR8-load exiting", ghv_caps.proc, AV_PROC_CR8_LOAD);
    bool cr8s = xt_offered(&t, "CR8-store exiting", ghv_caps.proc, AV_PROC_CR8_STORE);
    bool sec = xt_offered(&t, "secondary controls", ghv_caps.proc, PROC_SECONDARY);
    bool vaa = xt_offered(&t, "virtualize APIC accesses", ghv_caps.proc2, AV_PROC2_VAA);
    bool arv = xt_offered(&t, "APIC-register virtualization", ghv_caps.proc2, AV_PROC2_ARV);
    bool vid = xt_offered(&t, "virtual-interrupt delivery", ghv_caps.proc2, AV_PROC2_VID);
    bool ext = xt_offered(&t, "external-interrupt exiting", ghv_caps.pin, AV_PIN_EXT_INT);
    vaa = vaa && sec && tpr;
    arv = arv && vaa;
    vid = vid && ext && arv;
    if (!tpr)
        return xt_end(&t, 0);

    for (u32 i = 0; i < GHV_PAGE / 4; i++)
        ((volatile u32 *)apic_page)[i] = AV_BACKING_FILL;
    if (!xt_vmcs(&t, vmcs_av, phys(l2_av_tpr)))
        return xt_end(&t, 0);
    t.regs[8] = phys(apic_page);
    bool ok = run_tpr(&t, cr8l && cr8s);
    if (ok && vaa)
        ok = run_vaa(&t);
    if (ok && arv)
        ok = run_arv(&t);
    if (ok && vid)
        ok = run_vid(&t);

    /* Every write L2 made went to the virtual-APIC page or exited: the page behind the
     * APIC-access address is as ghv filled it. */
    u32 touched = 0;
    for (u32 i = 0; i < GHV_PAGE / 4; i++)
        touched += ((volatile u32 *)apic_page)[i] != AV_BACKING_FILL;
    xt_show(&t, "apic-access.changed", touched, 0);
    return xt_end(&t, want);
}
