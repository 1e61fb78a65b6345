/* core/mb2_parse.c: the Multiboot2 boot-information parser. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "nestor/bootinfo.h"

/* ------------------------------------------------------------------ a Multiboot2 information builder */

struct mbi {
    uint8_t b[65536];
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
    uint8_t body[8192];
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

/* A string of n 'x' characters (n < 8192), in a static buffer. */
static const char *xs(size_t n)
{
    static char s[8192];
    memset(s, 'x', n);
    s[n] = 0;
    return s;
}

TEST(mb2_command_lines_up_to_4096_bytes_arrive_whole)
{
    static const size_t lens[] = {511, 512, 925, 2048, BOOT_CMDLINE_LEN - 1, BOOT_CMDLINE_LEN};
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        struct mbi m;
        mbi_minimal(&m);
        mbi_string(&m, 1, xs(lens[i]));
        mbi_module(&m, 0x1000, 0x2000, xs(lens[i]));
        mbi_end(&m);
        mbi_seal(&m);
        assert_true(parse(&m));
        assert_int_equal(strlen(bi.cmdline), lens[i]);
        assert_string_equal(bi.cmdline, xs(lens[i]));
        assert_int_equal(strlen(bi.modules[0].cmdline), lens[i]);
    }
}

TEST(mb2_command_line_longer_than_4096_refused_not_cut)
{
    static const size_t lens[] = {BOOT_CMDLINE_LEN + 1, BOOT_CMDLINE_LEN + 2, 8000};
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        char want[96];
        snprintf(want, sizeof want, "Nestor's command line is %zu bytes long, more than the 4096 Nestor carries",
                 lens[i]);
        struct mbi m;
        mbi_minimal(&m);
        mbi_string(&m, 1, xs(lens[i]));
        mbi_end(&m);
        mbi_seal(&m);
        expect_error(&m, want);
        assert_str_contains(bi.error, "shorten it rather than have it cut");
    }
}

TEST(mb2_module_command_line_longer_than_4096_refused_not_cut)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_module(&m, 0x1000, 0x2000, "initrd");
    mbi_module(&m, 0x3000, 0x4000, xs(BOOT_CMDLINE_LEN + 1));
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "module 1's command line is 4097 bytes long, more than the 4096 Nestor carries");
}

TEST(mb2_long_loader_name_cut_to_its_field)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_string(&m, 2, xs(99)); /* only shown in the log */
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_int_equal(strlen(bi.loader_name), 63);
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
    expect_error(&m, "no memory map tag (type 6 or EFI type 17); Nestor cannot place L1 without one");
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
    expect_error(&m, "module 0's command line not terminated inside its tag");
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

/* ------------------------------------------------------------------ UEFI: EFI memory map (tag 17) */

struct efi_desc {
    uint32_t type;
    uint64_t start, pages;
};

enum { EFI_RESERVED, EFI_LOADER_CODE, EFI_LOADER_DATA, EFI_BS_CODE, EFI_BS_DATA, EFI_RT_CODE, EFI_RT_DATA,
       EFI_CONVENTIONAL, EFI_UNUSABLE, EFI_ACPI_RECLAIM, EFI_ACPI_NVS, EFI_MMIO, EFI_MMIO_PORT, EFI_PAL,
       EFI_PERSISTENT, EFI_UNACCEPTED };

/* An EFI memory map tag as GRUB builds it: descriptor_size, descriptor_version, then the descriptors. */
static size_t mbi_efi_mmap(struct mbi *m, uint32_t desc_size, const struct efi_desc *d, unsigned n)
{
    static uint8_t body[32768];
    memset(body, 0, sizeof body);
    put32(body, desc_size);
    put32(body + 4, 1);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = body + 8 + (size_t)i * desc_size;
        put32(p, d[i].type);
        put64(p + 8, d[i].start);
        put64(p + 16, 0xdead0000);  /* VirtualStart: not used */
        put64(p + 24, d[i].pages);
        put64(p + 32, 0xf);         /* Attribute: not used */
    }
    return mbi_tag(m, 17, body, 8 + (size_t)n * desc_size);
}

/* Shaped like OVMF's map, out of order, with neighbours to merge. */
static const struct efi_desc ovmf_like[] = {
    {EFI_CONVENTIONAL, 0x100000, 0x700},     /* 0x100000-0x7fffff */
    {EFI_BS_CODE, 0x0, 0x1},                 /* 0-0xfff: usable after ExitBootServices */
    {EFI_CONVENTIONAL, 0x1000, 0x9f},        /* 0x1000-0x9ffff */
    {EFI_ACPI_NVS, 0x800000, 0x8},           /* 0x800000-0x807fff */
    {EFI_BS_DATA, 0x808000, 0x8},            /* merges with the next two */
    {EFI_LOADER_DATA, 0x810000, 0x10},
    {EFI_LOADER_CODE, 0x820000, 0x7000},     /* ...-0x781ffff */
    {EFI_RT_DATA, 0x7820000, 0x10},
    {EFI_RT_CODE, 0x7830000, 0x10},          /* reserved, merges with the RT data before it */
    {EFI_ACPI_RECLAIM, 0x7840000, 0x4},
    {EFI_CONVENTIONAL, 0x7844000, 0},        /* zero pages: skipped */
    {EFI_UNUSABLE, 0x7850000, 0x1},
    {EFI_PERSISTENT, 0x100000000, 0x100},
    {EFI_MMIO, 0xffc00000, 0x400},
    {EFI_UNACCEPTED, 0x200000000, 0x10},
    {99, 0x300000000, 0x10},                 /* a type newer than this code: reserved */
};

static const struct e820 ovmf_like_converted[] = {
    {0x0, 0xa0000, MMAP_USABLE},
    {0x100000, 0x700000, MMAP_USABLE},
    {0x800000, 0x8000, MMAP_ACPI_NVS},
    {0x808000, 0x7820000 - 0x808000, MMAP_USABLE},
    {0x7820000, 0x20000, MMAP_RESERVED},
    {0x7840000, 0x4000, MMAP_ACPI_RECLAIMABLE},
    {0x7850000, 0x1000, MMAP_BAD},
    {0xffc00000, 0x400000, MMAP_RESERVED},
    {0x100000000, 0x100000, MMAP_PERSISTENT},
    {0x200000000, 0x10000, MMAP_RESERVED},
    {0x300000000, 0x10000, MMAP_RESERVED},
};

static void expect_map(const struct e820 *want, unsigned n)
{
    assert_int_equal(bi.mmap_count, n);
    for (unsigned i = 0; i < n; i++) {
        if (bi.mmap[i].base != want[i].base || bi.mmap[i].len != want[i].len || bi.mmap[i].type != want[i].type)
            fail_msg("entry %u: 0x%llx+0x%llx type %u, want 0x%llx+0x%llx type %u", i,
                     (unsigned long long)bi.mmap[i].base, (unsigned long long)bi.mmap[i].len, bi.mmap[i].type,
                     (unsigned long long)want[i].base, (unsigned long long)want[i].len, want[i].type);
    }
}

TEST(efi_mmap_converted_sorted_and_merged_when_no_classic_map)
{
    for (uint32_t desc_size = 40; desc_size <= 56; desc_size += 8) { /* OVMF uses 48: newer fields follow */
        struct mbi m;
        mbi_begin(&m);
        mbi_efi_mmap(&m, desc_size, ovmf_like, ARRAY_SIZE(ovmf_like));
        mbi_end(&m);
        mbi_seal(&m);
        assert_true(parse(&m));
        assert_int_equal(bi.mmap_source, BOOT_MMAP_EFI);
        assert_int_equal(bi.efi_mmap_descs, ARRAY_SIZE(ovmf_like));
        expect_map(ovmf_like_converted, ARRAY_SIZE(ovmf_like_converted));
    }
}

TEST(efi_mmap_classic_map_preferred_when_both_given)
{
    /* GRUB gives both under UEFI; its classic map already has the types Nestor uses. Order does not matter. */
    for (int efi_first = 0; efi_first < 2; efi_first++) {
        struct mbi m;
        mbi_begin(&m);
        if (efi_first)
            mbi_efi_mmap(&m, 48, ovmf_like, ARRAY_SIZE(ovmf_like));
        mbi_mmap(&m, 24, std_map, 3);
        if (!efi_first)
            mbi_efi_mmap(&m, 48, ovmf_like, ARRAY_SIZE(ovmf_like));
        mbi_end(&m);
        mbi_seal(&m);
        assert_true(parse(&m));
        assert_int_equal(bi.mmap_source, BOOT_MMAP_MB2);
        assert_int_equal(bi.efi_mmap_descs, ARRAY_SIZE(ovmf_like));
        expect_map(std_map, 3);
    }
}

TEST(efi_mmap_many_descriptors_merge_into_few_ranges)
{
    /* 1000 one-page descriptors alternating boot-services code/data and free memory: one usable range. */
    static struct efi_desc d[700];
    for (unsigned i = 0; i < ARRAY_SIZE(d); i++)
        d[i] = (struct efi_desc){i % 3 == 0 ? EFI_BS_CODE : i % 3 == 1 ? EFI_BS_DATA : EFI_CONVENTIONAL,
                                 0x100000 + (uint64_t)(ARRAY_SIZE(d) - 1 - i) * 0x1000, 1};
    struct mbi m;
    mbi_begin(&m);
    mbi_efi_mmap(&m, 40, d, ARRAY_SIZE(d));
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    static const struct e820 one[] = {{0x100000, 700 * 0x1000, MMAP_USABLE}};
    expect_map(one, 1);
}

static void expect_efi_error(uint32_t desc_size, const struct efi_desc *d, unsigned n, const char *why)
{
    struct mbi m;
    mbi_begin(&m);
    mbi_efi_mmap(&m, desc_size, d, n);
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, why);
}

TEST(efi_mmap_malformed_refused)
{
    static const struct efi_desc one[] = {{EFI_CONVENTIONAL, 0x100000, 0x10}};
    expect_efi_error(32, one, 1, "EFI memory map descriptor_size invalid");
    expect_efi_error(44, one, 1, "EFI memory map descriptor_size invalid");
    expect_efi_error(0, one, 0, "EFI memory map descriptor_size invalid");
    static const struct efi_desc unaligned[] = {{EFI_CONVENTIONAL, 0x100800, 0x10}};
    expect_efi_error(48, unaligned, 1, "EFI memory descriptor start not 4 KiB aligned");
    static const struct efi_desc wraps[] = {{EFI_CONVENTIONAL, 0xfffffffffff00000ull, 0x100}};
    expect_efi_error(48, wraps, 1, "EFI memory descriptor wraps around");
    static const struct efi_desc huge[] = {{EFI_CONVENTIONAL, 0x1000, 0x8000000000000000ull}};
    expect_efi_error(48, huge, 1, "EFI memory descriptor wraps around");
    static const struct efi_desc overlap[] = {{EFI_CONVENTIONAL, 0x100000, 0x10}, {EFI_ACPI_NVS, 0x10f000, 1}};
    expect_efi_error(48, overlap, 2, "EFI memory map descriptors overlap");
    static const struct efi_desc inside[] = {{EFI_CONVENTIONAL, 0x100000, 0x10}, {EFI_CONVENTIONAL, 0x104000, 1}};
    expect_efi_error(48, inside, 2, "EFI memory map descriptors overlap");
    static const struct efi_desc same[] = {{EFI_ACPI_NVS, 0x200000, 1}, {EFI_ACPI_NVS, 0x200000, 1}};
    expect_efi_error(48, same, 2, "EFI memory map descriptors overlap");

    /* Too many distinct ranges: alternating types never merge. */
    static struct efi_desc many[BOOT_MAX_MMAP + 1];
    for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
        many[i] = (struct efi_desc){i % 2 ? EFI_ACPI_NVS : EFI_CONVENTIONAL, (uint64_t)i * 0x1000, 1};
    expect_efi_error(48, many, BOOT_MAX_MMAP + 1, "EFI memory map has more distinct ranges than Nestor keeps");
    struct mbi m;
    mbi_begin(&m);
    mbi_efi_mmap(&m, 48, many, BOOT_MAX_MMAP); /* exactly the table's size: accepted */
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_int_equal(bi.mmap_count, BOOT_MAX_MMAP);
}

TEST(efi_mmap_tag_shape_refused)
{
    struct mbi m;
    mbi_begin(&m);
    uint32_t body[1] = {48};
    mbi_tag(&m, 17, body, 4); /* no descriptor_version */
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "EFI memory map tag too short");

    uint8_t odd[8 + 48 + 8] = {0};
    put32(odd, 48);
    mbi_begin(&m);
    mbi_tag(&m, 17, odd, sizeof odd); /* 8 bytes of a second descriptor */
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "EFI memory map size not a multiple of descriptor_size");

    static const struct efi_desc one[] = {{EFI_CONVENTIONAL, 0x100000, 0x10}};
    mbi_begin(&m);
    mbi_efi_mmap(&m, 48, one, 1);
    mbi_efi_mmap(&m, 48, one, 1);
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "two EFI memory map tags");
}

/*
 * With GRUB's classic map the EFI map is only checked: entries from the first one that is not a
 * descriptor on are the tag's slack (GRUB 2.06 under OVMF), counted and ignored, never refused.
 */
TEST(efi_mmap_invalid_tail_ignored_with_a_classic_map)
{
    static const struct efi_desc tail[] = {{EFI_CONVENTIONAL, 0x100000, 0x10},
                                           {EFI_BS_DATA, 0x200000, 0x10},
                                           {EFI_CONVENTIONAL, 0x28, 0x36d7628900000000ull},
                                           {EFI_CONVENTIONAL, 0x300000, 0x10}};
    struct mbi m;
    mbi_minimal(&m);
    mbi_efi_mmap(&m, 48, tail, ARRAY_SIZE(tail));
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_int_equal(bi.mmap_source, BOOT_MMAP_MB2);
    assert_int_equal(bi.efi_mmap_descs, 2);
    assert_int_equal(bi.efi_mmap_junk, 2);
    char d[512];
    mb2_describe(&bi, d, sizeof d);
    assert_str_contains(d, "EFI memory map of 2 descriptors checked (the tag's last 2 entries are not descriptors: ignored)");
}

/* Without a classic map the EFI map is the memory map: one entry that is not a descriptor refuses it. */
TEST(efi_mmap_invalid_entry_refused_without_a_classic_map)
{
    static const struct efi_desc tail[] = {{EFI_CONVENTIONAL, 0x100000, 0x10}, {EFI_CONVENTIONAL, 0x100800, 0x10}};
    expect_efi_error(48, tail, ARRAY_SIZE(tail), "EFI memory descriptor start not 4 KiB aligned");
}

/* ------------------------------------------------------------------ UEFI: EFI64 tags, boot services, framebuffer */

TEST(efi64_system_table_and_image_handle_kept)
{
    struct mbi m;
    mbi_minimal(&m);
    uint64_t st = 0x7fbee018, ih = 0x7e1f2a98;
    mbi_tag(&m, 12, &st, 8);
    mbi_tag(&m, 20, &ih, 8);
    uint8_t fb[24] = {0};
    mbi_tag(&m, 8, fb, sizeof fb);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_true(bi.efi64);
    assert_int_equal(bi.efi_system_table, st);
    assert_int_equal(bi.efi_image_handle, ih);
    assert_true(bi.have_framebuffer);

    mbi_minimal(&m);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_false(bi.efi64);
    assert_false(bi.have_framebuffer);
}

TEST(efi64_tags_too_short_refused)
{
    for (uint32_t type = 12; type <= 20; type += 8) {
        struct mbi m;
        mbi_minimal(&m);
        uint32_t half = 0x7fbee018;
        mbi_tag(&m, type, &half, 4);
        mbi_end(&m);
        mbi_seal(&m);
        expect_error(&m, "EFI64 system table / image handle tag too short");
    }
}

TEST(efi_boot_services_not_terminated_refused)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_tag(&m, 18, NULL, 0);
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, "tag 18 says EFI boot services were not terminated");
    assert_str_contains(bi.error, "ExitBootServices()");
}

/* ------------------------------------------------------------------ ACPI RSDP tags (14, 15) */

/* A valid RSDP: revision 0 (20 bytes) or 2 (36 bytes), checksums filled in. */
static void make_rsdp(uint8_t *r, unsigned rev, const char *oem, uint32_t rsdt, uint64_t xsdt)
{
    memset(r, 0, 36);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, oem, 6);
    r[15] = (uint8_t)rev;
    put32(r + 16, rsdt);
    uint8_t sum = 0;
    for (int i = 0; i < 20; i++)
        sum = (uint8_t)(sum + r[i]);
    r[8] = (uint8_t)-sum;
    if (rev < 2)
        return;
    put32(r + 20, 36);
    put64(r + 24, xsdt);
    sum = 0;
    for (int i = 0; i < 36; i++)
        sum = (uint8_t)(sum + r[i]);
    r[32] = (uint8_t)-sum;
}

TEST(acpi_old_tag_kept)
{
    uint8_t r[36];
    make_rsdp(r, 0, "BOCHS ", 0x7fe14d2, 0);
    struct mbi m;
    mbi_minimal(&m);
    mbi_tag(&m, 14, r, 20);
    mbi_end(&m);
    mbi_seal(&m);
    memset(&bi, 0x5a, sizeof bi);
    assert_true(parse(&m));
    assert_int_equal(bi.rsdp_len, 20);
    assert_int_equal(bi.rsdp_tag, 14);
    assert_memory_equal(bi.rsdp, r, 20);
    for (size_t i = 20; i < sizeof bi.rsdp; i++)
        assert_int_equal(bi.rsdp[i], 0);
}

TEST(acpi_old_tag_holds_only_the_acpi_1_part_whatever_the_revision)
{
    /* GRUB on UEFI copies 20 bytes of whatever RSDP the ACPI 1.0 GUID names, which may be revision 2. */
    uint8_t r[36];
    make_rsdp(r, 2, "OVMF  ", 0x7fe14d2, 0x7fe15d2);
    struct mbi m;
    mbi_minimal(&m);
    mbi_tag(&m, 14, r, 20);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_int_equal(bi.rsdp_len, 20);
    assert_int_equal(bi.rsdp_tag, 14);
    assert_memory_equal(bi.rsdp, r, 20);
}

TEST(acpi_new_tag_kept_and_preferred_in_either_order)
{
    uint8_t v1[36], v2[36];
    make_rsdp(v1, 0, "OLDOEM", 0x1000, 0);
    make_rsdp(v2, 2, "NEWOEM", 0x2000, 0x123456789ull);
    for (int old_first = 0; old_first < 2; old_first++) {
        struct mbi m;
        mbi_minimal(&m);
        if (old_first)
            mbi_tag(&m, 14, v1, 20);
        mbi_tag(&m, 15, v2, 36);
        if (!old_first)
            mbi_tag(&m, 14, v1, 20);
        mbi_end(&m);
        mbi_seal(&m);
        assert_true(parse(&m));
        assert_int_equal(bi.rsdp_len, 36);
        assert_int_equal(bi.rsdp_tag, 15);
        assert_memory_equal(bi.rsdp, v2, 36);
    }
}

TEST(acpi_tag_without_rsdp_is_not_an_error)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    assert_int_equal(bi.rsdp_len, 0);
}

static void expect_rsdp_error(uint32_t tag, const uint8_t *body, size_t len, const char *why)
{
    struct mbi m;
    mbi_minimal(&m);
    mbi_tag(&m, tag, body, len);
    mbi_end(&m);
    mbi_seal(&m);
    expect_error(&m, why);
    assert_str_contains(bi.error, tag == 15 ? "ACPI new RSDP tag (15" : "ACPI old RSDP tag (14");
}

TEST(acpi_malformed_tags_refused)
{
    uint8_t r[64];
    make_rsdp(r, 2, "BOCHS ", 0x1000, 0x2000);
    expect_rsdp_error(14, r, 19, "RSDP shorter than its 20-byte ACPI 1.0 part");
    expect_rsdp_error(15, r, 35, "RSDP of revision 2+ shorter than 36 bytes");
    expect_rsdp_error(15, r, 0, "RSDP shorter than its 20-byte ACPI 1.0 part");

    uint8_t bad[64];
    memcpy(bad, r, 36);
    bad[0] = 'X';
    expect_rsdp_error(15, bad, 36, "RSDP signature is not 'RSD PTR '");
    memcpy(bad, r, 36);
    bad[8] ^= 1; /* checksum */
    expect_rsdp_error(14, bad, 20, "RSDP checksum (first 20 bytes) does not sum to 0");
    expect_rsdp_error(15, bad, 36, "RSDP checksum (first 20 bytes) does not sum to 0");
    memcpy(bad, r, 36);
    bad[32] ^= 1; /* extended checksum */
    expect_rsdp_error(15, bad, 36, "RSDP extended checksum does not sum to 0");
    memcpy(bad, r, 36);
    bad[30] = 1; /* a byte of the XSDT address: only the extended checksum covers it */
    expect_rsdp_error(15, bad, 36, "RSDP extended checksum does not sum to 0");

    /* The Length field: below 36, above what the tag holds, above what Nestor keeps. */
    static const uint32_t lengths[] = {0, 20, 35, 40, 100, 0xffffffff};
    for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
        memcpy(bad, r, 36);
        put32(bad + 20, lengths[i]);
        bad[8] = 0;
        uint8_t sum = 0;
        for (int k = 0; k < 20; k++)
            sum = (uint8_t)(sum + bad[k]);
        bad[8] = (uint8_t)-sum;
        expect_rsdp_error(15, bad, 36, "RSDP Length field out of range");
    }
    /* A revision 0 RSDP in the "new" tag lacks the fields L1 would read. */
    uint8_t v1[36];
    make_rsdp(v1, 0, "BOCHS ", 0x1000, 0);
    expect_rsdp_error(15, v1, 36, "RSDP Length field out of range");
}

TEST(acpi_rsdp_from_elsewhere_only_when_no_tag)
{
    uint8_t r[36];
    make_rsdp(r, 2, "SCANNE", 0x1000, 0x2000);
    struct mbi m;
    mbi_minimal(&m);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    uint8_t bad[36];
    memcpy(bad, r, 36);
    bad[32] ^= 0xff;
    assert_false(boot_info_set_rsdp(&bi, bad, 36));
    assert_int_equal(bi.rsdp_len, 0);
    assert_false(boot_info_set_rsdp(&bi, r, 35)); /* revision 2 needs 36 readable bytes */
    assert_true(boot_info_set_rsdp(&bi, r, 36));
    assert_int_equal(bi.rsdp_len, 36);
    assert_int_equal(bi.rsdp_tag, 0);
    assert_memory_equal(bi.rsdp, r, 36);
    uint8_t other[36];
    make_rsdp(other, 0, "OTHER ", 0x3000, 0);
    assert_false(boot_info_set_rsdp(&bi, other, 20)); /* the boot loader's (or first) one stays */
    assert_memory_equal(bi.rsdp, r, 36);
}

/* ------------------------------------------------------------------ the summary line */

TEST(describe_uefi_and_legacy_boots)
{
    char line[256];
    uint8_t r[36];
    make_rsdp(r, 2, "BOCHS ", 0x1000, 0x2000);
    struct mbi m;
    mbi_begin(&m);
    uint64_t st = 0x7fbee018;
    mbi_tag(&m, 12, &st, 8);
    mbi_efi_mmap(&m, 48, ovmf_like, ARRAY_SIZE(ovmf_like));
    mbi_tag(&m, 15, r, 36);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    mb2_describe(&bi, line, sizeof line);
    assert_string_equal(line, "boot information: UEFI (EFI64 system table 0x7fbee018); memory map: 11 ranges from "
                              "the EFI memory map (16 descriptors); ACPI RSDP revision 2 from tag 15, OEM 'BOCHS '");

    mbi_minimal(&m);
    mbi_efi_mmap(&m, 48, ovmf_like, 3);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    mb2_describe(&bi, line, sizeof line);
    assert_string_equal(line, "boot information: legacy BIOS; memory map: 3 ranges from GRUB's map, EFI memory map "
                              "of 3 descriptors checked; no ACPI RSDP tag");
    make_rsdp(r, 0, "\x01" "BOCH\xff", 0x1000, 0);
    assert_true(boot_info_set_rsdp(&bi, r, 20));
    uint8_t fb[24] = {0};
    (void)fb;
    bi.have_framebuffer = true;
    mb2_describe(&bi, line, sizeof line);
    assert_string_equal(line, "boot information: legacy BIOS; memory map: 3 ranges from GRUB's map, EFI memory map "
                              "of 3 descriptors checked; ACPI RSDP revision 0 from the BIOS area, OEM '?BOCH?'; "
                              "framebuffer ignored (console is serial)");
}

TEST(uefi_structure_every_truncation_refused)
{
    uint8_t r[36];
    make_rsdp(r, 2, "BOCHS ", 0x1000, 0x2000);
    struct mbi m;
    mbi_begin(&m);
    uint64_t st = 0x7fbee018;
    mbi_string(&m, 1, "loglevel=info");
    mbi_tag(&m, 12, &st, 8);
    mbi_tag(&m, 20, &st, 8);
    mbi_efi_mmap(&m, 48, ovmf_like, ARRAY_SIZE(ovmf_like));
    mbi_tag(&m, 14, r, 20);
    mbi_tag(&m, 15, r, 36);
    mbi_end(&m);
    mbi_seal(&m);
    assert_true(parse(&m));
    for (size_t len = 0; len < m.len; len++)
        assert_false(parse_len(&m, len));
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
        cmocka_unit_test(mb2_command_lines_up_to_4096_bytes_arrive_whole),
        cmocka_unit_test(mb2_command_line_longer_than_4096_refused_not_cut),
        cmocka_unit_test(mb2_module_command_line_longer_than_4096_refused_not_cut),
        cmocka_unit_test(mb2_long_loader_name_cut_to_its_field),
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
        cmocka_unit_test(efi_mmap_converted_sorted_and_merged_when_no_classic_map),
        cmocka_unit_test(efi_mmap_classic_map_preferred_when_both_given),
        cmocka_unit_test(efi_mmap_many_descriptors_merge_into_few_ranges),
        cmocka_unit_test(efi_mmap_malformed_refused),
        cmocka_unit_test(efi_mmap_tag_shape_refused),
        cmocka_unit_test(efi_mmap_invalid_tail_ignored_with_a_classic_map),
        cmocka_unit_test(efi_mmap_invalid_entry_refused_without_a_classic_map),
        cmocka_unit_test(efi64_system_table_and_image_handle_kept),
        cmocka_unit_test(efi64_tags_too_short_refused),
        cmocka_unit_test(efi_boot_services_not_terminated_refused),
        cmocka_unit_test(acpi_old_tag_kept),
        cmocka_unit_test(acpi_old_tag_holds_only_the_acpi_1_part_whatever_the_revision),
        cmocka_unit_test(acpi_new_tag_kept_and_preferred_in_either_order),
        cmocka_unit_test(acpi_tag_without_rsdp_is_not_an_error),
        cmocka_unit_test(acpi_malformed_tags_refused),
        cmocka_unit_test(acpi_rsdp_from_elsewhere_only_when_no_tag),
        cmocka_unit_test(describe_uefi_and_legacy_boots),
        cmocka_unit_test(uefi_structure_every_truncation_refused),
    };
    return RUN_GROUP("mb2_parse", tests, NULL, NULL);
}
