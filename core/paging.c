/*
 * Nestor's final page tables. The 32-bit entry mapped 0-4 GiB twice (identity
 * and direct map) with 2 MiB pages; here the direct map is extended to the
 * top of the memory map and the identity map is dropped, so a stray low
 * pointer (NULL included) faults instead of reading physical memory.
 */
#include "nestor/arch.h"
#include "nestor/bootinfo.h"
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
#define DIRECT_MAP_MAX (512 * GiB) /* one PML4 slot */

extern uint64_t boot_pml4[512], boot_pdpt_low[512];

void paging_init(const struct boot_info *bi)
{
    /* RAM and ACPI memory: what Nestor may touch above 4 GiB (reserved ranges such as an
     * AMD HyperTransport hole at 1 TiB are never accessed). */
    uint64_t top = 4 * GiB;
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        uint32_t t = bi->mmap[i].type;
        if (t == MMAP_USABLE || t == MMAP_ACPI_RECLAIMABLE || t == MMAP_ACPI_NVS)
            top = MAX(top, bi->mmap[i].base + bi->mmap[i].len);
    }
    if (top > DIRECT_MAP_MAX) {
        log_warn("memory above 512 GiB (map ends at 0x%lx) is ignored", top);
        top = DIRECT_MAP_MAX;
    }
    bool nx = cpuid(0x80000000, 0).eax >= 0x80000001 && (cpuid(0x80000001, 0).edx & BIT(20));
    bool gb_pages = cpuid(0x80000001, 0).edx & BIT(26);
    uint64_t nx_bit = nx ? PTE_NX : 0;

    /* Above 4 GiB: new PDPT entries, 1 GiB pages where the CPU has them. */
    for (uint64_t gb = 4; gb * GiB < top; gb++) {
        if (gb_pages) {
            boot_pdpt_low[gb] = (gb * GiB) | PTE_P | PTE_W | PTE_PS | nx_bit;
            continue;
        }
        paddr_t pd = page_alloc_zeroed();
        uint64_t *pde = phys_to_virt(pd);
        for (unsigned i = 0; i < 512; i++)
            pde[i] = (gb * GiB + i * 2 * MiB) | PTE_P | PTE_W | PTE_PS | nx_bit;
        boot_pdpt_low[gb] = pd | PTE_P | PTE_W;
    }
    /* Boot's PML4[0] and PML4[256] share boot_pdpt_low: a new PDPT keeps the direct map only. */
    paddr_t pdpt = page_alloc_zeroed();
    uint64_t *p = phys_to_virt(pdpt);
    for (unsigned i = 0; i < 512; i++)
        p[i] = boot_pdpt_low[i];
    boot_pml4[256] = pdpt | PTE_P | PTE_W;
    boot_pml4[0] = 0;
    write_cr3(read_cr3());
    log_debug("direct map: 0-0x%lx at 0x%lx (%s pages above 4 GiB), identity map removed", top, (uint64_t)PHYS_MAP_BASE,
              gb_pages ? "1 GiB" : "2 MiB");
}
