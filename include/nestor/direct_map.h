/*
 * How far Nestor's direct map of physical memory reaches (core/direct_map.c,
 * pure). It starts at PML4 slot 256 (PHYS_MAP_BASE) and may use every slot up
 * to 510 (511 holds the image): 255 x 512 GiB. Memory above what it maps is
 * taken out of the allocator, so Nestor never hands out a page it cannot touch.
 */
#ifndef NESTOR_DIRECT_MAP_H
#define NESTOR_DIRECT_MAP_H

#include "bootinfo.h"
#include "types.h"

#define DIRECT_MAP_FIRST_SLOT 256u
#define DIRECT_MAP_SLOTS 255u
#define DIRECT_MAP_SLOT_SIZE (512 * GiB)
#define DIRECT_MAP_MAX ((uint64_t)DIRECT_MAP_SLOTS * DIRECT_MAP_SLOT_SIZE)

/* The end of RAM and ACPI memory in the map (at least 4 GiB, which boot maps anyway), capped at DIRECT_MAP_MAX. */
uint64_t direct_map_top(const struct mmap_entry *mmap, unsigned count);
/* PML4 slots the direct map needs to reach top. */
unsigned direct_map_slots(uint64_t top);

#endif
