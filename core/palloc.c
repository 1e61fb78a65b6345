/* Range-list physical allocator with an in-band overflow list (see include/nestor/palloc.h). */
#include "nestor/lib.h"
#include "nestor/palloc.h"
#include "nestor/physmem.h"

/*
 * A page on the overflow list holds, in its first two words, the next page
 * and a tag: the tag lets a second free of the same page be refused without
 * walking the list (a page in use holding exactly this value is the only way
 * to fool it, and Nestor zeroes pages it hands out).
 */
#define SPARE_TAG 0x4e53504152454c53ull /* "NSPARELS" */

static uint64_t spare_tag(paddr_t page) { return SPARE_TAG ^ page; }

static bool spare_holds(paddr_t page)
{
    const uint64_t *w = phys_to_virt(page);
    return w[1] == spare_tag(page);
}

static void spare_push(struct palloc *pa, paddr_t page)
{
    uint64_t *w = phys_to_virt(page);
    w[0] = pa->spare_head;
    w[1] = spare_tag(page);
    pa->spare_head = page;
    pa->spare_count++;
}

static paddr_t spare_pop(struct palloc *pa)
{
    paddr_t page = pa->spare_head;
    uint64_t *w = phys_to_virt(page);
    pa->spare_head = w[0];
    w[0] = w[1] = 0;
    pa->spare_count--;
    return page;
}

void palloc_init(struct palloc *pa) { memset(pa, 0, sizeof *pa); }

static bool insert_at(struct palloc *pa, unsigned i, paddr_t base, paddr_t end)
{
    if (pa->count == PALLOC_MAX_RANGES)
        return false;
    memmove(&pa->r[i + 1], &pa->r[i], (pa->count - i) * sizeof pa->r[0]);
    pa->r[i].base = base;
    pa->r[i].end = end;
    pa->count++;
    return true;
}

static void remove_at(struct palloc *pa, unsigned i)
{
    memmove(&pa->r[i], &pa->r[i + 1], (pa->count - i - 1) * sizeof pa->r[0]);
    pa->count--;
}

/* Inserts a range that overlaps nothing, merging with neighbours that touch it. */
static bool insert_merged(struct palloc *pa, paddr_t base, paddr_t end)
{
    unsigned i = 0;
    while (i < pa->count && pa->r[i].base < base)
        i++;
    bool join_prev = i > 0 && pa->r[i - 1].end == base;
    bool join_next = i < pa->count && pa->r[i].base == end;
    if (join_prev && join_next) {
        pa->r[i - 1].end = pa->r[i].end;
        remove_at(pa, i);
    } else if (join_prev) {
        pa->r[i - 1].end = end;
    } else if (join_next) {
        pa->r[i].base = base;
    } else {
        return insert_at(pa, i, base, end);
    }
    return true;
}

static bool overlaps_free(const struct palloc *pa, paddr_t base, paddr_t end)
{
    for (unsigned i = 0; i < pa->count; i++)
        if (pa->r[i].base < end && base < pa->r[i].end)
            return true;
    return false;
}

bool palloc_add_free(struct palloc *pa, paddr_t base, paddr_t end)
{
    if (end <= base || base > UINT64_MAX - PAGE_SIZE)
        return true; /* empty, or so high that rounding up would wrap */
    base = ALIGN_UP(base, PAGE_SIZE);
    end = ALIGN_DOWN(end, PAGE_SIZE);
    if (base == 0)
        base = PAGE_SIZE;
    if (end <= base)
        return true;
    /* Overlapping memory map entries: add only what is not already free. */
    for (unsigned i = 0; i < pa->count; i++) {
        struct palloc_range r = pa->r[i];
        if (r.base < end && base < r.end) {
            bool ok = true;
            if (base < r.base)
                ok = palloc_add_free(pa, base, r.base);
            if (end > r.end)
                ok = palloc_add_free(pa, r.end, end) && ok;
            return ok;
        }
    }
    return insert_merged(pa, base, end);
}

bool palloc_reserve(struct palloc *pa, paddr_t base, paddr_t end)
{
    if (end <= base)
        return true; /* nothing to reserve (a zero-length module) */
    base = ALIGN_DOWN(base, PAGE_SIZE);
    end = end > UINT64_MAX - PAGE_SIZE ? ALIGN_DOWN(UINT64_MAX, PAGE_SIZE) : ALIGN_UP(end, PAGE_SIZE);
    for (unsigned i = 0; i < pa->count;) {
        struct palloc_range *r = &pa->r[i];
        if (r->end <= base || r->base >= end) {
            i++;
            continue;
        }
        if (r->base >= base && r->end <= end) {
            remove_at(pa, i);
            continue;
        }
        if (r->base < base && r->end > end) {
            paddr_t tail_end = r->end;
            r->end = base;
            if (!insert_at(pa, i + 1, end, tail_end))
                return false;
            return true;
        }
        if (r->base < base)
            r->end = base;
        else
            r->base = end;
        i++;
    }
    return true;
}

paddr_t palloc_alloc(struct palloc *pa, uint64_t pages, uint64_t align_pages)
{
    if (pages == 0 || align_pages == 0 || (align_pages & (align_pages - 1)) || pages > UINT64_MAX / PAGE_SIZE ||
        align_pages > UINT64_MAX / PAGE_SIZE)
        return 0;
    if (pages == 1 && pa->spare_count)
        return spare_pop(pa); /* pages that found no slot are handed out first */
    uint64_t size = pages * PAGE_SIZE, align = align_pages * PAGE_SIZE;
    for (unsigned i = 0; i < pa->count; i++) {
        struct palloc_range *r = &pa->r[i];
        paddr_t start = ALIGN_UP(r->base, align);
        if (start < r->base || start >= r->end || r->end - start < size)
            continue;
        paddr_t end = start + size;
        if (start == r->base && end == r->end) {
            remove_at(pa, i);
        } else if (start == r->base) {
            r->base = end;
        } else if (end == r->end) {
            r->end = start;
        } else {
            paddr_t tail_end = r->end;
            r->end = start;
            if (!insert_at(pa, i + 1, end, tail_end)) {
                r->end = tail_end; /* cannot split: leave the range whole */
                continue;
            }
        }
        return start;
    }
    return 0;
}

bool palloc_free(struct palloc *pa, paddr_t base, uint64_t pages)
{
    if (!pages || pages > UINT64_MAX / PAGE_SIZE)
        return false;
    paddr_t end = base + pages * PAGE_SIZE;
    if (!IS_ALIGNED(base, PAGE_SIZE) || base == 0 || end <= base || overlaps_free(pa, base, end))
        return false;
    if (pa->spare_count)
        for (paddr_t p = base; p < end; p += PAGE_SIZE)
            if (spare_holds(p))
                return false; /* already free, on the overflow list */
    if (insert_merged(pa, base, end))
        return true;
    /* No slot for a new range: the pages go on the overflow list, never lost. */
    for (paddr_t p = base; p < end; p += PAGE_SIZE)
        spare_push(pa, p);
    return true;
}

uint64_t palloc_free_pages(const struct palloc *pa)
{
    uint64_t n = pa->spare_count;
    for (unsigned i = 0; i < pa->count; i++)
        n += (pa->r[i].end - pa->r[i].base) / PAGE_SIZE;
    return n;
}

bool palloc_has_free(const struct palloc *pa, uint64_t pages)
{
    uint64_t n = pa->spare_count;
    for (unsigned i = 0; i < pa->count && n < pages; i++)
        n += (pa->r[i].end - pa->r[i].base) / PAGE_SIZE;
    return n >= pages;
}

uint64_t palloc_largest_run(const struct palloc *pa, uint64_t align_pages)
{
    uint64_t best = 0, align = align_pages * PAGE_SIZE;
    for (unsigned i = 0; i < pa->count; i++) {
        paddr_t start = ALIGN_UP(pa->r[i].base, align);
        if (start < pa->r[i].end)
            best = MAX(best, (pa->r[i].end - start) / PAGE_SIZE);
    }
    return best;
}
