/*
 * l1test: decode and print the multiboot v1 / multiboot2 boot information.
 *
 * Both protocols are reduced to the same printed lines so that a test
 * harness can compare the two variants line by line. Fields are read
 * through packed structs because the loader only promises 4-byte alignment
 * (mb1) and 64-bit fields may straddle that.
 */
#include "l1test.h"

#define MB1_MAGIC 0x2badb002u
#define MB2_MAGIC 0x36d76289u

#define MB1_F_MEM     (1u << 0)
#define MB1_F_CMDLINE (1u << 2)
#define MB1_F_MODS    (1u << 3)
#define MB1_F_MMAP    (1u << 6)

#define MB2_TAG_END     0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MODULE  3
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP    6

#define MOD_HEAD_MAX 16

struct mb1_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb1_mod {
    uint32_t start, end, string, reserved;
} __attribute__((packed));

/* 'size' does not count itself, hence the +4 when stepping. */
struct mb1_mmap {
    uint32_t size;
    uint64_t base, len;
    uint32_t type;
} __attribute__((packed));

struct mb2_tag {
    uint32_t type, size;
} __attribute__((packed));

struct mb2_meminfo {
    struct mb2_tag tag;
    uint32_t mem_lower, mem_upper;
} __attribute__((packed));

struct mb2_mmap {
    struct mb2_tag tag;
    uint32_t entry_size, entry_version;
} __attribute__((packed));

struct mb2_mmap_entry {
    uint64_t base, len;
    uint32_t type, reserved;
} __attribute__((packed));

struct mb2_module {
    struct mb2_tag tag;
    uint32_t start, end;
    char string[];
} __attribute__((packed));

static const void *phys(uint32_t addr)
{
    return (const void *)(uintptr_t)addr;
}

static void say_mmap(uint64_t base, uint64_t len, uint32_t type)
{
    l1_say("mmap base=0x%llx len=0x%llx type=%u", base, len, type);
}

/* Printing the first bytes lets a harness prove the module content arrived intact. */
static void say_module(uint32_t idx, uint32_t start, uint32_t end, const char *cmd)
{
    char head[MOD_HEAD_MAX + 1];
    uint32_t n = end > start ? end - start : 0;
    if (n > MOD_HEAD_MAX)
        n = MOD_HEAD_MAX;
    const volatile uint8_t *p = phys(start);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        head[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
    }
    head[n] = '\0';
    l1_say("module %u start=0x%x end=0x%x cmdline=%s head=%s",
           idx, start, end, cmd ? cmd : "", head);
}

static void report_mb1(uint32_t info, struct l1_boot *boot)
{
    const struct mb1_info *mbi = phys(info);

    if (mbi->flags & MB1_F_CMDLINE && mbi->cmdline)
        boot->cmdline = phys(mbi->cmdline);
    l1_say("cmdline=%s", boot->cmdline ? boot->cmdline : "");

    if (mbi->flags & MB1_F_MEM) {
        boot->have_mem = 1;
        boot->mem_lower = mbi->mem_lower;
        boot->mem_upper = mbi->mem_upper;
        l1_say("mem_lower=%u mem_upper=%u", boot->mem_lower, boot->mem_upper);
    } else {
        l1_say("meminfo missing");
    }

    if (mbi->flags & MB1_F_MMAP) {
        uint32_t off = 0;
        while (off + sizeof(struct mb1_mmap) <= mbi->mmap_length) {
            const struct mb1_mmap *e = phys(mbi->mmap_addr + off);
            say_mmap(e->base, e->len, e->type);
            off += e->size + 4;
        }
    } else {
        l1_say("mmap missing");
    }

    uint32_t count = (mbi->flags & MB1_F_MODS) ? mbi->mods_count : 0;
    l1_say("modules=%u", count);
    const struct mb1_mod *mods = phys(mbi->mods_addr);
    for (uint32_t i = 0; i < count; i++)
        say_module(i, mods[i].start, mods[i].end,
                   mods[i].string ? phys(mods[i].string) : "");
}

static const struct mb2_tag *mb2_next(const struct mb2_tag *t)
{
    /* Tags are padded to 8 bytes; size excludes the padding. */
    uint32_t step = (t->size + 7) & ~7u;
    return (const struct mb2_tag *)((const uint8_t *)t + step);
}

static void report_mb2(uint32_t info, struct l1_boot *boot)
{
    uint32_t total = *(const uint32_t *)phys(info);
    const struct mb2_tag *first = phys(info + 8);
    const struct mb2_tag *end = phys(info + total);
    const struct mb2_meminfo *mem = NULL;
    const struct mb2_mmap *mmap = NULL;
    uint32_t modules = 0;

    /* Tag order is unspecified; collect first so lines come out in mb1 order. */
    for (const struct mb2_tag *t = first; t < end && t->type != MB2_TAG_END;
         t = mb2_next(t)) {
        if (t->size < 8)
            break;          /* corrupt list: stop rather than loop forever */
        switch (t->type) {
        case MB2_TAG_CMDLINE: boot->cmdline = (const char *)(t + 1); break;
        case MB2_TAG_MEMINFO: mem = (const struct mb2_meminfo *)t; break;
        case MB2_TAG_MMAP:    mmap = (const struct mb2_mmap *)t; break;
        case MB2_TAG_MODULE:  modules++; break;
        default: break;
        }
    }

    l1_say("cmdline=%s", boot->cmdline ? boot->cmdline : "");

    if (mem) {
        boot->have_mem = 1;
        boot->mem_lower = mem->mem_lower;
        boot->mem_upper = mem->mem_upper;
        l1_say("mem_lower=%u mem_upper=%u", boot->mem_lower, boot->mem_upper);
    } else {
        l1_say("meminfo missing");
    }

    if (mmap && mmap->entry_size >= sizeof(struct mb2_mmap_entry)) {
        const uint8_t *p = (const uint8_t *)(mmap + 1);
        const uint8_t *stop = (const uint8_t *)mmap + mmap->tag.size;
        for (; p + sizeof(struct mb2_mmap_entry) <= stop; p += mmap->entry_size) {
            const struct mb2_mmap_entry *e = (const void *)p;
            say_mmap(e->base, e->len, e->type);
        }
    } else {
        l1_say("mmap missing");
    }

    l1_say("modules=%u", modules);
    uint32_t idx = 0;
    for (const struct mb2_tag *t = first; t < end && t->type != MB2_TAG_END;
         t = mb2_next(t)) {
        if (t->size < 8)
            break;
        if (t->type == MB2_TAG_MODULE) {
            const struct mb2_module *m = (const void *)t;
            say_module(idx++, m->start, m->end, m->string);
        }
    }
}

int l1_mb_report(uint32_t magic, uint32_t info, struct l1_boot *boot)
{
    *boot = (struct l1_boot){0};
    if (magic == MB1_MAGIC) {
        boot->proto = "mb1";
        l1_say("start proto=mb1");
        report_mb1(info, boot);
    } else if (magic == MB2_MAGIC) {
        boot->proto = "mb2";
        l1_say("start proto=mb2");
        report_mb2(info, boot);
    } else {
        l1_say("bad magic 0x%x", magic);
        return -1;
    }
    return 0;
}
