/* See include/nestor/direct_map.h. */
#include "nestor/direct_map.h"

uint64_t direct_map_top(const struct mmap_entry *mmap, unsigned count)
{
    /* RAM and ACPI memory: what Nestor may touch above 4 GiB (reserved ranges such as an
     * AMD HyperTransport hole at 1 TiB are never accessed). */
    uint64_t top = 4 * GiB;
    for (unsigned i = 0; i < count; i++) {
        uint32_t t = mmap[i].type;
        if (t != MMAP_USABLE && t != MMAP_ACPI_RECLAIMABLE && t != MMAP_ACPI_NVS)
            continue;
        uint64_t end = mmap[i].len > UINT64_MAX - mmap[i].base ? UINT64_MAX : mmap[i].base + mmap[i].len;
        top = MAX(top, end);
    }
    return top > DIRECT_MAP_MAX ? DIRECT_MAP_MAX : top;
}

unsigned direct_map_slots(uint64_t top)
{
    return (unsigned)((top + DIRECT_MAP_SLOT_SIZE - 1) / DIRECT_MAP_SLOT_SIZE);
}
