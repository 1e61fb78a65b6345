/* Nestor's own page allocations, from the global allocator. */
#include "nestor/lib.h"
#include "nestor/palloc.h"
#include "nestor/panic.h"
#include "nestor/physmem.h"

struct palloc g_palloc;

paddr_t page_try_alloc_zeroed(void)
{
    paddr_t pa = palloc_alloc(&g_palloc, 1, 1);
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
