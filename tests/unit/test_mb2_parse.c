/* core/mb2_parse.c: the Multiboot2 boot-information parser. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "nestor/bootinfo.h"

/* ------------------------------------------------------------------ a Multiboot2 information builder */

struct mbi {
    uint8_t b[8192];
    size_t len;
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void mbi_begin(struct mbi *m)
{
    memset(m, 0, sizeof *m);
    m->len = 8;
}

/* Appends a tag with the given body; returns its offset. size is 8 + body_len (not padded). */
static size_t mbi_tag(struct mbi *m, uint32_t type, const void *body, size_t body_len)
{
    size_t at = m->len;
    put32(m->b + at, type);
    put32(m->b + at + 4, (uint32_t)(8 + body_len));
    if (body_len)
        memcpy(m->b + at + 8, body, body_len);
    m->len = ALIGN_UP(at + 8 + body_len, 8);
    return at;
}

static size_t mbi_string(struct mbi *m, uint32_t type, const char *s) { return mbi_tag(m, type, s, strlen(s) + 1); }

static size_t mbi_meminfo(struct mbi *m, uint32_t lower, uint32_t upper)
{
    uint32_t body[2] = {lower, upper};
    return mbi_tag(m, 4, body, sizeof body);
}

static size_t mbi_module(struct mbi *m, uint32_t start, uint32_t end, const char *s)
{
    uint8_t body[1024];
    put32(body, start);
    put32(body + 4, end);
    memcpy(body + 8, s, strlen(s) + 1);
    return mbi_tag(m, 3, body, 8 + strlen(s) + 1);
}

struct e820 {
    uint64_t base, len;
    uint32_t type;
};

/* A memory map tag with entries of entry_size bytes (>= 24 for real entries). */
static size_t mbi_mmap(struct mbi *m, uint32_t entry_size, const struct e820 *e, unsigned n)
{
    uint8_t body[4096];
    memset(body, 0, sizeof body);
    put32(body, entry_size);
    put32(body + 4, 0);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = body + 8 + (size_t)i * entry_size;
        put64(p, e[i].base);
        put64(p + 8, e[i].len);
        put32(p + 16, e[i].type);
    }
    return mbi_tag(m, 6, body, 8 + (size_t)n * entry_size);
}

static void mbi_end(struct mbi *m) { mbi_tag(m, 0, NULL, 0); }

static void mbi_seal(struct mbi *m) { put32(m->b, (uint32_t)m->len); }

static const struct e820 std_map[3] = {
    {0, 0x9fc00, MMAP_USABLE},
    {0xf0000, 0x10000, MMAP_RESERVED},
    {0x100000, 0x7ee0000, MMAP_USABLE},
};

/* A well-formed structure with a memory map, ready for tests to extend before mbi_end. */
static void mbi_minimal(struct mbi *m)
{
    mbi_begin(m);
    mbi_mmap(m, 24, std_map, 3);
}

static struct boot_info bi;

/* Parses m->b[0..len) from an exact-size copy, so any read past len is an ASan error. */
static bool parse_len(const struct mbi *m, size_t len)
{
    uint8_t *copy = exact_copy(m->b, len);
    bool ok = mb2_parse(copy, len, &bi);
    free(copy);
    return ok;
}

static bool parse(const struct mbi *m) { return parse_len(m, m->len); }

static void expect_error(const struct mbi *m, const char *substring)
{
    memset(&bi, 0x5a, sizeof bi);
    assert_false(parse(m));
    assert_str_contains(bi.error, "multiboot2 info: ");
    assert_str_contains(bi.error, substring);
}

/* ------------------------------------------------------------------ well-formed input */

TEST(mb2_full_structure_parsed)
{
    struct mbi m;
    mbi_begin(&m);
    mbi_string(&m, 1, "loglevel=debug serial");
    mbi_string(&m, 2, "GRUB 2.06");
    mbi_meminfo(&m, 639, 130048);
    mbi_module(&m, 0x200000, 0x2345ab, "/boot/l1.elf test=hello");
    mbi_module(&m, 0x236000, 0x236000, "");
    uint32_t fb[4] = {1, 2, 3, 4};
    mbi_tag(&m, 8, fb, sizeof fb); /* a framebuffer tag: not used, skipped */
    mbi_tag(&m, 21, fb, 4);        /* load base address: skipped */
    mbi_mmap(&m, 24, std_map, 3);
    mbi_end(&m);
    mbi_seal(&m);

    memset(&bi, 0x5a, sizeof bi);
    assert_true(parse(&m));
    assert_string_equal(bi.error, "");
    assert_int_equal(bi.mbi_size, m.len);
    assert_string_equal(bi.cmdline, "loglevel=debug serial");
    assert_string_equal(bi.loader_name, "GRUB 2.06");
    assert_true(bi.have_meminfo);
    assert_int_equal(bi.mem_lower_kb, 639);
    assert_int_equal(bi.mem_upper_kb, 130048);
    assert_int_equal(bi.module_count, 2);
    assert_int_equal(bi.modules[0].start, 0x200000);
    assert_int_equal(bi.modules[0].end, 0x2345ab);
    assert_string_equal(bi.modules[0].cmdline, "/boot/l1.elf test=hello");
    assert_int_equal(bi.modules[1].start, 0x236000);
    assert_int_equal(bi.modules[1].end, 0x236000);
    assert_string_equal(bi.modules[1].cmdline, "");
    assert_int_equal(bi.mmap_count, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(bi.mmap[i].base, std_map[i].base);
        assert_int_equal(bi.mmap[i].len, std_map[i].len);
        assert_int_equal(bi.mmap[i].type, std_map[i].type);
    }
    assert_int_equal(bi.mbi_phys, 0); /* the caller's to fill in */
}

TEST(mb2_minimal_structure_without_optional_tags)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_end(&m);
    mbi_seal(&m);
    memset(&bi, 0x5a, sizeof bi);
    assert_true(parse(&m));
    assert_string_equal(bi.cmdline, "");
    assert_string_equal(bi.loader_name, "");
    assert_false(bi.have_meminfo);
    assert_int_equal(bi.module_count, 0);
    assert_int_equal(bi.mmap_count, 3);
}

TEST(mb2_long_strings_truncated_and_terminated)
{
    char longer[700];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    struct mbi m;
    mbi_minimal(&m);
    mbi_string(&m, 1, longer);
    mbi_string(&m, 2, longer + 600); /* 99 characters into a 64-byte field */
    mbi_module(&m, 0x1000, 0x2000, longer + 100);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_int_equal(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
    assert_int_equal(strlen(bi.loader_name), 63);
    assert_int_equal(strlen(bi.modules[0].cmdline), BOOT_CMDLINE_MAX - 1);
}

TEST(mb2_tags_after_end_tag_ignored)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_end(&m);
    size_t garbage = m.len;
    put32(m.b + garbage, 1);
    put32(m.b + garbage + 4, 0xffff); /* would be a broken tag */
    m.len += 8;
    mbi_seal(&m);
    assert_true(parse(&m));
}

TEST(mb2_mmap_larger_entry_size_and_partial_trailing_entry)
{
    struct e820 e[2] = {{0x1000, 0x2000, MMAP_USABLE}, {0x100000, 0x300000, MMAP_ACPI_NVS}};
    struct mbi m;
    mbi_begin(&m);
    size_t at = mbi_mmap(&m, 32, e, 2);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_int_equal(bi.mmap_count, 2);
    assert_int_equal(bi.mmap[1].base, 0x100000);
    assert_int_equal(bi.mmap[1].len, 0x300000);
    assert_int_equal(bi.mmap[1].type, MMAP_ACPI_NVS);

    (void)at;

    /* A tag whose second 32-byte entry is cut after 24 bytes: only whole entries count. */
    uint8_t body[8 + 32 + 24];
    memset(body, 0, sizeof body);
    put32(body, 32);
    put64(body + 8, 0x1000);
    put64(body + 16, 0x2000);
    put32(body + 24, MMAP_USABLE);
    put64(body + 40, 0x100000);
    put64(body + 48, 0x300000);
    put32(body + 56, MMAP_USABLE);
    mbi_begin(&m);
    mbi_tag(&m, 6, body, sizeof body);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_int_equal(bi.mmap_count, 1);
    assert_int_equal(bi.mmap[0].base, 0x1000);
}

TEST(mb2_overlapping_mmap_entries_passed_through)
{
    struct e820 e[2] = {{0x100000, 0x400000, MMAP_USABLE}, {0x300000, 0x400000, MMAP_USABLE}};
    struct mbi m;
    mbi_begin(&m);
    mbi_mmap(&m, 24, e, 2);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_int_equal(bi.mmap_count, 2);
    assert_int_equal(bi.mmap[1].base, 0x300000);
}

TEST(mb2_max_mmap_entries_accepted)
{
    struct e820 e[BOOT_MAX_MMAP];
    for (unsigned i = 0; i < BOOT_MAX_MMAP; i++)
        e[i] = (struct e820){(uint64_t)i << 20, 1 << 20, MMAP_USABLE};
    struct mbi m;
    mbi_begin(&m);
    mbi_mmap(&m, 24, e, BOOT_MAX_MMAP);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_int_equal(bi.mmap_count, BOOT_MAX_MMAP);
    assert_int_equal(bi.mmap[63].base, 63u << 20);
}

TEST(mb2_buffer_longer_than_total_size)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse_len(&m, m.len + 100));
    assert_int_equal(bi.mbi_size, m.len);
}

/* ------------------------------------------------------------------ malformed and truncated input */

TEST(mb2_shorter_than_header_and_end_tag)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_end(&m);
    mbi_seal(&m);
    memset(&bi, 0x5a, sizeof bi);
    assert_false(parse_len(&m, 12));
    assert_string_equal(bi.error, "multiboot2 info: shorter than the 8-byte header and end tag (offset 0x0, 0xc, 0x10)");
    assert_false(parse_len(&m, 0));
    assert_str_contains(bi.error, "shorter than");
    assert_int_equal(bi.mmap_count, 0);
    assert_int_equal(bi.module_count, 0);
}

TEST(mb2_total_size_out_of_range)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_end(&m);
    mbi_seal(&m);
    put32(m.b, 8);
    expect_error(&m, "total_size out of range (offset 0x0, 0x8,");
    put32(m.b, (uint32_t)m.len + 8); /* claims more than the buffer holds */
    expect_error(&m, "total_size out of range");
    assert_int_equal(bi.mbi_size, 0);
}

TEST(mb2_total_size_above_one_mib_refused)
{
    size_t len = (1u << 20) + 16;
    uint8_t *buf = calloc(1, len);
    assert_non_null(buf);
    put32(buf, (uint32_t)len);
    put32(buf + 8, 0);
    put32(buf + 12, 8);
    assert_false(mb2_parse(buf, len, &bi));
    assert_str_contains(bi.error, "total_size out of range");
    free(buf);
}

TEST(mb2_tag_size_runs_past_total_size)
{
    struct mbi m;
    mbi_begin(&m);
    size_t at = mbi_string(&m, 1, "abc");
    mbi_mmap(&m, 24, std_map, 3);
    mbi_end(&m);
    mbi_seal(&m);
    put32(m.b + at + 4, 0x1000);
    memset(&bi, 0, sizeof bi);
    assert_false(parse(&m));
    assert_string_equal(bi.error, "multiboot2 info: tag size runs past total_size (offset 0x8, 0x1, 0x1000)");

    put32(m.b + at + 4, 4); /* smaller than a tag header: would loop or misparse */
    expect_error(&m, "tag size runs past total_size (offset 0x8, 0x1, 0x4)");
    put32(m.b + at + 4, 0);
    expect_error(&m, "tag size runs past total_size");
}

TEST(mb2_end_tag_size_wrong)
{
    struct mbi m;
    mbi_minimal(&m);
    size_t at = m.len;
    mbi_end(&m);
    put32(m.b + at + 4, 16);
    m.len += 8;
    mbi_seal(&m);
    expect_error(&m, "end tag with size other than 8");
}

TEST(mb2_missing_end_tag)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_string(&m, 1, "no end");
    mbi_seal(&m);
    expect_error(&m, "no end tag before total_size");
}

TEST(mb2_total_size_cuts_the_end_tag)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_end(&m);
    put32(m.b, (uint32_t)m.len - 4); /* the end tag's header no longer fits */
    expect_error(&m, "no end tag before total_size");
}

TEST(mb2_missing_memory_map)
{
    struct mbi m;
    mbi_begin(&m);
    mbi_string(&m, 1, "x");
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "no memory map tag (type 6); Nestor cannot place L1 without one");
}

TEST(mb2_cmdline_not_terminated)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_tag(&m, 1, "abcd", 4); /* no NUL inside the tag; the padding after it is zero */
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "command line not terminated inside its tag");
}

TEST(mb2_cmdline_not_terminated_at_the_very_end)
{
    /* A string tag that is the last thing in the buffer: no padding byte to stop a sloppy strlen. */
    struct mbi m;
    mbi_minimal(&m);
    size_t at = mbi_tag(&m, 1, "abcdefg", 7);
    mbi_seal(&m);
    put32(m.b, (uint32_t)(at + 15));
    memset(&bi, 0, sizeof bi);
    uint8_t *copy = exact_copy(m.b, at + 15);
    assert_false(mb2_parse(copy, at + 15, &bi));
    free(copy);
    assert_str_contains(bi.error, "command line not terminated inside its tag");
}

TEST(mb2_loader_name_not_terminated)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_tag(&m, 2, "GRUB", 4);
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "boot loader name not terminated inside its tag");
}

TEST(mb2_empty_string_tag_not_terminated)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_tag(&m, 1, NULL, 0); /* a command-line tag with no byte at all */
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "command line not terminated");
}

TEST(mb2_module_string_not_terminated)
{
    uint8_t body[12];
    put32(body, 0x200000);
    put32(body + 4, 0x300000);
    memcpy(body + 8, "l1.e", 4);
    struct mbi m;
    mbi_minimal(&m);
    mbi_tag(&m, 3, body, sizeof body);
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "module string not terminated inside its tag");
    assert_int_equal(bi.module_count, 0);
}

TEST(mb2_module_tag_too_short)
{
    uint8_t body[8];
    put32(body, 0x200000);
    put32(body + 4, 0x300000);
    struct mbi m;
    mbi_minimal(&m);
    mbi_tag(&m, 3, body, sizeof body);
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "module tag too short");
}

TEST(mb2_module_ends_before_it_starts)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_module(&m, 0x300000, 0x2fffff, "x");
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "module ends before it starts (offset 0x");
    assert_str_contains(bi.error, "0x300000, 0x2fffff)");
}

TEST(mb2_too_many_modules)
{
    struct mbi m;
    mbi_minimal(&m);
    for (unsigned i = 0; i < BOOT_MAX_MODULES; i++)
        mbi_module(&m, 0x200000 + i * 0x1000, 0x201000 + i * 0x1000, "m");
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_int_equal(bi.module_count, BOOT_MAX_MODULES);

    mbi_minimal(&m);
    for (unsigned i = 0; i <= BOOT_MAX_MODULES; i++)
        mbi_module(&m, 0x200000 + i * 0x1000, 0x201000 + i * 0x1000, "m");
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "too many modules");
}

TEST(mb2_meminfo_too_short)
{
    uint32_t lower = 639;
    struct mbi m;
    mbi_minimal(&m);
    mbi_tag(&m, 4, &lower, 4);
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "basic meminfo tag too short");
}

TEST(mb2_mmap_tag_too_short)
{
    uint32_t entry_size = 24;
    struct mbi m;
    mbi_begin(&m);
    mbi_tag(&m, 6, &entry_size, 4);
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "memory map tag too short");
}

TEST(mb2_mmap_entry_size_invalid)
{
    static const uint32_t bad[] = {0, 8, 16, 20, 23, 25, 28, 36};
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        struct mbi m;
        mbi_begin(&m);
        size_t at = mbi_mmap(&m, 24, std_map, 3);
        mbi_end(&m);
        mbi_seal(&m);
        put32(m.b + at + 8, bad[i]);
        expect_error(&m, "memory map entry_size invalid");
        char want[64];
        snprintf(want, sizeof want, "0x%x, 0x18)", bad[i]);
        assert_str_contains(bi.error, want);
    }
}

TEST(mb2_mmap_entry_wraps_around)
{
    struct e820 e[2] = {{0x100000, 0x1000, MMAP_USABLE}, {0xfffffffffffff000ull, 0x2000, MMAP_RESERVED}};
    struct mbi m;
    mbi_begin(&m);
    mbi_mmap(&m, 24, e, 2);
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "memory map entry wraps around");
}

TEST(mb2_too_many_mmap_entries)
{
    struct e820 e[BOOT_MAX_MMAP + 1];
    for (unsigned i = 0; i <= BOOT_MAX_MMAP; i++)
        e[i] = (struct e820){(uint64_t)i << 20, 1 << 20, MMAP_USABLE};
    struct mbi m;
    mbi_begin(&m);
    mbi_mmap(&m, 24, e, BOOT_MAX_MMAP + 1);
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "too many memory map entries");
}

TEST(mb2_every_truncation_of_a_valid_structure_is_refused)
{
    struct mbi m;
    mbi_begin(&m);
    mbi_string(&m, 1, "console=com1");
    mbi_string(&m, 2, "GRUB");
    mbi_meminfo(&m, 639, 1000);
    mbi_module(&m, 0x200000, 0x300000, "l1");
    mbi_mmap(&m, 24, std_map, 3);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    /* The structure handed over in a buffer cut anywhere before its end: never accepted, never read past. */
    for (size_t len = 0; len < m.len; len++) {
        assert_false(parse_len(&m, len));
        assert_true(strlen(bi.error) > 0);
    }
    /* total_size itself cut anywhere before the end tag (buffer intact). */
    for (uint32_t total = 16; total < m.len; total++) {
        struct mbi c = m;
        put32(c.b, total);
        assert_false(parse(&c));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mb2_full_structure_parsed),
        cmocka_unit_test(mb2_minimal_structure_without_optional_tags),
        cmocka_unit_test(mb2_long_strings_truncated_and_terminated),
        cmocka_unit_test(mb2_tags_after_end_tag_ignored),
        cmocka_unit_test(mb2_mmap_larger_entry_size_and_partial_trailing_entry),
        cmocka_unit_test(mb2_overlapping_mmap_entries_passed_through),
        cmocka_unit_test(mb2_max_mmap_entries_accepted),
        cmocka_unit_test(mb2_buffer_longer_than_total_size),
        cmocka_unit_test(mb2_shorter_than_header_and_end_tag),
        cmocka_unit_test(mb2_total_size_out_of_range),
        cmocka_unit_test(mb2_total_size_above_one_mib_refused),
        cmocka_unit_test(mb2_tag_size_runs_past_total_size),
        cmocka_unit_test(mb2_end_tag_size_wrong),
        cmocka_unit_test(mb2_missing_end_tag),
        cmocka_unit_test(mb2_total_size_cuts_the_end_tag),
        cmocka_unit_test(mb2_missing_memory_map),
        cmocka_unit_test(mb2_cmdline_not_terminated),
        cmocka_unit_test(mb2_cmdline_not_terminated_at_the_very_end),
        cmocka_unit_test(mb2_loader_name_not_terminated),
        cmocka_unit_test(mb2_empty_string_tag_not_terminated),
        cmocka_unit_test(mb2_module_string_not_terminated),
        cmocka_unit_test(mb2_module_tag_too_short),
        cmocka_unit_test(mb2_module_ends_before_it_starts),
        cmocka_unit_test(mb2_too_many_modules),
        cmocka_unit_test(mb2_meminfo_too_short),
        cmocka_unit_test(mb2_mmap_tag_too_short),
        cmocka_unit_test(mb2_mmap_entry_size_invalid),
        cmocka_unit_test(mb2_mmap_entry_wraps_around),
        cmocka_unit_test(mb2_too_many_mmap_entries),
        cmocka_unit_test(mb2_every_truncation_of_a_valid_structure_is_refused),
    };
    return RUN_GROUP("mb2_parse", tests, NULL, NULL);
}
