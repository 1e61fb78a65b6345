/* The I/O APIC as L1 programmed it (drivers/ioapic.c). */
#ifndef NESTOR_IOAPIC_H
#define NESTOR_IOAPIC_H

#include "types.h"

/* The vector a fixed/lowest-priority, unmasked redirection entry gives pin; -1 otherwise. */
int ioapic_pin_vector(unsigned pin);
/* The same, but -1 unless the entry's destination includes the local APIC with these IDs. */
int ioapic_pin_vector_for(unsigned pin, uint32_t apic_id, uint32_t logical_id);

#endif
