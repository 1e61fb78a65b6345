/* core/l1_memplan.c: L1's guest-physical layout and memory map, planned from the host's. */
#include "harness.h"
#include "nestor/l1.h"

static struct boot_info bi;
static struct l1_memplan plan;

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

/* ------------------------------------------------------------------ a plain PC */

TEST(memplan_bochs_map_64m)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    assert_true(l1_plan_memory(&bi, 64 * MiB, &plan));
    assert_string_equal(plan.error, "");
    assert_int_equal(plan.ram_bytes, 64 * MiB);
    assert_int_equal(plan.ram_end, 0x4100000);
    assert_int_equal(plan.mem_lower_kb, 636);

    assert_int_equal(plan.map_count, 6);
    expect_map_entry(0, 0x0, 0x9f000, MMAP_USABLE);
    expect_map_entry(1, 0x9f000, 0x1000, MMAP_RESERVED);
    expect_map_entry(2, 0xe8000, 0x18000, MMAP_RESERVED);
    expect_map_entry(3, 0x100000, 64 * MiB, MMAP_USABLE);
    expect_map_entry(4, 0x7fff0000, 0x10000, MMAP_ACPI_RECLAIMABLE);
    expect_map_entry(5, 0xfffc0000, 0x40000, MMAP_RESERVED);

    assert_int_equal(plan.region_count, 7);
    expect_region("low memory", 0, 0xa0000, EPT_RWX, MEMTYPE_WB);
    expect_region("VGA", 0xa0000, 0x20000, EPT_R | EPT_W, MEMTYPE_UC);
    expect_region("BIOS ROM", 0xc0000, 0x40000, EPT_R | EPT_X, MEMTYPE_WB);
    expect_region("ACPI", 0x7fff0000, 0x10000, EPT_R | EPT_W, MEMTYPE_WB);
    expect_region("I/O APIC", 0xfec00000, PAGE_SIZE, EPT_R | EPT_W, MEMTYPE_UC);
    expect_region("HPET", 0xfed00000, PAGE_SIZE, EPT_R | EPT_W, MEMTYPE_UC);
    expect_region("local APIC", 0xfee00000, PAGE_SIZE, EPT_R | EPT_W, MEMTYPE_UC);
}

TEST(memplan_regions_never_overlap_ram_or_each_other)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    assert_true(l1_plan_memory(&bi, 1 * GiB, &plan));
    for (unsigned i = 0; i < plan.region_count; i++) {
        const struct l1_region *a = &plan.regions[i];
        assert_true(IS_ALIGNED(a->gpa | a->size, PAGE_SIZE));
        assert_true(a->size > 0);
        assert_true(a->gpa + a->size <= L1_RAM_BASE || a->gpa >= plan.ram_end);
        for (unsigned k = i + 1; k < plan.region_count; k++) {
            const struct l1_region *b = &plan.regions[k];
            assert_true(a->gpa + a->size <= b->gpa || b->gpa + b->size <= a->gpa);
        }
    }
}

TEST(memplan_ram_trimmed_below_acpi_tables)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    assert_true(l1_plan_memory(&bi, 4 * GiB, &plan));
    assert_int_equal(plan.ram_end, 0x7fff0000);
    assert_int_equal(plan.ram_bytes, 0x7fff0000 - 0x100000);
    expect_map_entry(3, 0x100000, 0x7fef0000, MMAP_USABLE);
}

TEST(memplan_ram_trimmed_below_pci_hole)
{
    const struct mmap_entry e[] = {{0, 0x9fc00, MMAP_USABLE}, {0x100000, 8 * GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(l1_plan_memory(&bi, 16 * GiB, &plan));
    assert_int_equal(plan.ram_end, 0xc0000000);
    assert_int_equal(plan.mem_lower_kb, 639);
    assert_int_equal(plan.map_count, 2); /* RAM above 4 GiB is not L1's */
    expect_map_entry(1, 0x100000, 0xc0000000 - 0x100000, MMAP_USABLE);
}

TEST(memplan_ram_size_aligned_down_to_pages)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    assert_true(l1_plan_memory(&bi, 64 * MiB + 0x123, &plan));
    assert_int_equal(plan.ram_bytes, 64 * MiB);
    assert_true(l1_plan_memory(&bi, MiB, &plan)); /* the minimum */
    assert_int_equal(plan.ram_end, 2 * MiB);
}

TEST(memplan_too_little_ram)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    assert_false(l1_plan_memory(&bi, 0xfffff, &plan));
    assert_string_equal(plan.error, "L1 would get only 0xff000 bytes of RAM (need at least 1 MiB)");
    assert_false(l1_plan_memory(&bi, 0, &plan));
    assert_str_contains(plan.error, "only 0x0 bytes");

    /* ACPI tables low in memory leave no room however much RAM is asked for. */
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE}, {0x100000, 0x80000, MMAP_USABLE}, {0x180000, 0x1000, MMAP_ACPI_NVS},
        {0x200000, GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_false(l1_plan_memory(&bi, GiB, &plan));
    assert_string_equal(plan.error, "L1 would get only 0x80000 bytes of RAM (need at least 1 MiB)");
}

/* ------------------------------------------------------------------ the first MiB */

TEST(memplan_low_usable_clipped_at_vga)
{
    const struct mmap_entry e[] = {
        {0, 0x100000, MMAP_USABLE}, {0xf0000, 0x20000, MMAP_RESERVED}, {0x100000, GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(l1_plan_memory(&bi, 16 * MiB, &plan));
    assert_int_equal(plan.mem_lower_kb, 640);
    expect_map_entry(0, 0, 0xa0000, MMAP_USABLE);
    expect_map_entry(1, 0xf0000, 0x10000, MMAP_RESERVED); /* cut at 1 MiB: L1's RAM starts there */
    expect_map_entry(2, 0x100000, 16 * MiB, MMAP_USABLE);
    assert_int_equal(plan.map_count, 3);
}

TEST(memplan_no_usable_memory_at_zero)
{
    const struct mmap_entry e[] = {{0x1000, 0x9e000, MMAP_USABLE}, {0x100000, GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(l1_plan_memory(&bi, 16 * MiB, &plan));
    assert_int_equal(plan.mem_lower_kb, 0); /* mem_lower counts from address 0 */
    expect_map_entry(0, 0x1000, 0x9e000, MMAP_USABLE);
}

TEST(memplan_low_usable_above_vga_dropped)
{
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE}, {0xc0000, 0x10000, MMAP_USABLE}, {0x100000, GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(l1_plan_memory(&bi, 16 * MiB, &plan));
    assert_int_equal(plan.map_count, 2);
    expect_map_entry(1, 0x100000, 16 * MiB, MMAP_USABLE);
}

TEST(memplan_acpi_below_1m_does_not_limit_ram)
{
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE}, {0xe0000, 0x10000, MMAP_ACPI_RECLAIMABLE}, {0x100000, 2 * GiB, MMAP_USABLE}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(l1_plan_memory(&bi, GiB, &plan));
    assert_int_equal(plan.ram_bytes, GiB);
    expect_map_entry(1, 0xe0000, 0x10000, MMAP_ACPI_RECLAIMABLE);
    assert_null(find_region("ACPI")); /* reached through the low-memory identity regions */
}

/* ------------------------------------------------------------------ ACPI and the MMIO hole */

TEST(memplan_unaligned_acpi_widened_to_pages)
{
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE}, {0x100000, 0x7fe00000, MMAP_USABLE}, {0x7fff0100, 0xe00, MMAP_ACPI_NVS}};
    host_map(e, ARRAY_SIZE(e));
    assert_true(l1_plan_memory(&bi, 4 * GiB, &plan));
    assert_int_equal(plan.ram_end, 0x7fff0000);
    expect_region("ACPI", 0x7fff0000, 0x1000, EPT_R | EPT_W, MEMTYPE_WB);
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
    assert_true(l1_plan_memory(&bi, 4 * GiB, &plan));
    assert_int_equal(plan.ram_end, 0x7fff0000);
    expect_region("ACPI", 0x7fff1000, 0x2000, EPT_R | EPT_W, MEMTYPE_WB);
    /* The NVS piece holds no whole page once kept off the usable neighbour: no region, still in the map. */
    unsigned acpi_regions = 0;
    for (unsigned i = 0; i < plan.region_count; i++)
        acpi_regions += strcmp(plan.regions[i].what, "ACPI") == 0;
    assert_int_equal(acpi_regions, 1);
    expect_map_entry(2, 0x7fff0800, 0x2800, MMAP_ACPI_RECLAIMABLE);
    expect_map_entry(3, 0x7fff3000, 0x800, MMAP_ACPI_NVS);
}

TEST(memplan_reserved_ranges_only_in_the_mmio_hole)
{
    const struct mmap_entry e[] = {
        {0, 0x9fc00, MMAP_USABLE},
        {0x100000, 0x3ff00000, MMAP_USABLE},
        {0x40000000, 0x1000, MMAP_RESERVED},  /* below the PCI hole: covered by L1's RAM or nothing */
        {0xe0000000, 0x10000000, MMAP_RESERVED}, /* PCI MMCONFIG */
        {0xfff00000, 0x200000, MMAP_RESERVED},   /* crosses 4 GiB: clipped */
        {0x100000000ull, GiB, MMAP_RESERVED},    /* above 4 GiB: not L1's */
        {0x140000000ull, GiB, MMAP_ACPI_NVS},    /* above 4 GiB: ignored */
        {0x50000000, 0x1000, MMAP_BAD},
    };
    host_map(e, ARRAY_SIZE(e));
    assert_true(l1_plan_memory(&bi, 512 * MiB, &plan));
    assert_int_equal(plan.map_count, 4);
    expect_map_entry(0, 0, 0x9fc00, MMAP_USABLE);
    expect_map_entry(1, 0x100000, 512 * MiB, MMAP_USABLE);
    expect_map_entry(2, 0xe0000000, 0x10000000, MMAP_RESERVED);
    expect_map_entry(3, 0xfff00000, 0x100000, MMAP_RESERVED);
    assert_int_equal(plan.region_count, 6); /* low, VGA, ROM, three MMIO pages: no ACPI */
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
    assert_true(l1_plan_memory(&bi, 64 * MiB, &plan));
    assert_int_equal(plan.map_count, 6);
    for (unsigned i = 1; i < plan.map_count; i++)
        assert_true(plan.map[i - 1].base < plan.map[i].base);
    expect_map_entry(0, 0, 0x9f000, MMAP_USABLE);
    expect_map_entry(5, 0xfffc0000, 0x40000, MMAP_RESERVED);
    assert_int_equal(plan.mem_lower_kb, 636);
}

/* ------------------------------------------------------------------ limits */

static void many_acpi(unsigned n)
{
    struct mmap_entry e[BOOT_MAX_MMAP];
    unsigned k = 0;
    e[k++] = (struct mmap_entry){0, 0x9fc00, MMAP_USABLE};
    e[k++] = (struct mmap_entry){0x100000, 0x6ff00000, MMAP_USABLE};
    for (unsigned i = 0; i < n; i++)
        e[k++] = (struct mmap_entry){0x70000000 + (uint64_t)i * 0x10000, 0x1000, MMAP_ACPI_RECLAIMABLE};
    host_map(e, k);
}

TEST(memplan_region_table_limit)
{
    many_acpi(L1_MAX_REGIONS - 6); /* exactly fills the table next to the six fixed regions */
    assert_true(l1_plan_memory(&bi, 16 * MiB, &plan));
    assert_int_equal(plan.region_count, L1_MAX_REGIONS);
    many_acpi(L1_MAX_REGIONS - 5);
    assert_false(l1_plan_memory(&bi, 16 * MiB, &plan));
    assert_string_equal(plan.error, "host memory map too fragmented to describe L1's memory");
}

TEST(memplan_map_table_limit)
{
    /* 32 reserved pieces below 1 MiB and 32 in the MMIO hole, plus L1's RAM: 65 entries. */
    struct mmap_entry e[BOOT_MAX_MMAP];
    for (unsigned i = 0; i < 32; i++) {
        e[i] = (struct mmap_entry){0xa0000 + (uint64_t)i * 0x1000, 0x1000, MMAP_RESERVED};
        e[32 + i] = (struct mmap_entry){0xf0000000 + (uint64_t)i * 0x10000, 0x1000, MMAP_RESERVED};
    }
    host_map(e, 64);
    assert_false(l1_plan_memory(&bi, 16 * MiB, &plan));
    assert_string_equal(plan.error, "host memory map too fragmented to describe L1's memory");
    bi.mmap_count = 63; /* one fewer: 64 entries fit */
    assert_true(l1_plan_memory(&bi, 16 * MiB, &plan));
    assert_int_equal(plan.map_count, BOOT_MAX_MMAP);
}

TEST(memplan_clears_previous_plan)
{
    host_map(bochs, ARRAY_SIZE(bochs));
    memset(&plan, 0x77, sizeof plan);
    assert_true(l1_plan_memory(&bi, 64 * MiB, &plan));
    assert_string_equal(plan.error, "");
    assert_int_equal(plan.region_count, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memplan_bochs_map_64m),
        cmocka_unit_test(memplan_regions_never_overlap_ram_or_each_other),
        cmocka_unit_test(memplan_ram_trimmed_below_acpi_tables),
        cmocka_unit_test(memplan_ram_trimmed_below_pci_hole),
        cmocka_unit_test(memplan_ram_size_aligned_down_to_pages),
        cmocka_unit_test(memplan_too_little_ram),
        cmocka_unit_test(memplan_low_usable_clipped_at_vga),
        cmocka_unit_test(memplan_no_usable_memory_at_zero),
        cmocka_unit_test(memplan_low_usable_above_vga_dropped),
        cmocka_unit_test(memplan_acpi_below_1m_does_not_limit_ram),
        cmocka_unit_test(memplan_unaligned_acpi_widened_to_pages),
        cmocka_unit_test(memplan_unaligned_acpi_next_to_usable_ram_shrunk),
        cmocka_unit_test(memplan_reserved_ranges_only_in_the_mmio_hole),
        cmocka_unit_test(memplan_unsorted_host_map_gives_sorted_l1_map),
        cmocka_unit_test(memplan_region_table_limit),
        cmocka_unit_test(memplan_map_table_limit),
        cmocka_unit_test(memplan_clears_previous_plan),
    };
    return RUN_GROUP("l1_memplan", tests, NULL, NULL);
}
