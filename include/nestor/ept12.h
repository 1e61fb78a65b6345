/*
 * Walking the EPT L1 gives its L2 (EPT12), as the CPU walks an EPT
 * (SDM 28.3.2), with the misconfiguration rules of SDM 28.3.3.1. Pure: L1's
 * memory is read through a callback (unmapped memory reads as all ones, which
 * a walk treats as a misconfigured entry). Never trusts a value L1 controls:
 * a hostile table (self-referencing, reserved bits, huge pages anywhere) ends
 * in a defined result, never in an assertion.
 */
#ifndef NESTOR_EPT12_H
#define NESTOR_EPT12_H

#include "types.h"

struct ept12_caps {
    bool exec_only;           /* execute-only entries allowed (IA32_VMX_EPT_VPID_CAP[0] as offered) */
    bool large_2m, large_1g;  /* page sizes offered */
    uint64_t maxphyaddr_mask; /* (1 << MAXPHYADDR) - 1 */
};

enum ept12_result { EPT12_OK, EPT12_NOT_PRESENT, EPT12_MISCONFIG };

struct ept12_walk {
    gpa_t l1pa;         /* translation of the address walked (valid for EPT12_OK) */
    uint64_t page_size; /* 4 KiB, 2 MiB or 1 GiB */
    uint64_t perms;     /* EPT_R|W|X ANDed over every entry used (SDM 27.2.1 qualification bits 5:3) */
    unsigned memtype;   /* leaf memory type */
    bool ignore_pat;
    unsigned level;     /* level where the walk ended: 4 PML4 ... 1 PT */
    gpa_t leaf_table;   /* L1-physical address of the table holding the leaf (valid for EPT12_OK) */
    uint64_t upper_perms; /* EPT_R|W|X ANDed over the non-leaf entries used (valid for EPT12_OK) */
    /* Every entry the walk read, by level (4 ... w->level): where it is in L1-physical memory and
     * what it held, so A/D flags can be set on exactly these values (ept/ept12_ad.c). */
    gpa_t entry_pa[5];
    uint64_t entry[5];
    /* Set by ept12_access (ept12_ad.h): A/D flags enabled in the EPTP, and the leaf's D flag is
     * set once the access is done (always true without A/D). */
    bool ad, dirty;
    /* Set by ept12_access: this access wrote flags into EPT12 / turned the leaf's D from 0 to 1. */
    bool ad_written, dirtied;
};

/* Reads the 8-byte entry at L1-physical address pa (all ones when there is no memory). */
typedef uint64_t (*ept12_read_fn)(void *ctx, gpa_t pa);

enum ept12_result ept12_walk(uint64_t eptp, gpa_t gpa, const struct ept12_caps *caps, ept12_read_fn read, void *ctx,
                             struct ept12_walk *w);

/*
 * Another entry of the table that holds a walk's leaf, at the same level: the translation it
 * gives gpa (which must index that entry), with the same checks as a full walk. Lets a
 * caller look at neighbouring entries without walking the upper levels again.
 */
enum ept12_result ept12_sibling(const struct ept12_walk *leaf, uint64_t entry, gpa_t gpa, const struct ept12_caps *caps,
                                struct ept12_walk *w);

/* EPTP checks of SDM 26.2.1.1 for the capabilities offered: NULL if valid, else the rule. */
const char *ept12_check_eptp(uint64_t eptp, bool memtype_uc_ok, bool memtype_wb_ok, bool ad_ok,
                             uint64_t maxphyaddr_mask);

/*
 * The exit qualification L1 receives for an EPT violation its EPT12 causes:
 * access and linear-address bits (0-2, 7, 8) and NMI unblocking (12) from the
 * hardware's qualification, bits 5:3 from the EPT12 walk, nothing Nestor
 * does not offer (bits 6, 9-11).
 */
uint64_t ept12_violation_qual(uint64_t hw_qual, uint64_t perms12);

/*
 * INVEPT single-context invalidates the mappings of an EP4TA, bits 51:12 of the EPTP
 * (SDM 28.4.3.1, "INVEPT"): EPTPs differing only in memory type, walk length or the
 * accessed/dirty flag name the same context.
 */
#define EPTP_EP4TA_MASK ((uint64_t)0x000ffffffffff000)
bool ept12_same_ep4ta(uint64_t eptp_a, uint64_t eptp_b);

#endif
