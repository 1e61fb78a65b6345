/*
 * vmx/vmx_caps.c and vmx_apply_fixed (include/nestor/vmx.h): VM-execution
 * control values from the capability MSRs (SDM Appendix A.3-A.5), the
 * IA32_FEATURE_CONTROL decision (SDM 23.7) and the CR0/CR4 fixed bits
 * (SDM A.7, A.8), with the MSR values of Bochs' corei7_skylake_x CPU model.
 */
#include "harness.h"
#include "nestor/arch.h"
#include "nestor/vmx.h"
#include "nestor/vmx_arch.h"

#define BOCHS_PINBASED 0x0000007f00000016ull
#define BOCHS_TRUE_PROC 0xf7f9fffe04006172ull
#define BOCHS_PROCBASED 0xf7f9fffe0401e172ull
#define BOCHS_PROCBASED2 0x02177fff00000000ull
#define BOCHS_TRUE_EXIT 0x007fffff00036dfbull
#define BOCHS_TRUE_ENTRY 0x0000ffff000011fbull
#define BOCHS_CR0_FIXED0 0x80000021ull
#define BOCHS_CR0_FIXED1 0xffffffffull
#define BOCHS_CR4_FIXED0 0x2000ull
#define BOCHS_CR4_FIXED1 0x3727ffull

/* What vmx/vmcs01.c asks for. */
#define NEED_PROC (PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_SECONDARY_CONTROLS)
#define NEED_PROC2 (PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST)
#define WANT_PROC2 (PROC2_ENABLE_VPID | PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | PROC2_ENABLE_XSAVES)
#define NEED_EXIT (EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT)
#define NEED_ENTRY (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT)

static uint32_t value, missing;

static bool derive(uint64_t msr, uint32_t required, uint32_t optional)
{
    value = missing = 0xdeadbeef;
    return vmx_derive_controls(vmx_ctl_cap_from_msr(msr), required, optional, &value, &missing);
}

TEST(vmx_ctl_cap_split_from_msr)
{
    struct vmx_ctl_cap c = vmx_ctl_cap_from_msr(BOCHS_TRUE_PROC);
    assert_int_equal(c.allowed0, 0x04006172);
    assert_int_equal(c.allowed1, 0xf7f9fffe);
}

TEST(vmx_pin_based_defaults_forced_on)
{
    assert_true(derive(BOCHS_PINBASED, 0, 0));
    assert_int_equal(value, 0x16); /* the default1 bits 1, 2, 4 */
    assert_int_equal(missing, 0);
    assert_true(derive(BOCHS_PINBASED, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING, 0));
    assert_int_equal(value, 0x1f);
}

TEST(vmx_optional_bits_only_when_allowed)
{
    /* The preemption timer (bit 6) is offered, posted interrupts (bit 7) are not. */
    assert_true(derive(BOCHS_PINBASED, 0, PIN_PREEMPTION_TIMER | PIN_POSTED_INTR));
    assert_int_equal(value, 0x56);
    assert_int_equal(missing, 0);
}

TEST(vmx_missing_required_bits_reported)
{
    assert_false(derive(BOCHS_PINBASED, PIN_POSTED_INTR | PIN_EXT_INTR_EXITING, 0));
    assert_int_equal(missing, PIN_POSTED_INTR);
    assert_int_equal(value, 0x17); /* what could be had, without the missing bit */

    assert_false(derive(BOCHS_TRUE_PROC, NEED_PROC | PROC_MONITOR_TRAP_FLAG, 0));
    assert_int_equal(missing, PROC_MONITOR_TRAP_FLAG);

    assert_false(derive(BOCHS_PROCBASED2, NEED_PROC2 | PROC2_MODE_BASED_EPT_EXEC | PROC2_CONCEAL_FROM_PT, 0));
    assert_int_equal(missing, PROC2_MODE_BASED_EPT_EXEC | PROC2_CONCEAL_FROM_PT);
}

TEST(vmx_true_proc_lets_cr3_exiting_be_zero)
{
    assert_true(derive(BOCHS_TRUE_PROC, NEED_PROC, 0));
    assert_int_equal(value, 0x960061f2);
    assert_int_equal(value & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING), 0);
    assert_int_equal(value & NEED_PROC, NEED_PROC);
}

TEST(vmx_non_true_proc_forces_cr3_exiting)
{
    assert_true(derive(BOCHS_PROCBASED, NEED_PROC, 0));
    assert_int_equal(value, 0x9601e1f2);
    assert_int_equal(value & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING),
                     PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING);
}

TEST(vmx_secondary_controls_for_nestor)
{
    assert_true(derive(BOCHS_PROCBASED2, NEED_PROC2, WANT_PROC2));
    assert_int_equal(value, 0x1010aa);
    assert_true(derive(BOCHS_PROCBASED2, NEED_PROC2, PROC2_MODE_BASED_EPT_EXEC | PROC2_CONCEAL_FROM_PT));
    assert_int_equal(value, NEED_PROC2); /* neither optional bit is offered */
}

TEST(vmx_exit_and_entry_controls)
{
    assert_true(derive(BOCHS_TRUE_EXIT, NEED_EXIT, 0));
    assert_int_equal(value, 0x3f6ffb);
    assert_true(derive(BOCHS_TRUE_ENTRY, NEED_ENTRY, 0));
    assert_int_equal(value, 0xd1fb);
    assert_int_equal(value & ENTRY_IA32E_MODE_GUEST, 0); /* not forced: L1 starts outside long mode */
}

TEST(vmx_value_never_has_a_bit_the_cpu_forbids)
{
    /* An inconsistent capability (allowed-0 bit that allowed-1 forbids) still yields only allowed bits. */
    struct vmx_ctl_cap c = {.allowed0 = 0x3, .allowed1 = 0x1};
    assert_true(vmx_derive_controls(c, 0, 0xffffffff, &value, &missing));
    assert_int_equal(value, 0x1);
    /* Nothing allowed: every required bit is missing. */
    c = (struct vmx_ctl_cap){0, 0};
    assert_false(vmx_derive_controls(c, 0x80000001, 0x6, &value, &missing));
    assert_int_equal(missing, 0x80000001);
    assert_int_equal(value, 0);
}

TEST(vmx_feature_control_actions)
{
    assert_int_equal(vmx_feature_control_action(0), FC_SET_AND_LOCK);
    assert_int_equal(vmx_feature_control_action(FEATURE_CONTROL_VMX_OUTSIDE_SMX), FC_SET_AND_LOCK);
    assert_int_equal(vmx_feature_control_action(FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX), FC_READY);
    assert_int_equal(vmx_feature_control_action(0x5 | BIT(20)), FC_READY);
    assert_int_equal(vmx_feature_control_action(FEATURE_CONTROL_LOCK), FC_LOCKED_OFF);
    assert_int_equal(vmx_feature_control_action(FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_IN_SMX), FC_LOCKED_OFF);
    assert_int_equal(vmx_feature_control_action(~(uint64_t)FEATURE_CONTROL_VMX_OUTSIDE_SMX), FC_LOCKED_OFF);
}

TEST(vmx_apply_fixed_cr0_cr4)
{
    assert_int_equal(vmx_apply_fixed(CR0_ET, BOCHS_CR0_FIXED0, BOCHS_CR0_FIXED1), 0x80000031);
    assert_int_equal(vmx_apply_fixed(0xffffffffffffffffull, BOCHS_CR0_FIXED0, BOCHS_CR0_FIXED1), 0xffffffff);
    /* With unrestricted guest, PE and PG are not fixed for the guest. */
    uint64_t ug_fixed0 = BOCHS_CR0_FIXED0 & ~(CR0_PE | CR0_PG);
    assert_int_equal(vmx_apply_fixed(CR0_ET, ug_fixed0, BOCHS_CR0_FIXED1), CR0_ET | CR0_NE);
    assert_int_equal(vmx_apply_fixed(0, BOCHS_CR4_FIXED0, BOCHS_CR4_FIXED1), CR4_VMXE);
    assert_int_equal(vmx_apply_fixed(CR4_PAE | CR4_PGE, BOCHS_CR4_FIXED0, BOCHS_CR4_FIXED1),
                     CR4_PAE | CR4_PGE | CR4_VMXE);
    /* Bits FIXED1 does not allow (LA57, bit 12; SMXE, bit 14; PKE, bit 22) are cleared. */
    assert_int_equal(vmx_apply_fixed(BIT(12) | CR4_SMXE | CR4_PKE | CR4_PAE, BOCHS_CR4_FIXED0, BOCHS_CR4_FIXED1),
                     CR4_PAE | CR4_VMXE);
}

/* The refusal names exactly what is missing (Bochs models: lynnfield has EPT but no unrestricted guest). */
TEST(vmx_missing_secondary_names_the_feature)
{
    assert_null(vmx_missing_secondary(true, (uint32_t)(BOCHS_PROCBASED2 >> 32)));
    assert_string_equal(vmx_missing_secondary(true, 0x7f), "unrestricted guest"); /* corei5_lynnfield_750 */
    assert_string_equal(vmx_missing_secondary(true, PROC2_ENABLE_VPID), "EPT and unrestricted guest");
    assert_string_equal(vmx_missing_secondary(true, PROC2_UNRESTRICTED_GUEST), "EPT");
    assert_string_equal(vmx_missing_secondary(false, 0xffffffffu),
                        "secondary processor-based controls (hence EPT and unrestricted guest)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vmx_ctl_cap_split_from_msr),
        cmocka_unit_test(vmx_pin_based_defaults_forced_on),
        cmocka_unit_test(vmx_optional_bits_only_when_allowed),
        cmocka_unit_test(vmx_missing_required_bits_reported),
        cmocka_unit_test(vmx_true_proc_lets_cr3_exiting_be_zero),
        cmocka_unit_test(vmx_non_true_proc_forces_cr3_exiting),
        cmocka_unit_test(vmx_secondary_controls_for_nestor),
        cmocka_unit_test(vmx_exit_and_entry_controls),
        cmocka_unit_test(vmx_value_never_has_a_bit_the_cpu_forbids),
        cmocka_unit_test(vmx_feature_control_actions),
        cmocka_unit_test(vmx_apply_fixed_cr0_cr4),
        cmocka_unit_test(vmx_missing_secondary_names_the_feature),
    };
    return RUN_GROUP("vmx_caps", tests, NULL, NULL);
}
