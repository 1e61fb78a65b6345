/*
 * L1's PCI configuration accesses (mechanism #1, ports 0xCF8-0xCFF) pass
 * through, except writes to the host bridge registers that map SMRAM and the
 * legacy BIOS area: with them L1 could open SMRAM (D_OPEN), write an SMI
 * handler and run code outside VMX. Those writes are dropped; at start-up
 * Nestor locks SMRAM (D_LCK) when the firmware left it open.
 */
#ifndef NESTOR_PCI_FILTER_H
#define NESTOR_PCI_FILTER_H

#include "nestor/types.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_CF8_ENABLE BIT(31)

enum pci_chipset { PCI_CHIPSET_OTHER, PCI_CHIPSET_I440FX, PCI_CHIPSET_Q35 };

/* Host bridge (bus 0, device 0, function 0) SMRAM control register bits (i440FX 0x72, Q35 0x9D). */
#define SMRAM_G_SMRAME BIT(3)
#define SMRAM_D_LCK BIT(4)
#define SMRAM_D_CLS BIT(5)
#define SMRAM_D_OPEN BIT(6)

/* Pure: whether L1 may not write this config-space byte. cf8 is the CONFIG_ADDRESS value. */
bool pci_config_byte_protected(enum pci_chipset chipset, uint32_t cf8, unsigned byte_offset);
/* Pure: the vendor:device ID read at 0:0.0 to the chipset. */
enum pci_chipset pci_chipset_from_id(uint32_t vendor_device);

/* Reads the host bridge's ID and locks SMRAM where the chipset allows it. Once per boot. */
void pci_filter_init(void);
/* L1's access to one piece of 0xCF8-0xCFF (port, 1-4 bytes). */
uint32_t pci_filter_in(uint16_t port, unsigned size);
void pci_filter_out(uint16_t port, unsigned size, uint32_t value);

#endif
