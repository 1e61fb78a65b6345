/*
 * vmx/lapic_decode.c and vmx/lapic_icr.c: decoding the store behind a write
 * to L1's xAPIC page (every addressing form in 16/32/64-bit code, prefixes,
 * refusals, truncation) and resolving an ICR write to the CPUs it reaches.
 * Encodings come from GNU as (x86-64, --32, .code16) + objdump, pasted with
 * the assembly they came from.
 */
#include <stdlib.h>

#include "harness.h"
#include "nestor/lapic_emul.h"

struct form {
    const char *what;
    unsigned mode;
    uint8_t bytes[15];
    unsigned len;
    bool from_reg;
    unsigned reg;
    uint32_t imm;
    bool xchg;
};

#define REG(r) true, (r), 0, false
#define IMM(v) false, 0, (v), false
#define XCHG(r) true, (r), 0, true

static const struct form forms[] = {
    /* 64-bit code */
    { "mov %eax,(%rdx)", 64, { 0x89, 0x02 }, 2, REG(0) },
    { "mov %ecx,(%rdi)", 64, { 0x89, 0x0f }, 2, REG(1) },
    { "mov %r8d,(%rax) (REX.R)", 64, { 0x44, 0x89, 0x00 }, 3, REG(8) },
    { "mov %eax,(%r9) (REX.B)", 64, { 0x41, 0x89, 0x01 }, 3, REG(0) },
    { "mov %esi,0x300(%rbx)", 64, { 0x89, 0xb3, 0x00, 0x03, 0x00, 0x00 }, 6, REG(6) },
    { "mov %edx,0x10(%rsp)", 64, { 0x89, 0x54, 0x24, 0x10 }, 4, REG(2) },
    { "mov %eax,0x0(%rbp)", 64, { 0x89, 0x45, 0x00 }, 3, REG(0) },
    { "mov %eax,0x0(%r13)", 64, { 0x41, 0x89, 0x45, 0x00 }, 4, REG(0) },
    { "mov %eax,(%r12)", 64, { 0x41, 0x89, 0x04, 0x24 }, 4, REG(0) },
    { "mov %eax,(%rax,%r11,4) (REX.X)", 64, { 0x42, 0x89, 0x04, 0x98 }, 4, REG(0) },
    { "mov %r15d,0x12345678(%r10,%r14,8) (REX.RXB)", 64,
      { 0x47, 0x89, 0xbc, 0xf2, 0x78, 0x56, 0x34, 0x12 }, 8, REG(15) },
    { "mov %eax,0x300(%rip)", 64, { 0x89, 0x05, 0x00, 0x03, 0x00, 0x00 }, 6, REG(0) },
    { "movl $0x12345678,0x300(%rip)", 64,
      { 0xc7, 0x05, 0x00, 0x03, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12 }, 10, IMM(0x12345678) },
    { "movl $0xc500,0x310(%rdx)", 64,
      { 0xc7, 0x82, 0x10, 0x03, 0x00, 0x00, 0x00, 0xc5, 0x00, 0x00 }, 10, IMM(0xc500) },
    { "xchg %eax,(%rdx)", 64, { 0x87, 0x02 }, 2, XCHG(0) },
    { "xchg %r9d,0x300(%rip)", 64, { 0x44, 0x87, 0x0d, 0x00, 0x03, 0x00, 0x00 }, 7, XCHG(9) },
    { "movabs %eax,0xfee00300 (A3, moffs64)", 64,
      { 0xa3, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 9, REG(0) },
    { "addr32 movabs %eax,0xfee00300 (67 A3, moffs32)", 64,
      { 0x67, 0xa3, 0x00, 0x03, 0xe0, 0xfe }, 6, REG(0) },
    { "mov %eax,(%edx) (67)", 64, { 0x67, 0x89, 0x02 }, 3, REG(0) },
    { "mov %eax,%fs:(%rdx)", 64, { 0x64, 0x89, 0x02 }, 3, REG(0) },
    { "mov %eax,0x0(,%rcx,2) (SIB base=5 mod=0: disp32)", 64,
      { 0x89, 0x04, 0x4d, 0x00, 0x00, 0x00, 0x00 }, 7, REG(0) },
    { "mov %eax,0x0(,%rcx,2) with REX.B (base still none: disp32)", 64,
      { 0x41, 0x89, 0x04, 0x4d, 0x00, 0x00, 0x00, 0x00 }, 8, REG(0) },
    { "REX.W not directly before the opcode is ignored: 48 3e 89 02", 64, { 0x48, 0x3e, 0x89, 0x02 }, 4, REG(0) },
    { "two REX, the last counts: 41 44 89 00 is REX.R only", 64,
      { 0x41, 0x44, 0x89, 0x00 }, 4, REG(8) },
    /* Linux x86-64 writes through the fixmap (FIX_APIC_BASE): SIB without base or index, disp32 */
    { "mov %edi,0xffffffffff5fb300", 64, { 0x89, 0x3c, 0x25, 0x00, 0xb3, 0x5f, 0xff }, 7, REG(7) },
    { "movl $0x8500,0xffffffffff5fb300", 64,
      { 0xc7, 0x04, 0x25, 0x00, 0xb3, 0x5f, 0xff, 0x00, 0x85, 0x00, 0x00 }, 11, IMM(0x8500) },
    { "xchg %eax,0xffffffffff5fb300", 64, { 0x87, 0x04, 0x25, 0x00, 0xb3, 0x5f, 0xff }, 7, XCHG(0) },
    /* 32-bit code */
    { "movl $0xc4500,0xfee00300", 32,
      { 0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x45, 0x0c, 0x00 }, 10, IMM(0xc4500) },
    { "mov %eax,0xfee00310 (A3)", 32, { 0xa3, 0x10, 0x03, 0xe0, 0xfe }, 5, REG(0) },
    { "mov %eax,(%edx)", 32, { 0x89, 0x02 }, 2, REG(0) },
    { "mov %ecx,0x300(%ebx)", 32, { 0x89, 0x8b, 0x00, 0x03, 0x00, 0x00 }, 6, REG(1) },
    { "mov %eax,(%esp)", 32, { 0x89, 0x04, 0x24 }, 3, REG(0) },
    { "mov %eax,0x300(,%ecx,4)", 32, { 0x89, 0x04, 0x8d, 0x00, 0x03, 0x00, 0x00 }, 7, REG(0) },
    { "mov %eax,0x0(%ebp)", 32, { 0x89, 0x45, 0x00 }, 3, REG(0) },
    { "mov %eax,(%bx,%si) (67)", 32, { 0x67, 0x89, 0x00 }, 3, REG(0) },
    { "mov %eax,0x300 (67 A3, moffs16)", 32, { 0x67, 0xa3, 0x00, 0x03 }, 4, REG(0) },
    { "movl $0x1,0x10(%bp) (67)", 32, { 0x67, 0xc7, 0x46, 0x10, 0x01, 0x00, 0x00, 0x00 }, 8, IMM(1) },
    { "xchg %eax,(%edi)", 32, { 0x87, 0x07 }, 2, XCHG(0) },
    { "mov %eax,%es:0x12(%ecx,%edx,1)", 32, { 0x26, 0x89, 0x44, 0x11, 0x12 }, 5, REG(0) },
    { "mov %edi,0x12345678(%eax,%ebx,2) (mod=2 SIB)", 32,
      { 0x89, 0xbc, 0x58, 0x78, 0x56, 0x34, 0x12 }, 7, REG(7) },
    /* 16-bit code: 66 makes the operand 32-bit */
    { "mov %eax,(%bx,%si)", 16, { 0x66, 0x89, 0x00 }, 3, REG(0) },
    { "mov %eax,0x300 (A3, moffs16)", 16, { 0x66, 0xa3, 0x00, 0x03 }, 4, REG(0) },
    { "mov %eax,0x12(%bp)", 16, { 0x66, 0x89, 0x46, 0x12 }, 4, REG(0) },
    { "mov %eax,0x1234(%di)", 16, { 0x66, 0x89, 0x85, 0x34, 0x12 }, 5, REG(0) },
    { "mov %eax,0x300 (mod=0 rm=6: disp16)", 16, { 0x66, 0x89, 0x06, 0x00, 0x03 }, 5, REG(0) },
    { "movl $0x12345678,0x300", 16,
      { 0x66, 0xc7, 0x06, 0x00, 0x03, 0x78, 0x56, 0x34, 0x12 }, 9, IMM(0x12345678) },
    { "mov %eax,(%edx) (67 66)", 16, { 0x67, 0x66, 0x89, 0x02 }, 4, REG(0) },
    { "movl $0x5,0x300(%ebx,%ecx,4) (67 66)", 16,
      { 0x67, 0x66, 0xc7, 0x84, 0x8b, 0x00, 0x03, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00 }, 13, IMM(5) },
    { "xchg %eax,(%bx)", 16, { 0x66, 0x87, 0x07 }, 3, XCHG(0) },
    { "66 66 89 00: two 66 prefixes are one flip, still 32-bit", 16, { 0x66, 0x66, 0x89, 0x00 }, 4, REG(0) },
};

TEST(decode_every_form)
{
    for (size_t f = 0; f < ARRAY_SIZE(forms); f++) {
        const struct form *e = &forms[f];
        struct apic_store s;
        const char *why = NULL;
        print_message("%s\n", e->what);
        /* An exact-size heap copy: ASan catches any read past the instruction. */
        uint8_t *b = malloc(e->len);
        memcpy(b, e->bytes, e->len);
        bool ok = apic_store_decode(b, e->len, e->mode, &s, &why);
        free(b);
        assert_true(ok);
        assert_int_equal(s.len, e->len);
        assert_int_equal(s.from_reg, e->from_reg);
        assert_int_equal(s.reg, e->reg);
        assert_int_equal(s.imm, e->imm);
        assert_int_equal(s.xchg, e->xchg);
        /* Trailing bytes (the next instruction) change nothing. */
        uint8_t full[15];
        memset(full, 0x90, sizeof(full));
        memcpy(full, e->bytes, e->len);
        assert_true(apic_store_decode(full, sizeof(full), e->mode, &s, &why));
        assert_int_equal(s.len, e->len);
    }
}

TEST(decode_truncated_at_every_length)
{
    for (size_t f = 0; f < ARRAY_SIZE(forms); f++) {
        const struct form *e = &forms[f];
        for (unsigned k = 0; k < e->len; k++) {
            struct apic_store s;
            const char *why = NULL;
            uint8_t *b = malloc(k ? k : 1);
            memcpy(b, e->bytes, k);
            bool ok = apic_store_decode(b, k, e->mode, &s, &why);
            free(b);
            assert_false(ok);
            assert_non_null(why);
            assert_str_contains(why, "truncated");
        }
    }
}

static const char *refused(const uint8_t *bytes, size_t n, unsigned mode)
{
    struct apic_store s;
    const char *why = NULL;
    uint8_t *b = malloc(n);
    memcpy(b, bytes, n);
    bool ok = apic_store_decode(b, n, mode, &s, &why);
    free(b);
    assert_false(ok);
    assert_non_null(why);
    return why;
}
#define REFUSED(mode, why_part, ...)                                                      \
    do {                                                                                  \
        const uint8_t b_[] = { __VA_ARGS__ };                                             \
        assert_str_contains(refused(b_, sizeof(b_), (mode)), (why_part));                 \
    } while (0)

TEST(decode_refuses_other_sizes)
{
    REFUSED(64, "16-bit operand", 0x66, 0x89, 0x02);       /* mov %ax,(%rdx) */
    REFUSED(32, "16-bit operand", 0x66, 0x89, 0x02);       /* mov %ax,(%edx) */
    REFUSED(32, "16-bit operand", 0x66, 0xc7, 0x05, 0, 3, 0xe0, 0xfe, 1, 0); /* movw $1,0xfee00300 */
    REFUSED(16, "16-bit operand", 0x89, 0x00);             /* mov %ax,(%bx,%si) in 16-bit code */
    REFUSED(32, "16-bit operand", 0x66, 0x66, 0x89, 0x02); /* 66 twice is still one flip */
    REFUSED(64, "REX.W", 0x48, 0x89, 0x02);                /* mov %rax,(%rdx) */
    REFUSED(64, "REX.W", 0x4c, 0x87, 0x02);                /* xchg %r8,(%rdx) */
    REFUSED(64, "REX.W", 0x44, 0x48, 0x89, 0x02);          /* the last REX counts */
    REFUSED(64, "REX.W", 0x48, 0xc7, 0x05, 0, 3, 0, 0, 1, 0, 0, 0);
    REFUSED(64, "not a 32-bit", 0x88, 0x02);               /* mov %al,(%rdx) */
    REFUSED(64, "not a 32-bit", 0x8b, 0x02);               /* mov (%rdx),%eax: a load */
    REFUSED(64, "not a 32-bit", 0xc6, 0x02, 0x01);         /* movb $1,(%rdx) */
    REFUSED(64, "not a 32-bit", 0x01, 0x02);               /* add %eax,(%rdx) */
    REFUSED(64, "not a 32-bit", 0x0f, 0x11, 0x02);         /* movups */
    REFUSED(32, "not a 32-bit", 0x41, 0x89, 0x02);         /* 41 is INC ECX outside 64-bit mode */
    REFUSED(64, "not a 32-bit", 0xa1, 0, 3, 0xe0, 0xfe, 0, 0, 0, 0); /* mov moffs,%eax: a load */
    REFUSED(64, "mod=3", 0x89, 0xc2);                      /* mov %eax,%edx */
    REFUSED(64, "mod=3", 0x87, 0xd0);                      /* xchg %edx,%eax */
    REFUSED(64, "ModRM.reg", 0xc7, 0x0a, 1, 0, 0, 0);      /* C7 /1 */
    REFUSED(64, "mod=3", 0xc7, 0xf8, 0, 0, 0, 0);          /* xbegin rel32 */
    REFUSED(64, "LOCK", 0xf0, 0x87, 0x02);
    REFUSED(64, "LOCK", 0xf3, 0x89, 0x02);
    REFUSED(8, "16, 32 or 64", 0x89, 0x02);
}

TEST(decode_fifteen_byte_limit)
{
    uint8_t b[16];
    /* 13 prefixes + 89 00: exactly 15 bytes, accepted. */
    memset(b, 0x3e, sizeof(b));
    b[13] = 0x89;
    b[14] = 0x00;
    struct apic_store s;
    const char *why = NULL;
    assert_true(apic_store_decode(b, 15, 64, &s, &why));
    assert_int_equal(s.len, 15);
    /* 14 prefixes + 89 00: 16 bytes. */
    memset(b, 0x3e, sizeof(b));
    b[14] = 0x89;
    b[15] = 0x00;
    assert_false(apic_store_decode(b, 16, 64, &s, &why));
    assert_str_contains(why, "longer than 15");
    /* 16 prefixes: never an opcode within 15 bytes; n above 15 is not read past 15. */
    memset(b, 0x26, sizeof(b));
    assert_false(apic_store_decode(b, 16, 32, &s, &why));
    assert_str_contains(why, "longer than 15");
    /* 10 prefixes + C7 05 disp32 imm32 = 20 bytes. */
    uint8_t c[15];
    memset(c, 0x2e, 10);
    c[10] = 0xc7;
    c[11] = 0x05;
    memset(c + 12, 0, 3);
    assert_false(apic_store_decode(c, 15, 32, &s, &why));
    assert_str_contains(why, "longer than 15");
}

/* ---- ICR ---- */

#define FIXED_PHYS(vec) (ICR_DM_FIXED << 8 | (vec))
#define LOGICAL (1u << 11)
#define SH(s) ((uint32_t)(s) << 18)
#define DEST(d) ((uint32_t)(d) << 24)
#define DFR_FLAT 0xffffffffu
#define DFR_CLUSTER 0x0fffffffu

static const struct apic_view four[] = {
    { 0, 1u << 24, DFR_FLAT },
    { 1, 2u << 24, DFR_FLAT },
    { 2, 4u << 24, DFR_FLAT },
    { 3, 8u << 24, DFR_FLAT },
};

TEST(icr_shorthands)
{
    assert_int_equal(apic_ipi_targets(FIXED_PHYS(0x30) | SH(ICR_SH_SELF), DEST(3), four, 4, 2), 0x4);
    assert_int_equal(apic_ipi_targets(FIXED_PHYS(0x30) | SH(ICR_SH_ALL), DEST(3), four, 4, 2), 0xf);
    assert_int_equal(apic_ipi_targets(FIXED_PHYS(0x30) | SH(ICR_SH_OTHERS), DEST(3), four, 4, 2), 0xb);
    /* Shorthands ignore the destination field and mode. */
    assert_int_equal(apic_ipi_targets(0xc4500 | LOGICAL, 0, four, 4, 0), 0xe); /* INIT to all-but-self */
    assert_int_equal(apic_ipi_targets(FIXED_PHYS(1) | SH(ICR_SH_ALL), 0, four, 64, 0) != 0, 1);
}

TEST(icr_shorthand_all_with_64_cpus)
{
    static struct apic_view many[64];
    for (unsigned i = 0; i < 64; i++)
        many[i] = (struct apic_view){ i, 0, DFR_FLAT };
    assert_true(apic_ipi_targets(SH(ICR_SH_ALL), 0, many, 64, 5) == ~(uint64_t)0);
    assert_true(apic_ipi_targets(SH(ICR_SH_OTHERS), 0, many, 64, 63) == ~(uint64_t)0 >> 1);
    assert_true(apic_ipi_targets(0, DEST(63), many, 64, 0) == (uint64_t)1 << 63);
    assert_true(apic_ipi_targets(0, DEST(0xff), many, 64, 0) == ~(uint64_t)0);
}

TEST(icr_out_of_range_arguments)
{
    /* A sender outside the array reaches nobody by "self" and does not drop anyone from "others". */
    assert_int_equal(apic_ipi_targets(SH(ICR_SH_SELF), 0, four, 4, 9), 0);
    assert_int_equal(apic_ipi_targets(SH(ICR_SH_OTHERS), 0, four, 4, 9), 0xf);
    assert_int_equal(apic_ipi_targets(0, DEST(0xff), NULL, 0, 0), 0);
}

TEST(icr_physical)
{
    static const struct apic_view odd_ids[] = { { 0, 0, DFR_FLAT }, { 4, 0, DFR_FLAT }, { 6, 0, DFR_FLAT } };
    assert_int_equal(apic_ipi_targets(0x4500, DEST(4), odd_ids, 3, 0), 0x2); /* INIT assert to APIC 4 */
    assert_int_equal(apic_ipi_targets(0x0608, DEST(6), odd_ids, 3, 0), 0x4); /* SIPI to APIC 6 */
    assert_int_equal(apic_ipi_targets(0x4500, DEST(1), odd_ids, 3, 0), 0);   /* no such APIC */
    assert_int_equal(apic_ipi_targets(0x4500, DEST(0xff), odd_ids, 3, 1), 0x7); /* broadcast, self included */
    /* Only bits 31:24 of the high word are the destination. */
    assert_int_equal(apic_ipi_targets(0x4500, DEST(4) | 0x00ffffff, odd_ids, 3, 0), 0x2);
}

TEST(icr_logical_flat)
{
    assert_int_equal(apic_ipi_targets(FIXED_PHYS(0x40) | LOGICAL, DEST(0x02), four, 4, 0), 0x2);
    assert_int_equal(apic_ipi_targets(FIXED_PHYS(0x40) | LOGICAL, DEST(0x0a), four, 4, 0), 0xa);
    assert_int_equal(apic_ipi_targets(FIXED_PHYS(0x40) | LOGICAL, DEST(0xff), four, 4, 0), 0xf);
    assert_int_equal(apic_ipi_targets(FIXED_PHYS(0x40) | LOGICAL, DEST(0x30), four, 4, 0), 0);
    assert_int_equal(apic_ipi_targets(FIXED_PHYS(0x40) | LOGICAL, DEST(0), four, 4, 0), 0);
    /* Logical mode does not look at APIC IDs. */
    static const struct apic_view unset[] = { { 1, 0, DFR_FLAT }, { 2, 0, DFR_FLAT } };
    assert_int_equal(apic_ipi_targets(LOGICAL, DEST(1), unset, 2, 0), 0);
}

TEST(icr_logical_cluster)
{
    static const struct apic_view cl[] = {
        { 0, 0x11u << 24, DFR_CLUSTER }, /* cluster 1, bit 0 */
        { 1, 0x12u << 24, DFR_CLUSTER }, /* cluster 1, bit 1 */
        { 2, 0x21u << 24, DFR_CLUSTER }, /* cluster 2, bit 0 */
        { 3, 0x28u << 24, DFR_CLUSTER }, /* cluster 2, bit 3 */
    };
    assert_int_equal(apic_ipi_targets(LOGICAL, DEST(0x11), cl, 4, 0), 0x1);
    assert_int_equal(apic_ipi_targets(LOGICAL, DEST(0x13), cl, 4, 0), 0x3);
    assert_int_equal(apic_ipi_targets(LOGICAL, DEST(0x29), cl, 4, 0), 0xc);
    assert_int_equal(apic_ipi_targets(LOGICAL, DEST(0x31), cl, 4, 0), 0);
    assert_int_equal(apic_ipi_targets(LOGICAL, DEST(0x10), cl, 4, 0), 0); /* cluster right, no member bit */
    assert_int_equal(apic_ipi_targets(LOGICAL, DEST(0xff), cl, 4, 0), 0xf); /* broadcast to every cluster */
    /* A reserved DFR model matches nothing. */
    static const struct apic_view bad[] = { { 0, 0x11u << 24, 0x5fffffffu } };
    assert_int_equal(apic_ipi_targets(LOGICAL, DEST(0x11), bad, 1, 0), 0);
}

TEST(icr_init_deassert)
{
    assert_true(apic_icr_is_init_deassert(0x8500));   /* Linux: APIC_INT_LEVELTRIG | APIC_DM_INIT */
    assert_true(apic_icr_is_init_deassert(0xc8500 | 0x800));
    assert_false(apic_icr_is_init_deassert(0xc500));  /* INIT level assert */
    assert_false(apic_icr_is_init_deassert(0x4500));  /* INIT edge assert */
    assert_false(apic_icr_is_init_deassert(0x0500));  /* INIT edge, level 0: still an INIT */
    assert_false(apic_icr_is_init_deassert(0x8600));  /* SIPI */
    assert_false(apic_icr_is_init_deassert(0x8000));  /* fixed */
    assert_int_equal(ICR_DELIVERY_MODE(0xc4608u), ICR_DM_STARTUP);
    assert_int_equal(ICR_SHORTHAND(0xc4608u), ICR_SH_OTHERS);
}

/* The INIT/SIPI state machine of one vCPU (vmx/exit_lapic.c takes its requests through ipi_decide). */
TEST(ipi_init_resets_a_running_cpu)
{
    struct ipi_decision d = ipi_decide(VCPU_IPI_INIT, false, false);
    assert_true(d.reset);
    assert_false(d.hold_init);
    assert_false(d.start);
}

TEST(ipi_init_then_sipi_starts_a_running_cpu_again)
{
    /* A second INIT-SIPI round (CPU offline/online, kexec): INIT first, so the SIPI finds it waiting. */
    struct ipi_decision d = ipi_decide(VCPU_IPI_INIT | VCPU_IPI_SIPI, false, false);
    assert_true(d.reset);
    assert_true(d.start);
}

TEST(ipi_sipi_starts_only_a_waiting_cpu)
{
    assert_true(ipi_decide(VCPU_IPI_SIPI, false, true).start);
    struct ipi_decision d = ipi_decide(VCPU_IPI_SIPI, false, false); /* a running CPU ignores SIPI (8.4.1) */
    assert_false(d.start);
    assert_false(d.reset);
}

TEST(ipi_init_is_held_in_vmx_operation)
{
    /* 23.8: INIT blocked while L1 is in VMX operation; a SIPI then finds the CPU running and is ignored. */
    struct ipi_decision d = ipi_decide(VCPU_IPI_INIT | VCPU_IPI_SIPI, true, false);
    assert_true(d.hold_init);
    assert_false(d.reset);
    assert_false(d.start);
}

TEST(ipi_init_to_a_waiting_cpu_keeps_it_waiting)
{
    struct ipi_decision d = ipi_decide(VCPU_IPI_INIT, false, true);
    assert_true(d.reset);
    assert_false(d.start);
    d = ipi_decide(0, false, true);
    assert_false(d.reset || d.start || d.hold_init);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_every_form),
        cmocka_unit_test(decode_truncated_at_every_length),
        cmocka_unit_test(decode_refuses_other_sizes),
        cmocka_unit_test(decode_fifteen_byte_limit),
        cmocka_unit_test(icr_shorthands),
        cmocka_unit_test(icr_shorthand_all_with_64_cpus),
        cmocka_unit_test(icr_out_of_range_arguments),
        cmocka_unit_test(icr_physical),
        cmocka_unit_test(icr_logical_flat),
        cmocka_unit_test(icr_logical_cluster),
        cmocka_unit_test(icr_init_deassert),
        cmocka_unit_test(ipi_init_resets_a_running_cpu),
        cmocka_unit_test(ipi_init_then_sipi_starts_a_running_cpu_again),
        cmocka_unit_test(ipi_sipi_starts_only_a_waiting_cpu),
        cmocka_unit_test(ipi_init_is_held_in_vmx_operation),
        cmocka_unit_test(ipi_init_to_a_waiting_cpu_keeps_it_waiting),
    };
    return RUN_GROUP("lapic_emul", tests, NULL, NULL);
}
