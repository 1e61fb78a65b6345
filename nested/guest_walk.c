/* Guest page-table walk for emulated data accesses (see include/nestor/guest_walk.h). */
#include "nestor/arch.h"
#include "nestor/guest_walk.h"

#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_XD BIT(63)
#define CR4_PSE BIT(4)
#define CR4_SMAP BIT(21)

struct walk {
    const struct paging_ctx *c;
    const struct gpa_io *io;
    bool write, user;
    bool writable, user_ok; /* accumulated over the levels */
};

static bool read_entry(struct walk *w, gpa_t at, uint64_t *e, unsigned size)
{
    *e = 0;
    return w->io->read(w->io->ctx, at, e, size);
}

/* The CPU sets A (and D on the leaf for writes) as it walks; so does the emulation. */
static bool set_ad(struct walk *w, gpa_t at, uint64_t e, bool leaf, unsigned size)
{
    uint64_t n = e | PTE_A | (leaf && w->write ? PTE_D : 0);
    return n == e || w->io->write(w->io->ctx, at, &n, size);
}

static uint32_t fault(const struct walk *w, bool present, bool rsvd)
{
    return (present ? PFERR_PRESENT : 0) | (w->write ? PFERR_WRITE : 0) | (w->user ? PFERR_USER : 0) |
           (rsvd ? PFERR_RSVD : 0);
}

/* After a present leaf: the access rights of a data access (SDM vol. 3A 4.6). */
static bool allowed(const struct walk *w)
{
    const struct paging_ctx *c = w->c;
    if (w->user)
        return w->user_ok && (!w->write || w->writable);
    if (w->write && !w->writable && (c->cr0 & CR0_WP))
        return false;
    if (w->user_ok && (c->cr4 & CR4_SMAP) && !c->rflags_ac)
        return false;
    return true;
}

enum walk_result guest_walk(const struct paging_ctx *c, const struct gpa_io *io, uint64_t linear, bool write,
                            gpa_t *gpa, uint32_t *pf_error)
{
    struct walk w = {c, io, write, c->cpl == 3, true, true};
    *pf_error = 0;
    if (!(c->cr0 & CR0_PG)) {
        *gpa = linear & 0xffffffffull;
        return WALK_OK;
    }
    bool nx = c->efer & EFER_NXE;
    /* 4-level paging ignores bits 62:52; PAE paging reserves everything from MAXPHYADDR to 62 (SDM vol. 3A 4.4, 4.5). */
    bool four_level_paging = c->efer & EFER_LMA;
    uint64_t rsvd_phys = (four_level_paging ? BIT(52) - 1 : BIT(63) - 1) & ~c->maxphyaddr_mask;
    uint64_t rsvd_xd = nx ? 0 : PTE_XD;

    if (!(c->cr4 & CR4_PAE)) { /* 32-bit paging: two levels of 4-byte entries */
        linear &= 0xffffffffull;
        gpa_t at = (c->cr3 & 0xfffff000ull) + ((linear >> 22) & 0x3ff) * 4;
        uint64_t pde;
        if (!read_entry(&w, at, &pde, 4))
            return WALK_BAD_MEMORY;
        if (!(pde & PTE_P))
            return *pf_error = fault(&w, false, false), WALK_PAGE_FAULT;
        w.writable &= !!(pde & PTE_W);
        w.user_ok &= !!(pde & PTE_U);
        if ((pde & PTE_PS) && (c->cr4 & CR4_PSE)) {
            /* Bits 21:(M-19) of a 4 MiB PDE are reserved, M = min(MAXPHYADDR, 40) (SDM vol. 3A Table 4-4). */
            unsigned m = 0;
            while (m < 40 && (c->maxphyaddr_mask >> m) & 1)
                m++;
            if (m < 32)
                m = 32; /* every CPU with PSE-36 has at least 32 address bits */
            uint64_t rsvd_pse = (BIT(22) - 1) & ~(BIT(m - 19) - 1) & ~0x1fffull;
            if (pde & rsvd_pse)
                return *pf_error = fault(&w, true, true), WALK_PAGE_FAULT;
            if (!allowed(&w))
                return *pf_error = fault(&w, true, false), WALK_PAGE_FAULT;
            if (!set_ad(&w, at, pde, true, 4))
                return WALK_BAD_MEMORY;
            gpa_t frame = (pde & 0xffc00000ull) | ((pde >> 13) & 0xffull) << 32;
            *gpa = frame | (linear & 0x3fffff);
            return WALK_OK;
        }
        if (!set_ad(&w, at, pde, false, 4))
            return WALK_BAD_MEMORY;
        at = (pde & 0xfffff000ull) + ((linear >> 12) & 0x3ff) * 4;
        uint64_t pte;
        if (!read_entry(&w, at, &pte, 4))
            return WALK_BAD_MEMORY;
        if (!(pte & PTE_P))
            return *pf_error = fault(&w, false, false), WALK_PAGE_FAULT;
        w.writable &= !!(pte & PTE_W);
        w.user_ok &= !!(pte & PTE_U);
        if (!allowed(&w))
            return *pf_error = fault(&w, true, false), WALK_PAGE_FAULT;
        if (!set_ad(&w, at, pte, true, 4))
            return WALK_BAD_MEMORY;
        *gpa = (pte & 0xfffff000ull) | (linear & 0xfff);
        return WALK_OK;
    }

    /* PAE (3 levels, PDPTEs from registers), 4-level or 5-level paging (CR4.LA57, SDM vol. 3A 4.5): 8-byte entries. */
    bool four_level = four_level_paging;
    int level;
    uint64_t entry;
    gpa_t at = 0;
    if (four_level) {
        level = (c->cr4 & CR4_LA57) ? 5 : 4;
        at = (c->cr3 & c->maxphyaddr_mask & ~0xfffull) + ((linear >> (12 + 9 * (level - 1))) & 511) * 8;
    } else {
        linear &= 0xffffffffull;
        entry = c->pdpte[(linear >> 30) & 3];
        if (!(entry & PTE_P))
            return *pf_error = fault(&w, false, false), WALK_PAGE_FAULT;
        level = 2;
        at = (entry & c->maxphyaddr_mask & ~0xfffull) + ((linear >> 21) & 511) * 8;
    }
    for (; level >= 1; level--) {
        if (!read_entry(&w, at, &entry, 8))
            return WALK_BAD_MEMORY;
        if (!(entry & PTE_P))
            return *pf_error = fault(&w, false, false), WALK_PAGE_FAULT;
        bool large = level > 1 && (entry & PTE_PS);
        uint64_t rsvd = rsvd_phys | rsvd_xd;
        if (level >= 4 && (entry & PTE_PS)) /* PML5E and PML4E: PS is reserved */
            rsvd |= PTE_PS;
        if (large) /* the frame of a large page must be aligned to it */
            rsvd |= level == 3 ? 0x3fffe000ull : 0x1fe000ull;
        if (entry & rsvd)
            return *pf_error = fault(&w, true, true), WALK_PAGE_FAULT;
        w.writable &= !!(entry & PTE_W);
        w.user_ok &= !!(entry & PTE_U);
        if (level == 1 || large) {
            if (!allowed(&w))
                return *pf_error = fault(&w, true, false), WALK_PAGE_FAULT;
            if (!set_ad(&w, at, entry, true, 8))
                return WALK_BAD_MEMORY;
            uint64_t size = 1ull << (12 + 9 * (level - 1));
            *gpa = (entry & c->maxphyaddr_mask & ~(size - 1)) | (linear & (size - 1));
            return WALK_OK;
        }
        if (!set_ad(&w, at, entry, false, 8))
            return WALK_BAD_MEMORY;
        at = (entry & c->maxphyaddr_mask & ~0xfffull) + ((linear >> (12 + 9 * (level - 2))) & 511) * 8;
    }
    return WALK_BAD_MEMORY;
}
