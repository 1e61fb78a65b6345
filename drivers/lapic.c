/*
 * The local APIC as Nestor uses it: only to send INIT/SIPI (SDM vol. 3A
 * 10.6.1, 10.12.9). The xAPIC registers are reached through the direct map
 * (the MTRRs make the APIC page uncacheable on a PC); x2APIC through MSRs.
 */
#include "nestor/arch.h"
#include "nestor/lapic.h"
#include "nestor/log.h"
#include "nestor/physmem.h"

#define XAPIC_ID 0x20
#define XAPIC_LDR 0xd0
#define XAPIC_ICR_LOW 0x300
#define XAPIC_ICR_HIGH 0x310
#define X2APIC_MSR_ID 0x802
#define X2APIC_MSR_LDR 0x80d
#define X2APIC_MSR_ICR 0x830
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull

static bool x2apic;
static paddr_t xapic_base = 0xfee00000;

static volatile uint32_t *reg(unsigned off) { return (volatile uint32_t *)((uint8_t *)phys_to_virt(xapic_base) + off); }

bool lapic_init_cpu(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE)) {
        log_error("local APIC globally disabled by firmware (IA32_APIC_BASE = 0x%lx): Nestor cannot start the "
                  "other CPUs", base);
        return false;
    }
    x2apic = base & APIC_BASE_X2APIC;
    xapic_base = base & APIC_BASE_ADDR_MASK;
    return true;
}

bool lapic_x2apic(void) { return x2apic; }

uint32_t lapic_logical_id(void) { return x2apic ? (uint32_t)rdmsr(X2APIC_MSR_LDR) : *reg(XAPIC_LDR) >> 24; }

uint32_t lapic_id(void) { return x2apic ? (uint32_t)rdmsr(X2APIC_MSR_ID) : *reg(XAPIC_ID) >> 24; }

bool lapic_send_ipi(uint32_t dest, uint32_t icr_low)
{
    if (x2apic) {
        /* x2APIC ICR writes are not "pending" (SDM 10.12.9): no delivery status to poll. */
        wrmsr(X2APIC_MSR_ICR, ((uint64_t)dest << 32) | icr_low);
        return true;
    }
    *reg(XAPIC_ICR_HIGH) = dest << 24;
    *reg(XAPIC_ICR_LOW) = icr_low;
    for (unsigned i = 0; i < 1000000; i++) {
        if (!(*reg(XAPIC_ICR_LOW) & ICR_DELIVERY_PENDING))
            return true;
        cpu_relax();
    }
    return false;
}
