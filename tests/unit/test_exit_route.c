/*
 * nested/exit_route.c: which exits from L2 belong to L1 (SDM 25.1-25.2), with
 * L1's I/O and MSR bitmaps (SDM 24.6.4, 24.6.9, 25.1.3) in fake L1 pages read
 * through the bitmap_bit callback.
 */
#include "harness.h"
#include "nestor/exit_route.h"
#include "nestor/vmcs12.h"
#include "nestor/vmx_arch.h"

/* ------------------------------------------------------------ fake L1 bitmap pages */

#define IO_A 0x10000ull
#define IO_B 0x11000ull
#define MSR_BM 0x12000ull

struct fake_page {
    gpa_t gpa;
    uint8_t bytes[4096];
};

#define VMREAD_BM 0x13000ull
#define VMWRITE_BM 0x14000ull

static struct fake_page pages[5];

struct call {
    gpa_t page;
    uint32_t bit;
};
static struct call calls[64];
static unsigned ncalls;
static bool bad_page; /* a page that is not one of the bitmaps was read */

static bool fake_bitmap_bit(void *ctx, gpa_t page, uint32_t bit)
{
    assert_ptr_equal(ctx, pages);
    if (ncalls < ARRAY_SIZE(calls))
        calls[ncalls] = (struct call){page, bit};
    ncalls++;
    if (bit >= 4096 * 8) {
        print_error("bit %u past the 4 KiB bitmap page 0x%llx\n", bit, (unsigned long long)page);
        bad_page = true;
        return false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
        if (pages[i].gpa == page)
            return pages[i].bytes[bit / 8] >> (bit % 8) & 1;
    print_error("bitmap page 0x%llx is none of L1's bitmaps\n", (unsigned long long)page);
    bad_page = true;
    return false;
}

static struct vmcs12 v12;
static struct route_ctx route;

static void set_bit_in(gpa_t page, uint32_t bit)
{
    for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
        if (pages[i].gpa == page)
            pages[i].bytes[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

static int setup(void **state UNUSED)
{
    memset(pages, 0, sizeof pages);
    pages[0].gpa = IO_A;
    pages[1].gpa = IO_B;
    pages[2].gpa = MSR_BM;
    pages[3].gpa = VMREAD_BM;
    pages[4].gpa = VMWRITE_BM;
    memset(&v12, 0, sizeof v12);
    V12(&v12, VMCS_IO_BITMAP_A) = IO_A;
    V12(&v12, VMCS_IO_BITMAP_B) = IO_B;
    V12(&v12, VMCS_MSR_BITMAP) = MSR_BM;
    V12(&v12, VMCS_VMREAD_BITMAP) = VMREAD_BM;
    V12(&v12, VMCS_VMWRITE_BITMAP) = VMWRITE_BM;
    route = (struct route_ctx){&v12, fake_bitmap_bit, pages, 0, 0};
    ncalls = 0;
    bad_page = false;
    return 0;
}

static int teardown(void **state UNUSED)
{
    assert_false(bad_page);
    return 0;
}

static void set_proc(uint32_t proc) { V12(&v12, VMCS_PROC_CONTROLS) = proc; }
static void set_proc2(uint32_t proc2) { V12(&v12, VMCS_PROC_CONTROLS2) = proc2; }
static void set_pin(uint32_t pin) { V12(&v12, VMCS_PIN_CONTROLS) = pin; }

static bool wants(unsigned reason, uint64_t qual, uint32_t msr) { return nested_l1_wants_exit(&route, reason, qual, msr); }

/* I/O exit qualification (SDM Table 27-5): size 1, 2 or 4 bytes, port, direction. */
static uint64_t ioq(uint32_t port, unsigned size, bool in)
{
    return ((uint64_t)port << 16) | (size - 1) | (in ? IOQUAL_IN : 0);
}
static bool io(uint32_t port, unsigned size) { return wants(EXIT_IO_INSTRUCTION, ioq(port, size, false), 0); }

static bool consulted(gpa_t page, uint32_t bit)
{
    for (unsigned i = 0; i < ncalls && i < ARRAY_SIZE(calls); i++)
        if (calls[i].page == page && calls[i].bit == bit)
            return true;
    return false;
}

/* ------------------------------------------------------------ I/O */

TEST(io_single_port_per_bitmap_a)
{
    set_proc(PROC_USE_IO_BITMAPS);
    assert_false(io(0x3f8, 1));
    assert_true(consulted(IO_A, 0x3f8));
    set_bit_in(IO_A, 0x3f8);
    assert_true(io(0x3f8, 1));
    assert_true(wants(EXIT_IO_INSTRUCTION, ioq(0x3f8, 1, true), 0)); /* IN as OUT */
    assert_false(io(0x3f9, 1));
    assert_false(io(0x3f7, 1));
    /* String, REP and immediate forms use the same bitmap bits. */
    assert_true(wants(EXIT_IO_INSTRUCTION, ioq(0x3f8, 1, false) | IOQUAL_STRING | IOQUAL_REP, 0));
    assert_true(wants(EXIT_IO_INSTRUCTION, ioq(0x3f8, 1, true) | IOQUAL_IMMEDIATE, 0));
}

TEST(io_single_port_per_bitmap_b)
{
    set_proc(PROC_USE_IO_BITMAPS);
    set_bit_in(IO_B, 0x0cf8 & 0x7fff); /* bit 0x0cf8 of B is port 0x8cf8, not 0xcf8 */
    assert_false(io(0xcf8, 4));
    assert_true(io(0x8cf8, 4));
    set_bit_in(IO_B, 0x7fff);
    assert_true(io(0xffff, 1));
    assert_true(consulted(IO_B, 0x7fff));
}

TEST(io_every_port_of_a_multibyte_access)
{
    set_proc(PROC_USE_IO_BITMAPS);
    set_bit_in(IO_A, 0x3fb);
    assert_true(io(0x3f8, 4));  /* 0x3f8-0x3fb: the last byte */
    assert_false(io(0x3f8, 2)); /* 0x3f8-0x3f9 */
    assert_true(io(0x3fa, 2));  /* 0x3fa-0x3fb */
    assert_true(io(0x3fb, 1));
    assert_false(io(0x3fc, 4));
}

TEST(io_access_spanning_bitmaps_a_and_b)
{
    set_proc(PROC_USE_IO_BITMAPS);
    /* 0x7fff size 2 touches port 0x7fff (A, bit 0x7fff) and 0x8000 (B, bit 0). */
    assert_false(io(0x7fff, 2));
    assert_true(consulted(IO_A, 0x7fff));
    assert_true(consulted(IO_B, 0));
    set_bit_in(IO_B, 0);
    assert_true(io(0x7fff, 2));
    assert_true(io(0x7ffd, 4));
    assert_false(io(0x7ffc, 4)); /* 0x7ffc-0x7fff: all in A */
    setup(NULL);
    set_proc(PROC_USE_IO_BITMAPS);
    set_bit_in(IO_A, 0x7fff);
    assert_true(io(0x7fff, 2));
    assert_false(io(0x8000, 2));
}

TEST(io_wrap_past_ffff_exits)
{
    set_proc(PROC_USE_IO_BITMAPS);
    /* Both bitmaps all clear: only the wrap makes these exit (SDM 25.1.3). */
    assert_false(io(0xffff, 1));
    assert_false(io(0xfffe, 2));
    assert_false(io(0xfffc, 4));
    assert_true(io(0xffff, 2));
    assert_true(io(0xfffe, 4));
    assert_true(io(0xfffd, 4));
    assert_true(io(0xffff, 4));
}

TEST(io_unconditional_without_bitmaps)
{
    set_proc(PROC_UNCOND_IO_EXITING);
    assert_true(io(0x80, 1));
    assert_true(io(0xffff, 4));
    assert_int_equal(ncalls, 0); /* no bitmap is read */
}

TEST(io_neither_is_not_l1s)
{
    set_proc(0);
    assert_false(io(0x3f8, 1));
    assert_false(io(0xffff, 2));
    assert_int_equal(ncalls, 0);
    /* Every other control set, still no I/O exiting. */
    set_proc(~(uint32_t)(PROC_UNCOND_IO_EXITING | PROC_USE_IO_BITMAPS));
    assert_false(io(0x3f8, 1));
    assert_int_equal(ncalls, 0);
}

TEST(io_bitmaps_override_unconditional)
{
    /* SDM 24.6.2: with use I/O bitmaps = 1, unconditional I/O exiting is ignored. */
    set_proc(PROC_UNCOND_IO_EXITING | PROC_USE_IO_BITMAPS);
    assert_false(io(0x3f8, 1));
    set_bit_in(IO_A, 0x3f8);
    assert_true(io(0x3f8, 1));
}

/* ------------------------------------------------------------ RDMSR / WRMSR */

/* Bit offsets in the 4 KiB MSR bitmap (SDM 24.6.9). */
#define READ_LOW 0u
#define READ_HIGH (1024u * 8)
#define WRITE_LOW (2048u * 8)
#define WRITE_HIGH (3072u * 8)

static bool rdmsr_exit(uint32_t msr) { return wants(EXIT_RDMSR, 0, msr); }
static bool wrmsr_exit(uint32_t msr) { return wants(EXIT_WRMSR, 0, msr); }

TEST(msr_without_bitmaps_always_l1s)
{
    set_proc(0);
    assert_true(rdmsr_exit(0x10));
    assert_true(wrmsr_exit(0xc0000080));
    assert_true(rdmsr_exit(0x40000000));
    assert_int_equal(ncalls, 0);
}

TEST(msr_read_low)
{
    set_proc(PROC_USE_MSR_BITMAPS);
    assert_false(rdmsr_exit(0x10));
    assert_true(consulted(MSR_BM, READ_LOW + 0x10));
    set_bit_in(MSR_BM, READ_LOW + 0x10);
    assert_true(rdmsr_exit(0x10));
    assert_false(wrmsr_exit(0x10));
    assert_false(rdmsr_exit(0xc0000010)); /* the same bit in the high range is another bit */
    assert_false(rdmsr_exit(0x11));
}

TEST(msr_read_high)
{
    set_proc(PROC_USE_MSR_BITMAPS);
    set_bit_in(MSR_BM, READ_HIGH + 0x80);
    assert_true(rdmsr_exit(0xc0000080));
    assert_true(consulted(MSR_BM, READ_HIGH + 0x80));
    assert_false(wrmsr_exit(0xc0000080));
    assert_false(rdmsr_exit(0x80));
}

TEST(msr_write_low)
{
    set_proc(PROC_USE_MSR_BITMAPS);
    set_bit_in(MSR_BM, WRITE_LOW + 0x277);
    assert_true(wrmsr_exit(0x277));
    assert_true(consulted(MSR_BM, WRITE_LOW + 0x277));
    assert_false(rdmsr_exit(0x277));
    assert_false(wrmsr_exit(0xc0000277));
}

TEST(msr_write_high)
{
    set_proc(PROC_USE_MSR_BITMAPS);
    set_bit_in(MSR_BM, WRITE_HIGH + 0x1fff);
    assert_true(wrmsr_exit(0xc0001fff));
    assert_true(consulted(MSR_BM, WRITE_HIGH + 0x1fff));
    assert_false(rdmsr_exit(0xc0001fff));
    assert_false(wrmsr_exit(0x1fff));
}

TEST(msr_range_edges)
{
    set_proc(PROC_USE_MSR_BITMAPS);
    /* The last MSR of each range is looked up in the bitmap ... */
    assert_false(rdmsr_exit(0x1fff));
    assert_false(rdmsr_exit(0xc0000000));
    assert_false(wrmsr_exit(0xc0001fff));
    assert_false(wrmsr_exit(0));
    /* ... the first one past it always exits. */
    assert_true(rdmsr_exit(0x2000));
    assert_true(wrmsr_exit(0x2000));
    assert_true(rdmsr_exit(0xbfffffff));
    assert_true(rdmsr_exit(0xc0002000));
    assert_true(wrmsr_exit(0xc0002000));
    assert_true(rdmsr_exit(0x40000000)); /* hypervisor range */
    assert_true(wrmsr_exit(0xffffffff));
}

TEST(msr_full_bitmap_every_bit)
{
    set_proc(PROC_USE_MSR_BITMAPS);
    /* Each MSR in range maps to exactly one bit of the right quarter. */
    static const uint32_t msrs[] = {0, 1, 7, 8, 0x3a, 0x1b, 0x174, 0x1ff, 0x200, 0x1ffe, 0x1fff,
                                    0xc0000080, 0xc0000100, 0xc0000102, 0xc0001000, 0xc0001fff};
    for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
        setup(NULL);
        set_proc(PROC_USE_MSR_BITMAPS);
        uint32_t m = msrs[i], bit = m & 0x1fff;
        bool high = m >= 0xc0000000u;
        set_bit_in(MSR_BM, (high ? READ_HIGH : READ_LOW) + bit);
        assert_true(rdmsr_exit(m));
        assert_false(wrmsr_exit(m));
        setup(NULL);
        set_proc(PROC_USE_MSR_BITMAPS);
        set_bit_in(MSR_BM, (high ? WRITE_HIGH : WRITE_LOW) + bit);
        assert_false(rdmsr_exit(m));
        assert_true(wrmsr_exit(m));
    }
}

/* ------------------------------------------------------------ EPT */

TEST(ept_exits_never_l1s)
{
    set_proc(~0u);
    set_proc2(~0u);
    set_pin(~0u);
    assert_false(wants(EXIT_EPT_VIOLATION, EPTQUAL_READ | EPTQUAL_LINEAR_VALID, 0));
    assert_false(wants(EXIT_EPT_VIOLATION, EPTQUAL_WRITE, 0));
    assert_false(wants(EXIT_EPT_MISCONFIG, 0, 0));
}

/* ------------------------------------------------------------ exits by control */

struct by_control {
    unsigned reason;
    uint32_t control;
    const char *name;
};

static const struct by_control primary[] = {
    {EXIT_HLT, PROC_HLT_EXITING, "HLT"},
    {EXIT_INVLPG, PROC_INVLPG_EXITING, "INVLPG"},
    {EXIT_INVPCID, PROC_INVLPG_EXITING, "INVPCID"},
    {EXIT_RDPMC, PROC_RDPMC_EXITING, "RDPMC"},
    {EXIT_RDTSC, PROC_RDTSC_EXITING, "RDTSC"},
    {EXIT_RDTSCP, PROC_RDTSC_EXITING, "RDTSCP"},
    {EXIT_MWAIT, PROC_MWAIT_EXITING, "MWAIT"},
    {EXIT_MONITOR, PROC_MONITOR_EXITING, "MONITOR"},
    {EXIT_PAUSE, PROC_PAUSE_EXITING, "PAUSE"},
    {EXIT_DR_ACCESS, PROC_MOV_DR_EXITING, "MOV DR"},
};

TEST(primary_control_exits)
{
    for (size_t i = 0; i < ARRAY_SIZE(primary); i++) {
        print_message("  %s\n", primary[i].name);
        set_proc(primary[i].control);
        assert_true(wants(primary[i].reason, 0, 0));
        set_proc(0);
        assert_false(wants(primary[i].reason, 0, 0));
        /* Every other primary and secondary control on, this one off. */
        set_proc(~primary[i].control);
        set_proc2(~0u);
        set_pin(~0u);
        assert_false(wants(primary[i].reason, 0, 0));
        set_proc2(0);
        set_pin(0);
    }
}

static const struct by_control secondary[] = {
    {EXIT_WBINVD, PROC2_WBINVD_EXITING, "WBINVD"},
    {EXIT_RDRAND, PROC2_RDRAND_EXITING, "RDRAND"},
    {EXIT_RDSEED, PROC2_RDSEED_EXITING, "RDSEED"},
    {EXIT_GDTR_IDTR, PROC2_DESC_TABLE_EXITING, "LGDT/SGDT/LIDT/SIDT"},
    {EXIT_LDTR_TR, PROC2_DESC_TABLE_EXITING, "LLDT/SLDT/LTR/STR"},
};

TEST(secondary_control_exits)
{
    for (size_t i = 0; i < ARRAY_SIZE(secondary); i++) {
        print_message("  %s\n", secondary[i].name);
        set_proc(PROC_SECONDARY_CONTROLS);
        set_proc2(secondary[i].control);
        assert_true(wants(secondary[i].reason, 0, 0));
        set_proc2(~secondary[i].control);
        assert_false(wants(secondary[i].reason, 0, 0));
        /* The secondary field is ignored while "activate secondary controls" is 0. */
        set_proc(~(uint32_t)PROC_SECONDARY_CONTROLS);
        set_proc2(~0u);
        assert_false(wants(secondary[i].reason, 0, 0));
    }
}

TEST(pin_control_exits)
{
    set_pin(PIN_EXT_INTR_EXITING);
    assert_true(wants(EXIT_EXTERNAL_INTERRUPT, 0, 0));
    assert_false(wants(EXIT_PREEMPTION_TIMER, 0, 0));
    set_pin(PIN_PREEMPTION_TIMER);
    assert_true(wants(EXIT_PREEMPTION_TIMER, 0, 0));
    assert_false(wants(EXIT_EXTERNAL_INTERRUPT, 0, 0));
    set_pin(~(uint32_t)(PIN_EXT_INTR_EXITING | PIN_PREEMPTION_TIMER));
    set_proc(~0u);
    set_proc2(~0u);
    assert_false(wants(EXIT_EXTERNAL_INTERRUPT, 0, 0));
    assert_false(wants(EXIT_PREEMPTION_TIMER, 0, 0));
}

/* vmcs02 intercepts #DB and #AC for Nestor (anti-loop); they are L1's only if vmcs12's bitmap has them. */
TEST(exceptions_nestor_adds_are_l1s_only_if_its_bitmap_says)
{
    uint32_t db = VEC_DB | (INTR_TYPE_HW_EXCEPTION << 8) | INTR_INFO_VALID;
    uint32_t ac = VEC_AC | (INTR_TYPE_HW_EXCEPTION << 8) | INTR_INFO_VALID | INTR_INFO_ERROR_CODE_VALID;
    uint32_t int1 = VEC_DB | (INTR_TYPE_PRIV_SW_EXCEPTION << 8) | INTR_INFO_VALID;
    uint32_t gp = VEC_GP | (INTR_TYPE_HW_EXCEPTION << 8) | INTR_INFO_VALID | INTR_INFO_ERROR_CODE_VALID;
    uint32_t nmi = VEC_NMI | (INTR_TYPE_NMI << 8) | INTR_INFO_VALID;
    V12(&v12, VMCS_EXCEPTION_BITMAP) = 0;
    route.intr_info = db;
    assert_false(wants(EXIT_EXCEPTION_NMI, 0, 0));
    route.intr_info = int1;
    assert_false(wants(EXIT_EXCEPTION_NMI, 0, 0));
    route.intr_info = ac;
    assert_false(wants(EXIT_EXCEPTION_NMI, 0, 0));
    route.intr_info = gp; /* only in vmcs02 because vmcs12 asked */
    assert_true(wants(EXIT_EXCEPTION_NMI, 0, 0));
    route.intr_info = nmi;
    assert_true(wants(EXIT_EXCEPTION_NMI, 0, 0));
    V12(&v12, VMCS_EXCEPTION_BITMAP) = BIT(VEC_DB) | BIT(VEC_AC);
    route.intr_info = db;
    assert_true(wants(EXIT_EXCEPTION_NMI, 0, 0));
    route.intr_info = ac;
    assert_true(wants(EXIT_EXCEPTION_NMI, 0, 0));
}

TEST(unconditional_exits_always_l1s)
{
    static const unsigned always[] = {
        EXIT_EXCEPTION_NMI, EXIT_TRIPLE_FAULT,  EXIT_INTERRUPT_WINDOW, EXIT_NMI_WINDOW, EXIT_TASK_SWITCH,
        EXIT_CPUID,         EXIT_GETSEC,        EXIT_INVD,             EXIT_VMCALL,     EXIT_VMCLEAR,
        EXIT_VMLAUNCH,      EXIT_VMPTRLD,       EXIT_VMPTRST,          EXIT_VMRESUME, /* VMREAD/VMWRITE: below */
        EXIT_VMXOFF,        EXIT_VMXON,            EXIT_INVEPT,     EXIT_INVVPID,
        EXIT_CR_ACCESS,     EXIT_XSETBV,        EXIT_INVALID_GUEST_STATE, EXIT_MSR_LOADING,
        EXIT_MACHINE_CHECK,
    };
    /* Whatever the controls say, including none at all. */
    for (int pass = 0; pass < 2; pass++) {
        uint32_t all = pass ? ~0u : 0;
        set_pin(all);
        set_proc(all);
        set_proc2(all);
        for (size_t i = 0; i < ARRAY_SIZE(always); i++) {
            if (!wants(always[i], 0, 0))
                print_error("exit reason %u not routed to L1\n", always[i]);
            assert_true(wants(always[i], 0, 0));
        }
    }
    /* CR access qualifications do not matter either (MOV to CR3, CLTS, LMSW). */
    assert_true(wants(EXIT_CR_ACCESS, 3, 0));
    assert_true(wants(EXIT_CR_ACCESS, CRQUAL_TYPE_CLTS << 4, 0));
    assert_true(wants(EXIT_CR_ACCESS, CRQUAL_TYPE_LMSW << 4, 0));
    assert_int_equal(ncalls, 0);
}

/* ------------------------------------------------------------ VMREAD/VMWRITE (SDM 30.3, 24.6.15) */

static bool vmrw(unsigned reason, uint64_t field)
{
    route.vmx_field = field;
    return wants(reason, 0, 0);
}

TEST(vmread_vmwrite_without_shadowing_always_l1s)
{
    set_proc(~(uint32_t)0);
    set_proc2(~(uint32_t)PROC2_VMCS_SHADOWING);
    assert_true(vmrw(EXIT_VMREAD, VMCS_GUEST_RIP));
    assert_true(vmrw(EXIT_VMWRITE, VMCS_GUEST_RIP));
    /* Shadowing in a secondary field that is not active (no secondary controls) counts for nothing. */
    set_proc(0);
    set_proc2(PROC2_VMCS_SHADOWING);
    assert_true(vmrw(EXIT_VMREAD, VMCS_GUEST_RIP));
    assert_int_equal(ncalls, 0);
}

TEST(vmread_vmwrite_bitmap_bit_clear_is_not_l1s)
{
    set_proc(PROC_SECONDARY_CONTROLS);
    set_proc2(PROC2_VMCS_SHADOWING);
    assert_false(vmrw(EXIT_VMREAD, VMCS_GUEST_RIP));
    assert_true(consulted(VMREAD_BM, VMCS_GUEST_RIP & 0x7fff));
    assert_false(vmrw(EXIT_VMWRITE, VMCS_GUEST_RSP));
    assert_true(consulted(VMWRITE_BM, VMCS_GUEST_RSP & 0x7fff));
}

TEST(vmread_vmwrite_bitmap_bit_set_is_l1s)
{
    set_proc(PROC_SECONDARY_CONTROLS);
    set_proc2(PROC2_VMCS_SHADOWING);
    set_bit_in(VMREAD_BM, VMCS_GUEST_RIP);
    set_bit_in(VMWRITE_BM, VMCS_GUEST_RSP);
    assert_true(vmrw(EXIT_VMREAD, VMCS_GUEST_RIP));
    assert_true(vmrw(EXIT_VMWRITE, VMCS_GUEST_RSP));
    /* Each instruction reads its own bitmap only. */
    assert_false(vmrw(EXIT_VMWRITE, VMCS_GUEST_RIP));
    assert_false(vmrw(EXIT_VMREAD, VMCS_GUEST_RSP));
    /* The HIGH encoding of a 64-bit field is a bit of its own. */
    set_bit_in(VMREAD_BM, VMCS_TSC_OFFSET);
    assert_true(vmrw(EXIT_VMREAD, VMCS_TSC_OFFSET));
    assert_false(vmrw(EXIT_VMREAD, VMCS_TSC_OFFSET | 1));
}

TEST(vmread_vmwrite_field_above_bit_14_always_l1s)
{
    set_proc(PROC_SECONDARY_CONTROLS);
    set_proc2(PROC2_VMCS_SHADOWING);
    /* Bits 63:15 of the operand set: exits whatever the bitmaps say, and they are not read. */
    assert_true(vmrw(EXIT_VMREAD, 0x8000));
    assert_true(vmrw(EXIT_VMWRITE, BIT(32) | VMCS_GUEST_RIP));
    assert_true(vmrw(EXIT_VMREAD, ~0ull));
    assert_int_equal(ncalls, 0);
    /* Bit 14 is still inside the bitmap (bit 0x4000 + field). */
    assert_false(vmrw(EXIT_VMREAD, 0x7fff));
    assert_true(consulted(VMREAD_BM, 0x7fff));
    set_bit_in(VMREAD_BM, 0x7fff);
    assert_true(vmrw(EXIT_VMREAD, 0x7fff));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(vmread_vmwrite_without_shadowing_always_l1s),
        T(vmread_vmwrite_bitmap_bit_clear_is_not_l1s),
        T(vmread_vmwrite_bitmap_bit_set_is_l1s),
        T(vmread_vmwrite_field_above_bit_14_always_l1s),
        T(io_single_port_per_bitmap_a),
        T(io_single_port_per_bitmap_b),
        T(io_every_port_of_a_multibyte_access),
        T(io_access_spanning_bitmaps_a_and_b),
        T(io_wrap_past_ffff_exits),
        T(io_unconditional_without_bitmaps),
        T(io_neither_is_not_l1s),
        T(io_bitmaps_override_unconditional),
        T(msr_without_bitmaps_always_l1s),
        T(msr_read_low),
        T(msr_read_high),
        T(msr_write_low),
        T(msr_write_high),
        T(msr_range_edges),
        T(msr_full_bitmap_every_bit),
        T(ept_exits_never_l1s),
        T(primary_control_exits),
        T(secondary_control_exits),
        T(pin_control_exits),
        T(unconditional_exits_always_l1s),
        T(exceptions_nestor_adds_are_l1s_only_if_its_bitmap_says),
    };
    return RUN_GROUP("exit_route", tests, NULL, NULL);
}
