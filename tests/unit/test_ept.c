/*
 * ept/ept.c (building, walking, destroying EPT tables), ept/gmem.c (copying
 * through an EPT) and ept/ept_qual.c (EPT-violation text), over fake
 * host-physical memory (fakemem.c). Mapped host-physical addresses outside the
 * arena are fine: mapping never touches the page itself.
 */
#include "fakemem.h"
#include "ept_assert.h"
#include "harness.h"
#include "nestor/ept.h"
#include "nestor/l1.h"

#define CAP_2M EPT_CAP_2MB_PAGE
#define CAP_1G EPT_CAP_1GB_PAGE

static struct ept e;

static int setup(void **state)
{
    memset(&e, 0, sizeof e);
    return fakemem_test_setup(state);
}

static uint64_t *table(paddr_t pa) { return (uint64_t *)fake_va(pa); }
static uint64_t *next_table(uint64_t entry) { return table(entry & EPT_PFN_MASK); }

/* ------------------------------------------------------------------ init, EPTP, page-size choice */

TEST(ept_init_allocates_a_zeroed_pml4)
{
    assert_true(ept_init(&e, CAP_2M | CAP_1G | EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_WB));
    assert_true(e.large_2m);
    assert_true(e.large_1g);
    assert_int_equal(e.table_pages, 1);
    assert_int_equal(e.pml4, FAKE_BASE);
    for (unsigned i = 0; i < EPT_ENTRIES; i++)
        assert_int_equal(table(e.pml4)[i], 0);
    assert_int_equal(ept_eptp(&e), FAKE_BASE | 0x1e); /* 4-level walk (3 << 3), write-back (6) */
    assert_int_equal(e.mapped_4k + e.mapped_2m + e.mapped_1g, 0);
    expect_unmapped(0);

    assert_true(ept_init(&e, EPT_CAP_WALK_4));
    assert_false(e.large_2m);
    assert_false(e.large_1g);
}

TEST(ept_init_fails_without_memory)
{
    assert_true(palloc_reserve(&g_palloc, FAKE_BASE, FAKE_END));
    assert_false(ept_init(&e, CAP_2M));
    assert_int_equal(e.pml4, 0);
    ept_destroy(&e); /* harmless on a failed init */
}

TEST(ept_choose_page_size_by_alignment_size_and_caps)
{
    struct ept both = {.large_2m = true, .large_1g = true}, only2m = {.large_2m = true}, none = {0};
    assert_int_equal(ept_choose_page_size(&both, GiB, 2 * GiB, GiB), GiB);
    assert_int_equal(ept_choose_page_size(&both, GiB, 2 * GiB, GiB - PAGE_SIZE), 2 * MiB);
    assert_int_equal(ept_choose_page_size(&both, GiB, 2 * GiB + 2 * MiB, GiB), 2 * MiB); /* hpa not 1G aligned */
    assert_int_equal(ept_choose_page_size(&both, GiB + 2 * MiB, 2 * GiB, GiB), 2 * MiB); /* gpa not 1G aligned */
    assert_int_equal(ept_choose_page_size(&only2m, GiB, 2 * GiB, GiB), 2 * MiB);
    assert_int_equal(ept_choose_page_size(&only2m, 2 * MiB, 4 * MiB, 2 * MiB), 2 * MiB);
    assert_int_equal(ept_choose_page_size(&only2m, 2 * MiB, 4 * MiB, 2 * MiB - PAGE_SIZE), PAGE_SIZE);
    assert_int_equal(ept_choose_page_size(&only2m, 2 * MiB, 4 * MiB + PAGE_SIZE, 2 * MiB), PAGE_SIZE);
    assert_int_equal(ept_choose_page_size(&none, GiB, GiB, GiB), PAGE_SIZE);
    assert_int_equal(ept_choose_page_size(&both, 0, 0, 4 * GiB), GiB);
}

/* ------------------------------------------------------------------ mapping and walking */

TEST(ept_map_4k_and_walk)
{
    assert_true(ept_init(&e, CAP_2M | CAP_1G));
    assert_true(ept_map(&e, 0x5000, 0x2345000, PAGE_SIZE, EPT_R | EPT_W, MEMTYPE_WB));
    assert_int_equal(e.table_pages, 4);
    assert_int_equal(e.mapped_4k, 1);
    struct ept_walk w = walk_or_fail(0x5123);
    assert_int_equal(w.level, 1);
    assert_int_equal(w.hpa, 0x2345123);
    assert_int_equal(w.perms, EPT_R | EPT_W);
    assert_int_equal(w.leaf, 0x2345000 | EPT_R | EPT_W | (MEMTYPE_WB << EPT_MEMTYPE_SHIFT));
    expect_unmapped(0x4fff);
    expect_unmapped(0x6000);
    expect_unmapped(0x5000 + GiB);
}

TEST(ept_map_indexes_every_level)
{
    gpa_t gpa = 3 * (1ull << 39) + 5 * GiB + 7 * 2 * MiB + 9 * PAGE_SIZE;
    assert_true(ept_init(&e, 0));
    assert_true(ept_map(&e, gpa, 0x7000, PAGE_SIZE, EPT_RWX, MEMTYPE_UC));
    uint64_t *pml4 = table(e.pml4);
    for (unsigned i = 0; i < EPT_ENTRIES; i++)
        assert_int_equal(pml4[i] != 0, i == 3);
    assert_int_equal(pml4[3] & EPT_RWX, EPT_RWX); /* non-leaf entries grant everything */
    uint64_t *pdpt = next_table(pml4[3]);
    assert_int_equal(pdpt[5] & (EPT_RWX | EPT_LARGE), EPT_RWX);
    uint64_t *pd = next_table(pdpt[5]);
    assert_int_equal(pd[7] & (EPT_RWX | EPT_LARGE), EPT_RWX);
    uint64_t *pt = next_table(pd[7]);
    assert_int_equal(pt[9], 0x7000 | EPT_RWX | (MEMTYPE_UC << EPT_MEMTYPE_SHIFT));
    assert_int_equal(walk_or_fail(gpa + 0xabc).hpa, 0x7abc);
}

TEST(ept_map_2m_page_when_capable)
{
    assert_true(ept_init(&e, CAP_2M));
    assert_true(ept_map(&e, 0x200000, 0x40000000, 2 * MiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(e.table_pages, 3);
    assert_int_equal(e.mapped_2m, 1);
    assert_int_equal(e.mapped_4k, 0);
    struct ept_walk w = walk_or_fail(0x3fffff);
    assert_int_equal(w.level, 2);
    assert_int_equal(w.hpa, 0x401fffff);
    assert_true(w.leaf & EPT_LARGE);
    assert_int_equal(w.leaf & EPT_MEMTYPE_MASK, MEMTYPE_WB << EPT_MEMTYPE_SHIFT);
    expect_unmapped(0x400000);
}

TEST(ept_map_without_2m_capability_uses_4k)
{
    assert_true(ept_init(&e, 0));
    assert_true(ept_map(&e, 0x200000, 0x40000000, 2 * MiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(e.mapped_2m, 0);
    assert_int_equal(e.mapped_4k, 512);
    assert_int_equal(e.table_pages, 4);
    struct ept_walk w = walk_or_fail(0x3ff123);
    assert_int_equal(w.level, 1);
    assert_int_equal(w.hpa, 0x401ff123);
    assert_false(w.leaf & EPT_LARGE);
}

TEST(ept_map_1g_only_when_capable)
{
    assert_true(ept_init(&e, CAP_2M | CAP_1G));
    assert_true(ept_map(&e, GiB, 3 * GiB, GiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(e.mapped_1g, 1);
    assert_int_equal(e.table_pages, 2);
    struct ept_walk w = walk_or_fail(GiB + 0x12345678);
    assert_int_equal(w.level, 3);
    assert_int_equal(w.hpa, 3 * GiB + 0x12345678);
    assert_true(w.leaf & EPT_LARGE);
    ept_destroy(&e);

    assert_true(ept_init(&e, CAP_2M)); /* no 1 GiB pages: 512 x 2 MiB */
    assert_true(ept_map(&e, GiB, 3 * GiB, GiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(e.mapped_1g, 0);
    assert_int_equal(e.mapped_2m, 512);
    assert_int_equal(e.table_pages, 3);
    assert_int_equal(walk_or_fail(GiB + 0x12345678).level, 2);
    ept_destroy(&e);

    assert_true(ept_init(&e, CAP_1G)); /* 1 GiB pages but not 2 MiB ones */
    assert_true(ept_map(&e, GiB, 3 * GiB, GiB + 2 * MiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(e.mapped_1g, 1);
    assert_int_equal(e.mapped_2m, 0);
    assert_int_equal(e.mapped_4k, 512);
}

TEST(ept_map_1g_needs_both_addresses_aligned)
{
    assert_true(ept_init(&e, CAP_2M | CAP_1G));
    assert_true(ept_map(&e, GiB, 3 * GiB + 2 * MiB, GiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(e.mapped_1g, 0);
    assert_int_equal(e.mapped_2m, 512);
    assert_int_equal(walk_or_fail(2 * GiB - 1).hpa, 4 * GiB + 2 * MiB - 1);
}

TEST(ept_map_mixed_sizes_follow_alignment)
{
    assert_true(ept_init(&e, CAP_2M));
    /* gpa and hpa agree modulo 2 MiB: 4K up to the boundary, 2M pages, 4K for the tail. */
    assert_true(ept_map(&e, 0x1ff000, 0x41ff000, 0x402000, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(e.mapped_4k, 2);
    assert_int_equal(e.mapped_2m, 2);
    assert_int_equal(walk_or_fail(0x1ff000).level, 1);
    assert_int_equal(walk_or_fail(0x200000).level, 2);
    assert_int_equal(walk_or_fail(0x5fffff).hpa, 0x45fffff);
    assert_int_equal(walk_or_fail(0x600fff).level, 1);
    assert_int_equal(walk_or_fail(0x600fff).hpa, 0x4600fff);
    expect_unmapped(0x601000);
    expect_unmapped(0x1fe000);
}

TEST(ept_map_misaligned_hpa_falls_back_to_4k)
{
    assert_true(ept_init(&e, CAP_2M | CAP_1G));
    assert_true(ept_map(&e, 0x200000, 0x40001000, 2 * MiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(e.mapped_4k, 512);
    assert_int_equal(e.mapped_2m, 0);
    assert_int_equal(walk_or_fail(0x3ff000).hpa, 0x40200000);
}

TEST(ept_map_refuses_unaligned_sizes_and_empty_perms)
{
    assert_true(ept_init(&e, CAP_2M | CAP_1G));
    assert_false(ept_map(&e, 0x1800, 0x2000, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    assert_false(ept_map(&e, 0x1000, 0x2800, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    assert_false(ept_map(&e, 0x1000, 0x2000, 0x1800, EPT_RWX, MEMTYPE_WB));
    assert_false(ept_map(&e, 0x1000, 0x2000, 1, EPT_RWX, MEMTYPE_WB));
    assert_false(ept_map(&e, 0x1000, 0x2000, PAGE_SIZE, 0, MEMTYPE_WB));
    assert_false(ept_map(&e, 0x1000, 0x2000, PAGE_SIZE, EPT_USER_X | EPT_ACCESSED, MEMTYPE_WB));
    assert_int_equal(e.table_pages, 1); /* refused before anything was allocated */
    expect_unmapped(0x1000);
    assert_true(ept_map(&e, 0x1000, 0x2000, 0, EPT_RWX, MEMTYPE_WB)); /* nothing to do */
    assert_int_equal(e.table_pages, 1);
    expect_unmapped(0x1000);
}

TEST(ept_map_refuses_already_mapped)
{
    assert_true(ept_init(&e, CAP_2M | CAP_1G));
    assert_true(ept_map(&e, 0x205000, 0x9000, PAGE_SIZE, EPT_R, MEMTYPE_WB));
    /* The same page again, with another target: refused, the first mapping stays. */
    assert_false(ept_map(&e, 0x205000, 0xa000, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(walk_or_fail(0x205000).hpa, 0x9000);
    assert_int_equal(walk_or_fail(0x205000).perms, EPT_R);
    /* A 2 MiB page over the 4 KiB one: refused (its PD slot holds a page table). */
    assert_false(ept_map(&e, 0x200000, 0x40000000, 2 * MiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(walk_or_fail(0x205000).hpa, 0x9000);
    expect_unmapped(0x200000);
    /* A 1 GiB page over the same region: refused (its PDPT slot holds a PD). */
    assert_false(ept_map(&e, 0, 0x40000000, GiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(walk_or_fail(0x205000).hpa, 0x9000);

    /* 4 KiB inside an existing 2 MiB page, and 2 MiB / 4 KiB inside an existing 1 GiB page. */
    assert_true(ept_map(&e, 0x400000, 0x80000000, 2 * MiB, EPT_RWX, MEMTYPE_WB));
    assert_false(ept_map(&e, 0x401000, 0xb000, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(walk_or_fail(0x401000).hpa, 0x80001000);
    assert_true(ept_map(&e, GiB, 2 * GiB, GiB, EPT_RWX, MEMTYPE_WB));
    assert_false(ept_map(&e, GiB + 2 * MiB, 0xc00000, 2 * MiB, EPT_RWX, MEMTYPE_WB));
    assert_false(ept_map(&e, GiB + PAGE_SIZE, 0xc000, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    assert_false(ept_map(&e, GiB, 2 * GiB, GiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(walk_or_fail(GiB + PAGE_SIZE).hpa, 2 * GiB + PAGE_SIZE);
    assert_int_equal(e.mapped_1g, 1);
    assert_int_equal(e.mapped_2m, 1);
    assert_int_equal(e.mapped_4k, 1);
}

TEST(ept_map_partial_failure_keeps_what_was_mapped)
{
    assert_true(ept_init(&e, 0));
    assert_true(ept_map(&e, 0x3000, 0x13000, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    assert_false(ept_map(&e, 0x1000, 0x21000, 4 * PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(walk_or_fail(0x1000).hpa, 0x21000);
    assert_int_equal(walk_or_fail(0x2000).hpa, 0x22000);
    assert_int_equal(walk_or_fail(0x3000).hpa, 0x13000); /* the old one, untouched */
    expect_unmapped(0x4000);
}

TEST(ept_leaf_holds_only_rwx_and_memtype)
{
    assert_true(ept_init(&e, CAP_2M));
    assert_true(ept_map(&e, 0x1000, 0x5000, PAGE_SIZE, EPT_RWX | EPT_USER_X | EPT_ACCESSED | EPT_SUPPRESS_VE, MEMTYPE_UC));
    struct ept_walk w = walk_or_fail(0x1000);
    assert_int_equal(w.leaf, 0x5000 | EPT_RWX);
    assert_int_equal(w.perms, EPT_RWX);
    assert_true(ept_map(&e, 0x2000, 0x6000, PAGE_SIZE, EPT_R | EPT_X, MEMTYPE_WT));
    assert_int_equal(walk_or_fail(0x2000).leaf, 0x6000 | EPT_R | EPT_X | (MEMTYPE_WT << 3));
    assert_int_equal(walk_or_fail(0x2000).perms, EPT_R | EPT_X);
}

TEST(ept_walk_intersects_permissions_across_levels)
{
    assert_true(ept_init(&e, 0));
    assert_true(ept_map(&e, 0x5000, 0x9000, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    uint64_t *pml4 = table(e.pml4), *pdpt = next_table(pml4[0]), *pd = next_table(pdpt[0]);
    assert_int_equal(walk_or_fail(0x5000).perms, EPT_RWX);
    pdpt[0] = (pdpt[0] & ~EPT_RWX) | EPT_R | EPT_X;
    assert_int_equal(walk_or_fail(0x5000).perms, EPT_R | EPT_X);
    pd[0] = (pd[0] & ~EPT_RWX) | EPT_R | EPT_W;
    assert_int_equal(walk_or_fail(0x5000).perms, EPT_R);
    assert_int_equal(walk_or_fail(0x5000).hpa, 0x9000);
    pml4[0] &= ~EPT_RWX; /* a non-present upper level hides everything below */
    expect_unmapped(0x5000);
}

TEST(ept_tables_come_from_the_allocator_and_are_aligned)
{
    assert_true(ept_init(&e, CAP_2M | CAP_1G));
    uint64_t free_before = palloc_free_pages(&g_palloc);
    assert_true(ept_map(&e, 0, 0, 0x100000, EPT_RWX, MEMTYPE_WB));
    assert_true(ept_map(&e, 0x100000, 0x5100000, 0x3f00000, EPT_RWX, MEMTYPE_WB));
    assert_true(ept_map(&e, 0xfec00000, 0xfec00000, PAGE_SIZE, EPT_R | EPT_W, MEMTYPE_UC));
    assert_true(ept_map(&e, 1ull << 40, 2 * GiB, 2 * GiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(free_before - palloc_free_pages(&g_palloc), e.table_pages - 1);
    /* Every non-leaf entry points to a page-aligned table inside Nestor's (fake) memory. */
    unsigned tables = 1;
    uint64_t *pml4 = table(e.pml4);
    for (unsigned a = 0; a < EPT_ENTRIES; a++) {
        if (!(pml4[a] & EPT_RWX))
            continue;
        assert_true(fake_backed(pml4[a] & EPT_PFN_MASK, PAGE_SIZE));
        tables++;
        uint64_t *pdpt = next_table(pml4[a]);
        for (unsigned b = 0; b < EPT_ENTRIES; b++) {
            if (!(pdpt[b] & EPT_RWX) || (pdpt[b] & EPT_LARGE))
                continue;
            assert_true(fake_backed(pdpt[b] & EPT_PFN_MASK, PAGE_SIZE));
            tables++;
            uint64_t *pd = next_table(pdpt[b]);
            for (unsigned c = 0; c < EPT_ENTRIES; c++) {
                if (!(pd[c] & EPT_RWX) || (pd[c] & EPT_LARGE))
                    continue;
                assert_true(fake_backed(pd[c] & EPT_PFN_MASK, PAGE_SIZE));
                tables++;
            }
        }
    }
    assert_int_equal(tables, e.table_pages);
}

TEST(ept_map_out_of_table_pages)
{
    assert_true(palloc_reserve(&g_palloc, FAKE_BASE + 3 * PAGE_SIZE, FAKE_END));
    assert_true(ept_init(&e, 0));
    /* Needs a PDPT, a PD and a PT; only two pages are left. */
    assert_false(ept_map(&e, 0x1000, 0x1000, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(e.table_pages, 3);
    expect_unmapped(0x1000);
    ept_destroy(&e);
    assert_int_equal(palloc_free_pages(&g_palloc), 3);
}

/* ------------------------------------------------------------------ destroy */

TEST(ept_destroy_returns_every_table_page)
{
    uint64_t free_before = palloc_free_pages(&g_palloc);
    assert_true(ept_init(&e, CAP_2M | CAP_1G));
    assert_true(ept_map(&e, 0, 0x100000, 0x80000, EPT_RWX, MEMTYPE_WB));
    assert_true(ept_map(&e, 0x200000, 0x400000, 6 * MiB, EPT_RWX, MEMTYPE_WB));
    assert_true(ept_map(&e, 4 * GiB, 4 * GiB, 2 * GiB, EPT_RWX, MEMTYPE_WB));
    assert_true(ept_map(&e, 5ull << 39, 0x1000, PAGE_SIZE, EPT_R, MEMTYPE_WB));
    assert_true(ept_map(&e, (511ull << 39) + (511ull << 30) + (511ull << 21) + (511ull << 12), 0x2000, PAGE_SIZE,
                        EPT_R, MEMTYPE_WB));
    assert_int_equal(free_before - palloc_free_pages(&g_palloc), e.table_pages);
    ept_destroy(&e);
    assert_int_equal(palloc_free_pages(&g_palloc), free_before);
    assert_int_equal(g_palloc.count, 1); /* every page back, merged into the one arena range */
    assert_int_equal(e.pml4, 0);
    assert_int_equal(e.table_pages, 0);
    ept_destroy(&e); /* a second destroy does nothing */
    assert_int_equal(palloc_free_pages(&g_palloc), free_before);
}

TEST(ept_destroy_does_not_free_mapped_memory)
{
    paddr_t ram = palloc_alloc(&g_palloc, 512, 512); /* 2 MiB of "guest RAM" */
    assert_true(ram != 0);
    uint64_t free_before = palloc_free_pages(&g_palloc);
    assert_true(ept_init(&e, CAP_2M));
    assert_true(ept_map(&e, 0x200000, ram, 2 * MiB, EPT_RWX, MEMTYPE_WB));
    assert_true(ept_map(&e, 0x400000, ram, PAGE_SIZE, EPT_RWX, MEMTYPE_WB)); /* an alias, 4K */
    ept_destroy(&e);
    assert_int_equal(palloc_free_pages(&g_palloc), free_before);
    assert_true(palloc_free(&g_palloc, ram, 512)); /* still allocated, so this is not a double free */
}

/* ------------------------------------------------------------------ address and entry validation (hostile input) */

/*
 * A 4-level EPT translates 48-bit guest-physical addresses, and an entry holds
 * host-physical address bits 51:12. ept_map(gpa = 2^48) silently wraps the
 * PML4 index and maps guest-physical 0 instead (an alias of low memory); an
 * hpa with bit 52 or above set is OR-ed into the entry's ignored/SVE bits
 * (bit 63 = suppress #VE) while ept_walk reports another address. Both must
 * be refused. KNOWN BUG.
 */
TEST(ept_map_refuses_addresses_beyond_ept_reach)
{
    assert_true(ept_init(&e, CAP_2M));
    assert_false(ept_map(&e, 1ull << 48, 0x5000, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    expect_unmapped(0);
    assert_false(ept_map(&e, 0x1000, 1ull << 52, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    assert_false(ept_map(&e, 0x2000, EPT_SUPPRESS_VE | 0x3000, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
}

/*
 * SDM 28.3.3.1: an entry with write but not read permission, or with a
 * reserved memory type (2, 3, 7), is an EPT misconfiguration: the first L1
 * access through it exits with EPT_MISCONFIG. ept_map accepts perms EPT_W or
 * EPT_W|EPT_X and any memtype, and a memtype above 7 spills into the
 * ignore-PAT bit and the large-page bit (bit 7) of the entry. KNOWN BUG.
 */
TEST(ept_map_refuses_misconfigured_entries)
{
    assert_true(ept_init(&e, CAP_2M));
    assert_false(ept_map(&e, 0x1000, 0x1000, PAGE_SIZE, EPT_W, MEMTYPE_WB));
    assert_false(ept_map(&e, 0x2000, 0x2000, PAGE_SIZE, EPT_W | EPT_X, MEMTYPE_WB));
    assert_false(ept_map(&e, 0x3000, 0x3000, PAGE_SIZE, EPT_RWX, 2));
    assert_false(ept_map(&e, 0x4000, 0x4000, PAGE_SIZE, EPT_RWX, 7));
    assert_false(ept_map(&e, 0x5000, 0x5000, PAGE_SIZE, EPT_RWX, 0x10));
}

/* ------------------------------------------------------------------ gmem: copying through the EPT */

/* Maps guest pages [gpa, gpa + n pages) onto freshly allocated, scattered (descending) host pages. */
static void map_scattered(gpa_t gpa, unsigned n, uint64_t perms, paddr_t *hpas)
{
    paddr_t got[64];
    assert_true(n <= 64);
    for (unsigned i = 0; i < n; i++) {
        got[i] = palloc_alloc(&g_palloc, 1, 1);
        assert_true(got[i] != 0);
        assert_true(palloc_alloc(&g_palloc, 1, 1) != 0); /* a gap, so nothing is contiguous */
    }
    for (unsigned i = 0; i < n; i++) {
        hpas[i] = got[n - 1 - i];
        assert_true(ept_map(&e, gpa + i * PAGE_SIZE, hpas[i], PAGE_SIZE, perms, MEMTYPE_WB));
    }
}

TEST(gmem_write_and_read_across_scattered_pages)
{
    assert_true(ept_init(&e, CAP_2M));
    paddr_t hpa[4];
    map_scattered(0x100000, 4, EPT_RWX, hpa);
    static uint8_t src[10000], back[10000];
    for (unsigned i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    assert_true(gmem_write(&e, 0x100123, src, sizeof src));
    /* Each byte where the EPT says it is. */
    for (unsigned i = 0; i < sizeof src; i++) {
        gpa_t gpa = 0x100123 + i;
        unsigned page = (unsigned)((gpa - 0x100000) / PAGE_SIZE);
        assert_int_equal(*fake_va(hpa[page] + (gpa & 0xfff)), src[i]);
    }
    assert_int_equal(*fake_va(hpa[0] + 0x122), 0xa5); /* nothing before */
    assert_int_equal(*fake_va(hpa[2] + ((0x100123 + sizeof src) & 0xfff)), 0xa5); /* nor after */
    memset(back, 0, sizeof back);
    assert_true(gmem_read(&e, 0x100123, back, sizeof back));
    assert_bytes_equal(back, src, sizeof src);
}

TEST(gmem_across_a_2m_page_boundary)
{
    assert_true(ept_init(&e, CAP_2M));
    paddr_t a = palloc_alloc(&g_palloc, 512, 512), b = palloc_alloc(&g_palloc, 512, 512);
    assert_true(a && b);
    /* Guest 2 MiB pages in the opposite order from the host blocks. */
    assert_true(ept_map(&e, 0x200000, b, 2 * MiB, EPT_RWX, MEMTYPE_WB));
    assert_true(ept_map(&e, 0x400000, a, 2 * MiB, EPT_RWX, MEMTYPE_WB));
    assert_int_equal(e.mapped_2m, 2);
    uint8_t data[8192];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i ^ 0x5a);
    assert_true(gmem_write(&e, 0x3ff800, data, sizeof data));
    assert_bytes_equal(fake_va(b + 0x1ff800), data, 0x800);
    assert_bytes_equal(fake_va(a), data + 0x800, sizeof data - 0x800);
    uint8_t back[8192];
    assert_true(gmem_read(&e, 0x3ff800, back, sizeof back));
    assert_bytes_equal(back, data, sizeof data);
}

TEST(gmem_zero_clears_exactly_the_range)
{
    assert_true(ept_init(&e, 0));
    paddr_t hpa[3];
    map_scattered(0x10000, 3, EPT_R | EPT_W, hpa);
    assert_true(gmem_zero(&e, 0x10ff0, 0x1020));
    assert_int_equal(*fake_va(hpa[0] + 0xfef), 0xa5);
    for (unsigned i = 0xff0; i < 0x1000; i++)
        assert_int_equal(*fake_va(hpa[0] + i), 0);
    for (unsigned i = 0; i < 0x1000; i++)
        assert_int_equal(*fake_va(hpa[1] + i), 0);
    for (unsigned i = 0; i < 0x10; i++)
        assert_int_equal(*fake_va(hpa[2] + i), 0);
    assert_int_equal(*fake_va(hpa[2] + 0x10), 0xa5);
}

TEST(gmem_respects_permissions)
{
    assert_true(ept_init(&e, 0));
    paddr_t ro[1], xo[1], rw[1];
    map_scattered(0x1000, 1, EPT_R, ro);
    map_scattered(0x2000, 1, EPT_X, xo);
    map_scattered(0x3000, 1, EPT_R | EPT_W, rw);
    uint8_t b[16] = {1, 2, 3};
    assert_false(gmem_write(&e, 0x1000, b, sizeof b));
    assert_false(gmem_zero(&e, 0x1000, sizeof b));
    assert_int_equal(*fake_va(ro[0]), 0xa5);
    assert_true(gmem_read(&e, 0x1000, b, sizeof b));
    assert_false(gmem_read(&e, 0x2000, b, sizeof b));
    assert_false(gmem_write(&e, 0x2000, b, sizeof b));
    assert_true(gmem_write(&e, 0x3000, b, sizeof b));
    assert_true(gmem_read(&e, 0x3000, b, sizeof b));
}

TEST(gmem_unmapped_memory_refused)
{
    assert_true(ept_init(&e, 0));
    paddr_t hpa[1];
    map_scattered(0x1000, 1, EPT_RWX, hpa);
    uint8_t b[32];
    memset(b, 0x11, sizeof b);
    assert_false(gmem_read(&e, 0x5000, b, sizeof b));
    assert_false(gmem_write(&e, 0x5000, b, sizeof b));
    assert_false(gmem_write(&e, 0x1ff0, b, sizeof b)); /* runs off the mapped page */
    assert_false(gmem_read(&e, 0xff0, b, sizeof b));   /* starts before it */
    assert_true(gmem_read(&e, 0x1000, b, 0));            /* nothing to do */
    assert_true(gmem_write(&e, 0x9000, b, 0));
}

/* ------------------------------------------------------------------ EPT-violation text */

static char text[200];

TEST(ept_violation_text)
{
    ept_describe_violation(EPTQUAL_READ, text, sizeof text);
    assert_string_equal(text, "read; translation was --- (not mapped); no guest-linear address");

    ept_describe_violation(EPTQUAL_WRITE | EPTQUAL_READABLE | EPTQUAL_EXECUTABLE | EPTQUAL_LINEAR_VALID |
                               EPTQUAL_LINEAR_TRANSLATION,
                           text, sizeof text);
    assert_string_equal(text, "write; translation was r-x; guest-linear address valid (access to the translated address)");

    ept_describe_violation(EPTQUAL_FETCH | EPTQUAL_READABLE | EPTQUAL_WRITABLE | EPTQUAL_LINEAR_VALID |
                               EPTQUAL_NMI_UNBLOCKING,
                           text, sizeof text);
    assert_string_equal(text, "instruction fetch; translation was rw-; guest-linear address valid (access to a guest "
                              "paging structure); NMI unblocking due to IRET");

    ept_describe_violation(EPTQUAL_FETCH | EPTQUAL_WRITE | EPTQUAL_READ, text, sizeof text);
    assert_str_contains(text, "instruction fetch;");
    ept_describe_violation(EPTQUAL_WRITE | EPTQUAL_READ | EPTQUAL_READABLE, text, sizeof text);
    assert_string_equal(text, "write; translation was r--; no guest-linear address");
    /* The linear-translation bit means nothing without the linear-address-valid bit. */
    ept_describe_violation(EPTQUAL_READ | EPTQUAL_LINEAR_TRANSLATION, text, sizeof text);
    assert_str_contains(text, "; no guest-linear address");
}

TEST(ept_violation_text_truncated)
{
    memset(text, '#', sizeof text);
    ept_describe_violation(EPTQUAL_READ, text, 10);
    assert_string_equal(text, "read; tra");
    assert_int_equal(text[10], '#');
}

/*
 * With MAXPHYADDR > 48 L1 may name addresses with bits 51:48 set (VMPTRLD, EPT12
 * tables): a 4-level EPT does not translate them, they must not alias bits 47:0.
 */
TEST(ept_walk_refuses_addresses_beyond_48_bits)
{
    assert_true(ept_init(&e, 0));
    assert_true(ept_map(&e, 0x5000, FAKE_BASE, PAGE_SIZE, EPT_RWX, MEMTYPE_WB));
    struct ept_walk w;
    assert_true(ept_walk(&e, 0x5000, &w));
    assert_false(ept_walk(&e, (1ull << 48) | 0x5000, &w));
    assert_false(w.present);
    assert_false(ept_walk(&e, (1ull << 51) | 0x5000, &w));
    uint64_t v = 0;
    assert_false(gmem_read(&e, (1ull << 49) | 0x5000, &v, sizeof v));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(ept_init_allocates_a_zeroed_pml4),
        T(ept_walk_refuses_addresses_beyond_48_bits),
        T(ept_init_fails_without_memory),
        T(ept_choose_page_size_by_alignment_size_and_caps),
        T(ept_map_4k_and_walk),
        T(ept_map_indexes_every_level),
        T(ept_map_2m_page_when_capable),
        T(ept_map_without_2m_capability_uses_4k),
        T(ept_map_1g_only_when_capable),
        T(ept_map_1g_needs_both_addresses_aligned),
        T(ept_map_mixed_sizes_follow_alignment),
        T(ept_map_misaligned_hpa_falls_back_to_4k),
        T(ept_map_refuses_unaligned_sizes_and_empty_perms),
        T(ept_map_refuses_already_mapped),
        T(ept_map_partial_failure_keeps_what_was_mapped),
        T(ept_leaf_holds_only_rwx_and_memtype),
        T(ept_walk_intersects_permissions_across_levels),
        T(ept_tables_come_from_the_allocator_and_are_aligned),
        T(ept_map_out_of_table_pages),
        T(ept_destroy_returns_every_table_page),
        T(ept_destroy_does_not_free_mapped_memory),
        T(ept_map_refuses_addresses_beyond_ept_reach),
        T(ept_map_refuses_misconfigured_entries),
        T(gmem_write_and_read_across_scattered_pages),
        T(gmem_across_a_2m_page_boundary),
        T(gmem_zero_clears_exactly_the_range),
        T(gmem_respects_permissions),
        T(gmem_unmapped_memory_refused),
        T(ept_violation_text),
        T(ept_violation_text_truncated),
    };
#undef T
    return RUN_GROUP("ept", tests, fakemem_group_setup, fakemem_group_teardown);
}
