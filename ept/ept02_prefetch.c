/* Shadow EPT02 entries installed ahead of an L2 fault (see include/nestor/ept02_prefetch.h). */
#include "nestor/ept02_prefetch.h"
#include "nestor/lib.h"
#include "nestor/vmx_arch.h"

static uint64_t level_bytes(unsigned level) { return 1ull << (12 + 9 * (level - 1)); }
static unsigned level_of(uint64_t size) { return size == GiB ? 3 : size == 2 * MiB ? 2 : 1; }

enum ept02_compose_result ept02_compose(struct ept *shadow, const struct ept *ept01, gpa_t gpa2,
                                        const struct ept12_walk *w, uint64_t need, uint64_t *size_out)
{
    struct ept_walk sw, w01;
    if (ept_walk(shadow, gpa2, &sw))
        return EPT02_PRESENT;
    if (!ept_walk(ept01, w->l1pa, &w01))
        return EPT02_NOT_L1_MEMORY;
    uint64_t perms = w->perms & w01.perms;
    if (!w->dirty) /* EPT A/D: writable only once EPT12's D is set (nested/ept_ad.c) */
        perms &= ~EPT_W;
    if (!perms || (perms & need) != need)
        return EPT02_L1_MAY_NOT;
    /* The same composition as a fill on a fault (nested/ept02.c): smaller leaf, EPT12 ∩ EPT01, UC wins. */
    uint64_t size = MIN(w->page_size, level_bytes(w01.level));
    bool uc = ((w01.leaf >> EPT_MEMTYPE_SHIFT) & 7) == MEMTYPE_UC;
    unsigned memtype = uc ? MEMTYPE_UC : w->memtype;
    for (;;) {
        bool replaced = false;
        /* Nothing translates gpa2 in the shadow, so no present leaf is on the way to be replaced. */
        if (ept_install(shadow, ALIGN_DOWN(gpa2, size), ALIGN_DOWN(w01.hpa, size), level_of(size), perms, memtype,
                        uc || w->ignore_pat, &replaced))
            break;
        if (size == PAGE_SIZE)
            return EPT02_NO_MEMORY;
        size = size == GiB ? 2 * MiB : PAGE_SIZE; /* smaller entries already live there */
    }
    *size_out = size;
    return EPT02_INSTALLED;
}

unsigned ept02_prefetch(struct ept *shadow, const struct ept *ept01, gpa_t gpa2, const struct ept12_walk *w,
                        const struct ept12_caps *caps, ept12_read_fn read, void *ctx, gpa_t *prefetched)
{
    if (w->page_size != PAGE_SIZE)
        return 0; /* large EPT12 leaves cover their neighbours already */
    unsigned self = (unsigned)(gpa2 >> PAGE_SHIFT) & 511, first = self & ~(EPT02_PREFETCH_GROUP - 1u), n = 0;
    for (unsigned i = first; i < first + EPT02_PREFETCH_GROUP; i++) {
        if (i == self)
            continue;
        gpa_t g = (gpa2 & ~(2 * MiB - 1)) | ((gpa_t)i << PAGE_SHIFT);
        struct ept12_walk nw;
        uint64_t size;
        /* Read now: an entry L1 changes later is a cached translation like any other, until INVEPT. */
        uint64_t entry = read(ctx, w->leaf_table + i * 8);
        if (ept12_sibling(w, entry, g, caps, &nw) != EPT12_OK)
            continue;
        if (w->ad) {
            /* EPT A/D: the upper entries got A from the fill's own walk; a neighbour is cached
             * only if the CPU would set nothing to use it (A set), and writable only with D. */
            if (!(entry & EPT_ACCESSED))
                continue;
            nw.ad = true;
            nw.dirty = entry & EPT_DIRTY;
        }
        if (ept02_compose(shadow, ept01, g, &nw, 0, &size) == EPT02_INSTALLED)
            prefetched[n++] = g;
    }
    return n;
}
