/*
 * Host-physical <-> Nestor-virtual. In Nestor every physical address is reached
 * through the direct map; unit tests supply their own mapping onto a fake
 * memory arena, so the same EPT and loader code runs in both.
 */
#ifndef NESTOR_PHYSMEM_H
#define NESTOR_PHYSMEM_H

#include "layout.h"
#include "types.h"

#ifdef NESTOR_HOST_TEST
void *phys_to_virt(paddr_t pa);
paddr_t virt_to_phys(const void *va);
#else
static inline void *phys_to_virt(paddr_t pa) { return (void *)(uintptr_t)(pa + PHYS_MAP_BASE); }
static inline paddr_t virt_to_phys(const void *va)
{
    uintptr_t v = (uintptr_t)va;
    return v >= KERNEL_VMA ? v - KERNEL_VMA : v - PHYS_MAP_BASE;
}
#endif

#endif
