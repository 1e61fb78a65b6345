/*
 * core/l1_bootinfo.c: the Multiboot (v1) and Multiboot2 information Nestor
 * builds for L1. Every structure is read back: v1 by walking it as a kernel
 * would, v2 by feeding it to Nestor's own Multiboot2 parser.
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "nestor/bootinfo.h"
#include "nestor/bzimage.h"
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

/* ------------------------------------------------------------------ ACPI tags for a Multiboot2 L1 */

static void make_rsdp(uint8_t *r, unsigned rev)
{
    memset(r, 0, 36);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "BOCHS ", 6);
    r[15] = (uint8_t)rev;
    uint32_t rsdt = 0x7fe14d2, len = 36;
    uint64_t xsdt = 0x7fe15d2;
    memcpy(r + 16, &rsdt, 4);
    uint8_t sum = 0;
    for (int i = 0; i < 20; i++)
        sum = (uint8_t)(sum + r[i]);
    r[8] = (uint8_t)-sum;
    if (rev < 2)
        return;
    memcpy(r + 20, &len, 4);
    memcpy(r + 24, &xsdt, 8);
    sum = 0;
    for (int i = 0; i < 36; i++)
        sum = (uint8_t)(sum + r[i]);
    r[32] = (uint8_t)-sum;
}

/* The offset of the first tag of a type in a Multiboot2 structure, 0 if none. */
static size_t find_tag(const uint8_t *b, size_t len, uint32_t type)
{
    for (size_t off = 8; off + 8 <= len; off = (off + rd32(b + off + 4) + 7) & ~(size_t)7) {
        if (rd32(b + off) == type)
            return off;
        if (rd32(b + off) == 0)
            break;
    }
    return 0;
}

TEST(mbi2_acpi_new_and_old_tags_for_an_acpi2_rsdp)
{
    uint8_t r[36];
    make_rsdp(r, 2);
    struct l1_bootinfo_src src = src_full();
    size_t len = mbi2_build(buf, sizeof buf, GPA, &src);
    size_t with = mbi2_add_acpi(buf, sizeof buf, len, r, 36);
    assert_int_equal(with, len + 8 + 24 + 8 + 40); /* tag 14: 8+20 padded to 32; tag 15: 8+36 padded to 48 */
    assert_int_equal(rd32(buf), with);
    size_t old = find_tag(buf, with, 14), neu = find_tag(buf, with, 15);
    assert_true(old && neu);
    assert_int_equal(rd32(buf + old + 4), 8 + 20);
    assert_memory_equal(buf + old + 8, r, 20);
    assert_int_equal(rd32(buf + neu + 4), 8 + 36);
    assert_memory_equal(buf + neu + 8, r, 36);
    assert_int_equal(rd32(buf + with - 8), 0); /* still ends with the end tag */
    assert_int_equal(rd32(buf + with - 4), 8);
    /* Nestor's own parser, as an L1 reads it: everything else unchanged. */
    assert_true(mb2_parse(buf, with, &parsed));
    assert_int_equal(parsed.rsdp_tag, 15);
    assert_int_equal(parsed.rsdp_len, 36);
    assert_memory_equal(parsed.rsdp, r, 36);
    assert_string_equal(parsed.cmdline, "test=hello loglevel=debug");
    assert_int_equal(parsed.module_count, 2);
    assert_int_equal(parsed.mmap_count, 5);
}

TEST(mbi2_acpi_old_tag_only_for_an_acpi1_rsdp)
{
    uint8_t r[36];
    make_rsdp(r, 0);
    struct l1_bootinfo_src src = src_full();
    size_t len = mbi2_build(buf, sizeof buf, GPA, &src);
    size_t with = mbi2_add_acpi(buf, sizeof buf, len, r, 20);
    assert_int_equal(with, len + 32);
    assert_true(find_tag(buf, with, 14));
    assert_false(find_tag(buf, with, 15));
    assert_true(mb2_parse(buf, with, &parsed));
    assert_int_equal(parsed.rsdp_tag, 14);
    assert_int_equal(parsed.rsdp_len, 20);
    assert_memory_equal(parsed.rsdp, r, 20);
}

TEST(mbi2_acpi_refuses_what_it_cannot_extend)
{
    uint8_t r[36];
    make_rsdp(r, 2);
    struct l1_bootinfo_src src = src_full();
    size_t len = mbi2_build(buf, sizeof buf, GPA, &src);
    size_t want = len + 80;
    for (size_t cap = len; cap < want; cap++) {
        static uint8_t copy[32768];
        memcpy(copy, buf, len);
        assert_int_equal(mbi2_add_acpi(copy, cap, len, r, 36), 0);
    }
    assert_int_equal(mbi2_add_acpi(buf, sizeof buf, len, r, 19), 0); /* not an RSDP */
    assert_int_equal(mbi2_add_acpi(buf, sizeof buf, len - 8, r, 36), 0); /* does not end with the end tag */
    assert_int_equal(mbi2_add_acpi(buf, sizeof buf, 8, r, 36), 0);
    uint32_t wrong = (uint32_t)len + 8;
    memcpy(buf, &wrong, 4);
    assert_int_equal(mbi2_add_acpi(buf, sizeof buf, len, r, 36), 0); /* total_size disagrees */
}

/* ------------------------------------------------------------------ Linux boot protocol: ACPI and the command line */

/* A minimal bzImage: setup header of protocol version, with cmdline_size, then 4 KiB of "kernel". */
static uint8_t bz_img[0x1000 + 5 * 512];

static size_t make_bzimage(uint16_t version, uint32_t cmdline_size)
{
    memset(bz_img, 0, sizeof bz_img);
    bz_img[0x1f1] = 4;                /* setup_sects */
    bz_img[0x1fe] = 0x55;
    bz_img[0x1ff] = 0xaa;
    bz_img[0x200] = 0xeb;
    bz_img[0x201] = 0x280 - 0x202;    /* the jump over the header: its end */
    memcpy(bz_img + 0x202, "HdrS", 4);
    memcpy(bz_img + 0x206, &version, 2);
    bz_img[0x211] = 0x01;             /* LOADED_HIGH */
    memcpy(bz_img + 0x238, &cmdline_size, 4);
    return sizeof bz_img;
}

TEST(bzimage_command_line_up_to_cmdline_size)
{
    struct bzimage bz;
    assert_true(bzimage_parse(bz_img, make_bzimage(0x20f, 2047), &bz));
    assert_int_equal(bz.cmdline_size, 2047);
    assert_true(bzimage_cmdline_fits(&bz, 0));
    assert_true(bzimage_cmdline_fits(&bz, 2046));
    assert_true(bzimage_cmdline_fits(&bz, 2047));
    assert_false(bzimage_cmdline_fits(&bz, 2048));
    assert_true(bzimage_parse(bz_img, make_bzimage(0x20f, BOOT_CMDLINE_LEN), &bz));
    assert_true(bzimage_cmdline_fits(&bz, BOOT_CMDLINE_LEN - 1));
    assert_true(bzimage_cmdline_fits(&bz, BOOT_CMDLINE_LEN));
    assert_false(bzimage_cmdline_fits(&bz, BOOT_CMDLINE_LEN + 1));
}

static uint64_t zp_rsdp(uint16_t version, uint64_t rsdp_gpa)
{
    static uint8_t zp[BZ_ZERO_PAGE_SIZE];
    struct bzimage bz;
    assert_true(bzimage_parse(bz_img, make_bzimage(version, 2047), &bz));
    struct bz_boot b = {.load_address = 0x1000000, .cmdline_gpa = 0x13000, .acpi_rsdp_gpa = rsdp_gpa,
                        .e820 = map5, .e820_count = 5};
    memset(zp, 0xee, sizeof zp);
    bzimage_zero_page(zp, bz_img, &bz, &b);
    return rd64(zp + 0x070);
}

TEST(bzimage_acpi_rsdp_addr_at_0x70_from_protocol_2_14)
{
    assert_int_equal(zp_rsdp(0x20e, 0x12000), 0x12000);
    assert_int_equal(zp_rsdp(0x20f, 0x12000), 0x12000);
    assert_int_equal(zp_rsdp(0x20f, 0x7fe14000), 0x7fe14000);
    assert_int_equal(zp_rsdp(0x20d, 0x12000), 0); /* an older kernel: the field is padding to it */
    assert_int_equal(zp_rsdp(0x20a, 0x12000), 0);
    assert_int_equal(zp_rsdp(0x20f, 0), 0);       /* no RSDP: left zero, Linux looks itself */
}

static void expect_e820(const struct mmap_entry *e, uint64_t base, uint64_t len, uint32_t type)
{
    assert_int_equal(e->base, base);
    assert_int_equal(e->len, len);
    assert_int_equal(e->type, type);
}

TEST(bz_e820_reserve_carves_a_page_out_of_usable_low_memory)
{
    struct mmap_entry out[8];
    assert_int_equal(bz_e820_reserve(out, 8, map5, 5, 0x12000, 0x1000), 7);
    expect_e820(&out[0], 0, 0x12000, MMAP_USABLE);
    expect_e820(&out[1], 0x12000, 0x1000, MMAP_RESERVED);
    expect_e820(&out[2], 0x13000, 0x9f000 - 0x13000, MMAP_USABLE);
    for (unsigned i = 1; i < 5; i++) /* the firmware's ranges (ACPI included) are kept as they were */
        expect_e820(&out[2 + i], map5[i].base, map5[i].len, map5[i].type);
    /* At either end of a usable range: two pieces. */
    assert_int_equal(bz_e820_reserve(out, 8, map5, 5, 0, 0x1000), 6);
    expect_e820(&out[0], 0, 0x1000, MMAP_RESERVED);
    expect_e820(&out[1], 0x1000, 0x9e000, MMAP_USABLE);
    assert_int_equal(bz_e820_reserve(out, 8, map5, 5, 0x9e000, 0x1000), 6);
    expect_e820(&out[1], 0x9e000, 0x1000, MMAP_RESERVED);
    /* The whole range: one piece. */
    static const struct mmap_entry page[1] = {{0x12000, 0x1000, MMAP_USABLE}};
    assert_int_equal(bz_e820_reserve(out, 8, page, 1, 0x12000, 0x1000), 1);
    expect_e820(&out[0], 0x12000, 0x1000, MMAP_RESERVED);
}

TEST(bz_e820_reserve_refuses_what_is_not_usable_or_does_not_fit)
{
    struct mmap_entry out[8];
    assert_int_equal(bz_e820_reserve(out, 8, map5, 5, 0x9f000, 0x1000), 0);  /* reserved already */
    assert_int_equal(bz_e820_reserve(out, 8, map5, 5, 0x9e800, 0x1000), 0);  /* straddles usable/reserved */
    assert_int_equal(bz_e820_reserve(out, 8, map5, 5, 0xa0000, 0x1000), 0);  /* in no range */
    assert_int_equal(bz_e820_reserve(out, 8, map5, 5, 0x12000, 0), 0);
    assert_int_equal(bz_e820_reserve(out, 8, map5, 0, 0x12000, 0x1000), 0);
    assert_int_equal(bz_e820_reserve(out, 6, map5, 5, 0x12000, 0x1000), 0);  /* 7 entries needed */
    assert_int_equal(bz_e820_reserve(out, 7, map5, 5, 0x12000, 0x1000), 7);
    assert_int_equal(bz_e820_reserve(out, 8, map5, 5, UINT64_MAX - 0xfff, 0x1000), 0); /* wraps */
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
        cmocka_unit_test(mbi2_acpi_new_and_old_tags_for_an_acpi2_rsdp),
        cmocka_unit_test(mbi2_acpi_old_tag_only_for_an_acpi1_rsdp),
        cmocka_unit_test(mbi2_acpi_refuses_what_it_cannot_extend),
        cmocka_unit_test(bzimage_command_line_up_to_cmdline_size),
        cmocka_unit_test(bzimage_acpi_rsdp_addr_at_0x70_from_protocol_2_14),
        cmocka_unit_test(bz_e820_reserve_carves_a_page_out_of_usable_low_memory),
        cmocka_unit_test(bz_e820_reserve_refuses_what_is_not_usable_or_does_not_fit),
    };
    return RUN_GROUP("l1_bootinfo", tests, NULL, NULL);
}
