/* EPT12 accessed/dirty flags (see include/nestor/ept12_ad.h; SDM 28.3.5). */
#include "nestor/ept12_ad.h"
#include "nestor/vmx_arch.h"

/* What the access must find set in the entry at `level`: A always, D too in the leaf of a write. */
static uint64_t wanted(const struct ept12_walk *w, unsigned level, bool write)
{
    return EPT_ACCESSED | (level == w->level && write ? EPT_DIRTY : 0);
}

bool ept12_ad_pending(const struct ept12_walk *w, bool write)
{
    for (unsigned level = 4; level >= w->level && level >= 1; level--)
        if ((w->entry[level] & wanted(w, level, write)) != wanted(w, level, write))
            return true;
    return false;
}

enum ept12_ad_result ept12_ad_set(const struct ept12_walk *w, bool write, ept12_cmpxchg_fn cmpxchg, void *ctx,
                                  bool *dirtied)
{
    *dirtied = false;
    for (unsigned level = 4; level >= w->level && level >= 1; level--) {
        uint64_t old = w->entry[level], want = wanted(w, level, write);
        if ((old & want) == want)
            continue;
        if (!cmpxchg(ctx, w->entry_pa[level], old, old | want))
            return EPT12_AD_CHANGED;
        if (level == w->level && (want & ~old & EPT_DIRTY))
            *dirtied = true;
    }
    return EPT12_AD_DONE;
}

enum ept12_access_result ept12_access(uint64_t eptp, gpa_t gpa, uint64_t need, const struct ept12_caps *caps,
                                      ept12_read_fn read, ept12_cmpxchg_fn cmpxchg, void *ctx,
                                      const struct ept12_ad_log *log, struct ept12_walk *w)
{
    bool ad = eptp & EPTP_AD_ENABLE, write = need & EPT_W;
    for (unsigned tries = 0; tries < EPT12_AD_TRIES; tries++) {
        enum ept12_result r = ept12_walk(eptp, gpa, caps, read, ctx, w);
        w->ad = ad;
        if (r == EPT12_MISCONFIG)
            return EPT12_ACCESS_MISCONFIG;
        if (r == EPT12_NOT_PRESENT || (w->perms & need) != need)
            return EPT12_ACCESS_VIOLATION; /* the CPU sets no flag for a translation it cannot use */
        w->dirty = !ad || (w->entry[w->level] & EPT_DIRTY);
        if (!ad || !ept12_ad_pending(w, write))
            return EPT12_ACCESS_OK;
        /* SDM 28.3.6: the PML index is checked before any flag is set, for A as well as D. */
        if (log && log->full(log->ctx))
            return EPT12_ACCESS_LOG_FULL;
        bool dirtied;
        if (ept12_ad_set(w, write, cmpxchg, ctx, &dirtied) == EPT12_AD_CHANGED)
            continue;
        w->dirty |= write;
        w->ad_written = true;
        w->dirtied = dirtied;
        if (dirtied && log)
            log->dirtied(log->ctx, gpa);
        return EPT12_ACCESS_OK;
    }
    return EPT12_ACCESS_BUSY;
}
