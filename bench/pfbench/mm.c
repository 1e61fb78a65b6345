/*
 * pfbench: physical pages, the kernel's identity map, the per-space page
 * tables and the #PF handler that fills them.
 *
 * Physical memory: the usable ranges of the loader's memory map above the
 * image, handed out by a bump pointer; freed pages go onto a LIFO list
 * linked through their first quadword and are reused first. Everything is
 * deterministic for a given memory map, and nothing the benchmark computes
 * depends on which physical pages it gets.
 *
 * Address spaces: a PML4 each. Entry 0 points at the kernel's identity PDPT
 * (shared, supervisor, global 2 MiB pages); entry 1 holds the space's
 * private and copy regions, built 4 KiB page by 4 KiB page by the fault
 * handler and torn down completely at the end of every round.
 */
#include "pfbench.h"

struct pf_mm_stats pf_mm_stats;
u64 *pf_current_pml4;

extern u64 pf_kernel_pml4[512];
extern u64 pf_boot_pdpt[512];
extern u64 pf_boot_pd[4 * 512];

static struct pf_mem_range ranges[PF_MAX_RANGES];
static unsigned range_count, range_next;
static u64 bump;            /* next never-used page in ranges[range_next] */
static u64 free_list;       /* physical address of the first freed page, 0 = none */
static u64 free_pages;      /* pages still available (bump + list) */

static u64 priv_end, copy_end;

/*
 * Cuts the boot stub's 4 GiB identity map down to what the benchmark uses:
 * RAM up to its highest usable address (and at least the image), rounded to
 * 2 MiB, never above 1 GiB. Then turns on global pages, so the kernel's
 * translations survive the workload's CR3 switches as they would in an OS.
 * Returns the end of the identity map.
 */
u64 pf_identity_init(const struct pf_boot *boot, u64 image_end)
{
    u64 top = boot->ram_top > image_end ? boot->ram_top : image_end;
    top = ALIGN_UP(top, LARGE_PAGE_SIZE);
    if (top > GiB)
        top = GiB;
    for (u64 i = top / LARGE_PAGE_SIZE; i < 4 * 512; i++)
        pf_boot_pd[i] = 0;
    for (unsigned i = 1; i < 4; i++)
        pf_boot_pdpt[i] = 0;
    write_cr3((u64)(uintptr_t)pf_kernel_pml4);   /* CR4.PGE is still 0: flushes everything */

    u32 r[4];
    cpuid(1, 0, r);
    if (r[3] & (1u << 13))                      /* PGE */
        write_cr4(read_cr4() | (1ull << 7));
    return top;
}

void pf_alloc_init(const struct pf_boot *boot, u64 low, u64 high)
{
    range_count = 0;
    free_pages = 0;
    for (unsigned i = 0; i < boot->range_count; i++) {
        u64 b = boot->ranges[i].base, e = boot->ranges[i].end;
        if (b < low)
            b = low;
        if (e > high)
            e = high;
        if (e <= b)
            continue;
        ranges[range_count++] = (struct pf_mem_range){b, e};
        free_pages += (e - b) / PAGE_SIZE;
    }
    range_next = 0;
    bump = range_count ? ranges[0].base : 0;
    free_list = 0;
}

u64 pf_alloc_free_pages(void)
{
    return free_pages;
}

u64 pf_page_alloc(void)
{
    u64 pa = free_list;
    if (pa) {
        free_list = *(u64 *)phys_ptr(pa);
        free_pages--;
        return pa;
    }
    while (range_next < range_count) {
        if (bump < ranges[range_next].end) {
            pa = bump;
            bump += PAGE_SIZE;
            free_pages--;
            return pa;
        }
        if (++range_next < range_count)
            bump = ranges[range_next].base;
    }
    return 0;
}

void pf_page_free(u64 pa)
{
    *(u64 *)phys_ptr(pa) = free_list;
    free_list = pa;
    free_pages++;
}

void pf_page_zero(u64 pa)
{
    void *p = phys_ptr(pa);
    u64 n = PAGE_SIZE / 8;
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(0ull) : "memory");
}

static __attribute__((noreturn)) void out_of_memory(const char *what)
{
    pf_printf("pfbench: out of memory allocating %s (the RAM check before the run should have caught this)\n",
              what);
    pf_exit(STATUS_NO_MEMORY);
}

u64 *pf_space_create(void)
{
    u64 pa = pf_page_alloc();
    if (!pa)
        out_of_memory("a PML4");
    pf_page_zero(pa);
    u64 *pml4 = phys_ptr(pa);
    pml4[0] = pf_kernel_pml4[0];    /* the shared identity PDPT */
    return pml4;
}

void pf_space_set_limits(u64 pages, bool copy)
{
    priv_end = PF_PRIV_BASE + pages * PAGE_SIZE;
    copy_end = copy ? PF_COPY_BASE + pages * PAGE_SIZE : PF_COPY_BASE;
}

/* The table entry idx of table points to, allocated (zeroed) if not present. */
static u64 *next_table(u64 *table, unsigned idx)
{
    u64 e = table[idx];
    if (e & PTE_P)
        return phys_ptr(e & PTE_ADDR);
    u64 pa = pf_page_alloc();
    if (!pa)
        out_of_memory("a page table");
    pf_page_zero(pa);
    table[idx] = pa | PTE_P | PTE_W;
    pf_mm_stats.table_pages++;
    return phys_ptr(pa);
}

/*
 * #PF: a not-present fault inside the current space's private or copy
 * region gets a fresh zeroed page (and whatever page tables lead to it).
 * Anything else is not ours: returns false and pf_trap() reports it.
 */
bool pf_handle_fault(u64 va, u64 error)
{
    if (error & PF_ERR_P || !pf_current_pml4)
        return false;
    if (!((va >= PF_PRIV_BASE && va < priv_end) || (va >= PF_COPY_BASE && va < copy_end)))
        return false;

    u64 *pdpt = next_table(pf_current_pml4, (unsigned)(va >> 39) & 511);
    u64 *pd = next_table(pdpt, (unsigned)(va >> 30) & 511);
    u64 *pt = next_table(pd, (unsigned)(va >> 21) & 511);
    u64 *pte = &pt[(va >> 12) & 511];
    if (*pte & PTE_P) {
        /* Present already: a stale not-present translation. Architecturally
         * this does not happen (not-present entries are never cached). */
        pf_mm_stats.spurious++;
        invlpg(va);
        return true;
    }
    u64 pa = pf_page_alloc();
    if (!pa)
        out_of_memory("a data page");
    pf_page_zero(pa);
    *pte = pa | PTE_P | PTE_W;
    pf_mm_stats.faults++;
    return true;
}

/*
 * Frees every page under the space's region entry: data pages, page tables
 * and the region's PDPT. The caller must not be running on this space's
 * translations afterwards without a CR3 reload (main.c switches to the
 * kernel's PML4 first, which flushes them).
 */
void pf_space_release(u64 *pml4)
{
    u64 e4 = pml4[PF_SPACE_PML4_INDEX];
    if (!(e4 & PTE_P))
        return;
    u64 *pdpt = phys_ptr(e4 & PTE_ADDR);
    for (unsigned i = 0; i < 512; i++) {
        if (!(pdpt[i] & PTE_P))
            continue;
        u64 *pd = phys_ptr(pdpt[i] & PTE_ADDR);
        for (unsigned j = 0; j < 512; j++) {
            if (!(pd[j] & PTE_P))
                continue;
            u64 *pt = phys_ptr(pd[j] & PTE_ADDR);
            for (unsigned k = 0; k < 512; k++)
                if (pt[k] & PTE_P)
                    pf_page_free(pt[k] & PTE_ADDR);
            pf_page_free(pd[j] & PTE_ADDR);
        }
        pf_page_free(pdpt[i] & PTE_ADDR);
    }
    pf_page_free(e4 & PTE_ADDR);
    pml4[PF_SPACE_PML4_INDEX] = 0;
}
