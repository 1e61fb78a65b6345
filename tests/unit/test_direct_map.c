/* core/direct_map.c: the direct map covers all RAM the allocator hands out (issue 9 item 8: 512 GiB cap). */
#include "harness.h"
#include "nestor/direct_map.h"

TEST(direct_map_small_machine_keeps_4_gib)
{
    struct mmap_entry m[] = {{0, 0x9f000, MMAP_USABLE}, {0x100000, 255 * MiB, MMAP_USABLE}};
    assert_int_equal(direct_map_top(m, ARRAY_SIZE(m)), 4 * GiB);
    assert_int_equal(direct_map_slots(4 * GiB), 1);
}

TEST(direct_map_beyond_512_gib_uses_more_slots)
{
    struct mmap_entry m[] = {{0x100000, 3 * GiB, MMAP_USABLE},
                             {4 * GiB, 1020 * GiB, MMAP_USABLE},   /* RAM to 1 TiB */
                             {2048 * GiB, 1 * GiB, MMAP_RESERVED}}; /* never touched */
    uint64_t top = direct_map_top(m, ARRAY_SIZE(m));
    assert_int_equal(top, 1024 * GiB); /* was capped at 512 GiB */
    assert_int_equal(direct_map_slots(top), 2);
    assert_int_equal(direct_map_slots(513 * GiB), 2);
    assert_int_equal(direct_map_slots(512 * GiB), 1);
}

TEST(direct_map_capped_at_the_slots_it_has)
{
    struct mmap_entry m[] = {{0x100000, 3 * GiB, MMAP_USABLE}, {1ull << 47, 1ull << 40, MMAP_USABLE},
                             {~0ull - 0xfff, 0x10000, MMAP_ACPI_NVS}}; /* wraps */
    uint64_t top = direct_map_top(m, ARRAY_SIZE(m));
    assert_int_equal(top, DIRECT_MAP_MAX);
    assert_int_equal(direct_map_slots(top), DIRECT_MAP_SLOTS);
    /* Slot 511 (the image) stays outside. */
    assert_true(DIRECT_MAP_FIRST_SLOT + DIRECT_MAP_SLOTS <= 511);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(direct_map_small_machine_keeps_4_gib),
        cmocka_unit_test(direct_map_beyond_512_gib_uses_more_slots),
        cmocka_unit_test(direct_map_capped_at_the_slots_it_has),
    };
    return RUN_GROUP("direct_map", tests, NULL, NULL);
}
