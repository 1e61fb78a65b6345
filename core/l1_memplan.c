/*
 * L1's guest-physical layout and memory map, planned from the host's (see
 * include/nestor/l1.h). L1 gets the host's shape: its RAM where the host has
 * usable RAM (from 1 MiB up, below and above 4 GiB), everything the host map
 * does not call RAM identity-mapped as a device (ACPI tables write-back), and
 * host RAM it does not get left unmapped and listed as reserved.
 */
#include "nestor/fmt.h"
#include "nestor/l1.h"
#include "nestor/lib.h"

#define LOW_RAM_END 0xA0000ull
#define ROM_START 0xC0000ull
/* I/O APIC, HPET, local APIC and the BIOS flash decode here on every PC: never RAM (Intel PCH datasheets' memory map). */
#define ARCH_MMIO_START 0xFEC00000ull
#define ARCH_MMIO_END (4 * GiB)

#define MAX_POINTS (2 * BOOT_MAX_MMAP + 2 * L1_MAX_KEEP_OUT + 8)

enum cls { C_RAM, C_DEVICE, C_ACPI, C_NONE };

static bool add_region(struct l1_memplan *p, gpa_t gpa, uint64_t size, uint64_t perms, unsigned memtype,
                       const char *what)
{
    if (p->region_count == L1_MAX_REGIONS)
        return false;
    p->regions[p->region_count++] = (struct l1_region){gpa, size, perms, memtype, what};
    return true;
}

static bool add_map(struct l1_memplan *p, uint64_t base, uint64_t len, uint32_t type)
{
    if (!len)
        return true;
    if (p->map_count == L1_MAX_MMAP)
        return false;
    p->map[p->map_count++] = (struct mmap_entry){base, len, type};
    return true;
}

static bool is_ram_type(uint32_t t) { return t == MMAP_USABLE || t == MMAP_BAD; }

/* An entry's end; one that wraps past 2^64 ends there. */
static uint64_t entry_end(const struct mmap_entry *m) { return m->base + m->len < m->base ? UINT64_MAX : m->base + m->len; }

/* Does [base, end) touch host memory that is RAM (usable or bad)? Never map such memory identity. */
static bool overlaps_ram(const struct boot_info *bi, uint64_t base, uint64_t end)
{
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct mmap_entry *m = &bi->mmap[i];
        if (is_ram_type(m->type) && m->base < end && base < entry_end(m))
            return true;
    }
    return false;
}

struct keep_out_list {
    const struct l1_keep_out *r;
    unsigned n;
};

/* Keep-out ranges cover whole pages. */
static uint64_t ko_base(const struct l1_keep_out *k) { return ALIGN_DOWN(k->base, PAGE_SIZE); }
static uint64_t ko_end(const struct l1_keep_out *k)
{
    uint64_t end = k->base + k->size < k->base ? UINT64_MAX : k->base + k->size;
    return end > UINT64_MAX - PAGE_SIZE ? ALIGN_DOWN(UINT64_MAX, PAGE_SIZE) : ALIGN_UP(end, PAGE_SIZE);
}

/* What [a, b) is, given that no host map entry or keep-out range starts or ends inside it. */
static enum cls classify(const struct boot_info *bi, const struct keep_out_list *ko, uint64_t a, uint64_t b)
{
    for (unsigned i = 0; i < ko->n; i++)
        if (ko_base(&ko->r[i]) < b && a < ko_end(&ko->r[i]))
            return C_NONE;
    bool usable = false, bad = false, acpi = false, other = false;
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct mmap_entry *m = &bi->mmap[i];
        if (!m->len || m->base >= b || a >= entry_end(m))
            continue;
        usable |= m->type == MMAP_USABLE;
        bad |= m->type == MMAP_BAD;
        acpi |= m->type == MMAP_ACPI_RECLAIMABLE || m->type == MMAP_ACPI_NVS;
        other |= !is_ram_type(m->type) && m->type != MMAP_ACPI_RECLAIMABLE && m->type != MMAP_ACPI_NVS;
    }
    bool arch = a < ARCH_MMIO_END && b > ARCH_MMIO_START;
    if (usable && !bad && !acpi && !other && !arch)
        return C_RAM;
    if (usable || bad)
        return C_NONE; /* host RAM with a conflicting claim, or broken: neither L1's RAM nor a device */
    return acpi ? C_ACPI : C_DEVICE;
}

static void sort_u64(uint64_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

static void sort_map(struct l1_memplan *p)
{
    for (unsigned i = 1; i < p->map_count; i++)
        for (unsigned j = i; j > 0 && p->map[j - 1].base > p->map[j].base; j--) {
            struct mmap_entry t = p->map[j];
            p->map[j] = p->map[j - 1];
            p->map[j - 1] = t;
        }
}

/* Joins entries of the same type that touch (the pieces of host RAM L1 does not get, mostly). */
static void merge_map(struct l1_memplan *p)
{
    unsigned out = 0;
    for (unsigned i = 0; i < p->map_count; i++) {
        struct mmap_entry *prev = out ? &p->map[out - 1] : NULL;
        if (prev && prev->type == p->map[i].type && prev->type != MMAP_USABLE &&
            prev->base + prev->len == p->map[i].base) {
            prev->len += p->map[i].len;
            continue;
        }
        p->map[out++] = p->map[i];
    }
    p->map_count = out;
}

/*
 * An identity region for the host range [a, b), never overlapping the region
 * before. ACPI tables are widened to whole pages where that touches no host
 * RAM (a page shared with a device range is mapped as ACPI, write-back);
 * device ranges are shrunk to whole pages.
 */
static bool add_identity(struct l1_memplan *p, const struct boot_info *bi, uint64_t a, uint64_t b, uint64_t *prev_end,
                         bool widen, uint64_t perms, unsigned memtype, const char *what)
{
    uint64_t base = ALIGN_UP(a, PAGE_SIZE), end = ALIGN_DOWN(b, PAGE_SIZE);
    if (widen && base > a && !overlaps_ram(bi, ALIGN_DOWN(a, PAGE_SIZE), a))
        base = ALIGN_DOWN(a, PAGE_SIZE);
    if (widen && end < b && !overlaps_ram(bi, b, ALIGN_UP(b, PAGE_SIZE)))
        end = ALIGN_UP(b, PAGE_SIZE);
    base = MAX(base, *prev_end);
    if (end <= base)
        return true;
    /* Extend the previous region when it is the same kind and ends here (ranges split only by map entries). */
    struct l1_region *last = p->region_count ? &p->regions[p->region_count - 1] : NULL;
    if (last && last->gpa + last->size == base && last->perms == perms && last->memtype == memtype &&
        strcmp(last->what, what) == 0) {
        last->size = end - last->gpa;
    } else if (!add_region(p, base, end - base, perms, memtype, what)) {
        return false;
    }
    *prev_end = end;
    return true;
}

/* The first MiB as the host firmware described it, and its three fixed identity regions. */
static bool plan_first_mib(const struct boot_info *bi, struct l1_memplan *p)
{
    uint64_t low_usable = 0;
    bool ok = true;
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct mmap_entry *m = &bi->mmap[i];
        if (m->base >= L1_RAM_BASE)
            continue;
        uint64_t end = MIN(m->base + m->len, L1_RAM_BASE);
        uint32_t type = m->type;
        if (type == MMAP_USABLE && end > LOW_RAM_END)
            end = LOW_RAM_END;
        if (end <= m->base)
            continue;
        ok = ok && add_map(p, m->base, end - m->base, type);
        if (type == MMAP_USABLE && m->base == 0)
            low_usable = end;
    }
    p->mem_lower_kb = (uint32_t)(low_usable / KiB);
    ok = ok && add_region(p, 0, LOW_RAM_END, EPT_RWX, MEMTYPE_WB, "low memory");
    ok = ok && add_region(p, LOW_RAM_END, ROM_START - LOW_RAM_END, EPT_R | EPT_W, MEMTYPE_UC, "VGA");
    ok = ok && add_region(p, ROM_START, L1_RAM_BASE - ROM_START, EPT_R | EPT_X, MEMTYPE_WB, "BIOS ROM");
    return ok;
}

bool l1_plan_memory(const struct boot_info *bi, uint64_t ram_bytes, uint64_t phys_limit,
                    const struct l1_keep_out *keep_out, unsigned nkeep_out, struct l1_memplan *p)
{
    memset(p, 0, sizeof *p);
    struct keep_out_list ko = {keep_out, MIN(nkeep_out, (unsigned)L1_MAX_KEEP_OUT)};
    ram_bytes = ALIGN_DOWN(ram_bytes, PAGE_SIZE);
    phys_limit = ALIGN_DOWN(phys_limit, PAGE_SIZE);
    if (phys_limit < 4 * GiB)
        phys_limit = 4 * GiB;
    p->phys_limit = phys_limit;
    bool ok = plan_first_mib(bi, p);

    /* Every address where the host map's description changes, between 1 MiB and phys_limit. */
    uint64_t pt[MAX_POINTS];
    unsigned n = 0;
    pt[n++] = L1_RAM_BASE;
    pt[n++] = ARCH_MMIO_START;
    pt[n++] = ARCH_MMIO_END;
    pt[n++] = phys_limit;
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct mmap_entry *m = &bi->mmap[i];
        uint64_t end = entry_end(m);
        pt[n++] = MIN(MAX(m->base, L1_RAM_BASE), phys_limit);
        pt[n++] = MIN(MAX(end, L1_RAM_BASE), phys_limit);
    }
    for (unsigned i = 0; i < ko.n; i++) {
        pt[n++] = MIN(MAX(ko_base(&ko.r[i]), L1_RAM_BASE), phys_limit);
        pt[n++] = MIN(MAX(ko_end(&ko.r[i]), L1_RAM_BASE), phys_limit);
    }
    sort_u64(pt, n);

    /* Walk the pieces in order; runs of one class become RAM ranges or identity regions. */
    uint64_t left = ram_bytes, prev_end = L1_RAM_BASE;
    for (unsigned i = 0; i + 1 < n && ok;) {
        uint64_t a = pt[i];
        enum cls c = a < pt[i + 1] ? classify(bi, &ko, a, pt[i + 1]) : C_NONE;
        unsigned j = i + 1;
        while (j + 1 < n && (pt[j] == pt[j + 1] || classify(bi, &ko, pt[j], pt[j + 1]) == c))
            j++;
        uint64_t b = pt[j];
        i = j;
        if (a >= b)
            continue;
        if (c == C_RAM) {
            uint64_t s = ALIGN_UP(a, PAGE_SIZE), e = ALIGN_DOWN(b, PAGE_SIZE);
            uint64_t take = e > s ? MIN(left, e - s) : 0;
            if (take) {
                if (p->ram_count == L1_MAX_RAM_RANGES) {
                    ok = false;
                    break;
                }
                p->ram[p->ram_count++] = (struct l1_ram_range){s, take};
                left -= take;
                prev_end = s + take;
                ok = ok && add_map(p, s, take, MMAP_USABLE);
            }
            /* Host RAM L1 does not get: reserved in its map, so L1 puts no device there. */
            ok = ok && add_map(p, a, (take ? s : b) - a, MMAP_RESERVED);
            if (take)
                ok = ok && add_map(p, s + take, b - (s + take), MMAP_RESERVED);
        } else if (c == C_DEVICE) {
            ok = ok && add_identity(p, bi, a, b, &prev_end, false, EPT_R | EPT_W, MEMTYPE_UC, "devices");
        } else if (c == C_ACPI) {
            ok = ok && add_identity(p, bi, a, b, &prev_end, true, EPT_R | EPT_W, MEMTYPE_WB, "ACPI");
        }
    }

    /* Host map entries that are not RAM keep their exact bounds and types in L1's map (clipped at 1 MiB). */
    for (unsigned i = 0; i < bi->mmap_count && ok; i++) {
        const struct mmap_entry *m = &bi->mmap[i];
        uint64_t end = entry_end(m);
        if (m->type == MMAP_USABLE || end <= L1_RAM_BASE || m->base >= phys_limit)
            continue;
        uint64_t base = MAX(m->base, L1_RAM_BASE);
        ok = add_map(p, base, MIN(end, phys_limit) - base, m->type);
    }
    if (!ok) {
        fmt_snprintf(p->error, sizeof p->error, "host memory map too fragmented to describe L1's memory");
        return false;
    }

    p->ram_total = ram_bytes - left;
    if (p->ram_total < MiB) {
        fmt_snprintf(p->error, sizeof p->error, "L1 would get only 0x%lx bytes of RAM (need at least 1 MiB)",
                     p->ram_total);
        return false;
    }
    if (p->ram[0].gpa != L1_RAM_BASE) {
        fmt_snprintf(p->error, sizeof p->error, "the host memory map has no usable RAM at 1 MiB (first above it at 0x%lx)",
                     p->ram[0].gpa);
        return false;
    }
    p->ram_bytes = p->ram[0].size;
    p->ram_end = L1_RAM_BASE + p->ram_bytes;
    sort_map(p);
    merge_map(p);
    return true;
}

bool l1_segment_in_ram(const struct l1_memplan *p, uint64_t pa, uint64_t size)
{
    uint64_t low_end = (uint64_t)p->mem_lower_kb * KiB;
    if (pa >= L1_LOW_LOAD_START && pa <= low_end && size <= low_end - pa)
        return true;
    for (unsigned i = 0; i < p->ram_count; i++) {
        const struct l1_ram_range *r = &p->ram[i];
        if (pa >= r->gpa && pa - r->gpa <= r->size && size <= r->size - (pa - r->gpa))
            return true;
    }
    return false;
}
