/* vmx/xcr0.c: the XCR0 rules of XSETBV (issue 9 item 5: MPX and AMX pairs were missing). */
#include "harness.h"
#include "../../vmx/xcr0.h"

/* A CPU with x87, SSE, AVX, MPX, AVX-512, PKRU and AMX. */
#define ALL 0x602ffull

TEST(xcr0_valid_values_accepted)
{
    static const uint64_t ok[] = {0x1, 0x3, 0x7, 0x1f, 0xe7, 0xff, 0x207, 0x60007, 0x602ff};
    for (unsigned i = 0; i < ARRAY_SIZE(ok); i++)
        assert_null(xcr0_rule_broken(0, ok[i], ALL));
}

TEST(xcr0_mpx_halves_together)
{
    assert_string_equal(xcr0_rule_broken(0, 0x9, ALL), "XCR0[3] != XCR0[4] (MPX)");
    assert_string_equal(xcr0_rule_broken(0, 0x11, ALL), "XCR0[3] != XCR0[4] (MPX)");
}

TEST(xcr0_amx_halves_together)
{
    assert_string_equal(xcr0_rule_broken(0, 0x20007, ALL), "XCR0[17] != XCR0[18] (AMX)");
    assert_string_equal(xcr0_rule_broken(0, 0x40007, ALL), "XCR0[17] != XCR0[18] (AMX)");
}

TEST(xcr0_other_rules)
{
    assert_non_null(xcr0_rule_broken(1, 0x3, ALL));
    assert_non_null(xcr0_rule_broken(0, 0x2, ALL));
    assert_non_null(xcr0_rule_broken(0, 0x5, ALL));
    assert_non_null(xcr0_rule_broken(0, 0x27, ALL));
    assert_non_null(xcr0_rule_broken(0, 0xe3, ALL));
    assert_non_null(xcr0_rule_broken(0, 0x7, 0x3));
    assert_non_null(xcr0_rule_broken(0, 1ull << 40 | 1, ALL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xcr0_valid_values_accepted),
        cmocka_unit_test(xcr0_mpx_halves_together),
        cmocka_unit_test(xcr0_amx_halves_together),
        cmocka_unit_test(xcr0_other_rules),
    };
    return RUN_GROUP("xcr0", tests, NULL, NULL);
}
