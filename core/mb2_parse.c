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
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_EFI64_SYSTEM_TABLE 12
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS_NOT_TERMINATED 18
#define MB2_TAG_EFI64_IMAGE_HANDLE 20

#define MB2_MAX_TOTAL_SIZE (1u << 20)

/* EFI_MEMORY_DESCRIPTOR (UEFI 2.10 section 7.2, GetMemoryMap()): Type, pad, PhysicalStart, VirtualStart, NumberOfPages, Attribute. */
#define EFI_DESC_MIN_SIZE 40
#define EFI_DESC_TYPE 0
#define EFI_DESC_PHYS_START 8
#define EFI_DESC_PAGES 24
#define EFI_PAGE_SIZE 4096ull

/* UEFI 2.10 table 7-6 (EFI_MEMORY_TYPE). */
enum efi_memory_type {
    EFI_RESERVED = 0,
    EFI_LOADER_CODE,
    EFI_LOADER_DATA,
    EFI_BOOT_SERVICES_CODE,
    EFI_BOOT_SERVICES_DATA,
    EFI_RUNTIME_SERVICES_CODE,
    EFI_RUNTIME_SERVICES_DATA,
    EFI_CONVENTIONAL,
    EFI_UNUSABLE,
    EFI_ACPI_RECLAIM,
    EFI_ACPI_NVS,
    EFI_MMIO,
    EFI_MMIO_PORT_SPACE,
    EFI_PAL_CODE,
    EFI_PERSISTENT,
};

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

/*
 * A command line must end inside its tag and fit whole: a line cut short
 * would silently drop options, so a longer one is refused with its length.
 */
static bool copy_cmdline(struct boot_info *bi, char dst[BOOT_CMDLINE_MAX], const uint8_t *s, size_t room,
                         const char *whose, uint32_t off)
{
    size_t n = strnlen((const char *)s, room);
    if (n == room) {
        fmt_snprintf(bi->error, sizeof bi->error, "multiboot2 info: %s not terminated inside its tag (offset 0x%x)",
                     whose, off);
        return false;
    }
    if (n > BOOT_CMDLINE_LEN) {
        fmt_snprintf(bi->error, sizeof bi->error,
                     "multiboot2 info: %s is %zu bytes long, more than the %u Nestor carries (offset 0x%x); "
                     "shorten it rather than have it cut", whose, n, BOOT_CMDLINE_LEN, off);
        return false;
    }
    memcpy(dst, s, n);
    dst[n] = 0;
    return true;
}

static uint8_t byte_sum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

/* RSDP fields (ACPI 6.5 table 5.3). */
#define RSDP_REVISION 15
#define RSDP_LENGTH 20
#define RSDP_V2_MIN_LEN 36

const char *rsdp_check(const uint8_t *p, size_t avail, enum rsdp_part part, uint32_t *len)
{
    *len = 0;
    if (avail < BOOT_RSDP_V1_LEN)
        return "RSDP shorter than its 20-byte ACPI 1.0 part";
    if (memcmp(p, "RSD PTR ", 8) != 0)
        return "RSDP signature is not 'RSD PTR '";
    if (byte_sum(p, BOOT_RSDP_V1_LEN) != 0)
        return "RSDP checksum (first 20 bytes) does not sum to 0";
    if (part == RSDP_V1_PART || (part == RSDP_BY_REVISION && p[RSDP_REVISION] < 2)) {
        *len = BOOT_RSDP_V1_LEN;
        return NULL;
    }
    if (avail < RSDP_V2_MIN_LEN)
        return "RSDP of revision 2+ shorter than 36 bytes";
    uint32_t n = rd32(p + RSDP_LENGTH);
    if (n < RSDP_V2_MIN_LEN || n > BOOT_RSDP_MAX || n > avail)
        return "RSDP Length field out of range";
    if (byte_sum(p, n) != 0)
        return "RSDP extended checksum does not sum to 0";
    *len = n;
    return NULL;
}

static bool keep_rsdp(struct boot_info *bi, const uint8_t *p, uint32_t len, uint8_t tag)
{
    memset(bi->rsdp, 0, sizeof bi->rsdp);
    memcpy(bi->rsdp, p, len);
    bi->rsdp_len = len;
    bi->rsdp_tag = tag;
    return true;
}

bool boot_info_set_rsdp(struct boot_info *bi, const uint8_t *rsdp, size_t avail)
{
    uint32_t len;
    if (bi->rsdp_len || rsdp_check(rsdp, avail, RSDP_BY_REVISION, &len))
        return false;
    return keep_rsdp(bi, rsdp, len, 0);
}

/* The classic type each EFI type has once boot services are gone (ACPI 6.5 section 15.4, table 15.6). */
static uint32_t efi_to_mmap_type(uint32_t t)
{
    switch (t) {
    case EFI_LOADER_CODE:
    case EFI_LOADER_DATA: /* GRUB's: Nestor reserves the boot information and modules itself */
    case EFI_BOOT_SERVICES_CODE:
    case EFI_BOOT_SERVICES_DATA: /* free once GRUB called ExitBootServices() */
    case EFI_CONVENTIONAL:
        return MMAP_USABLE;
    case EFI_UNUSABLE:
        return MMAP_BAD;
    case EFI_ACPI_RECLAIM:
        return MMAP_ACPI_RECLAIMABLE;
    case EFI_ACPI_NVS:
        return MMAP_ACPI_NVS;
    case EFI_PERSISTENT:
        return MMAP_PERSISTENT;
    default: /* reserved, runtime services, MMIO, PAL code, unaccepted and anything newer */
        return MMAP_RESERVED;
    }
}

/*
 * Inserts [base, base+len) into bi->mmap, kept sorted, merged with a
 * neighbour of the same type it touches. Overlapping ranges are refused: the
 * firmware's map says each page has one type.
 */
static const char *mmap_insert(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
    uint64_t end = base + len;
    unsigned i = 0;
    while (i < bi->mmap_count && bi->mmap[i].base < base)
        i++;
    struct mmap_entry *prev = i ? &bi->mmap[i - 1] : NULL, *next = i < bi->mmap_count ? &bi->mmap[i] : NULL;
    if ((prev && prev->base + prev->len > base) || (next && next->base < end))
        return "EFI memory map descriptors overlap";
    bool join_prev = prev && prev->type == type && prev->base + prev->len == base;
    bool join_next = next && next->type == type && next->base == end;
    if (join_prev && join_next) {
        prev->len += len + next->len;
        memmove(next, next + 1, (bi->mmap_count - i - 1) * sizeof *next);
        bi->mmap_count--;
    } else if (join_prev) {
        prev->len += len;
    } else if (join_next) {
        next->base = base;
        next->len += len;
    } else {
        if (bi->mmap_count == BOOT_MAX_MMAP)
            return "EFI memory map has more distinct ranges than Nestor keeps";
        memmove(&bi->mmap[i + 1], &bi->mmap[i], (bi->mmap_count - i) * sizeof bi->mmap[0]);
        bi->mmap[i] = (struct mmap_entry){base, len, type};
        bi->mmap_count++;
    }
    return NULL;
}

/* Why descriptor d is not an EFI memory descriptor (UEFI 2.x 7.2 EFI_MEMORY_DESCRIPTOR), or NULL. */
static const char *efi_desc_invalid(const uint8_t *d)
{
    uint64_t base = rd64(d + EFI_DESC_PHYS_START), pages = rd64(d + EFI_DESC_PAGES);
    if (base % EFI_PAGE_SIZE)
        return "EFI memory descriptor start not 4 KiB aligned";
    if (pages > (UINT64_MAX - base) / EFI_PAGE_SIZE)
        return "EFI memory descriptor wraps around";
    return NULL;
}

/*
 * How many descriptors the EFI memory map tag starts with before one that is not a descriptor
 * (n when all are). GRUB 2.06 can size the tag from its buffer rather than from the map the
 * firmware returned at ExitBootServices, so its last entries may be whatever that memory held
 * (seen under OVMF: a descriptor of 0x36d76289xxxxxxxx pages after 40 real ones).
 */
static unsigned efi_mmap_valid_prefix(const uint8_t *body, uint32_t body_len)
{
    uint32_t desc_size = rd32(body);
    unsigned n = (body_len - 8) / desc_size, i = 0;
    while (i < n && !efi_desc_invalid(body + 8 + (size_t)i * desc_size))
        i++;
    return i;
}

/* Builds bi->mmap from the EFI memory map tag's descriptors; any invalid one refuses the map. */
static bool efi_mmap_walk(struct boot_info *bi, const uint8_t *body, uint32_t body_len, uint32_t off)
{
    uint32_t desc_size = rd32(body);
    unsigned n = (body_len - 8) / desc_size;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *d = body + 8 + (size_t)i * desc_size;
        uint64_t base = rd64(d + EFI_DESC_PHYS_START), pages = rd64(d + EFI_DESC_PAGES);
        const char *bad = efi_desc_invalid(d);
        if (bad)
            return fail(bi, bad, off, i, (uint32_t)(base >> 12));
        if (!pages)
            continue;
        const char *why = mmap_insert(bi, base, pages * EFI_PAGE_SIZE, efi_to_mmap_type(rd32(d + EFI_DESC_TYPE)));
        if (why)
            return fail(bi, why, off, i, (uint32_t)(base >> 12));
    }
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

    bool seen_end = false;
    uint32_t off = 8, efi_mmap_off = 0;
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
            if (!copy_cmdline(bi, bi->cmdline, body, body_len, "Nestor's command line", off))
                return false;
            break;
        case MB2_TAG_LOADER_NAME: /* only shown in the log: a long name may be cut */
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
            char whose[48];
            fmt_snprintf(whose, sizeof whose, "module %u's command line", bi->module_count);
            if (!copy_cmdline(bi, m->cmdline, body + 8, body_len - 8, whose, off))
                return false;
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
            bi->mmap_source = BOOT_MMAP_MB2;
            break;
        }
        case MB2_TAG_EFI_MMAP: {
            if (body_len < 8)
                return fail(bi, "EFI memory map tag too short", off, type, size);
            uint32_t desc_size = rd32(body);
            if (desc_size < EFI_DESC_MIN_SIZE || desc_size % 8)
                return fail(bi, "EFI memory map descriptor_size invalid", off, desc_size, EFI_DESC_MIN_SIZE);
            if ((body_len - 8) % desc_size)
                return fail(bi, "EFI memory map size not a multiple of descriptor_size", off, body_len - 8, desc_size);
            if (efi_mmap_off)
                return fail(bi, "two EFI memory map tags", efi_mmap_off, off, 0);
            /* Checked here, used only when there is no classic map (below): descriptors after the
             * first invalid one are taken for the tag's slack, not the firmware's map. */
            efi_mmap_off = off;
            bi->efi_mmap_descs = efi_mmap_valid_prefix(body, body_len);
            bi->efi_mmap_junk = (body_len - 8) / desc_size - bi->efi_mmap_descs;
            break;
        }
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW: {
            uint32_t len;
            const char *why = rsdp_check(body, body_len, type == MB2_TAG_ACPI_NEW ? RSDP_V2 : RSDP_V1_PART, &len);
            if (why) {
                fmt_snprintf(bi->error, sizeof bi->error, "multiboot2 info: ACPI %s RSDP tag (%u, offset 0x%x): %s",
                             type == MB2_TAG_ACPI_NEW ? "new" : "old", type, off, why);
                return false;
            }
            if (type == MB2_TAG_ACPI_NEW || bi->rsdp_tag != MB2_TAG_ACPI_NEW) /* ACPI 2.0+ wins whatever the order */
                keep_rsdp(bi, body, len, (uint8_t)type);
            break;
        }
        case MB2_TAG_EFI64_SYSTEM_TABLE:
        case MB2_TAG_EFI64_IMAGE_HANDLE:
            if (body_len < 8)
                return fail(bi, "EFI64 system table / image handle tag too short", off, type, size);
            bi->efi64 = true;
            if (type == MB2_TAG_EFI64_SYSTEM_TABLE)
                bi->efi_system_table = rd64(body);
            else
                bi->efi_image_handle = rd64(body);
            break;
        case MB2_TAG_EFI_BS_NOT_TERMINATED:
            fmt_snprintf(bi->error, sizeof bi->error,
                         "multiboot2 info: tag 18 says EFI boot services were not terminated (offset 0x%x); Nestor "
                         "owns the machine and needs GRUB to call ExitBootServices() (remove any EFI boot services "
                         "header tag)", off);
            return false;
        case MB2_TAG_FRAMEBUFFER:
            bi->have_framebuffer = true; /* the console is serial: nothing to do */
            break;
        default:
            break; /* tags we do not use are fine */
        }
        if (seen_end)
            break;
        off += ALIGN_UP(size, 8);
    }
    if (!seen_end)
        return fail(bi, "no end tag before total_size", off, total, 0);
    if (bi->mmap_source == BOOT_MMAP_NONE && efi_mmap_off) {
        /* No classic map: the EFI one, converted. */
        if (!efi_mmap_walk(bi, buf + efi_mmap_off + 8, rd32(buf + efi_mmap_off + 4) - 8, efi_mmap_off))
            return false;
        bi->mmap_source = BOOT_MMAP_EFI;
    }
    if (bi->mmap_source == BOOT_MMAP_NONE)
        return fail(bi, "no memory map tag (type 6 or EFI type 17); Nestor cannot place L1 without one", 0, 0, 0);
    return true;
}

void mb2_describe(const struct boot_info *bi, char *buf, size_t size)
{
    char firmware[64], mmap[160], acpi[96];
    if (bi->efi64)
        fmt_snprintf(firmware, sizeof firmware, "UEFI (EFI64 system table 0x%lx)", bi->efi_system_table);
    else
        fmt_snprintf(firmware, sizeof firmware, "legacy BIOS");
    if (bi->mmap_source == BOOT_MMAP_EFI)
        fmt_snprintf(mmap, sizeof mmap, "%u ranges from the EFI memory map (%u descriptors)", bi->mmap_count,
                     bi->efi_mmap_descs);
    else if (bi->efi_mmap_junk)
        fmt_snprintf(mmap, sizeof mmap,
                     "%u ranges from GRUB's map, EFI memory map of %u descriptors checked (the tag's last %u "
                     "entries are not descriptors: ignored)",
                     bi->mmap_count, bi->efi_mmap_descs, bi->efi_mmap_junk);
    else if (bi->efi_mmap_descs)
        fmt_snprintf(mmap, sizeof mmap, "%u ranges from GRUB's map, EFI memory map of %u descriptors checked",
                     bi->mmap_count, bi->efi_mmap_descs);
    else
        fmt_snprintf(mmap, sizeof mmap, "%u ranges from GRUB's map", bi->mmap_count);
    if (bi->rsdp_len) {
        char oem[7];
        for (int i = 0; i < 6; i++)
            oem[i] = bi->rsdp[9 + i] >= 0x20 && bi->rsdp[9 + i] < 0x7f ? (char)bi->rsdp[9 + i] : '?';
        oem[6] = 0;
        if (bi->rsdp_tag)
            fmt_snprintf(acpi, sizeof acpi, "ACPI RSDP revision %u from tag %u, OEM '%s'", bi->rsdp[RSDP_REVISION],
                         bi->rsdp_tag, oem);
        else
            fmt_snprintf(acpi, sizeof acpi, "ACPI RSDP revision %u from the BIOS area, OEM '%s'",
                         bi->rsdp[RSDP_REVISION], oem);
    } else {
        fmt_snprintf(acpi, sizeof acpi, "no ACPI RSDP tag");
    }
    fmt_snprintf(buf, size, "boot information: %s; memory map: %s; %s%s", firmware, mmap, acpi,
                 bi->have_framebuffer ? "; framebuffer ignored (console is serial)" : "");
}
