/* The I/O APIC as L1 programmed it (drivers/ioapic.c). */
#ifndef NESTOR_IOAPIC_H
#define NESTOR_IOAPIC_H

/* The vector a fixed/lowest-priority, unmasked redirection entry gives pin; -1 otherwise. */
int ioapic_pin_vector(unsigned pin);

#endif
