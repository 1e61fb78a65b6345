/*
 * Multiboot2 boot information parser (Multiboot2 spec 3.6). Every length is
 * checked before it is trusted: a broken boot loader or a corrupted structure
 * gives a clear error, never a wild read.
 */
#include "nestor/bootinfo.h"
#include "nestor/fmt.h"
#include "nestor/lib.h"

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP 6

#define MB2_MAX_TOTAL_SIZE (1u << 20)

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

static bool fail(struct boot_info *bi, const char *what, uint32_t off, uint32_t a, uint32_t b)
{
    fmt_snprintf(bi->error, sizeof bi->error, "multiboot2 info: %s (offset 0x%x, 0x%x, 0x%x)", what, off, a, b);
    return false;
}

/* A string inside a tag must end inside the tag. */
static bool copy_tag_string(char *dst, size_t dst_size, const uint8_t *s, size_t room)
{
    size_t n = strnlen((const char *)s, room);
    if (n == room)
        return false;
    size_t c = n < dst_size - 1 ? n : dst_size - 1;
    memcpy(dst, s, c);
    dst[c] = 0;
    return true;
}

bool mb2_parse(const uint8_t *buf, size_t buf_len, struct boot_info *bi)
{
    memset(bi, 0, sizeof *bi);
    if (buf_len < 16)
        return fail(bi, "shorter than the 8-byte header and end tag", 0, (uint32_t)buf_len, 16);
    uint32_t total = rd32(buf);
    if (total < 16 || total > buf_len || total > MB2_MAX_TOTAL_SIZE)
        return fail(bi, "total_size out of range", 0, total, (uint32_t)buf_len);
    bi->mbi_size = total;

    bool seen_end = false, seen_mmap = false;
    uint32_t off = 8;
    while (off + 8 <= total) {
        uint32_t type = rd32(buf + off), size = rd32(buf + off + 4);
        if (size < 8 || size > total - off)
            return fail(bi, "tag size runs past total_size", off, type, size);
        const uint8_t *body = buf + off + 8;
        uint32_t body_len = size - 8;
        switch (type) {
        case MB2_TAG_END:
            if (size != 8)
                return fail(bi, "end tag with size other than 8", off, type, size);
            seen_end = true;
            break;
        case MB2_TAG_CMDLINE:
            if (!copy_tag_string(bi->cmdline, sizeof bi->cmdline, body, body_len))
                return fail(bi, "command line not terminated inside its tag", off, type, size);
            break;
        case MB2_TAG_LOADER_NAME:
            if (!copy_tag_string(bi->loader_name, sizeof bi->loader_name, body, body_len))
                return fail(bi, "boot loader name not terminated inside its tag", off, type, size);
            break;
        case MB2_TAG_BASIC_MEMINFO:
            if (body_len < 8)
                return fail(bi, "basic meminfo tag too short", off, type, size);
            bi->have_meminfo = true;
            bi->mem_lower_kb = rd32(body);
            bi->mem_upper_kb = rd32(body + 4);
            break;
        case MB2_TAG_MODULE: {
            if (body_len < 9)
                return fail(bi, "module tag too short", off, type, size);
            if (bi->module_count == BOOT_MAX_MODULES)
                return fail(bi, "too many modules", off, BOOT_MAX_MODULES, 0);
            struct boot_module *m = &bi->modules[bi->module_count];
            m->start = rd32(body);
            m->end = rd32(body + 4);
            if (m->end < m->start)
                return fail(bi, "module ends before it starts", off, (uint32_t)m->start, (uint32_t)m->end);
            if (!copy_tag_string(m->cmdline, sizeof m->cmdline, body + 8, body_len - 8))
                return fail(bi, "module string not terminated inside its tag", off, type, size);
            bi->module_count++;
            break;
        }
        case MB2_TAG_MMAP: {
            if (body_len < 8)
                return fail(bi, "memory map tag too short", off, type, size);
            uint32_t entry_size = rd32(body);
            if (entry_size < 24 || entry_size % 8)
                return fail(bi, "memory map entry_size invalid", off, entry_size, 24);
            for (uint32_t e = 8; e + entry_size <= body_len; e += entry_size) {
                if (bi->mmap_count == BOOT_MAX_MMAP)
                    return fail(bi, "too many memory map entries", off, BOOT_MAX_MMAP, 0);
                struct mmap_entry *me = &bi->mmap[bi->mmap_count++];
                me->base = rd64(body + e);
                me->len = rd64(body + e + 8);
                me->type = rd32(body + e + 16);
                if (me->base + me->len < me->base)
                    return fail(bi, "memory map entry wraps around", off, (uint32_t)(me->base >> 32), e);
            }
            seen_mmap = true;
            break;
        }
        default:
            break; /* tags we do not use are fine */
        }
        if (seen_end)
            break;
        off += ALIGN_UP(size, 8);
    }
    if (!seen_end)
        return fail(bi, "no end tag before total_size", off, total, 0);
    if (!seen_mmap)
        return fail(bi, "no memory map tag (type 6); Nestor cannot place L1 without one", 0, 0, 0);
    return true;
}
