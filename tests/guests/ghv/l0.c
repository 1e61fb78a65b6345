/*
 * ghv: the l0 test — what L2 does that L1 does not intercept.
 *
 * basic's bitmaps cover only ports 0x80/0x61 and MSRs 0x174 (read) and
 * 0xc0000102 (write). L2 prints a line on COM1 with polled IN/OUT and reads
 * IA32_FEATURE_CONTROL: on hardware these reach the UART and the MSR
 * directly; under a nested hypervisor L0 must handle them for L2 (as it
 * does for L1) without involving L1. ghv must see exactly one exit, the
 * final VMCALL, and L2 must read the IA32_FEATURE_CONTROL value L1 reads
 * (locked, VMX outside SMX: 0x5 on Bochs after vmx_probe and under Nestor).
 */
#include "xtest.h"

static u8 vmcs_l0[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));

bool l0_run(void)
{
    struct xt t;
    xt_begin(&t, "l0");
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    XR(XR_L0_FC) = 0;
    if (xt_vmcs(&t, vmcs_l0, phys(l2_l0_entry))) {
        struct exit_info e;
        struct xexp w = {XR_VMCALL, 0, phys(l2_l0_vmcall), 3, 0, 0};
        xt_step(&t, "vmcall", &w, &e);
    }
    xt_show(&t, "fc", XR(XR_L0_FC), rdmsr(MSR_FEATURE_CONTROL));
    return xt_end(&t, 1);
}
