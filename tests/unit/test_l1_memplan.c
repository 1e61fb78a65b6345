/* core/l1_memplan.c: L1's guest-physical layout and memory map, planned from the host's. */
#include "harness.h"
#include "nestor/l1.h"

static struct boot_info bi;
static struct l1_memplan plan;

/* MAXPHYADDR 39 (512 GiB), as Bochs' corei7_skylake_x reports. */
#define LIMIT ((uint64_t)1 << 39)
#define PLAN(ram) l1_plan_memory(&bi, (ram), LIMIT, NULL, 0, &plan)

static void host_map(const struct mmap_entry *e, unsigned n)
{
    memset(&bi, 0, sizeof bi);
    memcpy(bi.mmap, e, n * sizeof *e);
    bi.mmap_count = n;
}

/* What Bochs (2 GiB) hands GRUB: low RAM, EBDA, BIOS area, RAM, ACPI tables at the top, BIOS flash. */
static const struct mmap_entry bochs[] = {
    {0x0, 0x9f000, MMAP_USABLE},
    {0x9f000, 0x1000, MMAP_RESERVED},
    {0xe8000, 0x18000, MMAP_RESERVED},
    {0x100000, 0x7fef0000, MMAP_USABLE},
    {0x7fff0000, 0x10000, MMAP_ACPI_RECLAIMABLE},
    {0xfffc0000, 0x40000, MMAP_RESERVED},
};

static void expect_map_entry_(unsigned i, uint64_t base, uint64_t len, uint32_t type, const char *file, int line)
{
    if (i >= plan.map_count || plan.map[i].base != base || plan.map[i].len != len || plan.map[i].type != type) {
        print_error("L1 map entry %u: want {0x%llx, 0x%llx, %u}; map has %u entries:\n", i, (unsigned long long)base,
                    (unsigned long long)len, type, plan.map_count);
        for (unsigned k = 0; k < plan.map_count; k++)
            print_error("    {0x%llx, 0x%llx, %u}\n", (unsigned long long)plan.map[k].base,
                        (unsigned long long)plan.map[k].len, plan.map[k].type);
        _fail(file, line);
    }
}
#define expect_map_entry(i, b, l, t) expect_map_entry_((i), (b), (l), (t), __FILE__, __LINE__)

static const struct l1_region *find_region(const char *what)
{
    for (unsigned i = 0; i < plan.region_count; i++)
        if (strcmp(plan.regions[i].what, what) == 0)
            return &plan.regions[i];
    return NULL;
}

static void expect_region_(const char *what, gpa_t gpa, uint64_t size, uint64_t perms, unsigned memtype,
                           const char *file, int line)
{
    const struct l1_region *r = find_region(what);
    if (!r || r->gpa != gpa || r->size != size || r->perms != perms || r->memtype != memtype) {
        print_error("region \"%s\": want gpa 0x%llx size 0x%llx perms %llu memtype %u\n", what,
                    (unsigned long long)gpa, (unsigned long long)size, (unsigned long long)perms, memtype);
        if (r)
            print_error("    have gpa 0x%llx size 0x%llx perms %llu memtype %u\n", (unsigned long long)r->gpa,
                        (unsigned long long)r->size, (unsigned long long)r->perms, r->memtype);
        _fail(file, line);
    }
}
#define expect_region(w, g, s, p, m) expect_region_((w), (g), (s), (p), (m), __FILE__, __LINE__)

/* ------------------------------------------------------------------ invariants every plan keeps */

static uint64_t end_of(const struct mmap_entry *m) { return m->base + m->len < m->base ? UINT64_MAX : m->base + m->len; }

static bool in_ram_range(uint64_t a, uint64_t b)
{
    for (unsigned i = 0; i < plan.ram_count; i++)
        if (a < plan.ram[i].gpa + plan.ram[i].size && plan.ram[i].gpa < b)
            return true;
    return false;
}

/*
 * RAM ranges and identity regions are page aligned, sorted, disjoint; L1's RAM
 * lies in host usable RAM; no identity region touches host RAM (usable or bad)
 * above 1 MiB; the L1 map is sorted and lists every RAM range as usable.
 */
static void check_invariants(void)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < plan.ram_count; i++) {
        const struct l1_ram_range *r = &plan.ram[i];
        assert_true(IS_ALIGNED(r->gpa | r->size, PAGE_SIZE));
        assert_true(r->size > 0);
        if (i)
            assert_true(plan.ram[i - 1].gpa + plan.ram[i - 1].size <= r->gpa);
        assert_true(r->gpa < 0xfec00000 || r->gpa >= 4 * GiB);
        bool inside = false;
        for (unsigned k = 0; k < bi.mmap_count; k++) {
            const struct mmap_entry *m = &bi.mmap[k];
            if (m->type == MMAP_USABLE && m->base <= r->gpa && r->gpa + r->size <= end_of(m))
                inside = true;
            if (m->type != MMAP_USABLE && m->base < r->gpa + r->size && r->gpa < end_of(m))
                fail_msg("RAM range 0x%llx+0x%llx overlaps host entry type %u", (unsigned long long)r->gpa,
                         (unsigned long long)r->size, m->type);
        }
        assert_true(inside);
        total += r->size;
        bool listed = false;
        for (unsigned k = 0; k < plan.map_count; k++)
            listed |= plan.map[k].type == MMAP_USABLE && plan.map[k].base <= r->gpa &&
                      r->gpa + r->size <= plan.map[k].base + plan.map[k].len;
        assert_true(listed);
    }
    assert_int_equal(total, plan.ram_total);
    for (unsigned i = 0; i < plan.region_count; i++) {
        const struct l1_region *a = &plan.regions[i];
        assert_true(IS_ALIGNED(a->gpa | a->size, PAGE_SIZE));
        assert_true(a->size > 0);
        assert_true(a->gpa + a->size <= plan.phys_limit);
        assert_false(in_ram_range(a->gpa, a->gpa + a->size));
        for (unsigned k = 0; k < bi.mmap_count && a->gpa >= L1_RAM_BASE; k++) {
            const struct mmap_entry *m = &bi.mmap[k];
            if ((m->type == MMAP_USABLE || m->type == MMAP_BAD) && m->base < a->gpa + a->size && a->gpa < end_of(m))
                fail_msg("region %s 0x%llx+0x%llx maps host RAM 0x%llx+0x%llx", a->what, (unsigned long long)a->gpa,
                         (unsigned long long)a->size, (unsigned long long)m->base, (unsigned long long)m->len);
        }
        for (unsigned k = i + 1; k < plan.region_count; k++) {
            const struct l1_region *b = &plan.regions[k];
            assert_true(a->gpa + a->size <= b->gpa || b->gpa + b->size <= a->gpa);
        }
    }
    for (unsigned i = 1; i < plan.map_count; i++)
        assert_true(plan.map[i - 1].base <= plan.map[i].base);
}

/* The identity region holding gpa, or NULL. */
static const struct l1_region *region_at(uint64_t gpa)
{
    for (unsigned i = 0; i < plan.region_count; i++)
        if (plan.regions[i].gpa <= gpa && gpa - plan.regions[i].gpa < plan.regions[i].size)
            return &plan.regions[i];
    return NULL;
}

#define expect_device(gpa)                                                   \
    do {                                                                     \
        const struct l1_region *r_ = region_at(gpa);                         \
        assert_non_null(r_);                                                 \
        assert_string_equal(r_->what, "devices");                            \
        assert_int_equal(r_->memtype, MEMTYPE_UC);                           \
        assert_int_equal(r_->perms, EPT_R | EPT_W);                          \
    } while (0)

/* ------------------------------------------------------------------ a plain PC */

TEST(memplan_bochs_map_64m)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    assert_true(PLAN(64 * MiB));
    assert_string_equal(plan.error, "");
    assert_int_equal(plan.ram_bytes, 64 * MiB);
    assert_int_equal(plan.ram_total, 64 * MiB);
    assert_int_equal(plan.ram_end, 0x4100000);
    assert_int_equal(plan.ram_count, 1);
    assert_int_equal(plan.mem_lower_kb, 636);
    assert_int_equal(plan.phys_limit, LIMIT);

    assert_int_equal(plan.map_count, 7);
    expect_map_entry(0, 0x0, 0x9f000, MMAP_USABLE);
    expect_map_entry(1, 0x9f000, 0x1000, MMAP_RESERVED);
    expect_map_entry(2, 0xe8000, 0x18000, MMAP_RESERVED);
    expect_map_entry(3, 0x100000, 64 * MiB, MMAP_USABLE);
    expect_map_entry(4, 0x4100000, 0x7fff0000 - 0x4100000, MMAP_RESERVED); /* host RAM Nestor keeps */
    expect_map_entry(5, 0x7fff0000, 0x10000, MMAP_ACPI_RECLAIMABLE);
    expect_map_entry(6, 0xfffc0000, 0x40000, MMAP_RESERVED);

    assert_int_equal(plan.region_count, 5);
    expect_region("low memory", 0, 0xa0000, EPT_RWX, MEMTYPE_WB);
    expect_region("VGA", 0xa0000, 0x20000, EPT_R | EPT_W, MEMTYPE_UC);
    expect_region("BIOS ROM", 0xc0000, 0x40000, EPT_R | EPT_X, MEMTYPE_WB);
    expect_region("ACPI", 0x7fff0000, 0x10000, EPT_R | EPT_W, MEMTYPE_WB);
    /* The PCI hole, I/O APIC, HPET, local APIC, flash and all above 4 GiB: one identity range. */
    expect_region("devices", 0x80000000, LIMIT - 0x80000000, EPT_R | EPT_W, MEMTYPE_UC);
    check_invariants();
}

TEST(memplan_host_ram_not_given_is_unmapped)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    assert_true(PLAN(GiB));
    check_invariants();
    assert_null(region_at(plan.ram_end));
    assert_null(region_at(0x7ffef000));
    assert_non_null(region_at(0x7fff0000));
    expect_device(0xff000000); /* the flash window a test kernel wrote to */
    expect_device(0xfee00000);
    expect_device(0x8000000000ull - PAGE_SIZE); /* a 64-bit BAR at the top of MAXPHYADDR */
    assert_null(region_at(LIMIT));
}

TEST(memplan_all_ram_when_asked)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    assert_true(PLAN(4 * GiB));
    assert_int_equal(plan.ram_end, 0x7fff0000);
    assert_int_equal(plan.ram_bytes, 0x7fff0000 - 0x100000);
    assert_int_equal(plan.ram_total, plan.ram_bytes);
    expect_map_entry(3, 0x100000, 0x7fef0000, MMAP_USABLE);
    check_invariants();
}

TEST(memplan_ram_size_aligned_down_to_pages)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    assert_true(PLAN(64 * MiB + 0x123));
    assert_int_equal(plan.ram_bytes, 64 * MiB);
    assert_true(PLAN(MiB)); /* the minimum */
    assert_int_equal(plan.ram_end, 2 * MiB);
}

TEST(memplan_too_little_ram)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    assert_false(PLAN(0xfffff));
    assert_string_equal(plan.error, "L1 would get only 0xff000 bytes of RAM (need at least 1 MiB)");
    assert_false(PLAN(0));
    assert_str_contains(plan.error, "only 0x0 bytes");

    /* The host has only 512 KiB above 1 MiB. */
    const struct mmap_entry small[] = {{0, 0x9fc00, MMAP_USABLE}, {0x100000, 0x80000, MMAP_USABLE}};
    host_map(small, ARRAY_SIZE(small));
    assert_false(PLAN(GiB));
    assert_string_equal(plan.error, "L1 would get only 0x80000 bytes of RAM (need at least 1 MiB)");

    /* No RAM at 1 MiB: Multiboot kernels load there. */
    const struct mmap_entry e[] = {{0, 0x9fc00, MMAP_USABLE}, {0x100000, 0x100000, MMAP_RESERVED},
                                   {0x200000, GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_false(PLAN(GiB));
    assert_string_equal(plan.error, "the host memory map has no usable RAM at 1 MiB (first above it at 0x200000)");
}

TEST(memplan_acpi_in_low_ram_splits_it)
{
    /* ACPI NVS 512 KiB above 1 MiB: L1's RAM goes around it, like the host's. */
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE}, {0x100000, 0x80000, MMAP_USABLE}, {0x180000, 0x1000, MMAP_ACPI_NVS},
        {0x200000, GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(GiB));
    assert_int_equal(plan.ram_bytes, 0x80000); /* contiguous from 1 MiB: Multiboot's mem_upper */
    assert_int_equal(plan.ram_end, 0x180000);
    assert_int_equal(plan.ram_total, GiB);
    assert_int_equal(plan.ram_count, 2);
    assert_int_equal(plan.ram[1].gpa, 0x200000);
    assert_int_equal(plan.ram[1].size, GiB - 0x80000);
    expect_region("ACPI", 0x180000, 0x1000, EPT_R | EPT_W, MEMTYPE_WB);
    expect_region("devices", 0x181000, 0x7f000, EPT_R | EPT_W, MEMTYPE_UC); /* the unlisted gap up to 2 MiB */
    check_invariants();
}

/* ------------------------------------------------------------------ the first MiB */

TEST(memplan_low_usable_clipped_at_vga)
{
    const struct mmap_entry e[] = {
        {0, 0x100000, MMAP_USABLE}, {0xf0000, 0x10000, MMAP_RESERVED}, {0x100000, GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(16 * MiB));
    assert_int_equal(plan.mem_lower_kb, 640);
    expect_map_entry(0, 0, 0xa0000, MMAP_USABLE);
    expect_map_entry(1, 0xf0000, 0x10000, MMAP_RESERVED);
    expect_map_entry(2, 0x100000, 16 * MiB, MMAP_USABLE);
    expect_map_entry(3, 0x1100000, GiB - 16 * MiB, MMAP_RESERVED); /* host RAM L1 does not get */
    assert_int_equal(plan.map_count, 4);
}

TEST(memplan_no_usable_memory_at_zero)
{
    const struct mmap_entry e[] = {{0x1000, 0x9e000, MMAP_USABLE}, {0x100000, GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(16 * MiB));
    assert_int_equal(plan.mem_lower_kb, 0); /* mem_lower counts from address 0 */
    expect_map_entry(0, 0x1000, 0x9e000, MMAP_USABLE);
}

TEST(memplan_low_usable_above_vga_dropped)
{
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE}, {0xc0000, 0x10000, MMAP_USABLE}, {0x100000, GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(16 * MiB));
    assert_int_equal(plan.map_count, 3);
    expect_map_entry(1, 0x100000, 16 * MiB, MMAP_USABLE);
}

TEST(memplan_acpi_below_1m_does_not_limit_ram)
{
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE}, {0xe0000, 0x10000, MMAP_ACPI_RECLAIMABLE}, {0x100000, 2 * GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(GiB));
    assert_int_equal(plan.ram_bytes, GiB);
    expect_map_entry(1, 0xe0000, 0x10000, MMAP_ACPI_RECLAIMABLE);
    assert_null(find_region("ACPI")); /* reached through the low-memory identity regions */
}

/* ------------------------------------------------------------------ RAM above 4 GiB */

/* A 64 GiB server: RAM to 3 GiB, ACPI, MMCONFIG, the PCI hole, flash, 61 GiB above 4 GiB. */
static const struct mmap_entry server64[] = {
    {0x0, 0x9c000, MMAP_USABLE},
    {0x9c000, 0x4000, MMAP_RESERVED},
    {0xe0000, 0x20000, MMAP_RESERVED},
    {0x100000, 0xbfe00000 - 0x100000, MMAP_USABLE},
    {0xbfe00000, 0x100000, MMAP_ACPI_RECLAIMABLE},
    {0xbff00000, 0x100000, MMAP_ACPI_NVS},
    {0xe0000000, 0x10000000, MMAP_RESERVED},
    {0xfed1c000, 0x4000, MMAP_RESERVED},
    {0xff000000, 0x1000000, MMAP_RESERVED},
    {0x100000000ull, 61 * GiB, MMAP_USABLE},
};

TEST(memplan_64g_host_gives_ram_above_4g)
{
    host_map(server64, ARRAY_SIZE(server64));
    assert_true(PLAN(60 * GiB));
    check_invariants();
    uint64_t low = 0xbfe00000 - 0x100000;
    assert_int_equal(plan.ram_count, 2);
    assert_int_equal(plan.ram_bytes, low);
    assert_int_equal(plan.ram_end, 0xbfe00000);
    assert_int_equal(plan.ram[1].gpa, 4 * GiB);
    assert_int_equal(plan.ram[1].size, 60 * GiB - low);
    assert_int_equal(plan.ram_total, 60 * GiB);
    /* L1's map: both RAM ranges usable, the rest of the host's high RAM reserved. */
    unsigned i;
    for (i = 0; i < plan.map_count && plan.map[i].base != 4 * GiB; i++)
        ;
    expect_map_entry(i, 4 * GiB, 60 * GiB - low, MMAP_USABLE);
    expect_map_entry(i + 1, 4 * GiB + 60 * GiB - low, 65 * GiB - (4 * GiB + 60 * GiB - low), MMAP_RESERVED);
    /* The PCI hole stays for devices; above all of RAM, 64-bit BARs. */
    expect_region("ACPI", 0xbfe00000, 0x200000, EPT_R | EPT_W, MEMTYPE_WB);
    expect_region("devices", 0xc0000000, GiB, EPT_R | EPT_W, MEMTYPE_UC);
    expect_device(0xe0000000);
    expect_device(65 * GiB);
    assert_null(region_at(64 * GiB)); /* host RAM Nestor keeps */
    assert_null(region_at(4 * GiB));
}

TEST(memplan_64g_host_all_of_it)
{
    host_map(server64, ARRAY_SIZE(server64));
    assert_true(PLAN(100 * GiB)); /* more than there is: all the host's RAM above 1 MiB */
    check_invariants();
    assert_int_equal(plan.ram_total, 0xbfe00000 - 0x100000 + 61 * GiB);
    assert_int_equal(plan.ram[1].size, 61 * GiB);
    expect_device(65 * GiB);
    assert_int_equal(region_at(65 * GiB)->gpa, 65 * GiB);
    assert_int_equal(region_at(65 * GiB)->size, LIMIT - 65 * GiB);
}

TEST(memplan_ram_never_in_the_apic_window)
{
    /* A map claiming RAM straight across 4 GiB: the APIC/flash window is never L1's RAM nor mapped. */
    const struct mmap_entry e[] = {{0, 0x9fc00, MMAP_USABLE}, {0x100000, 8 * GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(16 * GiB));
    check_invariants();
    assert_int_equal(plan.ram_count, 2);
    assert_int_equal(plan.ram_end, 0xfec00000);
    assert_int_equal(plan.ram[1].gpa, 4 * GiB);
    assert_int_equal(plan.ram[1].size, 8 * GiB + 0x100000 - 4 * GiB);
    assert_null(region_at(0xfee00000));
    expect_device(8 * GiB + 0x100000);
}

TEST(memplan_fragmented_host_map)
{
    /* Reserved ranges and holes scattered through RAM below and above 4 GiB. */
    const struct mmap_entry e[] = {
        {0x0, 0x9fc00, MMAP_USABLE},
        {0x100000, 0xf00000, MMAP_USABLE},              /* to 16 MiB */
        {0x1000000, 0x100000, MMAP_RESERVED},           /* an ISA-hole-like reserved MiB */
        {0x1100000, 0x3ef00000, MMAP_USABLE},           /* to 1 GiB */
        {0x40000000, 0x1234, MMAP_BAD},                 /* bad RAM, unaligned */
        {0x40001234, 0x3fffedcc, MMAP_USABLE},          /* to 2 GiB, unaligned start */
        {0x80000000, 0x800, MMAP_ACPI_NVS},
        {0x100000000ull, 0x80000000, MMAP_USABLE},      /* 4-6 GiB */
        {0x180000000ull, 0x200000, MMAP_RESERVED},
        {0x180200000ull, 0x7fe00000, MMAP_USABLE},      /* to 8 GiB */
        {0x300000000ull, GiB, MMAP_USABLE},             /* 12-13 GiB, after a hole */
    };
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(64 * GiB));
    check_invariants();
    assert_int_equal(plan.ram_count, 6);
    assert_int_equal(plan.ram[0].gpa, 0x100000);
    assert_int_equal(plan.ram[0].size, 0xf00000);
    assert_int_equal(plan.ram[1].gpa, 0x1100000);
    assert_int_equal(plan.ram[2].gpa, 0x40002000); /* shrunk to whole pages */
    assert_int_equal(plan.ram[2].size, 0x80000000 - 0x40002000);
    assert_int_equal(plan.ram[3].gpa, 4 * GiB);
    assert_int_equal(plan.ram[4].gpa, 0x180200000ull);
    assert_int_equal(plan.ram[5].gpa, 12 * GiB);
    assert_int_equal(plan.ram_end, 16 * MiB + 0x100000 - 0x100000);
    expect_device(0x1000000);
    assert_null(region_at(0x40000000)); /* bad RAM is never mapped */
    assert_null(region_at(0x40001000));
    expect_region("ACPI", 0x80000000, PAGE_SIZE, EPT_R | EPT_W, MEMTYPE_WB);
    expect_device(0x80001000);
    expect_device(0x180000000ull);
    expect_device(8 * GiB);
    expect_device(13 * GiB);
    /* The bad range keeps its type in L1's map. */
    bool bad_listed = false;
    for (unsigned i = 0; i < plan.map_count; i++)
        bad_listed |= plan.map[i].base == 0x40000000 && plan.map[i].type == MMAP_BAD;
    assert_true(bad_listed);
}

TEST(memplan_512g_plus_host)
{
    /* 600 GiB of RAM above 4 GiB. MAXPHYADDR 46 (64 TiB): all of it is L1's if asked. */
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE}, {0x100000, 0x7ff00000, MMAP_USABLE}, {0x100000000ull, 600 * GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    uint64_t big = (uint64_t)1 << 46;
    assert_true(l1_plan_memory(&bi, 700 * GiB, big, NULL, 0, &plan));
    check_invariants();
    assert_int_equal(plan.ram_total, 0x7ff00000 + 600 * GiB);
    expect_device(604 * GiB);
    assert_int_equal(region_at(604 * GiB)->gpa, 604 * GiB);
    assert_int_equal(region_at(604 * GiB)->size, big - 604 * GiB);

    /* With device space cut at 512 GiB (no 1 GiB EPT pages), RAM above it is not L1's either. */
    assert_true(l1_plan_memory(&bi, 700 * GiB, 512 * GiB, NULL, 0, &plan));
    check_invariants();
    assert_int_equal(plan.ram[1].gpa + plan.ram[1].size, 512 * GiB);
    assert_int_equal(plan.phys_limit, 512 * GiB);
    assert_null(region_at(600 * GiB));

    /* A phys_limit below 4 GiB is raised to 4 GiB: the APICs are always there. */
    assert_true(l1_plan_memory(&bi, GiB, GiB, NULL, 0, &plan));
    assert_int_equal(plan.phys_limit, 4 * GiB);
    expect_device(0xfee00000);
}

/* ------------------------------------------------------------------ ACPI and device ranges */

TEST(memplan_unaligned_acpi_widened_to_pages)
{
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE}, {0x100000, 0x7fe00000, MMAP_USABLE}, {0x7fff0100, 0xe00, MMAP_ACPI_NVS}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(4 * GiB));
    check_invariants();
    assert_int_equal(plan.ram_end, 0x7ff00000);
    /* The page shared with the unlisted gap below is ACPI (write-back), not a device. */
    expect_region("ACPI", 0x7fff0000, 0x1000, EPT_R | EPT_W, MEMTYPE_WB);
    const struct l1_region *below = region_at(0x7ffef000);
    assert_non_null(below);
    assert_int_equal(below->gpa + below->size, 0x7fff0000);
    expect_device(0x7fff1000);
    expect_map_entry(2, 0x7fff0100, 0xe00, MMAP_ACPI_NVS); /* the map keeps the firmware's exact bounds */
}

TEST(memplan_unaligned_acpi_next_to_usable_ram_shrunk)
{
    /* Widening to whole pages would map host RAM Nestor may hand out: only whole ACPI pages are mapped. */
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE},
        {0x100000, 0x7fef0800, MMAP_USABLE},
        {0x7fff0800, 0x2800, MMAP_ACPI_RECLAIMABLE},
        {0x7fff3000, 0x800, MMAP_ACPI_NVS},
        {0x7fff3800, 0x1000, MMAP_USABLE},
    };
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(4 * GiB));
    check_invariants();
    assert_int_equal(plan.ram_end, 0x7fff0000);
    expect_region("ACPI", 0x7fff1000, 0x2000, EPT_R | EPT_W, MEMTYPE_WB);
    unsigned acpi_regions = 0;
    for (unsigned i = 0; i < plan.region_count; i++)
        acpi_regions += strcmp(plan.regions[i].what, "ACPI") == 0;
    assert_int_equal(acpi_regions, 1);
    expect_map_entry(2, 0x7fff0000, 0x800, MMAP_RESERVED); /* the sliver of host RAM L1 cannot have */
    expect_map_entry(3, 0x7fff0800, 0x2800, MMAP_ACPI_RECLAIMABLE);
    expect_map_entry(4, 0x7fff3000, 0x800, MMAP_ACPI_NVS);
    expect_map_entry(5, 0x7fff3800, 0x1000, MMAP_RESERVED);
}

TEST(memplan_reserved_and_overlapping_ranges)
{
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE},
        {0x100000, 0x3ff00000, MMAP_USABLE},
        {0x40000000, 0x1000, MMAP_RESERVED},
        {0x3ff00000, 0x200000, MMAP_RESERVED},  /* overlaps the top of RAM: that part is nobody's */
        {0xe0000000, 0x10000000, MMAP_RESERVED}, /* PCI MMCONFIG */
        {0x100000000ull, GiB, MMAP_RESERVED},
        {0x140000000ull, GiB, MMAP_ACPI_NVS},    /* ACPI above 4 GiB: L1's, write-back */
        {0x50000000, 0x1000, MMAP_BAD},
    };
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(4 * GiB));
    check_invariants();
    assert_int_equal(plan.ram_end, 0x3ff00000);
    assert_null(region_at(0x3ff00000));
    expect_device(0x40000000);
    expect_device(0x40100000);
    expect_device(0xe0000000);
    expect_device(0x100000000ull);
    expect_region("ACPI", 0x140000000ull, GiB, EPT_R | EPT_W, MEMTYPE_WB);
    assert_null(region_at(0x50000000));
    expect_device(0x180000000ull);
}

TEST(memplan_unsorted_host_map_gives_sorted_l1_map)
{
    const struct mmap_entry e[] = {
        {0xfffc0000, 0x40000, MMAP_RESERVED},
        {0x7fff0000, 0x10000, MMAP_ACPI_RECLAIMABLE},
        {0x100000, 0x7fef0000, MMAP_USABLE},
        {0xe8000, 0x18000, MMAP_RESERVED},
        {0x9f000, 0x1000, MMAP_RESERVED},
        {0x0, 0x9f000, MMAP_USABLE},
    };
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(64 * MiB));
    check_invariants();
    assert_int_equal(plan.map_count, 7);
    for (unsigned i = 1; i < plan.map_count; i++)
        assert_true(plan.map[i - 1].base < plan.map[i].base);
    expect_map_entry(0, 0, 0x9f000, MMAP_USABLE);
    expect_map_entry(6, 0xfffc0000, 0x40000, MMAP_RESERVED);
    assert_int_equal(plan.mem_lower_kb, 636);
}

TEST(memplan_wrapping_entries)
{
    /* Entries running past 2^64 end there: a usable one is never mapped as a device. */
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE}, {0x100000, 0x7ff00000, MMAP_USABLE},
        {0x100000000ull, UINT64_MAX - 0x1000, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(8 * GiB));
    check_invariants();
    assert_null(region_at(0x200000000ull));
    assert_null(region_at(LIMIT - PAGE_SIZE));
    assert_int_equal(plan.ram_total, 8 * GiB);
    const struct mmap_entry r[] = {
        {0, 0x9fc00, MMAP_USABLE}, {0x100000, 0x7ff00000, MMAP_USABLE},
        {0x100000000ull, UINT64_MAX, MMAP_RESERVED}};
    host_map(r, ARRAY_SIZE(r));
    assert_true(PLAN(8 * GiB));
    check_invariants();
    expect_device(0x100000000ull);
}

/* ------------------------------------------------------------------ keep-out ranges (the PCIe ECAM) */

TEST(memplan_keep_out_ranges_stay_unmapped)
{
    host_map(server64, ARRAY_SIZE(server64));
    const struct l1_keep_out ko[] = {
        {0xe0000000, 0x10000000, "PCIe ECAM"},          /* inside a host reserved range */
        {0x3f0000000000ull, 0x1000000, "PCIe ECAM 1"},  /* above RAM, beyond LIMIT: ignored */
        {0x2000000000ull + 0x123, 0x1000, "unaligned"}, /* widened to the pages it touches */
        {0x100000000ull, 0x1000, "over RAM"},           /* over host RAM: that page is not L1's RAM either */
    };
    assert_true(l1_plan_memory(&bi, 8 * GiB, LIMIT, ko, ARRAY_SIZE(ko), &plan));
    check_invariants();
    assert_null(region_at(0xe0000000));
    assert_null(region_at(0xefffffff));
    expect_device(0xdffff000);
    expect_device(0xf0000000);
    assert_null(region_at(0x2000000000ull));
    assert_null(region_at(0x2000001000ull));
    expect_device(0x2000002000ull);
    expect_device(0x1fffffffffull & ~0xfffull);
    assert_int_equal(plan.ram[1].gpa, 0x100001000ull);
    /* The host's reserved entry for the ECAM stays in L1's map (Linux checks MMCONFIG against it). */
    bool listed = false;
    for (unsigned i = 0; i < plan.map_count; i++)
        listed |= plan.map[i].base == 0xe0000000 && plan.map[i].len == 0x10000000 && plan.map[i].type == MMAP_RESERVED;
    assert_true(listed);
}

/* ------------------------------------------------------------------ kernel segments (Multiboot kernels below 1 MiB) */

TEST(memplan_segments_in_low_ram_accepted)
{
    host_map(bochs, ARRAY_SIZE(bochs)); /* mem_lower 636 KiB: the EBDA starts at 0x9f000 */
    assert_true(PLAN(64 * MiB));
    assert_true(l1_segment_in_ram(&plan, 0x8000, 0xa86c - 0x8000)); /* kvm-unit-tests style, linked at 0x8000 */
    assert_true(l1_segment_in_ram(&plan, 0x500, 0x9f000 - 0x500));  /* all of low RAM */
    assert_true(l1_segment_in_ram(&plan, 0x100000, 64 * MiB));
    assert_true(l1_segment_in_ram(&plan, 0x4100000 - 0x1000, 0x1000));
    assert_true(l1_segment_in_ram(&plan, 0x9000, 0));
}

TEST(memplan_segments_over_firmware_refused)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    assert_true(PLAN(64 * MiB));
    assert_false(l1_segment_in_ram(&plan, 0x0, 0x1000));          /* real-mode IVT */
    assert_false(l1_segment_in_ram(&plan, 0x400, 0x200));         /* BIOS data area */
    assert_false(l1_segment_in_ram(&plan, 0x9e000, 0x1001));      /* into the EBDA */
    assert_false(l1_segment_in_ram(&plan, 0x9f000, 0x10));
    assert_false(l1_segment_in_ram(&plan, 0xb8000, 0x1000));      /* VGA */
    assert_false(l1_segment_in_ram(&plan, 0xf0000, 0x1000));      /* BIOS ROM */
    assert_false(l1_segment_in_ram(&plan, 0x90000, 0x80000));     /* low RAM across the hole to 1 MiB */
    assert_false(l1_segment_in_ram(&plan, 0x4100000 - 0x1000, 0x1001)); /* past the end of RAM */
    assert_false(l1_segment_in_ram(&plan, 0x100000, UINT64_MAX));  /* no wrap-around */
    assert_false(l1_segment_in_ram(&plan, UINT64_MAX - 0xfff, 0x1000));
}

TEST(memplan_segments_in_a_high_ram_range)
{
    host_map(server64, ARRAY_SIZE(server64));
    assert_true(PLAN(8 * GiB));
    assert_true(l1_segment_in_ram(&plan, 4 * GiB + 0x1000, 0x1000));
    assert_false(l1_segment_in_ram(&plan, 0xbfe00000 - 0x1000, 0x2000)); /* into ACPI */
    assert_false(l1_segment_in_ram(&plan, 4 * GiB - 0x1000, 0x2000));     /* from the hole into RAM */
}

TEST(memplan_segments_without_low_ram)
{
    const struct mmap_entry e[] = {{0x1000, 0x9e000, MMAP_USABLE}, {0x100000, GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(PLAN(16 * MiB));
    assert_false(l1_segment_in_ram(&plan, 0x8000, 0x1000)); /* mem_lower 0: no low RAM described from 0 */
}

/* ------------------------------------------------------------------ limits */

TEST(memplan_worst_fragmentation_fits)
{
    /* 64 entries alternating ACPI pages and usable pieces with gaps: every table still fits. */
    struct mmap_entry e[BOOT_MAX_MMAP];
    unsigned k = 0;
    e[k++] = (struct mmap_entry){0, 0x9fc00, MMAP_USABLE};
    e[k++] = (struct mmap_entry){0x100000, 0x100000, MMAP_USABLE};
    for (unsigned i = 0; k < BOOT_MAX_MMAP; i++) {
        e[k++] = (struct mmap_entry){0x10000000 + (uint64_t)i * 0x100000, 0x1800, MMAP_ACPI_RECLAIMABLE};
        if (k < BOOT_MAX_MMAP)
            e[k++] = (struct mmap_entry){0x10000000 + (uint64_t)i * 0x100000 + 0x40000, 0x3000, MMAP_USABLE};
    }
    host_map(e, k);
    assert_true(PLAN(64 * GiB));
    check_invariants();
    assert_true(plan.region_count <= L1_MAX_REGIONS);
    assert_int_equal(plan.ram_count, 1 + 31);
}

TEST(memplan_map_table_limit)
{
    /* 64 overlapping reserved entries each crossing 1 MiB: each is listed twice (below and above). */
    struct mmap_entry e[BOOT_MAX_MMAP];
    e[0] = (struct mmap_entry){0, 0x9fc00, MMAP_USABLE};
    e[1] = (struct mmap_entry){0x200000, GiB, MMAP_USABLE};
    for (unsigned i = 2; i < BOOT_MAX_MMAP; i++)
        e[i] = (struct mmap_entry){0xf0000 + (uint64_t)i * 0x10, 0x20000, MMAP_RESERVED};
    host_map(e, BOOT_MAX_MMAP);
    assert_false(PLAN(16 * MiB));
    assert_string_equal(plan.error, "host memory map too fragmented to describe L1's memory");
}

TEST(memplan_clears_previous_plan)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    memset(&plan, 0x77, sizeof plan);
    assert_true(PLAN(64 * MiB));
    assert_string_equal(plan.error, "");
    assert_int_equal(plan.region_count, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memplan_bochs_map_64m),
        cmocka_unit_test(memplan_host_ram_not_given_is_unmapped),
        cmocka_unit_test(memplan_all_ram_when_asked),
        cmocka_unit_test(memplan_ram_size_aligned_down_to_pages),
        cmocka_unit_test(memplan_too_little_ram),
        cmocka_unit_test(memplan_acpi_in_low_ram_splits_it),
        cmocka_unit_test(memplan_low_usable_clipped_at_vga),
        cmocka_unit_test(memplan_no_usable_memory_at_zero),
        cmocka_unit_test(memplan_low_usable_above_vga_dropped),
        cmocka_unit_test(memplan_acpi_below_1m_does_not_limit_ram),
        cmocka_unit_test(memplan_64g_host_gives_ram_above_4g),
        cmocka_unit_test(memplan_64g_host_all_of_it),
        cmocka_unit_test(memplan_ram_never_in_the_apic_window),
        cmocka_unit_test(memplan_fragmented_host_map),
        cmocka_unit_test(memplan_512g_plus_host),
        cmocka_unit_test(memplan_unaligned_acpi_widened_to_pages),
        cmocka_unit_test(memplan_unaligned_acpi_next_to_usable_ram_shrunk),
        cmocka_unit_test(memplan_reserved_and_overlapping_ranges),
        cmocka_unit_test(memplan_unsorted_host_map_gives_sorted_l1_map),
        cmocka_unit_test(memplan_wrapping_entries),
        cmocka_unit_test(memplan_keep_out_ranges_stay_unmapped),
        cmocka_unit_test(memplan_segments_in_low_ram_accepted),
        cmocka_unit_test(memplan_segments_over_firmware_refused),
        cmocka_unit_test(memplan_segments_in_a_high_ram_range),
        cmocka_unit_test(memplan_segments_without_low_ram),
        cmocka_unit_test(memplan_worst_fragmentation_fits),
        cmocka_unit_test(memplan_map_table_limit),
        cmocka_unit_test(memplan_clears_previous_plan),
    };
    return RUN_GROUP("l1_memplan", tests, NULL, NULL);
}
