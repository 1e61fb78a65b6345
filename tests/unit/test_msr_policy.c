/*
 * nested/msr_policy.c: the MSR-load/-store areas of nested VMX follow exactly the
 * policy of L1's own RDMSR/WRMSR (core/vmsr.c and the MSR-bitmap ranges of SDM
 * 24.6.9), plus the MSRs SDM 26.4/27.4 forbid in an area.
 */
#include "harness.h"
#include "nestor/arch.h"
#include "nestor/msr_policy.h"
#include "nestor/vmsr.h"

/* An MSR outside both bitmap ranges: L1's WRMSR always exits and gets #GP from Nestor. */
TEST(msr_outside_bitmap_ranges_is_never_the_cpus)
{
    static const uint32_t outside[] = {0x2000, 0x40000000, 0x4b564d00, 0xc0002000, 0xc0010000, 0xc0010114, 0xffffffff};
    for (unsigned i = 0; i < ARRAY_SIZE(outside); i++) {
        assert_int_equal(msr_policy_path(outside[i], true), MSR_PATH_VIRTUAL);
        assert_int_equal(msr_policy_path(outside[i], false), MSR_PATH_VIRTUAL);
    }
}

TEST(msr_intercepted_ones_are_virtual)
{
    static const uint32_t msrs[] = {MSR_IA32_FEATURE_CONTROL, MSR_IA32_APIC_BASE, MSR_IA32_BIOS_UPDT_TRIG,
                                    MSR_IA32_SMM_MONITOR_CTL, MSR_IA32_VMX_BASIC, MSR_IA32_MTRR_DEF_TYPE};
    for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++) {
        assert_true(vmsr_intercepted(msrs[i], true));
        assert_int_equal(msr_policy_path(msrs[i], true), MSR_PATH_VIRTUAL);
    }
}

TEST(msr_passed_through_ones_reach_the_cpu)
{
    assert_int_equal(msr_policy_path(MSR_IA32_KERNEL_GS_BASE, true), MSR_PATH_CPU);
    assert_int_equal(msr_policy_path(0x10 /* TSC */, false), MSR_PATH_CPU);
    assert_int_equal(msr_policy_path(0xc0000103 /* TSC_AUX */, true), MSR_PATH_CPU);
}

TEST(msr_vmcs_switched_ones_go_to_the_vmcs)
{
    static const uint32_t msrs[] = {MSR_IA32_EFER, MSR_IA32_PAT, MSR_IA32_DEBUGCTL, MSR_IA32_SYSENTER_CS,
                                    MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP};
    for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++)
        assert_int_equal(msr_policy_path(msrs[i], true), MSR_PATH_VMCS);
}

TEST(msr_area_rules_of_26_4)
{
    assert_non_null(msr_policy_load_refused(MSR_IA32_FS_BASE));
    assert_non_null(msr_policy_load_refused(MSR_IA32_GS_BASE));
    assert_non_null(msr_policy_load_refused(0x800));
    assert_non_null(msr_policy_load_refused(0x8ff));
    assert_non_null(msr_policy_load_refused(MSR_IA32_SMM_MONITOR_CTL));
    assert_non_null(msr_policy_load_refused(MSR_IA32_SMBASE));
    assert_null(msr_policy_load_refused(0x7ff));
    assert_null(msr_policy_load_refused(0x900));
    assert_null(msr_policy_load_refused(MSR_IA32_KERNEL_GS_BASE));
    assert_non_null(msr_policy_store_refused(0x808));
    assert_non_null(msr_policy_store_refused(MSR_IA32_SMBASE));
    assert_null(msr_policy_store_refused(MSR_IA32_KERNEL_GS_BASE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(msr_outside_bitmap_ranges_is_never_the_cpus),
        cmocka_unit_test(msr_intercepted_ones_are_virtual),
        cmocka_unit_test(msr_passed_through_ones_reach_the_cpu),
        cmocka_unit_test(msr_vmcs_switched_ones_go_to_the_vmcs),
        cmocka_unit_test(msr_area_rules_of_26_4),
    };
    return RUN_GROUP("msr_policy", tests, NULL, NULL);
}
