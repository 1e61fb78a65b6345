/*
 * ghv: test=apicv-outside — Nestor only: a virtual-APIC or APIC-access address that is not L1's
 * RAM (docs/NESTED.md "APIC virtualization for L2"). The CPU accepts any address there (SDM
 * 26.2.1.1 checks only alignment and width); Nestor refuses the entry with VMfailValid(7),
 * because the CPU would write the virtual-APIC page with write-back accesses wherever vmcs02
 * points, and an APIC-access page EPT01 does not map is no page of L1's. So on bare Bochs every
 * refusal below is an exit 18 instead and the verdict is FAIL; the boot test runs it nested only.
 *
 * basic's VMCS, L2 at l2_ev_call (a lone VMCALL), TPR threshold 0 (so 26.2.1.1's threshold
 * against VTPR holds whatever the page reads as):
 *
 * | case | controls | address | Nestor |
 * | vapic-local-apic | use TPR shadow | virtual-APIC 0xfee00000, L1's local APIC (EPT01: uncached) | VMfailValid(7) |
 * | vapic-mmio | same | virtual-APIC 0xe0000000, device memory in the PCI hole (Bochs' VGA framebuffer; EPT01: identity, uncached) | VMfailValid(7) |
 * | vapic-rom | same | virtual-APIC 0xf0000, the BIOS ROM (EPT01: read/execute, write-back) | VMfailValid(7) |
 * | apic-access-kept-ram | + virtualize APIC accesses | virtual-APIC in ghv's RAM; APIC-access 16 MiB above the end of L1's RAM (host RAM Nestor keeps: EPT01 does not map it) | VMfailValid(7) |
 * | (valid pages) | same | both pages in ghv's RAM | exit 18 at l2_ev_call |
 * | apic-access-local-apic | same | APIC-access 0xfee00000 (EPT01 maps it for L1) | exit 18 at l2_ev_call |
 */
#include "apicv.h"
#include "ept.h"
#include "l2_apicv.h"

#define AO_LOCAL_APIC 0xfee00000ull
#define AO_MMIO 0xe0000000ull
#define AO_ROM 0xf0000ull

static u8 vmcs_ao[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 vapic_ao[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 access_ao[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));

static void refused(struct xt *t, const char *tag, u64 field, u64 addr)
{
    vmwrite(field, addr);
    apicv_expect_vmfail(t, tag);
}

static bool vmcall(struct xt *t, const char *tag)
{
    struct xexp w = {XR_VMCALL, 0, phys(l2_ev_call), 3, 0, 0};
    struct exit_info e;
    return xt_step(t, tag, &w, &e);
}

bool apicv_outside_run(void)
{
    struct xt t;
    xt_begin(&t, "apicv-outside");
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    bool tpr = xt_offered(&t, "use TPR shadow", ghv_caps.proc, AV_PROC_TPR_SHADOW);
    bool sec = xt_offered(&t, "secondary controls", ghv_caps.proc, PROC_SECONDARY);
    bool vaa = xt_offered(&t, "virtualize APIC accesses", ghv_caps.proc2, AV_PROC2_VAA) && sec;
    /* Host RAM beyond what L1 got, as in ept-outside (e_boot: eptx_run, which main.c runs for
     * every test from ept on, read the memory map); under 3 GiB Bochs has no device there. */
    u64 kept = (e_boot.ram_end + 0x1000000 + 0xfff) & ~0xfffull;
    if (vaa && kept >= 0xc0000000) {
        gprintf("ghv: apicv-outside skipped no-room\n");
        vaa = false;
    }
    if (!tpr || !xt_vmcs(&t, vmcs_ao, phys(l2_ev_call)))
        return xt_end(&t, 0);

    vmwrite(PROC_CONTROLS, ghv_ctls.proc | AV_PROC_TPR_SHADOW);
    vmwrite(AV_TPR_THRESHOLD, 0);
    refused(&t, "vapic-local-apic", AV_VIRTUAL_APIC_ADDR, AO_LOCAL_APIC);
    refused(&t, "vapic-mmio", AV_VIRTUAL_APIC_ADDR, AO_MMIO);
    refused(&t, "vapic-rom", AV_VIRTUAL_APIC_ADDR, AO_ROM);
    vmwrite(AV_VIRTUAL_APIC_ADDR, phys(vapic_ao));
    if (vaa) {
        vmwrite(PROC_CONTROLS, ghv_ctls.proc | AV_PROC_TPR_SHADOW | PROC_SECONDARY);
        vmwrite(AV_SECONDARY, AV_PROC2_VAA | (u32)ghv_caps.proc2);
        gprintf("ghv: apicv-outside kept-ram=0x%lx\n", kept);
        refused(&t, "apic-access-kept-ram", AV_APIC_ACCESS_ADDR, kept);
        vmwrite(AV_APIC_ACCESS_ADDR, phys(access_ao));
    }
    /* Nothing of the refused entries stuck: the same VMCS with RAM pages runs L2. */
    u32 want = 1;
    if (vmcall(&t, "valid-pages") && vaa) {
        vmwrite(AV_APIC_ACCESS_ADDR, AO_LOCAL_APIC);
        want++;
        vmcall(&t, "apic-access-local-apic");
    }
    return xt_end(&t, want);
}
