/*
 * ghv: the msrarea test — VM-entry MSR-load, VM-exit MSR-store and VM-exit
 * MSR-load areas (SDM Vol. 3C 25.7.2, 25.8.2; 27.4, 28.4, 28.6).
 *
 * Good run: the entry area loads IA32_KERNEL_GS_BASE and IA32_SYSENTER_CS;
 * L2 reads both (no MSR intercepts), writes IA32_KERNEL_GS_BASE and does
 * VMCALL; the exit store area records L2's IA32_KERNEL_GS_BASE, the exit
 * load area gives ghv its own value. Around it, the architecture also says:
 * VM entry loads IA32_SYSENTER_CS from the guest field before the area
 * (27.3.2.1, 27.4), VM exit saves it into the guest field (28.3.1) and
 * loads the host field (28.5.1).
 *
 * Bad runs: the second entry of the entry area cannot be loaded, so VM
 * entry fails with reason 0x80000022 (34, entry failure) and the 1-based
 * index 2 as qualification (27.4, "VM-Entry Failures During or After
 * Loading Guest State").
 */
#include "xtest.h"

struct msr_entry {
    u32 index, reserved;
    u64 value;
};

static u8 vmcs_msr[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 msr_bitmap_none[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static struct msr_entry entry_load[2] __attribute__((aligned(16)));
static struct msr_entry exit_store[1] __attribute__((aligned(16)));
static struct msr_entry exit_load[1] __attribute__((aligned(16)));

#define MSR_SYSENTER_CS 0x174
#define MSR_FS_BASE 0xc0000100
#define MSR_KERNEL_GS_BASE 0xc0000102
#define X_KGS_FAIL 0x6666ull            /* exit MSR-load value in the failing cases */
#define X_STORE_UNTOUCHED 0x7777ull     /* exit MSR-store sentinel in the failing cases */

static void key_of(char *out, const char *a, const char *b)
{
    while (*a)
        *out++ = *a++;
    while (*b)
        *out++ = *b++;
    *out = 0;
}

static bool setup(struct xt *t, u32 entry_count)
{
    if (!xt_vmcs(t, vmcs_msr, phys(l2_msr_entry)))
        return false;
    memset(msr_bitmap_none, 0, sizeof msr_bitmap_none);
    vmwrite(MSR_BITMAP, phys(msr_bitmap_none));
    vmwrite(ENTRY_MSR_LOAD_ADDR, phys(entry_load));
    vmwrite(ENTRY_MSR_LOAD_COUNT, entry_count);
    vmwrite(EXIT_MSR_STORE_ADDR, phys(exit_store));
    vmwrite(EXIT_MSR_STORE_COUNT, 1);
    vmwrite(EXIT_MSR_LOAD_ADDR, phys(exit_load));
    vmwrite(EXIT_MSR_LOAD_COUNT, 1);
    return true;
}

static void good(struct xt *t)
{
    entry_load[0] = (struct msr_entry){MSR_KERNEL_GS_BASE, 0, X_KGS_ENTRY};
    entry_load[1] = (struct msr_entry){MSR_SYSENTER_CS, 0, X_SYSENTER_CS};
    exit_store[0] = (struct msr_entry){MSR_KERNEL_GS_BASE, 0, 0};
    exit_load[0] = (struct msr_entry){MSR_KERNEL_GS_BASE, 0, X_KGS_EXIT};
    XR(XR_KGS) = XR(XR_SYSENTER_CS) = 0;
    if (!setup(t, 2))
        return;
    struct exit_info e;
    struct xexp w = {XR_VMCALL, 0, phys(l2_msr_vmcall), 3, 0, 0};
    if (!xt_step(t, "vmcall", &w, &e))
        return;
    xt_show(t, "l2.kgs", XR(XR_KGS), X_KGS_ENTRY);
    xt_show(t, "l2.sysenter_cs", XR(XR_SYSENTER_CS), X_SYSENTER_CS);
    xt_show(t, "store.kgs", exit_store[0].value, X_KGS_L2);
    xt_show(t, "host.kgs", rdmsr(MSR_KERNEL_GS_BASE), X_KGS_EXIT);
    xt_show(t, "guest.sysenter_cs", vmread(GUEST_SYSENTER_CS), X_SYSENTER_CS);
    xt_show(t, "host.sysenter_cs", rdmsr(MSR_SYSENTER_CS), 0);
}

/* Entry 1 is good, entry 2 is not: VM entry fails with qualification 2.
 * Such a failure loads host state as a VM exit would, including the VM-exit
 * MSR-load area, but saves nothing into the VM-exit MSR-store area ("VM-Entry
 * Failures During or After Loading Guest State"). */
static void bad(struct xt *t, const char *tag, struct msr_entry second)
{
    entry_load[0] = (struct msr_entry){MSR_SYSENTER_CS, 0, X_SYSENTER_CS};
    entry_load[1] = second;
    exit_store[0] = (struct msr_entry){MSR_KERNEL_GS_BASE, 0, X_STORE_UNTOUCHED};
    exit_load[0] = (struct msr_entry){MSR_KERNEL_GS_BASE, 0, X_KGS_FAIL};
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    if (!setup(t, 2))
        return;
    xt_expect_entryfail(t, tag, 0x80000022, 2);
    char key[48];
    key_of(key, tag, ".host.kgs");
    xt_show(t, key, rdmsr(MSR_KERNEL_GS_BASE), X_KGS_FAIL);
    key_of(key, tag, ".store.kgs");
    xt_show(t, key, exit_store[0].value, X_STORE_UNTOUCHED);
}

bool msrarea_run(void)
{
    struct xt t;
    xt_begin(&t, "msrarea");
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    good(&t);
    /* IA32_FS_BASE may not be loaded from the area (27.4). */
    bad(&t, "badload", (struct msr_entry){MSR_FS_BASE, 0, 0});
    /* Bits 63:32 of an entry are reserved and must be 0. */
    bad(&t, "badload-reserved", (struct msr_entry){MSR_KERNEL_GS_BASE, 1, X_KGS_ENTRY});
    /* A value WRMSR would #GP on: IA32_KERNEL_GS_BASE must be canonical. */
    bad(&t, "badload-noncanonical", (struct msr_entry){MSR_KERNEL_GS_BASE, 0, 0x1122334455667788ull});
    return xt_end(&t, 1);
}
