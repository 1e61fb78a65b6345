/*
 * ghv: entry in 64-bit C, test selection and the end-of-run protocol.
 *
 * Every test prints all of its results before the status is decided, so a
 * harness can compare whole transcripts line by line.
 */
#include "cmdline.h"
#include "ghv.h"
#include "vmx.h"

#define EXIT_PORT 0xf4              /* Nestor's (and QEMU's isa-debug-exit) status port */
#define BOCHS_DBG_PORT 0x8900       /* 'D' here ends a bare Bochs run */

void ghv_finish(u32 status)
{
    gprintf("ghv: done status=0x%x\n", status);
    serial_flush();
    outl(EXIT_PORT, status);
    outb(BOCHS_DBG_PORT, 'D');
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* Leave VMX operation between the basic and the negative test, so that the
 * negative test starts "outside VMX operation" as it expects. */
static bool leave_vmx(void)
{
    if (!ghv_vmx_on)
        return true;                /* basic never got as far as VMXON */
    u64 cur = 0;
    __asm__ volatile("vmptrst %0" : "=m"(cur));
    if (cur != ~0ull && vmclear(cur) != VMX_OK)
        gprintf("ghv: vmclear before vmxoff failed\n");
    int r = vmxoff();
    gprintf("ghv: vmxoff %s\n", r == VMX_OK ? "ok" : "failed");
    ghv_vmx_on = r != VMX_OK;
    return r == VMX_OK;
}

void ghv_main(u32 magic, u32 mbi)
{
    serial_init();
    /* Mask both PICs: L2 briefly runs with IF=1 (injection test) and no
     * stray timer interrupt may reach it or ghv. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    cpu_init();
    /* Firmware may leave the caches disabled (Bochs' BIOS leaves CR0.CD/NW
     * set). VM entries and exits keep CD/NW as they are (SDM 27.3.2.1,
     * 28.5.1), so L2 would see ghv's values: make them the normal ones. */
    write_cr0(read_cr0() & ~(CR0_CD | CR0_NW));

    enum ghv_test test;
    bool ok = cmdline_parse(magic, mbi, &test);
    gprintf("ghv: start test=%s\n", ghv_test_names[test]);
    if (!ok || !vmx_probe())
        ghv_finish(1);
    l2_env_init();

    /* all = basic, neg; every = basic, neg, then the extended tests. */
    bool every = test == GHV_TEST_EVERY;
    if (test == GHV_TEST_BASIC || test == GHV_TEST_ALL || every)
        ok &= basic_run();
    if (test == GHV_TEST_ALL || every)
        ok &= leave_vmx();
    if (test == GHV_TEST_NEG || test == GHV_TEST_ALL || every)
        ok &= neg_run();
    if (test == GHV_TEST_EVENTS || every)
        ok &= events_run();
    if (test == GHV_TEST_L0 || every)
        ok &= l0_run();
    if (test == GHV_TEST_MSRAREA || every)
        ok &= msrarea_run();
    if (test == GHV_TEST_PAE || every)
        ok &= pae_run();
    if (test == GHV_TEST_SMP)
        ghv_finish(smp_run() && ok ? 0 : 1);
    if (test >= GHV_TEST_EPT)
        ok &= eptx_run(test, mbi);
    if (test == GHV_TEST_HOSTILE_NESTED)
        ok &= hostile_nested_run();
    if (test == GHV_TEST_LIVEBITMAP)
        ok &= livebitmap_run();
    if (test == GHV_TEST_XEXITS)
        ok &= xexits_run();
    if (test == GHV_TEST_SHADOW)
        ok &= shadow_run();
    if (test == GHV_TEST_EPTAD)
        ok &= eptad_run();
    if (test == GHV_TEST_APICV)
        ok &= apicv_run();
    if (test == GHV_TEST_APICV_OUTSIDE)
        ok &= apicv_outside_run();
    if (test == GHV_TEST_LATENCY)
        ok &= latency_run();
    ghv_finish(ok ? 0 : 1);
}
