/* EPT12 walker (see include/nestor/ept12.h). */
#include "nestor/ept12.h"
#include "nestor/vmx_arch.h"

static bool memtype_ok(unsigned t) { return t == MEMTYPE_UC || t == MEMTYPE_WC || t == MEMTYPE_WT || t == MEMTYPE_WP || t == MEMTYPE_WB; }

/* SDM 28.3.3.1: which present entries are misconfigured. */
static bool misconfigured(uint64_t e, unsigned level, bool leaf, const struct ept12_caps *c)
{
    uint64_t rwx = e & EPT_RWX;
    if ((rwx & EPT_W) && !(rwx & EPT_R))
        return true; /* write-only or write/execute */
    if (rwx == EPT_X && !c->exec_only)
        return true;
    uint64_t rsvd = ((BIT(52) - 1) & ~c->maxphyaddr_mask);
    if (leaf) {
        if (!memtype_ok((unsigned)((e >> EPT_MEMTYPE_SHIFT) & 7)))
            return true;
        if (level == 3)
            rsvd |= 0x3ffff000ull; /* 1 GiB page: bits 29:12 */
        else if (level == 2)
            rsvd |= 0x1ff000ull; /* 2 MiB page: bits 20:12 */
    } else {
        rsvd |= level == 4 ? 0xf8ull : 0x78ull; /* PML4E bits 7:3; other non-leaf entries bits 6:3 */
    }
    return (e & rsvd) != 0;
}

/* One entry at level, under upper-level permissions upper: misconfigured, not present, a leaf, or a table. */
static enum ept12_result entry_at(uint64_t e, unsigned level, gpa_t gpa, uint64_t upper, const struct ept12_caps *c,
                                  struct ept12_walk *w, bool *leaf)
{
    w->level = level;
    *leaf = false;
    if (!(e & EPT_RWX)) {
        w->perms = 0; /* the AND includes this entry, which grants nothing */
        return EPT12_NOT_PRESENT;
    }
    bool large = level > 1 && (e & EPT_LARGE);
    if (large && ((level == 3 && !c->large_1g) || (level == 2 && !c->large_2m) || level == 4))
        return EPT12_MISCONFIG; /* a page size not offered: bit 7 is reserved there */
    *leaf = level == 1 || large;
    if (misconfigured(e, level, *leaf, c))
        return EPT12_MISCONFIG;
    w->perms = upper & e & EPT_RWX;
    if (*leaf) {
        uint64_t size = 1ull << (12 + 9 * (level - 1));
        w->page_size = size;
        w->memtype = (unsigned)((e >> EPT_MEMTYPE_SHIFT) & 7);
        w->ignore_pat = e & EPT_IGNORE_PAT;
        w->l1pa = (e & c->maxphyaddr_mask & ~(size - 1)) | (gpa & (size - 1));
        w->upper_perms = upper;
    }
    return EPT12_OK;
}

enum ept12_result ept12_walk(uint64_t eptp, gpa_t gpa, const struct ept12_caps *c, ept12_read_fn read, void *ctx,
                             struct ept12_walk *w)
{
    uint64_t perms = EPT_RWX;
    gpa_t table = eptp & c->maxphyaddr_mask & ~0xfffull;
    w->perms = 0;
    w->level = 4;
    w->ad = false;
    w->dirty = true;
    w->ad_written = w->dirtied = false;
    /* The 4-level EPT Nestor offers translates 48 bits: beyond that nothing is mapped (an EPT violation). */
    if (gpa >= (1ull << 48))
        return EPT12_NOT_PRESENT;
    for (unsigned level = 4; level >= 1; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        gpa_t pa = table + ((gpa >> shift) & 511) * 8;
        uint64_t e = read(ctx, pa);
        w->entry_pa[level] = pa;
        w->entry[level] = e;
        bool leaf;
        enum ept12_result r = entry_at(e, level, gpa, perms, c, w, &leaf);
        if (r != EPT12_OK)
            return r;
        if (leaf) {
            w->leaf_table = table;
            return EPT12_OK;
        }
        perms = w->perms;
        table = e & c->maxphyaddr_mask & ~0xfffull;
    }
    return EPT12_MISCONFIG; /* not reached: level 1 is always a leaf */
}

enum ept12_result ept12_sibling(const struct ept12_walk *leaf, uint64_t entry, gpa_t gpa, const struct ept12_caps *c,
                                struct ept12_walk *w)
{
    bool is_leaf;
    w->perms = 0;
    w->ad = false;
    w->dirty = true;
    w->ad_written = w->dirtied = false;
    w->entry_pa[leaf->level] = leaf->leaf_table + ((gpa >> (12 + 9 * (leaf->level - 1))) & 511) * 8;
    w->entry[leaf->level] = entry;
    enum ept12_result r = entry_at(entry, leaf->level, gpa, leaf->upper_perms, c, w, &is_leaf);
    if (r != EPT12_OK)
        return r;
    if (!is_leaf)
        return EPT12_NOT_PRESENT; /* a table where the leaf's neighbour would be: not a translation of one step */
    w->leaf_table = leaf->leaf_table;
    return EPT12_OK;
}

const char *ept12_check_eptp(uint64_t eptp, bool uc_ok, bool wb_ok, bool ad_ok, uint64_t maxphy)
{
    unsigned memtype = eptp & 7;
    if (!((memtype == MEMTYPE_UC && uc_ok) || (memtype == MEMTYPE_WB && wb_ok)))
        return "26.2.1.1 EPTP memory type must be one IA32_VMX_EPT_VPID_CAP allows (UC or WB)";
    if (((eptp >> 3) & 7) != 3)
        return "26.2.1.1 EPTP page-walk length must be 4 (bits 5:3 = 3)";
    if ((eptp & EPTP_AD_ENABLE) && !ad_ok)
        return "26.2.1.1 EPTP bit 6 (accessed/dirty flags) must be 0: EPT A/D flags are not offered";
    if (eptp & 0xf80ull)
        return "26.2.1.1 EPTP reserved bits 11:7 must be 0";
    if (eptp & ~maxphy & ~0xfffull)
        return "26.2.1.1 EPTP must not set bits beyond the physical-address width";
    return 0;
}

uint64_t ept12_violation_qual(uint64_t hw, uint64_t perms12)
{
    uint64_t keep = EPTQUAL_READ | EPTQUAL_WRITE | EPTQUAL_FETCH | EPTQUAL_LINEAR_VALID | EPTQUAL_LINEAR_TRANSLATION |
                    EPTQUAL_NMI_UNBLOCKING;
    return (hw & keep) | ((perms12 & EPT_RWX) << 3);
}

bool ept12_same_ep4ta(uint64_t eptp_a, uint64_t eptp_b) { return ((eptp_a ^ eptp_b) & EPTP_EP4TA_MASK) == 0; }
