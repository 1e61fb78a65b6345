/*
 * ghv: test=latency — the exit latency an L1 hypervisor sees, as a user of the CPU
 * would measure it (a benchmark figure: printed, never checked against a bound).
 *
 * L2 (l2_latency.S) executes RDTSC and, as the next instruction, CPUID, which
 * exits unconditionally (SDM 26.1.2). ghv's VM-exit MSR-store area lists
 * IA32_TSC (MSR 0x10): the exit stores the TSC of the exit there (SDM 28.4,
 * "Saving MSRs"). stored - L2's RDTSC is the latency: on hardware (bare Bochs)
 * the CPU's own, under a nested hypervisor what it stores for the exit it
 * reflects. No TSC offsetting, no TSC scaling (secondary controls stay off)
 * and no RDTSC exiting, so L2's RDTSC and the store count the same TSC.
 *
 * A second figure is what the MSR-store area cannot show: when L1 actually
 * gets control back. The test's HOST_RIP (ghv_lat_exit_stub) reads the TSC as
 * its third instruction; host-rip - L2's RDTSC is the whole exit path to L1
 * (under a nested hypervisor: its handling and its VM entry of L1 included).
 *
 * Output: "ghv: latency n=<dec> min=<dec> median=<dec> max=<dec>" (the
 * MSR-store figure, TSC cycles; median = the upper middle of the sorted
 * values), "ghv: latency host-rip n=.. min=.. median=.. max=..", then the
 * final VMCALL's exit line, "latency exits=<n+1>" and the verdict. The
 * latency figures differ between engines; every other line is deterministic.
 * Checked per try: the exit is CPUID at l2_lat_cpuid with length 2, and
 * L2's RDTSC <= the stored TSC <= the TSC at the host RIP (else "ghv: latency
 * try <i> rdtsc=0x.. stored=0x.. host-rip=0x.." and FAIL).
 */
#include "xtest.h"

#define LAT_TRIES 100
#define MSR_IA32_TSC 0x10
#define PROC_TSC_OFFSET (1u << 3)

struct msr_entry {
    u32 index, reserved;
    u64 value;
};

extern const char l2_lat_entry[], l2_lat_cpuid[], l2_lat_done[], ghv_lat_exit_stub[];
extern volatile u64 ghv_lat_host_tsc;

static u8 vmcs_lat[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static struct msr_entry lat_store[1] __attribute__((aligned(16)));
static u64 lat[LAT_TRIES], lat_host[LAT_TRIES];

/* One CPUID exit, not printed: printing between tries would put serial I/O
 * (L0 work under a nested hypervisor) into the run for nothing. */
static bool one_try(struct xt *t, unsigned i)
{
    struct exit_info e;
    lat_store[0] = (struct msr_entry){MSR_IA32_TSC, 0, 0};
    ghv_lat_host_tsc = 0;
    int r = ghv_vmrun(t->regs, t->launched);
    if (r != VMX_OK) {
        u64 err = r == VMX_FAIL_VALID ? vmread(VM_INSN_ERROR) : 0;
        gprintf("ghv: latency try %u entry failed: %s %s error=%lu\n", i, t->launched ? "vmresume" : "vmlaunch",
                vmx_result_name(r), err);
        fail_add(&t->f, "entry");
        return false;
    }
    exit_read(&e);
    if (e.reason >> 31) {
        gprintf("ghv: latency try %u entry failed: entryfail reason=0x%x qual=0x%lx\n", i, e.reason, e.qual);
        fail_add(&t->f, "entry");
        return false;
    }
    t->launched = true;
    t->n++;
    if (e.basic != XR_CPUID || e.rip != phys(l2_lat_cpuid) || e.len != 2) {
        exit_print(t->n, &e);
        fail_add(&t->f, "cpuid");
        return false;
    }
    /* RDTSC leaves the TSC in EDX:EAX and clears bits 63:32 of both. */
    u64 l2_tsc = (t->regs[2] << 32) | (u32)t->regs[0];
    u64 stored = lat_store[0].value, host = ghv_lat_host_tsc;
    if (stored < l2_tsc || host < stored) {
        gprintf("ghv: latency try %u rdtsc=0x%lx stored=0x%lx host-rip=0x%lx\n", i, l2_tsc, stored, host);
        fail_add(&t->f, "tsc-order");
    }
    lat[i] = stored - l2_tsc;
    lat_host[i] = host - l2_tsc;
    vmwrite(GUEST_RIP, e.rip + e.len);
    return true;
}

/* Sorts v and prints "ghv: latency <what>n=.. min=.. median=.. max=..". */
static void summary(const char *what, u64 *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        u64 x = v[i];
        unsigned j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    gprintf("ghv: latency %sn=%u min=%lu median=%lu max=%lu\n", what, n, v[0], v[n / 2], v[n - 1]);
}

bool latency_run(void)
{
    struct xt t;
    xt_begin(&t, "latency");
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    if ((u32)ghv_caps.proc & PROC_RDTSC_EXIT) {
        gprintf("ghv: latency skipped rdtsc-exiting=0\n");
        return xt_end(&t, 0);
    }
    if ((u32)ghv_caps.proc & PROC_TSC_OFFSET) {
        gprintf("ghv: latency skipped tsc-offsetting=0\n");
        return xt_end(&t, 0);
    }
    if (!xt_vmcs(&t, vmcs_lat, phys(l2_lat_entry)))
        return xt_end(&t, 0);
    vmwrite(PROC_CONTROLS, ghv_ctls.proc & ~(PROC_RDTSC_EXIT | PROC_TSC_OFFSET));
    vmwrite(TSC_OFFSET, 0);
    vmwrite(EXIT_MSR_STORE_ADDR, phys(lat_store));
    vmwrite(EXIT_MSR_STORE_COUNT, 1);
    vmwrite(HOST_RIP, phys(ghv_lat_exit_stub));
    t.regs[12] = LAT_TRIES;

    unsigned n = 0;
    while (n < LAT_TRIES && one_try(&t, n))
        n++;
    if (n == LAT_TRIES) {
        summary("", lat, n);
        summary("host-rip ", lat_host, n);
        vmwrite(EXIT_MSR_STORE_COUNT, 0);
        vmwrite(HOST_RIP, phys(ghv_vmexit_stub));
        struct exit_info e;
        struct xexp w = {XR_VMCALL, 0, phys(l2_lat_done), 3, 0, 0};
        xt_step(&t, "vmcall", &w, &e);
    }
    return xt_end(&t, LAT_TRIES + 1);
}
