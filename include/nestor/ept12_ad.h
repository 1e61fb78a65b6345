/*
 * Accessed and dirty flags in L1's EPT12 (SDM 28.3.5), set by Nestor for L2's accesses the way
 * the CPU sets them in an EPT whose EPTP has bit 6 set, and the page-modification log that goes
 * with them (SDM 28.3.6, logged by the caller's hook).
 *
 * - A in every EPT12 entry a translation uses, D in the leaf (the entry that maps the page) for a
 *   write. With A/D enabled the CPU treats its accesses to guest paging structures as writes
 *   (SDM 28.3.3.2): the caller passes those as writes (need includes EPT_W).
 * - Flags are set only for an access the walk allows (as the CPU, which sets them for the
 *   translation it uses), entry by entry from the root, each with one compare-exchange of
 *   the value the walk read: if L1 (or another of its CPUs) changed an entry in between, the
 *   walk starts again on the new tables. An L1 that rewrites its tables faster than that for
 *   EPT12_AD_TRIES walks gets EPT12_ACCESS_BUSY: the caller lets L2 retry the access.
 * - Before setting any flag, the log hook is asked whether the PML index is out of range; if so
 *   nothing is set and the access does not happen (EPT12_ACCESS_LOG_FULL: a PML-full exit).
 *   A D flag that goes from 0 to 1 is reported to the hook (the CPU logs exactly those).
 *
 * Pure: L1's memory through callbacks, so the unit tests run it on fake memory.
 */
#ifndef NESTOR_EPT12_AD_H
#define NESTOR_EPT12_AD_H

#include "ept12.h"

#define EPT12_AD_TRIES 8

/*
 * Replaces the 8-byte entry at L1-physical pa by val if it still holds old, atomically (L1's other
 * CPUs may be changing it). false only if it no longer holds old; a write to memory that is not
 * writable RAM of L1 vanishes, as on a bus, and counts as done.
 */
typedef bool (*ept12_cmpxchg_fn)(void *ctx, gpa_t pa, uint64_t old, uint64_t val);

struct ept12_ad_log {
    bool (*full)(void *ctx);                /* the PML index is out of range (SDM 28.3.6) */
    void (*dirtied)(void *ctx, gpa_t gpa);  /* a D flag went 0 -> 1 for an access to guest-physical gpa */
    void *ctx;
};

/* The flags an access would still have to set in the entries of a successful walk. */
bool ept12_ad_pending(const struct ept12_walk *w, bool write);

enum ept12_ad_result { EPT12_AD_DONE, EPT12_AD_CHANGED };
/* Sets them; *dirtied: the leaf's D went from 0 to 1 here. EPT12_AD_CHANGED: walk again. */
enum ept12_ad_result ept12_ad_set(const struct ept12_walk *w, bool write, ept12_cmpxchg_fn cmpxchg, void *ctx,
                                  bool *dirtied);

enum ept12_access_result {
    EPT12_ACCESS_OK,        /* w describes the translation; flags set (w->dirty: may be mapped writable) */
    EPT12_ACCESS_VIOLATION, /* not present, or the permissions lack `need`: no flag set */
    EPT12_ACCESS_MISCONFIG,
    EPT12_ACCESS_LOG_FULL,  /* PML index out of range: no flag set, the access must not happen */
    EPT12_ACCESS_BUSY,      /* the entries kept changing under the walk: retry the access later */
};

/*
 * An access by L2 to guest-physical gpa needing `need` (EPT_R/W/X): the walk, then, when the
 * EPTP enables A/D, the flags. log may be NULL (no PML).
 */
enum ept12_access_result ept12_access(uint64_t eptp, gpa_t gpa, uint64_t need, const struct ept12_caps *caps,
                                      ept12_read_fn read, ept12_cmpxchg_fn cmpxchg, void *ctx,
                                      const struct ept12_ad_log *log, struct ept12_walk *w);

#endif
