/*
 * ept/ept.c: ept_install, the single-leaf installer the shadow EPT02 is
 * filled with (nested/ept02.c), over fake host-physical memory (fakemem.c).
 * Leaves are read back with ept_walk and straight from the tables; table
 * pages are counted against the allocator.
 */
#include <limits.h>

#include "fakemem.h"
#include "ept_assert.h"
#include "harness.h"
#include "nestor/ept.h"

#define CAP_ALL (EPT_CAP_2MB_PAGE | EPT_CAP_1GB_PAGE | EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_WB)
#define R EPT_R
#define W EPT_W
#define X EPT_X
#define RWX EPT_RWX
#define MT(t) ((uint64_t)(t) << EPT_MEMTYPE_SHIFT)

static struct ept e;
static bool replaced;
static uint64_t free_at_start; /* allocator pages free before ept_init */

static int setup(void **state)
{
    memset(&e, 0, sizeof e);
    int rc = fakemem_test_setup(state);
    free_at_start = palloc_free_pages(&g_palloc);
    return rc;
}

static uint64_t level_bytes(unsigned level) { return 1ull << (12 + 9 * (level - 1)); }

/* ept_install with *replaced poisoned first: it must always be written. */
static bool install_(gpa_t gpa, paddr_t hpa, unsigned level, uint64_t perms, unsigned memtype, bool ipat, bool poison)
{
    replaced = poison;
    return ept_install(&e, gpa, hpa, level, perms, memtype, ipat, &replaced);
}
#define install(gpa, hpa, level, perms, memtype, ipat) install_((gpa), (hpa), (level), (perms), (memtype), (ipat), true)

/* Walks gpa and checks the whole leaf: address, permissions, level and the entry's bits 7:3. */
static void expect_leaf_(gpa_t gpa, paddr_t hpa, unsigned level, uint64_t perms, unsigned memtype, bool ipat,
                         const char *file, int line)
{
    struct ept_walk w = ept_walk_or_fail(&e, gpa, file, line);
    uint64_t size = level_bytes(level);
    uint64_t want = (hpa & ~(size - 1)) | perms | MT(memtype) | (ipat ? EPT_IGNORE_PAT : 0) |
                    (level > 1 ? EPT_LARGE : 0);
    if (w.level != level || w.hpa != hpa || w.perms != perms || w.leaf != want) {
        print_error("gpa 0x%llx: level %u hpa 0x%llx perms %llx leaf 0x%llx; expected level %u hpa 0x%llx perms %llx "
                    "leaf 0x%llx\n",
                    (unsigned long long)gpa, w.level, (unsigned long long)w.hpa, (unsigned long long)w.perms,
                    (unsigned long long)w.leaf, level, (unsigned long long)hpa, (unsigned long long)perms,
                    (unsigned long long)want);
        _fail(file, line);
    }
}
#define expect_leaf(gpa, hpa, level, perms, memtype, ipat) \
    expect_leaf_((gpa), (hpa), (level), (perms), (memtype), (ipat), __FILE__, __LINE__)

/* Every table page ept.c counts came from the allocator, and nothing else did. */
static void expect_accounting_(const char *file, int line)
{
    uint64_t taken = free_at_start - palloc_free_pages(&g_palloc);
    if (taken != e.table_pages) {
        print_error("%llu pages taken from the allocator, table_pages says %u\n", (unsigned long long)taken,
                    e.table_pages);
        _fail(file, line);
    }
}
#define expect_accounting() expect_accounting_(__FILE__, __LINE__)

/* ------------------------------------------------------------------ leaves of each size */

TEST(install_4k_leaf)
{
    assert_true(ept_init(&e, CAP_ALL));
    gpa_t gpa = (5ull << 39) | (6ull << 30) | (7ull << 21) | (8ull << 12);
    assert_true(install(gpa, 0x7654000, 1, R | W, MEMTYPE_WB, false));
    assert_false(replaced);
    assert_int_equal(e.table_pages, 4);
    expect_accounting();
    expect_leaf(gpa, 0x7654000, 1, R | W, MEMTYPE_WB, false);
    expect_leaf(gpa + 0xabc, 0x7654abc, 1, R | W, MEMTYPE_WB, false);
    struct ept_walk w = walk_or_fail(gpa);
    assert_int_equal(w.leaf & EPT_MEMTYPE_MASK, MT(MEMTYPE_WB)); /* bits 5:3 */
    assert_false(w.leaf & EPT_IGNORE_PAT);                       /* bit 6 */
    assert_false(w.leaf & EPT_LARGE);                            /* bit 7 */
    expect_unmapped(gpa - 1);
    expect_unmapped(gpa + PAGE_SIZE);
    /* ept_install does not count into ept_map's statistics. */
    assert_int_equal(e.mapped_4k + e.mapped_2m + e.mapped_1g, 0);
}

TEST(install_2m_leaf)
{
    assert_true(ept_init(&e, CAP_ALL));
    assert_true(install(GiB + 6 * MiB, 0x40200000, 2, R | X, MEMTYPE_UC, true));
    assert_false(replaced);
    assert_int_equal(e.table_pages, 3);
    expect_accounting();
    expect_leaf(GiB + 6 * MiB, 0x40200000, 2, R | X, MEMTYPE_UC, true);
    expect_leaf(GiB + 8 * MiB - 1, 0x403fffff, 2, R | X, MEMTYPE_UC, true);
    expect_leaf(GiB + 6 * MiB + 0x12345, 0x40212345, 2, R | X, MEMTYPE_UC, true);
    struct ept_walk w = walk_or_fail(GiB + 6 * MiB);
    assert_int_equal(w.leaf & EPT_MEMTYPE_MASK, 0);
    assert_true(w.leaf & EPT_IGNORE_PAT);
    assert_true(w.leaf & EPT_LARGE);
    expect_unmapped(GiB + 8 * MiB);
    expect_unmapped(GiB + 6 * MiB - 1);
}

TEST(install_1g_leaf)
{
    assert_true(ept_init(&e, CAP_ALL));
    assert_true(install(7 * GiB, 3 * GiB, 3, RWX, MEMTYPE_WT, false));
    assert_false(replaced);
    assert_int_equal(e.table_pages, 2);
    expect_accounting();
    expect_leaf(7 * GiB, 3 * GiB, 3, RWX, MEMTYPE_WT, false);
    expect_leaf(7 * GiB + 0x3456789a, 3 * GiB + 0x3456789a, 3, RWX, MEMTYPE_WT, false);
    struct ept_walk w = walk_or_fail(8 * GiB - 1);
    assert_int_equal(w.hpa, 4 * GiB - 1);
    assert_int_equal(w.leaf & EPT_MEMTYPE_MASK, MT(MEMTYPE_WT));
    assert_true(w.leaf & EPT_LARGE);
    expect_unmapped(8 * GiB);
}

TEST(install_every_memory_type_and_ignore_pat)
{
    static const unsigned types[] = {MEMTYPE_UC, MEMTYPE_WC, MEMTYPE_WT, MEMTYPE_WP, MEMTYPE_WB};
    static const uint64_t perms[] = {R, R | W, R | X, RWX, X};
    assert_true(ept_init(&e, CAP_ALL));
    for (unsigned t = 0; t < ARRAY_SIZE(types); t++)
        for (unsigned level = 1; level <= 3; level++)
            for (unsigned ipat = 0; ipat < 2; ipat++) {
                gpa_t gpa = (1ull << 39) * (1 + t) + GiB * (level + 3 * ipat);
                paddr_t hpa = 8 * GiB * (1 + level) + GiB * t;
                uint64_t p = perms[(t + level) % ARRAY_SIZE(perms)];
                assert_true(install(gpa, hpa, level, p, types[t], ipat));
                assert_false(replaced);
                expect_leaf(gpa, hpa, level, p, types[t], ipat);
            }
    expect_accounting();
}

TEST(install_highest_addresses)
{
    assert_true(ept_init(&e, CAP_ALL));
    /* The last 4 KiB of the 48-bit space, onto the highest frame an entry can hold. */
    assert_true(install(BIT(48) - PAGE_SIZE, EPT_PFN_MASK, 1, R, MEMTYPE_WB, false));
    expect_leaf(BIT(48) - 1, EPT_PFN_MASK | 0xfff, 1, R, MEMTYPE_WB, false);
    /* The last 1 GiB: refused, that PDPT slot holds the PD of the 4 KiB leaf above. */
    assert_false(install(BIT(48) - GiB, EPT_PFN_MASK & ~(GiB - 1), 3, R, MEMTYPE_WB, false));
    assert_true(install(BIT(48) - 2 * GiB, EPT_PFN_MASK & ~(GiB - 1), 3, R, MEMTYPE_WB, false));
    expect_leaf(BIT(48) - GiB - 1, (EPT_PFN_MASK & ~(GiB - 1)) | (GiB - 1), 3, R, MEMTYPE_WB, false);
    expect_accounting();
}

TEST(install_only_rwx_of_perms_reaches_the_leaf)
{
    assert_true(ept_init(&e, CAP_ALL));
    assert_true(install(0x1000, 0x5000, 1, R | W | EPT_ACCESSED | EPT_DIRTY | EPT_USER_X | EPT_SUPPRESS_VE | EPT_LARGE,
                        MEMTYPE_WB, false));
    expect_leaf(0x1000, 0x5000, 1, R | W, MEMTYPE_WB, false);
}

/* ------------------------------------------------------------------ refilling a slot */

TEST(install_replaced_false_fresh_true_on_refill)
{
    static const gpa_t gpas[] = {0, 0x5000, 2 * MiB * 5, 3 * GiB};
    static const paddr_t hpas[] = {0, 0x80000000, 0x40000000, 2 * GiB};
    assert_true(ept_init(&e, CAP_ALL));
    for (unsigned level = 1; level <= 3; level++) {
        assert_true(install(gpas[level], hpas[level], level, R, MEMTYPE_WB, false));
        assert_false(replaced);
        unsigned pages = e.table_pages;
        /* Refilled with more permissions (the violation that asked for them), then with another frame. */
        assert_true(install(gpas[level], hpas[level], level, R | W, MEMTYPE_WB, false));
        assert_true(replaced);
        expect_leaf(gpas[level], hpas[level], level, R | W, MEMTYPE_WB, false);
        assert_true(install_(gpas[level], hpas[level], level, RWX, MEMTYPE_WB, false, false));
        assert_true(replaced);
        expect_leaf(gpas[level], hpas[level], level, RWX, MEMTYPE_WB, false);
        assert_true(install(gpas[level], hpas[level] + level_bytes(level), level, RWX, MEMTYPE_UC, true));
        assert_true(replaced);
        expect_leaf(gpas[level], hpas[level] + level_bytes(level), level, RWX, MEMTYPE_UC, true);
        assert_int_equal(e.table_pages, pages); /* nothing allocated for a refill */
        /* The next slot of the same table is fresh. */
        assert_true(install(gpas[level] + level_bytes(level), 4 * GiB, level, R, MEMTYPE_WB, false));
        assert_false(replaced);
        assert_int_equal(e.table_pages, pages);
    }
    expect_accounting();
}

TEST(install_fresh_slot_under_existing_tables_is_not_replaced)
{
    assert_true(ept_init(&e, CAP_ALL));
    assert_true(install(0x1000, 0x1000, 1, R, MEMTYPE_WB, false));
    /* The tables on the way exist (non-leaf, present): not a replacement. */
    assert_true(install(0x2000, 0x2000, 1, R, MEMTYPE_WB, false));
    assert_false(replaced);
    assert_true(install(0x400000, 0x400000, 2, R, MEMTYPE_WB, false));
    assert_false(replaced);
    assert_true(install(GiB, GiB, 3, R, MEMTYPE_WB, false));
    assert_false(replaced);
    assert_int_equal(e.table_pages, 4);
}

/* ------------------------------------------------------------------ splitting and refusing large leaves */

TEST(install_4k_under_a_2m_leaf_splits_it)
{
    assert_true(ept_init(&e, CAP_ALL));
    assert_true(install(0x200000, 0x40000000, 2, RWX, MEMTYPE_WB, false));
    assert_int_equal(e.table_pages, 3);
    assert_true(install(0x205000, 0x9000, 1, R, MEMTYPE_UC, false));
    assert_true(replaced); /* the 2 MiB translation may be cached */
    assert_int_equal(e.table_pages, 4);
    expect_accounting();
    expect_leaf(0x205000, 0x9000, 1, R, MEMTYPE_UC, false);
    /* The rest of that 2 MiB is no longer mapped until refilled. */
    expect_unmapped(0x200000);
    expect_unmapped(0x204fff);
    expect_unmapped(0x206000);
    expect_unmapped(0x3ff000);
    assert_true(install(0x206000, 0x40006000, 1, RWX, MEMTYPE_WB, false));
    assert_false(replaced);
    expect_leaf(0x206000, 0x40006000, 1, RWX, MEMTYPE_WB, false);
    assert_int_equal(e.table_pages, 4);
}

TEST(install_under_a_1g_leaf_splits_it)
{
    assert_true(ept_init(&e, CAP_ALL));
    assert_true(install(GiB, 4 * GiB, 3, RWX, MEMTYPE_WB, false));
    assert_int_equal(e.table_pages, 2);
    /* 4 KiB inside: the 1 GiB leaf goes, a PD and a PT come. */
    assert_true(install(GiB + 0x403000, 0x7000, 1, R | W, MEMTYPE_WB, false));
    assert_true(replaced);
    assert_int_equal(e.table_pages, 4);
    expect_leaf(GiB + 0x403000, 0x7000, 1, R | W, MEMTYPE_WB, false);
    expect_unmapped(GiB);
    expect_unmapped(2 * GiB - 1);
    /* 2 MiB elsewhere in the old 1 GiB: a fresh PD slot. */
    assert_true(install(GiB + 10 * MiB, 4 * GiB + 10 * MiB, 2, RWX, MEMTYPE_WB, false));
    assert_false(replaced);
    expect_leaf(GiB + 10 * MiB + 1, 4 * GiB + 10 * MiB + 1, 2, RWX, MEMTYPE_WB, false);

    /* 2 MiB inside another 1 GiB leaf: split into a PD only. */
    assert_true(install(2 * GiB, 8 * GiB, 3, RWX, MEMTYPE_WB, false));
    assert_true(install(2 * GiB + 2 * MiB, 0x600000, 2, R, MEMTYPE_WB, false));
    assert_true(replaced);
    assert_int_equal(e.table_pages, 5);
    expect_leaf(2 * GiB + 2 * MiB, 0x600000, 2, R, MEMTYPE_WB, false);
    expect_unmapped(2 * GiB);
    expect_accounting();
}

TEST(install_2m_over_a_table_of_4k_fails)
{
    assert_true(ept_init(&e, CAP_ALL));
    assert_true(install(0x201000, 0x9000, 1, R, MEMTYPE_WB, false));
    unsigned pages = e.table_pages;
    assert_false(install(0x200000, 0x40000000, 2, RWX, MEMTYPE_WB, false));
    assert_false(replaced);
    assert_int_equal(e.table_pages, pages);
    expect_leaf(0x201000, 0x9000, 1, R, MEMTYPE_WB, false);
    expect_unmapped(0x200000);
    /* The caller falls back to 4 KiB in the same table. */
    assert_true(install(0x200000, 0x40000000, 1, RWX, MEMTYPE_WB, false));
    assert_false(replaced);
    expect_leaf(0x200000, 0x40000000, 1, RWX, MEMTYPE_WB, false);

    /* 1 GiB over a PD (of 4 KiB and 2 MiB leaves): refused too, then 2 MiB where that PD slot is free. */
    assert_true(install(0x600000, 0x40600000, 2, RWX, MEMTYPE_WB, false));
    assert_false(install(0, 0x40000000, 3, RWX, MEMTYPE_WB, false));
    assert_false(replaced);
    expect_leaf(0x600000, 0x40600000, 2, RWX, MEMTYPE_WB, false);
    expect_leaf(0x201000, 0x9000, 1, R, MEMTYPE_WB, false);
    assert_true(install(0x400000, 0x40400000, 2, RWX, MEMTYPE_WB, false));
    assert_false(replaced);
    assert_int_equal(e.table_pages, pages);
    expect_accounting();
}

/* ------------------------------------------------------------------ refused inputs */

/* Every refused call: false, *replaced false, nothing allocated, nothing mapped. */
static void expect_refused_(gpa_t gpa, paddr_t hpa, unsigned level, uint64_t perms, unsigned memtype,
                            const char *file, int line)
{
    unsigned pages = e.table_pages;
    if (install(gpa, hpa, level, perms, memtype, false) || replaced || e.table_pages != pages) {
        print_error("install(gpa 0x%llx, hpa 0x%llx, level %u, perms 0x%llx, memtype %u) not refused cleanly\n",
                    (unsigned long long)gpa, (unsigned long long)hpa, level, (unsigned long long)perms, memtype);
        _fail(file, line);
    }
    ept_expect_unmapped(&e, gpa & (BIT(48) - 1), file, line);
}
#define expect_refused(gpa, hpa, level, perms, memtype) \
    expect_refused_((gpa), (hpa), (level), (perms), (memtype), __FILE__, __LINE__)

TEST(install_refuses_levels_0_and_4)
{
    assert_true(ept_init(&e, CAP_ALL));
    expect_refused(0, 0, 0, RWX, MEMTYPE_WB);
    expect_refused(0x1000, 0x1000, 0, RWX, MEMTYPE_WB);
    expect_refused(0, 0, 4, RWX, MEMTYPE_WB);
    expect_refused(1ull << 39, 1ull << 39, 4, RWX, MEMTYPE_WB);
    expect_refused(0, 0, 5, RWX, MEMTYPE_WB);
    expect_refused(0, 0, 6, RWX, MEMTYPE_WB);
    assert_int_equal(e.table_pages, 1);
    expect_accounting();
}

TEST(install_refuses_misaligned_addresses)
{
    assert_true(ept_init(&e, CAP_ALL));
    expect_refused(0x1800, 0x2000, 1, RWX, MEMTYPE_WB);
    expect_refused(0x1000, 0x2800, 1, RWX, MEMTYPE_WB);
    expect_refused(0x1001, 0x2000, 1, RWX, MEMTYPE_WB);
    expect_refused(0x201000, 0x40000000, 2, RWX, MEMTYPE_WB);
    expect_refused(0x200000, 0x40001000, 2, RWX, MEMTYPE_WB);
    expect_refused(0x200000, 0x40100000, 2, RWX, MEMTYPE_WB);
    expect_refused(GiB + 2 * MiB, 2 * GiB, 3, RWX, MEMTYPE_WB);
    expect_refused(GiB, 2 * GiB + 2 * MiB, 3, RWX, MEMTYPE_WB);
    expect_refused(GiB, 2 * GiB + PAGE_SIZE, 3, RWX, MEMTYPE_WB);
    assert_int_equal(e.table_pages, 1);
}

TEST(install_refuses_addresses_beyond_ept_reach)
{
    assert_true(ept_init(&e, CAP_ALL));
    /* 2^48 would wrap the PML4 index onto guest-physical 0. */
    expect_refused(BIT(48), 0x5000, 1, RWX, MEMTYPE_WB);
    expect_refused(BIT(48) + 0x1000, 0x5000, 1, RWX, MEMTYPE_WB);
    expect_refused(BIT(63), 0x5000, 1, RWX, MEMTYPE_WB);
    expect_refused(BIT(48), 0, 3, RWX, MEMTYPE_WB);
    expect_unmapped(0x1000);
    /* Host addresses must fit bits 51:12 of the entry (bit 63 would be suppress-#VE). */
    expect_refused(0x1000, BIT(52), 1, RWX, MEMTYPE_WB);
    expect_refused(0x2000, EPT_SUPPRESS_VE | 0x3000, 1, RWX, MEMTYPE_WB);
    expect_refused(0x3000, BIT(60) | 0x3000, 1, RWX, MEMTYPE_WB);
    expect_refused(0x200000, BIT(52) | 0x200000, 2, RWX, MEMTYPE_WB);
    expect_refused(GiB, BIT(62) | GiB, 3, RWX, MEMTYPE_WB);
    assert_int_equal(e.table_pages, 1);
}

TEST(install_refuses_misconfigured_leaves)
{
    assert_true(ept_init(&e, CAP_ALL));
    for (unsigned level = 1; level <= 3; level++) {
        gpa_t gpa = level_bytes(level) * 3;
        paddr_t hpa = level_bytes(level) * 5;
        expect_refused(gpa, hpa, level, W, MEMTYPE_WB);     /* write-only */
        expect_refused(gpa, hpa, level, W | X, MEMTYPE_WB); /* write and execute without read */
        expect_refused(gpa, hpa, level, 0, MEMTYPE_WB);     /* not even present */
        expect_refused(gpa, hpa, level, EPT_ACCESSED, MEMTYPE_WB);
        expect_refused(gpa, hpa, level, RWX, 2);
        expect_refused(gpa, hpa, level, RWX, 3);
        expect_refused(gpa, hpa, level, RWX, 7);
        expect_refused(gpa, hpa, level, RWX, 8);  /* would spill into bit 6 */
        expect_refused(gpa, hpa, level, RWX, 16); /* would spill into bit 7 */
        expect_refused(gpa, hpa, level, RWX, UINT_MAX);
    }
    assert_int_equal(e.table_pages, 1);
}

/* A refused input leaves a present leaf in that slot as it was. */
TEST(install_refused_input_keeps_the_existing_leaf)
{
    assert_true(ept_init(&e, CAP_ALL));
    assert_true(install(0x200000, 0x40000000, 2, R, MEMTYPE_WB, false));
    assert_false(install(0x200000, 0x40000000, 2, W, MEMTYPE_WB, false));
    assert_false(install(0x200000, 0x40000000, 2, RWX, 2, false));
    assert_false(install(0x201000, 0x9000, 1, W, MEMTYPE_WB, false)); /* would split */
    assert_false(replaced);
    expect_leaf(0x201000, 0x40001000, 2, R, MEMTYPE_WB, false);
    assert_int_equal(e.table_pages, 3);
}

/*
 * ept_install computes the leaf size 1 << (12 + 9 * (level - 1)) before it
 * checks the level: a level of 7 or more shifts by 66 bits or more, which is
 * undefined behaviour in C (UBSan aborts the binary; on x86 the shift count is
 * taken modulo 64, so the alignment check tests a meaningless size). The level
 * is refused right after, but the check must come first.
 */
TEST(install_refuses_levels_far_out_of_range)
{
    assert_true(ept_init(&e, CAP_ALL));
    expect_refused(0, 0, 7, RWX, MEMTYPE_WB);
    expect_refused(0, 0, 64, RWX, MEMTYPE_WB);
    expect_refused(0, 0, UINT_MAX, RWX, MEMTYPE_WB);
    assert_int_equal(e.table_pages, 1);
}

/* ------------------------------------------------------------------ out of memory */

TEST(install_out_of_memory_keeps_the_tree)
{
    /* Four pages: the PML4 and the three tables of the first 4 KiB leaf. */
    assert_true(palloc_reserve(&g_palloc, FAKE_BASE + 4 * PAGE_SIZE, FAKE_END));
    free_at_start = palloc_free_pages(&g_palloc);
    assert_true(ept_init(&e, CAP_ALL));
    assert_true(install(0x1000, 0x11000, 1, RWX, MEMTYPE_WB, false));
    assert_int_equal(palloc_free_pages(&g_palloc), 0);

    /* Needs a PD and a PT: none left. */
    assert_false(install(GiB + 0x1000, 0x21000, 1, RWX, MEMTYPE_WB, false));
    assert_false(replaced);
    assert_int_equal(e.table_pages, 4);
    expect_unmapped(GiB + 0x1000);
    expect_leaf(0x1000, 0x11000, 1, RWX, MEMTYPE_WB, false);
    /* Slots in tables that exist need nothing. */
    assert_true(install(0x2000, 0x12000, 1, R, MEMTYPE_WB, false));
    assert_true(install(0x400000, 0x40400000, 2, R, MEMTYPE_WB, false));
    assert_true(install(2 * GiB, 2 * GiB, 3, R, MEMTYPE_WB, false));
    assert_true(install(0x1000, 0x11000, 1, R | W, MEMTYPE_WB, false));
    assert_true(replaced);

    /* One page back: the PD is allocated and linked, the PT is not there. */
    assert_true(palloc_add_free(&g_palloc, FAKE_BASE + 4 * PAGE_SIZE, FAKE_BASE + 5 * PAGE_SIZE));
    free_at_start++;
    assert_false(install(GiB + 0x1000, 0x21000, 1, RWX, MEMTYPE_WB, false));
    assert_false(replaced);
    expect_accounting();
    expect_unmapped(GiB + 0x1000);
    expect_unmapped(GiB);
    expect_leaf(0x1000, 0x11000, 1, R | W, MEMTYPE_WB, false);
    expect_leaf(0x2000, 0x12000, 1, R, MEMTYPE_WB, false);
    expect_leaf(0x400000, 0x40400000, 2, R, MEMTYPE_WB, false);
    expect_leaf(2 * GiB, 2 * GiB, 3, R, MEMTYPE_WB, false);
    /* The half-built path still works once memory is back. */
    assert_true(palloc_add_free(&g_palloc, FAKE_BASE + 5 * PAGE_SIZE, FAKE_BASE + 6 * PAGE_SIZE));
    free_at_start++;
    assert_true(install(GiB + 0x1000, 0x21000, 1, RWX, MEMTYPE_WB, false));
    assert_false(replaced);
    expect_leaf(GiB + 0x1000, 0x21000, 1, RWX, MEMTYPE_WB, false);
    expect_accounting();
    ept_destroy(&e);
    assert_int_equal(palloc_free_pages(&g_palloc), 6);
}

TEST(install_out_of_memory_while_splitting)
{
    /* The PML4, a PDPT and a PD: the 2 MiB leaf fits, the PT of a split does not. */
    assert_true(palloc_reserve(&g_palloc, FAKE_BASE + 3 * PAGE_SIZE, FAKE_END));
    free_at_start = palloc_free_pages(&g_palloc);
    assert_true(ept_init(&e, CAP_ALL));
    assert_true(install(0x200000, 0x40000000, 2, RWX, MEMTYPE_WB, false));
    assert_true(install(0x600000, 0x40600000, 2, R, MEMTYPE_WB, false));
    assert_false(install(0x201000, 0x9000, 1, R, MEMTYPE_WB, false));
    /*
     * Either the large leaf is kept, or it is gone and *replaced says so (its
     * translation may be cached and must be invalidated). Never a leaf that
     * is gone without the caller being told.
     */
    struct ept_walk w;
    bool kept = ept_walk(&e, 0x201000, &w);
    if (kept) {
        assert_false(replaced);
        expect_leaf(0x201000, 0x40001000, 2, RWX, MEMTYPE_WB, false);
    } else {
        assert_true(replaced);
        expect_unmapped(0x200000);
    }
    expect_unmapped(0x9000);
    expect_leaf(0x600000, 0x40600000, 2, R, MEMTYPE_WB, false);
    expect_accounting();
    assert_int_equal(e.table_pages, 3);
    ept_destroy(&e);
    assert_int_equal(palloc_free_pages(&g_palloc), 3);
}

/* ------------------------------------------------------------------ destroy */

TEST(install_destroy_returns_every_table_page)
{
    assert_true(ept_init(&e, CAP_ALL));
    assert_true(install(0x1000, 0x1000, 1, RWX, MEMTYPE_WB, false));
    assert_true(install(0x200000, 0x200000, 2, RWX, MEMTYPE_WB, false));
    assert_true(install(0x201000, 0x201000, 1, RWX, MEMTYPE_WB, false)); /* split */
    assert_true(install(GiB, GiB, 3, RWX, MEMTYPE_WB, false));
    assert_true(install(GiB + 0x5000, 0x5000, 1, R, MEMTYPE_WB, false)); /* split into PD + PT */
    assert_true(install(2 * GiB, 2 * GiB, 3, RWX, MEMTYPE_WB, false));
    assert_true(install(2 * GiB + 4 * MiB, 4 * MiB, 2, RWX, MEMTYPE_WB, false)); /* split into a PD */
    assert_false(install(0, 0, 2, RWX, MEMTYPE_WB, false));                      /* refused: a PT is there */
    assert_true(install(5ull << 39, 0x1000, 1, R, MEMTYPE_WB, false));
    assert_true(install(BIT(48) - PAGE_SIZE, 0x2000, 1, R, MEMTYPE_WB, false));
    assert_true(install(BIT(48) - GiB * 2, 0, 3, R, MEMTYPE_WB, false));
    for (unsigned i = 0; i < 64; i++)
        assert_true(install((3ull << 39) + i * GiB + i * 2 * MiB, 0x3000, 1, R, MEMTYPE_WB, false));
    expect_accounting();
    assert_true(e.table_pages > 64 * 2);
    ept_destroy(&e);
    assert_int_equal(palloc_free_pages(&g_palloc), free_at_start);
    assert_int_equal(g_palloc.count, 1); /* every page back, merged into the one arena range */
    assert_int_equal(e.pml4, 0);
    assert_int_equal(e.table_pages, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(install_4k_leaf),
        T(install_2m_leaf),
        T(install_1g_leaf),
        T(install_every_memory_type_and_ignore_pat),
        T(install_highest_addresses),
        T(install_only_rwx_of_perms_reaches_the_leaf),
        T(install_replaced_false_fresh_true_on_refill),
        T(install_fresh_slot_under_existing_tables_is_not_replaced),
        T(install_4k_under_a_2m_leaf_splits_it),
        T(install_under_a_1g_leaf_splits_it),
        T(install_2m_over_a_table_of_4k_fails),
        T(install_refuses_levels_0_and_4),
        T(install_refuses_misaligned_addresses),
        T(install_refuses_addresses_beyond_ept_reach),
        T(install_refuses_misconfigured_leaves),
        T(install_refused_input_keeps_the_existing_leaf),
        T(install_out_of_memory_keeps_the_tree),
        T(install_out_of_memory_while_splitting),
        T(install_destroy_returns_every_table_page),
        /* Last: when it runs (run-known-bugs), UBSan ends the binary. */
        T(install_refuses_levels_far_out_of_range),
    };
#undef T
    return RUN_GROUP("ept_install", tests, fakemem_group_setup, fakemem_group_teardown);
}
