/*
 * core/l1_bootinfo.c: the Multiboot (v1) and Multiboot2 information Nestor
 * builds for L1. Every structure is read back: v1 by walking it as a kernel
 * would, v2 by feeding it to Nestor's own Multiboot2 parser.
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "nestor/bootinfo.h"
#include "nestor/l1.h"

#define GPA 0x7ff000u /* where L1 would find the structure */

static uint8_t buf[32768];

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static const struct mmap_entry map5[5] = {
    {0x0, 0x9f000, MMAP_USABLE},
    {0x9f000, 0x1000, MMAP_RESERVED},
    {0x100000, 0x3f00000, MMAP_USABLE},
    {0x7fff0000, 0x10000, MMAP_ACPI_RECLAIMABLE},
    {0xfffc0000, 0x40000, MMAP_RESERVED},
};

static const struct l1_module mods2[2] = {
    {0x300000, 0x300123, "demo-module arg=1"},
    {0x301000, 0x301000, ""},
};

static struct l1_bootinfo_src src_full(void)
{
    return (struct l1_bootinfo_src){
        .cmdline = "test=hello loglevel=debug",
        .mem_lower_kb = 636,
        .mem_upper_kb = 65536,
        .map = map5,
        .map_count = 5,
        .modules = mods2,
        .module_count = 2,
    };
}

/* The string a 32-bit guest-physical pointer in the v1 structure points at, checked to lie inside it. */
static const char *mb1_string(size_t len, uint32_t ptr)
{
    assert_true(ptr >= GPA && ptr < GPA + len);
    const char *s = (const char *)buf + (ptr - GPA);
    assert_non_null(memchr(s, 0, len - (ptr - GPA)));
    return s;
}

/* ------------------------------------------------------------------ Multiboot (v1) */

TEST(mbi1_fields_read_back)
{
    struct l1_bootinfo_src src = src_full();
    memset(buf, 0xee, sizeof buf);
    size_t len = mbi1_build(buf, sizeof buf, GPA, &src);
    assert_true(len >= 120);
    assert_int_equal(rd32(buf + 0), 0x24d); /* mem, cmdline, mods, mmap, boot loader name */
    assert_int_equal(rd32(buf + 4), 636);
    assert_int_equal(rd32(buf + 8), 65536);
    assert_int_equal(rd32(buf + 12), 0); /* boot_device: not given */
    assert_string_equal(mb1_string(len, rd32(buf + 16)), "test=hello loglevel=debug");
    assert_string_equal(mb1_string(len, rd32(buf + 64)), "Nestor");

    assert_int_equal(rd32(buf + 20), 2);
    uint32_t mods = rd32(buf + 24);
    assert_true(mods >= GPA && mods + 32 <= GPA + len);
    assert_int_equal(mods % 4, 0);
    const uint8_t *m = buf + (mods - GPA);
    assert_int_equal(rd32(m + 0), 0x300000);
    assert_int_equal(rd32(m + 4), 0x300123);
    assert_string_equal(mb1_string(len, rd32(m + 8)), "demo-module arg=1");
    assert_int_equal(rd32(m + 12), 0);
    assert_int_equal(rd32(m + 16), 0x301000);
    assert_int_equal(rd32(m + 20), 0x301000);
    assert_string_equal(mb1_string(len, rd32(m + 24)), "");
    assert_int_equal(rd32(m + 28), 0);
}

TEST(mbi1_memory_map_walked_like_a_kernel)
{
    struct l1_bootinfo_src src = src_full();
    size_t len = mbi1_build(buf, sizeof buf, GPA, &src);
    uint32_t mmap_length = rd32(buf + 44), mmap_addr = rd32(buf + 48);
    assert_int_equal(mmap_length, 5 * 24);
    assert_true(mmap_addr >= GPA && mmap_addr + mmap_length <= GPA + len);
    /* Multiboot 0.6.96 3.3: each entry starts with its size, which does not count itself. */
    unsigned n = 0;
    for (uint32_t off = 0; off < mmap_length; n++) {
        const uint8_t *e = buf + (mmap_addr - GPA) + off;
        uint32_t size = rd32(e);
        assert_int_equal(size, 20);
        assert_true(n < 5);
        assert_int_equal(rd64(e + 4), map5[n].base);
        assert_int_equal(rd64(e + 12), map5[n].len);
        assert_int_equal(rd32(e + 20), map5[n].type);
        off += size + 4;
    }
    assert_int_equal(n, 5);
}

TEST(mbi1_unused_fields_are_zero)
{
    struct l1_bootinfo_src src = src_full();
    memset(buf, 0xee, sizeof buf);
    mbi1_build(buf, sizeof buf, GPA, &src);
    for (unsigned off = 28; off < 44; off++) /* syms */
        assert_int_equal(buf[off], 0);
    for (unsigned off = 52; off < 64; off++) /* drives, config table */
        assert_int_equal(buf[off], 0);
    for (unsigned off = 68; off < 120; off++) /* APM, VBE, framebuffer */
        assert_int_equal(buf[off], 0);
}

TEST(mbi1_without_modules_or_map)
{
    struct l1_bootinfo_src src = {.cmdline = "", .mem_lower_kb = 0, .mem_upper_kb = 1024};
    size_t len = mbi1_build(buf, sizeof buf, GPA, &src);
    assert_true(len >= 120);
    assert_int_equal(rd32(buf + 20), 0);
    assert_int_equal(rd32(buf + 24), 0); /* mods_addr 0 when there are none */
    assert_int_equal(rd32(buf + 44), 0);
    assert_string_equal(mb1_string(len, rd32(buf + 16)), "");
}

TEST(mbi1_every_too_small_buffer_refused)
{
    struct l1_bootinfo_src src = src_full();
    size_t len = mbi1_build(buf, sizeof buf, GPA, &src);
    assert_true(len > 0);
    for (size_t cap = 0; cap < len; cap++) {
        uint8_t *b = malloc(cap ? cap : 1); /* exactly cap bytes: ASan catches a write past it */
        assert_non_null(b);
        assert_int_equal(mbi1_build(b, cap, GPA, &src), 0);
        free(b);
    }
    /* Alignment padding is left as it was: start both buffers alike to compare the rest. */
    uint8_t *b = malloc(len);
    assert_non_null(b);
    memset(b, 0x5c, len);
    memset(buf, 0x5c, sizeof buf);
    assert_int_equal(mbi1_build(buf, sizeof buf, GPA, &src), len);
    assert_int_equal(mbi1_build(b, len, GPA, &src), len);
    assert_bytes_equal(b, buf, len);
    free(b);
}

/* ------------------------------------------------------------------ Multiboot2 */

static struct boot_info parsed;

TEST(mbi2_parsed_back_by_mb2_parse)
{
    struct l1_bootinfo_src src = src_full();
    memset(buf, 0xee, sizeof buf);
    size_t len = mbi2_build(buf, sizeof buf, GPA, &src);
    assert_true(len > 0);
    uint8_t *copy = exact_copy(buf, len);
    bool ok = mb2_parse(copy, len, &parsed);
    free(copy);
    if (!ok)
        print_error("mb2_parse: %s\n", parsed.error);
    assert_true(ok);
    assert_int_equal(parsed.mbi_size, len);
    assert_string_equal(parsed.cmdline, "test=hello loglevel=debug");
    assert_string_equal(parsed.loader_name, "Nestor");
    assert_true(parsed.have_meminfo);
    assert_int_equal(parsed.mem_lower_kb, 636);
    assert_int_equal(parsed.mem_upper_kb, 65536);
    assert_int_equal(parsed.module_count, 2);
    assert_int_equal(parsed.modules[0].start, 0x300000);
    assert_int_equal(parsed.modules[0].end, 0x300123);
    assert_string_equal(parsed.modules[0].cmdline, "demo-module arg=1");
    assert_int_equal(parsed.modules[1].start, 0x301000);
    assert_string_equal(parsed.modules[1].cmdline, "");
    assert_int_equal(parsed.mmap_count, 5);
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(parsed.mmap[i].base, map5[i].base);
        assert_int_equal(parsed.mmap[i].len, map5[i].len);
        assert_int_equal(parsed.mmap[i].type, map5[i].type);
    }
}

TEST(mbi2_layout_follows_the_spec)
{
    struct l1_bootinfo_src src = src_full();
    memset(buf, 0xee, sizeof buf);
    size_t len = mbi2_build(buf, sizeof buf, GPA, &src);
    assert_int_equal(len % 8, 0);
    assert_int_equal(rd32(buf), len);    /* total_size */
    assert_int_equal(rd32(buf + 4), 0);  /* reserved */
    /* Walk the tags: each 8-byte aligned, sizes inside the structure, end tag last. */
    size_t off = 8;
    unsigned seen[8] = {0};
    for (;;) {
        assert_true(off + 8 <= len);
        uint32_t type = rd32(buf + off), size = rd32(buf + off + 4);
        assert_true(size >= 8 && off + size <= len);
        if (type == 0) {
            assert_int_equal(size, 8);
            assert_int_equal(off + 8, len);
            break;
        }
        if (type < 8)
            seen[type]++;
        if (type == 6) {
            assert_int_equal(rd32(buf + off + 8), 24); /* entry_size */
            assert_int_equal(rd32(buf + off + 12), 0); /* entry_version */
            assert_int_equal(size, 16 + 5 * 24);
            for (unsigned i = 0; i < 5; i++)
                assert_int_equal(rd32(buf + off + 16 + 24 * i + 20), 0); /* entry reserved field */
        }
        if (type == 4)
            assert_int_equal(size, 16);
        off = ALIGN_UP(off + size, 8);
    }
    assert_int_equal(seen[1], 1);
    assert_int_equal(seen[2], 1);
    assert_int_equal(seen[3], 2);
    assert_int_equal(seen[4], 1);
    assert_int_equal(seen[6], 1);
    assert_int_equal(rd32(buf + 8), 1); /* the command line comes first */
}

TEST(mbi2_without_modules_or_map)
{
    struct l1_bootinfo_src src = {.cmdline = "", .mem_upper_kb = 1024};
    size_t len = mbi2_build(buf, sizeof buf, GPA, &src);
    assert_true(len > 0);
    assert_true(mb2_parse(buf, len, &parsed)); /* an empty memory map tag is still a memory map tag */
    assert_int_equal(parsed.mmap_count, 0);
    assert_int_equal(parsed.module_count, 0);
    assert_string_equal(parsed.cmdline, "");
}

TEST(mbi2_sixteen_modules_and_long_strings)
{
    static struct l1_module mods[BOOT_MAX_MODULES];
    static char names[BOOT_MAX_MODULES][32];
    char longline[700];
    memset(longline, 'c', sizeof longline - 1);
    longline[sizeof longline - 1] = 0;
    for (unsigned i = 0; i < BOOT_MAX_MODULES; i++) {
        snprintf(names[i], sizeof names[i], "module-%u", i);
        mods[i] = (struct l1_module){0x400000 + i * 0x1000, 0x400800 + i * 0x1000, names[i]};
    }
    struct l1_bootinfo_src src = {.cmdline = longline, .mem_upper_kb = 1, .map = map5, .map_count = 5,
                                  .modules = mods, .module_count = BOOT_MAX_MODULES};
    size_t len = mbi2_build(buf, sizeof buf, GPA, &src);
    assert_true(len > sizeof longline);
    assert_true(mb2_parse(buf, len, &parsed));
    assert_int_equal(parsed.module_count, BOOT_MAX_MODULES);
    assert_string_equal(parsed.modules[15].cmdline, "module-15");
    assert_int_equal(parsed.modules[15].start, 0x40f000);
    assert_string_equal(parsed.cmdline, longline); /* 699 bytes arrive whole */
}

TEST(mbi2_unaligned_address_refused)
{
    struct l1_bootinfo_src src = src_full();
    assert_int_equal(mbi2_build(buf, sizeof buf, GPA + 4, &src), 0);
    assert_int_equal(mbi2_build(buf, sizeof buf, GPA + 1, &src), 0);
    assert_true(mbi2_build(buf, sizeof buf, GPA + 8, &src) > 0);
}

TEST(mbi2_every_too_small_buffer_refused)
{
    struct l1_bootinfo_src src = src_full();
    size_t len = mbi2_build(buf, sizeof buf, GPA, &src);
    assert_true(len > 0);
    for (size_t cap = 0; cap < len; cap++) {
        uint8_t *b = malloc(cap ? cap : 1);
        assert_non_null(b);
        assert_int_equal(mbi2_build(b, cap, GPA, &src), 0);
        free(b);
    }
    /* Alignment padding is left as it was: start both buffers alike to compare the rest. */
    uint8_t *b = malloc(len);
    assert_non_null(b);
    memset(b, 0x5c, len);
    memset(buf, 0x5c, sizeof buf);
    assert_int_equal(mbi2_build(buf, sizeof buf, GPA, &src), len);
    assert_int_equal(mbi2_build(b, len, GPA, &src), len);
    assert_bytes_equal(b, buf, len);
    free(b);
}

TEST(mbi2_independent_of_where_it_is_placed)
{
    /* v2 holds no pointers: the bytes are the same at any 8-aligned address. */
    struct l1_bootinfo_src src = src_full();
    static uint8_t other[32768];
    memset(buf, 0x5c, sizeof buf);
    memset(other, 0x5c, sizeof other);
    size_t a = mbi2_build(buf, sizeof buf, 0x10000, &src);
    size_t b = mbi2_build(other, sizeof other, 0xbff00008, &src);
    assert_int_equal(a, b);
    assert_bytes_equal(buf, other, a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mbi1_fields_read_back),
        cmocka_unit_test(mbi1_memory_map_walked_like_a_kernel),
        cmocka_unit_test(mbi1_unused_fields_are_zero),
        cmocka_unit_test(mbi1_without_modules_or_map),
        cmocka_unit_test(mbi1_every_too_small_buffer_refused),
        cmocka_unit_test(mbi2_parsed_back_by_mb2_parse),
        cmocka_unit_test(mbi2_layout_follows_the_spec),
        cmocka_unit_test(mbi2_without_modules_or_map),
        cmocka_unit_test(mbi2_sixteen_modules_and_long_strings),
        cmocka_unit_test(mbi2_unaligned_address_refused),
        cmocka_unit_test(mbi2_every_too_small_buffer_refused),
        cmocka_unit_test(mbi2_independent_of_where_it_is_placed),
    };
    return RUN_GROUP("l1_bootinfo", tests, NULL, NULL);
}
