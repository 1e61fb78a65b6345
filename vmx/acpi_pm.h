/*
 * Where L1 powers the machine off: the PM1a/PM1b control ports of the ACPI
 * FADT (ACPI 6.4, 5.2.5 RSDP, 5.2.7 RSDT, 5.2.8 XSDT, 5.2.9 FADT). The parser is
 * pure: it reads physical memory through the callback (unit-tested on a fake).
 */
#ifndef NESTOR_ACPI_PM_H
#define NESTOR_ACPI_PM_H

#include "nestor/types.h"

/* len bytes of physical memory at pa, or NULL when they cannot be read. */
typedef const uint8_t *(*acpi_phys_read_fn)(uint64_t pa, size_t len, void *ctx);

struct acpi_pm_ports {
    uint16_t pm1a_cnt, pm1b_cnt; /* 0: none */
};

/* Finds the RSDP in the BIOS area (0xE0000-0xFFFFF) and the FADT it leads to. False if any is missing. */
bool acpi_find_pm_ports(acpi_phys_read_fn read, void *ctx, struct acpi_pm_ports *out);

#endif
