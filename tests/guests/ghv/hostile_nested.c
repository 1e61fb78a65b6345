/*
 * ghv: test=hostile-nested — legal but unusual uses of VMX a hostile or merely
 * busy L1 makes, each with the answer the SDM gives (and bare Bochs gives):
 *
 *  invept-loop  L2 is one page of code ("1: vmcall; jmp 1b") whose page tables
 *               share its 2 MiB EPT12 leaf (own_tables). 50 times:
 *               VMRESUME, VMCALL exit, INVEPT single-context. Every resume
 *               refills the same guest-physical page: legal, must not stop L1.
 *  eptp-cycle   six EPT12s with the same mappings, cycled over 30 VMRESUMEs
 *               (more EPTPs than a shadow cache of four holds): same refills.
 *  relaunch     VMLAUNCH whose VM-entry MSR-load area clears IA32_EFER.LME
 *               of a 64-bit L2 with paging on (WRMSR would #GP): entry failure,
 *               exit reason 34, qualification 1 (SDM 26.4). The VMCS stays
 *               clear, so the same VMLAUNCH without the area must succeed;
 *               after VMCLEAR and VMPTRLD it succeeds again.
 *  rtm-relaunch pending debug exceptions with RTM (bit 16) on a CPU without RTM:
 *               exit reason 33 (SDM 26.3.1.5); VMLAUNCH again without it succeeds.
 *  msr-outside  a VM-entry MSR-load entry for MSR 40000000H, outside both
 *               MSR-bitmap ranges (L1's own WRMSR of it exits and #GPs):
 *               exit reason 34, qualification 2.
 *  invept-ep4ta L2 reads a 4 KiB page; ghv points the EPT12 entry at another
 *               page and does INVEPT single-context with the same EP4TA but
 *               memory type UC in the EPTP: the context is the EP4TA (bits
 *               51:12), so L2's next read must see the new page.
 *  tsc-high     VMWRITE of TSC_OFFSET (2010H), VMREAD of its HIGH half
 *               (2011H); VMWRITE of the HIGH half, VMREAD of the full field;
 *               both again after a VM entry and exit (SDM 24.11.2).
 */
#include "ept.h"

#define MSR_KERNEL_GS_BASE 0xc0000102u
#define ENTRY_MSR_LOAD_ADDR_F 0x200a
#define TSC_OFFSET_HIGH 0x2011
#define HN_EPTPS 6

struct hn_msr_entry {
    u32 index, reserved;
    u64 value;
};
static struct hn_msr_entry hn_area[2] __attribute__((aligned(16)));

/* L2: a VMCALL loop that touches nothing but its own code page. */
extern const char l2_hn_loop[];
__asm__(".text\n"
        ".globl l2_hn_loop\n"
        "l2_hn_loop:\n"
        "1: vmcall\n"
        "   jmp 1b\n");

/* L2: reads E_GPA_4KA into RAX, VMCALL, again. */
extern const char l2_hn_read[];
__asm__(".text\n"
        ".globl l2_hn_read\n"
        "l2_hn_read:\n"
        "1: mov 0x210000, %rax\n"
        "   vmcall\n"
        "   jmp 1b\n");

/*
 * L2's own page tables inside the 2 MiB EPT12 leaf that holds its code (GPA
 * 0x1f0000-0x1f2fff: PML4, PDPT, PD with one 2 MiB page, identity): each resume
 * after INVEPT then touches one guest-physical page first (the PML4), and one
 * shadow fill of the 2 MiB leaf serves the whole walk and the fetch. Nothing
 * else in between: the same page is filled at every resume.
 */
#define HN_PML4 0x1f0000ull
static void own_tables(void)
{
    *e_l1(HN_PML4) = (HN_PML4 + 0x1000) | 3;
    *e_l1(HN_PML4 + 0x1000) = (HN_PML4 + 0x2000) | 3;
    *e_l1(HN_PML4 + 0x2000) = 0x83;            /* 2 MiB page at 0, present, writable */
    *e_l1(HN_PML4 + 0x2008) = 0x200000 | 0x83; /* and at 2 MiB (E_GPA_4KA) */
    vmwrite(GUEST_CR3, HN_PML4);
}

static bool setup(struct xt *t, struct ept12 *e, u64 *vmcs)
{
    if (!xt_vmx(t) || !e_secondary_offered(t, PROC2_EPT))
        return false;
    if (!e_mem_check(t, E_POOL_BASE, E_POOL_END, "pool") || !e_mem_check(t, E_OFS, E_OFS + E_L2_SPAN, "l2 memory"))
        return false;
    *vmcs = e_pool_page();
    if (!*vmcs || !ept12_init(e) || !e_l2_build(t, e, true) || !e_vmcs_64(t, e_ptr(*vmcs), e, phys(l2_hn_loop))) {
        fail_add(&t->f, "setup");
        return false;
    }
    own_tables();
    return true;
}

/* One entry expecting the VMCALL exit at l2_hn_loop; RIP stays there (the loop). */
static bool vmcall_round(struct xt *t)
{
    struct eexit x;
    int r = e_enter(t, &x);
    if (r != VMX_OK || (x.x.reason >> 31) || x.x.basic != XR_VMCALL || x.x.rip != phys(l2_hn_loop))
        return false;
    return vmwrite(GUEST_RIP, phys(l2_hn_loop)) == VMX_OK;
}

static void invept_loop(struct xt *t, const struct ept12 *e)
{
    unsigned n = 0;
    u64 desc[2] = {e->eptp, 0};
    bool single = ghv_caps.ept_vpid & CAP_INVEPT_1;
    for (unsigned i = 0; i < 50; i++) {
        if (!vmcall_round(t))
            break;
        n++;
        if (ghv_e_invept(single ? 1 : 2, desc) != VMX_OK)
            break;
    }
    gprintf("ghv: %s invept-loop vmcalls=%u\n", t->name, n);
    if (n != 50)
        fail_add(&t->f, "invept-loop");
}

static void eptp_cycle(struct xt *t, const struct ept12 *first)
{
    struct ept12 e[HN_EPTPS];
    e[0] = *first;
    for (unsigned i = 1; i < HN_EPTPS; i++)
        if (!ept12_init(&e[i]) || !e_l2_build(t, &e[i], true)) {
            fail_add(&t->f, "eptp-cycle-setup");
            return;
        }
    own_tables(); /* e_l2_build rewrote L2's memory */
    unsigned n = 0;
    for (unsigned i = 0; i < 30; i++) {
        if (vmwrite(EPT_POINTER, e[i % HN_EPTPS].eptp) != VMX_OK || !vmcall_round(t))
            break;
        n++;
    }
    vmwrite(EPT_POINTER, first->eptp);
    gprintf("ghv: %s eptp-cycle vmcalls=%u\n", t->name, n);
    if (n != 30)
        fail_add(&t->f, "eptp-cycle");
}

static void launch_once(struct xt *t, const char *tag)
{
    struct eexit x;
    int r = e_enter(t, &x);
    gprintf("ghv: %s %s = ", t->name, tag);
    if (r == VMX_FAIL_VALID)
        gprintf("VMfailValid(%lu)\n", vmread(VM_INSN_ERROR));
    else if (r != VMX_OK)
        gprintf("%s\n", vmx_result_name(r));
    else if (x.x.reason >> 31)
        gprintf("entryfail reason=0x%x qual=0x%lx\n", x.x.reason, x.x.qual);
    else
        gprintf("exit reason=%u\n", x.x.basic);
    if (r != VMX_OK || x.x.reason != XR_VMCALL)
        fail_add(&t->f, tag);
    vmwrite(GUEST_RIP, phys(l2_hn_loop));
}

static void relaunch(struct xt *t, const struct ept12 *e, u64 vmcs)
{
    if (!e_vmcs_64(t, e_ptr(vmcs), e, phys(l2_hn_loop)))
        return;
    hn_area[0] = (struct hn_msr_entry){MSR_EFER, 0, rdmsr(MSR_EFER) & ~((1ull << 8) | (1ull << 10))};
    vmwrite(ENTRY_MSR_LOAD_ADDR_F, phys(hn_area));
    vmwrite(ENTRY_MSR_LOAD_COUNT, 1);
    xt_expect_entryfail(t, "efer-area", 0x80000022, 1);
    vmwrite(ENTRY_MSR_LOAD_COUNT, 0);
    launch_once(t, "relaunch"); /* still clear: VMLAUNCH again, no VMCLEAR needed */
    if (vmclear(vmcs) != VMX_OK || vmptrld(vmcs) != VMX_OK) {
        fail_add(&t->f, "vmclear");
        return;
    }
    t->launched = false;
    launch_once(t, "relaunch-after-vmclear");
}

/* Pending debug exceptions with RTM (bit 16) on a CPU without RTM: exit 33; then VMLAUNCH again without it. */
static void rtm_relaunch(struct xt *t, const struct ept12 *e, u64 vmcs)
{
    u32 r[4];
    cpuid(7, 0, r);
    if (r[1] & (1u << 11)) {
        gprintf("ghv: %s skipped rtm\n", t->name);
        return;
    }
    if (!e_vmcs_64(t, e_ptr(vmcs), e, phys(l2_hn_loop)))
        return;
    vmwrite(GUEST_PENDING_DBG, (1ull << 16) | (1ull << 12));
    xt_expect_entryfail(t, "rtm-pending", 0x80000021, 0);
    vmwrite(GUEST_PENDING_DBG, 0);
    launch_once(t, "rtm-relaunch");
}

static void msr_outside(struct xt *t, const struct ept12 *e, u64 vmcs)
{
    if (!e_vmcs_64(t, e_ptr(vmcs), e, phys(l2_hn_loop)))
        return;
    hn_area[0] = (struct hn_msr_entry){MSR_KERNEL_GS_BASE, 0, 0x1000};
    hn_area[1] = (struct hn_msr_entry){0x40000000u, 0, 1};
    vmwrite(ENTRY_MSR_LOAD_ADDR_F, phys(hn_area));
    vmwrite(ENTRY_MSR_LOAD_COUNT, 2);
    xt_expect_entryfail(t, "msr-outside", 0x80000022, 2);
    vmwrite(ENTRY_MSR_LOAD_COUNT, 0);
}

static bool read_round(struct xt *t, u64 *value)
{
    struct eexit x;
    int r = e_enter(t, &x);
    if (r != VMX_OK || (x.x.reason >> 31) || x.x.basic != XR_VMCALL)
        return false;
    *value = t->regs[0]; /* RAX */
    return vmwrite(GUEST_RIP, phys(l2_hn_read)) == VMX_OK;
}

static void invept_ep4ta(struct xt *t, struct ept12 *e, u64 vmcs)
{
    if (!(ghv_caps.ept_vpid & CAP_INVEPT_1) || !(ghv_caps.ept_vpid & CAP_UC)) {
        gprintf("ghv: %s skipped invept-ep4ta\n", t->name);
        return;
    }
    *(volatile u64 *)e_ptr(E_L1_4KA) = EV_4KA;
    *(volatile u64 *)e_ptr(E_L1_4KB) = EV_4KB;
    volatile u64 *pte = ept12_entry(e, E_GPA_4KA, 1);
    if (!pte || !e_vmcs_64(t, e_ptr(vmcs), e, phys(l2_hn_read))) {
        fail_add(&t->f, "invept-ep4ta-setup");
        return;
    }
    own_tables();
    *pte = E_L1_4KA | EPT_RWX | EPT_WB;
    u64 a = 0, b = 0;
    if (!read_round(t, &a)) {
        fail_add(&t->f, "invept-ep4ta-read");
        return;
    }
    *pte = E_L1_4KB | EPT_RWX | EPT_WB;
    u64 desc[2] = {(e->eptp & ~7ull) | 0 /* UC: same EP4TA, another EPTP */, 0};
    if (ghv_e_invept(1, desc) != VMX_OK || !read_round(t, &b)) {
        fail_add(&t->f, "invept-ep4ta-read");
        return;
    }
    xt_show(t, "ep4ta-before", a, EV_4KA);
    xt_show(t, "ep4ta-after-invept", b, EV_4KB);
}

static void tsc_high(struct xt *t, const struct ept12 *e, u64 vmcs)
{
    if (!e_vmcs_64(t, e_ptr(vmcs), e, phys(l2_hn_loop)))
        return;
    vmwrite(TSC_OFFSET, 0x1122334455667788ull);
    xt_show(t, "high-after-full", vmread(TSC_OFFSET_HIGH), 0x11223344ull);
    vmwrite(TSC_OFFSET_HIGH, 0xaabbccddull);
    xt_show(t, "full-after-high", vmread(TSC_OFFSET), 0xaabbccdd55667788ull);
    launch_once(t, "tsc-entry");
    xt_show(t, "full-after-entry", vmread(TSC_OFFSET), 0xaabbccdd55667788ull);
    xt_show(t, "high-after-entry", vmread(TSC_OFFSET_HIGH), 0xaabbccddull);
}

bool hostile_nested_run(void)
{
    struct xt t;
    struct ept12 e;
    u64 vmcs;
    xt_begin(&t, "hostile-nested");
    if (!setup(&t, &e, &vmcs))
        return xt_end(&t, 0);
    if (!(ghv_caps.ept_vpid & CAP_INVEPT)) {
        gprintf("ghv: hostile-nested skipped invept-loop\n");
        fail_add(&t.f, "no-invept");
    } else {
        invept_loop(&t, &e);
    }
    eptp_cycle(&t, &e);
    relaunch(&t, &e, vmcs);
    rtm_relaunch(&t, &e, vmcs);
    msr_outside(&t, &e, vmcs);
    invept_ep4ta(&t, &e, vmcs);
    tsc_high(&t, &e, vmcs);
    return xt_end(&t, 0);
}
