/*
 * A model of the shadow EPT02 (docs/NESTED.md, "Nested EPT"; nested/ept02.c)
 * built only from ept/ept.c and ept/ept12_walk.c, over fake host-physical
 * memory (fakemem.c):
 *
 *   - EPT01 maps L1-physical memory to host pages (ept_map), never changes;
 *   - L1's EPT12 lives in L1-physical memory, read through EPT01 (memory that
 *     is not L1's reads as all ones);
 *   - the shadow EPT02 starts empty; an L2 access the shadow does not allow is
 *     an EPT violation, handled by model_violation() below, which follows the
 *     documented algorithm: walk EPT12; misconfiguration or violation goes to
 *     L1; else translate through EPT01 (not L1's memory, or an access L1
 *     itself may not do: L1 stopped); else install the smaller leaf with
 *     perms = EPT12 ∩ EPT01 and memory type UC if EPT01's is UC else EPT12's,
 *     falling back to smaller leaves where smaller entries already live;
 *   - INVEPT drops the whole shadow (ept_destroy, then a fresh ept_init).
 *
 * The tests check the properties the design relies on.
 */
#include "fakemem.h"
#include "harness.h"
#include "nestor/ept.h"
#include "nestor/ept12.h"
#include "nestor/ept02_prefetch.h"

#define R EPT_R
#define W EPT_W
#define X EPT_X
#define RWX EPT_RWX
#define MT(t) ((uint64_t)(t) << EPT_MEMTYPE_SHIFT)
#define ALL_ONES (~(uint64_t)0)

#define CPU_CAPS (EPT_CAP_EXEC_ONLY | EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_UC | EPT_CAP_MEMTYPE_WB | EPT_CAP_2MB_PAGE | \
                  EPT_CAP_1GB_PAGE)
#define MAXPHY_39 ((1ull << 39) - 1)

static uint64_t level_bytes(unsigned level) { return 1ull << (12 + 9 * (level - 1)); }
static unsigned level_of(uint64_t size) { return size == GiB ? 3 : size == 2 * MiB ? 2 : 1; }
static unsigned memtype_of(uint64_t entry) { return (unsigned)((entry >> EPT_MEMTYPE_SHIFT) & 7); }

/* ------------------------------------------------------------ L1-physical memory (EPT01) */

/*
 * L1-physical layout:
 *   [0, 8 MiB)            RAM, 2 MiB EPT01 pages (host 2 MiB blocks in reverse order), RWX WB
 *   [8 MiB, 10 MiB)       RAM, 4 KiB EPT01 pages on scattered host pages, RWX WB
 *   [10 MiB, +64 KiB)     "ROM": 4 KiB EPT01 pages, R-X WB
 *   0xfee00000            MMIO: one 4 KiB EPT01 page, RW- UC (host page never touched)
 *   everything else       not L1's
 */
#define RAM2M_END (8 * MiB)
#define RAM4K (8 * MiB)
#define RAM4K_END (10 * MiB)
#define ROM (10 * MiB)
#define ROM_END (ROM + 64 * KiB)
#define MMIO 0xfee00000ull
#define NOT_L1 0x80000000ull

struct m01 {
    gpa_t l1;
    paddr_t hpa;
    uint64_t size, perms;
    unsigned memtype;
};
static struct m01 map01[600];
static unsigned map01_count;

static struct ept ept01, shadow;

static void map_01(gpa_t l1, paddr_t hpa, uint64_t size, uint64_t perms, unsigned memtype)
{
    assert_true(map01_count < ARRAY_SIZE(map01));
    assert_true(ept_map(&ept01, l1, hpa, size, perms, memtype));
    map01[map01_count++] = (struct m01){l1, hpa, size, perms, memtype};
}

static void build_ept01(void)
{
    map01_count = 0;
    assert_true(ept_init(&ept01, CPU_CAPS));
    paddr_t blocks[4];
    for (unsigned i = 0; i < 4; i++) {
        blocks[i] = palloc_alloc(&g_palloc, 512, 512);
        assert_true(blocks[i] != 0);
    }
    for (unsigned i = 0; i < 4; i++)
        map_01(i * 2 * MiB, blocks[3 - i], 2 * MiB, RWX, MEMTYPE_WB);
    for (gpa_t l1 = RAM4K; l1 < RAM4K_END; l1 += PAGE_SIZE) {
        paddr_t page = palloc_alloc(&g_palloc, 1, 1);
        assert_true(page != 0 && palloc_alloc(&g_palloc, 1, 1) != 0); /* a gap: nothing contiguous */
        map_01(l1, page, PAGE_SIZE, RWX, MEMTYPE_WB);
    }
    for (gpa_t l1 = ROM; l1 < ROM_END; l1 += PAGE_SIZE) {
        paddr_t page = palloc_alloc(&g_palloc, 1, 1);
        assert_true(page != 0);
        map_01(l1, page, PAGE_SIZE, R | X, MEMTYPE_WB);
    }
    map_01(MMIO, MMIO, PAGE_SIZE, R | W, MEMTYPE_UC);
    assert_int_equal(ept01.mapped_2m, 4);
}

/* L1-physical reads as Nestor does them: through EPT01, readable memory only, all ones otherwise. */
static bool l1_hpa(gpa_t pa, uint64_t need, paddr_t *hpa)
{
    struct ept_walk w;
    if (!ept_walk(&ept01, pa, &w) || (w.perms & need) != need || !fake_backed(w.hpa, 8))
        return false;
    *hpa = w.hpa;
    return true;
}

static unsigned l1_reads;

static uint64_t l1_read_entry(void *ctx, gpa_t pa)
{
    assert_ptr_equal(ctx, &ept01);
    l1_reads++;
    paddr_t hpa;
    uint64_t v;
    if ((pa & 7) || !l1_hpa(pa, R, &hpa))
        return ALL_ONES;
    memcpy(&v, fake_va(hpa), 8);
    return v;
}

static uint64_t l1_get(gpa_t pa)
{
    paddr_t hpa;
    uint64_t v;
    assert_true(l1_hpa(pa, R, &hpa));
    memcpy(&v, fake_va(hpa), 8);
    return v;
}

/* L1 writing its own memory (its EPT12 tables). */
static void l1_put(gpa_t pa, uint64_t v)
{
    paddr_t hpa;
    assert_true(l1_hpa(pa, R | W, &hpa));
    memcpy(fake_va(hpa), &v, 8);
}

/* ------------------------------------------------------------ L1's EPT12 */

#define EPT12_PML4 0x100000ull /* in L1 RAM */
static gpa_t next12;
static uint64_t eptp12;
static struct ept12_caps caps12;

static unsigned idx(gpa_t gpa, unsigned level) { return (gpa >> (12 + 9 * (level - 1))) & 511; }

static void build_ept12_root(void)
{
    for (gpa_t p = EPT12_PML4; p < EPT12_PML4 + 64 * PAGE_SIZE; p += 8)
        l1_put(p, 0);
    next12 = EPT12_PML4 + PAGE_SIZE;
    eptp12 = EPT12_PML4 | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB;
    assert_null(ept12_check_eptp(eptp12, true, true, false, MAXPHY_39));
    caps12 = (struct ept12_caps){.exec_only = true, .large_2m = true, .large_1g = true, .maxphyaddr_mask = MAXPHY_39};
}

/* L1-physical address of the entry at level for gpa2, creating RWX tables on the way. */
static gpa_t slot12(gpa_t gpa2, unsigned level)
{
    gpa_t table = EPT12_PML4;
    for (unsigned l = 4; l > level; l--) {
        gpa_t at = table + idx(gpa2, l) * 8;
        uint64_t e = l1_get(at);
        if (!(e & RWX) || (e & EPT_LARGE)) {
            assert_true(next12 < EPT12_PML4 + 64 * PAGE_SIZE);
            e = next12 | RWX;
            next12 += PAGE_SIZE;
            l1_put(at, e);
        }
        table = e & 0xffffffffff000ull;
    }
    return table + idx(gpa2, level) * 8;
}

/* L1 maps gpa2 with a leaf at level (large bit added above level 1). */
static void map12(gpa_t gpa2, unsigned level, gpa_t l1pa, uint64_t bits)
{
    l1_put(slot12(gpa2, level), l1pa | bits | (level > 1 ? EPT_LARGE : 0));
}

/* ------------------------------------------------------------ the model of nested/ept02.c */

enum outcome { FILLED, TO_L1_MISCONFIG, TO_L1_VIOLATION, L1_STOPPED, OUT_OF_MEMORY };

struct fill {
    enum outcome out;
    uint64_t qual;   /* for TO_L1_VIOLATION: the qualification L1 gets */
    uint64_t size;   /* for FILLED: the shadow leaf installed */
    bool replaced;   /* a present shadow leaf was overwritten or dropped */
};

static unsigned fills, invalidations;

static void invept_model(void)
{
    ept_destroy(&shadow);
    assert_true(ept_init(&shadow, CPU_CAPS));
    invalidations++;
}

/* An EPT violation in L2 at gpa2 with the hardware's qualification hw_qual. */
static struct fill model_violation(gpa_t gpa2, uint64_t hw_qual)
{
    struct fill f = {0};
    uint64_t need = ((hw_qual & EPTQUAL_READ) ? R : 0) | ((hw_qual & EPTQUAL_WRITE) ? W : 0) |
                    ((hw_qual & EPTQUAL_FETCH) ? X : 0);
    struct ept12_walk w;
    enum ept12_result r = ept12_walk(eptp12, gpa2, &caps12, l1_read_entry, &ept01, &w);
    if (r == EPT12_MISCONFIG) {
        f.out = TO_L1_MISCONFIG; /* qualification 0; nothing cached */
        return f;
    }
    if (r == EPT12_NOT_PRESENT || (w.perms & need) != need) {
        f.out = TO_L1_VIOLATION;
        f.qual = ept12_violation_qual(hw_qual, w.perms);
        return f;
    }
    struct ept_walk w01;
    if (!ept_walk(&ept01, w.l1pa, &w01)) {
        f.out = L1_STOPPED; /* EPT12 points at memory that is not L1's */
        return f;
    }
    uint64_t perms = w.perms & w01.perms;
    if ((perms & need) != need) {
        f.out = L1_STOPPED; /* L2 does what L1 itself may not */
        return f;
    }
    uint64_t size = MIN(w.page_size, level_bytes(w01.level));
    bool uc = memtype_of(w01.leaf) == MEMTYPE_UC;
    unsigned memtype = uc ? MEMTYPE_UC : w.memtype;
    for (;;) {
        bool replaced = false;
        bool ok = ept_install(&shadow, ALIGN_DOWN(gpa2, size), ALIGN_DOWN(w01.hpa, size), level_of(size), perms,
                              memtype, uc || w.ignore_pat, &replaced);
        f.replaced |= replaced;
        if (ok)
            break;
        if (size == PAGE_SIZE) {
            invept_model(); /* out of table pages: start over */
            f.out = OUT_OF_MEMORY;
            return f;
        }
        size = size == GiB ? 2 * MiB : PAGE_SIZE; /* smaller entries already live there */
    }
    if (f.replaced)
        invalidations++; /* INVEPT of the shadow's EPTP */
    fills++;
    f.out = FILLED;
    f.size = size;
    return f;
}

/* ------------------------------------------------------------ L2 running on the shadow */

#define HW_LINEAR (EPTQUAL_LINEAR_VALID | EPTQUAL_LINEAR_TRANSLATION)

struct access {
    enum outcome out; /* FILLED when the access completed (with or without fills) */
    uint64_t qual;
    paddr_t hpa;
    unsigned fills;
};

/*
 * L2 accesses gpa2 (need: R, W or X). Completes when the shadow allows it;
 * otherwise the hardware reports a violation (its qualification has the
 * shadow's permissions in bits 5:3), the model handles it and L2 retries.
 */
static struct access l2_access(gpa_t gpa2, uint64_t need)
{
    struct access a = {0};
    for (unsigned tries = 0; tries < 3; tries++) {
        struct ept_walk sw;
        bool present = ept_walk(&shadow, gpa2, &sw);
        if (present && (sw.perms & need) == need) {
            a.out = FILLED;
            a.hpa = sw.hpa;
            return a;
        }
        uint64_t hw = ((need & R) ? EPTQUAL_READ : 0) | ((need & W) ? EPTQUAL_WRITE : 0) |
                      ((need & X) ? EPTQUAL_FETCH : 0) | HW_LINEAR | (sw.perms << 3);
        struct fill f = model_violation(gpa2, hw);
        if (f.out != FILLED) {
            a.out = f.out;
            a.qual = f.qual;
            return a;
        }
        a.fills++;
    }
    print_error("gpa2 0x%llx: still faulting after two fills\n", (unsigned long long)gpa2);
    fail();
    return a;
}

#define ASSERT_ACCESS(gpa2, need, expect_hpa)                                                                \
    do {                                                                                                     \
        struct access a_ = l2_access((gpa2), (need));                                                        \
        if (a_.out != FILLED)                                                                                \
            print_error("L2 access to 0x%llx: outcome %d\n", (unsigned long long)(gpa2), a_.out);           \
        assert_int_equal(a_.out, FILLED);                                                                    \
        assert_int_equal(a_.hpa, (expect_hpa));                                                              \
    } while (0)

/* The host address EPT12 ∘ EPT01 gives gpa2 now (the test's own composition, for comparison). */
static paddr_t compose(gpa_t gpa2, uint64_t *perms, unsigned *size12, unsigned *level01)
{
    struct ept12_walk w;
    struct ept_walk w01;
    assert_int_equal(ept12_walk(eptp12, gpa2, &caps12, l1_read_entry, &ept01, &w), EPT12_OK);
    assert_true(ept_walk(&ept01, w.l1pa, &w01));
    if (perms)
        *perms = w.perms & w01.perms;
    if (size12)
        *size12 = level_of(w.page_size);
    if (level01)
        *level01 = w01.level;
    return w01.hpa;
}

/* ------------------------------------------------------------ invariants over the whole shadow */

/*
 * Visits every shadow leaf (straight from the table pages) and checks, for up
 * to 512 addresses in it:
 *   - its host range lies inside one EPT01 mapping, with permissions EPT01
 *     grants, UC and PAT ignored where EPT01 says UC (always: EPT01 never changes);
 *   - with with_ept12, also that EPT12 ∘ EPT01 gives the same host address now,
 *     the permissions are within EPT12 ∩ EPT01 and the leaf is no larger than
 *     either leaf (only while L1 has not changed EPT12 since the fills).
 * Returns the number of leaves.
 */
static unsigned check_leaf(gpa_t gpa2, unsigned level, uint64_t leaf, bool with_ept12)
{
    uint64_t size = level_bytes(level);
    paddr_t hbase = leaf & EPT_PFN_MASK & ~(size - 1);
    uint64_t perms = leaf & RWX;
    const struct m01 *m = NULL;
    for (unsigned i = 0; i < map01_count && !m; i++)
        if (hbase >= map01[i].hpa && hbase - map01[i].hpa < map01[i].size)
            m = &map01[i];
    if (!m || size > m->hpa + m->size - hbase) {
        print_error("shadow leaf gpa2 0x%llx (%llu KiB) -> host 0x%llx: not inside one EPT01 mapping\n",
                    (unsigned long long)gpa2, (unsigned long long)(size / KiB), (unsigned long long)hbase);
        fail();
    }
    assert_int_equal(perms & ~m->perms, 0);
    if (m->memtype == MEMTYPE_UC) {
        assert_int_equal(memtype_of(leaf), MEMTYPE_UC);
        assert_true(leaf & EPT_IGNORE_PAT);
    }
    if (!with_ept12)
        return 1;
    uint64_t step = size / 512 > PAGE_SIZE ? size / 512 : PAGE_SIZE;
    for (uint64_t off = 0; off < size; off += step) {
        uint64_t p;
        unsigned l12, l01;
        paddr_t h = compose(gpa2 + off + 0x18, &p, &l12, &l01);
        if (h != hbase + off + 0x18) {
            print_error("shadow gpa2 0x%llx -> 0x%llx, EPT12 and EPT01 give 0x%llx\n",
                        (unsigned long long)(gpa2 + off + 0x18), (unsigned long long)(hbase + off + 0x18),
                        (unsigned long long)h);
            fail();
        }
        assert_int_equal(perms & ~p, 0);
        assert_true(level <= l12 && level <= l01);
    }
    return 1;
}

static unsigned check_table(paddr_t table, unsigned level, gpa_t base, bool with_ept12)
{
    const uint64_t *t = (const uint64_t *)fake_va(table);
    unsigned leaves = 0;
    for (unsigned i = 0; i < EPT_ENTRIES; i++) {
        uint64_t e = t[i];
        gpa_t gpa2 = base + i * level_bytes(level);
        if (!(e & RWX))
            continue;
        if (level == 1 || (e & EPT_LARGE))
            leaves += check_leaf(gpa2, level, e, with_ept12);
        else
            leaves += check_table(e & EPT_PFN_MASK, level - 1, gpa2, with_ept12);
    }
    return leaves;
}

static unsigned check_shadow(bool with_ept12) { return check_table(shadow.pml4, 4, 0, with_ept12); }

/* ------------------------------------------------------------ fixtures */

static uint64_t free_before_shadow;

static int setup(void **state)
{
    int rc = fakemem_test_setup(state);
    memset(&ept01, 0, sizeof ept01);
    memset(&shadow, 0, sizeof shadow);
    fills = invalidations = l1_reads = 0;
    build_ept01();
    build_ept12_root();
    free_before_shadow = palloc_free_pages(&g_palloc);
    assert_true(ept_init(&shadow, CPU_CAPS));
    return rc;
}

/* L2's view used by several tests. */
#define G_2M_OVER_4K 0ull               /* 2 MiB EPT12 leaf -> L1 [8 MiB, 10 MiB): 4 KiB EPT01 pages */
#define G_2M_OVER_2M (2 * MiB)          /* 2 MiB EPT12 leaf, R-X WT + ignore PAT -> L1 2 MiB */
#define G_ROM (4 * MiB)                 /* 4 KiB EPT12 leaves, RWX -> ROM (EPT01 R-X) */
#define G_NOT_L1 (4 * MiB + 64 * KiB)   /* 4 KiB EPT12 leaves -> L1-physical that is not L1's */
#define G_MMIO (6 * MiB)                /* 4 KiB EPT12 leaf WB -> MMIO (EPT01 UC) */
#define G_1G GiB                        /* 1 GiB EPT12 leaf -> L1-physical 0 */

static void build_l2_view(void)
{
    map12(G_2M_OVER_4K, 2, RAM4K, RWX | MT(MEMTYPE_WB));
    map12(G_2M_OVER_2M, 2, 2 * MiB, R | X | MT(MEMTYPE_WT) | EPT_IGNORE_PAT);
    for (unsigned i = 0; i < 16; i++) {
        map12(G_ROM + i * PAGE_SIZE, 1, ROM + i * PAGE_SIZE, RWX | MT(MEMTYPE_WB));
        map12(G_NOT_L1 + i * PAGE_SIZE, 1, NOT_L1 + i * PAGE_SIZE, RWX | MT(MEMTYPE_WB));
    }
    map12(G_MMIO, 1, MMIO, R | W | MT(MEMTYPE_WB));
    map12(G_1G, 3, 0, RWX | MT(MEMTYPE_WB));
}

/* The host page EPT01 gives L1-physical l1. */
static paddr_t host_of(gpa_t l1)
{
    struct ept_walk w;
    assert_true(ept_walk(&ept01, l1, &w));
    return w.hpa;
}

/* ------------------------------------------------------------ properties */

TEST(model_shadow_never_maps_what_ept01_does_not)
{
    build_l2_view();
    unsigned done = 0, stopped = 0;
    /* L2 reads every page of its low 8 MiB and of the first 12 MiB of its 1 GiB page. */
    for (unsigned pass = 0; pass < 2; pass++) {
        gpa_t base = pass ? G_1G : 0;
        for (gpa_t g = base; g < base + (pass ? 12 : 8) * MiB; g += PAGE_SIZE) {
            struct access a = l2_access(g + 0x10, R);
            if (a.out == FILLED) {
                done++;
                assert_int_equal(a.hpa, compose(g + 0x10, NULL, NULL, NULL));
            } else if (a.out == L1_STOPPED) {
                stopped++;
                struct ept_walk sw;
                assert_false(ept_walk(&shadow, g, &sw)); /* nothing installed for it */
            } else {
                assert_int_equal(a.out, TO_L1_VIOLATION); /* EPT12 has nothing there */
            }
        }
    }
    assert_int_equal(stopped, 16 + (12 * MiB - ROM_END) / PAGE_SIZE);
    assert_true(done > 2000);
    unsigned leaves = check_shadow(true);
    /* 512 4 KiB leaves for the 2 MiB EPT12 page over 4 KiB EPT01 pages, one 2 MiB leaf over 2 MiB,
     * 16 ROM pages, MMIO; in the 1 GiB EPT12 page: 4 x 2 MiB, 512 + 16 x 4 KiB. */
    assert_int_equal(leaves, 512 + 1 + 16 + 1 + 4 + 512 + 16);
    assert_int_equal(fills, leaves);
    /* Nothing maps beyond what EPT01 maps: gpa2 for L1-physical 0x80000000 and above 10 MiB + 64 KiB. */
    struct ept_walk sw;
    assert_false(ept_walk(&shadow, G_NOT_L1, &sw));
    assert_false(ept_walk(&shadow, G_1G + ROM_END, &sw));
    assert_false(ept_walk(&shadow, G_1G + 12 * MiB - PAGE_SIZE, &sw));
}

TEST(model_perms_within_ept12_and_ept01)
{
    build_l2_view();
    /* EPT12 RWX over ROM (EPT01 R-X): the shadow gets R-X, and a write by L2 stops L1. */
    ASSERT_ACCESS(G_ROM + 0x123, R, host_of(ROM) + 0x123);
    struct ept_walk sw;
    assert_true(ept_walk(&shadow, G_ROM, &sw));
    assert_int_equal(sw.perms, R | X);
    assert_int_equal(l2_access(G_ROM, W).out, L1_STOPPED);
    assert_true(ept_walk(&shadow, G_ROM, &sw));
    assert_int_equal(sw.perms, R | X);
    /* EPT12 R-X over RAM RWX: R-X; a write is L1's violation, with EPT12's permissions in bits 5:3. */
    ASSERT_ACCESS(G_2M_OVER_2M + 0x1000, X, host_of(2 * MiB) + 0x1000);
    assert_true(ept_walk(&shadow, G_2M_OVER_2M, &sw));
    assert_int_equal(sw.perms, R | X);
    struct access a = l2_access(G_2M_OVER_2M + 0x1000, W);
    assert_int_equal(a.out, TO_L1_VIOLATION);
    assert_int_equal(a.qual, EPTQUAL_WRITE | HW_LINEAR | EPTQUAL_READABLE | EPTQUAL_EXECUTABLE);
    /* MMIO: EPT12 RW- over EPT01 RW- UC. An instruction fetch is L1's violation. */
    ASSERT_ACCESS(G_MMIO + 8, R | W, MMIO + 8);
    assert_true(ept_walk(&shadow, G_MMIO, &sw));
    assert_int_equal(sw.perms, R | W);
    a = l2_access(G_MMIO, X);
    assert_int_equal(a.out, TO_L1_VIOLATION);
    assert_int_equal(a.qual, EPTQUAL_FETCH | HW_LINEAR | EPTQUAL_READABLE | EPTQUAL_WRITABLE);
    assert_int_equal(check_shadow(true), 3);
}

TEST(model_memory_type)
{
    build_l2_view();
    map12(8 * MiB, 1, 5 * MiB, R | MT(MEMTYPE_WC));
    map12(8 * MiB + PAGE_SIZE, 1, 5 * MiB + PAGE_SIZE, R | MT(MEMTYPE_WP) | EPT_IGNORE_PAT);
    map12(8 * MiB + 2 * PAGE_SIZE, 1, MMIO, R | MT(MEMTYPE_WT));
    struct ept_walk sw;
    /* EPT01 UC wins, and PAT is ignored. */
    ASSERT_ACCESS(G_MMIO, R, MMIO);
    assert_true(ept_walk(&shadow, G_MMIO, &sw));
    assert_int_equal(memtype_of(sw.leaf), MEMTYPE_UC);
    assert_true(sw.leaf & EPT_IGNORE_PAT);
    ASSERT_ACCESS(8 * MiB + 2 * PAGE_SIZE, R, MMIO);
    assert_true(ept_walk(&shadow, 8 * MiB + 2 * PAGE_SIZE, &sw));
    assert_int_equal(memtype_of(sw.leaf), MEMTYPE_UC);
    assert_true(sw.leaf & EPT_IGNORE_PAT);
    /* Otherwise EPT12's memory type and ignore-PAT bit. */
    ASSERT_ACCESS(G_2M_OVER_2M, R, host_of(2 * MiB));
    assert_true(ept_walk(&shadow, G_2M_OVER_2M, &sw));
    assert_int_equal(memtype_of(sw.leaf), MEMTYPE_WT);
    assert_true(sw.leaf & EPT_IGNORE_PAT);
    ASSERT_ACCESS(8 * MiB, R, host_of(5 * MiB));
    assert_true(ept_walk(&shadow, 8 * MiB, &sw));
    assert_int_equal(memtype_of(sw.leaf), MEMTYPE_WC);
    assert_false(sw.leaf & EPT_IGNORE_PAT);
    ASSERT_ACCESS(8 * MiB + PAGE_SIZE, R, host_of(5 * MiB + PAGE_SIZE));
    assert_true(ept_walk(&shadow, 8 * MiB + PAGE_SIZE, &sw));
    assert_int_equal(memtype_of(sw.leaf), MEMTYPE_WP);
    assert_true(sw.leaf & EPT_IGNORE_PAT);
    ASSERT_ACCESS(G_1G + 0x10, R, host_of(0x10));
    assert_true(ept_walk(&shadow, G_1G, &sw));
    assert_int_equal(memtype_of(sw.leaf), MEMTYPE_WB);
    assert_false(sw.leaf & EPT_IGNORE_PAT);
}

TEST(model_leaf_size_is_the_smaller_of_ept12_and_ept01)
{
    build_l2_view();
    struct ept_walk sw;
    /* 2 MiB EPT12 over 4 KiB EPT01 pages: a 4 KiB shadow leaf, the rest of the 2 MiB stays unmapped. */
    ASSERT_ACCESS(G_2M_OVER_4K + 0x12345, R, host_of(RAM4K + 0x12000) + 0x345);
    assert_true(ept_walk(&shadow, G_2M_OVER_4K + 0x12345, &sw));
    assert_int_equal(sw.level, 1);
    assert_false(ept_walk(&shadow, G_2M_OVER_4K + 0x13000, &sw));
    assert_false(ept_walk(&shadow, G_2M_OVER_4K + 0x11fff, &sw));
    ASSERT_ACCESS(G_2M_OVER_4K + 0x13000, W, host_of(RAM4K + 0x13000));
    assert_int_equal(fills, 2);
    /* 2 MiB over 2 MiB: one 2 MiB leaf serves the whole page. */
    ASSERT_ACCESS(G_2M_OVER_2M + 0x1fffff, R, host_of(2 * MiB) + 0x1fffff);
    assert_true(ept_walk(&shadow, G_2M_OVER_2M, &sw));
    assert_int_equal(sw.level, 2);
    struct access a = l2_access(G_2M_OVER_2M + 0x54321, R);
    assert_int_equal(a.fills, 0);
    assert_int_equal(a.hpa, host_of(2 * MiB) + 0x54321);
    /* 1 GiB EPT12 over 2 MiB EPT01 pages: 2 MiB leaves; over 4 KiB EPT01 pages: 4 KiB leaves. */
    ASSERT_ACCESS(G_1G + 6 * MiB + 0x777, R, host_of(6 * MiB) + 0x777);
    assert_true(ept_walk(&shadow, G_1G + 6 * MiB, &sw));
    assert_int_equal(sw.level, 2);
    ASSERT_ACCESS(G_1G + RAM4K + 0x5000, R, host_of(RAM4K + 0x5000));
    assert_true(ept_walk(&shadow, G_1G + RAM4K + 0x5000, &sw));
    assert_int_equal(sw.level, 1);
    /* EPT01's 2 MiB blocks are in reverse host order: the shadow follows each one. */
    ASSERT_ACCESS(G_1G + 4 * MiB, R, host_of(4 * MiB));
    assert_true(host_of(4 * MiB) != host_of(6 * MiB) - 2 * MiB);
    check_shadow(true);
}

TEST(model_upgrade_without_invept_is_picked_up)
{
    gpa_t g = 16 * MiB;
    map12(g, 1, 4 * MiB, R | MT(MEMTYPE_WB));
    ASSERT_ACCESS(g, R, host_of(4 * MiB));
    struct access a = l2_access(g, W);
    assert_int_equal(a.out, TO_L1_VIOLATION);
    assert_int_equal(a.qual, EPTQUAL_WRITE | HW_LINEAR | EPTQUAL_READABLE);
    /* L1 handles it: RW, no INVEPT. The next violation re-walks EPT12. */
    map12(g, 1, 4 * MiB, R | W | MT(MEMTYPE_WB));
    unsigned inv = invalidations;
    a = l2_access(g, W);
    assert_int_equal(a.out, FILLED);
    assert_int_equal(a.fills, 1);
    assert_int_equal(invalidations, inv + 1); /* the R-only shadow leaf was replaced: invalidated */
    struct ept_walk sw;
    assert_true(ept_walk(&shadow, g, &sw));
    assert_int_equal(sw.perms, R | W);
    check_shadow(true);

    /* L1 then turns that 2 MiB region into one 2 MiB RWX page, still without INVEPT. */
    map12(g, 2, 4 * MiB, RWX | MT(MEMTYPE_WB));
    /* A fetch at the RW- page: the 2 MiB shadow leaf cannot go where the page table is; 4 KiB instead. */
    a = l2_access(g, X);
    assert_int_equal(a.out, FILLED);
    assert_true(ept_walk(&shadow, g, &sw));
    assert_int_equal(sw.perms, RWX);
    assert_int_equal(sw.level, 1);
    /* Another page of the region: a fresh 4 KiB slot in the same shadow table. */
    ASSERT_ACCESS(g + 0x5000, X, host_of(4 * MiB + 0x5000));
    assert_true(ept_walk(&shadow, g + 0x5000, &sw));
    assert_int_equal(sw.level, 1);
    assert_int_equal(sw.perms, RWX);
    check_shadow(true);
    /* After INVEPT the shadow starts over and the 2 MiB page gets a 2 MiB leaf. */
    invept_model();
    ASSERT_ACCESS(g + 0x5000, X, host_of(4 * MiB + 0x5000));
    assert_true(ept_walk(&shadow, g, &sw));
    assert_int_equal(sw.level, 2);
    assert_int_equal(check_shadow(true), 1);
}

/* L1 splits a 2 MiB EPT12 page into 4 KiB pages without INVEPT, widening one and moving another. */
TEST(model_ept12_split_without_invept)
{
    gpa_t g = 40 * MiB;
    map12(g, 2, 4 * MiB, R | MT(MEMTYPE_WB));
    ASSERT_ACCESS(g + 0x7010, R, host_of(4 * MiB) + 0x7010);
    struct ept_walk sw;
    assert_true(ept_walk(&shadow, g, &sw));
    assert_int_equal(sw.level, 2);
    unsigned pages = shadow.table_pages;

    for (unsigned i = 0; i < 512; i++)
        map12(g + i * PAGE_SIZE, 1, 4 * MiB + i * PAGE_SIZE, R | MT(MEMTYPE_WB)); /* a new page table */
    map12(g + 5 * PAGE_SIZE, 1, 4 * MiB + 5 * PAGE_SIZE, R | W | MT(MEMTYPE_WB));
    map12(g + 7 * PAGE_SIZE, 1, 5 * MiB, R | MT(MEMTYPE_WB));
    /* Until a violation, the 2 MiB shadow leaf keeps serving the old translation (allowed). */
    ASSERT_ACCESS(g + 0x7010, R, host_of(4 * MiB) + 0x7010);

    /* L2 writes page 5: the shadow 2 MiB leaf is split, the 4 KiB RW- leaf installed, the old one invalidated. */
    unsigned inv = invalidations;
    struct access a = l2_access(g + 5 * PAGE_SIZE, W);
    assert_int_equal(a.out, FILLED);
    assert_int_equal(a.hpa, host_of(4 * MiB) + 5 * PAGE_SIZE);
    assert_int_equal(invalidations, inv + 1);
    assert_true(ept_walk(&shadow, g + 5 * PAGE_SIZE, &sw));
    assert_int_equal(sw.level, 1);
    assert_int_equal(sw.perms, R | W);
    assert_int_equal(shadow.table_pages, pages + 1);
    /* The rest of the old 2 MiB leaf is gone from the shadow and refilled from EPT12 as it is now. */
    assert_false(ept_walk(&shadow, g, &sw));
    assert_false(ept_walk(&shadow, g + 7 * PAGE_SIZE, &sw));
    ASSERT_ACCESS(g + 0x7010, R, host_of(5 * MiB) + 0x10);
    ASSERT_ACCESS(g + 0x1ff000, R, host_of(4 * MiB) + 0x1ff000);
    assert_int_equal(check_shadow(true), 3);
}

TEST(model_downgrade_without_invept_stays_until_invept)
{
    gpa_t g = 20 * MiB;
    map12(g, 1, 4 * MiB, R | W | MT(MEMTYPE_WB));
    ASSERT_ACCESS(g, W, host_of(4 * MiB));
    unsigned f = fills;
    /* L1 narrows the entry to R-only: the cached translation may still be used (SDM 28.3.3.4). */
    map12(g, 1, 4 * MiB, R | MT(MEMTYPE_WB));
    ASSERT_ACCESS(g, W, host_of(4 * MiB));
    /* ... removes it ... */
    map12(g, 1, 4 * MiB, 0);
    ASSERT_ACCESS(g, R, host_of(4 * MiB));
    /* ... and points it elsewhere, read-only: still the old page, no violation on the way. */
    map12(g, 1, 5 * MiB, R | MT(MEMTYPE_WB));
    ASSERT_ACCESS(g + 8, W, host_of(4 * MiB) + 8);
    assert_int_equal(fills, f);
    /* The stale leaf still lies inside EPT01 (the property that must hold at all times). */
    assert_int_equal(check_shadow(false), 1);

    /* INVEPT: the whole shadow goes, its tables back to the allocator. */
    invept_model();
    assert_int_equal(free_before_shadow - palloc_free_pages(&g_palloc), 1); /* the fresh PML4 */
    struct ept_walk sw;
    assert_false(ept_walk(&shadow, g, &sw));
    ASSERT_ACCESS(g + 8, R, host_of(5 * MiB) + 8);
    struct access a = l2_access(g + 8, W);
    assert_int_equal(a.out, TO_L1_VIOLATION);
    assert_int_equal(a.qual, EPTQUAL_WRITE | HW_LINEAR | EPTQUAL_READABLE);
    assert_int_equal(check_shadow(true), 1);
}

TEST(model_reflections_cache_nothing)
{
    build_l2_view();
    /* Misconfigured EPT12 entries: write-only, reserved memory type, a table outside L1's memory. */
    map12(24 * MiB, 1, 4 * MiB, W | MT(MEMTYPE_WB));
    map12(24 * MiB + PAGE_SIZE, 1, 4 * MiB, R | MT(2));
    l1_put(slot12(26 * MiB, 2), NOT_L1 | RWX); /* PDE -> a page table that is not L1's: reads as all ones */
    unsigned pages = shadow.table_pages;
    assert_int_equal(l2_access(24 * MiB, R).out, TO_L1_MISCONFIG);
    assert_int_equal(l2_access(24 * MiB + PAGE_SIZE, R).out, TO_L1_MISCONFIG);
    assert_int_equal(l2_access(26 * MiB + 0x3000, R).out, TO_L1_MISCONFIG);
    /* Not present from the PML4E on: a violation for L1, with no permissions in bits 5:3. */
    struct access a = l2_access(7ull << 39, R | X);
    assert_int_equal(a.out, TO_L1_VIOLATION);
    assert_int_equal(a.qual, EPTQUAL_READ | EPTQUAL_FETCH | HW_LINEAR);
    /* EPT12 maps memory that is not L1's: L1 stopped. */
    assert_int_equal(l2_access(G_NOT_L1, R).out, L1_STOPPED);
    assert_int_equal(shadow.table_pages, pages);
    assert_int_equal(fills, 0);
    assert_int_equal(check_shadow(false), 0);
}

/*
 * The end-to-end effect of the ept12_walk bug (test_ept12:
 * ept12_not_present_reports_no_permissions): a not-present EPT12 PTE, PDE or
 * PDPTE under RWX tables reaches L1 as a violation whose bits 5:3 say the
 * address was readable, writable and executable (SDM 27.2.1: the AND over the
 * entries used, the not-present one included, i.e. 0).
 */
TEST(model_violation_for_a_missing_ept12_entry_reports_no_permissions)
{
    gpa_t g = 32 * MiB;
    map12(g, 1, 4 * MiB, RWX | MT(MEMTYPE_WB));
    static const uint64_t missing[] = {PAGE_SIZE, 2 * MiB, GiB}; /* no PTE, no PDE, no PDPTE */
    unsigned wrong = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(missing); i++) {
        struct access a = l2_access(g + missing[i], R);
        assert_int_equal(a.out, TO_L1_VIOLATION);
        if (a.qual != (EPTQUAL_READ | HW_LINEAR)) {
            print_error("gpa2 0x%llx: L1 gets qualification 0x%llx, expected 0x%llx\n",
                        (unsigned long long)(g + missing[i]), (unsigned long long)a.qual,
                        (unsigned long long)(EPTQUAL_READ | HW_LINEAR));
            wrong++;
        }
    }
    assert_int_equal(wrong, 0);
}

TEST(model_ept12_tables_are_read_through_ept01)
{
    build_l2_view();
    l1_reads = 0;
    ASSERT_ACCESS(G_ROM, R, host_of(ROM));
    assert_int_equal(l1_reads, 4);
    /* L1 changes its EPT12 through its own memory: the host pages EPT01 maps, nothing else. */
    gpa_t slot = slot12(G_ROM + PAGE_SIZE, 1);
    paddr_t hslot;
    assert_true(l1_hpa(slot, R, &hslot));
    uint64_t v = (ROM + 2 * PAGE_SIZE) | R | MT(MEMTYPE_WB);
    memcpy(fake_va(hslot), &v, 8);
    ASSERT_ACCESS(G_ROM + PAGE_SIZE, R, host_of(ROM + 2 * PAGE_SIZE));
    check_shadow(true);
}

/*
 * L1 cycling two EPTPs: each round builds two shadow trees whose table pages
 * interleave (as fills for two L2s alternate), then drops both (INVEPT, or
 * eviction from the shadow cache). Free memory must come back to where it
 * started, every round (the range allocator used to leak pages that found no
 * slot in its list: 2,625 of 8,192 in the first round).
 */
TEST(model_cycling_two_eptps_returns_all_memory)
{
    ept_destroy(&shadow);
    uint64_t start = palloc_free_pages(&g_palloc);
    for (unsigned round = 0; round < 12; round++) {
        struct ept a, b;
        assert_true(ept_init(&a, CPU_CAPS));
        assert_true(ept_init(&b, CPU_CAPS));
        for (unsigned i = 0; i < 600; i++) {
            /* A new page table (and often a new directory) for every leaf, alternating trees. */
            gpa_t g = (gpa_t)(i * 7 + round) * 2 * MiB;
            bool replaced;
            assert_true(ept_install(&a, g, 0x200000, 1, RWX, MEMTYPE_WB, false, &replaced));
            assert_true(ept_install(&b, g + GiB * 64, 0x200000, 1, RWX, MEMTYPE_WB, false, &replaced));
        }
        assert_true(palloc_free_pages(&g_palloc) < start - 1200);
        assert_int_equal(ept_destroy(&a), 0);
        assert_int_equal(ept_destroy(&b), 0);
        assert_int_equal(palloc_free_pages(&g_palloc), start);
    }
}


/* ------------------------------------------------------------ entries installed ahead of a fault (ept/ept02_prefetch.c) */

/* What nested/ept02_prefill.c does for the violation just reflected, when L1 resumes L2. */
static enum ept02_compose_result prefill_model(gpa_t gpa2, uint64_t need)
{
    struct ept12_walk w;
    uint64_t size;
    if (ept12_walk(eptp12, gpa2, &caps12, l1_read_entry, &ept01, &w) != EPT12_OK || (w.perms & need) != need)
        return EPT02_L1_MAY_NOT;
    return ept02_compose(&shadow, &ept01, gpa2, &w, need, &size);
}

/* A fill on a fault at gpa2 (a shadow miss), then the prefetch of its neighbours; returns how many. */
static unsigned fill_and_prefetch(gpa_t gpa2, gpa_t *got)
{
    assert_int_equal(model_violation(gpa2, EPTQUAL_READ | HW_LINEAR).out, FILLED);
    struct ept12_walk w;
    assert_int_equal(ept12_walk(eptp12, gpa2, &caps12, l1_read_entry, &ept01, &w), EPT12_OK);
    return ept02_prefetch(&shadow, &ept01, gpa2, &w, &caps12, l1_read_entry, &ept01, got);
}

static bool shadow_has(gpa_t gpa2)
{
    struct ept_walk sw;
    return ept_walk(&shadow, gpa2, &sw);
}

TEST(model_prefill_installs_what_l1_just_mapped)
{
    gpa_t g = 40 * MiB;
    struct access a = l2_access(g, W);
    assert_int_equal(a.out, TO_L1_VIOLATION); /* reflected: L1 maps it, then resumes L2 */
    map12(g, 1, RAM4K + 3 * PAGE_SIZE, RWX | MT(MEMTYPE_WB));
    unsigned f = fills;
    assert_int_equal(prefill_model(g, W), EPT02_INSTALLED);
    ASSERT_ACCESS(g + 8, W, host_of(RAM4K + 3 * PAGE_SIZE) + 8);
    assert_int_equal(fills, f); /* no second fault */
    assert_int_equal(check_shadow(true), 1);
}

TEST(model_prefill_installs_nothing_l1_did_not_map_or_may_not_use)
{
    build_l2_view();
    unsigned pages = shadow.table_pages;
    assert_int_equal(prefill_model(44 * MiB, R), EPT02_L1_MAY_NOT);         /* L1 did not map it after all */
    assert_int_equal(prefill_model(G_NOT_L1, R), EPT02_NOT_L1_MEMORY);      /* EPT12 points outside L1 */
    assert_int_equal(prefill_model(G_ROM, W), EPT02_L1_MAY_NOT);            /* EPT01 gives L1 no write */
    map12(45 * MiB, 1, 4 * MiB, W | MT(MEMTYPE_WB));                        /* misconfigured */
    assert_int_equal(prefill_model(45 * MiB, R), EPT02_L1_MAY_NOT);
    assert_int_equal(shadow.table_pages, pages);
    assert_int_equal(check_shadow(true), 0);
}

TEST(model_prefill_never_replaces_a_shadow_entry)
{
    gpa_t g = 46 * MiB;
    map12(g, 1, 4 * MiB, R | MT(MEMTYPE_WB));
    ASSERT_ACCESS(g, R, host_of(4 * MiB));
    /* L1 widens and repoints the entry without INVEPT: the pre-fill leaves the shadow alone... */
    map12(g, 1, 5 * MiB, RWX | MT(MEMTYPE_WB));
    assert_int_equal(prefill_model(g, W), EPT02_PRESENT);
    struct ept_walk sw;
    assert_true(ept_walk(&shadow, g, &sw));
    assert_int_equal(sw.hpa, host_of(4 * MiB));
    assert_int_equal(sw.perms, R);
    /* ... and the write faults and re-walks EPT12, as before (28.3.3.4). */
    ASSERT_ACCESS(g, W, host_of(5 * MiB));
}

TEST(model_prefetch_takes_valid_neighbours_only)
{
    build_l2_view();
    gpa_t g = 48 * MiB; /* index 0 of its EPT12 page table: the group is entries 0-7 */
    map12(g, 1, RAM4K, RWX | MT(MEMTYPE_WB));
    map12(g + 1 * PAGE_SIZE, 1, RAM4K + 5 * PAGE_SIZE, R | W | MT(MEMTYPE_WB)); /* valid */
    map12(g + 2 * PAGE_SIZE, 1, ROM, RWX | MT(MEMTYPE_WB));                   /* valid, EPT01 R-X */
    map12(g + 3 * PAGE_SIZE, 1, NOT_L1, RWX | MT(MEMTYPE_WB));                /* not L1's memory */
    map12(g + 4 * PAGE_SIZE, 1, RAM4K + PAGE_SIZE, W | MT(MEMTYPE_WB));       /* misconfigured */
    map12(g + 5 * PAGE_SIZE, 1, MMIO, R | W | MT(MEMTYPE_WB));                /* valid, UC wins */
    map12(g + 6 * PAGE_SIZE, 1, RAM4K + 2 * PAGE_SIZE, 0);                    /* not present */
    map12(g + 7 * PAGE_SIZE, 1, 6 * MiB, X | MT(MEMTYPE_WB));                 /* valid, execute-only */
    map12(g + 8 * PAGE_SIZE, 1, RAM4K + 9 * PAGE_SIZE, RWX | MT(MEMTYPE_WB)); /* outside the group */
    gpa_t got[EPT02_PREFETCH_GROUP];
    assert_int_equal(fill_and_prefetch(g, got), 4);
    assert_int_equal(got[0], g + 1 * PAGE_SIZE);
    assert_int_equal(got[1], g + 2 * PAGE_SIZE);
    assert_int_equal(got[2], g + 5 * PAGE_SIZE);
    assert_int_equal(got[3], g + 7 * PAGE_SIZE);
    assert_false(shadow_has(g + 3 * PAGE_SIZE));
    assert_false(shadow_has(g + 4 * PAGE_SIZE));
    assert_false(shadow_has(g + 6 * PAGE_SIZE));
    assert_false(shadow_has(g + 8 * PAGE_SIZE));
    /* Every entry, prefetched or filled, within EPT12 ∩ EPT01 and the smaller leaf, UC where EPT01 says UC. */
    assert_int_equal(check_shadow(true), 5);
    unsigned f = fills;
    ASSERT_ACCESS(g + PAGE_SIZE + 8, W, host_of(RAM4K + 5 * PAGE_SIZE) + 8);
    ASSERT_ACCESS(g + 2 * PAGE_SIZE, X, host_of(ROM));
    assert_int_equal(fills, f); /* no faults on them */
    assert_int_equal(l2_access(g + 2 * PAGE_SIZE, W).out, L1_STOPPED); /* EPT01 still forbids the write */
}

TEST(model_prefetched_entry_changed_in_ept12_before_use)
{
    gpa_t g = 52 * MiB + 16 * PAGE_SIZE; /* index 16: group 16-23 */
    for (unsigned i = 0; i < 8; i++)
        map12(g + i * PAGE_SIZE, 1, RAM4K + i * PAGE_SIZE, RWX | MT(MEMTYPE_WB));
    gpa_t got[EPT02_PREFETCH_GROUP];
    assert_int_equal(fill_and_prefetch(g + 3 * PAGE_SIZE, got), 7);
    /* Before L2 uses them, L1 repoints one, narrows one and removes one, then does not INVEPT: */
    map12(g + 1 * PAGE_SIZE, 1, RAM4K + 100 * PAGE_SIZE, RWX | MT(MEMTYPE_WB));
    map12(g + 2 * PAGE_SIZE, 1, RAM4K + 2 * PAGE_SIZE, R | MT(MEMTYPE_WB));
    map12(g + 4 * PAGE_SIZE, 1, 0, 0);
    /* the prefetched entries are cached translations like any other (SDM 28.3.3.4): still the old ones. */
    ASSERT_ACCESS(g + 1 * PAGE_SIZE, R, host_of(RAM4K + 1 * PAGE_SIZE));
    ASSERT_ACCESS(g + 2 * PAGE_SIZE, W, host_of(RAM4K + 2 * PAGE_SIZE));
    ASSERT_ACCESS(g + 4 * PAGE_SIZE, R, host_of(RAM4K + 4 * PAGE_SIZE));
    assert_int_equal(check_shadow(false), 8);
    /* INVEPT: none of them survives; L2 sees exactly what EPT12 says now. */
    invept_model();
    for (unsigned i = 0; i < 8; i++)
        assert_false(shadow_has(g + i * PAGE_SIZE));
    ASSERT_ACCESS(g + 1 * PAGE_SIZE, R, host_of(RAM4K + 100 * PAGE_SIZE));
    assert_int_equal(l2_access(g + 2 * PAGE_SIZE, W).out, TO_L1_VIOLATION);
    assert_int_equal(l2_access(g + 4 * PAGE_SIZE, R).out, TO_L1_VIOLATION);
    /* A prefetch after the change takes the entries as they are now. */
    assert_int_equal(fill_and_prefetch(g, got), 5); /* 1 is in the shadow already, 4 is gone; 2 (now R) 3 5 6 7 */
    ASSERT_ACCESS(g + 2 * PAGE_SIZE, R, host_of(RAM4K + 2 * PAGE_SIZE));
    assert_int_equal(check_shadow(true), 7);
}

/* EPT A/D on (the fill's walk came from ept12_access, w.ad): a neighbour goes in only if using it
 * sets no flag (A set), and writable only with D; the first write still faults (nested/ept_ad.c). */
TEST(model_prefetch_with_ept_ad_takes_accessed_neighbours_read_only_until_dirty)
{
    gpa_t g = 56 * MiB; /* group 0-7 */
    uint64_t rw = R | W | MT(MEMTYPE_WB);
    map12(g, 1, RAM4K, rw | EPT_ACCESSED);
    map12(g + 1 * PAGE_SIZE, 1, RAM4K + 1 * PAGE_SIZE, rw | EPT_ACCESSED | EPT_DIRTY); /* writable */
    map12(g + 2 * PAGE_SIZE, 1, RAM4K + 2 * PAGE_SIZE, rw | EPT_ACCESSED);             /* read-only */
    map12(g + 3 * PAGE_SIZE, 1, RAM4K + 3 * PAGE_SIZE, rw);                            /* no A: left */
    map12(g + 4 * PAGE_SIZE, 1, RAM4K + 4 * PAGE_SIZE, rw | EPT_DIRTY);                /* D without A: left */
    assert_int_equal(model_violation(g, EPTQUAL_READ | HW_LINEAR).out, FILLED);
    struct ept12_walk w;
    assert_int_equal(ept12_walk(eptp12, g, &caps12, l1_read_entry, &ept01, &w), EPT12_OK);
    w.ad = true;
    w.dirty = false;
    gpa_t got[EPT02_PREFETCH_GROUP];
    assert_int_equal(ept02_prefetch(&shadow, &ept01, g, &w, &caps12, l1_read_entry, &ept01, got), 2);
    assert_int_equal(got[0], g + 1 * PAGE_SIZE);
    assert_int_equal(got[1], g + 2 * PAGE_SIZE);
    struct ept_walk sw;
    assert_true(ept_walk(&shadow, g + 1 * PAGE_SIZE, &sw));
    assert_int_equal(sw.perms, R | W);
    assert_true(ept_walk(&shadow, g + 2 * PAGE_SIZE, &sw));
    assert_int_equal(sw.perms, R);
    assert_false(shadow_has(g + 3 * PAGE_SIZE));
    assert_false(shadow_has(g + 4 * PAGE_SIZE));
}

/* The composition itself (fill, pre-fill, prefetch): no write permission while D is clear. */
TEST(model_compose_with_ept_ad_is_read_only_until_dirty)
{
    gpa_t g = 60 * MiB;
    map12(g, 1, RAM4K + 7 * PAGE_SIZE, RWX | MT(MEMTYPE_WB) | EPT_ACCESSED);
    struct ept12_walk w;
    uint64_t size;
    assert_int_equal(ept12_walk(eptp12, g, &caps12, l1_read_entry, &ept01, &w), EPT12_OK);
    w.ad = true;
    w.dirty = false;
    assert_int_equal(ept02_compose(&shadow, &ept01, g, &w, W, &size), EPT02_L1_MAY_NOT); /* a write must fault */
    assert_int_equal(ept02_compose(&shadow, &ept01, g, &w, R, &size), EPT02_INSTALLED);
    struct ept_walk sw;
    assert_true(ept_walk(&shadow, g, &sw));
    assert_int_equal(sw.perms, R | X);
}

TEST(model_prefetch_skips_large_leaves_and_taken_slots)
{
    build_l2_view();
    gpa_t got[EPT02_PREFETCH_GROUP];
    /* A 2 MiB EPT12 leaf has no 4 KiB neighbours to take. */
    assert_int_equal(model_violation(G_2M_OVER_2M, EPTQUAL_READ | HW_LINEAR).out, FILLED);
    struct ept12_walk w;
    assert_int_equal(ept12_walk(eptp12, G_2M_OVER_2M, &caps12, l1_read_entry, &ept01, &w), EPT12_OK);
    assert_int_equal(ept02_prefetch(&shadow, &ept01, G_2M_OVER_2M, &w, &caps12, l1_read_entry, &ept01, got), 0);
    /* A neighbour whose slot the shadow fills already is left as it is. */
    gpa_t g = 56 * MiB;
    for (unsigned i = 0; i < 8; i++)
        map12(g + i * PAGE_SIZE, 1, RAM4K + i * PAGE_SIZE, R | MT(MEMTYPE_WB));
    ASSERT_ACCESS(g + 5 * PAGE_SIZE, R, host_of(RAM4K + 5 * PAGE_SIZE));
    map12(g + 5 * PAGE_SIZE, 1, RAM4K + 50 * PAGE_SIZE, RWX | MT(MEMTYPE_WB));
    assert_int_equal(fill_and_prefetch(g, got), 6);
    struct ept_walk sw;
    assert_true(ept_walk(&shadow, g + 5 * PAGE_SIZE, &sw));
    assert_int_equal(sw.hpa, host_of(RAM4K + 5 * PAGE_SIZE));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(model_shadow_never_maps_what_ept01_does_not),
        T(model_perms_within_ept12_and_ept01),
        T(model_memory_type),
        T(model_leaf_size_is_the_smaller_of_ept12_and_ept01),
        T(model_upgrade_without_invept_is_picked_up),
        T(model_ept12_split_without_invept),
        T(model_downgrade_without_invept_stays_until_invept),
        T(model_reflections_cache_nothing),
        T(model_violation_for_a_missing_ept12_entry_reports_no_permissions),
        T(model_ept12_tables_are_read_through_ept01),
        T(model_cycling_two_eptps_returns_all_memory),
        T(model_prefill_installs_what_l1_just_mapped),
        T(model_prefill_installs_nothing_l1_did_not_map_or_may_not_use),
        T(model_prefill_never_replaces_a_shadow_entry),
        T(model_prefetch_takes_valid_neighbours_only),
        T(model_prefetched_entry_changed_in_ept12_before_use),
        T(model_prefetch_with_ept_ad_takes_accessed_neighbours_read_only_until_dirty),
        T(model_compose_with_ept_ad_is_read_only_until_dirty),
        T(model_prefetch_skips_large_leaves_and_taken_slots),
    };
#undef T
    return RUN_GROUP("ept02_model", tests, fakemem_group_setup, fakemem_group_teardown);
}
