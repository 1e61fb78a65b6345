/*
 * EPT paging structures (SDM 28.3): building a 4-level table that maps
 * guest-physical ranges to host-physical ones, and walking it. Used for EPT01
 * (L1's memory) and later for the shadow EPT02.
 */
#ifndef NESTOR_EPT_H
#define NESTOR_EPT_H

#include "types.h"
#include "vmx_arch.h"

struct ept {
    paddr_t pml4;
    bool large_2m, large_1g; /* page sizes the CPU supports (IA32_VMX_EPT_VPID_CAP) */
    unsigned table_pages;    /* paging-structure pages allocated */
    uint64_t mapped_4k, mapped_2m, mapped_1g;
};

/* Table levels, counted as the SDM does: 4 = PML4 ... 1 = PT. */
#define EPT_LEVEL_PML4 4
#define EPT_LEVEL_PDPT 3
#define EPT_LEVEL_PD 2
#define EPT_LEVEL_PT 1

bool ept_init(struct ept *e, uint64_t ept_vpid_cap);
/*
 * Maps [gpa, gpa+size) to [hpa, hpa+size) with the largest pages that both
 * alignments and the CPU allow. Fails (leaving what was mapped so far) when
 * any part is already mapped or a table page cannot be allocated.
 */
bool ept_map(struct ept *e, gpa_t gpa, paddr_t hpa, uint64_t size, uint64_t perms, unsigned memtype);
/*
 * Installs one leaf mapping gpa (aligned to the leaf's size) at level 1, 2 or
 * 3, replacing a leaf already there (a shadow entry being refilled). Fails
 * when a table already occupies that slot or memory runs out. *replaced says
 * whether a present leaf was overwritten (its translation may be cached).
 */
bool ept_install(struct ept *e, gpa_t gpa, paddr_t hpa, unsigned level, uint64_t perms, unsigned memtype,
                 bool ignore_pat, bool *replaced);
/* The page size (in bytes) ept_map would use for the next piece. */
uint64_t ept_choose_page_size(const struct ept *e, gpa_t gpa, paddr_t hpa, uint64_t size);

struct ept_walk {
    bool present;
    paddr_t hpa;       /* translation of the address walked */
    uint64_t leaf;     /* the leaf entry */
    unsigned level;    /* level of the leaf: 1 (4 KiB), 2 (2 MiB), 3 (1 GiB) */
    uint64_t perms;    /* R/W/X intersected over all levels */
};
bool ept_walk(const struct ept *e, gpa_t gpa, struct ept_walk *w);
uint64_t ept_eptp(const struct ept *e);
/* Frees every paging-structure page (not the memory mapped); returns how many the allocator refused (0). */
unsigned ept_destroy(struct ept *e);

/* Writes "read access; GPA not readable/writable/executable; ..." for an EPT-violation qualification. */
void ept_describe_violation(uint64_t qual, char *buf, size_t size);

#endif
