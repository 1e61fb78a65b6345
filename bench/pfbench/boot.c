/*
 * pfbench: reading the Multiboot2 information and the command line.
 *
 * Only three tags matter: the command line (1), basic memory information (4)
 * and the memory map (6). Everything needed is copied out of the MBI, so the
 * page allocator may later hand out the RAM the MBI occupies.
 */
#include "pfbench.h"

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_MMAP_AVAILABLE 1

static u32 rd32(const u8 *p)
{
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 rd64(const u8 *p)
{
    return (u64)rd32(p) | (u64)rd32(p + 4) << 32;
}

/* Adds [base, base + len) as usable RAM, page aligned inward; keeps the list sorted. */
static void add_range(struct pf_boot *b, u64 base, u64 len)
{
    if (len == 0 || base + len < base)
        return;
    u64 lo = ALIGN_UP(base, PAGE_SIZE), hi = ALIGN_DOWN(base + len, PAGE_SIZE);
    if (hi <= lo)
        return;
    if (b->range_count == PF_MAX_RANGES) {
        pf_printf("pfbench: memory map has more than %u usable ranges; ignoring 0x%lx-0x%lx\n",
                  PF_MAX_RANGES, lo, hi);
        return;
    }
    unsigned i = b->range_count++;
    while (i > 0 && b->ranges[i - 1].base > lo) {
        b->ranges[i] = b->ranges[i - 1];
        i--;
    }
    b->ranges[i] = (struct pf_mem_range){lo, hi};
    if (hi > b->ram_top)
        b->ram_top = hi;
}

bool pf_parse_mbi(u64 mbi_phys, struct pf_boot *b)
{
    const u8 *mbi = phys_ptr(mbi_phys);
    u32 total = rd32(mbi);
    if (mbi_phys & 7 || total < 16) {
        pf_printf("pfbench: bad Multiboot2 information at 0x%lx (total size %u)\n", mbi_phys, total);
        return false;
    }
    memset(b, 0, sizeof *b);
    const u8 *mmap = NULL;
    u32 mmap_size = 0;
    for (u32 off = 8; off + 8 <= total;) {
        const u8 *tag = mbi + off;
        u32 type = rd32(tag), size = rd32(tag + 4);
        if (type == MB2_TAG_END)
            break;
        if (size < 8 || off + size > total) {
            pf_printf("pfbench: malformed Multiboot2 tag %u (size %u) at offset %u\n", type, size, off);
            return false;
        }
        switch (type) {
        case MB2_TAG_CMDLINE: {
            u32 n = 0;
            while (n + 1 < PF_CMDLINE_MAX && 8 + n < size && tag[8 + n])
                b->cmdline[n] = (char)tag[8 + n], n++;
            b->cmdline[n] = '\0';
            break;
        }
        case MB2_TAG_MEMINFO:
            if (size >= 16) {
                b->have_meminfo = true;
                b->mem_upper_kb = rd32(tag + 12);
            }
            break;
        case MB2_TAG_MMAP:
            mmap = tag;
            mmap_size = size;
            break;
        default:
            break;
        }
        off = (u32)ALIGN_UP(off + size, 8);
    }

    if (mmap && mmap_size >= 16) {
        u32 esize = rd32(mmap + 8);
        if (esize >= 24) {
            b->have_mmap = true;
            for (u32 o = 16; o + esize <= mmap_size; o += esize) {
                const u8 *e = mmap + o;
                if (rd32(e + 16) == MB2_MMAP_AVAILABLE)
                    add_range(b, rd64(e), rd64(e + 8));
            }
        }
    }
    if (!b->have_mmap && b->have_meminfo)
        add_range(b, MiB, (u64)b->mem_upper_kb * KiB);   /* mem_upper: KiB from 1 MiB up */
    if (!b->range_count) {
        pf_printf("pfbench: the loader described no usable RAM (no memory map, no basic meminfo)\n");
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ cmdline */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Decimal or 0x-hex, no overflow. */
static bool parse_u64(const char *s, size_t len, u64 *out)
{
    u64 v = 0;
    unsigned base = 10;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    }
    if (!len)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned d;
        char c = s[i];
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        if (v > (~0ull - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

struct pf_key {
    const char *name;
    u64 min, max;
    size_t field;   /* offset in struct pf_config */
};

static const struct pf_key keys[] = {
    {"spaces", 1, 4096, offsetof(struct pf_config, spaces)},
    {"pages", 1, PF_REGION_MAX_PAGES, offsetof(struct pf_config, pages)},
    {"rounds", 1, 1000000, offsetof(struct pf_config, rounds)},
    {"copy", 0, 1, offsetof(struct pf_config, copy)},
};

static void print_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pf_printf("%c", s[i]);
}

static bool word_is(const char *w, size_t klen, const char *name)
{
    size_t i = 0;
    for (; i < klen; i++)
        if (!name[i] || name[i] != w[i])
            return false;
    return name[i] == '\0';
}

/*
 * Words are key=value separated by blanks. Words without '=' (GRUB may pass
 * the kernel's path first) are skipped; an unknown key gets a warning; a bad
 * or out-of-range value fails the run.
 */
bool pf_parse_config(const char *cmdline, struct pf_config *cfg)
{
    *cfg = (struct pf_config){.spaces = 16, .pages = 128, .rounds = 4, .copy = 1};
    const char *p = cmdline;
    bool ok = true;
    while (*p) {
        while (is_blank(*p))
            p++;
        const char *w = p;
        while (*p && !is_blank(*p))
            p++;
        size_t wlen = (size_t)(p - w), klen = 0;
        while (klen < wlen && w[klen] != '=')
            klen++;
        if (!wlen || klen == wlen)
            continue;
        const struct pf_key *k = NULL;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (word_is(w, klen, keys[i].name))
                k = &keys[i];
        if (!k) {
            pf_printf("pfbench: ignoring unknown option '");
            print_chars(w, wlen);
            pf_printf("'\n");
            continue;
        }
        u64 v;
        const char *val = w + klen + 1;
        size_t vlen = wlen - klen - 1;
        if (!parse_u64(val, vlen, &v) || v < k->min || v > k->max) {
            pf_printf("pfbench: bad value for %s (want %lu..%lu): '", k->name, k->min, k->max);
            print_chars(val, vlen);
            pf_printf("'\n");
            ok = false;
            continue;
        }
        *(u64 *)((u8 *)cfg + k->field) = v;
    }
    return ok;
}
