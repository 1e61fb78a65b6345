/*
 * ghv test=smp: a guest hypervisor on two CPUs, as KVM is on every SMP host.
 *
 * 1. The BSP finds its AP (ACPI MADT; without one, INIT/SIPI go to "all
 *    excluding self"), copies smp_asm.S's trampoline below 1 MiB and sends
 *    INIT-SIPI-SIPI (SDM vol. 3A 9.4.4.1). The AP reaches 64-bit C on ghv's
 *    page tables, loads a GDT with a TSS of its own (a busy TSS cannot be
 *    loaded twice), checks that its VMX capabilities are the BSP's, and
 *    executes VMXON with its own VMXON region.
 * 2. Each CPU sets up a VMCS for an L2 vCPU (vCPU 0 on CPU 0, vCPU 1 on
 *    CPU 1) and both run their L2 at once, in lock step: after its k-th VM
 *    exit a CPU waits until the other CPU has had its k-th too, so neither
 *    can finish while the other is not running (a platform that ran one
 *    CPU's guest only after the other's would time out here).
 * 3. Migration: each CPU VMCLEARs its VMCS (SDM 25.11.3: the data reach
 *    memory and the launch state becomes clear), then CPU 0 VMPTRLDs vCPU
 *    1's VMCS and CPU 1 vCPU 0's, each writes its own host state (TR, GDTR)
 *    and VMLAUNCHes: both L2s go on from where they were, lock-stepped again.
 * 4. VMCLEAR and VMXOFF on both; the BSP prints every result.
 *
 * Only the BSP prints (after the AP has reported through shared memory), so
 * the transcript is the same on every run.
 */
#include "check.h"
#include "l2_shared.h"
#include "vmx.h"

#define TRAMP_PAGE 0x20000ull         /* below 1 MiB, 4 KiB aligned: SIPI vector 0x20 */
#define ROUNDS 16                     /* VM exits per vCPU before and after the migration */
#define XR_VMCALL 18

/* TSC ticks (Bochs with clock sync=none: about one per instruction). */
#define INIT_DELAY 1000000ull
#define SIPI_DELAY 100000ull
#define WAIT_LIMIT 800000000ull

#define APIC_ID 0x20
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define ICR_BUSY (1u << 12)
#define ICR_INIT 0x00004500u
#define ICR_SIPI 0x00004600u
#define ICR_ALL_BUT_SELF 0x000c0000u
#define MSR_APIC_BASE 0x1b

extern const char ghv_smp_tramp_start[], ghv_smp_tramp_end[], ghv_smp_l2[], ghv_smp_l2_vmcall[];
extern u64 ghv_gdt[8];

struct tss64 {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3, iomap_base;
} __attribute__((packed));

/* One L2 vCPU: its VMCS, its GPRs while ghv runs, and where it stands. */
struct vcpu {
    u64 regs[16];
    bool launched;
    u32 exits;                  /* VMCALL exits handled so far */
    u32 bad;                    /* first exit number whose values were wrong, 0 if none */
    volatile u64 counter;       /* L2 increments it (RBX points here) */
};

struct cpu {
    volatile u32 done;          /* exits handled in the current phase (lock step) */
    volatile u32 stage;         /* AP: how far it got (enum ap_stage) */
    const char *err;            /* first thing that went wrong on this CPU */
    u64 err_val;
};

enum ap_stage { AP_NONE, AP_C, AP_VMXON, AP_VMCS, AP_RAN, AP_CLEARED, AP_MIGRATED, AP_OFF };

static u8 vmcs_pages[2][GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 ap_vmxon_region[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u8 ap_stack[16384] __attribute__((aligned(16)));
static u8 l2_stacks[2][1024] __attribute__((aligned(16)));
static u64 ap_gdt[8] __attribute__((aligned(16)));
static struct tss64 ap_tss __attribute__((aligned(16)));

static struct vcpu vcpus[2];
static struct cpu cpus[2];
static volatile u32 phase;      /* set by the BSP: what the AP may do next */
static volatile u64 ap_basic, ap_fc;
static struct {
    u16 limit;
    u64 base;
} __attribute__((packed)) shared_idtr;
u64 ghv_smp_ap_rsp;             /* smp_asm.S loads it */

static u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

static void delay(u64 ticks)
{
    u64 end = rdtsc() + ticks;
    while (rdtsc() < end)
        __asm__ volatile("pause");
}

/* Spins until *p >= want or the limit passes; returns whether it got there. */
static bool wait_for(volatile u32 *p, u32 want)
{
    u64 end = rdtsc() + WAIT_LIMIT;
    while (*p < want) {
        if (rdtsc() > end)
            return false;
        __asm__ volatile("pause" ::: "memory");
    }
    return true;
}

static void cpu_fail(int c, const char *what, u64 val)
{
    if (!cpus[c].err) {
        cpus[c].err = what;
        cpus[c].err_val = val;
    }
}

/* ---- finding and starting the AP ---- */

static bool sig_is(const u8 *p, const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i] != (u8)s[i])
            return false;
    return true;
}

static const u8 *find_rsdp(void)
{
    u64 bda = 0x40e;
    __asm__("" : "+r"(bda));            /* a physical address: keep the compiler's bounds checks out of it */
    u64 ebda = (u64)*(volatile u16 *)(uintptr_t)bda << 4;
    u64 ranges[2][2] = {{ebda, ebda + 1024}, {0xe0000, 0x100000}};
    for (int r = 0; r < 2; r++) {
        if (ranges[r][0] < 0x80000 || ranges[r][0] >= 0x100000)
            continue;
        for (u64 a = ranges[r][0]; a + 20 <= ranges[r][1]; a += 16) {
            const u8 *p = (const u8 *)(uintptr_t)a;
            u8 sum = 0;
            for (int i = 0; i < 20; i++)
                sum = (u8)(sum + p[i]);
            if (sig_is(p, "RSD PTR ", 8) && sum == 0)
                return p;
        }
    }
    return 0;
}

/* ACPI 5.2.12: first enabled processor local APIC (type 0, flags bit 0) that is not the BSP; -1 if none. */
static int madt_ap(u32 bsp, u32 *ncpus)
{
    *ncpus = 0;
    const u8 *rsdp = find_rsdp();
    if (!rsdp)
        return -1;
    const u8 *rsdt = (const u8 *)(uintptr_t)*(const u32 *)(rsdp + 16);
    if (!sig_is(rsdt, "RSDT", 4))
        return -1;
    u32 n = (*(const u32 *)(rsdt + 4) - 36) / 4;
    int ap = -1;
    for (u32 i = 0; i < n; i++) {
        const u8 *m = (const u8 *)(uintptr_t)*(const u32 *)(rsdt + 36 + 4 * i);
        if (!sig_is(m, "APIC", 4))
            continue;
        u32 len = *(const u32 *)(m + 4);
        for (u32 off = 44; off + 2 <= len && m[off + 1] >= 2; off += m[off + 1]) {
            if (m[off] == 0 && m[off + 1] >= 8 && (*(const u32 *)(m + off + 4) & 1)) {
                (*ncpus)++;
                if (m[off + 3] != bsp && ap < 0)
                    ap = m[off + 3];
            }
        }
    }
    return ap;
}

static volatile u32 *apic_reg(u64 base, u32 reg) { return (volatile u32 *)(uintptr_t)(base + reg); }

static bool icr_send(u64 apic, u32 hi, u32 lo)
{
    *apic_reg(apic, APIC_ICR_HI) = hi;
    *apic_reg(apic, APIC_ICR_LO) = lo;
    u64 end = rdtsc() + WAIT_LIMIT / 16;
    while (*apic_reg(apic, APIC_ICR_LO) & ICR_BUSY)
        if (rdtsc() > end)
            return false;
    return true;
}

static bool start_ap(u64 apic, int target)
{
    u32 hi = target >= 0 ? (u32)target << 24 : 0, sh = target >= 0 ? 0 : ICR_ALL_BUT_SELF;
    bool ok = icr_send(apic, hi, ICR_INIT | sh);
    delay(INIT_DELAY);
    for (int i = 0; i < 2; i++) {
        ok &= icr_send(apic, hi, ICR_SIPI | sh | (u32)(TRAMP_PAGE >> 12));
        delay(SIPI_DELAY);
    }
    return ok;
}

/* ---- VMCS handling shared by both CPUs ---- */

/* Host state that differs between the CPUs: TR and GDTR (SDM 27.5.2 loads them at VM exit). */
static bool set_host_state(int c)
{
    bool ok = vmwrite(HOST_TR_BASE, c ? phys(&ap_tss) : ghv_tss_base()) == VMX_OK;
    ok &= vmwrite(HOST_GDTR_BASE, c ? phys(ap_gdt) : phys(ghv_gdt)) == VMX_OK;
    /* The same on both CPUs by construction; written anyway, this CPU's own. */
    ok &= vmwrite(HOST_CR0, read_cr0()) == VMX_OK;
    ok &= vmwrite(HOST_CR3, read_cr3()) == VMX_OK;
    ok &= vmwrite(HOST_CR4, read_cr4()) == VMX_OK;
    if (ghv_ctls.exit & EXIT_LOAD_EFER)
        ok &= vmwrite(HOST_EFER, rdmsr(MSR_EFER)) == VMX_OK;
    return ok;
}

static bool setup_vcpu(int c, int v)
{
    struct vcpu *vc = &vcpus[v];
    memset(vc->regs, 0, sizeof vc->regs);
    vc->regs[3] = phys(&vc->counter);       /* RBX */
    vc->launched = false;
    vc->exits = 0;
    vc->bad = 0;
    vc->counter = 0;
    if (!vmcs_setup(vmcs_pages[v], phys(ghv_smp_l2)))
        return false;
    return vmwrite(GUEST_RSP, phys(l2_stacks[v] + sizeof l2_stacks[v])) == VMX_OK && set_host_state(c);
}

/* Runs vCPU v on CPU c for ROUNDS VMCALL exits, lock-stepped with the other
 * CPU: the k-th exit of this phase is step base + k on both CPUs (steps are
 * never reset, so a late reader never sees a step go backwards). */
static bool run_vcpu(int c, int v, u32 base)
{
    struct vcpu *vc = &vcpus[v];
    for (u32 k = base + 1; k <= base + ROUNDS; k++) {
        int r = ghv_vmrun(vc->regs, vc->launched);
        if (r != VMX_OK) {
            cpu_fail(c, vc->launched ? "vmresume failed, error" : "vmlaunch failed, error",
                     r == VMX_FAIL_VALID ? vmread(VM_INSN_ERROR) : 0);
            return false;
        }
        u64 reason = vmread(EXIT_REASON);
        if (reason != XR_VMCALL) {
            cpu_fail(c, "unexpected exit reason", reason);
            return false;
        }
        vc->launched = true;
        vc->exits++;
        u64 rip = vmread(GUEST_RIP);
        if (!vc->bad && (vc->regs[0] != vc->exits || vc->regs[12] != vc->exits || vc->counter != vc->exits ||
                         rip != phys(ghv_smp_l2_vmcall)))
            vc->bad = vc->exits;
        vmwrite(GUEST_RIP, rip + vmread(EXIT_INSN_LEN));
        cpus[c].done = k;
        if (!wait_for(&cpus[!c].done, k)) {
            cpu_fail(c, "lock step: other cpu stuck at exit", cpus[!c].done);
            return false;
        }
    }
    return true;
}

/* ---- the AP ---- */

static void ap_load_own_gdt(void)
{
    memcpy(ap_gdt, ghv_gdt, sizeof ap_gdt);
    memset(&ap_tss, 0, sizeof ap_tss);
    ap_tss.iomap_base = sizeof ap_tss;
    u64 base = phys(&ap_tss), limit = sizeof ap_tss - 1;
    ap_gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((base >> 24) & 0xff) << 56);
    ap_gdt[6] = base >> 32;
    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) gdtr = {sizeof ap_gdt - 1, phys(ap_gdt)};
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "lea 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "mov %2, %%ax\n\t"
                     "mov %%ax, %%ds\n\t"
                     "mov %%ax, %%es\n\t"
                     "mov %%ax, %%ss\n\t"
                     "ltr %w3\n\t"
                     "lidt %4"
                     :
                     : "m"(gdtr), "i"(GHV_KCS), "i"(GHV_KDS), "r"(GHV_TSS), "m"(shared_idtr)
                     : "rax", "memory");
}

void ghv_smp_ap_main(void);
void ghv_smp_ap_main(void)
{
    ap_load_own_gdt();
    cpus[1].stage = AP_C;
    write_cr0(read_cr0() & ~(CR0_CD | CR0_NW));

    /* IA32_FEATURE_CONTROL is per CPU: enable and lock it here too if firmware did not. */
    u64 fc = rdmsr(MSR_FEATURE_CONTROL);
    if (!(fc & 1)) {
        fc |= 5;
        wrmsr(MSR_FEATURE_CONTROL, fc);
    }
    ap_fc = fc;
    ap_basic = rdmsr(MSR_VMX_BASIC);
    if (!(fc & 4) || ap_basic != ghv_caps.basic) {
        cpu_fail(1, "vmx differs from the bsp's: basic", ap_basic);
        goto park;
    }
    vmx_prepare_cr();
    int r = vmxon(vmx_region_init(ap_vmxon_region, vmx_revision()));
    if (r != VMX_OK) {
        cpu_fail(1, "vmxon failed", (u64)r);
        goto park;
    }
    cpus[1].stage = AP_VMXON;

    if (!wait_for(&phase, 1) || !setup_vcpu(1, 1)) {
        cpu_fail(1, "vmcs setup", 0);
        goto park;
    }
    cpus[1].stage = AP_VMCS;
    if (!wait_for(&phase, 2) || !run_vcpu(1, 1, 0))
        goto park;
    cpus[1].stage = AP_RAN;

    /* Migration: hand vCPU 1 back to memory, then take vCPU 0. */
    if (vmclear(phys(vmcs_pages[1])) != VMX_OK) {
        cpu_fail(1, "vmclear vcpu1", 0);
        goto park;
    }
    cpus[1].stage = AP_CLEARED;
    if (!wait_for(&phase, 3))
        goto park;
    if (vmptrld(phys(vmcs_pages[0])) != VMX_OK || !set_host_state(1)) {
        cpu_fail(1, "vmptrld vcpu0", vmread(VM_INSN_ERROR));
        goto park;
    }
    vcpus[0].launched = false;          /* VMCLEAR made its launch state clear: VMLAUNCH */
    if (!run_vcpu(1, 0, ROUNDS))
        goto park;
    cpus[1].stage = AP_MIGRATED;
    if (vmclear(phys(vmcs_pages[0])) != VMX_OK || vmxoff() != VMX_OK) {
        cpu_fail(1, "vmclear/vmxoff", 0);
        goto park;
    }
    cpus[1].stage = AP_OFF;
park:
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- the BSP ---- */

static const char *stage_name(u32 s)
{
    static const char *const names[] = {"none", "c", "vmxon", "vmcs", "ran", "cleared", "migrated", "off"};
    return s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static void report_vcpu(struct faillist *f, const char *what, int v, int from, int to, u32 want)
{
    struct vcpu *vc = &vcpus[v];
    gprintf("ghv: smp %s vcpu=%d cpu%d->cpu%d exits=%u stack=%lu counter=%lu r12=%lu bad=%u\n", what, v, from, to,
            vc->exits, vc->regs[0], (u64)vc->counter, vc->regs[12], vc->bad);
    if (vc->exits != want || vc->regs[0] != want || vc->counter != want || vc->regs[12] != want || vc->bad)
        fail_add(f, what);
}

bool smp_run(void)
{
    struct faillist f;
    memset(&f, 0, sizeof f);
    memset(vcpus, 0, sizeof vcpus);
    memset((void *)cpus, 0, sizeof cpus);
    phase = 0;
    __asm__ volatile("sidt %0" : "=m"(shared_idtr));
    ghv_smp_ap_rsp = phys(ap_stack + sizeof ap_stack);

    u64 apic = rdmsr(MSR_APIC_BASE) & ~0xfffull;
    u32 bsp = *apic_reg(apic, APIC_ID) >> 24, n;
    int ap = madt_ap(bsp, &n);
    gprintf("ghv: smp cpus=%u\n", n);
    if (!vmcs_compute_controls()) {
        fail_add(&f, "controls");
        return fail_report(&f, "smp");
    }

    memcpy((void *)(uintptr_t)TRAMP_PAGE, ghv_smp_tramp_start, (size_t)(ghv_smp_tramp_end - ghv_smp_tramp_start));
    if (!start_ap(apic, ap))
        fail_add(&f, "icr");
    bool ap_up = wait_for(&cpus[1].stage, AP_VMXON);
    gprintf("ghv: smp ap started=%u vmxon=%u\n", cpus[1].stage >= AP_C, ap_up);
    if (!ap_up) {
        gprintf("ghv: smp ap stage=%s\n", stage_name(cpus[1].stage));
        if (cpus[1].err)
            gprintf("ghv: smp cpu1 error: %s 0x%lx\n", cpus[1].err, cpus[1].err_val);
        fail_add(&f, "ap-start");
        return fail_report(&f, "smp");
    }
    gprintf("ghv: smp ap vmx basic same=%u feature_control=0x%lx\n", ap_basic == ghv_caps.basic, (u64)ap_fc);

    /* BSP VMXON (the AP is in VMX operation already). */
    vmx_prepare_cr();
    int r = vmxon(vmx_region_init(ghv_vmxon_region, vmx_revision()));
    if (r != VMX_OK) {
        gprintf("ghv: smp vmxon failed (%s)\n", vmx_result_name(r));
        fail_add(&f, "vmxon");
        return fail_report(&f, "smp");
    }
    ghv_vmx_on = true;
    gprintf("ghv: smp both cpus in vmx operation\n");

    /* One at a time: vmcs_setup() rewrites the bitmaps both VMCSs share. */
    if (!setup_vcpu(0, 0))
        fail_add(&f, "vmcs0");
    phase = 1;
    if (!wait_for(&cpus[1].stage, AP_VMCS))
        fail_add(&f, "vmcs1");

    if (!f.count) {
        phase = 2;
        bool ok0 = run_vcpu(0, 0, 0);
        bool ok1 = wait_for(&cpus[1].stage, AP_RAN);
        gprintf("ghv: smp concurrent cpu0 vcpu0 exits=%u ok=%u, cpu1 vcpu1 exits=%u ok=%u\n", vcpus[0].exits, ok0,
                vcpus[1].exits, ok1);
        report_vcpu(&f, "run", 0, 0, 0, ROUNDS);
        report_vcpu(&f, "run", 1, 1, 1, ROUNDS);

        if (ok0 && ok1) {
            /* Migration: VMCLEAR on the CPU that ran it, VMPTRLD + VMLAUNCH on the other. */
            if (vmclear(phys(vmcs_pages[0])) != VMX_OK)
                fail_add(&f, "vmclear0");
            if (!wait_for(&cpus[1].stage, AP_CLEARED))
                fail_add(&f, "vmclear1");
            phase = 3;
            if (vmptrld(phys(vmcs_pages[1])) != VMX_OK || !set_host_state(0))
                fail_add(&f, "vmptrld1");
            vcpus[1].launched = false;
            bool m0 = run_vcpu(0, 1, ROUNDS);
            bool m1 = wait_for(&cpus[1].stage, AP_MIGRATED);
            gprintf("ghv: smp migrated cpu0 vcpu1 ok=%u, cpu1 vcpu0 ok=%u\n", m0, m1);
            report_vcpu(&f, "migrate", 0, 0, 1, 2 * ROUNDS);
            report_vcpu(&f, "migrate", 1, 1, 0, 2 * ROUNDS);
            if (vmclear(phys(vmcs_pages[1])) != VMX_OK)
                fail_add(&f, "vmclear-end");
        }
    }
    bool off = wait_for(&cpus[1].stage, AP_OFF);
    gprintf("ghv: smp ap vmxoff=%u stage=%s\n", off, stage_name(cpus[1].stage));
    if (!off)
        fail_add(&f, "ap-vmxoff");
    for (int c = 0; c < 2; c++)
        if (cpus[c].err)
            gprintf("ghv: smp cpu%d error: %s 0x%lx\n", c, cpus[c].err, cpus[c].err_val);
    r = vmxoff();
    ghv_vmx_on = r != VMX_OK;
    gprintf("ghv: smp vmxoff %s\n", vmx_result_name(r));
    if (r != VMX_OK)
        fail_add(&f, "vmxoff");
    return fail_report(&f, "smp");
}
