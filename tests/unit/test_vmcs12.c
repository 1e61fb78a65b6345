/*
 * nested/vmcs12_fields.c and include/nestor/vmcs12.h: the vmcs12 field table
 * (SDM Appendix B encodings, 24.11.2 encoding bits), VMREAD/VMWRITE width and
 * access rules, IA32_VMX_VMCS_ENUM's index and the region layout of
 * docs/NESTED.md.
 */
#include <stddef.h>

#include "harness.h"
#include "nestor/vmcs12.h"
#include "nestor/vmx_arch.h"

#define ALL_FEATURES (V12F_VPID | V12F_EPT | V12F_PREEMPT | V12F_SHADOW | V12F_PML | V12F_TPR | V12F_APIC_ACCESS | V12F_VID)

/* The table again, straight from the X-macro, with the feature each field needs. */
struct field {
    uint32_t enc;
    unsigned feat;
};
#define AS_FIELD(enc, feat) {enc, feat},
static const struct field fields[] = {VMCS12_FIELDS(AS_FIELD)};

static struct vmcs12 *fresh(void)
{
    static struct vmcs12 v;
    memset(&v, 0, sizeof v);
    return &v;
}

static unsigned width_of(uint32_t e) { return VMCS_ENC_WIDTH(e); }

TEST(vmcs12_table_matches_the_enum)
{
    assert_int_equal(ARRAY_SIZE(fields), VMCS12_NFIELDS);
    for (unsigned s = 0; s < VMCS12_NFIELDS; s++)
        assert_int_equal(vmcs12_encoding_of(s), fields[s].enc);
    /* Past the end: 0, not a neighbour's encoding. */
    assert_int_equal(vmcs12_encoding_of(VMCS12_NFIELDS), 0);
    assert_int_equal(vmcs12_encoding_of(~0u), 0);
}

TEST(vmcs12_every_encoding_round_trips)
{
    for (unsigned s = 0; s < VMCS12_NFIELDS; s++) {
        uint32_t e = vmcs12_encoding_of(s);
        assert_int_equal(vmcs12_slot_of(e, ALL_FEATURES), (int)s);
        /* With exactly the feature it needs it exists too. */
        assert_int_equal(vmcs12_slot_of(e, fields[s].feat), (int)s);
        if (width_of(e) == VMCS_WIDTH_64)
            assert_int_equal(vmcs12_slot_of(e | VMCS_ENC_HIGH, ALL_FEATURES), (int)s);
    }
}

TEST(vmcs12_no_duplicate_encodings)
{
    for (unsigned a = 0; a < VMCS12_NFIELDS; a++) {
        assert_int_equal(fields[a].enc & VMCS_ENC_HIGH, 0); /* full encodings only */
        for (unsigned b = a + 1; b < VMCS12_NFIELDS; b++)
            assert_int_not_equal(fields[a].enc, fields[b].enc);
    }
}

/* Exhaustively over bits 14:0 (and a few above): exactly the table's encodings (+ high halves) exist. */
TEST(vmcs12_exhaustive_lookup_agrees_with_table)
{
    unsigned found = 0, expect = 0;
    for (unsigned s = 0; s < VMCS12_NFIELDS; s++)
        expect += width_of(fields[s].enc) == VMCS_WIDTH_64 ? 2 : 1;
    for (uint64_t e = 0; e <= 0xffff; e++) {
        int s = vmcs12_slot_of(e, ALL_FEATURES);
        if (s < 0)
            continue;
        found++;
        assert_true(s < (int)VMCS12_NFIELDS);
        assert_int_equal(vmcs12_encoding_of((unsigned)s), e & ~(uint64_t)VMCS_ENC_HIGH);
        assert_int_equal(e & ~(uint64_t)0x6fff, 0);
    }
    assert_int_equal(found, expect);
}

TEST(vmcs12_unsupported_encodings)
{
    static const uint64_t bad[] = {
        0x6c42,                     /* natural host-state index 0x21: no such field */
        0x0001,                     /* bit 0 (high access) on a 16-bit field */
        0x4401,                     /* high access of a 32-bit field */
        0x6801,                     /* high access of a natural-width field */
        0x1800,                     /* bit 12 set (reserved) */
        0x1000,                     /* bit 12 alone */
        0x8800,                     /* bit 15 set */
        0x10800,                    /* bit 16 set */
        (1ull << 32) | 0x0800,      /* bits 63:32 of a 64-bit operand */
        (1ull << 63) | 0x681e,      /* bit 63 */
        0x0880,                     /* index 0x40: aliases index 0 in a 6-bit table */
        0x0bfe,                     /* index 0x1ff */
        0x0002,                     /* posted-interrupt notification vector: not offered */
        0x2034,                     /* TSC multiplier: not offered */
        0x2808,                     /* guest IA32_PERF_GLOBAL_CTRL: not offered */
        0x4410,                     /* 32-bit read-only index 8: no such field */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(vmcs12_slot_of(bad[i], ALL_FEATURES), -1);
        uint64_t val = 0x1234;
        assert_int_equal(vmcs12_read(fresh(), bad[i], ALL_FEATURES, &val), V12_UNSUPPORTED);
        assert_int_equal(val, 0x1234); /* untouched */
        assert_int_equal(vmcs12_write(fresh(), bad[i], ALL_FEATURES, true, 1), V12_UNSUPPORTED);
    }
    /* The VMREAD/VMWRITE bitmaps exist only with VMCS shadowing. */
    static const uint64_t shadow_only[] = {0x2026, 0x2028, 0x2027};
    for (size_t i = 0; i < ARRAY_SIZE(shadow_only); i++) {
        assert_int_equal(vmcs12_slot_of(shadow_only[i], ALL_FEATURES & ~V12F_SHADOW), -1);
        assert_true(vmcs12_slot_of(shadow_only[i], ALL_FEATURES) >= 0);
    }
    /* The TPR threshold with VMCS shadowing or TPR shadow; the virtual-APIC address with TPR shadow. */
    assert_int_equal(vmcs12_slot_of(0x401c, ALL_FEATURES & ~(V12F_SHADOW | V12F_TPR)), -1);
    assert_int_equal(vmcs12_slot_of(0x401c, V12F_SHADOW), SLOT_VMCS_TPR_THRESHOLD);
    assert_int_equal(vmcs12_slot_of(0x401c, V12F_TPR), SLOT_VMCS_TPR_THRESHOLD);
    assert_int_equal(vmcs12_slot_of(0x2012, ALL_FEATURES & ~V12F_TPR), -1);
    assert_int_equal(vmcs12_slot_of(0x2013, V12F_TPR), SLOT_VMCS_VIRTUAL_APIC_ADDR); /* high half */
    /* The APIC-access address with virtualize APIC accesses. */
    assert_int_equal(vmcs12_slot_of(0x2014, ALL_FEATURES & ~V12F_APIC_ACCESS), -1);
    assert_int_equal(vmcs12_slot_of(0x2014, V12F_APIC_ACCESS), SLOT_VMCS_APIC_ACCESS_ADDR);
    /* EOI-exit bitmaps and guest interrupt status with virtual-interrupt delivery. */
    static const uint64_t vid_only[] = {0x201c, 0x201e, 0x2020, 0x2022, 0x2023, 0x0810};
    for (size_t i = 0; i < ARRAY_SIZE(vid_only); i++) {
        assert_int_equal(vmcs12_slot_of(vid_only[i], ALL_FEATURES & ~V12F_VID), -1);
        assert_true(vmcs12_slot_of(vid_only[i], V12F_VID) >= 0);
    }
}

TEST(vmcs12_feature_gated_fields)
{
    /* EPT pointer (full and high), guest-physical address and PDPTEs need V12F_EPT. */
    static const uint64_t ept[] = {0x201a, 0x201b, 0x2400, 0x2401, 0x280a, 0x280c, 0x280e, 0x2810, 0x2811};
    for (size_t i = 0; i < ARRAY_SIZE(ept); i++) {
        assert_int_equal(vmcs12_slot_of(ept[i], V12F_VPID | V12F_PREEMPT), -1);
        assert_true(vmcs12_slot_of(ept[i], V12F_EPT) >= 0);
        uint64_t val;
        assert_int_equal(vmcs12_read(fresh(), ept[i], V12F_VPID | V12F_PREEMPT, &val), V12_UNSUPPORTED);
    }
    /* VPID needs V12F_VPID. */
    assert_int_equal(vmcs12_slot_of(VMCS_VPID, V12F_EPT | V12F_PREEMPT), -1);
    assert_int_equal(vmcs12_slot_of(VMCS_VPID, V12F_VPID), SLOT_VMCS_VPID);
    struct vmcs12 *v = fresh();
    assert_int_equal(vmcs12_write(v, VMCS_VPID, V12F_ALWAYS, false, 5), V12_UNSUPPORTED);
    assert_int_equal(V12(v, VMCS_VPID), 0);
    /* The preemption-timer value needs V12F_PREEMPT. */
    assert_int_equal(vmcs12_slot_of(VMCS_PREEMPTION_TIMER_VALUE, V12F_VPID | V12F_EPT), -1);
    assert_int_equal(vmcs12_slot_of(VMCS_PREEMPTION_TIMER_VALUE, V12F_PREEMPT), SLOT_VMCS_PREEMPTION_TIMER_VALUE);
    /* Fields that always exist need no feature. */
    assert_int_equal(vmcs12_slot_of(VMCS_GUEST_RIP, 0), SLOT_VMCS_GUEST_RIP);
    assert_int_equal(vmcs12_slot_of(VMCS_LINK_POINTER | VMCS_ENC_HIGH, 0), SLOT_VMCS_LINK_POINTER);
}

TEST(vmcs12_widths_truncate_on_write)
{
    for (unsigned s = 0; s < VMCS12_NFIELDS; s++) {
        uint32_t e = vmcs12_encoding_of(s);
        bool ro = VMCS_ENC_TYPE(e) == VMCS_TYPE_RO_DATA;
        struct vmcs12 *v = fresh();
        assert_int_equal(vmcs12_write(v, e, ALL_FEATURES, ro, 0xfedcba9876543210ull), V12_OK);
        uint64_t want;
        switch (width_of(e)) {
        case VMCS_WIDTH_16: want = 0x3210; break;
        case VMCS_WIDTH_32: want = 0x76543210; break;
        default: want = 0xfedcba9876543210ull; break;
        }
        uint64_t got = 0;
        assert_int_equal(vmcs12_read(v, e, ALL_FEATURES, &got), V12_OK);
        assert_int_equal(got, want);
        assert_int_equal(v->f[s], want); /* stored zero-extended */
        /* Nothing else in the region changed. */
        for (unsigned o = 0; o < VMCS12_NFIELDS; o++)
            if (o != s)
                assert_int_equal(v->f[o], 0);
        assert_int_equal(v->revision | v->abort | v->launch_state | v->reserved, 0);
    }
}

TEST(vmcs12_named_widths)
{
    struct vmcs12 *v = fresh();
    uint64_t got;
    assert_int_equal(vmcs12_write(v, VMCS_GUEST_CS_SEL, 0, false, 0x12345678), V12_OK);
    assert_int_equal(vmcs12_read(v, VMCS_GUEST_CS_SEL, 0, &got), V12_OK);
    assert_int_equal(got, 0x5678);
    assert_int_equal(vmcs12_write(v, VMCS_PIN_CONTROLS, 0, false, 0x1ffffffffull), V12_OK);
    assert_int_equal(V12(v, VMCS_PIN_CONTROLS), 0xffffffffull);
    assert_int_equal(vmcs12_write(v, VMCS_GUEST_RIP, 0, false, 0xffffffff80001000ull), V12_OK);
    assert_int_equal(V12(v, VMCS_GUEST_RIP), 0xffffffff80001000ull);
    assert_int_equal(vmcs12_write(v, VMCS_TSC_OFFSET, 0, false, 0x8000000000000001ull), V12_OK);
    assert_int_equal(V12(v, VMCS_TSC_OFFSET), 0x8000000000000001ull);
}

TEST(vmcs12_high_access_of_64bit_fields)
{
    for (unsigned s = 0; s < VMCS12_NFIELDS; s++) {
        uint32_t e = vmcs12_encoding_of(s);
        if (width_of(e) != VMCS_WIDTH_64)
            continue;
        bool ro = VMCS_ENC_TYPE(e) == VMCS_TYPE_RO_DATA;
        struct vmcs12 *v = fresh();
        v->f[s] = 0x1122334455667788ull;
        uint64_t got = 0;
        assert_int_equal(vmcs12_read(v, e | VMCS_ENC_HIGH, ALL_FEATURES, &got), V12_OK);
        assert_int_equal(got, 0x11223344);
        /* Writing the high half keeps the low half; only 32 bits of the value count. */
        assert_int_equal(vmcs12_write(v, e | VMCS_ENC_HIGH, ALL_FEATURES, ro, 0xdeadbeefcafef00dull), V12_OK);
        assert_int_equal(v->f[s], 0xcafef00d55667788ull);
        assert_int_equal(vmcs12_read(v, e, ALL_FEATURES, &got), V12_OK);
        assert_int_equal(got, 0xcafef00d55667788ull);
        /* A full write replaces both halves. */
        assert_int_equal(vmcs12_write(v, e, ALL_FEATURES, ro, 0x42), V12_OK);
        assert_int_equal(v->f[s], 0x42);
        assert_int_equal(vmcs12_read(v, e | VMCS_ENC_HIGH, ALL_FEATURES, &got), V12_OK);
        assert_int_equal(got, 0);
    }
}

TEST(vmcs12_read_only_fields)
{
    unsigned ro_count = 0;
    for (unsigned s = 0; s < VMCS12_NFIELDS; s++) {
        uint32_t e = vmcs12_encoding_of(s);
        struct vmcs12 *v = fresh();
        v->f[s] = 7;
        if (VMCS_ENC_TYPE(e) == VMCS_TYPE_RO_DATA) {
            ro_count++;
            assert_int_equal(vmcs12_write(v, e, ALL_FEATURES, false, 9), V12_READ_ONLY);
            assert_int_equal(v->f[s], 7);
            if (width_of(e) == VMCS_WIDTH_64) {
                assert_int_equal(vmcs12_write(v, e | VMCS_ENC_HIGH, ALL_FEATURES, false, 9), V12_READ_ONLY);
                assert_int_equal(v->f[s], 7);
            }
            uint64_t got;
            assert_int_equal(vmcs12_read(v, e, ALL_FEATURES, &got), V12_OK);
            assert_int_equal(got, 7);
            assert_int_equal(vmcs12_write(v, e, ALL_FEATURES, true, 9), V12_OK);
            assert_int_equal(v->f[s], 9);
        } else {
            assert_int_equal(vmcs12_write(v, e, ALL_FEATURES, false, 9), V12_OK);
            assert_int_equal(v->f[s], 9);
        }
    }
    /* 8 32-bit + 6 natural-width exit-information fields + the guest-physical address. */
    assert_int_equal(ro_count, 15);
    struct vmcs12 *v = fresh();
    assert_int_equal(vmcs12_write(v, VMCS_EXIT_REASON, 0, false, 1), V12_READ_ONLY);
    assert_int_equal(vmcs12_write(v, VMCS_EXIT_QUALIFICATION, 0, false, 1), V12_READ_ONLY);
    assert_int_equal(vmcs12_write(v, VMCS_VM_INSTRUCTION_ERROR, 0, false, 1), V12_READ_ONLY);
    /* Unsupported wins over read-only. */
    assert_int_equal(vmcs12_write(v, VMCS_GUEST_PHYSICAL_ADDR, 0, false, 1), V12_UNSUPPORTED);
    assert_int_equal(vmcs12_write(v, 0x4410, 0, true, 1), V12_UNSUPPORTED);
}

static unsigned max_index_by_hand(unsigned features)
{
    unsigned max = 0;
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        if (fields[i].feat && !(fields[i].feat & features))
            continue;
        unsigned idx = (fields[i].enc >> 1) & 0x1ff;
        if (idx > max)
            max = idx;
    }
    return max;
}

TEST(vmcs12_max_index_is_highest_present)
{
    for (unsigned f = 0; f <= ALL_FEATURES; f++)
        assert_int_equal(vmcs12_max_index(f), max_index_by_hand(f));
    /* Guest IA32_SYSENTER_CS (0x482a) is the highest index without the timer ... */
    assert_int_equal(vmcs12_max_index(0), 0x15);
    assert_int_equal(vmcs12_max_index(V12F_VPID | V12F_EPT), 0x15);
    /* ... the VMX-preemption timer value (0x482e) with it. */
    assert_int_equal(vmcs12_max_index(V12F_PREEMPT), 0x17);
    assert_int_equal(vmcs12_max_index(ALL_FEATURES), 0x17);
}

TEST(vmcs12_region_layout)
{
    assert_true(sizeof(struct vmcs12) <= 4096);
    assert_int_equal(offsetof(struct vmcs12, revision), 0);
    assert_int_equal(offsetof(struct vmcs12, abort), 4);
    assert_int_equal(offsetof(struct vmcs12, launch_state), 8);
    assert_int_equal(offsetof(struct vmcs12, reserved), 12);
    assert_int_equal(offsetof(struct vmcs12, f), 16);
    assert_int_equal(sizeof(struct vmcs12), 16 + 8 * VMCS12_NFIELDS);
    /* Field slot s lives at offset 16 + 8 * s of the region. */
    struct vmcs12 *v = fresh();
    assert_int_equal(vmcs12_write(v, VMCS_GUEST_RIP, 0, false, 0x0123456789abcdefull), V12_OK);
    const uint8_t *bytes = (const uint8_t *)v;
    uint64_t at;
    memcpy(&at, bytes + 16 + 8 * SLOT_VMCS_GUEST_RIP, 8);
    assert_int_equal(at, 0x0123456789abcdefull);
    assert_int_equal(VMCS12_REVISION & 0x80000000u, 0);
    assert_int_equal(VMCS12_REVISION, 0x4e53);
}

TEST(vmcs12_encoding_bit_macros)
{
    assert_int_equal(VMCS_ENC_WIDTH(VMCS_GUEST_CS_SEL), VMCS_WIDTH_16);
    assert_int_equal(VMCS_ENC_WIDTH(VMCS_IO_BITMAP_A), VMCS_WIDTH_64);
    assert_int_equal(VMCS_ENC_WIDTH(VMCS_EXIT_REASON), VMCS_WIDTH_32);
    assert_int_equal(VMCS_ENC_WIDTH(VMCS_HOST_RIP), VMCS_WIDTH_NATURAL);
    assert_int_equal(VMCS_ENC_TYPE(VMCS_EXIT_REASON), VMCS_TYPE_RO_DATA);
    assert_int_equal(VMCS_ENC_TYPE(VMCS_GUEST_RIP), 2);
    assert_int_equal(VMCS_ENC_TYPE(VMCS_HOST_RIP), 3);
    assert_int_equal(VMCS_ENC_INDEX(VMCS_PREEMPTION_TIMER_VALUE), 0x17);
}

TEST(vmcs12_field_names)
{
    assert_string_equal(vmcs12_name_of(SLOT_VMCS_GUEST_RIP), "GUEST_RIP");
    assert_string_equal(vmcs12_name_of(SLOT_VMCS_EPT_POINTER), "EPT_POINTER");
    assert_string_equal(vmcs12_name_of(VMCS12_NFIELDS), "?");
    for (unsigned s = 0; s < VMCS12_NFIELDS; s++)
        assert_true(strlen(vmcs12_name_of(s)) > 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vmcs12_table_matches_the_enum),
        cmocka_unit_test(vmcs12_every_encoding_round_trips),
        cmocka_unit_test(vmcs12_no_duplicate_encodings),
        cmocka_unit_test(vmcs12_exhaustive_lookup_agrees_with_table),
        cmocka_unit_test(vmcs12_unsupported_encodings),
        cmocka_unit_test(vmcs12_feature_gated_fields),
        cmocka_unit_test(vmcs12_widths_truncate_on_write),
        cmocka_unit_test(vmcs12_named_widths),
        cmocka_unit_test(vmcs12_high_access_of_64bit_fields),
        cmocka_unit_test(vmcs12_read_only_fields),
        cmocka_unit_test(vmcs12_max_index_is_highest_present),
        cmocka_unit_test(vmcs12_region_layout),
        cmocka_unit_test(vmcs12_encoding_bit_macros),
        cmocka_unit_test(vmcs12_field_names),
    };
    return RUN_GROUP("vmcs12", tests, NULL, NULL);
}
