/* L1's guest-physical layout and memory map, planned from the host's (see include/nestor/l1.h). */
#include "nestor/fmt.h"
#include "nestor/l1.h"
#include "nestor/lib.h"

#define LOW_RAM_END 0xA0000ull
#define ROM_START 0xC0000ull
#define MMIO_IOAPIC 0xFEC00000ull
#define MMIO_HPET 0xFED00000ull
#define MMIO_LAPIC 0xFEE00000ull
#define PCI_HOLE 0xC0000000ull

static bool add_region(struct l1_memplan *p, gpa_t gpa, uint64_t size, uint64_t perms, unsigned memtype,
                       const char *what)
{
    if (p->region_count == L1_MAX_REGIONS)
        return false;
    p->regions[p->region_count++] = (struct l1_region){gpa, size, perms, memtype, what};
    return true;
}

static bool add_map(struct l1_memplan *p, uint64_t base, uint64_t len, uint32_t type)
{
    if (!len)
        return true;
    if (p->map_count == BOOT_MAX_MMAP)
        return false;
    p->map[p->map_count++] = (struct mmap_entry){base, len, type};
    return true;
}

static bool overlaps_usable(const struct boot_info *bi, uint64_t base, uint64_t end)
{
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct mmap_entry *m = &bi->mmap[i];
        if (m->type == MMAP_USABLE && m->base < end && base < m->base + m->len)
            return true;
    }
    return false;
}

static void sort_map(struct l1_memplan *p)
{
    for (unsigned i = 1; i < p->map_count; i++)
        for (unsigned j = i; j > 0 && p->map[j - 1].base > p->map[j].base; j--) {
            struct mmap_entry t = p->map[j];
            p->map[j] = p->map[j - 1];
            p->map[j - 1] = t;
        }
}

bool l1_plan_memory(const struct boot_info *bi, uint64_t ram_bytes, struct l1_memplan *p)
{
    memset(p, 0, sizeof *p);
    ram_bytes = ALIGN_DOWN(ram_bytes, PAGE_SIZE);

    /* RAM must end below the firmware's ACPI tables and the PCI hole. */
    uint64_t limit = PCI_HOLE;
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct mmap_entry *m = &bi->mmap[i];
        if ((m->type == MMAP_ACPI_RECLAIMABLE || m->type == MMAP_ACPI_NVS) && m->base >= L1_RAM_BASE)
            limit = MIN(limit, ALIGN_DOWN(m->base, PAGE_SIZE));
    }
    if (ram_bytes > limit - L1_RAM_BASE)
        ram_bytes = limit - L1_RAM_BASE;
    if (ram_bytes < MiB) {
        fmt_snprintf(p->error, sizeof p->error, "L1 would get only 0x%lx bytes of RAM (need at least 1 MiB)", ram_bytes);
        return false;
    }
    p->ram_bytes = ram_bytes;
    p->ram_end = L1_RAM_BASE + ram_bytes;

    /* The first MiB as the host firmware described it. */
    uint64_t low_usable = 0;
    bool ok = true;
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct mmap_entry *m = &bi->mmap[i];
        if (m->base >= L1_RAM_BASE)
            continue;
        uint64_t end = MIN(m->base + m->len, L1_RAM_BASE);
        uint32_t type = m->type;
        if (type == MMAP_USABLE && end > LOW_RAM_END)
            end = LOW_RAM_END;
        if (end <= m->base)
            continue;
        ok = ok && add_map(p, m->base, end - m->base, type);
        if (type == MMAP_USABLE && m->base == 0)
            low_usable = end;
    }
    p->mem_lower_kb = (uint32_t)(low_usable / KiB);
    ok = ok && add_map(p, L1_RAM_BASE, ram_bytes, MMAP_USABLE);

    ok = ok && add_region(p, 0, LOW_RAM_END, EPT_RWX, MEMTYPE_WB, "low memory");
    ok = ok && add_region(p, LOW_RAM_END, ROM_START - LOW_RAM_END, EPT_R | EPT_W, MEMTYPE_UC, "VGA");
    ok = ok && add_region(p, ROM_START, L1_RAM_BASE - ROM_START, EPT_R | EPT_X, MEMTYPE_WB, "BIOS ROM");

    /* ACPI tables where the firmware left them, and the firmware's reserved ranges in the MMIO hole. */
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct mmap_entry *m = &bi->mmap[i];
        if (m->base < p->ram_end || m->base >= 4 * GiB)
            continue;
        if (m->type == MMAP_ACPI_RECLAIMABLE || m->type == MMAP_ACPI_NVS) {
            uint64_t base = ALIGN_DOWN(m->base, PAGE_SIZE), end = ALIGN_UP(m->base + m->len, PAGE_SIZE);
            if (overlaps_usable(bi, base, end)) { /* never widen into RAM Nestor may own */
                base = ALIGN_UP(m->base, PAGE_SIZE);
                end = ALIGN_DOWN(m->base + m->len, PAGE_SIZE);
            }
            if (end > base)
                ok = ok && add_region(p, base, end - base, EPT_R | EPT_W, MEMTYPE_WB, "ACPI");
            ok = ok && add_map(p, m->base, m->len, m->type);
        } else if (m->type == MMAP_RESERVED && m->base >= PCI_HOLE) {
            ok = ok && add_map(p, m->base, MIN(m->len, 4 * GiB - m->base), m->type);
        }
    }
    ok = ok && add_region(p, MMIO_IOAPIC, PAGE_SIZE, EPT_R | EPT_W, MEMTYPE_UC, "I/O APIC");
    ok = ok && add_region(p, MMIO_HPET, PAGE_SIZE, EPT_R | EPT_W, MEMTYPE_UC, "HPET");
    ok = ok && add_region(p, MMIO_LAPIC, PAGE_SIZE, EPT_R | EPT_W, MEMTYPE_UC, "local APIC");
    if (!ok) {
        fmt_snprintf(p->error, sizeof p->error, "host memory map too fragmented to describe L1's memory");
        return false;
    }
    sort_map(p);
    return true;
}
