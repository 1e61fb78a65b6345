/*
 * Multiboot information for L1: v1 layout per Multiboot 0.6.96 section 3.3,
 * v2 per Multiboot2 section 3.6. Built in a Nestor buffer with the
 * guest-physical addresses L1 will see, then copied into L1's RAM.
 */
#include "nestor/bootinfo.h"
#include "nestor/l1.h"
#include "nestor/lib.h"

#define LOADER_NAME "Nestor"

struct builder {
    uint8_t *buf;
    size_t cap, len;
    gpa_t gpa;
    bool overflow;
};

static size_t reserve(struct builder *b, size_t n, size_t align)
{
    size_t at = ALIGN_UP(b->len, align);
    if (at + n > b->cap) {
        b->overflow = true;
        return 0;
    }
    memset(b->buf + b->len, 0, at + n - b->len); /* padding included: L1 sees no stale bytes */
    b->len = at + n;
    return at;
}

static void put32(struct builder *b, size_t at, uint32_t v)
{
    if (!b->overflow)
        memcpy(b->buf + at, &v, 4);
}
static void put64(struct builder *b, size_t at, uint64_t v)
{
    if (!b->overflow)
        memcpy(b->buf + at, &v, 8);
}

/* Appends a string and returns its guest-physical address. */
static uint32_t add_string(struct builder *b, const char *s)
{
    size_t n = strlen(s) + 1;
    size_t at = reserve(b, n, 1);
    if (b->overflow)
        return 0;
    memcpy(b->buf + at, s, n);
    return (uint32_t)(b->gpa + at);
}

/* Multiboot v1 information structure offsets. */
#define MB1_INFO_SIZE 120
#define MB1_FLAG_MEM BIT(0)
#define MB1_FLAG_CMDLINE BIT(2)
#define MB1_FLAG_MODS BIT(3)
#define MB1_FLAG_MMAP BIT(6)
#define MB1_FLAG_LOADER_NAME BIT(9)

size_t mbi1_build(uint8_t *buf, size_t cap, gpa_t buf_gpa, const struct l1_bootinfo_src *src)
{
    struct builder b = {buf, cap, 0, buf_gpa, false};
    size_t info = reserve(&b, MB1_INFO_SIZE, 8);
    put32(&b, info + 0, MB1_FLAG_MEM | MB1_FLAG_CMDLINE | MB1_FLAG_MODS | MB1_FLAG_MMAP | MB1_FLAG_LOADER_NAME);
    put32(&b, info + 4, src->mem_lower_kb);
    put32(&b, info + 8, src->mem_upper_kb);
    put32(&b, info + 16, add_string(&b, src->cmdline));
    put32(&b, info + 64, add_string(&b, LOADER_NAME));

    size_t mods = reserve(&b, 16 * (size_t)src->module_count, 4);
    put32(&b, info + 20, src->module_count);
    put32(&b, info + 24, src->module_count ? (uint32_t)(b.gpa + mods) : 0);
    for (unsigned i = 0; i < src->module_count; i++) {
        put32(&b, mods + 16 * i + 0, (uint32_t)src->modules[i].start);
        put32(&b, mods + 16 * i + 4, (uint32_t)src->modules[i].end);
        put32(&b, mods + 16 * i + 8, add_string(&b, src->modules[i].cmdline));
    }

    /* Each entry is preceded by its size (20), which the size does not count. */
    size_t map = reserve(&b, 24 * (size_t)src->map_count, 4);
    put32(&b, info + 44, 24 * src->map_count);
    put32(&b, info + 48, (uint32_t)(b.gpa + map));
    for (unsigned i = 0; i < src->map_count; i++) {
        size_t e = map + 24 * i;
        put32(&b, e, 20);
        put64(&b, e + 4, src->map[i].base);
        put64(&b, e + 12, src->map[i].len);
        put32(&b, e + 20, src->map[i].type);
    }
    return b.overflow ? 0 : b.len;
}

static size_t tag_begin(struct builder *b, uint32_t type, size_t fixed)
{
    size_t at = reserve(b, fixed, 8);
    put32(b, at, type);
    return at;
}

static void tag_end(struct builder *b, size_t at) { put32(b, at + 4, (uint32_t)(b->len - at)); }

static void tag_string(struct builder *b, uint32_t type, const char *s)
{
    size_t at = tag_begin(b, type, 8);
    add_string(b, s);
    tag_end(b, at);
}

size_t mbi2_build(uint8_t *buf, size_t cap, gpa_t buf_gpa, const struct l1_bootinfo_src *src)
{
    struct builder b = {buf, cap, 0, buf_gpa, false};
    if (!IS_ALIGNED(buf_gpa, 8))
        return 0;
    size_t head = reserve(&b, 8, 8);
    tag_string(&b, 1, src->cmdline);
    tag_string(&b, 2, LOADER_NAME);

    size_t at = tag_begin(&b, 4, 16);
    put32(&b, at + 8, src->mem_lower_kb);
    put32(&b, at + 12, src->mem_upper_kb);
    tag_end(&b, at);

    for (unsigned i = 0; i < src->module_count; i++) {
        at = tag_begin(&b, 3, 16);
        put32(&b, at + 8, (uint32_t)src->modules[i].start);
        put32(&b, at + 12, (uint32_t)src->modules[i].end);
        add_string(&b, src->modules[i].cmdline);
        tag_end(&b, at);
    }

    at = tag_begin(&b, 6, 16);
    put32(&b, at + 8, 24); /* entry_size */
    put32(&b, at + 12, 0); /* entry_version */
    for (unsigned i = 0; i < src->map_count; i++) {
        size_t e = reserve(&b, 24, 8);
        put64(&b, e, src->map[i].base);
        put64(&b, e + 8, src->map[i].len);
        put32(&b, e + 16, src->map[i].type);
    }
    tag_end(&b, at);

    at = tag_begin(&b, 0, 8);
    tag_end(&b, at);
    reserve(&b, 0, 8);
    put32(&b, head, (uint32_t)b.len);
    return b.overflow ? 0 : b.len;
}

size_t mbi2_add_acpi(uint8_t *buf, size_t cap, size_t len, const uint8_t *rsdp, uint32_t rsdp_len)
{
    uint32_t total, end_type, end_size;
    if (len < 16 || len > cap || !IS_ALIGNED(len, 8) || rsdp_len < BOOT_RSDP_V1_LEN)
        return 0;
    memcpy(&total, buf, 4);
    memcpy(&end_type, buf + len - 8, 4);
    memcpy(&end_size, buf + len - 4, 4);
    if (total != len || end_type != 0 || end_size != 8)
        return 0;
    struct builder b = {buf, cap, len - 8, 0, false};
    size_t at = tag_begin(&b, 14, 8 + BOOT_RSDP_V1_LEN);
    if (!b.overflow)
        memcpy(buf + at + 8, rsdp, BOOT_RSDP_V1_LEN);
    tag_end(&b, at);
    if (rsdp_len >= 36) {
        at = tag_begin(&b, 15, 8 + (size_t)rsdp_len);
        if (!b.overflow)
            memcpy(buf + at + 8, rsdp, rsdp_len);
        tag_end(&b, at);
    }
    at = tag_begin(&b, 0, 8);
    tag_end(&b, at);
    reserve(&b, 0, 8);
    put32(&b, 0, (uint32_t)b.len);
    return b.overflow ? 0 : b.len;
}
