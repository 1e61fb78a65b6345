/* vmx/io_split.c: one IN/OUT split per port owner (issue 9 item 13: `in ax,0x3f7`, `out 0xf2,eax`). */
#include "harness.h"
#include "../../vmx/io_split.h"

static const struct io_range ranges[] = {{0x3f8, 0x3ff}, {0xf4, 0xf7}, {0xcf8, 0xcff}};

TEST(io_split_inside_one_device)
{
    struct io_piece p[4];
    assert_int_equal(io_split(0x3f8, 1, ranges, ARRAY_SIZE(ranges), p), 1);
    assert_int_equal(p[0].port, 0x3f8);
    assert_int_equal(p[0].size, 1);
    assert_int_equal(p[0].owner, 0);
    assert_int_equal(io_split(0xcfc, 4, ranges, ARRAY_SIZE(ranges), p), 1);
    assert_int_equal(p[0].size, 4);
    assert_int_equal(p[0].owner, 2);
}

TEST(io_split_in_ax_0x3f7)
{
    struct io_piece p[4];
    assert_int_equal(io_split(0x3f7, 2, ranges, ARRAY_SIZE(ranges), p), 2);
    assert_int_equal(p[0].port, 0x3f7);
    assert_int_equal(p[0].size, 1);
    assert_int_equal(p[0].offset, 0);
    assert_int_equal(p[0].owner, IO_PASSTHROUGH);
    assert_int_equal(p[1].port, 0x3f8);
    assert_int_equal(p[1].size, 1);
    assert_int_equal(p[1].offset, 1);
    assert_int_equal(p[1].owner, 0);
}

TEST(io_split_out_0xf2_eax)
{
    struct io_piece p[4];
    assert_int_equal(io_split(0xf2, 4, ranges, ARRAY_SIZE(ranges), p), 2);
    assert_int_equal(p[0].port, 0xf2);
    assert_int_equal(p[0].size, 2);
    assert_int_equal(p[0].owner, IO_PASSTHROUGH);
    assert_int_equal(p[1].port, 0xf4);
    assert_int_equal(p[1].size, 2);
    assert_int_equal(p[1].offset, 2);
    assert_int_equal(p[1].owner, 1);
}

TEST(io_split_device_in_the_middle_and_wrap)
{
    static const struct io_range one[] = {{0x101, 0x102}};
    struct io_piece p[4];
    assert_int_equal(io_split(0x100, 4, one, 1, p), 3);
    assert_int_equal(p[0].owner, IO_PASSTHROUGH);
    assert_int_equal(p[1].port, 0x101);
    assert_int_equal(p[1].size, 2);
    assert_int_equal(p[2].port, 0x103);
    assert_int_equal(p[2].offset, 3);
    static const struct io_range top[] = {{0xfffe, 0xffff}};
    assert_int_equal(io_split(0xfffe, 4, top, 1, p), 2);
    assert_int_equal(p[0].size, 2);
    assert_int_equal(p[0].owner, 0);
    assert_int_equal(p[1].port, 0); /* the port number wraps */
    assert_int_equal(p[1].owner, IO_PASSTHROUGH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(io_split_inside_one_device),
        cmocka_unit_test(io_split_in_ax_0x3f7),
        cmocka_unit_test(io_split_out_0xf2_eax),
        cmocka_unit_test(io_split_device_in_the_middle_and_wrap),
    };
    return RUN_GROUP("io_split", tests, NULL, NULL);
}
