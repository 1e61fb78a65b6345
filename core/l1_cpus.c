/*
 * L1's CPUs: one vCPU pinned to each physical CPU L1 gets, built on that CPU
 * (its VMCS01, vmcs02 and caches are its own), and the end of the run, which
 * any CPU may start and which happens once.
 */
#include "nestor/arch.h"
#include "nestor/gdb_stub.h"
#include "nestor/lapic.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/palloc.h"
#include "nestor/percpu.h"
#include "nestor/physmem.h"
#include "nestor/platform.h"
#include "nestor/smp.h"
#include "nestor/spinlock.h"
#include "nestor/startup.h"
#include "nestor/vcpu.h"
#include "../vmx/exit_handlers.h"

#define STOP_WAIT_SPINS 20000000ull
#define SETUP_WAIT_SPINS 2000000000ull

volatile uint32_t g_run_ending;

static struct l1_vm *g_vm;
static struct l1_cpu_options g_opt;
static uint64_t g_checksum;
static unsigned g_l1_cpus = 1;
/* vCPU construction writes shared VMCS setup state (vmx/vmcs01.c) and L1's devices: one CPU at a time. */
static struct spinlock setup_lock;

static struct vcpu *vcpu_create(unsigned l1_index, bool ap)
{
    uint64_t pages = ALIGN_UP(sizeof(struct vcpu), PAGE_SIZE) / PAGE_SIZE;
    paddr_t pa = palloc_locked_alloc(pages);
    if (!pa)
        return NULL;
    struct vcpu *v = phys_to_virt(pa);
    memset(v, 0, pages * PAGE_SIZE);
    v->l1_index = l1_index;
    spin_lock(&setup_lock);
    vcpu_io_init(v);
    bool ok = vmcs01_setup(v, g_vm, ap);
    if (ok)
        nested_init(v, g_opt.nested, g_opt.vmcs_shadowing, g_opt.nested_ept);
    v->nested.prefetch = g_opt.ept02_prefetch;
    spin_unlock(&setup_lock);
    return ok ? v : NULL;
}

NORETURN void smp_ap_run_l1(struct percpu *p)
{
    struct vcpu *v = vcpu_create(p->l1_index, true);
    if (!v) {
        log_always("CPU %u: could not build its vCPU; held by Nestor, not given to L1", p->index);
        smp_park_this_cpu();
    }
    p->vcpu = v;
    p->state = CPU_RUNNING_L1;
    run_end(vcpu_run(v));
}

unsigned l1_cpus_start(struct l1_vm *vm, const struct l1_cpu_options *opt, unsigned max_cpus)
{
    g_vm = vm;
    g_opt = *opt;
    unsigned n = 1; /* the BSP is L1's CPU 0 */
    for (unsigned i = 1; i < g_cpu_count; i++) {
        struct percpu *p = g_cpus[i];
        if (p->state == CPU_VMX_ON && n < max_cpus) {
            p->l1_index = n;
            smp_order(p, ORDER_RUN_L1);
            smp_wait_state(p, CPU_VMX_ON, SETUP_WAIT_SPINS);
            if (p->state == CPU_RUNNING_L1)
                n++;
        } else if (p->state == CPU_VMX_ON) {
            smp_order(p, ORDER_PARK);
            smp_wait_state(p, CPU_VMX_ON, SETUP_WAIT_SPINS);
            log_info("CPU %u (APIC ID %u) held by Nestor (cpus=%u): parked in VMX root, hidden from L1", p->index,
                     p->apic_id, max_cpus);
        } else if (p->state == CPU_REFUSED) {
            /* Without VMX it cannot be held in VMX root; it stays in Nestor's wait loop, hidden from L1. */
            log_warn("CPU %u (APIC ID %u) has no usable VMX: hidden from L1", p->index, p->apic_id);
        }
    }
    g_l1_cpus = n;
    return n;
}

unsigned l1_cpu_count(void) { return g_l1_cpus; }

static int cpu_tag(void) { return g_cpus_online > 1 ? (int)this_cpu()->index : -1; }

void l1_cpus_init_logging(void) { log_set_cpu_tag(cpu_tag); }

NORETURN void l1_cpus_run_bsp(uint64_t checksum)
{
    g_checksum = checksum;
    struct percpu *me = this_cpu();
    struct vcpu *v = vcpu_create(0, false);
    if (!v) {
        log_always("could not build L1's boot vCPU");
        run_end(STATUS_NESTOR_PANIC);
    }
    me->vcpu = v;
    me->state = CPU_RUNNING_L1;
    gdb_stub_attach(v); /* gdb=com2: the debugger first */
    run_end(vcpu_run(v));
}

/*
 * INIT makes a CPU in VMX non-root exit (SDM 25.2); one that waits for SIPI
 * exits on a SIPI instead (Bochs does not process INIT in that state at all).
 * Either way the exit path sees g_run_ending and parks. In VMX root both are
 * blocked or ignored, so neither disturbs a CPU that already parked.
 */
static void stop_other_cpus(struct percpu *me)
{
    for (unsigned i = 0; i < g_cpu_count; i++) {
        struct percpu *p = g_cpus[i];
        if (p != me && p->state == CPU_RUNNING_L1) {
            lapic_send_ipi(p->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
            lapic_send_ipi(p->apic_id, ICR_STARTUP);
        }
    }
    for (unsigned i = 0; i < g_cpu_count; i++) {
        struct percpu *p = g_cpus[i];
        if (p != me && p->state == CPU_RUNNING_L1 && !smp_wait_state(p, CPU_RUNNING_L1, STOP_WAIT_SPINS))
            log_warn("CPU %u did not stop within the wait; its statistics may be incomplete", p->index);
    }
}

NORETURN void run_end(uint32_t status)
{
    if (__atomic_exchange_n(&g_run_ending, 1, __ATOMIC_SEQ_CST))
        smp_park_this_cpu(); /* another CPU is ending the run */
    struct percpu *me = this_cpu();
    if (g_cpus_online > 1)
        stop_other_cpus(me);
    uint64_t total = 0;
    for (unsigned i = 0; i < g_cpu_count; i++) {
        struct vcpu *v = g_cpus[i]->vcpu;
        if (!v)
            continue;
        if (g_l1_cpus > 1)
            log_always("L1 CPU %u (physical CPU %u):", v->l1_index, i);
        exit_stats_print(v);
        total += v->exit_total;
    }
    if (g_l1_cpus > 1)
        log_always("exit statistics, all %u CPUs of L1: %lu L1 exits handled by L0", g_l1_cpus, total);
    uint64_t now = image_checksum();
    if (now == g_checksum)
        log_always("image checksum ok (0x%016lx): Nestor's code and data unchanged", now);
    else
        log_always("image checksum MISMATCH: 0x%016lx at boot, 0x%016lx now", g_checksum, now);
    platform_exit(now == g_checksum ? status : STATUS_NESTOR_PANIC);
}
