/*
 * Nestor's use of the local APIC (SDM vol. 3A 10.6): sending INIT and SIPI to
 * start its APs, INIT to stop them at the end of a run. xAPIC (MMIO) or x2APIC
 * (MSRs) as the firmware left it; L1 owns the APIC otherwise.
 */
#ifndef NESTOR_LAPIC_H
#define NESTOR_LAPIC_H

#include "types.h"

/* ICR delivery modes and flags (SDM 10.6.1, Figure 10-12). */
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_ALL_BUT_SELF (3u << 18)

/* Reads this CPU's IA32_APIC_BASE. False (with the reason logged) if Nestor cannot use this APIC. */
bool lapic_init_cpu(void);
uint32_t lapic_id(void);
/* The logical destination this CPU's OS gave its local APIC (xAPIC LDR bits 31:24; x2APIC LDR). */
uint32_t lapic_logical_id(void);
bool lapic_x2apic(void);
/* Sends an IPI and waits (bounded) for the xAPIC to accept it; false if it never did. */
bool lapic_send_ipi(uint32_t dest_apic_id, uint32_t icr_low);

/* drivers/pit.c: a busy wait on PIT channel 2 (1.193182 MHz), usable before L1 owns the PIT. */
void pit_delay_us(uint32_t us);

#endif
