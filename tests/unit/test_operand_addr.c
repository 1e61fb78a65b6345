/*
 * nested/operand_addr.c: the linear address of a VMX instruction's memory
 * operand from the VM-exit instruction information (SDM 27.2.5, Table 27-13):
 * every addressing form (base, index, scale, displacement; 16/32/64-bit
 * addresses), segment bases and limits, rights and expand-down segments
 * outside 64-bit mode, canonical checks (#GP, or #SS for SS) in it.
 */
#include "harness.h"
#include "nestor/operand_addr.h"
#include "nestor/vmx_arch.h"

#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RSP 4
#define RBP 5
#define R8 8
#define R15 15

#define AR_DATA_RW 0xc093u /* present, S, type 3 (read/write, accessed), D/B, G */
#define AR_DATA_RO 0xc091u
#define AR_CODE_RX 0xc09bu
#define AR_CODE_XO 0xc099u
#define AR_DATA_DOWN 0x4097u /* expand-down read/write, D/B, byte granular */

/* Instruction information: scale, address size, segment, index (or none), base (or none). */
static uint32_t info(unsigned scale, unsigned asz, unsigned seg, int index, int base)
{
    uint32_t i = scale | (asz << 7) | (seg << 15);
    i |= index < 0 ? INSNINFO_INDEX_INVALID : (uint32_t)index << 18;
    i |= base < 0 ? INSNINFO_BASE_INVALID : (uint32_t)base << 23;
    return i;
}

static struct operand_ctx flat(bool long_mode)
{
    struct operand_ctx c = {0};
    c.long_mode = long_mode;
    for (int s = 0; s < 6; s++) {
        c.seg[s].base = 0;
        c.seg[s].limit = 0xffffffff;
        c.seg[s].ar = s == OPSEG_CS ? AR_CODE_RX : AR_DATA_RW;
    }
    return c;
}

static uint64_t lin(const struct operand_ctx *c, uint32_t i, uint64_t disp, size_t n, bool write)
{
    uint64_t out = 0xdead;
    assert_int_equal(operand_linear(c, i, disp, n, write, &out), OPERAND_OK);
    return out;
}

TEST(addr_every_64bit_form)
{
    struct operand_ctx c = flat(true);
    c.gpr[RBX] = 0x1000;
    c.gpr[RCX] = 0x10;
    c.gpr[R15] = 0x7000000000ull;
    assert_int_equal(lin(&c, info(0, 2, OPSEG_DS, -1, RBX), 0, 8, false), 0x1000);                /* [rbx] */
    assert_int_equal(lin(&c, info(0, 2, OPSEG_DS, -1, RBX), 0x20, 8, false), 0x1020);             /* [rbx+disp] */
    assert_int_equal(lin(&c, info(3, 2, OPSEG_DS, RCX, RBX), 0x8, 8, false), 0x1000 + 0x80 + 8);  /* [rbx+rcx*8+8] */
    assert_int_equal(lin(&c, info(2, 2, OPSEG_DS, RCX, -1), 0x100, 8, false), 0x140);             /* [rcx*4+disp] */
    assert_int_equal(lin(&c, info(0, 2, OPSEG_DS, -1, -1), 0x5000, 8, false), 0x5000);           /* [disp] */
    assert_int_equal(lin(&c, info(1, 2, OPSEG_DS, R15, RBX), 0, 8, false), 0xe000001000ull);      /* r15*2 */
    /* A negative displacement arrives sign-extended. */
    assert_int_equal(lin(&c, info(0, 2, OPSEG_DS, -1, RBX), (uint64_t)-0x10, 8, false), 0xff0);
}

TEST(addr_size_truncates_the_effective_address)
{
    struct operand_ctx c = flat(true);
    c.gpr[RAX] = 0x1ffffff00ull;
    /* addr32 in 64-bit mode: the effective address wraps at 4 GiB. */
    assert_int_equal(lin(&c, info(0, 1, OPSEG_DS, -1, RAX), 0x200, 8, false), 0x100);
    struct operand_ctx p = flat(false);
    p.gpr[RBX] = 0xfff0;
    /* 16-bit address size: wraps at 64 KiB. */
    assert_int_equal(lin(&p, info(0, 0, OPSEG_DS, -1, RBX), 0x20, 4, false), 0x10);
}

TEST(addr_64bit_mode_only_fs_gs_have_a_base)
{
    struct operand_ctx c = flat(true);
    c.seg[OPSEG_DS].base = 0x123456; /* ignored in 64-bit mode */
    c.seg[OPSEG_FS].base = 0x7f0000000000ull;
    c.seg[OPSEG_GS].base = 0x1000;
    c.gpr[RBX] = 0x10;
    assert_int_equal(lin(&c, info(0, 2, OPSEG_DS, -1, RBX), 0, 8, false), 0x10);
    assert_int_equal(lin(&c, info(0, 2, OPSEG_FS, -1, RBX), 0, 8, false), 0x7f0000000010ull);
    assert_int_equal(lin(&c, info(0, 2, OPSEG_GS, -1, RBX), 0, 8, false), 0x1010);
}

TEST(addr_non_canonical_faults_gp_or_ss)
{
    struct operand_ctx c = flat(true);
    uint64_t out;
    c.gpr[RBX] = 0x0000800000000000ull;
    assert_int_equal(operand_linear(&c, info(0, 2, OPSEG_DS, -1, RBX), 0, 8, false, &out), OPERAND_GP);
    assert_int_equal(operand_linear(&c, info(0, 2, OPSEG_SS, -1, RBX), 0, 8, false, &out), OPERAND_SS);
    /* The last byte crossing into non-canonical space faults too. */
    c.gpr[RBX] = 0x00007ffffffffffcull;
    assert_int_equal(operand_linear(&c, info(0, 2, OPSEG_DS, -1, RBX), 0, 8, false, &out), OPERAND_GP);
    /* The upper canonical half is fine. */
    c.gpr[RBX] = 0xffff800000000000ull;
    assert_int_equal(lin(&c, info(0, 2, OPSEG_DS, -1, RBX), 0, 8, false), 0xffff800000000000ull);
}

/* 15: with CR4.LA57 addresses are canonical over 57 bits (SDM vol. 3A 4.5). */
TEST(addr_la57_canonical_is_57_bits)
{
    struct operand_ctx c = flat(true);
    uint64_t out;
    c.la57 = true;
    c.gpr[RBX] = 0x00ff800000001000ull; /* bits 55:47 set, bit 56 clear: canonical only with LA57 */
    assert_int_equal(lin(&c, info(0, 2, OPSEG_DS, -1, RBX), 0, 8, false), 0x00ff800000001000ull);
    c.gpr[RBX] = 0xff00000000000000ull;
    assert_int_equal(lin(&c, info(0, 2, OPSEG_DS, -1, RBX), 0, 8, false), 0xff00000000000000ull);
    c.gpr[RBX] = 0x0100000000000000ull; /* bit 56 set, 63:57 clear */
    assert_int_equal(operand_linear(&c, info(0, 2, OPSEG_DS, -1, RBX), 0, 8, false, &out), OPERAND_GP);
    c.la57 = false;
    c.gpr[RBX] = 0x00ff800000001000ull;
    assert_int_equal(operand_linear(&c, info(0, 2, OPSEG_DS, -1, RBX), 0, 8, false, &out), OPERAND_GP);
}

TEST(addr_32bit_segment_base_and_limit)
{
    struct operand_ctx c = flat(false);
    uint64_t out;
    c.seg[OPSEG_ES].base = 0x10000;
    c.seg[OPSEG_ES].limit = 0xfff;
    c.gpr[RDX] = 0xff8;
    assert_int_equal(lin(&c, info(0, 1, OPSEG_ES, -1, RDX), 0, 8, false), 0x10ff8);
    /* One byte past the limit faults. */
    assert_int_equal(operand_linear(&c, info(0, 1, OPSEG_ES, -1, RDX), 1, 8, false, &out), OPERAND_GP);
    /* The linear address wraps at 4 GiB outside 64-bit mode. */
    c.seg[OPSEG_DS].base = 0xfffff000;
    c.gpr[RDX] = 0x2000;
    assert_int_equal(lin(&c, info(0, 1, OPSEG_DS, -1, RDX), 0, 8, false), 0x1000);
    /* SS limit violations are #SS. */
    c.seg[OPSEG_SS].limit = 0x10;
    c.gpr[RSP] = 0x10;
    assert_int_equal(operand_linear(&c, info(0, 1, OPSEG_SS, -1, RSP), 0, 8, false, &out), OPERAND_SS);
}

TEST(addr_rights_outside_64bit_mode)
{
    struct operand_ctx c = flat(false);
    uint64_t out;
    c.seg[OPSEG_DS].ar = AR_DATA_RO;
    assert_int_equal(lin(&c, info(0, 1, OPSEG_DS, -1, -1), 0x100, 8, false), 0x100); /* reading is fine */
    assert_int_equal(operand_linear(&c, info(0, 1, OPSEG_DS, -1, -1), 0x100, 8, true, &out), OPERAND_GP);
    /* Code segments: readable ones may be read, never written; execute-only ones neither. */
    assert_int_equal(lin(&c, info(0, 1, OPSEG_CS, -1, -1), 0x100, 8, false), 0x100);
    assert_int_equal(operand_linear(&c, info(0, 1, OPSEG_CS, -1, -1), 0x100, 8, true, &out), OPERAND_GP);
    c.seg[OPSEG_CS].ar = AR_CODE_XO;
    assert_int_equal(operand_linear(&c, info(0, 1, OPSEG_CS, -1, -1), 0x100, 8, false, &out), OPERAND_GP);
    /* An unusable segment faults whatever the access. */
    c.seg[OPSEG_FS].ar = AR_DATA_RW | VMX_AR_UNUSABLE;
    assert_int_equal(operand_linear(&c, info(0, 1, OPSEG_FS, -1, -1), 0x100, 8, false, &out), OPERAND_GP);
}

TEST(addr_expand_down_segment)
{
    struct operand_ctx c = flat(false);
    uint64_t out;
    c.seg[OPSEG_SS].ar = AR_DATA_DOWN;
    c.seg[OPSEG_SS].limit = 0x0fff; /* valid offsets: 0x1000 - 0xffffffff */
    assert_int_equal(lin(&c, info(0, 1, OPSEG_SS, -1, -1), 0x1000, 8, true), 0x1000);
    assert_int_equal(operand_linear(&c, info(0, 1, OPSEG_SS, -1, -1), 0x0ff8, 8, true, &out), OPERAND_SS);
    c.seg[OPSEG_SS].ar = AR_DATA_DOWN & ~VMX_AR_DB; /* 16-bit: the top is 0xffff */
    assert_int_equal(operand_linear(&c, info(0, 0, OPSEG_SS, -1, -1), 0xfffc, 8, true, &out), OPERAND_SS);
}

TEST(addr_bad_encodings_are_refused)
{
    struct operand_ctx c = flat(true);
    uint64_t out;
    assert_int_equal(operand_linear(&c, info(0, 3, OPSEG_DS, -1, -1), 0, 8, false, &out), OPERAND_GP);
    assert_int_equal(operand_linear(&c, info(0, 2, 6, -1, -1), 0, 8, false, &out), OPERAND_GP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addr_every_64bit_form),
        cmocka_unit_test(addr_size_truncates_the_effective_address),
        cmocka_unit_test(addr_64bit_mode_only_fs_gs_have_a_base),
        cmocka_unit_test(addr_non_canonical_faults_gp_or_ss),
        cmocka_unit_test(addr_la57_canonical_is_57_bits),
        cmocka_unit_test(addr_32bit_segment_base_and_limit),
        cmocka_unit_test(addr_rights_outside_64bit_mode),
        cmocka_unit_test(addr_expand_down_segment),
        cmocka_unit_test(addr_bad_encodings_are_refused),
    };
    return RUN_GROUP("operand_addr", tests, NULL, NULL);
}
