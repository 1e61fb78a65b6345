/*
 * ghv: the livebitmap test — L1's I/O and MSR bitmaps are read at each access.
 *
 * The CPU consults the bitmaps in memory at every IN/OUT and RDMSR/WRMSR
 * (SDM 25.1.3, 25.6.4, 25.6.9), so a bit L2 sets in L1's bitmap while it runs
 * (the pages are shared: L2 runs on L1's physical memory here) takes effect at
 * the next access, and a bit it clears lets the next access through. L2
 * (l2_xexits.S) flips one bit at a time in basic's bitmaps and accesses:
 *
 * | n | L2 | exit |
 * | 1 | sets port 0xed in bitmap A, OUT 0xed | 30, qual 0xed0040, len 2 |
 * | - | clears it, OUT 0xed | none |
 * | 2 | sets RDMSR 0x175, RDMSR | 31, len 2; ghv answers 0x1122334455667788 |
 * | - | clears it, RDMSR | none: L2 reads its SYSENTER_ESP |
 * | 3 | sets WRMSR 0xc0000100, WRMSR | 32, len 2; ghv drops the write |
 * | - | clears it, WRMSR FS_BASE, RDMSR FS_BASE | none: L2 reads its value back |
 * | 4 | WRMSR FS_BASE non-canonical | 0, #GP(0) (ghv intercepts #GP here) |
 * | 5 | sets port 0xed, OUTSB | 30, string, len 1 |
 * | - | clears it, OUTSB | none |
 * | 6 | VMCALL | 18 |
 *
 * Exit lines are compared with bare hardware by the boot test; this file checks
 * reason, qualification (except the string I/O's, whose instruction information
 * depends on IA32_VMX_BASIC[54]), RIP and length.
 */
#include "xtest.h"
#include "l2_xexits.h"

static u8 vmcs_lb[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));

bool xi_step(struct xt *t, const char *tag, u32 reason, u64 qual, u64 rip, u32 len, struct exit_info *e)
{
    int r = ghv_vmrun(t->regs, t->launched);
    if (r != VMX_OK) {
        gprintf("ghv: %s %s entry failed: %s\n", t->name, tag, vmx_result_name(r));
        fail_add(&t->f, tag);
        return false;
    }
    exit_read(e);
    if (e->reason >> 31) {
        gprintf("ghv: %s %s entry failed: entryfail reason=0x%x qual=0x%lx\n", t->name, tag, e->reason, e->qual);
        fail_add(&t->f, tag);
        return false;
    }
    t->launched = true;
    t->n++;
    exit_print(t->n, e);
    if (e->basic != reason || e->qual != qual || e->rip != rip || e->len != len)
        fail_add(&t->f, tag);
    return true;
}

static void skip(u64 len) { vmwrite(GUEST_RIP, vmread(GUEST_RIP) + len); }

bool livebitmap_run(void)
{
    struct xt t;
    struct exit_info e;
    xt_begin(&t, "livebitmap");
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    XR(XR_LB_RD1) = XR(XR_LB_RD2) = XR(XR_LB_FS) = 0;
    if (!xt_vmcs(&t, vmcs_lb, phys(l2_lb_entry)))
        return xt_end(&t, 0);
    t.regs[8] = vmread(IO_BITMAP_A);
    t.regs[9] = vmread(MSR_BITMAP);
    vmwrite(EXCEPTION_BITMAP, vmread(EXCEPTION_BITMAP) | (1u << 13));
    vmwrite(GUEST_SYSENTER_ESP, LB_SYSENTER_ESP);

    if (!xi_step(&t, "out-set", 30, ((u64)LB_PORT << 16) | 0x40, phys(l2_lb_out1), 2, &e))
        return xt_end(&t, t.n);
    skip(2);
    if (!xi_step(&t, "rdmsr-set", 31, 0, phys(l2_lb_rd1), 2, &e))
        return xt_end(&t, t.n);
    t.regs[0] = 0x55667788;
    t.regs[2] = 0x11223344;
    skip(2);
    if (!xi_step(&t, "wrmsr-set", 32, 0, phys(l2_lb_wr1), 2, &e))
        return xt_end(&t, t.n);
    skip(2);
    if (!xi_step(&t, "wrmsr-gp", 0, 0, phys(l2_lb_gp), 0, &e))
        return xt_end(&t, t.n);
    check_u64(&t.f, "gp-intr", e.intr, 0x80000b0d);
    check_u64(&t.f, "gp-err", e.err, 0);
    skip(2);
    if (!xi_step(&t, "outs-set", 30, ((u64)LB_PORT << 16) | 0x10, phys(l2_lb_outs1), 1, &e))
        return xt_end(&t, t.n);
    skip(1);
    if (!xi_step(&t, "done", 18, 0, phys(l2_lb_done), 3, &e))
        return xt_end(&t, t.n);

    xt_show(&t, "l2 rdmsr.set", XR(XR_LB_RD1), 0x1122334455667788ull);
    xt_show(&t, "l2 rdmsr.clear", XR(XR_LB_RD2), LB_SYSENTER_ESP);
    xt_show(&t, "l2 fs", XR(XR_LB_FS), LB_FS_VALUE);
    xt_show(&t, "guest.fs.base", vmread(GUEST_FS_BASE), LB_FS_VALUE);
    return xt_end(&t, 6);
}
