/*
 * Physical page allocator: a sorted list of free ranges. It is fed the usable
 * RAM of the memory map and told what is taken (Nestor's image, the boot
 * information, the modules, the first MiB); it then never hands those out.
 *
 * It cannot lose memory: a free that can neither merge into a range nor get a
 * slot of its own (the list fragmented by single pages freed in any order,
 * e.g. shadow EPTs dropped and rebuilt) puts its pages on an overflow list
 * kept in the free pages themselves, and single-page allocations take from
 * that list first. Every page ever freed is counted by palloc_free_pages and
 * handed out again. The whole state is struct palloc (one lock can guard it).
 */
#ifndef NESTOR_PALLOC_H
#define NESTOR_PALLOC_H

#include "types.h"

#define PALLOC_MAX_RANGES 128

struct palloc_range {
    paddr_t base, end; /* page aligned, end exclusive */
};

struct palloc {
    unsigned count;
    struct palloc_range r[PALLOC_MAX_RANGES];
    paddr_t spare_head;   /* overflow list of free single pages (0: empty), linked through the pages */
    uint64_t spare_count;
};

void palloc_init(struct palloc *pa);
/* Adds [base, end) shrunk to whole pages; page 0 is never added (0 means failure). */
bool palloc_add_free(struct palloc *pa, paddr_t base, paddr_t end);
/* Removes [base, end) grown to whole pages from the free ranges. */
bool palloc_reserve(struct palloc *pa, paddr_t base, paddr_t end);
/* First fit; align_pages must be a power of two. Returns 0 when nothing fits. */
paddr_t palloc_alloc(struct palloc *pa, uint64_t pages, uint64_t align_pages);
/*
 * Returns pages; refuses (false) only invalid ranges: unaligned, page 0,
 * wrapping, or overlapping free memory (double free). Never fails for lack
 * of room (see above): the caller's pages are free again when it returns true.
 */
bool palloc_free(struct palloc *pa, paddr_t base, uint64_t pages);
/* palloc_free_pages() >= pages, without counting every range (on the shadow-fill paths). */
bool palloc_has_free(const struct palloc *pa, uint64_t pages);
uint64_t palloc_free_pages(const struct palloc *pa);
/* The largest run of free pages starting at an align_pages boundary. */
uint64_t palloc_largest_run(const struct palloc *pa, uint64_t align_pages);

/* Nestor's own allocator instance and helpers over it (core/page.c). */
extern struct palloc g_palloc;
/* One zeroed page for Nestor's own use; panics when memory is exhausted. */
paddr_t page_alloc_zeroed(void);
/* Like page_alloc_zeroed, but returns 0 instead of panicking. */
paddr_t page_try_alloc_zeroed(void);
/* pages contiguous pages (not zeroed) under the allocator's lock; 0 when nothing fits. */
paddr_t palloc_locked_alloc(uint64_t pages);
/* Returns one of Nestor's pages under the allocator's lock; false if it was free already (a Nestor bug). */
bool page_free(paddr_t pa);

#endif
