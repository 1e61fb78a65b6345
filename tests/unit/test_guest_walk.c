/*
 * nested/guest_walk.c: a guest's own page-table walk for emulated data
 * accesses (SDM vol. 3A chapter 4: 32-bit, PAE and 4-level paging, 4.6
 * access rights, 4.7 #PF error codes, 4.8 accessed and dirty flags) over a
 * fake guest-physical memory reached through the gpa_io callbacks.
 */
#include <stdlib.h>

#include "harness.h"
#include "nestor/arch.h"
#include "nestor/guest_walk.h"

/* ------------------------------------------------------------ fake guest-physical memory */

#define MEM_SIZE (8ull << 20) /* guest-physical [0, 8 MiB) is RAM */

static uint8_t *mem;
static unsigned reads, writes;
static bool read_only_mem; /* writes refused (A/D updates fail) */

static bool mem_read(void *ctx, gpa_t gpa, void *buf, size_t n)
{
    assert_ptr_equal(ctx, &mem);
    reads++;
    if (gpa >= MEM_SIZE || n > MEM_SIZE - gpa)
        return false;
    memcpy(buf, mem + gpa, n);
    return true;
}

static bool mem_write(void *ctx, gpa_t gpa, const void *buf, size_t n)
{
    assert_ptr_equal(ctx, &mem);
    writes++;
    if (read_only_mem || gpa >= MEM_SIZE || n > MEM_SIZE - gpa)
        return false;
    memcpy(mem + gpa, buf, n);
    return true;
}

static const struct gpa_io io = {mem_read, mem_write, &mem};

static void put32(gpa_t at, uint32_t v) { memcpy(mem + at, &v, 4); }
static void put64(gpa_t at, uint64_t v) { memcpy(mem + at, &v, 8); }
static uint32_t get32(gpa_t at)
{
    uint32_t v;
    memcpy(&v, mem + at, 4);
    return v;
}
static uint64_t get64(gpa_t at)
{
    uint64_t v;
    memcpy(&v, mem + at, 8);
    return v;
}

/* Page-table entry bits (SDM vol. 3A Tables 4-4 to 4-20). */
#define P BIT(0)
#define W BIT(1)
#define U BIT(2)
#define A BIT(5)
#define D BIT(6)
#define PS BIT(7)
#define XD BIT(63)
#define CR4_PSE BIT(4)
#define CR4_SMAP BIT(21)

#define MAXPHY_39 ((1ull << 39) - 1)

static struct paging_ctx ctx;
static gpa_t gpa;
static uint32_t pferr;

static int group_setup(void **state UNUSED)
{
    mem = calloc(1, MEM_SIZE);
    return mem ? 0 : -1;
}

static int group_teardown(void **state UNUSED)
{
    free(mem);
    return 0;
}

static int setup(void **state UNUSED)
{
    memset(mem, 0, MEM_SIZE);
    reads = writes = 0;
    read_only_mem = false;
    memset(&ctx, 0, sizeof ctx);
    ctx.maxphyaddr_mask = MAXPHY_39;
    gpa = 0xdeadbeef;
    pferr = 0xdeadbeef;
    return 0;
}

static enum walk_result walk(uint64_t linear, bool write) { return guest_walk(&ctx, &io, linear, write, &gpa, &pferr); }

/* Walks and expects a translation. */
#define ASSERT_MAPS(linear, write, expect)                                                         \
    do {                                                                                           \
        enum walk_result r_ = walk((linear), (write));                                             \
        if (r_ != WALK_OK)                                                                         \
            print_error("walk of 0x%llx: result %d, #PF error 0x%x\n", (unsigned long long)(linear), r_, pferr); \
        assert_int_equal(r_, WALK_OK);                                                             \
        assert_int_equal(gpa, (expect));                                                           \
    } while (0)

/* Walks and expects a page fault with this error code. */
#define ASSERT_FAULT(linear, write, err)                                                           \
    do {                                                                                           \
        enum walk_result r_ = walk((linear), (write));                                             \
        if (r_ != WALK_PAGE_FAULT)                                                                 \
            print_error("walk of 0x%llx: result %d (gpa 0x%llx), expected #PF 0x%x\n",             \
                        (unsigned long long)(linear), r_, (unsigned long long)gpa, (unsigned)(err)); \
        assert_int_equal(r_, WALK_PAGE_FAULT);                                                     \
        assert_int_equal(pferr, (err));                                                            \
    } while (0)

/* ------------------------------------------------------------ builders */

/* 32-bit paging: page directory at 0x1000. */
#define PD32 0x1000ull

static void paging32(void)
{
    ctx.cr0 = CR0_PE | CR0_PG | CR0_WP;
    ctx.cr3 = PD32;
    ctx.cr4 = 0;
}

static gpa_t pde32_at(uint32_t linear) { return PD32 + ((linear >> 22) & 0x3ff) * 4; }
static gpa_t pte32_at(gpa_t pt, uint32_t linear) { return pt + ((linear >> 12) & 0x3ff) * 4; }

/* PAE paging: PDPTEs in the context, page directories from 0x3000. */
static void paging_pae(void)
{
    ctx.cr0 = CR0_PE | CR0_PG | CR0_WP;
    ctx.cr3 = 0x7ff000; /* garbage there: PAE walks must not read the PDPT from memory */
    memset(mem + 0x7ff000, 0xff, 0x1000);
    ctx.cr4 = CR4_PAE;
    ctx.efer = 0;
}

/* 4-level paging with a bump allocator for tables. */
#define PML4 0x10000ull
static gpa_t next_table;

static void paging64(void)
{
    ctx.cr0 = CR0_PE | CR0_PG | CR0_WP;
    ctx.cr3 = PML4;
    ctx.cr4 = CR4_PAE;
    ctx.efer = EFER_LME | EFER_LMA | EFER_NXE;
    next_table = PML4 + 0x1000;
}

static unsigned idx64(uint64_t linear, int level) { return (linear >> (12 + 9 * (level - 1))) & 511; }

/*
 * Maps linear with a leaf at leaf_level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) to frame,
 * creating tables with upper flags. Returns the address of the leaf entry.
 */
static gpa_t map64(uint64_t linear, int leaf_level, uint64_t frame, uint64_t leaf_flags, uint64_t upper_flags)
{
    gpa_t table = PML4;
    for (int level = 4; level > leaf_level; level--) {
        gpa_t at = table + idx64(linear, level) * 8;
        uint64_t e = get64(at);
        if (!(e & P)) {
            e = next_table | upper_flags;
            next_table += 0x1000;
            put64(at, e);
        }
        table = e & 0xffffffffff000ull;
    }
    gpa_t at = table + idx64(linear, leaf_level) * 8;
    put64(at, frame | leaf_flags | (leaf_level > 1 ? PS : 0));
    return at;
}

/* Address of the entry at level for linear, following the tables as they are. */
static gpa_t entry64(uint64_t linear, int level)
{
    gpa_t table = PML4;
    for (int l = 4; l > level; l--)
        table = get64(table + idx64(linear, l) * 8) & 0xffffffffff000ull;
    return table + idx64(linear, level) * 8;
}

/* ------------------------------------------------------------ no paging */

TEST(walk_no_paging_is_identity)
{
    ctx.cr0 = CR0_PE;
    ASSERT_MAPS(0x12345678, false, 0x12345678);
    ASSERT_MAPS(0x12345678, true, 0x12345678);
    ASSERT_MAPS(0x123456789ull, false, 0x23456789); /* linear addresses are 32 bits */
    assert_int_equal(pferr, 0);
    assert_int_equal(reads + writes, 0);
    /* Real mode likewise. */
    ctx.cr0 = 0;
    ASSERT_MAPS(0xffff0, false, 0xffff0);
}

/* ------------------------------------------------------------ 32-bit paging */

TEST(walk_32bit_4k)
{
    paging32();
    uint32_t lin = 0x00801234;
    put32(pde32_at(lin), 0x2000 | P | W | U);
    put32(pte32_at(0x2000, lin), 0x5000 | P | W | U);
    ASSERT_MAPS(lin, false, 0x5234);
    assert_int_equal(get32(pde32_at(lin)), 0x2000 | P | W | U | A);
    assert_int_equal(get32(pte32_at(0x2000, lin)), 0x5000 | P | W | U | A); /* no D for a read */
    ASSERT_MAPS(lin, true, 0x5234);
    assert_int_equal(get32(pde32_at(lin)), 0x2000 | P | W | U | A);         /* D never on a PDE */
    assert_int_equal(get32(pte32_at(0x2000, lin)), 0x5000 | P | W | U | A | D);
    /* The next entry of the PD is untouched (4-byte entries). */
    assert_int_equal(get32(pde32_at(lin) + 4), 0);
    /* Upper 32 bits of the linear address are ignored. */
    ASSERT_MAPS(0xabcd00000000ull | lin, false, 0x5234);
}

TEST(walk_32bit_4m_pse)
{
    paging32();
    ctx.cr4 = CR4_PSE;
    uint32_t lin = 0x00c12345;
    put32(pde32_at(lin), 0x00400000 | P | W | PS);
    ASSERT_MAPS(lin, false, 0x00412345);
    assert_int_equal(get32(pde32_at(lin)), 0x00400000 | P | W | PS | A);
    ASSERT_MAPS(lin, true, 0x00412345);
    assert_int_equal(get32(pde32_at(lin)), 0x00400000 | P | W | PS | A | D); /* the PDE is the leaf */
    /* PAT (bit 12) is not an address bit. */
    put32(pde32_at(lin), 0x00400000 | BIT(12) | P | W | PS);
    ASSERT_MAPS(lin, false, 0x00412345);
}

TEST(walk_32bit_pse36_high_address)
{
    paging32();
    ctx.cr4 = CR4_PSE;
    uint32_t lin = 0x00c12345;
    /* Bits 20:13 of the PDE are physical-address bits 39:32. */
    put32(pde32_at(lin), 0x00400000 | (0x5u << 13) | P | PS);
    ASSERT_MAPS(lin, false, 0x500412345ull);
}

TEST(walk_32bit_ps_ignored_without_pse)
{
    paging32();
    uint32_t lin = 0x00c12345;
    /* Without CR4.PSE, PS is ignored: the PDE points at a page table. */
    put32(pde32_at(lin), 0x00400000 | P | W | PS);
    put32(pte32_at(0x00400000, lin), 0x6000 | P | W);
    ASSERT_MAPS(lin, false, 0x6345);
}

TEST(walk_32bit_4m_bit21_reserved)
{
    paging32();
    ctx.cr4 = CR4_PSE;
    uint32_t lin = 0x00c12345;
    put32(pde32_at(lin), 0x00400000 | BIT(21) | P | W | PS);
    ASSERT_FAULT(lin, false, PFERR_PRESENT | PFERR_RSVD);
    ASSERT_FAULT(lin, true, PFERR_PRESENT | PFERR_RSVD | PFERR_WRITE);
    assert_int_equal(get32(pde32_at(lin)) & A, 0);
}

/*
 * SDM vol. 3A Table 4-4: in a 4-MByte PDE, bits 21:(M-19) are reserved with
 * M = min(MAXPHYADDR, 40). With MAXPHYADDR 36, bits 20:17 (physical bits 39:36)
 * must fault as reserved, like bits above MAXPHYADDR in every other mode.
 */
TEST(walk_32bit_pse36_beyond_maxphyaddr_reserved)
{
    paging32();
    ctx.cr4 = CR4_PSE;
    ctx.maxphyaddr_mask = (1ull << 36) - 1;
    uint32_t lin = 0x00c12345;
    put32(pde32_at(lin), 0x00400000 | (0x8u << 13) | P | PS); /* physical bit 35: within 36 bits */
    ASSERT_MAPS(lin, false, 0x800412345ull);
    put32(pde32_at(lin), 0x00400000 | (0x10u << 13) | P | PS); /* physical bit 36: beyond */
    ASSERT_FAULT(lin, false, PFERR_PRESENT | PFERR_RSVD);
}

TEST(walk_32bit_not_present)
{
    paging32();
    uint32_t lin = 0x00801234;
    ASSERT_FAULT(lin, false, 0);
    ASSERT_FAULT(lin, true, PFERR_WRITE);
    ctx.cpl = 3;
    ASSERT_FAULT(lin, true, PFERR_WRITE | PFERR_USER);
    ctx.cpl = 0;
    put32(pde32_at(lin), 0x2000 | P | W);
    ASSERT_FAULT(lin, false, 0); /* PTE not present */
    ASSERT_FAULT(lin, true, PFERR_WRITE);
}

TEST(walk_32bit_permissions)
{
    paging32();
    uint32_t lin = 0x00801234;
    put32(pde32_at(lin), 0x2000 | P | W | U);
    put32(pte32_at(0x2000, lin), 0x5000 | P | U); /* read-only user page */
    ASSERT_FAULT(lin, true, PFERR_PRESENT | PFERR_WRITE);
    ctx.cr0 &= ~CR0_WP;
    ASSERT_MAPS(lin, true, 0x5234);
    ctx.cpl = 3;
    ASSERT_FAULT(lin, true, PFERR_PRESENT | PFERR_WRITE | PFERR_USER);
    ASSERT_MAPS(lin, false, 0x5234);
    /* Supervisor at the PDE level. */
    put32(pde32_at(lin), 0x2000 | P | W);
    ASSERT_FAULT(lin, false, PFERR_PRESENT | PFERR_USER);
}

/* ------------------------------------------------------------ PAE paging */

TEST(walk_pae_4k_and_2m)
{
    paging_pae();
    uint32_t lin4k = 0x40201234;  /* PDPTE 1, PDE 1, PTE 1 */
    uint32_t lin2m = 0xc0412345;  /* PDPTE 3, PDE 2 */
    ctx.pdpte[1] = 0x3000 | P;
    ctx.pdpte[3] = 0x4000 | P;
    put64(0x3000 + 1 * 8, 0x5000 | P | W | U);
    put64(0x5000 + 1 * 8, 0x6000 | P | W | U);
    put64(0x4000 + 2 * 8, 0x200000 | P | W | PS);
    ASSERT_MAPS(lin4k, false, 0x6234);
    ASSERT_MAPS(lin2m, false, 0x212345);
    assert_int_equal(get64(0x3000 + 8), 0x5000 | P | W | U | A);
    assert_int_equal(get64(0x5000 + 8), 0x6000 | P | W | U | A);
    assert_int_equal(get64(0x4000 + 16), 0x200000 | P | W | PS | A);
    ASSERT_MAPS(lin2m, true, 0x212345);
    assert_int_equal(get64(0x4000 + 16), 0x200000 | P | W | PS | A | D);
    ASSERT_MAPS(lin4k, true, 0x6234);
    assert_int_equal(get64(0x3000 + 8), 0x5000 | P | W | U | A);
    assert_int_equal(get64(0x5000 + 8), 0x6000 | P | W | U | A | D);
    /* The PDPTEs come from the context, never from memory at CR3. */
    assert_int_equal(ctx.pdpte[1], 0x3000 | P);
    for (gpa_t a = 0x7ff000; a < 0x800000; a += 8)
        assert_int_equal(get64(a), ~0ull);
    /* 2 MiB frame above 4 GiB, within MAXPHYADDR. */
    put64(0x4000 + 2 * 8, 0x7f45600000ull | P | W | PS);
    ASSERT_MAPS(lin2m, false, 0x7f45612345ull);
}

TEST(walk_pae_pdpte_not_present)
{
    paging_pae();
    ctx.pdpte[0] = 0x3000; /* P = 0 */
    ASSERT_FAULT(0x1000, false, 0);
    ASSERT_FAULT(0x1000, true, PFERR_WRITE);
    assert_int_equal(reads, 0);
}

TEST(walk_pae_xd_needs_nxe)
{
    paging_pae();
    ctx.pdpte[0] = 0x3000 | P;
    put64(0x3000, 0x5000 | P | W);
    put64(0x5000 + 8, 0x6000 | P | W | XD);
    ASSERT_FAULT(0x1000, false, PFERR_PRESENT | PFERR_RSVD);
    ctx.efer = EFER_NXE;
    ASSERT_MAPS(0x1000, false, 0x6000); /* data access: XD does not matter */
}

/*
 * SDM vol. 3A Tables 4-9 to 4-11 (and KVM's rsvd_bits(maxphyaddr, 62) for
 * PAE): in PAE paging-structure entries, bits 62:MAXPHYADDR are reserved.
 * Only 4-level paging ignores bits 62:52.
 */
TEST(walk_pae_bits_62_52_reserved)
{
    paging_pae();
    ctx.pdpte[0] = 0x3000 | P;
    put64(0x3000, 0x5000 | P | W);
    put64(0x5000 + 8, 0x6000 | P | W | BIT(52));
    ASSERT_FAULT(0x1000, false, PFERR_PRESENT | PFERR_RSVD);
    put64(0x5000 + 8, 0x6000 | P | W);
    put64(0x3000 + 8, 0x200000 | P | W | PS | BIT(62)); /* 2 MiB leaf */
    ASSERT_FAULT(0x200000, false, PFERR_PRESENT | PFERR_RSVD);
}

TEST(walk_pae_reserved_and_misaligned)
{
    paging_pae();
    ctx.pdpte[0] = 0x3000 | P;
    put64(0x3000, 0x5000 | P | W);
    put64(0x5000 + 8, 0x6000 | P | W | (1ull << 39)); /* beyond MAXPHYADDR */
    ASSERT_FAULT(0x1000, false, PFERR_PRESENT | PFERR_RSVD);
    put64(0x3000 + 8, 0x200000 | BIT(13) | P | W | PS); /* 2 MiB frame not aligned */
    ASSERT_FAULT(0x200000, true, PFERR_PRESENT | PFERR_RSVD | PFERR_WRITE);
    assert_int_equal(get64(0x3000 + 8) & (A | D), 0);
    /* PAT (bit 12) in a 2 MiB PDE is not an address bit. */
    put64(0x3000 + 8, 0x200000 | BIT(12) | P | W | PS);
    ASSERT_MAPS(0x200000, false, 0x200000);
}

/* ------------------------------------------------------------ 4-level paging */

#define LIN64 0xffff800000201234ull

TEST(walk_4level_4k)
{
    paging64();
    uint64_t upper = P | W | U;
    map64(LIN64, 1, 0x7000, P | W | U, upper);
    ASSERT_MAPS(LIN64, false, 0x7234);
    for (int level = 4; level >= 1; level--) {
        uint64_t e = get64(entry64(LIN64, level));
        assert_true(e & A);
        assert_false(e & D);
    }
    ASSERT_MAPS(LIN64, true, 0x7234);
    for (int level = 4; level >= 2; level--)
        assert_false(get64(entry64(LIN64, level)) & D); /* D only on the leaf */
    assert_true(get64(entry64(LIN64, 1)) & D);
    assert_int_equal(get64(entry64(LIN64, 1)), 0x7000 | P | W | U | A | D);
}

TEST(walk_4level_2m)
{
    paging64();
    gpa_t leaf = map64(LIN64, 2, 0x400000, P | W, P | W);
    ASSERT_MAPS(LIN64, false, 0x401234);
    ASSERT_MAPS(LIN64 + 0x1fe000, false, 0x5ff234);
    assert_int_equal(get64(leaf), 0x400000 | P | W | PS | A);
    ASSERT_MAPS(LIN64, true, 0x401234);
    assert_int_equal(get64(leaf), 0x400000 | P | W | PS | A | D);
    assert_false(get64(entry64(LIN64, 3)) & D);
    assert_true(get64(entry64(LIN64, 3)) & A);
    assert_true(get64(entry64(LIN64, 4)) & A);
}

TEST(walk_4level_1g)
{
    paging64();
    uint64_t lin = 0x00007f8040201234ull;
    gpa_t leaf = map64(lin, 3, 0x40000000, P | W, P | W);
    ASSERT_MAPS(lin, false, 0x40000000 + (lin & 0x3fffffff));
    ASSERT_MAPS(lin, true, 0x40000000 + (lin & 0x3fffffff));
    assert_int_equal(get64(leaf), 0x40000000 | P | W | PS | A | D);
    assert_false(get64(entry64(lin, 4)) & D);
}

TEST(walk_4level_not_present_each_level)
{
    for (int level = 4; level >= 1; level--) {
        setup(NULL);
        paging64();
        map64(LIN64, 1, 0x7000, P | W | U, P | W | U);
        gpa_t at = entry64(LIN64, level);
        put64(at, get64(at) & ~P);
        ASSERT_FAULT(LIN64, false, 0);
        ASSERT_FAULT(LIN64, true, PFERR_WRITE);
        ctx.cpl = 3;
        ASSERT_FAULT(LIN64, false, PFERR_USER);
        ASSERT_FAULT(LIN64, true, PFERR_WRITE | PFERR_USER);
    }
}

TEST(walk_4level_write_protect)
{
    paging64();
    gpa_t leaf = map64(LIN64, 1, 0x7000, P, P | W);
    ASSERT_FAULT(LIN64, true, PFERR_PRESENT | PFERR_WRITE);
    assert_int_equal(get64(leaf) & (A | D), 0); /* no A/D on a faulting access */
    ASSERT_MAPS(LIN64, false, 0x7234);
    ctx.cr0 &= ~CR0_WP;
    ASSERT_MAPS(LIN64, true, 0x7234);
    assert_true(get64(leaf) & D);
    /* Read-only higher up counts too. */
    setup(NULL);
    paging64();
    map64(LIN64, 1, 0x7000, P | W, P | W);
    gpa_t pdpte = entry64(LIN64, 3);
    put64(pdpte, get64(pdpte) & ~W);
    ASSERT_FAULT(LIN64, true, PFERR_PRESENT | PFERR_WRITE);
    ctx.cr0 &= ~CR0_WP;
    ASSERT_MAPS(LIN64, true, 0x7234);
}

TEST(walk_4level_user_supervisor)
{
    paging64();
    gpa_t leaf = map64(LIN64, 1, 0x7000, P | W, P | W | U); /* supervisor leaf */
    ctx.cpl = 3;
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_USER);
    ASSERT_FAULT(LIN64, true, PFERR_PRESENT | PFERR_WRITE | PFERR_USER);
    put64(leaf, 0x7000 | P | W | U);
    ASSERT_MAPS(LIN64, true, 0x7234);
    /* U clear in the PML4E alone makes the page supervisor. */
    gpa_t pml4e = entry64(LIN64, 4);
    put64(pml4e, get64(pml4e) & ~U);
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_USER);
    /* User write to a read-only user page faults even with CR0.WP = 0. */
    put64(pml4e, get64(pml4e) | U);
    put64(leaf, 0x7000 | P | U);
    ctx.cr0 &= ~CR0_WP;
    ASSERT_FAULT(LIN64, true, PFERR_PRESENT | PFERR_WRITE | PFERR_USER);
    /* CPL 1 and 2 are supervisor. */
    ctx.cpl = 2;
    ASSERT_MAPS(LIN64, true, 0x7234);
}

TEST(walk_4level_smap)
{
    paging64();
    map64(LIN64, 1, 0x7000, P | W | U, P | W | U); /* user page */
    ASSERT_MAPS(LIN64, false, 0x7234);             /* no SMAP: supervisor may read it */
    ctx.cr4 |= CR4_SMAP;
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT);
    ASSERT_FAULT(LIN64, true, PFERR_PRESENT | PFERR_WRITE);
    ctx.rflags_ac = true;
    ASSERT_MAPS(LIN64, false, 0x7234);
    ASSERT_MAPS(LIN64, true, 0x7234);
    ctx.rflags_ac = false;
    /* User code is not affected by SMAP. */
    ctx.cpl = 3;
    ASSERT_MAPS(LIN64, false, 0x7234);
    /* A page supervisor at any level is not a user page. */
    ctx.cpl = 0;
    gpa_t pde = entry64(LIN64, 2);
    put64(pde, get64(pde) & ~U);
    ASSERT_MAPS(LIN64, false, 0x7234);
}

TEST(walk_4level_reserved_above_maxphyaddr)
{
    for (int level = 4; level >= 1; level--) {
        setup(NULL);
        paging64();
        map64(LIN64, 1, 0x7000, P | W, P | W);
        gpa_t at = entry64(LIN64, level);
        put64(at, get64(at) | (1ull << 39));
        ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_RSVD);
        ctx.cpl = 3;
        ASSERT_FAULT(LIN64, true, PFERR_PRESENT | PFERR_RSVD | PFERR_WRITE | PFERR_USER);
        /* Bit 51 too; bits 62:52 are ignored in 4-level paging. */
        ctx.cpl = 0;
        put64(at, (get64(at) & ~(1ull << 39)) | BIT(51));
        ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_RSVD);
        put64(at, (get64(at) & ~BIT(51)) | BIT(52) | BIT(62));
        ASSERT_MAPS(LIN64, false, 0x7234);
    }
}

TEST(walk_4level_xd_without_nxe)
{
    paging64();
    gpa_t leaf = map64(LIN64, 1, 0x7000, P | W | XD, P | W);
    ASSERT_MAPS(LIN64, false, 0x7234); /* NXE on: fine for data */
    ctx.efer &= ~EFER_NXE;
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_RSVD);
    put64(leaf, get64(leaf) & ~XD);
    gpa_t pml4e = entry64(LIN64, 4);
    put64(pml4e, get64(pml4e) | XD);
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_RSVD);
}

TEST(walk_4level_ps_in_pml4e)
{
    paging64();
    map64(LIN64, 1, 0x7000, P | W, P | W);
    gpa_t pml4e = entry64(LIN64, 4);
    put64(pml4e, get64(pml4e) | PS);
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_RSVD);
    /* PML4E frame aligned to 512 GiB or not, PS stays reserved. */
    put64(pml4e, P | W | PS);
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_RSVD);
}

/* ------------------------------------------------------------ 5-level paging (CR4.LA57) */

#define CR4_LA57 BIT(12)
#define LIN57 ((3ull << 48) | (5ull << 39) | (7ull << 30) | (9ull << 21) | (11ull << 12) | 0x234)

/* Five tables from PML4 (used as the PML5) on, one entry each, leaf -> 0x7000. */
static void map57(uint64_t linear, uint64_t flags)
{
    gpa_t table = PML4;
    for (int level = 5; level > 1; level--) {
        put64(table + idx64(linear, level) * 8, (table + 0x1000) | flags);
        table += 0x1000;
    }
    put64(table + idx64(linear, 1) * 8, 0x7000 | flags);
}

TEST(walk_5level_4k)
{
    paging64();
    ctx.cr4 |= CR4_LA57;
    map57(LIN57, P | W);
    ASSERT_MAPS(LIN57, false, 0x7234);
    assert_true(get64(PML4 + 3 * 8) & A); /* the PML5E, indexed by bits 56:48 */
    /* Upper canonical half of a 57-bit space: bits 56:48 = 0x1ff. */
    uint64_t high = 0xff00000000000000ull | (0x1ffull << 48) | 0x5000;
    map57(high, P | W);
    ASSERT_MAPS(high, false, 0x7000);
    /* The same tables read as 4-level paging index the PML5 by bits 47:39: nothing there. */
    ctx.cr4 &= ~CR4_LA57;
    ASSERT_FAULT(LIN57, false, 0);
}

TEST(walk_5level_ps_in_pml5e_reserved)
{
    paging64();
    ctx.cr4 |= CR4_LA57;
    map57(LIN57, P | W);
    put64(PML4 + 3 * 8, get64(PML4 + 3 * 8) | PS);
    ASSERT_FAULT(LIN57, false, PFERR_PRESENT | PFERR_RSVD);
}

TEST(walk_4level_misaligned_large_frames)
{
    paging64();
    gpa_t leaf = map64(LIN64, 2, 0x400000 | BIT(13), P | W, P | W);
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_RSVD);
    put64(leaf, 0x400000 | BIT(20) | P | W | PS);
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_RSVD);
    put64(leaf, 0x400000 | BIT(12) | P | W | PS); /* PAT: allowed */
    ASSERT_MAPS(LIN64, false, 0x401234);

    setup(NULL);
    paging64();
    leaf = map64(LIN64, 3, 0x40000000 | BIT(21), P | W, P | W);
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_RSVD);
    put64(leaf, 0x40000000 | BIT(29) | P | W | PS);
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_RSVD);
    put64(leaf, 0x40000000 | BIT(13) | P | W | PS);
    ASSERT_FAULT(LIN64, false, PFERR_PRESENT | PFERR_RSVD);
    put64(leaf, 0x40000000 | BIT(12) | P | W | PS);
    ASSERT_MAPS(LIN64, false, 0x40000000 | (LIN64 & 0x3fffffff));
}

TEST(walk_4level_cr3_low_bits_ignored)
{
    paging64();
    map64(LIN64, 1, 0x7000, P | W, P | W);
    ctx.cr3 = PML4 | 0x123; /* PCID */
    ASSERT_MAPS(LIN64, false, 0x7234);
}

/* ------------------------------------------------------------ hostile tables and memory */

TEST(walk_self_referencing_tables_terminate)
{
    /* 4-level: every level's entry 5 is the PML4 itself. */
    paging64();
    uint64_t lin = (5ull << 39) | (5ull << 30) | (5ull << 21) | (5ull << 12) | 0x678;
    put64(PML4 + 5 * 8, PML4 | P | W);
    ASSERT_MAPS(lin, false, PML4 | 0x678);
    assert_true(reads <= 4);
    /* With PS set the self-reference is a large page or reserved, never a loop. */
    put64(PML4 + 5 * 8, PML4 | P | W | PS);
    reads = 0;
    ASSERT_FAULT(lin, false, PFERR_PRESENT | PFERR_RSVD);
    assert_true(reads <= 4);

    /* 32-bit: the PDE points at the page directory. */
    setup(NULL);
    paging32();
    uint32_t lin32 = (3u << 22) | (3u << 12) | 0x10;
    put32(PD32 + 3 * 4, PD32 | P | W);
    ASSERT_MAPS(lin32, true, PD32 | 0x10);
    assert_true(reads <= 2);

    /* PAE: the PDE points at its own page directory. */
    setup(NULL);
    paging_pae();
    ctx.pdpte[0] = 0x3000 | P;
    put64(0x3000 + 1 * 8, 0x3000 | P | W);
    ASSERT_MAPS((1u << 21) | (1u << 12) | 0x20, false, 0x3020);
    assert_true(reads <= 2);
}

TEST(walk_tables_outside_memory)
{
    paging64();
    ctx.cr3 = 0x7ff000000ull; /* within MAXPHYADDR, but no RAM */
    assert_int_equal(walk(LIN64, false), WALK_BAD_MEMORY);
    setup(NULL);
    paging64();
    map64(LIN64, 1, 0x7000, P | W, P | W);
    gpa_t pde = entry64(LIN64, 2);
    put64(pde, 0x100000000ull | P | W); /* page table at 4 GiB: no RAM */
    assert_int_equal(walk(LIN64, false), WALK_BAD_MEMORY);
    /* A leaf pointing outside RAM is still a translation: the caller reads it. */
    setup(NULL);
    paging64();
    map64(LIN64, 1, 0x100000000ull, P | W, P | W);
    ASSERT_MAPS(LIN64, false, 0x100000234ull);
    /* 32-bit paging with the page directory beyond RAM. */
    setup(NULL);
    paging32();
    ctx.cr3 = 0xfffff000;
    assert_int_equal(walk(0x1000, false), WALK_BAD_MEMORY);
}

TEST(walk_accessed_update_failure)
{
    paging64();
    map64(LIN64, 1, 0x7000, P | W, P | W);
    read_only_mem = true;
    assert_int_equal(walk(LIN64, false), WALK_BAD_MEMORY); /* A cannot be set */
    read_only_mem = false;
    ASSERT_MAPS(LIN64, false, 0x7234);
    /* With A already set everywhere, a read writes nothing ... */
    read_only_mem = true;
    writes = 0;
    ASSERT_MAPS(LIN64, false, 0x7234);
    assert_int_equal(writes, 0);
    /* ... but a write must set D. */
    assert_int_equal(walk(LIN64, true), WALK_BAD_MEMORY);
    read_only_mem = false;
    ASSERT_MAPS(LIN64, true, 0x7234);
    writes = 0;
    ASSERT_MAPS(LIN64, true, 0x7234);
    assert_int_equal(writes, 0);
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(walk_no_paging_is_identity),
        T(walk_32bit_4k),
        T(walk_32bit_4m_pse),
        T(walk_32bit_pse36_high_address),
        T(walk_32bit_ps_ignored_without_pse),
        T(walk_32bit_4m_bit21_reserved),
        T(walk_32bit_pse36_beyond_maxphyaddr_reserved),
        T(walk_32bit_not_present),
        T(walk_32bit_permissions),
        T(walk_pae_4k_and_2m),
        T(walk_pae_pdpte_not_present),
        T(walk_pae_xd_needs_nxe),
        T(walk_pae_bits_62_52_reserved),
        T(walk_pae_reserved_and_misaligned),
        T(walk_4level_4k),
        T(walk_4level_2m),
        T(walk_4level_1g),
        T(walk_4level_not_present_each_level),
        T(walk_4level_write_protect),
        T(walk_4level_user_supervisor),
        T(walk_4level_smap),
        T(walk_4level_reserved_above_maxphyaddr),
        T(walk_4level_xd_without_nxe),
        T(walk_4level_ps_in_pml4e),
        T(walk_5level_4k),
        T(walk_5level_ps_in_pml5e_reserved),
        T(walk_4level_misaligned_large_frames),
        T(walk_4level_cr3_low_bits_ignored),
        T(walk_self_referencing_tables_terminate),
        T(walk_tables_outside_memory),
        T(walk_accessed_update_failure),
    };
    return RUN_GROUP("guest_walk", tests, group_setup, group_teardown);
}
