/* Building and walking EPT paging structures (SDM 28.3.2). */
#include "nestor/ept.h"
#include "nestor/lib.h"
#include "nestor/palloc.h"
#include "nestor/physmem.h"

static uint64_t *table_of(uint64_t entry) { return phys_to_virt(entry & EPT_PFN_MASK); }

static unsigned index_at(gpa_t gpa, unsigned level) { return (gpa >> (12 + 9 * (level - 1))) & 511; }

static uint64_t level_size(unsigned level) { return 1ull << (12 + 9 * (level - 1)); }

bool ept_init(struct ept *e, uint64_t cap)
{
    memset(e, 0, sizeof *e);
    e->large_2m = cap & EPT_CAP_2MB_PAGE;
    e->large_1g = cap & EPT_CAP_1GB_PAGE;
    e->pml4 = page_try_alloc_zeroed();
    if (!e->pml4)
        return false;
    e->table_pages = 1;
    return true;
}

uint64_t ept_choose_page_size(const struct ept *e, gpa_t gpa, paddr_t hpa, uint64_t size)
{
    if (e->large_1g && IS_ALIGNED(gpa | hpa, GiB) && size >= GiB)
        return GiB;
    if (e->large_2m && IS_ALIGNED(gpa | hpa, 2 * MiB) && size >= 2 * MiB)
        return 2 * MiB;
    return PAGE_SIZE;
}

/*
 * The slot for a leaf at `level` covering gpa, creating tables on the way.
 * A larger leaf met on the way is refused, or, with `split`, dropped (its
 * translation is then stale: *replaced tells the caller to invalidate).
 */
static uint64_t *leaf_slot(struct ept *e, gpa_t gpa, unsigned level, bool split, bool *replaced)
{
    uint64_t *table = phys_to_virt(e->pml4);
    for (unsigned l = EPT_LEVEL_PML4; l > level; l--) {
        uint64_t *slot = &table[index_at(gpa, l)];
        if ((*slot & EPT_RWX) && (*slot & EPT_LARGE)) {
            if (!split)
                return NULL;
            *slot = 0;
            *replaced = true;
        }
        if (!(*slot & EPT_RWX)) {
            paddr_t next = page_try_alloc_zeroed();
            if (!next)
                return NULL;
            e->table_pages++;
            /* Non-leaf entries grant everything: permissions live in the leaves. */
            *slot = next | EPT_RWX;
        }
        table = table_of(*slot);
    }
    return &table[index_at(gpa, level)];
}

static uint64_t leaf_entry(paddr_t hpa, unsigned level, uint64_t perms, unsigned memtype, bool ignore_pat)
{
    return hpa | (perms & EPT_RWX) | ((uint64_t)memtype << EPT_MEMTYPE_SHIFT) | (ignore_pat ? EPT_IGNORE_PAT : 0) |
           (level > EPT_LEVEL_PT ? EPT_LARGE : 0);
}

static bool map_one(struct ept *e, gpa_t gpa, paddr_t hpa, uint64_t page, uint64_t perms, unsigned memtype)
{
    unsigned leaf_level = page == GiB ? EPT_LEVEL_PDPT : page == 2 * MiB ? EPT_LEVEL_PD : EPT_LEVEL_PT;
    bool replaced = false;
    uint64_t *slot = leaf_slot(e, gpa, leaf_level, false, &replaced);
    if (!slot || (*slot & EPT_RWX))
        return false; /* already mapped, by a larger page or by this one */
    *slot = leaf_entry(hpa, leaf_level, perms, memtype, false);
    if (page == GiB)
        e->mapped_1g++;
    else if (page == 2 * MiB)
        e->mapped_2m++;
    else
        e->mapped_4k++;
    return true;
}

/* Permissions and memory types that would make an EPT misconfiguration (SDM 28.3.3.1). */
static bool leaf_ok(uint64_t perms, unsigned memtype)
{
    if (!(perms & EPT_RWX) || ((perms & EPT_W) && !(perms & EPT_R)))
        return false;
    return memtype == MEMTYPE_UC || memtype == MEMTYPE_WC || memtype == MEMTYPE_WT || memtype == MEMTYPE_WP ||
           memtype == MEMTYPE_WB;
}

bool ept_map(struct ept *e, gpa_t gpa, paddr_t hpa, uint64_t size, uint64_t perms, unsigned memtype)
{
    /* A 4-level walk covers 48 bits of guest-physical address; frames must fit the entry's address field. */
    if (!IS_ALIGNED(gpa | hpa | size, PAGE_SIZE) || !leaf_ok(perms, memtype) || gpa >= BIT(48) ||
        size > BIT(48) - gpa || (hpa & ~EPT_PFN_MASK) || size > EPT_PFN_MASK - hpa + PAGE_SIZE)
        return false;
    while (size) {
        uint64_t page = ept_choose_page_size(e, gpa, hpa, size);
        if (!map_one(e, gpa, hpa, page, perms, memtype))
            return false;
        gpa += page;
        hpa += page;
        size -= page;
    }
    return true;
}

bool ept_install(struct ept *e, gpa_t gpa, paddr_t hpa, unsigned level, uint64_t perms, unsigned memtype,
                 bool ignore_pat, bool *replaced)
{
    *replaced = false;
    if (level < EPT_LEVEL_PT || level > EPT_LEVEL_PDPT)
        return false;
    uint64_t size = level_size(level);
    if (!leaf_ok(perms, memtype) || !IS_ALIGNED(gpa | hpa, size) ||
        gpa >= BIT(48) || (hpa & ~EPT_PFN_MASK))
        return false;
    uint64_t *slot = leaf_slot(e, gpa, level, true, replaced);
    if (!slot || ((*slot & EPT_RWX) && level > EPT_LEVEL_PT && !(*slot & EPT_LARGE)))
        return false; /* out of memory, or a table of smaller entries is here */
    *replaced |= (*slot & EPT_RWX) != 0;
    *slot = leaf_entry(hpa, level, perms, memtype, ignore_pat);
    return true;
}

bool ept_walk(const struct ept *e, gpa_t gpa, struct ept_walk *w)
{
    memset(w, 0, sizeof *w);
    /*
     * A 4-level walk indexes bits 47:12; an address with higher bits (possible when
     * MAXPHYADDR > 48 and L1 names it in VMPTRLD, an EPT12 table, an MSR area) is not
     * in this EPT at all, and must not alias the address with those bits cleared.
     */
    if (gpa >= BIT(48))
        return false;
    uint64_t perms = EPT_RWX;
    const uint64_t *table = phys_to_virt(e->pml4);
    for (unsigned level = EPT_LEVEL_PML4; level >= EPT_LEVEL_PT; level--) {
        uint64_t entry = table[index_at(gpa, level)];
        if (!(entry & EPT_RWX))
            return false;
        perms &= entry & EPT_RWX;
        if (level == EPT_LEVEL_PT || (entry & EPT_LARGE)) {
            uint64_t sz = level_size(level);
            w->present = true;
            w->leaf = entry;
            w->level = level;
            w->perms = perms;
            w->hpa = (entry & EPT_PFN_MASK & ~(sz - 1)) | (gpa & (sz - 1));
            return true;
        }
        table = table_of(entry);
    }
    return false;
}

uint64_t ept_eptp(const struct ept *e) { return e->pml4 | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB; }

/* Returns the pages the allocator refused (a double free: a bug, never a lack of room). */
static unsigned free_level(uint64_t *table, unsigned level)
{
    unsigned refused = 0;
    for (unsigned i = 0; i < EPT_ENTRIES && level > EPT_LEVEL_PT; i++) {
        uint64_t entry = table[i];
        if ((entry & EPT_RWX) && !(entry & EPT_LARGE)) {
            refused += free_level(table_of(entry), level - 1);
            refused += !page_free(entry & EPT_PFN_MASK);
        }
    }
    return refused;
}

unsigned ept_destroy(struct ept *e)
{
    if (!e->pml4)
        return 0;
    unsigned refused = free_level(phys_to_virt(e->pml4), EPT_LEVEL_PML4);
    refused += !page_free(e->pml4);
    memset(e, 0, sizeof *e);
    return refused;
}
