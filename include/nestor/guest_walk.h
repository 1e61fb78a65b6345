/*
 * Translating a linear address of L1 (or L2) to a guest-physical address by
 * walking the guest's own page tables, as the CPU would for a data access
 * (SDM vol. 3A chapter 4): no paging, 32-bit, PAE, 4-level and 5-level paging, with
 * the permission checks and accessed/dirty updates of a supervisor or user
 * data access. Used to reach the memory operands of emulated instructions.
 */
#ifndef NESTOR_GUEST_WALK_H
#define NESTOR_GUEST_WALK_H

#include "types.h"

struct gpa_io {
    bool (*read)(void *ctx, gpa_t gpa, void *buf, size_t n);
    bool (*write)(void *ctx, gpa_t gpa, const void *buf, size_t n);
    void *ctx;
};

struct paging_ctx {
    uint64_t cr0, cr3, cr4, efer;
    uint64_t pdpte[4]; /* PAE paging: the PDPTE registers (from the VMCS) */
    unsigned cpl;
    bool rflags_ac;
    uint64_t maxphyaddr_mask; /* bits of a physical address that may be set */
};

/* #PF error code bits (SDM vol. 3A 4.7). */
#define PFERR_PRESENT BIT(0)
#define PFERR_WRITE BIT(1)
#define PFERR_USER BIT(2)
#define PFERR_RSVD BIT(3)

enum walk_result { WALK_OK, WALK_PAGE_FAULT, WALK_BAD_MEMORY };

/* A PAE PDPTE the CPU would load: not present, or present without reserved bits (SDM vol. 3A 4.4.1). */
static inline bool pae_pdpte_valid(uint64_t pdpte, uint64_t maxphyaddr_mask)
{
    return !(pdpte & 1) || !(pdpte & (0x1e6ull | ~maxphyaddr_mask));
}

/*
 * Canonical for the paging mode (SDM vol. 3A 3.3.7.1, 4.5): bits 63:47 equal with
 * 4-level paging, bits 63:56 with 5-level paging (CR4.LA57).
 */
static inline bool is_canonical_for(uint64_t a, bool la57)
{
    unsigned shift = la57 ? 7 : 16;
    return (uint64_t)((int64_t)(a << shift) >> shift) == a;
}

/* On WALK_PAGE_FAULT, *pf_error holds the #PF error code (CR2 is the linear address). */
enum walk_result guest_walk(const struct paging_ctx *c, const struct gpa_io *io, uint64_t linear, bool write,
                            gpa_t *gpa, uint32_t *pf_error);

#endif
