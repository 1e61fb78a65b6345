/* See vmx/pci_filter.h. Register offsets: Intel 82441FX datasheet 3.2 (PAM 59h-5Fh, SMRAM 72h);
 * Intel 3 Series (Q35) MCH datasheet 5.1 (PAM 90h-96h, SMRAM 9Dh, ESMRAMC 9Eh). */
#include "pci_filter.h"
#include "nestor/log.h"

#ifndef NESTOR_HOST_TEST
#include "nestor/arch.h"
#endif

#define ID_I440FX 0x12378086u
#define ID_Q35 0x29c08086u

static const struct {
    enum pci_chipset chipset;
    uint8_t first, last;
    const char *name;
} protected_regs[] = {
    {PCI_CHIPSET_I440FX, 0x59, 0x5f, "PAM"},
    {PCI_CHIPSET_I440FX, 0x72, 0x72, "SMRAM"},
    {PCI_CHIPSET_Q35, 0x90, 0x96, "PAM"},
    {PCI_CHIPSET_Q35, 0x9d, 0x9d, "SMRAM"},
    {PCI_CHIPSET_Q35, 0x9e, 0x9e, "ESMRAMC"},
};

enum pci_chipset pci_chipset_from_id(uint32_t vendor_device)
{
    if (vendor_device == ID_I440FX)
        return PCI_CHIPSET_I440FX;
    if (vendor_device == ID_Q35)
        return PCI_CHIPSET_Q35;
    return PCI_CHIPSET_OTHER;
}

/* The CONFIG_ADDRESS fields (PCI Local Bus 3.0, 3.2.2.3.2): enable 31, bus 23:16, device 15:11, function 10:8. */
static bool is_host_bridge(uint32_t cf8) { return (cf8 & PCI_CF8_ENABLE) && (cf8 & 0x00ffff00u) == 0; }

static const char *protected_name(enum pci_chipset chipset, uint32_t cf8, unsigned byte_offset)
{
    if (!is_host_bridge(cf8))
        return NULL;
    unsigned reg = (cf8 & 0xfc) + byte_offset;
    for (unsigned i = 0; i < ARRAY_SIZE(protected_regs); i++)
        if (protected_regs[i].chipset == chipset && reg >= protected_regs[i].first && reg <= protected_regs[i].last)
            return protected_regs[i].name;
    return NULL;
}

bool pci_config_byte_protected(enum pci_chipset chipset, uint32_t cf8, unsigned byte_offset)
{
    return protected_name(chipset, cf8, byte_offset) != NULL;
}

#ifndef NESTOR_HOST_TEST
static enum pci_chipset chipset;
static uint32_t l1_cf8; /* L1's CONFIG_ADDRESS: the hardware register is set from it before each data access */
static bool initialized;

static uint8_t config_read8(uint32_t cf8, unsigned reg)
{
    outl(PCI_CONFIG_ADDRESS, (cf8 & ~0xffu) | (reg & 0xfc));
    return inb((uint16_t)(PCI_CONFIG_DATA + (reg & 3)));
}

static void config_write8(uint32_t cf8, unsigned reg, uint8_t v)
{
    outl(PCI_CONFIG_ADDRESS, (cf8 & ~0xffu) | (reg & 0xfc));
    outb((uint16_t)(PCI_CONFIG_DATA + (reg & 3)), v);
}

void pci_filter_init(void)
{
    if (initialized)
        return;
    initialized = true;
    const uint32_t bridge = PCI_CF8_ENABLE; /* bus 0, device 0, function 0 */
    outl(PCI_CONFIG_ADDRESS, bridge);
    uint32_t id = inl(PCI_CONFIG_DATA);
    chipset = pci_chipset_from_id(id);
    if (chipset == PCI_CHIPSET_OTHER) {
        log_warn("PCI host bridge %04x:%04x is neither i440FX nor Q35: SMRAM is not locked by Nestor and its "
                 "registers are not filtered (the firmware must have locked SMRAM)", id & 0xffff, id >> 16);
        return;
    }
    unsigned reg = chipset == PCI_CHIPSET_I440FX ? 0x72 : 0x9d;
    uint8_t smram = config_read8(bridge, reg);
    if (smram & SMRAM_D_LCK) {
        log_info("SMRAM: %s host bridge, SMRAM register 0x%x = 0x%x: already locked by the firmware",
                 chipset == PCI_CHIPSET_I440FX ? "i440FX" : "Q35", reg, smram);
        return;
    }
    config_write8(bridge, reg, (uint8_t)((smram & ~SMRAM_D_OPEN) | SMRAM_D_LCK));
    log_info("SMRAM: %s host bridge, SMRAM register 0x%x = 0x%x left unlocked by the firmware: locked (D_LCK), "
             "now 0x%x", chipset == PCI_CHIPSET_I440FX ? "i440FX" : "Q35", reg, smram, config_read8(bridge, reg));
}

uint32_t pci_filter_in(uint16_t port, unsigned size)
{
    /* CONFIG_ADDRESS is a 32-bit register; byte and word accesses to 0xCF8-0xCFB reach other registers. */
    if (port == PCI_CONFIG_ADDRESS && size == 4)
        return l1_cf8;
    if (port >= PCI_CONFIG_DATA)
        outl(PCI_CONFIG_ADDRESS, l1_cf8);
    return port_in(port, size);
}

void pci_filter_out(uint16_t port, unsigned size, uint32_t value)
{
    if (port == PCI_CONFIG_ADDRESS && size == 4) {
        l1_cf8 = value;
        return;
    }
    if (port < PCI_CONFIG_DATA) {
        port_out(port, size, value);
        return;
    }
    outl(PCI_CONFIG_ADDRESS, l1_cf8);
    bool filtered = false;
    for (unsigned i = 0; i < size; i++)
        filtered |= pci_config_byte_protected(chipset, l1_cf8, port - PCI_CONFIG_DATA + i);
    if (!filtered) {
        port_out(port, size, value);
        return;
    }
    /* Byte by byte, leaving out the protected ones (config space honours byte enables). */
    for (unsigned i = 0; i < size; i++) {
        unsigned off = port - PCI_CONFIG_DATA + i;
        const char *name = protected_name(chipset, l1_cf8, off);
        uint8_t b = (uint8_t)(value >> (8 * i));
        if (name) {
            log_info("L1 write of 0x%x to host bridge register 0x%x (%s) dropped: SMRAM and PAM stay as Nestor set "
                     "them", b, (l1_cf8 & 0xfc) + off, name);
            continue;
        }
        outl(PCI_CONFIG_ADDRESS, l1_cf8);
        outb((uint16_t)(PCI_CONFIG_DATA + off), b);
    }
}
#endif
