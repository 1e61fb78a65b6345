/*
 * ept/ept12_walk.c: walking the EPT L1 gives L2 (EPT12) as the CPU walks an
 * EPT (SDM 28.3.2), with the misconfiguration rules of SDM 28.3.3.1, the
 * EPTP checks of 26.2.1.1 and the violation qualification L1 receives
 * (27.2.1). The tables live in a fake L1-physical memory read through the
 * ept12_read_fn callback; addresses outside it read as all ones, as Nestor's
 * l1_phys_read does for memory that is not L1's.
 */
#include <stdlib.h>

#include "harness.h"
#include "nestor/ept12.h"
#include "nestor/vmx_arch.h"

/* ------------------------------------------------------------ fake L1-physical memory */

#define MEM_SIZE (2ull << 20) /* L1-physical [0, 2 MiB) is RAM */
#define ALL_ONES (~(uint64_t)0)

static uint8_t *mem;
static unsigned reads;
static gpa_t read_at[16]; /* the first addresses read by the walk, in order */

static uint64_t mem_read(void *ctx, gpa_t pa)
{
    assert_ptr_equal(ctx, &mem);
    if (reads < ARRAY_SIZE(read_at))
        read_at[reads] = pa;
    reads++;
    if (pa >= MEM_SIZE || MEM_SIZE - pa < 8)
        return ALL_ONES;
    uint64_t v;
    memcpy(&v, mem + pa, 8);
    return v;
}

static void put64(gpa_t at, uint64_t v)
{
    assert_true(at < MEM_SIZE && MEM_SIZE - at >= 8);
    memcpy(mem + at, &v, 8);
}

static uint64_t get64(gpa_t at)
{
    uint64_t v;
    assert_true(at < MEM_SIZE && MEM_SIZE - at >= 8);
    memcpy(&v, mem + at, 8);
    return v;
}

/* ------------------------------------------------------------ EPT12 builders */

#define R EPT_R
#define W EPT_W
#define X EPT_X
#define RWX EPT_RWX
#define LARGE EPT_LARGE
#define IPAT EPT_IGNORE_PAT
#define MT(t) ((uint64_t)(t) << EPT_MEMTYPE_SHIFT)

#define PML4 0x1000ull
#define MAXPHY_39 ((1ull << 39) - 1)

static struct ept12_caps caps;
static uint64_t eptp;
static gpa_t next_table;
static struct ept12_walk w;

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
    reads = 0;
    memset(read_at, 0, sizeof read_at);
    caps = (struct ept12_caps){.exec_only = false, .large_2m = true, .large_1g = true, .maxphyaddr_mask = MAXPHY_39};
    eptp = PML4 | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB;
    next_table = PML4 + 0x1000;
    return 0;
}

static unsigned idx(gpa_t gpa, unsigned level) { return (gpa >> (12 + 9 * (level - 1))) & 511; }

static uint64_t size_of_level(unsigned level) { return 1ull << (12 + 9 * (level - 1)); }

/*
 * Maps gpa with a leaf at leaf_level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) holding
 * l1pa | leaf_bits (and the large bit above level 1); missing tables are
 * created with upper_bits. Returns the L1-physical address of the leaf entry.
 */
static gpa_t map12(gpa_t gpa, unsigned leaf_level, gpa_t l1pa, uint64_t leaf_bits, uint64_t upper_bits)
{
    gpa_t table = PML4;
    for (unsigned level = 4; level > leaf_level; level--) {
        gpa_t at = table + idx(gpa, level) * 8;
        uint64_t e = get64(at);
        if (!(e & RWX)) {
            e = next_table | upper_bits;
            next_table += 0x1000;
            assert_true(next_table <= MEM_SIZE);
            put64(at, e);
        }
        table = e & 0xffffffffff000ull;
    }
    gpa_t at = table + idx(gpa, leaf_level) * 8;
    put64(at, l1pa | leaf_bits | (leaf_level > 1 ? LARGE : 0));
    return at;
}

/* L1-physical address of the entry at level for gpa, following the tables as they are. */
static gpa_t entry_at(gpa_t gpa, unsigned level)
{
    gpa_t table = PML4;
    for (unsigned l = 4; l > level; l--)
        table = get64(table + idx(gpa, l) * 8) & 0xffffffffff000ull;
    return table + idx(gpa, level) * 8;
}

static void set_bits(gpa_t at, uint64_t bits) { put64(at, get64(at) | bits); }
static void clear_bits(gpa_t at, uint64_t bits) { put64(at, get64(at) & ~bits); }

/* Walks gpa; a walk of a 4-level EPT never reads more than four entries. */
static enum ept12_result walk(gpa_t gpa)
{
    memset(&w, 0x77, sizeof w);
    reads = 0;
    enum ept12_result r = ept12_walk(eptp, gpa, &caps, mem_read, &mem, &w);
    assert_true(reads >= 1 && reads <= 4);
    return r;
}

static const char *result_name(enum ept12_result r)
{
    return r == EPT12_OK ? "OK" : r == EPT12_NOT_PRESENT ? "NOT_PRESENT" : r == EPT12_MISCONFIG ? "MISCONFIG" : "?";
}

#define ASSERT_WALK(gpa, result, lvl)                                                                          \
    do {                                                                                                       \
        enum ept12_result r_ = walk(gpa);                                                                      \
        if (r_ != (result) || w.level != (unsigned)(lvl))                                                      \
            print_error("walk of 0x%llx: %s at level %u, expected %s at level %u\n", (unsigned long long)(gpa), \
                        result_name(r_), w.level, result_name(result), (unsigned)(lvl));                      \
        assert_int_equal(r_, (result));                                                                        \
        assert_int_equal(w.level, (lvl));                                                                      \
    } while (0)

/* Walks and expects a translation to l1pa with a leaf at level. */
#define ASSERT_MAPS(gpa, expect_l1pa, lvl)                     \
    do {                                                       \
        ASSERT_WALK((gpa), EPT12_OK, (lvl));                   \
        assert_int_equal(w.l1pa, (expect_l1pa));               \
        assert_int_equal(w.page_size, size_of_level(lvl));     \
    } while (0)

/* ------------------------------------------------------------ leaves of every size */

TEST(ept12_4k_leaf)
{
    gpa_t gpa = (3ull << 39) | (5ull << 30) | (7ull << 21) | (9ull << 12);
    map12(gpa, 1, 0xabc000, RWX | MT(MEMTYPE_WB) | IPAT, RWX);
    ASSERT_MAPS(gpa + 0x678, 0xabc678, 1);
    assert_int_equal(w.perms, RWX);
    assert_int_equal(w.memtype, MEMTYPE_WB);
    assert_true(w.ignore_pat);
    assert_int_equal(reads, 4);
    /* The walk read exactly the entries the indexes select. */
    assert_int_equal(read_at[0], PML4 + 3 * 8);
    assert_int_equal(read_at[1], entry_at(gpa, 3));
    assert_int_equal(read_at[2], entry_at(gpa, 2));
    assert_int_equal(read_at[3], entry_at(gpa, 1));
    assert_int_equal(read_at[1], 0x2000 + 5 * 8);
    ASSERT_MAPS(gpa, 0xabc000, 1);
    ASSERT_MAPS(gpa + 0xfff, 0xabcfff, 1);

    /* The neighbours are not mapped. */
    ASSERT_WALK(gpa + 0x1000, EPT12_NOT_PRESENT, 1);
    ASSERT_WALK(gpa - 1, EPT12_NOT_PRESENT, 1);

    /* A leaf address beyond L1's memory is still a translation: the leaf page itself is never read. */
    map12(gpa + 0x1000, 1, 0x7fff000000ull, R | MT(MEMTYPE_WT), RWX);
    ASSERT_MAPS(gpa + 0x1234, 0x7fff000234ull, 1);
    assert_int_equal(w.perms, R);
    assert_int_equal(w.memtype, MEMTYPE_WT);
    assert_false(w.ignore_pat);
    assert_int_equal(reads, 4);
}

TEST(ept12_every_valid_memory_type_in_a_leaf)
{
    static const unsigned ok[] = {MEMTYPE_UC, MEMTYPE_WC, MEMTYPE_WT, MEMTYPE_WP, MEMTYPE_WB};
    for (unsigned i = 0; i < ARRAY_SIZE(ok); i++) {
        for (unsigned level = 1; level <= 3; level++) {
            gpa_t gpa = (1ull << 39) * (i + 1) + GiB * level;
            map12(gpa, level, 4 * GiB, R | MT(ok[i]) | (level == 2 ? IPAT : 0), RWX);
            ASSERT_MAPS(gpa, 4 * GiB, level);
            assert_int_equal(w.memtype, ok[i]);
            assert_int_equal(w.ignore_pat, level == 2);
        }
    }
}

TEST(ept12_2m_leaf_offsets)
{
    gpa_t base = GiB + 3 * 2 * MiB;
    gpa_t l1 = 0x7fe00000;
    map12(base, 2, l1, R | W | MT(MEMTYPE_WB), RWX);
    for (uint64_t off = 0; off < 2 * MiB; off += PAGE_SIZE) {
        ASSERT_MAPS(base + off, l1 + off, 2);
        ASSERT_MAPS(base + off + 0xabc, l1 + off + 0xabc, 2);
    }
    ASSERT_MAPS(base + 2 * MiB - 1, l1 + 2 * MiB - 1, 2);
    assert_int_equal(w.perms, R | W);
    assert_int_equal(w.memtype, MEMTYPE_WB);
    assert_false(w.ignore_pat);
    assert_int_equal(reads, 3);
    ASSERT_WALK(base + 2 * MiB, EPT12_NOT_PRESENT, 2);
    ASSERT_WALK(base - 1, EPT12_NOT_PRESENT, 2);
}

TEST(ept12_1g_leaf)
{
    gpa_t base = (2ull << 39) + 7 * GiB;
    map12(base, 3, 5 * GiB, R | X | MT(MEMTYPE_UC) | IPAT, RWX);
    ASSERT_MAPS(base, 5 * GiB, 3);
    ASSERT_MAPS(base + 0x12345678, 5 * GiB + 0x12345678, 3);
    ASSERT_MAPS(base + GiB - 1, 6 * GiB - 1, 3);
    assert_int_equal(w.perms, R | X);
    assert_int_equal(w.memtype, MEMTYPE_UC);
    assert_true(w.ignore_pat);
    assert_int_equal(reads, 2);
    ASSERT_WALK(base + GiB, EPT12_NOT_PRESENT, 3);
}

TEST(ept12_leaf_ignored_bits_do_not_change_the_translation)
{
    /* Bits 11:8 (A, D, user-execute, ignored) and 62:52 are not address bits; bit 7 is ignored in a PTE. */
    uint64_t junk = BIT(7) | BIT(8) | BIT(9) | BIT(10) | BIT(11) | BIT(52) | BIT(58) | BIT(62);
    map12(0x5000, 1, 0x123000, R | junk, RWX | BIT(8) | BIT(9) | BIT(10) | BIT(11) | BIT(52) | BIT(62));
    ASSERT_MAPS(0x5010, 0x123010, 1);
    assert_int_equal(w.perms, R);
    assert_int_equal(w.memtype, MEMTYPE_UC);
    assert_false(w.ignore_pat);
}

/* ------------------------------------------------------------ permissions */

TEST(ept12_perms_anded_across_levels)
{
    gpa_t gpa = 0x40201000;
    map12(gpa, 1, 0x9000, RWX | MT(MEMTYPE_WB), RWX);
    clear_bits(entry_at(gpa, 3), W);     /* PDPTE R-X */
    clear_bits(entry_at(gpa, 1), X);     /* PTE RW- */
    ASSERT_MAPS(gpa, 0x9000, 1);
    assert_int_equal(w.perms, R);

    /* Every combination of valid permissions (execute-only offered) over the four levels. */
    static const uint64_t valid[] = {R, R | W, R | X, RWX, X};
    caps.exec_only = true;
    for (unsigned a = 0; a < 5; a++)
        for (unsigned b = 0; b < 5; b++)
            for (unsigned c = 0; c < 5; c++)
                for (unsigned d = 0; d < 5; d++) {
                    put64(entry_at(gpa, 4), (get64(entry_at(gpa, 4)) & ~RWX) | valid[a]);
                    put64(entry_at(gpa, 3), (get64(entry_at(gpa, 3)) & ~RWX) | valid[b]);
                    put64(entry_at(gpa, 2), (get64(entry_at(gpa, 2)) & ~RWX) | valid[c]);
                    put64(entry_at(gpa, 1), (get64(entry_at(gpa, 1)) & ~RWX) | valid[d]);
                    ASSERT_MAPS(gpa + 0x10, 0x9010, 1);
                    assert_int_equal(w.perms, valid[a] & valid[b] & valid[c] & valid[d]);
                }
}

TEST(ept12_perms_anded_for_large_leaves)
{
    map12(0, 2, 0x200000, R | W | MT(MEMTYPE_WB), R | X);
    ASSERT_MAPS(0x1234, 0x201234, 2);
    assert_int_equal(w.perms, R);
    map12(GiB, 3, GiB, R | X | MT(MEMTYPE_WB), R | X);
    clear_bits(entry_at(GiB, 4), X);
    ASSERT_MAPS(GiB, GiB, 3);
    assert_int_equal(w.perms, R);
}

/* ------------------------------------------------------------ not present */

/* A full 4 KiB mapping with RWX everywhere, then the entry at `level` made not present. */
static gpa_t not_present_at(unsigned level, uint64_t junk)
{
    gpa_t gpa = (1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12);
    setup(NULL);
    map12(gpa, 1, 0x55000, RWX | MT(MEMTYPE_WB), RWX);
    gpa_t at = entry_at(gpa, level);
    put64(at, (get64(at) & ~RWX) | junk);
    return gpa;
}

TEST(ept12_not_present_at_each_level)
{
    for (unsigned level = 4; level >= 1; level--) {
        gpa_t gpa = not_present_at(level, 0);
        ASSERT_WALK(gpa + 0x321, EPT12_NOT_PRESENT, level);
        assert_int_equal(reads, 5 - level); /* nothing below was read */
        /* Bits other than 2:0 do not make an entry present, and are not checked when it is not. */
        gpa = not_present_at(level, ALL_ONES & ~RWX);
        ASSERT_WALK(gpa, EPT12_NOT_PRESENT, level);
        gpa = not_present_at(level, LARGE | MT(7) | BIT(45) | 0x1ff000);
        ASSERT_WALK(gpa, EPT12_NOT_PRESENT, level);
    }
    /* The EPTP's own table empty: not present at the PML4E. */
    setup(NULL);
    ASSERT_WALK(0, EPT12_NOT_PRESENT, 4);
    assert_int_equal(w.perms, 0);
}

/*
 * SDM 27.2.1: bits 5:3 of the violation qualification are the AND of R/W/X
 * over the entries used to translate the address, the not-present one
 * included, so a not-present entry at any level gives 0 (the header says the
 * same of w->perms). ept12_walk sets w->perms to the AND of the upper levels
 * after each table and returns EPT12_NOT_PRESENT without clearing it, so a
 * not-present PDPTE, PDE or PTE under RWX tables reports RWX, and L1 gets a
 * violation saying the address was readable, writable and executable.
 */
TEST(ept12_not_present_reports_no_permissions)
{
    unsigned wrong = 0;
    for (unsigned level = 4; level >= 1; level--) {
        gpa_t gpa = not_present_at(level, 0);
        ASSERT_WALK(gpa, EPT12_NOT_PRESENT, level);
        if (w.perms != 0) {
            print_error("not present at level %u: perms 0x%llx, expected 0\n", level, (unsigned long long)w.perms);
            wrong++;
        }
    }
    assert_int_equal(wrong, 0);
}

/* ------------------------------------------------------------ misconfigurations (SDM 28.3.3.1) */

/* A 4 KiB, a 2 MiB and a 1 GiB mapping, all valid. */
#define G4K 0x7654000ull
#define G2M (3 * GiB + 4 * MiB)
#define G1G (9 * GiB)
static void three_mappings(void)
{
    setup(NULL);
    map12(G4K, 1, 0x321000, RWX | MT(MEMTYPE_WB), RWX);
    map12(G2M, 2, 0x400000, RWX | MT(MEMTYPE_WB), RWX);
    map12(G1G, 3, 2 * GiB, RWX | MT(MEMTYPE_WB), RWX);
    ASSERT_MAPS(G4K, 0x321000, 1);
    ASSERT_MAPS(G2M, 0x400000, 2);
    ASSERT_MAPS(G1G, 2 * GiB, 3);
}

/* The entry at level for gpa with its R/W/X replaced by rwx. */
static void set_rwx(gpa_t gpa, unsigned level, uint64_t rwx)
{
    gpa_t at = entry_at(gpa, level);
    put64(at, (get64(at) & ~RWX) | rwx);
}

TEST(ept12_misconfig_write_without_read)
{
    static const uint64_t bad[] = {W, W | X};
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        for (unsigned level = 4; level >= 1; level--) {
            three_mappings();
            set_rwx(G4K, level, bad[i]);
            ASSERT_WALK(G4K, EPT12_MISCONFIG, level);
        }
        /* In large leaves too, and execute-only being offered does not help. */
        three_mappings();
        caps.exec_only = true;
        set_rwx(G2M, 2, bad[i]);
        ASSERT_WALK(G2M, EPT12_MISCONFIG, 2);
        set_rwx(G1G, 3, bad[i]);
        ASSERT_WALK(G1G, EPT12_MISCONFIG, 3);
    }
}

TEST(ept12_execute_only_needs_the_capability)
{
    for (unsigned level = 4; level >= 1; level--) {
        three_mappings();
        set_rwx(G4K, level, X);
        ASSERT_WALK(G4K, EPT12_MISCONFIG, level);
        caps.exec_only = true;
        ASSERT_MAPS(G4K + 8, 0x321008, 1);
        assert_int_equal(w.perms, X);
    }
    three_mappings();
    set_rwx(G2M, 2, X);
    set_rwx(G1G, 3, X);
    ASSERT_WALK(G2M, EPT12_MISCONFIG, 2);
    ASSERT_WALK(G1G, EPT12_MISCONFIG, 3);
    caps.exec_only = true;
    ASSERT_MAPS(G2M, 0x400000, 2);
    assert_int_equal(w.perms, X);
    ASSERT_MAPS(G1G, 2 * GiB, 3);
    assert_int_equal(w.perms, X);
}

TEST(ept12_misconfig_reserved_memory_types_in_a_leaf)
{
    static const unsigned bad[] = {2, 3, 7};
    static const gpa_t gpas[] = {0, G4K, G2M, G1G};
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        for (unsigned level = 1; level <= 3; level++) {
            three_mappings();
            gpa_t at = entry_at(gpas[level], level);
            put64(at, (get64(at) & ~EPT_MEMTYPE_MASK) | MT(bad[i]));
            ASSERT_WALK(gpas[level], EPT12_MISCONFIG, level);
            /* Only that entry: the other mappings still translate. */
            for (unsigned other = 1; other <= 3; other++)
                if (other != level)
                    ASSERT_WALK(gpas[other], EPT12_OK, other);
        }
    }
}

TEST(ept12_misconfig_bits_beyond_maxphyaddr_in_any_entry)
{
    static const unsigned bits39[] = {39, 40, 45, 51};
    for (unsigned b = 0; b < ARRAY_SIZE(bits39); b++) {
        for (unsigned level = 4; level >= 1; level--) {
            three_mappings();
            set_bits(entry_at(G4K, level), BIT(bits39[b]));
            ASSERT_WALK(G4K, EPT12_MISCONFIG, level);
        }
        three_mappings();
        set_bits(entry_at(G2M, 2), BIT(bits39[b]));
        ASSERT_WALK(G2M, EPT12_MISCONFIG, 2);
        set_bits(entry_at(G1G, 3), BIT(bits39[b]));
        ASSERT_WALK(G1G, EPT12_MISCONFIG, 3);
    }
    /* With a wider physical-address width the same bits are address bits. */
    three_mappings();
    caps.maxphyaddr_mask = (1ull << 46) - 1;
    set_bits(entry_at(G4K, 1), BIT(45) | BIT(39));
    ASSERT_MAPS(G4K + 1, BIT(45) | BIT(39) | 0x321001, 1);
    set_bits(entry_at(G1G, 3), BIT(40));
    ASSERT_MAPS(G1G, BIT(40) | 2 * GiB, 3);
    set_bits(entry_at(G4K, 1), BIT(46));
    ASSERT_WALK(G4K, EPT12_MISCONFIG, 1);
}

TEST(ept12_misconfig_pml4e_bits_7_3)
{
    for (unsigned bit = 3; bit <= 7; bit++) {
        three_mappings();
        set_bits(entry_at(G4K, 4), BIT(bit));
        ASSERT_WALK(G4K, EPT12_MISCONFIG, 4);
    }
    /* Bits 11:8 of a PML4E are ignored (A and the software bits). */
    three_mappings();
    set_bits(entry_at(G4K, 4), 0xf00);
    ASSERT_MAPS(G4K, 0x321000, 1);
}

TEST(ept12_misconfig_non_leaf_bits_6_3)
{
    for (unsigned level = 3; level >= 2; level--) {
        for (unsigned bit = 3; bit <= 6; bit++) {
            three_mappings();
            set_bits(entry_at(G4K, level), BIT(bit));
            ASSERT_WALK(G4K, EPT12_MISCONFIG, level);
        }
        three_mappings();
        set_bits(entry_at(G4K, level), 0xf00);
        ASSERT_MAPS(G4K, 0x321000, 1);
    }
}

TEST(ept12_misconfig_large_leaf_address_bits_below_the_page_size)
{
    for (unsigned bit = 12; bit <= 29; bit++) {
        three_mappings();
        set_bits(entry_at(G1G, 3), BIT(bit));
        ASSERT_WALK(G1G, EPT12_MISCONFIG, 3);
    }
    for (unsigned bit = 12; bit <= 20; bit++) {
        three_mappings();
        set_bits(entry_at(G2M, 2), BIT(bit));
        ASSERT_WALK(G2M, EPT12_MISCONFIG, 2);
    }
    /* The bits just above the page size are address bits. */
    three_mappings();
    set_bits(entry_at(G1G, 3), BIT(30));
    ASSERT_MAPS(G1G + 5, 3 * GiB + 5, 3);
    set_bits(entry_at(G2M, 2), BIT(21));
    ASSERT_MAPS(G2M + 5, 0x600005, 2);
}

TEST(ept12_misconfig_page_size_not_offered)
{
    three_mappings();
    caps.large_1g = false;
    ASSERT_WALK(G1G, EPT12_MISCONFIG, 3);
    ASSERT_MAPS(G2M, 0x400000, 2);
    ASSERT_MAPS(G4K, 0x321000, 1);
    caps.large_1g = true;
    caps.large_2m = false;
    ASSERT_WALK(G2M, EPT12_MISCONFIG, 2);
    ASSERT_MAPS(G1G, 2 * GiB, 3);
    ASSERT_MAPS(G4K, 0x321000, 1);
}

TEST(ept12_misconfig_large_bit_in_a_pml4e)
{
    /* Bit 7 of a PML4E is reserved whatever the page sizes offered, and never makes a 512 GiB page. */
    three_mappings();
    put64(entry_at(G1G, 4), RWX | LARGE); /* would be a 512 GiB page at 0 */
    ASSERT_WALK(G1G, EPT12_MISCONFIG, 4);
    ASSERT_WALK(G4K, EPT12_MISCONFIG, 4);
    caps.large_1g = false;
    caps.large_2m = false;
    ASSERT_WALK(G2M, EPT12_MISCONFIG, 4);
}

TEST(ept12_entry_outside_memory_reads_as_misconfig)
{
    /* A table pointer beyond L1's memory: the next entry reads as all ones. */
    for (unsigned level = 4; level >= 2; level--) {
        three_mappings();
        gpa_t at = entry_at(G4K, level);
        put64(at, 0x40000000ull | RWX);
        ASSERT_WALK(G4K, EPT12_MISCONFIG, level - 1);
        assert_int_equal(read_at[5 - level], 0x40000000ull + idx(G4K, level - 1) * 8);
        caps.large_2m = false;
        caps.large_1g = false;
        ASSERT_WALK(G4K, EPT12_MISCONFIG, level - 1);
        caps.exec_only = true;
        caps.maxphyaddr_mask = (1ull << 52) - 1;
        ASSERT_WALK(G4K, EPT12_MISCONFIG, level - 1);
    }
    /* The EPTP itself outside. */
    three_mappings();
    eptp = (1ull << 38) | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB;
    ASSERT_WALK(G4K, EPT12_MISCONFIG, 4);
    assert_int_equal(reads, 1);
    assert_int_equal(read_at[0], (1ull << 38) + idx(G4K, 4) * 8);
}

TEST(ept12_eptp_low_bits_do_not_move_the_pml4)
{
    three_mappings();
    eptp = PML4 | 0xfff;
    ASSERT_MAPS(G4K, 0x321000, 1);
    assert_int_equal(read_at[0], PML4 + idx(G4K, 4) * 8);
}

/* ------------------------------------------------------------ hostile: self-referencing tables */

TEST(ept12_self_referencing_table)
{
    /* Every entry of one page points back to that page: each level walks the same table again. */
    gpa_t gpa = (1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12) | 0xabc;
    for (unsigned i = 0; i < 512; i++)
        put64(PML4 + i * 8, PML4 | RWX);
    /*
     * PML4E, PDPTE and PDE are valid non-leaf entries; at level 1 the same
     * value is a 4 KiB leaf (memory type 0 = UC is valid), so the walk ends
     * with a translation to the table page itself.
     */
    ASSERT_MAPS(gpa, PML4 | 0xabc, 1);
    assert_int_equal(w.perms, RWX);
    assert_int_equal(w.memtype, MEMTYPE_UC);
    assert_false(w.ignore_pat);
    assert_int_equal(reads, 4);
    assert_int_equal(read_at[0], PML4 + 1 * 8);
    assert_int_equal(read_at[1], PML4 + 2 * 8);
    assert_int_equal(read_at[2], PML4 + 3 * 8);
    assert_int_equal(read_at[3], PML4 + 4 * 8);

    /* With the large bit: reserved in the PML4E, so misconfigured at once. */
    for (unsigned i = 0; i < 512; i++)
        put64(PML4 + i * 8, PML4 | RWX | LARGE | MT(MEMTYPE_WB));
    ASSERT_WALK(gpa, EPT12_MISCONFIG, 4);
    assert_int_equal(reads, 1);

    /* A memory type in every entry: bits 5:3 are reserved in the PML4E. */
    for (unsigned i = 0; i < 512; i++)
        put64(PML4 + i * 8, PML4 | R | MT(MEMTYPE_WB));
    ASSERT_WALK(gpa, EPT12_MISCONFIG, 4);

    /* Two pages pointing at each other, with read-only permissions somewhere on the way. */
    for (unsigned i = 0; i < 512; i++) {
        put64(PML4 + i * 8, 0x2000 | RWX);
        put64(0x2000 + i * 8, PML4 | R | X);
    }
    ASSERT_MAPS(gpa, PML4 | 0xabc, 1); /* levels 4, 2 read the first page, 3 and 1 the second */
    assert_int_equal(w.perms, R | X);
    assert_int_equal(read_at[1], 0x2000 + 2 * 8);
    assert_int_equal(read_at[3], 0x2000 + 4 * 8);
}

/* ------------------------------------------------------------ EPTP checks (26.2.1.1) */

#define EPTP_OK (0x3000ull | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB)

static void expect_rule_(const char *got, const char *words, const char *file, int line)
{
    if (!got) {
        print_error("EPTP accepted, expected \"%s\"\n", words);
        _fail(file, line);
    }
    if (strncmp(got, "26.2.1.1 ", 9) != 0) {
        print_error("rule \"%s\" does not start with \"26.2.1.1 \"\n", got);
        _fail(file, line);
    }
    harness_assert_contains(got, words, file, line);
}
#define EXPECT_RULE(got, words) expect_rule_((got), (words), __FILE__, __LINE__)

TEST(eptp_valid_wb_and_uc)
{
    assert_null(ept12_check_eptp(EPTP_OK, true, true, false, MAXPHY_39));
    assert_null(ept12_check_eptp(EPTP_OK, false, true, false, MAXPHY_39));
    uint64_t uc = 0x3000ull | EPTP_WALK_LENGTH_4 | MEMTYPE_UC;
    assert_null(ept12_check_eptp(uc, true, true, false, MAXPHY_39));
    assert_null(ept12_check_eptp(uc, true, false, false, MAXPHY_39));
    /* The highest address that fits, and A/D when offered. */
    assert_null(ept12_check_eptp((MAXPHY_39 & ~0xfffull) | EPTP_WALK_LENGTH_4 | MEMTYPE_WB, true, true, false,
                                 MAXPHY_39));
    assert_null(ept12_check_eptp(EPTP_OK | EPTP_AD_ENABLE, true, true, true, MAXPHY_39));
    assert_null(ept12_check_eptp(0 | EPTP_WALK_LENGTH_4 | MEMTYPE_WB, true, true, false, MAXPHY_39));
}

TEST(eptp_memory_type_not_allowed)
{
    uint64_t uc = 0x3000ull | EPTP_WALK_LENGTH_4 | MEMTYPE_UC;
    EXPECT_RULE(ept12_check_eptp(uc, false, true, false, MAXPHY_39), "memory type");
    EXPECT_RULE(ept12_check_eptp(EPTP_OK, true, false, false, MAXPHY_39), "memory type");
    EXPECT_RULE(ept12_check_eptp(EPTP_OK, false, false, false, MAXPHY_39), "memory type");
    for (unsigned t = 0; t < 8; t++) {
        if (t == MEMTYPE_UC || t == MEMTYPE_WB)
            continue;
        EXPECT_RULE(ept12_check_eptp((EPTP_OK & ~7ull) | t, true, true, false, MAXPHY_39), "memory type");
    }
}

TEST(eptp_walk_length_must_be_4)
{
    for (uint64_t len = 0; len < 8; len++) {
        const char *r = ept12_check_eptp((EPTP_OK & ~0x38ull) | (len << 3), true, true, false, MAXPHY_39);
        if (len == 3)
            assert_null(r);
        else
            EXPECT_RULE(r, "page-walk length");
    }
}

TEST(eptp_ad_bit_when_not_offered)
{
    EXPECT_RULE(ept12_check_eptp(EPTP_OK | EPTP_AD_ENABLE, true, true, false, MAXPHY_39), "accessed/dirty");
}

TEST(eptp_reserved_bits_11_7)
{
    for (unsigned bit = 7; bit <= 11; bit++)
        EXPECT_RULE(ept12_check_eptp(EPTP_OK | BIT(bit), true, true, true, MAXPHY_39), "bits 11:7");
}

TEST(eptp_bits_beyond_maxphyaddr)
{
    static const unsigned bits[] = {39, 40, 46, 51, 52, 63};
    for (unsigned i = 0; i < ARRAY_SIZE(bits); i++)
        EXPECT_RULE(ept12_check_eptp(EPTP_OK | BIT(bits[i]), true, true, false, MAXPHY_39), "physical-address width");
    assert_null(ept12_check_eptp(EPTP_OK | BIT(38), true, true, false, MAXPHY_39));
    assert_null(ept12_check_eptp(EPTP_OK | BIT(45), true, true, false, (1ull << 46) - 1));
    EXPECT_RULE(ept12_check_eptp(EPTP_OK | BIT(46), true, true, false, (1ull << 46) - 1), "physical-address width");
}

/* ------------------------------------------------------------ violation qualification for L1 */

TEST(ept12_violation_qual_keeps_access_linear_and_nmi_bits)
{
    const uint64_t kept = BIT(0) | BIT(1) | BIT(2) | BIT(7) | BIT(8) | BIT(12);
    for (unsigned bit = 0; bit < 64; bit++) {
        uint64_t q = ept12_violation_qual(BIT(bit), 0);
        if (q != (BIT(bit) & kept))
            print_error("hardware bit %u gave 0x%llx\n", bit, (unsigned long long)q);
        assert_int_equal(q, BIT(bit) & kept);
    }
    assert_int_equal(ept12_violation_qual(ALL_ONES, 0), kept);
    assert_int_equal(ept12_violation_qual(EPTQUAL_WRITE | EPTQUAL_READABLE | EPTQUAL_WRITABLE | EPTQUAL_EXECUTABLE |
                                              EPTQUAL_USER_EXECUTABLE | EPTQUAL_LINEAR_VALID,
                                          R),
                     EPTQUAL_WRITE | EPTQUAL_READABLE | EPTQUAL_LINEAR_VALID);
}

TEST(ept12_violation_qual_perms_in_bits_5_3)
{
    for (uint64_t p = 0; p < 8; p++) {
        assert_int_equal(ept12_violation_qual(0, p), p << 3);
        assert_int_equal(ept12_violation_qual(ALL_ONES, p), 0x1187ull | (p << 3));
        /* Only R/W/X of the permissions: other entry bits never reach the qualification. */
        assert_int_equal(ept12_violation_qual(EPTQUAL_READ, p | LARGE | IPAT | MT(7) | BIT(10) | BIT(63)),
                         EPTQUAL_READ | (p << 3));
    }
    assert_int_equal(ept12_violation_qual(EPTQUAL_FETCH | EPTQUAL_NMI_UNBLOCKING, R | X),
                     EPTQUAL_FETCH | EPTQUAL_NMI_UNBLOCKING | EPTQUAL_READABLE | EPTQUAL_EXECUTABLE);
}

/* 17: bits 51:48 of an L2 guest-physical address are beyond a 4-level EPT12: a violation, never an alias. */
TEST(ept12_gpa_beyond_48_bits_is_not_present)
{
    caps.maxphyaddr_mask = (1ull << 52) - 1;
    map12(0x3000, 1, 0x100000, RWX | MT(MEMTYPE_WB), RWX);
    assert_int_equal(walk(0x3000), EPT12_OK);
    memset(&w, 0x77, sizeof w);
    assert_int_equal(ept12_walk(eptp, (1ull << 48) | 0x3000, &caps, mem_read, &mem, &w), EPT12_NOT_PRESENT);
    assert_int_equal(w.perms, 0);
}

/* 14: INVEPT single-context names a context by EP4TA (bits 51:12), not the whole EPTP. */
TEST(ept12_same_ep4ta_ignores_memtype_walk_length_and_ad)
{
    uint64_t wb = 0x123456000ull | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB;
    assert_true(ept12_same_ep4ta(wb, 0x123456000ull | EPTP_WALK_LENGTH_4));          /* UC */
    assert_true(ept12_same_ep4ta(wb, wb | EPTP_AD_ENABLE));
    assert_true(ept12_same_ep4ta(wb, 0x123456000ull | (2ull << 3) | EPTP_MEMTYPE_WB)); /* walk length 3 */
    assert_false(ept12_same_ep4ta(wb, 0x123457000ull | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB));
    assert_false(ept12_same_ep4ta(wb, wb | (1ull << 51)));
    assert_true(ept12_same_ep4ta(wb, wb | (1ull << 52))); /* beyond bit 51: not part of the EP4TA */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(ept12_gpa_beyond_48_bits_is_not_present),
        T(ept12_same_ep4ta_ignores_memtype_walk_length_and_ad),
        T(ept12_4k_leaf),
        T(ept12_every_valid_memory_type_in_a_leaf),
        T(ept12_2m_leaf_offsets),
        T(ept12_1g_leaf),
        T(ept12_leaf_ignored_bits_do_not_change_the_translation),
        T(ept12_perms_anded_across_levels),
        T(ept12_perms_anded_for_large_leaves),
        T(ept12_not_present_at_each_level),
        T(ept12_not_present_reports_no_permissions),
        T(ept12_misconfig_write_without_read),
        T(ept12_execute_only_needs_the_capability),
        T(ept12_misconfig_reserved_memory_types_in_a_leaf),
        T(ept12_misconfig_bits_beyond_maxphyaddr_in_any_entry),
        T(ept12_misconfig_pml4e_bits_7_3),
        T(ept12_misconfig_non_leaf_bits_6_3),
        T(ept12_misconfig_large_leaf_address_bits_below_the_page_size),
        T(ept12_misconfig_page_size_not_offered),
        T(ept12_misconfig_large_bit_in_a_pml4e),
        T(ept12_entry_outside_memory_reads_as_misconfig),
        T(ept12_eptp_low_bits_do_not_move_the_pml4),
        T(ept12_self_referencing_table),
        T(eptp_valid_wb_and_uc),
        T(eptp_memory_type_not_allowed),
        T(eptp_walk_length_must_be_4),
        T(eptp_ad_bit_when_not_offered),
        T(eptp_reserved_bits_11_7),
        T(eptp_bits_beyond_maxphyaddr),
        T(ept12_violation_qual_keeps_access_linear_and_nmi_bits),
        T(ept12_violation_qual_perms_in_bits_5_3),
    };
#undef T
    return RUN_GROUP("ept12", tests, group_setup, group_teardown);
}
