/*
 * nested/nested_caps.c: the VMX capability MSRs Nestor offers L1 (SDM
 * Appendix A), computed from the values of Bochs' corei7_skylake_x CPU model.
 * Consistency is checked the way Linux KVM checks MSR values a VMM restores
 * (vmx_restore_control_msr): what is offered is a subset of the hardware's,
 * with allowed-0 bits a superset of the hardware's and within allowed-1.
 */
#include "harness.h"
#include "nestor/arch.h"
#include "nestor/nested_caps.h"
#include "nestor/vmcs12.h"
#include "nestor/vmx.h"
#include "nestor/vmx_arch.h"

/* Bochs corei7_skylake_x, MSRs 0x480-0x491 (0 where the MSR does not exist). */
static const uint64_t bochs[NESTED_CAP_MSR_COUNT] = {
    [0x0] = 0x00d810000000002bull, /* BASIC */
    [0x1] = 0x0000007f00000016ull, /* PINBASED */
    [0x2] = 0xf7f9fffe0401e172ull, /* PROCBASED */
    [0x3] = 0x007fffff00036dffull, /* EXIT */
    [0x4] = 0x0000ffff000011ffull, /* ENTRY */
    [0x5] = 0x00000000600401e0ull, /* MISC */
    [0x6] = 0x80000021ull,         /* CR0_FIXED0 */
    [0x7] = 0xffffffffull,         /* CR0_FIXED1 */
    [0x8] = 0x2000ull,             /* CR4_FIXED0 */
    [0x9] = 0x3727ffull,           /* CR4_FIXED1 */
    [0xa] = 0x34ull,               /* VMCS_ENUM */
    [0xb] = 0x02177fff00000000ull, /* PROCBASED2 */
    [0xc] = 0x00000f0106334141ull, /* EPT_VPID_CAP */
    [0xd] = 0x0000007f00000016ull, /* TRUE_PIN */
    [0xe] = 0xf7f9fffe04006172ull, /* TRUE_PROC */
    [0xf] = 0x007fffff00036dfbull, /* TRUE_EXIT */
    [0x10] = 0x0000ffff000011fbull, /* TRUE_ENTRY */
};

#define IDX(msr) ((msr) - NESTED_CAP_MSR_FIRST)

/* struct vmx_caps as vmx/vmx_cpu.c fills it on Bochs: TRUE MSRs for the controls. */
static struct vmx_caps bochs_caps(void)
{
    struct vmx_caps c;
    memset(&c, 0, sizeof c);
    c.basic = bochs[IDX(MSR_IA32_VMX_BASIC)];
    c.misc = bochs[IDX(MSR_IA32_VMX_MISC)];
    c.ept_vpid = bochs[IDX(MSR_IA32_VMX_EPT_VPID_CAP)];
    c.vmfunc = 0;
    c.vmcs_enum = bochs[IDX(MSR_IA32_VMX_VMCS_ENUM)];
    c.cr0_fixed0 = bochs[IDX(MSR_IA32_VMX_CR0_FIXED0)];
    c.cr0_fixed1 = bochs[IDX(MSR_IA32_VMX_CR0_FIXED1)];
    c.cr4_fixed0 = bochs[IDX(MSR_IA32_VMX_CR4_FIXED0)];
    c.cr4_fixed1 = bochs[IDX(MSR_IA32_VMX_CR4_FIXED1)];
    c.true_ctls = true;
    c.has_proc2 = true;
    c.pin = vmx_ctl_cap_from_msr(bochs[IDX(MSR_IA32_VMX_TRUE_PINBASED_CTLS)]);
    c.proc = vmx_ctl_cap_from_msr(bochs[IDX(MSR_IA32_VMX_TRUE_PROCBASED_CTLS)]);
    c.proc2 = vmx_ctl_cap_from_msr(bochs[IDX(MSR_IA32_VMX_PROCBASED_CTLS2)]);
    c.exit = vmx_ctl_cap_from_msr(bochs[IDX(MSR_IA32_VMX_TRUE_EXIT_CTLS)]);
    c.entry = vmx_ctl_cap_from_msr(bochs[IDX(MSR_IA32_VMX_TRUE_ENTRY_CTLS)]);
    return c;
}

static struct nested_caps caps;

static void compute(const struct vmx_caps *hw, bool ept)
{
    struct nested_options opt = {.ept = ept};
    memset(&caps, 0xa5, sizeof caps); /* garbage: compute must set everything */
    nested_caps_compute(hw, &opt, &caps);
}

static void compute_bochs(void)
{
    struct vmx_caps hw = bochs_caps();
    compute(&hw, false);
}

static uint64_t msr(uint32_t m)
{
    assert_true(caps.present[IDX(m)]);
    return caps.msr[IDX(m)];
}

static const uint32_t control_msrs[] = {
    MSR_IA32_VMX_PINBASED_CTLS,      MSR_IA32_VMX_PROCBASED_CTLS,      MSR_IA32_VMX_EXIT_CTLS,
    MSR_IA32_VMX_ENTRY_CTLS,         MSR_IA32_VMX_PROCBASED_CTLS2,     MSR_IA32_VMX_TRUE_PINBASED_CTLS,
    MSR_IA32_VMX_TRUE_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS,     MSR_IA32_VMX_TRUE_ENTRY_CTLS,
};

TEST(caps_basic)
{
    compute_bochs();
    uint64_t b = msr(MSR_IA32_VMX_BASIC);
    assert_int_equal(b & VMX_BASIC_REVISION_MASK, 0x4e53);
    assert_int_equal(b & BIT(31), 0);
    assert_int_equal(VMX_BASIC_REGION_SIZE(b), 4096);
    assert_int_equal(VMX_BASIC_MEMTYPE(b), MEMTYPE_WB);
    assert_true(b & VMX_BASIC_TRUE_CTLS);
    assert_int_equal(b & VMX_BASIC_PHYS32, 0); /* addresses are not limited to 32 bits */
    assert_true(b & VMX_BASIC_INS_OUTS_INFO);  /* Bochs reports it, so does Nestor */
    /* Bits 47:45 and 63:56 reserved, 49 (dual monitor) not offered. */
    assert_int_equal(b & (0xff00000000000000ull | (7ull << 45) | BIT(49)), 0);
    assert_int_equal(b, 0x00d8100000004e53ull);
}

TEST(caps_basic_ins_outs_follows_cpu)
{
    struct vmx_caps hw = bochs_caps();
    hw.basic &= ~VMX_BASIC_INS_OUTS_INFO;
    compute(&hw, false);
    assert_int_equal(msr(MSR_IA32_VMX_BASIC) & VMX_BASIC_INS_OUTS_INFO, 0);
    assert_true(msr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS);
}

TEST(caps_subset_of_hardware)
{
    compute_bochs();
    for (size_t i = 0; i < ARRAY_SIZE(control_msrs); i++) {
        uint32_t m = control_msrs[i];
        uint64_t o = msr(m), h = bochs[IDX(m)];
        uint32_t o0 = (uint32_t)o, o1 = (uint32_t)(o >> 32), h0 = (uint32_t)h, h1 = (uint32_t)(h >> 32);
        print_message("  MSR 0x%x offered 0x%016llx (hardware 0x%016llx)\n", m, (unsigned long long)o,
                      (unsigned long long)h);
        assert_int_equal(o1 & ~h1, 0);  /* nothing the CPU cannot do */
        assert_int_equal(h0 & ~o0, 0);  /* everything the CPU forces stays forced */
        assert_int_equal(o0 & ~o1, 0);  /* allowed-0 within allowed-1 */
    }
    /* The struct copies (what the entry checks enforce) are the TRUE MSRs. */
    assert_int_equal(msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS), ((uint64_t)caps.pin.allowed1 << 32) | caps.pin.allowed0);
    assert_int_equal(msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS), ((uint64_t)caps.proc.allowed1 << 32) | caps.proc.allowed0);
    assert_int_equal(msr(MSR_IA32_VMX_PROCBASED_CTLS2), ((uint64_t)caps.proc2.allowed1 << 32) | caps.proc2.allowed0);
    assert_int_equal(msr(MSR_IA32_VMX_TRUE_EXIT_CTLS), ((uint64_t)caps.exit.allowed1 << 32) | caps.exit.allowed0);
    assert_int_equal(msr(MSR_IA32_VMX_TRUE_ENTRY_CTLS), ((uint64_t)caps.entry.allowed1 << 32) | caps.entry.allowed0);
}

TEST(caps_exact_values_on_bochs)
{
    compute_bochs();
    /* Everything docs/NESTED.md lists as offered, nothing else. */
    assert_int_equal(msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS), 0x0000007f00000016ull);
    assert_int_equal(msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS), 0xf7f9fffe04006172ull); /* + use TPR shadow (21) */
    /* + virtualize APIC accesses (0), APIC-register virtualization (8), virtual-interrupt delivery (9) */
    assert_int_equal(msr(MSR_IA32_VMX_PROCBASED_CTLS2), 0x00011b6d00000000ull);
    assert_int_equal(msr(MSR_IA32_VMX_TRUE_EXIT_CTLS), 0x007fefff00036dfbull);
    assert_int_equal(msr(MSR_IA32_VMX_TRUE_ENTRY_CTLS), 0x0000d3ff000011fbull);
    assert_int_equal(msr(MSR_IA32_VMX_PINBASED_CTLS), 0x0000007f00000016ull);
    assert_int_equal(msr(MSR_IA32_VMX_PROCBASED_CTLS), 0xf7f9fffe0401e172ull);
    assert_int_equal(msr(MSR_IA32_VMX_EXIT_CTLS), 0x007fefff00036dffull);
    assert_int_equal(msr(MSR_IA32_VMX_ENTRY_CTLS), 0x0000d3ff000011ffull);
}

TEST(caps_never_offered)
{
    struct vmx_caps hw = bochs_caps();
    /* Even on a CPU that has everything. */
    hw.proc.allowed1 = hw.pin.allowed1 = hw.proc2.allowed1 = hw.exit.allowed1 = hw.entry.allowed1 = 0xffffffffu;
    compute(&hw, false);
    uint32_t p1 = (uint32_t)(msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) >> 32);
    uint32_t l1 = (uint32_t)(msr(MSR_IA32_VMX_PROCBASED_CTLS) >> 32);
    uint32_t s1 = (uint32_t)(msr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32);
    uint32_t pin1 = (uint32_t)(msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS) >> 32);
    uint32_t never_proc = PROC_MONITOR_TRAP_FLAG;
    /* Virtualize x2APIC mode acts through the MSR bitmap, which vmcs02 does not have. */
    uint32_t never_proc2 = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_VMCS_SHADOWING | PROC2_ENABLE_PML |
                           PROC2_ENABLE_VMFUNC | PROC2_VIRT_X2APIC | PROC2_EPT_VE | PROC2_ENABLE_XSAVES |
                           PROC2_TSC_SCALING | PROC2_MODE_BASED_EPT_EXEC;
    assert_int_equal(p1 & never_proc, 0);
    assert_int_equal(l1 & never_proc, 0);
    assert_int_equal(caps.proc.allowed1 & never_proc, 0);
    assert_int_equal(s1 & never_proc2, 0);
    assert_int_equal(caps.proc2.allowed1 & never_proc2, 0);
    assert_int_equal(pin1 & PIN_POSTED_INTR, 0);
    assert_int_equal((msr(MSR_IA32_VMX_TRUE_EXIT_CTLS) >> 32) & EXIT_LOAD_PERF_GLOBAL_CTRL, 0);
    assert_int_equal((msr(MSR_IA32_VMX_TRUE_ENTRY_CTLS) >> 32) & (ENTRY_SMM | ENTRY_DEACT_DUAL_MONITOR |
                                                                ENTRY_LOAD_PERF_GLOBAL_CTRL), 0);
    assert_int_equal(caps.v12_features & V12F_EPT, 0);
    /* Same on Bochs itself. */
    compute_bochs();
    assert_int_equal((msr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & never_proc2, 0);
    assert_int_equal((msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) >> 32) & never_proc, 0);
}

TEST(caps_ept_option_offers_ept_and_ug)
{
    struct vmx_caps hw = bochs_caps();
    compute(&hw, true);
    assert_true(caps.proc2.allowed1 & PROC2_ENABLE_EPT);
    assert_true(caps.proc2.allowed1 & PROC2_UNRESTRICTED_GUEST);
    assert_true(caps.v12_features & V12F_EPT);
    /* PML with it (Bochs has EPT A/D flags); the rest stays out even then. */
    assert_true(caps.proc2.allowed1 & PROC2_ENABLE_PML);
    assert_true(caps.v12_features & V12F_PML);
    assert_int_equal(caps.proc2.allowed1 & (PROC2_VMCS_SHADOWING | PROC2_ENABLE_VMFUNC), 0);
    assert_false(caps.present[IDX(MSR_IA32_VMX_VMFUNC)]);
}

TEST(caps_no_ept_ad_on_the_cpu_means_no_ad_and_no_pml)
{
    struct vmx_caps hw = bochs_caps();
    hw.ept_vpid &= ~EPT_CAP_AD; /* sandy_bridge: PML neither (a CPU with PML has A/D) */
    compute(&hw, true);
    assert_int_equal(msr(MSR_IA32_VMX_EPT_VPID_CAP) & EPT_CAP_AD, 0);
    assert_int_equal(caps.proc2.allowed1 & PROC2_ENABLE_PML, 0);
    assert_int_equal((msr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_ENABLE_PML, 0);
    assert_int_equal(caps.v12_features & V12F_PML, 0);
}

TEST(caps_nested_ept_capabilities)
{
    struct vmx_caps hw = bochs_caps();
    compute(&hw, true);
    uint64_t c = msr(MSR_IA32_VMX_EPT_VPID_CAP), h = bochs[IDX(MSR_IA32_VMX_EPT_VPID_CAP)];
    assert_int_equal(c & ~h, 0); /* nothing the CPU lacks */
    uint64_t need = EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL;
    assert_int_equal(c & need, need);
    assert_true(c & EPT_CAP_MEMTYPE_UC);
    assert_true(c & EPT_CAP_2MB_PAGE);
    assert_true(c & EPT_CAP_1GB_PAGE);
    assert_true(c & EPT_CAP_EXEC_ONLY);
    assert_true(c & EPT_CAP_AD); /* A/D flags emulated (nested/ept_ad.c) where the CPU has them */
    assert_int_equal(c & VPID_CAP_INVVPID, VPID_CAP_INVVPID);
    assert_int_equal(c, 0x00000f0106334141ull);
    assert_int_equal(caps.ept_vpid, c);
    assert_int_equal(caps.v12_features,
                     V12F_VPID | V12F_EPT | V12F_PREEMPT | V12F_PML | V12F_TPR | V12F_APIC_ACCESS | V12F_VID);
    assert_int_equal(msr(MSR_IA32_VMX_VMCS_ENUM), (uint64_t)vmcs12_max_index(caps.v12_features) << 1);
    /* Still a subset of the hardware everywhere, allowed-0 within allowed-1. */
    for (size_t i = 0; i < ARRAY_SIZE(control_msrs); i++) {
        uint64_t o = msr(control_msrs[i]), hw_msr = bochs[IDX(control_msrs[i])];
        assert_int_equal((uint32_t)(o >> 32) & ~(uint32_t)(hw_msr >> 32), 0);
        assert_int_equal((uint32_t)hw_msr & ~(uint32_t)o, 0);
        assert_int_equal((uint32_t)o & ~(uint32_t)(o >> 32), 0);
    }
}

TEST(caps_nested_ept_dropped_without_cpu_support)
{
    static const uint64_t needed[] = {EPT_CAP_WALK_4, EPT_CAP_MEMTYPE_WB, EPT_CAP_INVEPT, EPT_CAP_INVEPT_SINGLE,
                                      EPT_CAP_INVEPT_ALL};
    for (size_t i = 0; i < ARRAY_SIZE(needed); i++) {
        struct vmx_caps hw = bochs_caps();
        hw.ept_vpid &= ~needed[i];
        compute(&hw, true);
        assert_int_equal(caps.proc2.allowed1 & (PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST), 0);
        assert_int_equal(msr(MSR_IA32_VMX_EPT_VPID_CAP) & 0xffffffffull, 0);
        assert_true(msr(MSR_IA32_VMX_EPT_VPID_CAP) & VPID_CAP_INVVPID);
        assert_int_equal(caps.v12_features & V12F_EPT, 0);
    }
    /* A CPU without enable EPT in its secondary controls: no EPT bits at all. */
    struct vmx_caps hw = bochs_caps();
    hw.proc2.allowed1 &= ~(uint32_t)(PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST);
    compute(&hw, true);
    assert_int_equal(msr(MSR_IA32_VMX_EPT_VPID_CAP) & 0xffffffffull, 0);
    assert_int_equal(caps.v12_features & V12F_EPT, 0);
}

TEST(caps_vmcs_shadowing_offered_where_the_cpu_has_it)
{
    struct vmx_caps hw = bochs_caps(); /* skylake_x: has VMCS shadowing */
    struct nested_options opt = {.ept = true, .vmcs_shadowing = true};
    nested_caps_compute(&hw, &opt, &caps);
    assert_true(caps.proc2.allowed1 & PROC2_VMCS_SHADOWING);
    assert_true((msr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_VMCS_SHADOWING);
    assert_int_equal(caps.proc2.allowed0 & PROC2_VMCS_SHADOWING, 0);
    /* KVM uses shadow VMCSs only with VMWRITE to the exit-information fields (IA32_VMX_MISC[29]). */
    assert_true(msr(MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ANY_FIELD);
    assert_true(caps.v12_features & V12F_SHADOW);
    assert_true(vmcs12_slot_of(VMCS_VMREAD_BITMAP, caps.v12_features) >= 0);
    assert_true(vmcs12_slot_of(VMCS_VMWRITE_BITMAP, caps.v12_features) >= 0);
    /* A CPU without it (sandy_bridge): neither the control, nor MISC[29], nor the bitmap fields. */
    hw.proc2.allowed1 &= ~(uint32_t)PROC2_VMCS_SHADOWING;
    nested_caps_compute(&hw, &opt, &caps);
    assert_int_equal(caps.proc2.allowed1 & PROC2_VMCS_SHADOWING, 0);
    assert_int_equal(msr(MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ANY_FIELD, 0);
    assert_int_equal(caps.v12_features & V12F_SHADOW, 0);
    assert_int_equal(vmcs12_slot_of(VMCS_VMREAD_BITMAP, caps.v12_features), -1);
    /* Nor with vmcs_shadowing=0. */
    hw = bochs_caps();
    opt.vmcs_shadowing = false;
    nested_caps_compute(&hw, &opt, &caps);
    assert_int_equal(caps.proc2.allowed1 & PROC2_VMCS_SHADOWING, 0);
    assert_int_equal(msr(MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ANY_FIELD, 0);
}

TEST(caps_misc)
{
    compute_bochs();
    uint64_t m = msr(MSR_IA32_VMX_MISC);
    assert_int_equal(m & VMX_MISC_VMWRITE_ANY_FIELD, 0);
    assert_int_equal(m & BIT(30), 0);                /* zero-length injection */
    assert_true((m >> 16 & 0x1ff) <= 4);
    assert_int_equal((m >> 16) & 0x1ff, 4);          /* Bochs has 4 */
    assert_true(m & VMX_MISC_ACTIVITY_HLT);
    assert_int_equal(m & (BIT(7) | BIT(8)), 0);      /* shutdown, wait-for-SIPI */
    assert_true(m & BIT(5));                         /* EFER.LMA stored on exit */
    assert_int_equal(m >> 32, 0);                    /* no MSEG revision: no dual monitor */
    assert_int_equal(m, 0x40060);
    assert_int_equal(caps.misc, m);
}

TEST(caps_misc_cr3_targets_capped)
{
    struct vmx_caps hw = bochs_caps();
    hw.misc = (hw.misc & ~(0x1ffull << 16)) | (0x1ffull << 16);
    compute(&hw, false);
    assert_int_equal((msr(MSR_IA32_VMX_MISC) >> 16) & 0x1ff, 4);
    hw.misc = (hw.misc & ~(0x1ffull << 16)) | (2ull << 16);
    compute(&hw, false);
    assert_int_equal((msr(MSR_IA32_VMX_MISC) >> 16) & 0x1ff, 2);
    hw.misc = (hw.misc & ~(0x1ffull << 16));
    compute(&hw, false);
    assert_int_equal((msr(MSR_IA32_VMX_MISC) >> 16) & 0x1ff, 0);
}

TEST(caps_legacy_msrs_fix_default1)
{
    compute_bochs();
    uint64_t proc = msr(MSR_IA32_VMX_PROCBASED_CTLS), tproc = msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
    uint32_t cr3 = PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING;
    assert_int_equal(cr3, 0x18000);
    assert_int_equal((uint32_t)proc & cr3, cr3);  /* non-TRUE: fixed to 1 */
    assert_int_equal((uint32_t)tproc & cr3, 0);   /* TRUE: may be 0 */
    assert_int_equal((uint32_t)(tproc >> 32) & cr3, cr3);
    /* Every default1 class bit (SDM A.3.1-A.5) is allowed-0 in the non-TRUE MSRs. */
    assert_int_equal((uint32_t)msr(MSR_IA32_VMX_PINBASED_CTLS) & 0x16, 0x16);
    assert_int_equal((uint32_t)proc & 0x0401e172, 0x0401e172);
    assert_int_equal((uint32_t)msr(MSR_IA32_VMX_EXIT_CTLS) & 0x00036dff, 0x00036dff);
    assert_int_equal((uint32_t)msr(MSR_IA32_VMX_ENTRY_CTLS) & 0x000011ff, 0x000011ff);
    /* The TRUE ones let save/load debug controls be 0 (bit 2), as Bochs does. */
    assert_int_equal((uint32_t)msr(MSR_IA32_VMX_TRUE_EXIT_CTLS) & EXIT_SAVE_DEBUG_CONTROLS, 0);
    assert_int_equal((uint32_t)msr(MSR_IA32_VMX_TRUE_ENTRY_CTLS) & ENTRY_LOAD_DEBUG_CONTROLS, 0);
    /* A TRUE MSR never forces more than its non-TRUE twin (SDM A.2). */
    static const uint32_t pairs[][2] = {
        {MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS},
        {MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS},
        {MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS},
        {MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS},
    };
    for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
        uint64_t l = msr(pairs[i][0]), t = msr(pairs[i][1]);
        assert_int_equal((uint32_t)t & ~(uint32_t)l, 0);
        assert_int_equal((uint32_t)(t >> 32), (uint32_t)(l >> 32));
    }
}

/* 26.2.1.1: APIC-register virtualization and virtual-interrupt delivery need use TPR shadow. */
TEST(caps_apic_virtualization_follows_tpr_shadow)
{
    struct vmx_caps hw = bochs_caps();
    compute(&hw, false);
    uint32_t s1 = (uint32_t)(msr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32);
    assert_true((msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) >> 32) & PROC_TPR_SHADOW);
    assert_int_equal(s1 & (PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY),
                     PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY);
    assert_int_equal(s1 & PROC2_VIRT_X2APIC, 0);
    hw.proc.allowed1 &= ~(uint32_t)PROC_TPR_SHADOW;
    compute(&hw, false);
    s1 = (uint32_t)(msr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32);
    assert_int_equal((msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) >> 32) & PROC_TPR_SHADOW, 0);
    assert_int_equal(s1 & (PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY), 0);
    assert_true(s1 & PROC2_VIRT_APIC_ACCESSES); /* needs no TPR shadow */
    assert_int_equal(caps.v12_features & (V12F_TPR | V12F_VID), 0);
    assert_true(caps.v12_features & V12F_APIC_ACCESS);
    /* A CPU without the secondary controls offers none of them. */
    hw = bochs_caps();
    hw.proc2.allowed1 &= ~(uint32_t)(PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY);
    compute(&hw, false);
    assert_int_equal(caps.v12_features & (V12F_APIC_ACCESS | V12F_VID), 0);
    assert_true(caps.v12_features & V12F_TPR);
}

TEST(caps_vmcs_enum)
{
    compute_bochs();
    assert_int_equal(caps.v12_features, V12F_VPID | V12F_PREEMPT | V12F_TPR | V12F_APIC_ACCESS | V12F_VID);
    assert_int_equal(msr(MSR_IA32_VMX_VMCS_ENUM), (uint64_t)vmcs12_max_index(caps.v12_features) << 1);
    assert_int_equal(msr(MSR_IA32_VMX_VMCS_ENUM), 0x2e);
    assert_int_equal(msr(MSR_IA32_VMX_VMCS_ENUM) & ~0x3feull, 0);
}

TEST(caps_ept_vpid_cap)
{
    compute_bochs();
    uint64_t c = msr(MSR_IA32_VMX_EPT_VPID_CAP);
    assert_true(c & VPID_CAP_INVVPID);
    assert_int_equal(c & (BIT(40) | BIT(41) | BIT(42) | BIT(43)), BIT(40) | BIT(41) | BIT(42) | BIT(43));
    assert_int_equal(c & 0xffffffffull, 0); /* no EPT bits without nested EPT */
    assert_int_equal(c, 0x00000f0100000000ull);
    assert_true(caps.proc2.allowed1 & PROC2_ENABLE_VPID);
}

TEST(caps_vmfunc_absent_and_presence)
{
    compute_bochs();
    for (uint32_t m = MSR_IA32_VMX_BASIC; m <= MSR_IA32_VMX_TRUE_ENTRY_CTLS; m++)
        assert_true(caps.present[IDX(m)]);
    assert_false(caps.present[IDX(MSR_IA32_VMX_VMFUNC)]);
    assert_int_equal(caps.msr[IDX(MSR_IA32_VMX_VMFUNC)], 0);
}

TEST(caps_fixed_crs_are_the_cpus)
{
    compute_bochs();
    assert_int_equal(msr(MSR_IA32_VMX_CR0_FIXED0), 0x80000021);
    assert_int_equal(msr(MSR_IA32_VMX_CR0_FIXED1), 0xffffffff);
    assert_int_equal(msr(MSR_IA32_VMX_CR4_FIXED0), 0x2000);
    assert_int_equal(msr(MSR_IA32_VMX_CR4_FIXED1), 0x3727ff);
    assert_int_equal(caps.cr0_fixed0, 0x80000021);
    assert_int_equal(caps.cr4_fixed1, 0x3727ff);
}

static void check_no_secondary(void)
{
    assert_false(caps.present[IDX(MSR_IA32_VMX_PROCBASED_CTLS2)]);
    assert_false(caps.present[IDX(MSR_IA32_VMX_EPT_VPID_CAP)]);
    assert_false(caps.present[IDX(MSR_IA32_VMX_VMFUNC)]);
    assert_int_equal((msr(MSR_IA32_VMX_PROCBASED_CTLS) >> 32) & PROC_SECONDARY_CONTROLS, 0);
    assert_int_equal((msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) >> 32) & PROC_SECONDARY_CONTROLS, 0);
    assert_int_equal(caps.proc.allowed1 & PROC_SECONDARY_CONTROLS, 0);
    assert_int_equal(caps.proc2.allowed0, 0);
    assert_int_equal(caps.proc2.allowed1, 0);
    assert_int_equal(caps.ept_vpid, 0);
    assert_int_equal(caps.v12_features & (V12F_VPID | V12F_EPT), 0);
    assert_int_equal(msr(MSR_IA32_VMX_VMCS_ENUM), (uint64_t)vmcs12_max_index(caps.v12_features) << 1);
}

TEST(caps_cpu_without_secondary_controls)
{
    struct vmx_caps hw = bochs_caps();
    /* A real CPU without secondary controls: allowed-1 bit 31 is 0, no PROCBASED2. */
    hw.has_proc2 = false;
    hw.proc.allowed1 &= ~(uint32_t)PROC_SECONDARY_CONTROLS;
    hw.proc2 = (struct vmx_ctl_cap){0, 0};
    hw.ept_vpid = 0;
    compute(&hw, false);
    check_no_secondary();
    /* Same when only has_proc2 says so (the rest left over), and with nested EPT asked for. */
    hw = bochs_caps();
    hw.has_proc2 = false;
    compute(&hw, true);
    check_no_secondary();
}

TEST(caps_cpu_without_invvpid)
{
    struct vmx_caps hw = bochs_caps();
    hw.ept_vpid &= ~VPID_CAP_INVVPID;
    compute(&hw, false);
    assert_int_equal(caps.proc2.allowed1 & PROC2_ENABLE_VPID, 0);
    assert_int_equal((msr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_ENABLE_VPID, 0);
    assert_false(caps.present[IDX(MSR_IA32_VMX_EPT_VPID_CAP)]);
    assert_int_equal(caps.v12_features & V12F_VPID, 0);
    /* Other secondary controls are still offered. */
    assert_true(caps.proc2.allowed1 & PROC2_ENABLE_RDTSCP);
    assert_true((msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) >> 32) & PROC_SECONDARY_CONTROLS);
}

TEST(caps_cpu_without_preemption_timer)
{
    struct vmx_caps hw = bochs_caps();
    hw.pin.allowed1 &= ~(uint32_t)PIN_PREEMPTION_TIMER;
    hw.misc |= 5; /* a timer rate the CPU would report */
    compute(&hw, false);
    assert_int_equal(caps.pin.allowed1 & PIN_PREEMPTION_TIMER, 0);
    assert_int_equal(caps.exit.allowed1 & EXIT_SAVE_PREEMPTION_TIMER, 0);
    assert_int_equal((msr(MSR_IA32_VMX_EXIT_CTLS) >> 32) & EXIT_SAVE_PREEMPTION_TIMER, 0);
    assert_int_equal(msr(MSR_IA32_VMX_MISC) & 0x1f, 0);
    assert_int_equal(caps.v12_features & V12F_PREEMPT, 0);
    assert_int_equal(msr(MSR_IA32_VMX_VMCS_ENUM), 0x15 << 1);
    /* With the timer, its rate is passed on. */
    hw = bochs_caps();
    hw.misc |= 5;
    compute(&hw, false);
    assert_int_equal(msr(MSR_IA32_VMX_MISC) & 0x1f, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(caps_basic),
        cmocka_unit_test(caps_basic_ins_outs_follows_cpu),
        cmocka_unit_test(caps_subset_of_hardware),
        cmocka_unit_test(caps_exact_values_on_bochs),
        cmocka_unit_test(caps_never_offered),
        cmocka_unit_test(caps_ept_option_offers_ept_and_ug),
        cmocka_unit_test(caps_nested_ept_capabilities),
        cmocka_unit_test(caps_no_ept_ad_on_the_cpu_means_no_ad_and_no_pml),
        cmocka_unit_test(caps_nested_ept_dropped_without_cpu_support),
        cmocka_unit_test(caps_vmcs_shadowing_offered_where_the_cpu_has_it),
        cmocka_unit_test(caps_misc),
        cmocka_unit_test(caps_misc_cr3_targets_capped),
        cmocka_unit_test(caps_legacy_msrs_fix_default1),
        cmocka_unit_test(caps_apic_virtualization_follows_tpr_shadow),
        cmocka_unit_test(caps_vmcs_enum),
        cmocka_unit_test(caps_ept_vpid_cap),
        cmocka_unit_test(caps_vmfunc_absent_and_presence),
        cmocka_unit_test(caps_fixed_crs_are_the_cpus),
        cmocka_unit_test(caps_cpu_without_secondary_controls),
        cmocka_unit_test(caps_cpu_without_invvpid),
        cmocka_unit_test(caps_cpu_without_preemption_timer),
    };
    return RUN_GROUP("nested_caps", tests, NULL, NULL);
}
