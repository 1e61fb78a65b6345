/*
 * Nestor's final page tables. The 32-bit entry mapped 0-4 GiB twice (identity
 * and direct map) with 2 MiB pages; here the direct map is extended to the
 * top of the memory map, over as many PML4 slots as it needs
 * (include/nestor/direct_map.h), and the identity map is dropped, so a stray
 * low pointer (NULL included) faults instead of reading physical memory.
 */
#include "nestor/arch.h"
#include "nestor/bootinfo.h"
#include "nestor/direct_map.h"
#include "nestor/layout.h"
#include "nestor/log.h"
#include "nestor/palloc.h"
#include "nestor/panic.h"
#include "nestor/physmem.h"
#include "nestor/startup.h"

#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_PS BIT(7)
#define PTE_NX BIT(63)

extern uint64_t boot_pml4[512], boot_pdpt_low[512];

/* The PDPT of direct-map slot `slot` (slot 0's is set up by paging_init), allocated on first use. */
static uint64_t *slot_pdpt(unsigned slot, uint64_t *pdpts[DIRECT_MAP_SLOTS])
{
    if (!pdpts[slot]) {
        paddr_t pa = page_alloc_zeroed(); /* first fit: low memory, mapped already */
        pdpts[slot] = phys_to_virt(pa);
        boot_pml4[DIRECT_MAP_FIRST_SLOT + slot] = pa | PTE_P | PTE_W;
    }
    return pdpts[slot];
}

void paging_init(const struct boot_info *bi)
{
    uint64_t top = direct_map_top(bi->mmap, bi->mmap_count);
    /* What the map cannot reach must not be allocated either (core/main.c gave all usable RAM). */
    if (top == DIRECT_MAP_MAX && palloc_reserve(&g_palloc, DIRECT_MAP_MAX, UINT64_MAX - PAGE_SIZE + 1))
        log_warn("memory above %lu GiB is ignored: Nestor's direct map ends there", DIRECT_MAP_MAX / GiB);
    bool nx = cpuid(0x80000000, 0).eax >= 0x80000001 && (cpuid(0x80000001, 0).edx & BIT(20));
    bool gb_pages = cpuid(0x80000001, 0).edx & BIT(26);
    uint64_t nx_bit = nx ? PTE_NX : 0;

    /* Boot's PML4[0] and PML4[256] share boot_pdpt_low: a new PDPT keeps the direct map only. */
    static uint64_t *pdpts[DIRECT_MAP_SLOTS];
    paddr_t first = page_alloc_zeroed();
    pdpts[0] = phys_to_virt(first);
    for (unsigned i = 0; i < 512; i++)
        pdpts[0][i] = boot_pdpt_low[i];

    /* Above 4 GiB: new PDPT entries (and PML4 slots past 512 GiB), 1 GiB pages where the CPU has them. */
    for (uint64_t gb = 4; gb * GiB < top; gb++) {
        uint64_t *pdpt = slot_pdpt((unsigned)(gb / 512), pdpts);
        if (gb_pages) {
            pdpt[gb % 512] = (gb * GiB) | PTE_P | PTE_W | PTE_PS | nx_bit;
            continue;
        }
        paddr_t pd = page_alloc_zeroed();
        uint64_t *pde = phys_to_virt(pd);
        for (unsigned i = 0; i < 512; i++)
            pde[i] = (gb * GiB + i * 2 * MiB) | PTE_P | PTE_W | PTE_PS | nx_bit;
        pdpt[gb % 512] = pd | PTE_P | PTE_W;
    }
    boot_pml4[DIRECT_MAP_FIRST_SLOT] = first | PTE_P | PTE_W;
    boot_pml4[0] = 0;
    write_cr3(read_cr3());
    log_debug("direct map: 0-0x%lx at 0x%lx in %u PML4 slots (%s pages above 4 GiB), identity map removed", top,
              (uint64_t)PHYS_MAP_BASE, direct_map_slots(top), gb_pages ? "1 GiB" : "2 MiB");
}
