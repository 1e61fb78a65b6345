/*
 * nested/entry_checks.c: the VM-entry checks on a vmcs12 (SDM 26.2.1.1-26.2.4
 * controls and host state, 26.3.1.1-26.3.1.5 guest state). A valid 64-bit L2
 * setup under the capabilities Nestor offers on Bochs' corei7_skylake_x passes
 * all three checks; each test then breaks one rule and expects the string that
 * names it (SDM section first).
 */
#include "harness.h"
#include "nestor/arch.h"
#include "nestor/entry_checks.h"
#include "nestor/nested_caps.h"
#include "nestor/vmcs12.h"
#include "nestor/vmx.h"
#include "nestor/vmx_arch.h"

/* ------------------------------------------------------------ capabilities (as in test_nested_caps) */

static struct vmx_caps bochs_hw(void)
{
    struct vmx_caps c;
    memset(&c, 0, sizeof c);
    c.basic = 0x00d810000000002bull;
    c.misc = 0x00000000600401e0ull;
    c.ept_vpid = 0x00000f0106334141ull;
    c.vmcs_enum = 0x34;
    c.cr0_fixed0 = 0x80000021ull;
    c.cr0_fixed1 = 0xffffffffull;
    c.cr4_fixed0 = 0x2000ull;
    c.cr4_fixed1 = 0x3727ffull;
    c.true_ctls = true;
    c.has_proc2 = true;
    c.pin = vmx_ctl_cap_from_msr(0x0000007f00000016ull);
    c.proc = vmx_ctl_cap_from_msr(0xf7f9fffe04006172ull);
    c.proc2 = vmx_ctl_cap_from_msr(0x02177fff00000000ull);
    c.exit = vmx_ctl_cap_from_msr(0x007fffff00036dfbull);
    c.entry = vmx_ctl_cap_from_msr(0x0000ffff000011fbull);
    return c;
}

static struct nested_caps caps;     /* opt.ept = false: what Nestor offers today */
static struct nested_caps caps_ept; /* opt.ept = true: EPT and unrestricted guest offered */
static struct entry_check_ctx ctx;
static struct vmcs12 v12;
static uint32_t qual;

#define MAXPHY_MASK ((1ull << 39) - 1)

/* ------------------------------------------------------------ a valid 64-bit L2 */

#define HOST_CR0 0x80050033ull /* PG AM WP NE ET MP PE */
#define HOST_CR4 (CR4_PAE | CR4_VMXE)
#define GUEST_CR0 0x80050033ull
#define GUEST_CR4 (CR4_PAE | CR4_VMXE)
#define CS_AR_64 0xa09bull   /* G, L, P, S, type 11 */
#define DATA_AR 0xc093ull    /* G, D/B, P, S, type 3 */
#define TR_AR 0x8bull        /* P, busy 64-bit TSS */
#define UNUSABLE 0x10000ull
#define PAT_DEFAULT 0x0007040600070406ull
#define EPTP_VALID (0x3000ull | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB)

#define SET(enc, val) (V12(&v12, enc) = (val))
#define GET(enc) V12(&v12, enc)

static void valid_setup(void)
{
    struct vmx_caps hw = bochs_hw();
    struct nested_options opt = {.ept = false};
    nested_caps_compute(&hw, &opt, &caps);
    opt.ept = true;
    nested_caps_compute(&hw, &opt, &caps_ept);
    ctx = (struct entry_check_ctx){.caps = &caps, .maxphyaddr_mask = MAXPHY_MASK, .l1_ia32e = true};
    qual = 0xdead;

    memset(&v12, 0, sizeof v12);
    v12.revision = VMCS12_REVISION;

    /* Controls: the forced bits plus what a small 64-bit L1 hypervisor asks for. */
    SET(VMCS_PIN_CONTROLS, caps.pin.allowed0 | PIN_EXT_INTR_EXITING | PIN_NMI_EXITING);
    SET(VMCS_PROC_CONTROLS, caps.proc.allowed0 | PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
                                PROC_SECONDARY_CONTROLS);
    SET(VMCS_PROC_CONTROLS2, PROC2_ENABLE_VPID | PROC2_ENABLE_RDTSCP);
    SET(VMCS_VPID, 1);
    SET(VMCS_EXIT_CONTROLS, caps.exit.allowed0 | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_PAT |
                                EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER);
    SET(VMCS_ENTRY_CONTROLS, caps.entry.allowed0 | ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER);
    SET(VMCS_IO_BITMAP_A, 0x10000);
    SET(VMCS_IO_BITMAP_B, 0x11000);
    SET(VMCS_MSR_BITMAP, 0x12000);
    SET(VMCS_EXIT_MSR_STORE_ADDR, 0x13000);
    SET(VMCS_EXIT_MSR_STORE_COUNT, 2);
    SET(VMCS_EXIT_MSR_LOAD_ADDR, 0x13100);
    SET(VMCS_EXIT_MSR_LOAD_COUNT, 1);
    SET(VMCS_ENTRY_MSR_LOAD_ADDR, 0x13200);
    SET(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
    SET(VMCS_CR3_TARGET_COUNT, 0);
    SET(VMCS_EXCEPTION_BITMAP, 1u << VEC_UD);
    SET(VMCS_EPT_POINTER, EPTP_VALID); /* looked at only when enable EPT is 1 */

    /* Host state: a 64-bit L1 kernel. */
    SET(VMCS_HOST_CR0, HOST_CR0);
    SET(VMCS_HOST_CR3, 0x1000000);
    SET(VMCS_HOST_CR4, HOST_CR4);
    SET(VMCS_HOST_CS_SEL, 0x10);
    SET(VMCS_HOST_SS_SEL, 0x18);
    SET(VMCS_HOST_DS_SEL, 0x18);
    SET(VMCS_HOST_ES_SEL, 0x18);
    SET(VMCS_HOST_FS_SEL, 0);
    SET(VMCS_HOST_GS_SEL, 0);
    SET(VMCS_HOST_TR_SEL, 0x28);
    SET(VMCS_HOST_FS_BASE, 0);
    SET(VMCS_HOST_GS_BASE, 0xffff888000010000ull);
    SET(VMCS_HOST_TR_BASE, 0xffff888000020000ull);
    SET(VMCS_HOST_GDTR_BASE, 0xffff888000030000ull);
    SET(VMCS_HOST_IDTR_BASE, 0xffff888000040000ull);
    SET(VMCS_HOST_SYSENTER_CS, 0x10);
    SET(VMCS_HOST_SYSENTER_ESP, 0xffff888000050000ull);
    SET(VMCS_HOST_SYSENTER_EIP, 0xffffffff81000000ull);
    SET(VMCS_HOST_EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE);
    SET(VMCS_HOST_PAT, PAT_DEFAULT);
    SET(VMCS_HOST_RSP, 0xffff888000060000ull);
    SET(VMCS_HOST_RIP, 0xffffffff81001000ull);

    /* Guest state: L2 in 64-bit mode at CPL 0. */
    SET(VMCS_GUEST_CR0, GUEST_CR0);
    SET(VMCS_GUEST_CR3, 0x2000000);
    SET(VMCS_GUEST_CR4, GUEST_CR4);
    SET(VMCS_GUEST_DR7, 0x400);
    SET(VMCS_GUEST_EFER, EFER_LME | EFER_LMA | EFER_SCE);
    SET(VMCS_GUEST_PAT, PAT_DEFAULT);
    SET(VMCS_GUEST_DEBUGCTL, 0);
    SET(VMCS_GUEST_CS_SEL, 0x10);
    SET(VMCS_GUEST_CS_AR, CS_AR_64);
    SET(VMCS_GUEST_CS_LIMIT, 0xffffffff);
    SET(VMCS_GUEST_CS_BASE, 0);
    static const uint32_t data_sel[] = {VMCS_GUEST_ES_SEL, VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL,
                                        VMCS_GUEST_FS_SEL, VMCS_GUEST_GS_SEL};
    static const uint32_t data_ar[] = {VMCS_GUEST_ES_AR, VMCS_GUEST_SS_AR, VMCS_GUEST_DS_AR, VMCS_GUEST_FS_AR,
                                       VMCS_GUEST_GS_AR};
    static const uint32_t data_limit[] = {VMCS_GUEST_ES_LIMIT, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,
                                          VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT};
    for (size_t i = 0; i < ARRAY_SIZE(data_sel); i++) {
        assert_int_equal(vmcs12_write(&v12, data_sel[i], caps.v12_features, false, 0x18), V12_OK);
        assert_int_equal(vmcs12_write(&v12, data_ar[i], caps.v12_features, false, DATA_AR), V12_OK);
        assert_int_equal(vmcs12_write(&v12, data_limit[i], caps.v12_features, false, 0xffffffff), V12_OK);
    }
    SET(VMCS_GUEST_FS_BASE, 0x7f0000001000ull);
    SET(VMCS_GUEST_GS_BASE, 0xffff888000070000ull);
    SET(VMCS_GUEST_TR_SEL, 0x28);
    SET(VMCS_GUEST_TR_AR, TR_AR);
    SET(VMCS_GUEST_TR_LIMIT, 0x67);
    SET(VMCS_GUEST_TR_BASE, 0xffff888000080000ull);
    SET(VMCS_GUEST_LDTR_SEL, 0);
    SET(VMCS_GUEST_LDTR_AR, UNUSABLE);
    SET(VMCS_GUEST_GDTR_BASE, 0xffff888000090000ull);
    SET(VMCS_GUEST_GDTR_LIMIT, 0x57);
    SET(VMCS_GUEST_IDTR_BASE, 0xffff8880000a0000ull);
    SET(VMCS_GUEST_IDTR_LIMIT, 0xfff);
    SET(VMCS_GUEST_RIP, 0xffffffff80100000ull);
    SET(VMCS_GUEST_RSP, 0xffff8880000b0000ull);
    SET(VMCS_GUEST_RFLAGS, 2);
    SET(VMCS_GUEST_SYSENTER_ESP, 0);
    SET(VMCS_GUEST_SYSENTER_EIP, 0);
    SET(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    SET(VMCS_GUEST_INTERRUPTIBILITY, 0);
    SET(VMCS_GUEST_PENDING_DBG, 0);
    SET(VMCS_LINK_POINTER, ~0ull);
}

static int setup(void **state UNUSED)
{
    valid_setup();
    return 0;
}

/* Use the capabilities with nested EPT (to reach rules about unrestricted guest). */
static void use_ept_caps(void) { ctx.caps = &caps_ept; }

/* Enable EPT in vmcs12 under the capabilities that offer it. */
static void enable_ept(void)
{
    use_ept_caps();
    SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) | PROC2_ENABLE_EPT);
}

/* Enable EPT and unrestricted guest. */
static void enable_ug(void)
{
    enable_ept();
    SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) | PROC2_UNRESTRICTED_GUEST);
}

/* Make the setup a 32-bit (non-IA-32e) L1 host that enters a 32-bit protected-mode guest. */
static void make_32bit(void)
{
    ctx.l1_ia32e = false;
    SET(VMCS_EXIT_CONTROLS, GET(VMCS_EXIT_CONTROLS) & ~EXIT_HOST_ADDR_SPACE_SIZE);
    SET(VMCS_ENTRY_CONTROLS, GET(VMCS_ENTRY_CONTROLS) & ~ENTRY_IA32E_MODE_GUEST);
    SET(VMCS_HOST_EFER, EFER_NXE);
    SET(VMCS_HOST_RIP, 0xc1001000);
    SET(VMCS_HOST_CR4, CR4_PAE | CR4_VMXE);
    SET(VMCS_HOST_FS_BASE, 0);
    SET(VMCS_HOST_GS_BASE, 0);
    SET(VMCS_GUEST_EFER, 0);
    SET(VMCS_GUEST_CS_AR, 0xc09b); /* 32-bit code, D = 1, L = 0 */
    SET(VMCS_GUEST_TR_AR, TR_AR);
    SET(VMCS_GUEST_RIP, 0xc0100000);
    SET(VMCS_GUEST_FS_BASE, 0);
    SET(VMCS_GUEST_GS_BASE, 0);
    SET(VMCS_GUEST_TR_BASE, 0);
}

/* Guest at CPL 3 in 64-bit mode. */
static void make_user_guest(void)
{
    SET(VMCS_GUEST_CS_SEL, 0x33);
    SET(VMCS_GUEST_CS_AR, 0xa0fb);
    SET(VMCS_GUEST_SS_SEL, 0x2b);
    SET(VMCS_GUEST_SS_AR, 0xc0f3);
}

static const char *controls(void) { return entry_check_controls(&v12, &ctx); }
static const char *host(void) { return entry_check_host_state(&v12, &ctx); }
static const char *guest(void) { return entry_check_guest_state(&v12, &ctx, &qual); }

/* The controls pass (the failing rule is printed otherwise). */
static void assert_controls_pass(void)
{
    const char *r = controls();
    if (r)
        print_error("controls fail: %s\n", r);
    assert_null(r);
}

/* All three pass. */
static void assert_valid(void)
{
    const char *r = controls();
    if (r)
        print_error("controls: %s\n", r);
    assert_null(r);
    r = host();
    if (r)
        print_error("host state: %s\n", r);
    assert_null(r);
    r = guest();
    if (r)
        print_error("guest state: %s\n", r);
    assert_null(r);
    assert_int_equal(qual, 0);
}

static void assert_rule(const char *got, const char *section, const char *words)
{
    if (!got) {
        print_error("expected a failure of \"%s ... %s\", all checks passed\n", section, words);
        fail();
    }
    if (strncmp(got, section, strlen(section)) != 0 || got[strlen(section)] != ' ') {
        print_error("rule \"%s\"\n    does not begin with section \"%s\"\n", got, section);
        fail();
    }
    assert_str_contains(got, words);
}

/* The controls fail with this rule. */
#define CONTROLS_FAIL(section, words) assert_rule(controls(), section, words)
/* Controls pass; host state fails with this rule. */
#define HOST_FAIL(section, words)                                                                  \
    do {                                                                                           \
        assert_null(controls());                                                                   \
        assert_rule(host(), section, words);                                                       \
    } while (0)
/* Controls and host state pass; guest state fails with this rule (qualification 0). */
#define GUEST_FAIL(section, words)                                                                 \
    do {                                                                                           \
        assert_null(controls());                                                                   \
        assert_null(host());                                                                       \
        assert_rule(guest(), section, words);                                                      \
        assert_int_equal(qual, 0);                                                                 \
    } while (0)

#define INTR(type, vec) (INTR_INFO_VALID | ((uint32_t)(type) << 8) | (vec))

/* ------------------------------------------------------------ the valid setups */

TEST(valid_64bit_setup_passes)
{
    assert_valid();
}

TEST(valid_variants_pass)
{
    /* 32-bit host and guest. */
    make_32bit();
    assert_valid();
    valid_setup();
    /* L2 at CPL 3. */
    make_user_guest();
    assert_valid();
    valid_setup();
    /* Secondary controls are ignored when not activated, whatever the field holds. */
    SET(VMCS_PROC_CONTROLS, GET(VMCS_PROC_CONTROLS) & ~PROC_SECONDARY_CONTROLS);
    SET(VMCS_PROC_CONTROLS2, 0xffffffff);
    SET(VMCS_VPID, 0);
    assert_valid();
    valid_setup();
    /* MSR areas with count 0 are not checked; bitmaps not used are not checked. */
    SET(VMCS_EXIT_MSR_STORE_COUNT, 0);
    SET(VMCS_EXIT_MSR_STORE_ADDR, 0xfff);
    SET(VMCS_PROC_CONTROLS, GET(VMCS_PROC_CONTROLS) & ~(PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS));
    SET(VMCS_IO_BITMAP_A, 0x123);
    SET(VMCS_MSR_BITMAP, ~0ull);
    assert_valid();
    valid_setup();
    /* Unusable data segments are not checked; SS may be unusable in 64-bit mode. */
    SET(VMCS_GUEST_DS_AR, UNUSABLE | 0xfffe0f00);
    SET(VMCS_GUEST_ES_SEL, 0);
    SET(VMCS_GUEST_ES_AR, UNUSABLE);
    SET(VMCS_GUEST_ES_BASE, 0xdead00000000ull);
    SET(VMCS_GUEST_SS_AR, UNUSABLE);
    assert_valid();
    valid_setup();
    /* HLT state with NMI and #DB injection; injected external interrupt with IF = 1. */
    SET(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_NMI, 2));
    assert_valid();
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, VEC_DB));
    assert_valid();
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_EXT_INTR, 0x30));
    SET(VMCS_GUEST_RFLAGS, 2 | RFLAGS_IF);
    assert_valid();
    valid_setup();
    /* A #PF with an error code, a software interrupt with its length. */
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, VEC_PF) | INTR_INFO_ERROR_CODE_VALID);
    SET(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0x7);
    assert_valid();
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_SW_INTR, 0x80));
    SET(VMCS_ENTRY_INSTRUCTION_LEN, 2);
    assert_valid();
    valid_setup();
    /* A link pointer that is aligned and within the address width (its revision is the caller's check). */
    SET(VMCS_LINK_POINTER, 0x5000);
    assert_valid();
}

TEST(valid_unrestricted_guest_in_real_mode)
{
    make_32bit();
    enable_ug();
    SET(VMCS_GUEST_CR0, CR0_NE | CR0_ET);
    SET(VMCS_GUEST_CR4, CR4_VMXE);
    SET(VMCS_GUEST_CS_SEL, 0xf000);
    SET(VMCS_GUEST_CS_BASE, 0xf0000);
    SET(VMCS_GUEST_CS_LIMIT, 0xffff);
    SET(VMCS_GUEST_CS_AR, 0x9b);
    static const uint32_t sels[] = {VMCS_GUEST_ES_SEL, VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL, VMCS_GUEST_FS_SEL,
                                    VMCS_GUEST_GS_SEL};
    for (size_t i = 0; i < ARRAY_SIZE(sels); i++)
        assert_int_equal(vmcs12_write(&v12, sels[i], 0, false, 0), V12_OK);
    SET(VMCS_GUEST_SS_AR, 0x93);
    SET(VMCS_GUEST_SS_LIMIT, 0xffff);
    SET(VMCS_GUEST_DS_AR, 0x93);
    SET(VMCS_GUEST_DS_LIMIT, 0xffff);
    SET(VMCS_GUEST_ES_AR, 0x93);
    SET(VMCS_GUEST_ES_LIMIT, 0xffff);
    SET(VMCS_GUEST_FS_AR, 0x93);
    SET(VMCS_GUEST_FS_LIMIT, 0xffff);
    SET(VMCS_GUEST_GS_AR, 0x93);
    SET(VMCS_GUEST_GS_LIMIT, 0xffff);
    SET(VMCS_GUEST_RIP, 0xfff0);
    assert_valid();
    /* Real mode: #GP is injected without an error code. */
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, VEC_GP));
    assert_valid();
}

/* ------------------------------------------------------------ 26.2.1.1 VM-execution control fields */

TEST(ctl_pin_based_default1_cleared)
{
    SET(VMCS_PIN_CONTROLS, GET(VMCS_PIN_CONTROLS) & ~0x2ull);
    CONTROLS_FAIL("26.2.1.1", "pin-based controls");
}

TEST(ctl_pin_based_posted_interrupts)
{
    SET(VMCS_PIN_CONTROLS, GET(VMCS_PIN_CONTROLS) | PIN_POSTED_INTR);
    CONTROLS_FAIL("26.2.1.1", "pin-based controls");
}

/* ------------------------------------------------------------ APIC virtualization (26.2.1.1) */

static void tpr_shadow(uint64_t threshold, uint8_t vtpr)
{
    SET(VMCS_PROC_CONTROLS, GET(VMCS_PROC_CONTROLS) | PROC_TPR_SHADOW);
    SET(VMCS_VIRTUAL_APIC_ADDR, 0x5000);
    SET(VMCS_TPR_THRESHOLD, threshold);
    ctx.vtpr = vtpr;
}

static void secondary(uint32_t bits) { SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) | bits); }

TEST(ctl_tpr_shadow_valid)
{
    tpr_shadow(4, 0x50);
    assert_null(controls());
    tpr_shadow(5, 0x5f); /* threshold 3:0 equal to VTPR 7:4 */
    assert_null(controls());
}

TEST(ctl_virtual_apic_address_unaligned)
{
    tpr_shadow(0, 0);
    SET(VMCS_VIRTUAL_APIC_ADDR, 0x5080);
    CONTROLS_FAIL("26.2.1.1", "virtual-APIC address must be 4-KByte aligned");
}

TEST(ctl_virtual_apic_address_beyond_width)
{
    tpr_shadow(0, 0);
    SET(VMCS_VIRTUAL_APIC_ADDR, 1ull << 39);
    CONTROLS_FAIL("26.2.1.1", "virtual-APIC address must be 4-KByte aligned");
}

TEST(ctl_tpr_threshold_bits_31_4)
{
    tpr_shadow(0x10, 0xff);
    CONTROLS_FAIL("26.2.1.1", "TPR threshold bits 31:4 must be 0");
    /* With virtual-interrupt delivery bits 31:4 are not checked (and 3:0 not against VTPR). */
    secondary(PROC2_VIRT_INTR_DELIVERY);
    tpr_shadow(0x1f, 0);
    assert_null(controls());
}

TEST(ctl_tpr_threshold_above_vtpr)
{
    tpr_shadow(6, 0x5f);
    CONTROLS_FAIL("26.2.1.1", "TPR threshold bits 3:0 must not exceed VTPR bits 7:4");
    /* Not checked with virtualize APIC accesses. */
    secondary(PROC2_VIRT_APIC_ACCESSES);
    SET(VMCS_APIC_ACCESS_ADDR, 0x6000);
    assert_null(controls());
}

TEST(ctl_apic_register_virtualization_needs_tpr_shadow)
{
    secondary(PROC2_APIC_REG_VIRT);
    CONTROLS_FAIL("26.2.1.1", "require use TPR shadow");
}

TEST(ctl_virtual_interrupt_delivery_needs_tpr_shadow)
{
    secondary(PROC2_VIRT_INTR_DELIVERY);
    CONTROLS_FAIL("26.2.1.1", "require use TPR shadow");
}

TEST(ctl_virtual_interrupt_delivery_needs_external_interrupt_exiting)
{
    tpr_shadow(0, 0);
    secondary(PROC2_VIRT_INTR_DELIVERY | PROC2_APIC_REG_VIRT);
    assert_null(controls());
    SET(VMCS_PIN_CONTROLS, GET(VMCS_PIN_CONTROLS) & ~(uint64_t)PIN_EXT_INTR_EXITING);
    CONTROLS_FAIL("26.2.1.1", "virtual-interrupt delivery requires external-interrupt exiting");
}

TEST(ctl_apic_access_address_unaligned)
{
    secondary(PROC2_VIRT_APIC_ACCESSES);
    SET(VMCS_APIC_ACCESS_ADDR, 0x6008);
    CONTROLS_FAIL("26.2.1.1", "APIC-access address must be 4-KByte aligned");
    SET(VMCS_APIC_ACCESS_ADDR, 0x6000);
    assert_null(controls()); /* needs no TPR shadow */
}

TEST(ctl_virtualize_x2apic_not_offered)
{
    tpr_shadow(0, 0);
    secondary(PROC2_VIRT_X2APIC);
    CONTROLS_FAIL("26.2.1.1", "secondary processor-based controls");
}

TEST(ctl_primary_mtf_not_offered)
{
    SET(VMCS_PROC_CONTROLS, GET(VMCS_PROC_CONTROLS) | PROC_MONITOR_TRAP_FLAG);
    CONTROLS_FAIL("26.2.1.1", "primary processor-based controls");
}

TEST(ctl_secondary_ept_not_offered)
{
    SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) | PROC2_ENABLE_EPT);
    CONTROLS_FAIL("26.2.1.1", "secondary processor-based controls");
}

TEST(ctl_secondary_vmcs_shadowing_not_offered)
{
    SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) | PROC2_VMCS_SHADOWING);
    CONTROLS_FAIL("26.2.1.1", "secondary processor-based controls");
}

/* 26.2.1.1: with VMCS shadowing (offered where the CPU has it), the VMREAD/VMWRITE bitmap addresses. */
TEST(ctl_vmcs_shadowing_bitmap_addresses)
{
    static struct nested_caps caps_shadow;
    struct vmx_caps hw = bochs_hw();
    struct nested_options opt = {.ept = false, .vmcs_shadowing = true};
    nested_caps_compute(&hw, &opt, &caps_shadow);
    ctx.caps = &caps_shadow;
    SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) | PROC2_VMCS_SHADOWING);
    SET(VMCS_VMREAD_BITMAP, 0x20000);
    SET(VMCS_VMWRITE_BITMAP, 0x21000);
    assert_null(controls());
    SET(VMCS_VMREAD_BITMAP, 0x20008);
    CONTROLS_FAIL("26.2.1.1", "VMREAD- and VMWRITE-bitmap addresses");
    SET(VMCS_VMREAD_BITMAP, 0x20000);
    SET(VMCS_VMWRITE_BITMAP, 1ull << 39);
    CONTROLS_FAIL("26.2.1.1", "VMREAD- and VMWRITE-bitmap addresses");
    /* Without the control the bitmap fields are not looked at. */
    SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) & ~PROC2_VMCS_SHADOWING);
    assert_null(controls());
}

TEST(ctl_cr3_target_count)
{
    SET(VMCS_CR3_TARGET_COUNT, 4);
    assert_null(controls());
    SET(VMCS_CR3_TARGET_COUNT, 5);
    CONTROLS_FAIL("26.2.1.1", "CR3-target count");
}

TEST(ctl_io_bitmap_a_unaligned)
{
    SET(VMCS_IO_BITMAP_A, 0x10800);
    CONTROLS_FAIL("26.2.1.1", "I/O bitmap addresses");
}

TEST(ctl_io_bitmap_b_beyond_width)
{
    SET(VMCS_IO_BITMAP_B, 1ull << 39);
    CONTROLS_FAIL("26.2.1.1", "I/O bitmap addresses");
}

TEST(ctl_msr_bitmap)
{
    SET(VMCS_MSR_BITMAP, 0x12008);
    CONTROLS_FAIL("26.2.1.1", "MSR-bitmap address");
    SET(VMCS_MSR_BITMAP, 0x8000000000ull);
    CONTROLS_FAIL("26.2.1.1", "MSR-bitmap address");
}

TEST(ctl_virtual_nmis_need_nmi_exiting)
{
    SET(VMCS_PIN_CONTROLS, (GET(VMCS_PIN_CONTROLS) & ~PIN_NMI_EXITING) | PIN_VIRTUAL_NMIS);
    CONTROLS_FAIL("26.2.1.1", "virtual NMIs require NMI exiting");
}

TEST(ctl_nmi_window_needs_virtual_nmis)
{
    SET(VMCS_PROC_CONTROLS, GET(VMCS_PROC_CONTROLS) | PROC_NMI_WINDOW_EXITING);
    CONTROLS_FAIL("26.2.1.1", "NMI-window exiting requires virtual NMIs");
    SET(VMCS_PIN_CONTROLS, GET(VMCS_PIN_CONTROLS) | PIN_VIRTUAL_NMIS);
    assert_null(controls());
}

TEST(ctl_vpid_zero)
{
    SET(VMCS_VPID, 0);
    CONTROLS_FAIL("26.2.1.1", "VPID must not be 0");
    assert_string_equal(controls(), "26.2.1.1 VPID must not be 0 when enable VPID is 1");
    /* Without enable VPID, VPID 0 is fine. */
    SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) & ~PROC2_ENABLE_VPID);
    assert_null(controls());
}

TEST(ctl_unrestricted_guest_needs_ept)
{
    use_ept_caps();
    SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) | PROC2_UNRESTRICTED_GUEST);
    CONTROLS_FAIL("26.2.1.1", "unrestricted guest requires enable EPT");
}

TEST(ctl_ept_valid_eptp)
{
    enable_ept();
    assert_valid();
    SET(VMCS_EPT_POINTER, 0x3000ull | EPTP_WALK_LENGTH_4 | MEMTYPE_UC); /* UC is offered too */
    assert_null(controls());
}

TEST(ctl_ept_not_without_caps)
{
    /* With Nestor's default capabilities (no nested EPT), enable EPT fails the control check. */
    SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) | PROC2_ENABLE_EPT);
    CONTROLS_FAIL("26.2.1.1", "secondary processor-based controls");
}

TEST(ctl_eptp_memory_type)
{
    enable_ept();
    SET(VMCS_EPT_POINTER, 0x3000ull | EPTP_WALK_LENGTH_4 | MEMTYPE_WT);
    CONTROLS_FAIL("26.2.1.1", "EPTP memory type");
}

TEST(ctl_eptp_walk_length)
{
    enable_ept();
    SET(VMCS_EPT_POINTER, 0x3000ull | (2ull << 3) | EPTP_MEMTYPE_WB);
    CONTROLS_FAIL("26.2.1.1", "EPTP page-walk length must be 4");
}

TEST(ctl_eptp_ad_not_offered)
{
    enable_ept();
    caps_ept.ept_vpid &= ~EPT_CAP_AD; /* a CPU without EPT A/D flags (sandy_bridge) */
    SET(VMCS_EPT_POINTER, EPTP_VALID | EPTP_AD_ENABLE);
    CONTROLS_FAIL("26.2.1.1", "accessed/dirty");
}

TEST(ctl_eptp_ad_offered)
{
    enable_ept();
    assert_true(caps_ept.ept_vpid & EPT_CAP_AD);
    SET(VMCS_EPT_POINTER, EPTP_VALID | EPTP_AD_ENABLE);
    assert_null(controls());
}

static void enable_pml(uint64_t addr)
{
    enable_ept();
    SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) | PROC2_ENABLE_PML);
    SET(VMCS_PML_ADDR, addr);
}

TEST(ctl_pml_valid)
{
    enable_pml(0x5000);
    SET(VMCS_EPT_POINTER, EPTP_VALID | EPTP_AD_ENABLE);
    assert_null(controls());
    SET(VMCS_EPT_POINTER, EPTP_VALID); /* PML without A/D flags is legal: nothing is ever logged */
    assert_null(controls());
}

TEST(ctl_pml_requires_ept)
{
    enable_pml(0x5000);
    SET(VMCS_PROC_CONTROLS2, GET(VMCS_PROC_CONTROLS2) & ~(uint64_t)PROC2_ENABLE_EPT);
    CONTROLS_FAIL("26.2.1.1", "enable PML requires enable EPT");
}

TEST(ctl_pml_address_unaligned)
{
    enable_pml(0x5008);
    CONTROLS_FAIL("26.2.1.1", "PML address must be 4-KByte aligned");
}

TEST(ctl_pml_address_beyond_width)
{
    enable_pml(MAXPHY_MASK + 1);
    CONTROLS_FAIL("26.2.1.1", "PML address");
}

TEST(ctl_pml_not_offered_without_ad)
{
    /* nested_caps offers PML only with EPT A/D flags: the secondary controls check refuses it. */
    struct vmx_caps hw = bochs_hw();
    hw.ept_vpid &= ~EPT_CAP_AD;
    struct nested_options opt = {.ept = true};
    nested_caps_compute(&hw, &opt, &caps_ept);
    enable_pml(0x5000);
    CONTROLS_FAIL("26.2.1.1", "secondary processor-based controls");
}

TEST(ctl_eptp_reserved)
{
    enable_ept();
    SET(VMCS_EPT_POINTER, EPTP_VALID | BIT(8));
    CONTROLS_FAIL("26.2.1.1", "EPTP reserved bits 11:7");
}

TEST(ctl_eptp_beyond_width)
{
    enable_ept();
    SET(VMCS_EPT_POINTER, EPTP_VALID | (1ull << 39));
    CONTROLS_FAIL("26.2.1.1", "EPTP must not set bits beyond the physical-address width");
}

/* ------------------------------------------------------------ 26.2.1.2 VM-exit control fields */

TEST(ctl_exit_default1_cleared)
{
    SET(VMCS_EXIT_CONTROLS, GET(VMCS_EXIT_CONTROLS) & ~0x1ull);
    CONTROLS_FAIL("26.2.1.2", "VM-exit controls");
}

TEST(ctl_exit_perf_global_not_offered)
{
    SET(VMCS_EXIT_CONTROLS, GET(VMCS_EXIT_CONTROLS) | EXIT_LOAD_PERF_GLOBAL_CTRL);
    CONTROLS_FAIL("26.2.1.2", "VM-exit controls");
}

TEST(ctl_save_timer_needs_timer)
{
    SET(VMCS_EXIT_CONTROLS, GET(VMCS_EXIT_CONTROLS) | EXIT_SAVE_PREEMPTION_TIMER);
    CONTROLS_FAIL("26.2.1.2", "save VMX-preemption timer value requires activate VMX-preemption timer");
    SET(VMCS_PIN_CONTROLS, GET(VMCS_PIN_CONTROLS) | PIN_PREEMPTION_TIMER);
    assert_null(controls());
}

TEST(ctl_exit_msr_store_unaligned)
{
    SET(VMCS_EXIT_MSR_STORE_ADDR, 0x13008);
    CONTROLS_FAIL("26.2.1.2", "VM-exit MSR-store area");
}

TEST(ctl_exit_msr_load_past_width)
{
    /* One entry ending exactly at the top of the address width is fine, two are not. */
    SET(VMCS_EXIT_MSR_LOAD_ADDR, MAXPHY_MASK + 1 - 16);
    SET(VMCS_EXIT_MSR_LOAD_COUNT, 1);
    assert_null(controls());
    SET(VMCS_EXIT_MSR_LOAD_COUNT, 2);
    CONTROLS_FAIL("26.2.1.2", "VM-exit MSR-load area");
}

/* ------------------------------------------------------------ 26.2.1.3 VM-entry control fields */

TEST(ctl_entry_smm_not_offered)
{
    SET(VMCS_ENTRY_CONTROLS, GET(VMCS_ENTRY_CONTROLS) | ENTRY_SMM);
    CONTROLS_FAIL("26.2.1.3", "VM-entry controls");
}

TEST(ctl_entry_default1_cleared)
{
    SET(VMCS_ENTRY_CONTROLS, GET(VMCS_ENTRY_CONTROLS) & ~0x1ull);
    CONTROLS_FAIL("26.2.1.3", "VM-entry controls");
}

TEST(ctl_inject_reserved_type)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(1, 0x20));
    CONTROLS_FAIL("26.2.1.3", "interruption type 1 is reserved");
}

TEST(ctl_inject_other_event)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_OTHER, 0));
    CONTROLS_FAIL("26.2.1.3", "type 7");
}

TEST(ctl_inject_nmi_vector)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_NMI, 3));
    CONTROLS_FAIL("26.2.1.3", "NMI must have vector 2");
}

TEST(ctl_inject_exception_vector)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, 31));
    assert_null(controls());
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, 32));
    CONTROLS_FAIL("26.2.1.3", "hardware exception must have a vector of at most 31");
}

TEST(ctl_inject_gp_without_error_code)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, VEC_GP));
    CONTROLS_FAIL("26.2.1.3", "deliver-error-code");
}

TEST(ctl_inject_every_error_code_vector)
{
    static const unsigned with[] = {8, 10, 11, 12, 13, 14, 17};
    for (size_t i = 0; i < ARRAY_SIZE(with); i++) {
        SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, with[i]) | INTR_INFO_ERROR_CODE_VALID);
        assert_null(controls());
        SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, with[i]));
        CONTROLS_FAIL("26.2.1.3", "deliver-error-code");
    }
}

TEST(ctl_inject_ud_with_error_code)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, VEC_UD) | INTR_INFO_ERROR_CODE_VALID);
    CONTROLS_FAIL("26.2.1.3", "deliver-error-code");
    /* Nor for an external interrupt with vector 13. */
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_EXT_INTR, 13) | INTR_INFO_ERROR_CODE_VALID);
    CONTROLS_FAIL("26.2.1.3", "deliver-error-code");
}

TEST(ctl_inject_real_mode_gp_with_error_code)
{
    /* With unrestricted guest and CR0.PE = 0, no exception delivers an error code. */
    enable_ug();
    SET(VMCS_GUEST_CR0, CR0_NE | CR0_ET);
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, VEC_GP) | INTR_INFO_ERROR_CODE_VALID);
    CONTROLS_FAIL("26.2.1.3", "deliver-error-code");
}

TEST(ctl_inject_reserved_bits)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_EXT_INTR, 0x20) | BIT(12));
    CONTROLS_FAIL("26.2.1.3", "reserved bits 30:12");
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_EXT_INTR, 0x20) | BIT(30));
    CONTROLS_FAIL("26.2.1.3", "reserved bits 30:12");
}

TEST(ctl_inject_error_code_high_bits)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, VEC_GP) | INTR_INFO_ERROR_CODE_VALID);
    SET(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0x10000);
    CONTROLS_FAIL("26.2.1.3", "error code bits 31:16");
    SET(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0x80000000u);
    CONTROLS_FAIL("26.2.1.3", "error code bits 31:16");
}

/*
 * SDM 26.2.1.3: only bits 31:16 of the VM-entry exception error code must be 0
 * (KVM: GENMASK(31, 16)); bit 15 is a valid error-code bit (e.g. #PF SGX).
 */
TEST(ctl_inject_error_code_bit15_allowed)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, VEC_PF) | INTR_INFO_ERROR_CODE_VALID);
    SET(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0x8000);
    assert_controls_pass();
    SET(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0xffff);
    assert_controls_pass();
}

TEST(ctl_inject_software_length)
{
    static const unsigned types[] = {INTR_TYPE_SW_INTR, INTR_TYPE_PRIV_SW_EXCEPTION, INTR_TYPE_SW_EXCEPTION};
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        SET(VMCS_ENTRY_INTR_INFO, INTR(types[i], 3));
        SET(VMCS_ENTRY_INSTRUCTION_LEN, 15);
        assert_null(controls());
        SET(VMCS_ENTRY_INSTRUCTION_LEN, 0); /* IA32_VMX_MISC[30] is not offered */
        CONTROLS_FAIL("26.2.1.3", "instruction length must be 1-15");
        SET(VMCS_ENTRY_INSTRUCTION_LEN, 16);
        CONTROLS_FAIL("26.2.1.3", "instruction length must be 1-15");
    }
    /* Hardware events ignore the length. */
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_EXT_INTR, 0x40));
    assert_null(controls());
}

TEST(ctl_entry_msr_load_area)
{
    SET(VMCS_ENTRY_MSR_LOAD_ADDR, 0x13204);
    CONTROLS_FAIL("26.2.1.3", "VM-entry MSR-load area");
    SET(VMCS_ENTRY_MSR_LOAD_ADDR, 1ull << 40);
    CONTROLS_FAIL("26.2.1.3", "VM-entry MSR-load area");
}

TEST(ctl_invalid_injection_ignored_without_valid_bit)
{
    SET(VMCS_ENTRY_INTR_INFO, 0x7fffffff);
    assert_null(controls());
}

/* ------------------------------------------------------------ 26.2.2 host control registers and MSRs */

TEST(host_cr0_fixed0)
{
    SET(VMCS_HOST_CR0, HOST_CR0 & ~CR0_NE);
    HOST_FAIL("26.2.2", "host CR0");
}

TEST(host_cr0_high_bits)
{
    SET(VMCS_HOST_CR0, HOST_CR0 | BIT(32));
    HOST_FAIL("26.2.2", "host CR0");
}

TEST(host_cr4_vmxe_clear)
{
    SET(VMCS_HOST_CR4, CR4_PAE);
    HOST_FAIL("26.2.2", "host CR4");
}

TEST(host_cr4_fixed1)
{
    SET(VMCS_HOST_CR4, HOST_CR4 | CR4_PKE);
    HOST_FAIL("26.2.2", "host CR4");
}

TEST(host_cr3_width)
{
    SET(VMCS_HOST_CR3, 1ull << 39);
    HOST_FAIL("26.2.2", "host CR3");
}

TEST(host_sysenter_canonical)
{
    SET(VMCS_HOST_SYSENTER_EIP, 0x0000800000000000ull);
    HOST_FAIL("26.2.2", "SYSENTER");
    valid_setup();
    SET(VMCS_HOST_SYSENTER_ESP, 0xfff0000000000000ull);
    HOST_FAIL("26.2.2", "SYSENTER");
}

TEST(host_pat_invalid_type)
{
    SET(VMCS_HOST_PAT, PAT_DEFAULT | 0x0200000000000000ull); /* entry 7 type 2 */
    HOST_FAIL("26.2.2", "host IA32_PAT");
    SET(VMCS_HOST_PAT, 0x08);
    HOST_FAIL("26.2.2", "host IA32_PAT");
    /* Not checked when the exit does not load PAT. */
    SET(VMCS_EXIT_CONTROLS, GET(VMCS_EXIT_CONTROLS) & ~EXIT_LOAD_PAT);
    assert_null(host());
}

TEST(host_efer_reserved)
{
    SET(VMCS_HOST_EFER, GET(VMCS_HOST_EFER) | BIT(1));
    HOST_FAIL("26.2.2", "host IA32_EFER reserved bits");
}

TEST(host_efer_lma_mismatch)
{
    SET(VMCS_HOST_EFER, GET(VMCS_HOST_EFER) & ~EFER_LMA);
    HOST_FAIL("26.2.2", "LMA and LME must equal host address-space size");
    valid_setup();
    SET(VMCS_HOST_EFER, GET(VMCS_HOST_EFER) & ~EFER_LME);
    HOST_FAIL("26.2.2", "LMA and LME must equal host address-space size");
    /* Not checked when the exit does not load EFER. */
    SET(VMCS_EXIT_CONTROLS, GET(VMCS_EXIT_CONTROLS) & ~EXIT_LOAD_EFER);
    assert_null(host());
}

/* ------------------------------------------------------------ 26.2.3 host segment and descriptor-table registers */

TEST(host_selector_rpl)
{
    SET(VMCS_HOST_DS_SEL, 0x1b);
    HOST_FAIL("26.2.3", "RPL = 0 and TI = 0");
}

TEST(host_selector_ti)
{
    SET(VMCS_HOST_TR_SEL, 0x2c);
    HOST_FAIL("26.2.3", "RPL = 0 and TI = 0");
}

TEST(host_cs_zero)
{
    SET(VMCS_HOST_CS_SEL, 0);
    HOST_FAIL("26.2.3", "host CS selector must not be 0");
    assert_string_equal(host(), "26.2.3 host CS selector must not be 0");
}

TEST(host_tr_zero)
{
    SET(VMCS_HOST_TR_SEL, 0);
    HOST_FAIL("26.2.3", "host TR selector must not be 0");
}

TEST(host_ss_zero)
{
    /* A 64-bit host may have a null SS ... */
    SET(VMCS_HOST_SS_SEL, 0);
    assert_null(host());
    /* ... a 32-bit one may not. */
    make_32bit();
    HOST_FAIL("26.2.3", "host SS selector must not be 0");
}

TEST(host_bases_canonical)
{
    static const uint32_t bases[] = {VMCS_HOST_FS_BASE, VMCS_HOST_GS_BASE, VMCS_HOST_GDTR_BASE, VMCS_HOST_IDTR_BASE,
                                     VMCS_HOST_TR_BASE};
    for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
        valid_setup();
        assert_int_equal(vmcs12_write(&v12, bases[i], 0, false, 0x0000800000000000ull), V12_OK);
        HOST_FAIL("26.2.3", "must be canonical");
    }
}

/* ------------------------------------------------------------ 26.2.4 address-space size */

TEST(host_outside_ia32e_no_ia32e_guest)
{
    ctx.l1_ia32e = false;
    HOST_FAIL("26.2.4", "outside IA-32e mode, IA-32e mode guest must be 0");
}

TEST(host_outside_ia32e_no_64bit_host)
{
    make_32bit();
    SET(VMCS_EXIT_CONTROLS, GET(VMCS_EXIT_CONTROLS) | EXIT_HOST_ADDR_SPACE_SIZE);
    SET(VMCS_HOST_EFER, EFER_LME | EFER_LMA);
    HOST_FAIL("26.2.4", "outside IA-32e mode, host address-space size must be 0");
}

TEST(host_in_ia32e_needs_64bit_host)
{
    SET(VMCS_EXIT_CONTROLS, GET(VMCS_EXIT_CONTROLS) & ~(EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_EFER));
    HOST_FAIL("26.2.4", "in IA-32e mode, host address-space size must be 1");
    assert_string_equal(host(), "26.2.4 in IA-32e mode, host address-space size must be 1");
}

TEST(host_32bit_pcide)
{
    make_32bit();
    SET(VMCS_HOST_CR4, GET(VMCS_HOST_CR4) | CR4_PCIDE);
    HOST_FAIL("26.2.4", "host CR4.PCIDE = 0");
}

TEST(host_32bit_rip_high)
{
    make_32bit();
    SET(VMCS_HOST_RIP, 0x100001000ull);
    HOST_FAIL("26.2.4", "host RIP bits 63:32 = 0");
}

TEST(host_64bit_needs_pae)
{
    SET(VMCS_HOST_CR4, CR4_VMXE);
    HOST_FAIL("26.2.4", "host CR4.PAE = 1");
}

TEST(host_64bit_rip_canonical)
{
    SET(VMCS_HOST_RIP, 0x0000800000000000ull);
    HOST_FAIL("26.2.4", "canonical host RIP");
}

/* ------------------------------------------------------------ 26.3.1.1 guest control/debug registers and MSRs */

TEST(guest_cr0_fixed0)
{
    SET(VMCS_GUEST_CR0, GUEST_CR0 & ~CR0_NE);
    GUEST_FAIL("26.3.1.1", "guest CR0");
    valid_setup();
    SET(VMCS_GUEST_CR0, GUEST_CR0 & ~CR0_PE);
    GUEST_FAIL("26.3.1.1", "guest CR0");
}

TEST(guest_cr0_pg_without_pe)
{
    /* Only reachable with unrestricted guest, where PE and PG are not fixed. */
    enable_ug();
    SET(VMCS_GUEST_CR0, GUEST_CR0 & ~CR0_PE);
    GUEST_FAIL("26.3.1.1", "CR0.PG = 1 requires CR0.PE = 1");
}

TEST(guest_cr4_fixed)
{
    SET(VMCS_GUEST_CR4, CR4_PAE);
    GUEST_FAIL("26.3.1.1", "guest CR4");
    SET(VMCS_GUEST_CR4, GUEST_CR4 | CR4_SMXE);
    GUEST_FAIL("26.3.1.1", "guest CR4");
}

TEST(guest_ia32e_needs_pae)
{
    SET(VMCS_GUEST_CR4, CR4_VMXE);
    GUEST_FAIL("26.3.1.1", "IA-32e mode guest requires CR0.PG = 1 and CR4.PAE = 1");
}

TEST(guest_32bit_pcide)
{
    make_32bit();
    SET(VMCS_GUEST_CR4, GET(VMCS_GUEST_CR4) | CR4_PCIDE);
    GUEST_FAIL("26.3.1.1", "CR4.PCIDE must be 0");
}

TEST(guest_cr3_width)
{
    SET(VMCS_GUEST_CR3, (1ull << 39) | 0x1000);
    GUEST_FAIL("26.3.1.1", "guest CR3");
}

TEST(guest_debugctl_reserved)
{
    SET(VMCS_ENTRY_CONTROLS, GET(VMCS_ENTRY_CONTROLS) | ENTRY_LOAD_DEBUG_CONTROLS);
    SET(VMCS_GUEST_DEBUGCTL, BIT(2));
    GUEST_FAIL("26.3.1.1", "IA32_DEBUGCTL reserved bits");
    /* Without load debug controls the field is not looked at. */
    SET(VMCS_ENTRY_CONTROLS, GET(VMCS_ENTRY_CONTROLS) & ~ENTRY_LOAD_DEBUG_CONTROLS);
    assert_null(guest());
}

TEST(guest_dr7_high)
{
    SET(VMCS_ENTRY_CONTROLS, GET(VMCS_ENTRY_CONTROLS) | ENTRY_LOAD_DEBUG_CONTROLS);
    SET(VMCS_GUEST_DR7, 0x400 | BIT(32));
    GUEST_FAIL("26.3.1.1", "DR7 bits 63:32");
}

TEST(guest_sysenter_canonical)
{
    SET(VMCS_GUEST_SYSENTER_ESP, 0x0000800000000000ull);
    GUEST_FAIL("26.3.1.1", "SYSENTER");
}

TEST(guest_pat_invalid)
{
    SET(VMCS_GUEST_PAT, 0x0007040600070403ull); /* type 3 is reserved */
    GUEST_FAIL("26.3.1.1", "guest IA32_PAT");
}

TEST(guest_efer_reserved)
{
    SET(VMCS_GUEST_EFER, GET(VMCS_GUEST_EFER) | BIT(9));
    GUEST_FAIL("26.3.1.1", "guest IA32_EFER reserved bits");
}

TEST(guest_efer_lma_mismatch)
{
    SET(VMCS_GUEST_EFER, GET(VMCS_GUEST_EFER) & ~EFER_LMA);
    GUEST_FAIL("26.3.1.1", "IA32_EFER.LMA must equal IA-32e mode guest");
}

TEST(guest_efer_lme_mismatch)
{
    SET(VMCS_GUEST_EFER, GET(VMCS_GUEST_EFER) & ~EFER_LME);
    GUEST_FAIL("26.3.1.1", "IA32_EFER.LME must equal IA-32e mode guest");
}

/* ------------------------------------------------------------ 26.3.1.2 guest segment registers */

TEST(guest_tr_ti)
{
    SET(VMCS_GUEST_TR_SEL, 0x2c);
    GUEST_FAIL("26.3.1.2", "TR selector TI");
}

TEST(guest_ldtr_ti_if_usable)
{
    SET(VMCS_GUEST_LDTR_SEL, 0x34); /* TI = 1, but LDTR is unusable: fine */
    assert_null(guest());
    SET(VMCS_GUEST_LDTR_AR, 0x82);
    SET(VMCS_GUEST_LDTR_LIMIT, 0xff);
    GUEST_FAIL("26.3.1.2", "LDTR selector TI");
}

TEST(guest_ss_rpl_ne_cs_rpl)
{
    SET(VMCS_GUEST_SS_SEL, 0x1b);
    GUEST_FAIL("26.3.1.2", "SS.RPL must equal CS.RPL");
}

TEST(guest_v86_segments)
{
    SET(VMCS_GUEST_RFLAGS, 2 | RFLAGS_VM);
    GUEST_FAIL("26.3.1.2", "virtual-8086 mode");
}

TEST(guest_tr_base_canonical)
{
    SET(VMCS_GUEST_TR_BASE, 0x0000800000000000ull);
    GUEST_FAIL("26.3.1.2", "TR, FS and GS bases must be canonical");
    valid_setup();
    SET(VMCS_GUEST_GS_BASE, 0x8000000000000000ull);
    GUEST_FAIL("26.3.1.2", "TR, FS and GS bases must be canonical");
}

TEST(guest_ldtr_base_canonical_if_usable)
{
    SET(VMCS_GUEST_LDTR_BASE, 0x0000800000000000ull);
    assert_null(guest());
    SET(VMCS_GUEST_LDTR_SEL, 0x30);
    SET(VMCS_GUEST_LDTR_AR, 0x82);
    GUEST_FAIL("26.3.1.2", "LDTR base must be canonical");
}

TEST(guest_cs_base_high)
{
    SET(VMCS_GUEST_CS_BASE, 1ull << 32);
    GUEST_FAIL("26.3.1.2", "CS base bits 63:32");
}

TEST(guest_ss_ds_es_base_high)
{
    SET(VMCS_GUEST_SS_BASE, 1ull << 32);
    GUEST_FAIL("26.3.1.2", "SS base bits 63:32");
    valid_setup();
    SET(VMCS_GUEST_DS_BASE, 1ull << 40);
    GUEST_FAIL("26.3.1.2", "DS base bits 63:32");
    valid_setup();
    SET(VMCS_GUEST_ES_BASE, 1ull << 63);
    GUEST_FAIL("26.3.1.2", "ES base bits 63:32");
}

TEST(guest_cs_type)
{
    SET(VMCS_GUEST_CS_AR, 0xa093); /* data */
    GUEST_FAIL("26.3.1.2", "guest CS type");
    SET(VMCS_GUEST_CS_AR, 0xa09a); /* code, not accessed */
    GUEST_FAIL("26.3.1.2", "guest CS type");
}

TEST(guest_cs_s_bit)
{
    SET(VMCS_GUEST_CS_AR, 0xa08b);
    GUEST_FAIL("26.3.1.2", "guest CS must be a code or data segment");
}

TEST(guest_cs_dpl_nonconforming)
{
    SET(VMCS_GUEST_CS_AR, 0xa0bb); /* DPL 1, SS DPL 0 */
    GUEST_FAIL("26.3.1.2", "CS DPL must equal SS DPL");
}

TEST(guest_cs_dpl_conforming)
{
    SET(VMCS_GUEST_CS_AR, 0xa09f); /* conforming, DPL 0 <= SS DPL 0 */
    assert_null(guest());
    SET(VMCS_GUEST_CS_AR, 0xa0ff); /* conforming, DPL 3 > SS DPL 0 */
    GUEST_FAIL("26.3.1.2", "CS DPL must not exceed SS DPL");
}

TEST(guest_cs_type3_dpl)
{
    enable_ug();
    SET(VMCS_GUEST_CS_AR, 0xa0b3); /* type 3 with DPL 1 */
    GUEST_FAIL("26.3.1.2", "CS DPL must be 0 for type 3");
}

TEST(guest_cs_present)
{
    SET(VMCS_GUEST_CS_AR, 0xa01b);
    GUEST_FAIL("26.3.1.2", "guest CS must be present");
}

TEST(guest_cs_reserved)
{
    SET(VMCS_GUEST_CS_AR, CS_AR_64 | 0x100);
    GUEST_FAIL("26.3.1.2", "guest CS access-rights reserved bits");
    SET(VMCS_GUEST_CS_AR, CS_AR_64 | BIT(20));
    GUEST_FAIL("26.3.1.2", "guest CS access-rights reserved bits");
}

TEST(guest_cs_l_and_d)
{
    SET(VMCS_GUEST_CS_AR, CS_AR_64 | VMX_AR_DB);
    GUEST_FAIL("26.3.1.2", "CS.D must be 0 when CS.L is 1");
}

TEST(guest_cs_granularity)
{
    SET(VMCS_GUEST_CS_AR, CS_AR_64 & ~VMX_AR_G); /* limit 0xffffffff needs G = 1 */
    GUEST_FAIL("26.3.1.2", "guest CS granularity");
    SET(VMCS_GUEST_CS_AR, CS_AR_64);
    SET(VMCS_GUEST_CS_LIMIT, 0xffff0); /* G = 1 needs limit bits 11:0 all ones */
    GUEST_FAIL("26.3.1.2", "guest CS granularity");
}

TEST(guest_cs_unusable)
{
    SET(VMCS_GUEST_CS_AR, CS_AR_64 | VMX_AR_UNUSABLE);
    GUEST_FAIL("26.3.1.2", "guest CS must be usable");
}

TEST(guest_ss_type)
{
    SET(VMCS_GUEST_SS_AR, 0xc091); /* read-only data */
    GUEST_FAIL("26.3.1.2", "guest SS type must be 3 or 7");
}

TEST(guest_ss_s_bit)
{
    SET(VMCS_GUEST_SS_AR, 0xc083);
    GUEST_FAIL("26.3.1.2", "guest SS must be a code or data segment");
}

TEST(guest_ss_present)
{
    SET(VMCS_GUEST_SS_AR, 0xc013);
    GUEST_FAIL("26.3.1.2", "guest SS must be present");
}

TEST(guest_ss_reserved_granularity)
{
    SET(VMCS_GUEST_SS_AR, DATA_AR | 0x200);
    GUEST_FAIL("26.3.1.2", "guest SS reserved bits");
    valid_setup();
    SET(VMCS_GUEST_SS_LIMIT, 0xfffff);
    SET(VMCS_GUEST_SS_AR, DATA_AR & ~VMX_AR_G);
    assert_null(guest());
    SET(VMCS_GUEST_SS_LIMIT, 0x100000);
    GUEST_FAIL("26.3.1.2", "guest SS reserved bits");
}

TEST(guest_ss_dpl_ne_rpl)
{
    /* Conforming CS with DPL 0 lets SS have DPL 3; its RPL is 0. */
    SET(VMCS_GUEST_CS_AR, 0xa09f);
    SET(VMCS_GUEST_SS_AR, 0xc0f3);
    GUEST_FAIL("26.3.1.2", "guest SS DPL must equal its RPL");
}

TEST(guest_ss_dpl_with_cs_type3)
{
    enable_ug();
    SET(VMCS_GUEST_CS_AR, 0xa093); /* type 3, DPL 0: allowed with unrestricted guest */
    assert_null(guest());
    SET(VMCS_GUEST_SS_AR, 0xc0f3);
    GUEST_FAIL("26.3.1.2", "SS DPL must be 0 when CS type is 3 or CR0.PE is 0");
}

TEST(guest_data_accessed)
{
    SET(VMCS_GUEST_DS_AR, 0xc092);
    GUEST_FAIL("26.3.1.2", "DS, ES, FS, GS must be accessed");
}

TEST(guest_data_code_readable)
{
    SET(VMCS_GUEST_FS_AR, 0xc09b); /* readable code: fine */
    assert_null(guest());
    SET(VMCS_GUEST_FS_AR, 0xc099); /* execute-only code */
    GUEST_FAIL("26.3.1.2", "readable if code");
}

TEST(guest_data_s_bit)
{
    SET(VMCS_GUEST_GS_AR, 0xc083);
    GUEST_FAIL("26.3.1.2", "DS, ES, FS, GS must have S = 1");
}

TEST(guest_data_dpl_below_rpl)
{
    SET(VMCS_GUEST_ES_SEL, 0x1b);
    GUEST_FAIL("26.3.1.2", "DPL must not be below RPL");
    /* A conforming code segment may. */
    SET(VMCS_GUEST_ES_AR, 0xc09f);
    assert_null(guest());
}

TEST(guest_data_present)
{
    SET(VMCS_GUEST_ES_AR, 0xc013);
    GUEST_FAIL("26.3.1.2", "DS, ES, FS, GS must be present");
}

TEST(guest_data_granularity)
{
    SET(VMCS_GUEST_GS_AR, DATA_AR & ~VMX_AR_G);
    GUEST_FAIL("26.3.1.2", "granularity must match the limit");
    valid_setup();
    SET(VMCS_GUEST_DS_AR, DATA_AR | BIT(24));
    GUEST_FAIL("26.3.1.2", "DS, ES, FS, GS reserved bits");
}

TEST(guest_tr_type)
{
    SET(VMCS_GUEST_TR_AR, 0x83); /* 16-bit busy TSS: not in IA-32e mode */
    GUEST_FAIL("26.3.1.2", "guest TR type");
    SET(VMCS_GUEST_TR_AR, 0x89); /* available, not busy */
    GUEST_FAIL("26.3.1.2", "guest TR type");
    /* A 16-bit busy TSS is fine outside IA-32e mode. */
    valid_setup();
    make_32bit();
    SET(VMCS_GUEST_TR_AR, 0x83);
    assert_null(guest());
}

TEST(guest_tr_system_present_usable)
{
    SET(VMCS_GUEST_TR_AR, TR_AR | VMX_AR_S);
    GUEST_FAIL("26.3.1.2", "guest TR must be a present, usable system segment");
    SET(VMCS_GUEST_TR_AR, TR_AR & ~VMX_AR_P);
    GUEST_FAIL("26.3.1.2", "guest TR must be a present, usable system segment");
    SET(VMCS_GUEST_TR_AR, TR_AR | VMX_AR_UNUSABLE);
    GUEST_FAIL("26.3.1.2", "guest TR must be a present, usable system segment");
}

TEST(guest_tr_granularity)
{
    SET(VMCS_GUEST_TR_AR, TR_AR | VMX_AR_G);
    GUEST_FAIL("26.3.1.2", "guest TR granularity");
}

TEST(guest_ldtr_type)
{
    SET(VMCS_GUEST_LDTR_SEL, 0x30);
    SET(VMCS_GUEST_LDTR_AR, 0x82);
    SET(VMCS_GUEST_LDTR_LIMIT, 0xfff);
    assert_null(guest());
    SET(VMCS_GUEST_LDTR_AR, 0x8b);
    GUEST_FAIL("26.3.1.2", "guest LDTR, if usable, must be a present LDT");
    SET(VMCS_GUEST_LDTR_AR, 0x02);
    GUEST_FAIL("26.3.1.2", "guest LDTR, if usable, must be a present LDT");
}

/* ------------------------------------------------------------ 26.3.1.3 descriptor-table registers */

TEST(guest_gdtr_idtr_base_canonical)
{
    SET(VMCS_GUEST_GDTR_BASE, 0x0000800000000000ull);
    GUEST_FAIL("26.3.1.3", "GDTR and IDTR bases must be canonical");
    valid_setup();
    SET(VMCS_GUEST_IDTR_BASE, 0x00ff000000000000ull);
    GUEST_FAIL("26.3.1.3", "GDTR and IDTR bases must be canonical");
}

TEST(guest_gdtr_idtr_limit)
{
    SET(VMCS_GUEST_IDTR_LIMIT, 0x10000);
    GUEST_FAIL("26.3.1.3", "limits bits 31:16");
    valid_setup();
    SET(VMCS_GUEST_GDTR_LIMIT, 0xffff);
    assert_null(guest());
    SET(VMCS_GUEST_GDTR_LIMIT, 0x80000000u);
    GUEST_FAIL("26.3.1.3", "limits bits 31:16");
}

/* ------------------------------------------------------------ 26.3.1.4 RIP and RFLAGS */

TEST(guest_rip_canonical_64bit)
{
    SET(VMCS_GUEST_RIP, 0x0000800000000000ull);
    GUEST_FAIL("26.3.1.4", "RIP must be canonical in 64-bit mode");
}

TEST(guest_rip_high_outside_64bit)
{
    SET(VMCS_GUEST_CS_AR, 0xc09b); /* compatibility mode */
    SET(VMCS_GUEST_RIP, 0x100000000ull);
    GUEST_FAIL("26.3.1.4", "RIP bits 63:32 must be 0 outside 64-bit mode");
}

TEST(guest_rflags_reserved)
{
    static const uint64_t bad[] = {0, 2 | BIT(3), 2 | BIT(5), 2 | BIT(15), 2 | BIT(22), 2 | BIT(63)};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        SET(VMCS_GUEST_RFLAGS, bad[i]);
        GUEST_FAIL("26.3.1.4", "guest RFLAGS reserved bits");
    }
    SET(VMCS_GUEST_RFLAGS, 0x3d7fd7); /* every defined flag but VM */
    SET(VMCS_GUEST_INTERRUPTIBILITY, 0);
    assert_null(guest());
}

TEST(guest_rflags_vm_in_ia32e)
{
    /* Segments that satisfy the virtual-8086 rules, so that the RFLAGS.VM rule is reached. */
    static const uint32_t sel[] = {VMCS_GUEST_ES_SEL, VMCS_GUEST_CS_SEL, VMCS_GUEST_SS_SEL,
                                   VMCS_GUEST_DS_SEL, VMCS_GUEST_FS_SEL, VMCS_GUEST_GS_SEL};
    static const uint32_t base[] = {VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
                                    VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE};
    static const uint32_t lim[] = {VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT,
                                   VMCS_GUEST_DS_LIMIT, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT};
    static const uint32_t ar[] = {VMCS_GUEST_ES_AR, VMCS_GUEST_CS_AR, VMCS_GUEST_SS_AR,
                                  VMCS_GUEST_DS_AR, VMCS_GUEST_FS_AR, VMCS_GUEST_GS_AR};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(vmcs12_write(&v12, sel[i], 0, false, 0x1000 + i), V12_OK);
        assert_int_equal(vmcs12_write(&v12, base[i], 0, false, (0x1000 + i) << 4), V12_OK);
        assert_int_equal(vmcs12_write(&v12, lim[i], 0, false, 0xffff), V12_OK);
        assert_int_equal(vmcs12_write(&v12, ar[i], 0, false, 0xf3), V12_OK);
    }
    SET(VMCS_GUEST_RIP, 0x100);
    SET(VMCS_GUEST_RFLAGS, 2 | RFLAGS_VM);
    GUEST_FAIL("26.3.1.4", "RFLAGS.VM must be 0 in IA-32e mode");
}

TEST(guest_rflags_vm_with_pe_clear)
{
    /* Outside IA-32e mode, RFLAGS.VM needs CR0.PE (reachable only with unrestricted guest). */
    make_32bit();
    enable_ug();
    SET(VMCS_GUEST_CR0, CR0_NE | CR0_ET);
    static const uint32_t sel[] = {VMCS_GUEST_ES_SEL, VMCS_GUEST_CS_SEL, VMCS_GUEST_SS_SEL,
                                   VMCS_GUEST_DS_SEL, VMCS_GUEST_FS_SEL, VMCS_GUEST_GS_SEL};
    static const uint32_t base[] = {VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
                                    VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE};
    static const uint32_t lim[] = {VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT,
                                   VMCS_GUEST_DS_LIMIT, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT};
    static const uint32_t ar[] = {VMCS_GUEST_ES_AR, VMCS_GUEST_CS_AR, VMCS_GUEST_SS_AR,
                                  VMCS_GUEST_DS_AR, VMCS_GUEST_FS_AR, VMCS_GUEST_GS_AR};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(vmcs12_write(&v12, sel[i], 0, false, 0x2000), V12_OK);
        assert_int_equal(vmcs12_write(&v12, base[i], 0, false, 0x20000), V12_OK);
        assert_int_equal(vmcs12_write(&v12, lim[i], 0, false, 0xffff), V12_OK);
        assert_int_equal(vmcs12_write(&v12, ar[i], 0, false, 0xf3), V12_OK);
    }
    SET(VMCS_GUEST_RIP, 0x100);
    SET(VMCS_GUEST_RFLAGS, 2 | RFLAGS_VM);
    GUEST_FAIL("26.3.1.4", "RFLAGS.VM must be 0");
    /* With CR0.PE = 1 (and PG = 0), virtual-8086 mode is fine. */
    SET(VMCS_GUEST_CR0, CR0_NE | CR0_ET | CR0_PE);
    assert_null(guest());
}

TEST(guest_rflags_if_for_external_interrupt)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_EXT_INTR, 0x20));
    GUEST_FAIL("26.3.1.4", "RFLAGS.IF must be 1 when injecting an external interrupt");
    /* An NMI does not need IF. */
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_NMI, 2));
    assert_null(guest());
}

/* ------------------------------------------------------------ 26.3.1.5 non-register state */

TEST(guest_activity_state_unsupported)
{
    SET(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_SHUTDOWN);
    GUEST_FAIL("26.3.1.5", "guest activity state");
    SET(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
    GUEST_FAIL("26.3.1.5", "guest activity state");
    SET(VMCS_GUEST_ACTIVITY_STATE, 4);
    GUEST_FAIL("26.3.1.5", "guest activity state");
}

TEST(guest_hlt_needs_cpl0)
{
    make_user_guest();
    SET(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
    GUEST_FAIL("26.3.1.5", "HLT requires SS.DPL = 0");
}

TEST(guest_hlt_with_sti_blocking)
{
    SET(VMCS_GUEST_RFLAGS, 2 | RFLAGS_IF);
    SET(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_STI);
    assert_null(guest());
    SET(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
    GUEST_FAIL("26.3.1.5", "must be active when blocking by STI or MOV SS");
}

TEST(guest_hlt_injection_blocked)
{
    SET(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, VEC_GP) | INTR_INFO_ERROR_CODE_VALID);
    GUEST_FAIL("26.3.1.5", "in HLT state only external interrupts, NMIs, #DB and #MC");
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_SW_INTR, 0x80));
    SET(VMCS_ENTRY_INSTRUCTION_LEN, 2);
    GUEST_FAIL("26.3.1.5", "in HLT state only");
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_HW_EXCEPTION, VEC_MC));
    assert_null(guest());
}

TEST(guest_interruptibility_reserved)
{
    SET(VMCS_GUEST_INTERRUPTIBILITY, BIT(5));
    GUEST_FAIL("26.3.1.5", "interruptibility-state reserved bits 31:5");
}

TEST(guest_sti_and_mov_ss)
{
    SET(VMCS_GUEST_RFLAGS, 2 | RFLAGS_IF);
    SET(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
    GUEST_FAIL("26.3.1.5", "blocking by STI and by MOV SS must not both be set");
}

TEST(guest_sti_needs_if)
{
    SET(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_STI);
    GUEST_FAIL("26.3.1.5", "blocking by STI requires RFLAGS.IF = 1");
}

TEST(guest_ext_intr_injection_with_blocking)
{
    SET(VMCS_GUEST_RFLAGS, 2 | RFLAGS_IF);
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_EXT_INTR, 0x20));
    SET(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_MOV_SS);
    GUEST_FAIL("26.3.1.5", "no STI or MOV-SS blocking when injecting an external interrupt");
}

TEST(guest_nmi_injection_with_mov_ss)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_NMI, 2));
    SET(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_MOV_SS);
    GUEST_FAIL("26.3.1.5", "no MOV-SS blocking when injecting an NMI");
}

TEST(guest_smi_blocking)
{
    SET(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_SMI);
    GUEST_FAIL("26.3.1.5", "blocking by SMI must be 0");
}

TEST(guest_nmi_blocking_with_virtual_nmis)
{
    SET(VMCS_ENTRY_INTR_INFO, INTR(INTR_TYPE_NMI, 2));
    SET(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_NMI);
    assert_null(guest()); /* without virtual NMIs: allowed */
    SET(VMCS_PIN_CONTROLS, GET(VMCS_PIN_CONTROLS) | PIN_VIRTUAL_NMIS);
    GUEST_FAIL("26.3.1.5", "no NMI blocking when injecting an NMI with virtual NMIs");
}

TEST(guest_pending_dbg_reserved)
{
    SET(VMCS_GUEST_PENDING_DBG, BIT(4));
    GUEST_FAIL("26.3.1.5", "pending debug exceptions reserved bits");
    SET(VMCS_GUEST_PENDING_DBG, BIT(13));
    GUEST_FAIL("26.3.1.5", "pending debug exceptions reserved bits");
    SET(VMCS_GUEST_PENDING_DBG, 0xf | BIT(12) | BIT(14));
    assert_null(guest());
}

/* 11: RTM (bit 16) only where the processor has RTM, and then with bit 12 set and bits 11:0, 14 clear. */
TEST(guest_pending_dbg_rtm)
{
    SET(VMCS_GUEST_PENDING_DBG, BIT(12) | BIT(16));
    GUEST_FAIL("26.3.1.5", "only if the processor supports RTM");
    ctx.rtm = true;
    assert_null(guest());
    SET(VMCS_GUEST_PENDING_DBG, 0xf | BIT(12) | BIT(16));
    GUEST_FAIL("26.3.1.5", "bits 11:0 and 14 must be 0, bit 12 must be 1");
    SET(VMCS_GUEST_PENDING_DBG, BIT(16));
    GUEST_FAIL("26.3.1.5", "bit 12 must be 1");
    SET(VMCS_GUEST_PENDING_DBG, BIT(12) | BIT(16));
    SET(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_MOV_SS);
    GUEST_FAIL("26.3.1.5", "blocking by MOV SS must be 0");
}

/* 11: CR4.CET = 1 requires CR0.WP = 1, for the guest (26.3.1.1) and the host (26.2.2). */
TEST(guest_and_host_cet_need_wp)
{
    caps.cr4_fixed1 |= BIT(23); /* a CPU with CET */
    SET(VMCS_GUEST_CR4, GET(VMCS_GUEST_CR4) | BIT(23));
    assert_null(guest());
    SET(VMCS_GUEST_CR0, GUEST_CR0 & ~CR0_WP);
    GUEST_FAIL("26.3.1.1", "guest CR4.CET = 1 requires guest CR0.WP = 1");
    SET(VMCS_GUEST_CR0, GUEST_CR0);
    SET(VMCS_HOST_CR4, GET(VMCS_HOST_CR4) | BIT(23));
    assert_null(host());
    SET(VMCS_HOST_CR0, HOST_CR0 & ~CR0_WP);
    HOST_FAIL("26.2.2", "host CR4.CET = 1 requires host CR0.WP = 1");
}

TEST(guest_pending_bs_with_tf)
{
    /* STI blocking, TF = 1, BTF = 0: BS must be set. */
    SET(VMCS_GUEST_RFLAGS, 2 | RFLAGS_IF | BIT(8));
    SET(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_STI);
    GUEST_FAIL("26.3.1.5", "BS must be 1 when RFLAGS.TF = 1");
    SET(VMCS_GUEST_PENDING_DBG, BIT(14));
    assert_null(guest());
}

TEST(guest_pending_bs_without_tf)
{
    SET(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_MOV_SS);
    SET(VMCS_GUEST_PENDING_DBG, BIT(14));
    GUEST_FAIL("26.3.1.5", "BS must be 0 when RFLAGS.TF = 0");
    /* No blocking and active: BS is not checked. */
    SET(VMCS_GUEST_INTERRUPTIBILITY, 0);
    assert_null(guest());
}

TEST(guest_link_pointer_unaligned)
{
    SET(VMCS_LINK_POINTER, 0x5008);
    assert_null(controls());
    assert_null(host());
    assert_rule(guest(), "26.3.1.5", "VMCS link pointer");
    assert_int_equal(qual, 4);
    assert_int_equal(qual, ENTRY_FAIL_QUAL_LINK_POINTER);
}

TEST(guest_link_pointer_beyond_width)
{
    SET(VMCS_LINK_POINTER, 1ull << 39);
    assert_rule(guest(), "26.3.1.5", "VMCS link pointer");
    assert_int_equal(qual, 4);
    /* All ones except the low bits is not the "no link" value. */
    SET(VMCS_LINK_POINTER, ~0xfffull);
    assert_rule(guest(), "26.3.1.5", "VMCS link pointer");
    assert_int_equal(qual, 4);
}

TEST(guest_qual_reset_between_calls)
{
    SET(VMCS_LINK_POINTER, 0x5008);
    assert_non_null(guest());
    assert_int_equal(qual, 4);
    SET(VMCS_LINK_POINTER, ~0ull);
    SET(VMCS_GUEST_RFLAGS, 0);
    assert_non_null(guest());
    assert_int_equal(qual, 0);
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(valid_64bit_setup_passes),
        T(valid_variants_pass),
        T(valid_unrestricted_guest_in_real_mode),
        T(ctl_pin_based_default1_cleared),
        T(ctl_pin_based_posted_interrupts),
        T(ctl_tpr_shadow_valid),
        T(ctl_virtual_apic_address_unaligned),
        T(ctl_virtual_apic_address_beyond_width),
        T(ctl_tpr_threshold_bits_31_4),
        T(ctl_tpr_threshold_above_vtpr),
        T(ctl_apic_register_virtualization_needs_tpr_shadow),
        T(ctl_virtual_interrupt_delivery_needs_tpr_shadow),
        T(ctl_virtual_interrupt_delivery_needs_external_interrupt_exiting),
        T(ctl_apic_access_address_unaligned),
        T(ctl_virtualize_x2apic_not_offered),
        T(ctl_primary_mtf_not_offered),
        T(ctl_secondary_ept_not_offered),
        T(ctl_secondary_vmcs_shadowing_not_offered),
        T(ctl_vmcs_shadowing_bitmap_addresses),
        T(ctl_cr3_target_count),
        T(ctl_io_bitmap_a_unaligned),
        T(ctl_io_bitmap_b_beyond_width),
        T(ctl_msr_bitmap),
        T(ctl_virtual_nmis_need_nmi_exiting),
        T(ctl_nmi_window_needs_virtual_nmis),
        T(ctl_vpid_zero),
        T(ctl_unrestricted_guest_needs_ept),
        T(ctl_ept_valid_eptp),
        T(ctl_ept_not_without_caps),
        T(ctl_eptp_memory_type),
        T(ctl_eptp_walk_length),
        T(ctl_eptp_ad_not_offered),
        T(ctl_eptp_ad_offered),
        T(ctl_pml_valid),
        T(ctl_pml_requires_ept),
        T(ctl_pml_address_unaligned),
        T(ctl_pml_address_beyond_width),
        T(ctl_pml_not_offered_without_ad),
        T(ctl_eptp_reserved),
        T(ctl_eptp_beyond_width),
        T(ctl_exit_default1_cleared),
        T(ctl_exit_perf_global_not_offered),
        T(ctl_save_timer_needs_timer),
        T(ctl_exit_msr_store_unaligned),
        T(ctl_exit_msr_load_past_width),
        T(ctl_entry_smm_not_offered),
        T(ctl_entry_default1_cleared),
        T(ctl_inject_reserved_type),
        T(ctl_inject_other_event),
        T(ctl_inject_nmi_vector),
        T(ctl_inject_exception_vector),
        T(ctl_inject_gp_without_error_code),
        T(ctl_inject_every_error_code_vector),
        T(ctl_inject_ud_with_error_code),
        T(ctl_inject_real_mode_gp_with_error_code),
        T(ctl_inject_reserved_bits),
        T(ctl_inject_error_code_high_bits),
        T(ctl_inject_error_code_bit15_allowed),
        T(ctl_inject_software_length),
        T(ctl_entry_msr_load_area),
        T(ctl_invalid_injection_ignored_without_valid_bit),
        T(host_cr0_fixed0),
        T(host_cr0_high_bits),
        T(host_cr4_vmxe_clear),
        T(host_cr4_fixed1),
        T(host_cr3_width),
        T(host_sysenter_canonical),
        T(host_pat_invalid_type),
        T(host_efer_reserved),
        T(host_efer_lma_mismatch),
        T(host_selector_rpl),
        T(host_selector_ti),
        T(host_cs_zero),
        T(host_tr_zero),
        T(host_ss_zero),
        T(host_bases_canonical),
        T(host_outside_ia32e_no_ia32e_guest),
        T(host_outside_ia32e_no_64bit_host),
        T(host_in_ia32e_needs_64bit_host),
        T(host_32bit_pcide),
        T(host_32bit_rip_high),
        T(host_64bit_needs_pae),
        T(host_64bit_rip_canonical),
        T(guest_cr0_fixed0),
        T(guest_cr0_pg_without_pe),
        T(guest_cr4_fixed),
        T(guest_ia32e_needs_pae),
        T(guest_32bit_pcide),
        T(guest_cr3_width),
        T(guest_debugctl_reserved),
        T(guest_dr7_high),
        T(guest_sysenter_canonical),
        T(guest_pat_invalid),
        T(guest_efer_reserved),
        T(guest_efer_lma_mismatch),
        T(guest_efer_lme_mismatch),
        T(guest_tr_ti),
        T(guest_ldtr_ti_if_usable),
        T(guest_ss_rpl_ne_cs_rpl),
        T(guest_v86_segments),
        T(guest_tr_base_canonical),
        T(guest_ldtr_base_canonical_if_usable),
        T(guest_cs_base_high),
        T(guest_ss_ds_es_base_high),
        T(guest_cs_type),
        T(guest_cs_s_bit),
        T(guest_cs_dpl_nonconforming),
        T(guest_cs_dpl_conforming),
        T(guest_cs_type3_dpl),
        T(guest_cs_present),
        T(guest_cs_reserved),
        T(guest_cs_l_and_d),
        T(guest_cs_granularity),
        T(guest_cs_unusable),
        T(guest_ss_type),
        T(guest_ss_s_bit),
        T(guest_ss_present),
        T(guest_ss_reserved_granularity),
        T(guest_ss_dpl_ne_rpl),
        T(guest_ss_dpl_with_cs_type3),
        T(guest_data_accessed),
        T(guest_data_code_readable),
        T(guest_data_s_bit),
        T(guest_data_dpl_below_rpl),
        T(guest_data_present),
        T(guest_data_granularity),
        T(guest_tr_type),
        T(guest_tr_system_present_usable),
        T(guest_tr_granularity),
        T(guest_ldtr_type),
        T(guest_gdtr_idtr_base_canonical),
        T(guest_gdtr_idtr_limit),
        T(guest_rip_canonical_64bit),
        T(guest_rip_high_outside_64bit),
        T(guest_rflags_reserved),
        T(guest_rflags_vm_in_ia32e),
        T(guest_rflags_vm_with_pe_clear),
        T(guest_rflags_if_for_external_interrupt),
        T(guest_activity_state_unsupported),
        T(guest_hlt_needs_cpl0),
        T(guest_hlt_with_sti_blocking),
        T(guest_hlt_injection_blocked),
        T(guest_interruptibility_reserved),
        T(guest_sti_and_mov_ss),
        T(guest_sti_needs_if),
        T(guest_ext_intr_injection_with_blocking),
        T(guest_nmi_injection_with_mov_ss),
        T(guest_smi_blocking),
        T(guest_nmi_blocking_with_virtual_nmis),
        T(guest_pending_dbg_reserved),
        T(guest_pending_dbg_rtm),
        T(guest_and_host_cet_need_wp),
        T(guest_pending_bs_with_tf),
        T(guest_pending_bs_without_tf),
        T(guest_link_pointer_unaligned),
        T(guest_link_pointer_beyond_width),
        T(guest_qual_reset_between_calls),
    };
    return RUN_GROUP("entry_checks", tests, NULL, NULL);
}
