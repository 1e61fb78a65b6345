/* The machine's CPUs as the firmware describes them (core/topology.c). */
#ifndef NESTOR_TOPOLOGY_H
#define NESTOR_TOPOLOGY_H

#include "acpi.h"
#include "bootinfo.h"

/*
 * Fills pi from the ACPI MADT or the MP table and logs what it found; false: only the boot CPU is known.
 * An RSDP found by the BIOS-area search is kept in bi (for L1's hand-off); the PCIe ECAM is kept out of EPT01.
 */
bool topology_discover(struct boot_info *bi, struct platform_info *pi);
/* The FADT's PM1a/PM1b control ports topology_discover found; false: none (no RSDP or no usable FADT). */
bool topology_pm1_ports(struct acpi_pm1 *out);
/* Marks every CPU whose APIC ID is not in keep[] disabled in the MADT and MP table L1 will read. */
void topology_hide_cpus(const struct boot_info *bi, const struct platform_info *pi, const uint32_t *keep,
                        unsigned nkeep);

#endif
