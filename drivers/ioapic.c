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

int ioapic_pin_vector(unsigned pin)
{
    volatile uint32_t *sel = phys_to_virt(IOAPIC_BASE + IOREGSEL);
    volatile uint32_t *win = phys_to_virt(IOAPIC_BASE + IOWIN);
    uint32_t saved = *sel;
    *sel = RTE_LOW(pin);
    uint32_t rte = *win;
    *sel = saved;
    if ((rte & RTE_MASKED) || RTE_DELIVERY_MODE(rte) > 1 || (rte & 0xff) < 0x20)
        return -1;
    return (int)(rte & 0xff);
}
