/*
 * ghv: the shadow test — VMCS shadowing as an L1 hypervisor uses it for its L2 (SDM 24.10,
 * 24.6.15, 30.3, 26.3.1.5, and VMPTRLD/VMLAUNCH with a shadow VMCS).
 *
 * | step | ghv | expected |
 * | vmptrld-shadow | VMPTRLD of a region with revision bit 31 set | ok |
 * | vmlaunch-shadow | VMLAUNCH with that shadow VMCS current | VMfailInvalid |
 * | link-not-shadow | shadowing on, link pointer -> an ordinary VMCS | entry failure 33, qual 4 |
 * | run 1 | link -> shadow; L2 VMREADs GUEST_RIP, VMWRITEs and VMREADs GUEST_RSP, VMREADs an unsupported field (bits clear: no exit), then GUEST_RFLAGS (bit set) and a field > 0x7fff | exits 23, 23, 18 only |
 * | after | VMPTRLD of the shadow: GUEST_RSP is what L2 wrote; ghv's VMCS has VM-instruction error 12 | |
 * | run 2 | link pointer ~0: L2's VMREAD | VMfailInvalid (CF), exit 18 |
 *
 * The boot test compares the transcript with bare Bochs.
 */
#include "xtest.h"
#include "l2_shadow.h"
#include "l2_xexits.h" /* xi_step */

#define PROC2_SHADOW (1u << 14)
#define SECONDARY_CONTROLS 0x401e
#define VMREAD_BITMAP 0x2026
#define VMWRITE_BITMAP 0x2028

static u8 vmcs_sh[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 shadow_sh[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 plain_sh[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 rd_bm[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 wr_bm[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));

static void let_through(u8 *bm, u32 field) { bm[(field & 0x7fff) / 8] &= (u8)~(1u << (field % 8)); }

static void step(struct xt *t, const char *tag, u32 reason, const char *rip, u32 len, bool *ok)
{
    struct exit_info e;
    if (*ok && !xi_step(t, tag, reason, 0, phys(rip), len, &e))
        *ok = false;
    if (*ok)
        vmwrite(GUEST_RIP, vmread(GUEST_RIP) + e.len);
}

static const char *outcome(int r) { return r == VMX_OK ? "ok" : vmx_result_name(r); }

bool shadow_run(void)
{
    struct xt t;
    xt_begin(&t, "shadow");
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    if (!xt_offered(&t, "secondary controls", ghv_caps.proc, PROC_SECONDARY) ||
        !xt_offered(&t, "VMCS shadowing", ghv_caps.proc2, PROC2_SHADOW))
        return xt_end(&t, 0);

    /* A shadow VMCS: cleared, stamped with bit 31, then current (VMPTRLD accepts it, VMLAUNCH does not). */
    vmclear(phys(shadow_sh));
    *(volatile u32 *)shadow_sh = vmx_revision() | (1u << 31);
    int r = vmptrld(phys(shadow_sh));
    gprintf("ghv: shadow vmptrld-shadow = %s\n", outcome(r));
    if (r != VMX_OK)
        fail_add(&t.f, "vmptrld-shadow");
    bool fill = vmwrite(GUEST_RIP, SH_RIP_VALUE) == VMX_OK && vmwrite(GUEST_RSP, 0) == VMX_OK;
    xt_show(&t, "shadow.fill", fill, 1);
    r = ghv_vmrun(t.regs, 0);
    gprintf("ghv: shadow vmlaunch-shadow = %s\n", outcome(r));
    if (r != VMX_FAIL_INVALID)
        fail_add(&t.f, "vmlaunch-shadow");
    vmclear(phys(shadow_sh));
    vmclear(phys(plain_sh));
    *(volatile u32 *)plain_sh = vmx_revision();

    if (!xt_vmcs(&t, vmcs_sh, phys(l2_sh_entry)))
        return xt_end(&t, 0);
    for (u32 i = 0; i < GHV_PAGE; i++)
        rd_bm[i] = wr_bm[i] = 0xff;
    let_through(rd_bm, SH_F_RIP);
    let_through(rd_bm, SH_F_RSP);
    let_through(rd_bm, SH_F_BAD);
    let_through(wr_bm, SH_F_RSP);
    vmwrite(PROC_CONTROLS, vmread(PROC_CONTROLS) | PROC_SECONDARY);
    vmwrite(SECONDARY_CONTROLS, PROC2_SHADOW | (u32)ghv_caps.proc2);
    vmwrite(VMREAD_BITMAP, phys(rd_bm));
    vmwrite(VMWRITE_BITMAP, phys(wr_bm));

    vmwrite(VMCS_LINK_PTR, phys(plain_sh));
    xt_expect_entryfail(&t, "link-not-shadow", 0x80000021, 4);

    vmwrite(VMCS_LINK_PTR, phys(shadow_sh));
    bool ok = true;
    step(&t, "vmread-bit-set", 23, l2_sh_rflags, 3, &ok);
    step(&t, "vmread-field-high", 23, l2_sh_high, 3, &ok);
    step(&t, "done", XR_VMCALL, l2_sh_done, 3, &ok);
    if (!ok)
        return xt_end(&t, t.n);
    xt_show(&t, "l2.vmread.rip", XR(XR_SH_RIP), SH_RIP_VALUE);
    xt_show(&t, "l2.vmread.flags", XR(XR_SH_FL1), 0);
    xt_show(&t, "l2.vmwrite.flags", XR(XR_SH_FL2), 0);
    xt_show(&t, "l2.vmread.rsp", XR(XR_SH_RSP), SH_RSP_VALUE);
    xt_show(&t, "l2.vmread-bad.flags", XR(XR_SH_FL3), 0x40); /* ZF: VMfailValid */
    xt_show(&t, "insn-error", vmread(VM_INSN_ERROR), 12);

    /* What L2 wrote is in the shadow VMCS, as ghv's own VMREAD of it shows. */
    r = vmptrld(phys(shadow_sh));
    xt_show(&t, "shadow.rsp", r == VMX_OK ? vmread(GUEST_RSP) : ~0ull, SH_RSP_VALUE);
    xt_show(&t, "shadow.rip", r == VMX_OK ? vmread(GUEST_RIP) : ~0ull, SH_RIP_VALUE);
    r = vmptrld(phys(vmcs_sh));
    if (r != VMX_OK)
        fail_add(&t.f, "vmptrld-back");

    vmwrite(VMCS_LINK_PTR, ~0ull);
    vmwrite(GUEST_RIP, phys(l2_sh_entry2));
    step(&t, "done2", XR_VMCALL, l2_sh_done2, 3, &ok);
    if (ok)
        xt_show(&t, "l2.vmread-nolink.flags", XR(XR_SH_FL4), 0x1); /* CF: VMfailInvalid */
    return xt_end(&t, 4);
}
