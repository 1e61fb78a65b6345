/*
 * ghv: the xexits test — the instruction exits of the controls basic does not use.
 *
 * One VMCS with basic's controls plus, where the capability MSRs allow them
 * (else "ghv: xexits skipped <what>" and the step is left out): RDPMC, MWAIT,
 * MONITOR and PAUSE exiting (primary), and the secondary controls enable RDTSCP
 * (with basic's RDTSC exiting: RDTSCP exits), enable INVPCID (with basic's
 * INVLPG exiting: INVPCID exits), RDRAND and RDSEED exiting, descriptor-table
 * exiting and WBINVD exiting (SDM 25.1.3, 25.6.2). L2 (l2_xexits.S) executes one
 * instruction per step if the CPU has it (CPUID), and ghv skips each; every exit's
 * qualification and instruction information are printed (exits.c) and compared
 * field by field with bare hardware by the boot test. Here: reason, RIP, length.
 *
 * | step | instruction | exit |
 * | RDTSCP | rdtscp | 51, len 3 |
 * | RDRAND | rdrand %eax | 57, len 3, info: operand size 32, register 0 |
 * | RDSEED | rdseed %rbx | 61, len 4, info: operand size 64, register 3 |
 * | INVPCID | invpcid 0x10(%rsi),%rax | 58, len 6, qual 0x10 |
 * | DESC | sgdt 0x20(%rsi); lidt 0x30(%rsi,%rax,2); sldt %cx; str 0x40(%rsi) | 46, 46, 47, 47 |
 * | PAUSE | pause | 40, len 2 |
 * | MONITOR / MWAIT | monitor; mwait | 39, 36, len 3 |
 * | RDPMC | rdpmc | 15, len 2 |
 * | WBINVD | wbinvd | 54, len 2 |
 * The preemption timer and the NMI window are the events test's; the TPR threshold,
 * APIC accesses, APIC writes and virtualized EOI the apicv test's, PML full eptad's;
 * MTF needs a control Nestor does not offer (docs/NESTED.md).
 */
#include "xtest.h"
#include "l2_xexits.h"

#define PROC_RDPMC_EXIT   (1u << 11)
#define PROC_MWAIT_EXIT   (1u << 10)
#define PROC_MONITOR_EXIT (1u << 29)
#define PROC_PAUSE_EXIT   (1u << 30)
#define PROC2_DESC        (1u << 2)
#define PROC2_RDTSCP      (1u << 3)
#define PROC2_WBINVD      (1u << 6)
#define PROC2_RDRAND      (1u << 11)
#define PROC2_INVPCID     (1u << 12)
#define PROC2_RDSEED      (1u << 16)
#define PROC_CONTROLS2    0x401e

static u8 vmcs_xx[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));

struct xx_step {
    const char *name;
    unsigned step;
    bool secondary;
    u32 ctl;
    int cpuid_leaf, cpuid_reg, cpuid_bit; /* the CPU must have the instruction; leaf -1: always */
};

static const struct xx_step steps[] = {
    {"rdtscp", XX_RDTSCP, true, PROC2_RDTSCP, (int)0x80000001, 3, 27},
    {"rdrand", XX_RDRAND, true, PROC2_RDRAND, 1, 2, 30},
    {"rdseed", XX_RDSEED, true, PROC2_RDSEED, 7, 1, 18},
    {"invpcid", XX_INVPCID, true, PROC2_INVPCID, 7, 1, 10},
    {"desc", XX_DESC, true, PROC2_DESC, -1, 0, 0},
    {"pause", XX_PAUSE, false, PROC_PAUSE_EXIT, -1, 0, 0},
    /* Not gated on CPUID.1:ECX.MONITOR: a nested hypervisor may hide it from L1 (Nestor does) while the
     * CPU still has it, and the exiting controls are offered all the same (every Bochs model has it). */
    {"monitor", XX_MONITOR, false, PROC_MONITOR_EXIT, -1, 0, 0},
    {"mwait", XX_MWAIT, false, PROC_MWAIT_EXIT, -1, 0, 0},
    {"rdpmc", XX_RDPMC, false, PROC_RDPMC_EXIT, -1, 0, 0},
    {"wbinvd", XX_WBINVD, true, PROC2_WBINVD, -1, 0, 0},
};

struct xx_exit {
    unsigned step;
    u32 reason;
    const char *rip;
    u32 len;
    u64 qual;
};

static const struct xx_exit exits[] = {
    {XX_RDTSCP, 51, l2_xx_rdtscp, 3, 0},   {XX_RDRAND, 57, l2_xx_rdrand, 3, 0},
    {XX_RDSEED, 61, l2_xx_rdseed, 4, 0},   {XX_INVPCID, 58, l2_xx_invpcid, 6, 0x10},
    {XX_DESC, 46, l2_xx_sgdt, 4, 0x20},    {XX_DESC, 46, l2_xx_lidt, 5, 0x30},
    {XX_DESC, 47, l2_xx_sldt, 4, 0},       {XX_DESC, 47, l2_xx_str, 4, 0x40},
    {XX_PAUSE, 40, l2_xx_pause, 2, 0},     {XX_MONITOR, 39, l2_xx_monitor, 3, 0},
    {XX_MWAIT, 36, l2_xx_mwait, 3, 0},     {XX_RDPMC, 15, l2_xx_rdpmc, 2, 0},
    {XX_WBINVD, 54, l2_xx_wbinvd, 2, 0},
};

static bool cpu_has(const struct xx_step *s)
{
    if (s->cpuid_leaf < 0)
        return true;
    u32 r[4];
    cpuid((u32)s->cpuid_leaf & 0x80000000u, 0, r);
    if (r[0] < (u32)s->cpuid_leaf)
        return false;
    cpuid((u32)s->cpuid_leaf, 0, r);
    return (r[s->cpuid_reg] >> s->cpuid_bit) & 1;
}

bool xexits_run(void)
{
    struct xt t;
    xt_begin(&t, "xexits");
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    bool sec = xt_offered(&t, "secondary", ghv_caps.proc, PROC_SECONDARY);
    u32 proc = ghv_ctls.proc, proc2 = 0, mask = 0;
    for (unsigned i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const struct xx_step *s = &steps[i];
        if (s->secondary && !sec)
            continue;
        if (!xt_offered(&t, s->name, s->secondary ? ghv_caps.proc2 : ghv_caps.proc, s->ctl))
            continue;
        if (!cpu_has(s)) {
            gprintf("ghv: xexits skipped %s (not in CPUID)\n", s->name);
            continue;
        }
        if (s->secondary)
            proc2 |= s->ctl;
        else
            proc |= s->ctl;
        mask |= 1u << s->step;
    }
    gprintf("ghv: xexits steps=0x%x\n", mask);
    if (!xt_vmcs(&t, vmcs_xx, phys(l2_xx_entry)))
        return xt_end(&t, 0);
    if (proc2) {
        proc |= PROC_SECONDARY;
        vmwrite(PROC_CONTROLS2, proc2 | (u32)ghv_caps.proc2);
    }
    vmwrite(PROC_CONTROLS, proc);
    t.regs[12] = mask;

    u32 want = 0;
    for (unsigned i = 0; i < sizeof exits / sizeof exits[0]; i++) {
        const struct xx_exit *x = &exits[i];
        if (!(mask & (1u << x->step)))
            continue;
        struct exit_info e;
        want++;
        if (!xi_step(&t, steps[x->step].name, x->reason, x->qual, phys(x->rip), x->len, &e))
            return xt_end(&t, want);
        vmwrite(GUEST_RIP, e.rip + e.len);
    }
    struct exit_info e;
    want++;
    xi_step(&t, "done", XR_VMCALL, 0, phys(l2_xx_done), 3, &e);
    return xt_end(&t, want);
}
