/*
 * Nestor's own page allocations, from the global allocator. Every CPU
 * allocates (shadow EPT pages on L2 EPT violations, vCPU structures at
 * bring-up), so the allocator is shared state behind one named lock.
 */
#include "nestor/lib.h"
#include "nestor/palloc.h"
#include "nestor/panic.h"
#include "nestor/physmem.h"
#include "nestor/spinlock.h"

struct palloc g_palloc;
static struct spinlock g_palloc_lock;

paddr_t palloc_locked_alloc(uint64_t pages)
{
    spin_lock(&g_palloc_lock);
    paddr_t pa = palloc_alloc(&g_palloc, pages, 1);
    spin_unlock(&g_palloc_lock);
    return pa;
}

bool page_free(paddr_t pa)
{
    spin_lock(&g_palloc_lock);
    bool ok = palloc_free(&g_palloc, pa, 1);
    spin_unlock(&g_palloc_lock);
    return ok;
}

paddr_t page_try_alloc_zeroed(void)
{
    paddr_t pa = palloc_locked_alloc(1);
    if (pa)
        memset(phys_to_virt(pa), 0, PAGE_SIZE);
    return pa;
}

paddr_t page_alloc_zeroed(void)
{
    paddr_t pa = page_try_alloc_zeroed();
    if (!pa)
        panic("out of physical memory for Nestor's own pages");
    return pa;
}
