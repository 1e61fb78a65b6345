/*
 * EPT accessed/dirty flags in L1's EPT12 (ept/ept12_ad.c, SDM 28.3.5) and L1's page-modification
 * log (nested/pml.c, SDM 28.3.6), on a fake L1-physical memory: the walk reads it through the
 * read callback, the flags are set through the compare-exchange callback (which a test can make
 * "lose a race" by changing the entry first, as another CPU of L1 would), and the log is written
 * through the PML write callback.
 */
#include <stdlib.h>

#include "harness.h"
#include "nestor/ept12_ad.h"
#include "nestor/pml.h"
#include "nestor/vmx_arch.h"

#define MEM_SIZE (2ull << 20)
#define ALL_ONES (~(uint64_t)0)
#define R EPT_R
#define W EPT_W
#define X EPT_X
#define RWX EPT_RWX
#define A EPT_ACCESSED
#define D EPT_DIRTY
#define WB ((uint64_t)MEMTYPE_WB << EPT_MEMTYPE_SHIFT)
#define PML4 0x1000ull
#define LOG_PAGE 0x100000ull
#define MAXPHY_39 ((1ull << 39) - 1)

static uint8_t *mem;
static struct ept12_caps caps;
static uint64_t eptp;
static gpa_t next_table;
static struct ept12_walk w;

/* The race: before the n-th compare-exchange (1-based) the entry at race_at gets race_value. */
static unsigned cmpxchg_calls, race_on_call;
static gpa_t race_at;
static uint64_t race_value;
static unsigned writes_seen; /* compare-exchanges that changed memory */

static uint64_t get64(gpa_t at)
{
    uint64_t v;
    assert_true(at < MEM_SIZE && MEM_SIZE - at >= 8);
    memcpy(&v, mem + at, 8);
    return v;
}

static void put64(gpa_t at, uint64_t v)
{
    assert_true(at < MEM_SIZE && MEM_SIZE - at >= 8);
    memcpy(mem + at, &v, 8);
}

static uint64_t mem_read(void *ctx, gpa_t pa)
{
    assert_ptr_equal(ctx, &mem);
    return pa >= MEM_SIZE || MEM_SIZE - pa < 8 ? ALL_ONES : get64(pa);
}

static bool mem_cmpxchg(void *ctx, gpa_t pa, uint64_t old, uint64_t val)
{
    assert_ptr_equal(ctx, &mem);
    if (++cmpxchg_calls == race_on_call)
        put64(race_at, race_value);
    if (pa >= MEM_SIZE)
        return true;
    if (get64(pa) != old)
        return false;
    put64(pa, val);
    writes_seen++;
    return true;
}

/* PML: vmcs12's fields, and the log written into the fake memory. */
static uint64_t pml_index;
static struct pml pml;
static unsigned pml_writes;

static void pml_write(void *ctx, gpa_t pa, uint64_t value)
{
    assert_ptr_equal(ctx, &mem);
    pml_writes++;
    put64(pa, value);
}

static bool log_full(void *ctx) { return pml_full(ctx); }
static void log_dirtied(void *ctx, gpa_t gpa) { pml_log(ctx, gpa); }
static const struct ept12_ad_log ad_log = {log_full, log_dirtied, &pml};

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
    caps = (struct ept12_caps){.exec_only = true, .large_2m = true, .large_1g = true, .maxphyaddr_mask = MAXPHY_39};
    eptp = PML4 | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB | EPTP_AD_ENABLE;
    next_table = PML4 + 0x1000;
    cmpxchg_calls = race_on_call = writes_seen = pml_writes = 0;
    pml_index = 511;
    pml = (struct pml){LOG_PAGE, &pml_index, pml_write, &mem};
    return 0;
}

static unsigned idx(gpa_t gpa, unsigned level) { return (gpa >> (12 + 9 * (level - 1))) & 511; }

/* Maps gpa with a leaf at leaf_level; missing tables RWX with no flags. Returns the leaf's address. */
static gpa_t map12(gpa_t gpa, unsigned leaf_level, gpa_t l1pa, uint64_t leaf_bits)
{
    gpa_t table = PML4;
    for (unsigned level = 4; level > leaf_level; level--) {
        gpa_t at = table + idx(gpa, level) * 8;
        uint64_t e = get64(at);
        if (!(e & RWX)) {
            e = next_table | RWX;
            next_table += 0x1000;
            put64(at, e);
        }
        table = e & 0xffffffffff000ull;
    }
    gpa_t at = table + idx(gpa, leaf_level) * 8;
    put64(at, l1pa | leaf_bits | WB | (leaf_level > 1 ? EPT_LARGE : 0));
    return at;
}

static gpa_t entry_at(gpa_t gpa, unsigned level)
{
    gpa_t table = PML4;
    for (unsigned l = 4; l > level; l--)
        table = get64(table + idx(gpa, l) * 8) & 0xffffffffff000ull;
    return table + idx(gpa, level) * 8;
}

static enum ept12_access_result access(gpa_t gpa, uint64_t need, bool with_log)
{
    memset(&w, 0x77, sizeof w);
    return ept12_access(eptp, gpa, need, &caps, mem_read, mem_cmpxchg, &mem, with_log ? &ad_log : NULL, &w);
}

/* ------------------------------------------------------------ A/D flags */

TEST(ad_read_sets_accessed_in_every_entry_used_and_no_dirty)
{
    gpa_t leaf = map12(0x5000, 1, 0x80000, RWX);
    assert_int_equal(access(0x5123, R, false), EPT12_ACCESS_OK);
    for (unsigned level = 4; level >= 1; level--)
        assert_int_equal(get64(entry_at(0x5000, level)) & (A | D), A);
    assert_int_equal(get64(leaf), 0x80000 | RWX | WB | A);
    assert_true(w.ad);
    assert_false(w.dirty); /* the shadow must stay read-only */
    assert_int_equal(w.l1pa, 0x80123);
}

TEST(ad_write_sets_dirty_in_the_leaf_only)
{
    gpa_t leaf = map12(0x5000, 1, 0x80000, RWX);
    assert_int_equal(access(0x5008, W, false), EPT12_ACCESS_OK);
    assert_int_equal(get64(leaf) & (A | D), A | D);
    for (unsigned level = 4; level >= 2; level--)
        assert_int_equal(get64(entry_at(0x5000, level)) & (A | D), A); /* D is not set in non-leaf entries */
    assert_true(w.dirty);
}

TEST(ad_dirty_in_a_large_leaf)
{
    gpa_t leaf = map12(0x40000000, 3, 0x40000000, RWX);
    assert_int_equal(access(0x40123000, W, false), EPT12_ACCESS_OK);
    assert_int_equal(get64(leaf) & (A | D), A | D);
    leaf = map12(0x600000, 2, 0x200000, RWX);
    assert_int_equal(access(0x7ff000, R | X, false), EPT12_ACCESS_OK);
    assert_int_equal(get64(leaf) & (A | D), A);
}

/* SDM 28.3.3.2: with A/D on, the CPU's accesses to guest paging structures are writes; the caller
 * passes them with EPT_W, and D is set on the page holding the guest's page table. */
TEST(ad_guest_paging_structure_access_counts_as_a_write)
{
    gpa_t leaf = map12(0x9000, 1, 0x90000, RWX);
    assert_int_equal(access(0x9ff8, W, false), EPT12_ACCESS_OK);
    assert_int_equal(get64(leaf) & (A | D), A | D);
    /* A read-only page holding a guest page table is then a violation, and sets nothing. */
    gpa_t ro = map12(0xa000, 1, 0xa0000, R | X);
    assert_int_equal(access(0xa000, W, false), EPT12_ACCESS_VIOLATION);
    assert_int_equal(get64(ro) & (A | D), 0);
}

TEST(ad_nothing_set_on_a_violation_or_misconfiguration)
{
    gpa_t leaf = map12(0x5000, 1, 0x80000, R);
    assert_int_equal(access(0x5000, W, false), EPT12_ACCESS_VIOLATION);
    assert_int_equal(access(0x5000, X, false), EPT12_ACCESS_VIOLATION);
    for (unsigned level = 4; level >= 1; level--)
        assert_int_equal(get64(entry_at(0x5000, level)) & (A | D), 0);
    put64(leaf, 0x80000 | W | WB); /* write without read */
    assert_int_equal(access(0x5000, R, false), EPT12_ACCESS_MISCONFIG);
    assert_int_equal(writes_seen, 0);
}

TEST(ad_flags_already_set_are_not_written_again)
{
    map12(0x5000, 1, 0x80000, RWX);
    assert_int_equal(access(0x5000, W, false), EPT12_ACCESS_OK);
    unsigned n = writes_seen;
    assert_int_equal(n, 4);
    assert_int_equal(access(0x5000, W, false), EPT12_ACCESS_OK);
    assert_int_equal(access(0x5000, R, false), EPT12_ACCESS_OK);
    assert_int_equal(writes_seen, n);
    assert_true(w.dirty);
}

TEST(ad_off_sets_nothing_and_allows_writable_shadows)
{
    eptp &= ~EPTP_AD_ENABLE;
    map12(0x5000, 1, 0x80000, RWX);
    assert_int_equal(access(0x5000, W, true), EPT12_ACCESS_OK);
    assert_int_equal(access(0x5000, R, true), EPT12_ACCESS_OK);
    assert_int_equal(cmpxchg_calls, 0);
    assert_false(w.ad);
    assert_true(w.dirty);
    assert_int_equal(pml_writes, 0);
}

/* The entry changes between the walk and the compare-exchange (another CPU of L1): walk again. */
TEST(ad_entry_changed_between_walk_and_set_is_walked_again)
{
    gpa_t leaf = map12(0x5000, 1, 0x80000, RWX);
    map12(0x6000, 1, 0x81000, RWX);
    /* Before the leaf's compare-exchange (the 4th), L1 points the leaf elsewhere. */
    race_on_call = 4;
    race_at = leaf;
    race_value = 0x82000 | RWX | WB;
    assert_int_equal(access(0x5010, W, false), EPT12_ACCESS_OK);
    assert_int_equal(w.l1pa, 0x82010); /* the translation of the new entry, not the old one */
    assert_int_equal(get64(leaf), 0x82000 | RWX | WB | A | D);
    assert_int_equal(cmpxchg_calls, 5);
}

TEST(ad_entry_made_read_only_under_the_walk_gives_a_violation)
{
    map12(0x5000, 1, 0x80000, RWX);
    gpa_t pde = entry_at(0x5000, 2);
    race_on_call = 2; /* before the PDPTE's exchange, L1 makes the PDE read-only */
    race_at = pde;
    race_value = get64(pde) & ~W;
    assert_int_equal(access(0x5000, W, false), EPT12_ACCESS_VIOLATION);
    assert_int_equal(get64(entry_at(0x5000, 1)) & (A | D), 0);
}

static unsigned lost;
static bool always_lose(void *ctx UNUSED, gpa_t pa UNUSED, uint64_t old UNUSED, uint64_t val UNUSED)
{
    lost++;
    return false;
}

TEST(ad_entry_that_never_stops_changing_is_busy)
{
    gpa_t leaf = map12(0x5000, 1, 0x80000, RWX);
    lost = 0;
    /* A CPU of L1 rewriting the entries faster than Nestor can set A: bounded, then L2 retries. */
    assert_int_equal(ept12_access(eptp, 0x5000, W, &caps, mem_read, always_lose, &mem, &ad_log, &w),
                     EPT12_ACCESS_BUSY);
    assert_int_equal(lost, EPT12_AD_TRIES);
    assert_int_equal(get64(leaf) & (A | D), 0);
    assert_int_equal(pml_writes, 0);
    assert_int_equal(pml_index, 511);
}

/* The CPU running L2 on EPT02 with A/D on reports a guest paging-structure access as a write
 * (SDM 27.2.1: bits 0 and 1; Bochs 2.7: bit 1 only); L1 gets those bits as they are, with bits
 * 5:3 from EPT12 and bit 8 clear (an access to a paging structure, not the translated address). */
TEST(ad_violation_qualification_of_a_paging_structure_access)
{
    uint64_t hw = EPTQUAL_READ | EPTQUAL_WRITE | EPTQUAL_LINEAR_VALID | EPTQUAL_READABLE | EPTQUAL_WRITABLE;
    assert_int_equal(ept12_violation_qual(hw, R | X),
                     EPTQUAL_READ | EPTQUAL_WRITE | EPTQUAL_LINEAR_VALID | EPTQUAL_READABLE | EPTQUAL_EXECUTABLE);
    hw = EPTQUAL_WRITE | EPTQUAL_LINEAR_VALID;
    assert_int_equal(ept12_violation_qual(hw, R), EPTQUAL_WRITE | EPTQUAL_LINEAR_VALID | EPTQUAL_READABLE);
}

/* ------------------------------------------------------------ PML */

TEST(pml_logs_each_dirty_flag_set_once_page_aligned_index_down)
{
    map12(0x5000, 1, 0x80000, RWX);
    map12(0x6000, 1, 0x81000, RWX);
    map12(0x200000, 2, 0x200000, RWX);
    assert_int_equal(access(0x5123, R, true), EPT12_ACCESS_OK); /* A only: not logged */
    assert_int_equal(pml_writes, 0);
    assert_int_equal(access(0x5123, W, true), EPT12_ACCESS_OK);
    assert_int_equal(access(0x5ff0, W, true), EPT12_ACCESS_OK); /* D already set: not again */
    assert_int_equal(access(0x6008, W, true), EPT12_ACCESS_OK);
    assert_int_equal(access(0x2345f8, W, true), EPT12_ACCESS_OK); /* 2 MiB leaf: the 4 KiB page written */
    assert_int_equal(pml_writes, 3);
    assert_int_equal(get64(LOG_PAGE + 8 * 511), 0x5000);
    assert_int_equal(get64(LOG_PAGE + 8 * 510), 0x6000);
    assert_int_equal(get64(LOG_PAGE + 8 * 509), 0x234000);
    assert_int_equal(pml_index, 508);
}

TEST(pml_index_zero_logs_then_wraps_to_ffff)
{
    map12(0x5000, 1, 0x80000, RWX);
    pml_index = 0;
    assert_int_equal(access(0x5000, W, true), EPT12_ACCESS_OK);
    assert_int_equal(get64(LOG_PAGE), 0x5000);
    assert_int_equal(pml_index, 0xffff);
}

/* SDM 28.3.6: index out of range when a flag must be set -> PML-full, before the access: nothing set. */
TEST(pml_full_before_any_flag_is_set)
{
    gpa_t leaf = map12(0x5000, 1, 0x80000, RWX);
    pml_index = 0xffff;
    assert_int_equal(access(0x5000, W, true), EPT12_ACCESS_LOG_FULL);
    assert_int_equal(writes_seen, 0);
    assert_int_equal(get64(leaf) & (A | D), 0);
    assert_int_equal(pml_writes, 0);
    assert_int_equal(pml_index, 0xffff);
    /* A read that would set A is a PML-full event too. */
    assert_int_equal(access(0x5000, R, true), EPT12_ACCESS_LOG_FULL);
    /* L1 resets the index: the same write goes through and is logged. */
    pml_index = 511;
    assert_int_equal(access(0x5000, W, true), EPT12_ACCESS_OK);
    assert_int_equal(get64(LOG_PAGE + 8 * 511), 0x5000);
}

TEST(pml_full_only_when_a_flag_must_be_set)
{
    map12(0x5000, 1, 0x80000, RWX | A | D);
    for (unsigned level = 4; level >= 2; level--)
        put64(entry_at(0x5000, level), get64(entry_at(0x5000, level)) | A);
    pml_index = 512; /* out of range (any value above 511) */
    assert_int_equal(access(0x5000, W, true), EPT12_ACCESS_OK);
    assert_int_equal(access(0x5000, R, true), EPT12_ACCESS_OK);
    assert_int_equal(pml_writes, 0);
}

TEST(pml_full_not_reported_without_a_log)
{
    map12(0x5000, 1, 0x80000, RWX);
    pml_index = 0xffff;
    assert_int_equal(access(0x5000, W, false), EPT12_ACCESS_OK); /* PML off: A/D set, nothing logged */
    assert_int_equal(pml_writes, 0);
}

TEST(pml_log_alone)
{
    pml_index = 1;
    assert_false(pml_full(&pml));
    pml_log(&pml, 0x12345678);
    assert_int_equal(get64(LOG_PAGE + 8), 0x12345000);
    pml_log(&pml, 0xabc000);
    assert_int_equal(get64(LOG_PAGE), 0xabc000);
    assert_true(pml_full(&pml));
    pml_log(&pml, 0x777000); /* full: nothing written, index unchanged */
    assert_int_equal(pml_writes, 2);
    assert_int_equal(pml_index, 0xffff);
    pml_index = 0x10000; /* only bits 15:0 are the index */
    assert_false(pml_full(&pml));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(ad_read_sets_accessed_in_every_entry_used_and_no_dirty),
        T(ad_write_sets_dirty_in_the_leaf_only),
        T(ad_dirty_in_a_large_leaf),
        T(ad_guest_paging_structure_access_counts_as_a_write),
        T(ad_nothing_set_on_a_violation_or_misconfiguration),
        T(ad_flags_already_set_are_not_written_again),
        T(ad_off_sets_nothing_and_allows_writable_shadows),
        T(ad_entry_changed_between_walk_and_set_is_walked_again),
        T(ad_entry_made_read_only_under_the_walk_gives_a_violation),
        T(ad_entry_that_never_stops_changing_is_busy),
        T(ad_violation_qualification_of_a_paging_structure_access),
        T(pml_logs_each_dirty_flag_set_once_page_aligned_index_down),
        T(pml_index_zero_logs_then_wraps_to_ffff),
        T(pml_full_before_any_flag_is_set),
        T(pml_full_only_when_a_flag_must_be_set),
        T(pml_full_not_reported_without_a_log),
        T(pml_log_alone),
    };
#undef T
    return RUN_GROUP("ept12_ad", tests, group_setup, group_teardown);
}
