/*
 * Shadow EPT02 entries installed ahead of an L2 fault (ept/ept02_prefetch.c). Pure: L1's
 * memory is read through a callback, the shadow and EPT01 are plain struct ept.
 *
 * A shadow entry installed ahead of a fault obeys the same rules as one installed on a
 * fault (docs/NESTED.md, "Nested EPT"): it exists only where EPT12 has a valid present
 * translation right now and EPT01 maps its L1-physical address; permissions are
 * EPT12 ∩ EPT01, the size the smaller of the two leaves, the memory type EPT12's unless
 * EPT01 says UC. Such an entry is a translation the CPU could have cached on its own
 * (SDM 28.3.3.4: a present EPT entry may be cached at any time), so INVEPT, which drops
 * the whole shadow, removes it like any other. It never replaces a present shadow entry.
 *
 * EPT A/D flags (w->ad, docs/NESTED.md "EPT A/D and PML"): an entry goes in ahead of an access
 * only if that access would set no flag in EPT12 (A set in every entry used), and writable
 * only if the leaf's D is set (w->dirty): the first write still faults and sets D (and logs it
 * to PML), as on a fill.
 */
#ifndef NESTOR_EPT02_PREFETCH_H
#define NESTOR_EPT02_PREFETCH_H

#include "ept.h"
#include "ept12.h"

enum ept02_compose_result {
    EPT02_INSTALLED,
    EPT02_PRESENT,        /* the shadow already translates the address: left as it is */
    EPT02_NOT_L1_MEMORY,  /* EPT01 does not map the L1-physical address EPT12 gives */
    EPT02_L1_MAY_NOT,     /* EPT12 ∩ EPT01 lacks the access asked for (or grants nothing) */
    EPT02_NO_MEMORY,      /* no table page for the shadow entry */
};

/*
 * Installs the shadow entry for gpa2 from a successful EPT12 walk w, if the shadow has none
 * there, with at least the permissions in need. *size_out: the leaf size installed.
 */
enum ept02_compose_result ept02_compose(struct ept *shadow, const struct ept *ept01, gpa_t gpa2,
                                        const struct ept12_walk *w, uint64_t need, uint64_t *size_out);

/* How many neighbours a fill looks at: an aligned group of entries of one EPT12 table page. */
#define EPT02_PREFETCH_GROUP 8

/*
 * After a fill of gpa2 from a 4 KiB EPT12 leaf (w): the other entries of its aligned group
 * of EPT02_PREFETCH_GROUP in the same EPT12 table page that are valid now get their shadow
 * entries too (misconfigured, not-present, non-L1 ones are skipped: a fault will report
 * them). Returns how many were installed; prefetched[] (EPT02_PREFETCH_GROUP slots) gets
 * their guest-physical addresses.
 */
unsigned ept02_prefetch(struct ept *shadow, const struct ept *ept01, gpa_t gpa2, const struct ept12_walk *w,
                        const struct ept12_caps *caps, ept12_read_fn read, void *ctx, gpa_t *prefetched);

#endif
