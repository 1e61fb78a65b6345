/*
 * Reading the I/O APIC L1 programs (passed through at 0xfec00000, 82093AA
 * data sheet): which vector a legacy IRQ pin delivers, so an interrupt of a
 * device Nestor emulates can be given to L1 as that vector. IOREGSEL is
 * saved and restored: L1 is not running while Nestor looks, and finds its
 * selection untouched.
 */
#include "nestor/ioapic.h"
#include "nestor/physmem.h"

#define IOAPIC_BASE 0xfec00000ull
#define IOREGSEL 0x00
#define IOWIN 0x10
#define RTE_LOW(pin) (0x10 + 2 * (pin))
#define RTE_MASKED (1u << 16)
#define RTE_DELIVERY_MODE(r) (((r) >> 8) & 7) /* 0 fixed, 1 lowest priority */
#define RTE_DEST_LOGICAL (1u << 11)

static uint64_t read_rte(unsigned pin)
{
    volatile uint32_t *sel = phys_to_virt(IOAPIC_BASE + IOREGSEL);
    volatile uint32_t *win = phys_to_virt(IOAPIC_BASE + IOWIN);
    uint32_t saved = *sel;
    *sel = RTE_LOW(pin);
    uint32_t lo = *win;
    *sel = RTE_LOW(pin) + 1;
    uint32_t hi = *win;
    *sel = saved;
    return ((uint64_t)hi << 32) | lo;
}

int ioapic_pin_vector(unsigned pin)
{
    uint32_t rte = (uint32_t)read_rte(pin);
    if ((rte & RTE_MASKED) || RTE_DELIVERY_MODE(rte) > 1 || (rte & 0xff) < 0x20)
        return -1;
    return (int)(rte & 0xff);
}

/*
 * Vectors are per CPU in an OS such as Linux: an emulated device's interrupt
 * must reach the CPU the redirection entry names (82093AA 3.2.4): physical
 * destination mode names an APIC ID, logical mode a set of logical IDs (flat
 * model: a bit mask against each local APIC's LDR).
 */
int ioapic_pin_vector_for(unsigned pin, uint32_t apic_id, uint32_t logical_id)
{
    uint64_t rte = read_rte(pin);
    uint32_t lo = (uint32_t)rte;
    if ((lo & RTE_MASKED) || RTE_DELIVERY_MODE(lo) > 1 || (lo & 0xff) < 0x20)
        return -1;
    uint32_t dest = (uint32_t)(rte >> 56);
    bool logical = lo & RTE_DEST_LOGICAL;
    bool mine = logical ? (dest & logical_id) != 0 : dest == apic_id;
    return mine ? (int)(lo & 0xff) : -1;
}
