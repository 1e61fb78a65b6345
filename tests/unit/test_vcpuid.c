/* vmx/vcpuid.c: CPUID as L1 sees it. */
#include "harness.h"
#include "nestor/vcpuid.h"

#define ALL ((struct cpuid_regs){0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff})
#define NONE ((struct cpuid_regs){0, 0, 0, 0})

static struct cpuid_regs filter(uint32_t leaf, uint32_t subleaf, struct cpuid_regs r, struct vcpuid_ctx c)
{
    vcpuid_filter(leaf, subleaf, &r, &c);
    return r;
}

static const struct vcpuid_ctx plain = {0};

TEST(vcpuid_leaf1_hides_and_sets)
{
    struct cpuid_regs r = filter(1, 0, ALL, plain);
    assert_int_equal(r.eax, 0xffffffff);
    assert_int_equal(r.ebx, 0xffffffff);
    /* Thermal monitor and ACPI thermal/clock control (EDX 29, 22): the platform's, not L1's; DS (EDX 21) absent. */
    assert_int_equal(r.edx, 0xffffffffu & ~(BIT(21) | BIT(22) | BIT(29)));
    /* DTES64 (2), MONITOR (3), DS-CPL (4), VMX (5), SMX (6), TM2 (8), PDCM (15), x2APIC (21) hidden; OSXSAVE (27)
     * follows CR4, which is 0. */
    assert_int_equal(r.ecx, 0xffffffffu & ~(BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(8) | BIT(15) | BIT(21) |
                                            BIT(27)));
    r = filter(1, 0, NONE, plain);
    assert_int_equal(r.ecx, BIT(31)); /* the hypervisor bit */
    assert_int_equal(r.eax | r.ebx | r.edx, 0);
}

TEST(vcpuid_osxsave_follows_guest_cr4)
{
    struct vcpuid_ctx c = {.guest_cr4 = CR4_OSXSAVE};
    assert_int_equal(filter(1, 0, NONE, c).ecx, BIT(31) | BIT(27));
    c.guest_cr4 = ~(uint64_t)CR4_OSXSAVE;
    assert_int_equal(filter(1, 0, ALL, c).ecx & BIT(27), 0);
}

TEST(vcpuid_monitor_leaf_zeroed)
{
    struct cpuid_regs r = filter(5, 0, ALL, plain);
    assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

TEST(vcpuid_leaf7_invpcid_waitpkg_ospke)
{
    struct cpuid_regs r = filter(7, 0, ALL, plain);
    assert_int_equal(r.eax, 0xffffffff);
    assert_int_equal(r.edx, 0xffffffffu & ~BIT(19)); /* architectural LBRs absent */
    assert_int_equal(r.ebx, 0xffffffffu & ~(BIT(10) | BIT(25))); /* INVPCID hidden: its control is off; no Intel PT */
    assert_int_equal(r.ecx, 0xffffffffu & ~(BIT(5) | BIT(4))); /* WAITPKG hidden; OSPKE: CR4.PKE is 0 */

    struct vcpuid_ctx c = {.invpcid = true, .guest_cr4 = CR4_PKE};
    r = filter(7, 0, ALL, c);
    assert_int_equal(r.ebx, 0xffffffffu & ~BIT(25));
    assert_int_equal(r.ecx, 0xffffffffu & ~BIT(5));

    /* OSPKE needs PKU (ecx bit 3) as well as CR4.PKE. */
    struct cpuid_regs no_pku = {0, 0, BIT(4), 0};
    assert_int_equal(filter(7, 0, no_pku, c).ecx, 0);
    struct cpuid_regs pku = {0, 0, BIT(3), 0};
    assert_int_equal(filter(7, 0, pku, c).ecx, BIT(3) | BIT(4));
}

TEST(vcpuid_leaf7_other_subleaves_untouched)
{
    struct cpuid_regs r = filter(7, 1, ALL, plain);
    assert_int_equal(r.eax & r.ebx & r.ecx & r.edx, 0xffffffff);
}

TEST(vcpuid_xsaves_follows_its_control)
{
    assert_int_equal(filter(0xd, 1, ALL, plain).eax, 0xffffffffu & ~BIT(3));
    struct vcpuid_ctx c = {.xsaves = true};
    assert_int_equal(filter(0xd, 1, ALL, c).eax, 0xffffffff);
    struct cpuid_regs r = filter(0xd, 0, ALL, plain);
    assert_int_equal(r.eax & r.ebx & r.ecx & r.edx, 0xffffffff);
}

TEST(vcpuid_rdtscp_follows_its_control)
{
    struct cpuid_regs r = filter(0x80000001, 0, ALL, plain);
    assert_int_equal(r.edx, 0xffffffffu & ~BIT(27));
    assert_int_equal(r.eax & r.ebx & r.ecx, 0xffffffff);
    struct vcpuid_ctx c = {.rdtscp = true};
    assert_int_equal(filter(0x80000001, 0, ALL, c).edx, 0xffffffff);
}

TEST(vcpuid_hypervisor_leaf_signature)
{
    struct cpuid_regs r = filter(HV_CPUID_LEAF, 0, ALL, plain);
    assert_int_equal(r.eax, 0x40000000);
    char sig[13];
    memcpy(sig, &r.ebx, 4);
    memcpy(sig + 4, &r.ecx, 4);
    memcpy(sig + 8, &r.edx, 4);
    sig[12] = 0;
    assert_string_equal(sig, "NestorNestor");
    assert_int_equal(r.ebx, 0x7473654e); /* "Nest" as a little-endian register */
}

TEST(vcpuid_other_hypervisor_leaves_zeroed)
{
    static const uint32_t leaves[] = {0x40000001, 0x40000003, 0x40000010, 0x400000ff};
    for (unsigned i = 0; i < ARRAY_SIZE(leaves); i++) {
        struct cpuid_regs r = filter(leaves[i], 0, ALL, plain);
        assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
    }
    struct cpuid_regs r = filter(0x40000100, 0, ALL, plain); /* outside the hypervisor range */
    assert_int_equal(r.eax & r.ebx & r.ecx & r.edx, 0xffffffff);
}

TEST(vcpuid_power_and_perfmon_leaves_hide_platform_features)
{
    struct cpuid_regs r = filter(6, 0, ALL, plain);
    /* DTS (0), PTM (6), HWP (7-11) and APERF/MPERF (ECX 0), energy bias (ECX 3) hidden; the rest kept. */
    assert_int_equal(r.eax, 0xffffffffu & ~(BIT(0) | BIT(6) | (0x1fu << 7)));
    assert_int_equal(r.ecx, 0xffffffffu & ~(BIT(0) | BIT(3)));
    assert_int_equal(r.ebx, 0xffffffff);
    r = filter(0xa, 0, ALL, plain);
    assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0); /* no architectural performance monitoring */
}

/* Intel PT and architectural LBRs: their MSRs #GP for L1, so CPUID must not announce them. */
TEST(vcpuid_trace_features_hidden)
{
    struct cpuid_regs r = filter(7, 0, ALL, plain);
    assert_int_equal(r.ebx & BIT(25), 0);
    assert_int_equal(r.edx & BIT(19), 0);
    r = filter(0x14, 0, ALL, plain);
    assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

TEST(vcpuid_unrelated_leaves_untouched)
{
    static const uint32_t leaves[] = {0, 2, 4, 0xb, 0x3fffffff, 0x80000000, 0x80000008, 0xffffffff};
    struct cpuid_regs in = {0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321};
    for (unsigned i = 0; i < ARRAY_SIZE(leaves); i++) {
        struct cpuid_regs r = filter(leaves[i], 3, in, plain);
        assert_bytes_equal(&r, &in, sizeof r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vcpuid_leaf1_hides_and_sets),
        cmocka_unit_test(vcpuid_osxsave_follows_guest_cr4),
        cmocka_unit_test(vcpuid_monitor_leaf_zeroed),
        cmocka_unit_test(vcpuid_leaf7_invpcid_waitpkg_ospke),
        cmocka_unit_test(vcpuid_leaf7_other_subleaves_untouched),
        cmocka_unit_test(vcpuid_xsaves_follows_its_control),
        cmocka_unit_test(vcpuid_rdtscp_follows_its_control),
        cmocka_unit_test(vcpuid_hypervisor_leaf_signature),
        cmocka_unit_test(vcpuid_other_hypervisor_leaves_zeroed),
        cmocka_unit_test(vcpuid_power_and_perfmon_leaves_hide_platform_features),
        cmocka_unit_test(vcpuid_unrelated_leaves_untouched),
        cmocka_unit_test(vcpuid_trace_features_hidden),
    };
    return RUN_GROUP("vcpuid", tests, NULL, NULL);
}
