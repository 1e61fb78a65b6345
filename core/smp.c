/*
 * Bringing up the application processors (SDM vol. 3A 8.4.4: INIT-SIPI-SIPI)
 * and holding them. Every CPU the firmware lists is started by Nestor, one
 * at a time, into long mode on its own stack, GDT, TSS and IST stacks; it
 * then waits for orders from the BSP: turn VMX on, run one of L1's CPUs, or
 * park. A parked CPU sits in VMX root with interrupts off, where INIT is
 * blocked and SIPI ignored (SDM 23.8, 8.4.1), so L1 can never start it.
 */
#include "nestor/acpi.h"
#include "nestor/arch.h"
#include "nestor/lapic.h"
#include "nestor/layout.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/percpu.h"
#include "nestor/physmem.h"
#include "nestor/platform.h"
#include "nestor/smp.h"
#include "nestor/vmx.h"

#define AP_START_TIMEOUT_US 200000
#define EFER_LME BIT(8)
#define EFER_NXE BIT(11)
#define PTE_P BIT(0)
#define PTE_W BIT(1)

struct PACKED ap_tramp_params {
    uint32_t cr3;
    uint32_t efer_or;
    uint64_t stack;
    uint64_t percpu;
    uint64_t entry;
};

extern const uint8_t ap_tramp_start[], ap_tramp_end[], ap_tramp_params[];
extern uint64_t boot_pml4[512], boot_pdpt_low[512];
NORETURN void ap_main(struct percpu *p);

/* Page tables for the trampoline's switch to long mode: identity 0-4 GiB plus Nestor's own half. */
static uint64_t tramp_pml4[512] __attribute__((aligned(4096)));

NORETURN void smp_park_this_cpu(void)
{
    struct percpu *p = this_cpu();
    p->state = CPU_PARKED;
    __asm__ volatile("cli");
    for (;;)
        __asm__ volatile("hlt");
}

static void wait_for_order(struct percpu *p, enum cpu_order *out)
{
    while (p->order == ORDER_NONE)
        cpu_relax();
    *out = p->order;
    p->order = ORDER_NONE;
}

NORETURN void ap_main(struct percpu *p)
{
    write_cr3(virt_to_phys(boot_pml4));
    percpu_load(p);
    __atomic_add_fetch(&g_cpus_online, 1, __ATOMIC_SEQ_CST);
    p->state = CPU_ALIVE;
    for (;;) {
        enum cpu_order order;
        wait_for_order(p, &order);
        switch (order) {
        case ORDER_VMX_ON:
            p->state = vmx_cpu_on(false) ? CPU_VMX_ON : CPU_REFUSED;
            break;
        case ORDER_RUN_L1:
            smp_ap_run_l1(p); /* does not return */
            break;
        case ORDER_PARK:
        default:
            smp_park_this_cpu();
        }
    }
}

static bool wait_state(struct percpu *p, enum cpu_state not_this, uint32_t us)
{
    for (uint32_t waited = 0; waited < us; waited += 1000) {
        if (p->state != not_this)
            return true;
        pit_delay_us(1000);
    }
    return p->state != not_this;
}

static bool start_one(struct percpu *p, uint8_t *tramp)
{
    struct ap_tramp_params *prm = (struct ap_tramp_params *)(tramp + (ap_tramp_params - ap_tramp_start));
    prm->cr3 = (uint32_t)virt_to_phys(tramp_pml4);
    prm->efer_or = (uint32_t)(EFER_LME | (rdmsr(MSR_IA32_EFER) & EFER_NXE));
    prm->stack = p->stack_top - 8; /* as if called: the ABI's alignment at function entry */
    prm->percpu = (uint64_t)(uintptr_t)p;
    prm->entry = (uint64_t)(uintptr_t)ap_main;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    /* SDM 8.4.4.1: INIT, 10 ms, SIPI, 200 us, SIPI; a CPU that answered the first SIPI ignores the second. */
    uint8_t vector = AP_TRAMP_PA >> 12;
    if (!lapic_send_ipi(p->apic_id, ICR_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL))
        return false;
    pit_delay_us(200);
    lapic_send_ipi(p->apic_id, ICR_INIT | ICR_TRIGGER_LEVEL); /* de-assert, for older APICs */
    pit_delay_us(10000);
    for (int sipi = 0; sipi < 2 && p->state == CPU_OFFLINE; sipi++) {
        if (!lapic_send_ipi(p->apic_id, ICR_STARTUP | vector))
            return false;
        pit_delay_us(200);
    }
    return wait_state(p, CPU_OFFLINE, AP_START_TIMEOUT_US);
}

unsigned smp_start_aps(const struct platform_info *pi)
{
    struct percpu *bsp = percpu_bsp();
    g_cpus[0] = bsp;
    g_cpu_count = 1;
    g_cpus_online = 1;
    if (!lapic_init_cpu())
        return 0;
    bsp->apic_id = lapic_id();
    if (lapic_x2apic()) {
        /* L1 is offered an xAPIC only (CPUID hides x2APIC): it could not drive an APIC left in x2APIC mode. */
        log_always("the firmware handed over with the local APIC in x2APIC mode; Nestor offers L1 an xAPIC only: "
                   "disable x2APIC in the firmware setup");
        platform_exit(STATUS_BAD_BOOT);
    }

    for (unsigned i = 0; i < 512; i++)
        tramp_pml4[i] = boot_pml4[i];
    tramp_pml4[0] = virt_to_phys(boot_pdpt_low) | PTE_P | PTE_W;

    /* The trampoline page is L1's low memory: keep what the firmware left there. */
    uint8_t *tramp = phys_to_virt(AP_TRAMP_PA);
    static uint8_t saved[PAGE_SIZE];
    size_t len = (size_t)(ap_tramp_end - ap_tramp_start);
    memcpy(saved, tramp, PAGE_SIZE);
    memcpy(tramp, ap_tramp_start, len);

    unsigned started = 0;
    for (unsigned i = 0; i < pi->cpu_count; i++) {
        const struct platform_cpu *c = &pi->cpus[i];
        if (c->apic_id == bsp->apic_id)
            continue;
        if (!c->enabled) {
            log_debug("CPU with APIC ID %u is disabled in the %s: not started", c->apic_id, pi->source);
            continue;
        }
        if (g_cpu_count == MAX_CPUS) {
            log_warn("more than %u CPUs: APIC ID %u and later are left idle", MAX_CPUS, c->apic_id);
            break;
        }
        if (c->apic_id > 0xfe && !lapic_x2apic()) {
            log_warn("CPU with APIC ID %u needs x2APIC, which the firmware left off: not started", c->apic_id);
            continue;
        }
        struct percpu *p = percpu_alloc(g_cpu_count, c->apic_id);
        if (!p) {
            log_warn("no memory for CPU %u (APIC ID %u): not started", g_cpu_count, c->apic_id);
            break;
        }
        g_cpus[g_cpu_count++] = p;
        if (start_one(p, tramp)) {
            started++;
            log_info("CPU %u (APIC ID %u) started: long mode, own stack, GDT, TSS", p->index, p->apic_id);
        } else {
            log_warn("CPU %u (APIC ID %u) did not answer INIT-SIPI-SIPI: left out of L1", p->index, p->apic_id);
        }
    }
    memcpy(tramp, saved, PAGE_SIZE);
    return started;
}

void smp_order(struct percpu *p, enum cpu_order order)
{
    p->order = order;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool smp_wait_state(struct percpu *p, enum cpu_state not_this, uint64_t spins)
{
    for (uint64_t i = 0; i < spins; i++) {
        if (p->state != not_this)
            return true;
        cpu_relax();
    }
    return p->state != not_this;
}
