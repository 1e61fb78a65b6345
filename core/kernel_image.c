/* L1 kernel image recognition: ELF program headers and Multiboot headers. */
#include "nestor/fmt.h"
#include "nestor/kernel_image.h"
#include "nestor/lib.h"

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1

#define MB1_SEARCH 8192
#define MB2_SEARCH 32768
#define MB2_ARCH_I386 0

/* Multiboot1 header flags (Multiboot 0.6.96, 3.1.2). */
#define MB1_FLAG_PAGE_ALIGN BIT(0)
#define MB1_FLAG_MEMINFO BIT(1)
#define MB1_FLAG_VIDEO BIT(2)
#define MB1_FLAG_AOUT_KLUDGE BIT(16)

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

#define FAIL(ki, ...) (fmt_snprintf((ki)->error, sizeof (ki)->error, __VA_ARGS__), false)

static bool parse_phdrs(const uint8_t *img, size_t len, struct kernel_image *ki)
{
    bool is64 = ki->elf_class == 64;
    uint64_t phoff = is64 ? rd64(img + 32) : rd32(img + 28);
    uint16_t phentsize = rd16(img + (is64 ? 54 : 42));
    uint16_t phnum = rd16(img + (is64 ? 56 : 44));
    if (phentsize < (is64 ? 56 : 32))
        return FAIL(ki, "ELF program header entry size %u is too small", phentsize);
    if (phnum == 0)
        return FAIL(ki, "ELF image has no program headers");
    if (phoff > len || (uint64_t)phnum * phentsize > len - phoff)
        return FAIL(ki, "ELF program headers (offset 0x%lx, %u x %u bytes) run past the end of the %zu-byte file",
                    phoff, phnum, phentsize, len);
    ki->load_start = UINT64_MAX;
    ki->load_end = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
        if (rd32(ph) != PT_LOAD)
            continue;
        struct kimg_segment s;
        if (is64) {
            s.offset = rd64(ph + 8);
            s.paddr = rd64(ph + 24);
            s.filesz = rd64(ph + 32);
            s.memsz = rd64(ph + 40);
        } else {
            s.offset = rd32(ph + 4);
            s.paddr = rd32(ph + 12);
            s.filesz = rd32(ph + 16);
            s.memsz = rd32(ph + 20);
        }
        if (s.memsz == 0)
            continue;
        if (s.filesz > s.memsz)
            return FAIL(ki, "ELF segment %u: file size 0x%lx exceeds memory size 0x%lx", i, s.filesz, s.memsz);
        if (s.offset > len || s.filesz > len - s.offset)
            return FAIL(ki, "ELF segment %u (offset 0x%lx, 0x%lx bytes) runs past the end of the %zu-byte file: truncated image?",
                        i, s.offset, s.filesz, len);
        if (s.paddr >= 4 * GiB || s.memsz > 4 * GiB - s.paddr)
            return FAIL(ki, "ELF segment %u at physical 0x%lx (0x%lx bytes) is not below 4 GiB", i, s.paddr, s.memsz);
        if (ki->segment_count == KIMG_MAX_SEGMENTS)
            return FAIL(ki, "ELF image has more than %u loadable segments", KIMG_MAX_SEGMENTS);
        ki->segments[ki->segment_count++] = s;
        ki->load_start = MIN(ki->load_start, s.paddr);
        ki->load_end = MAX(ki->load_end, s.paddr + s.memsz);
    }
    if (ki->segment_count == 0)
        return FAIL(ki, "ELF image has no loadable (PT_LOAD) segment");
    return true;
}

/* Translates the ELF entry (a virtual address) to where it is loaded, as GRUB does. */
static bool entry_from_elf(const uint8_t *img, size_t len, struct kernel_image *ki)
{
    bool is64 = ki->elf_class == 64;
    uint64_t e_entry = is64 ? rd64(img + 24) : rd32(img + 24);
    uint64_t phoff = is64 ? rd64(img + 32) : rd32(img + 28);
    uint16_t phentsize = rd16(img + (is64 ? 54 : 42)), phnum = rd16(img + (is64 ? 56 : 44));
    (void)len; /* bounds were checked by parse_phdrs */
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
        if (rd32(ph) != PT_LOAD)
            continue;
        uint64_t vaddr = is64 ? rd64(ph + 16) : rd32(ph + 8);
        uint64_t paddr = is64 ? rd64(ph + 24) : rd32(ph + 12);
        uint64_t memsz = is64 ? rd64(ph + 40) : rd32(ph + 20);
        if (e_entry >= vaddr && e_entry - vaddr < memsz) {
            ki->entry = e_entry - vaddr + paddr;
            return true;
        }
    }
    ki->entry = e_entry;
    return true;
}

static bool find_mb2(const uint8_t *img, size_t len, struct kernel_image *ki, bool *found)
{
    *found = false;
    size_t limit = MIN(len, (size_t)MB2_SEARCH);
    for (size_t off = 0; off + 16 <= limit; off += 8) {
        if (rd32(img + off) != MB2_HEADER_MAGIC)
            continue;
        uint32_t arch = rd32(img + off + 4), hlen = rd32(img + off + 8), sum = rd32(img + off + 12);
        if ((uint32_t)(MB2_HEADER_MAGIC + arch + hlen + sum) != 0)
            continue;
        *found = true;
        if (arch != MB2_ARCH_I386)
            return FAIL(ki, "Multiboot2 header asks for architecture %u; only i386 (0) is supported", arch);
        if (hlen < 24 || hlen > len - off)
            return FAIL(ki, "Multiboot2 header length %u runs past the end of the file", hlen);
        for (uint32_t t = 16; t + 8 <= hlen;) {
            const uint8_t *tag = img + off + t;
            uint16_t type = rd16(tag), flags = rd16(tag + 2);
            uint32_t size = rd32(tag + 4);
            bool optional = flags & 1;
            if (size < 8 || size > hlen - t)
                return FAIL(ki, "Multiboot2 header tag %u has bad size %u", type, size);
            if (type == 0)
                return true;
            switch (type) {
            case 1: /* information request */
                for (uint32_t r = 8; r + 4 <= size; r += 4) {
                    uint32_t want = rd32(tag + r);
                    bool provided = want == 1 || want == 2 || want == 3 || want == 4 || want == 6;
                    if (!provided && !optional)
                        return FAIL(ki, "Multiboot2 kernel requires boot information tag %u, which Nestor does not provide", want);
                }
                break;
            case 3: /* entry address */
                if (size < 12)
                    return FAIL(ki, "Multiboot2 entry address tag too short");
                ki->entry = rd32(tag + 8);
                ki->mb2_wants_entry_tag = true;
                break;
            case 4: /* console flags */
            case 6: /* module alignment: Nestor page-aligns modules anyway */
            case 10: /* relocatable: Nestor loads at the linked address */
                break;
            default:
                if (!optional)
                    return FAIL(ki, "Multiboot2 kernel requires header tag %u (%s), which Nestor does not support", type,
                                type == 2 ? "a.out address" : type == 5 ? "framebuffer" : "EFI");
                break;
            }
            t += (uint32_t)ALIGN_UP(size, 8);
        }
        return FAIL(ki, "Multiboot2 header has no end tag");
    }
    return true;
}

static bool find_mb1(const uint8_t *img, size_t len, struct kernel_image *ki, bool *found)
{
    *found = false;
    size_t limit = MIN(len, (size_t)MB1_SEARCH);
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        uint32_t magic = rd32(img + off), flags = rd32(img + off + 4), sum = rd32(img + off + 8);
        if (magic != MB1_HEADER_MAGIC || (uint32_t)(magic + flags + sum) != 0)
            continue;
        *found = true;
        ki->mb1_flags = flags;
        uint32_t required = flags & 0xffff;
        uint32_t known = MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMINFO;
        if (required & ~known)
            return FAIL(ki, "Multiboot kernel requires header flags 0x%x that Nestor does not support%s",
                        required & ~known, (required & MB1_FLAG_VIDEO) ? " (video mode)" : "");
        if (flags & MB1_FLAG_AOUT_KLUDGE)
            return FAIL(ki, "Multiboot kernel uses the a.out address kludge (flag 16); Nestor loads ELF program headers only");
        return true;
    }
    return true;
}

bool kimg_parse(const uint8_t *img, size_t len, struct kernel_image *ki)
{
    memset(ki, 0, sizeof *ki);
    if (len < 4 || memcmp(img, "\x7f" "ELF", 4) != 0)
        return FAIL(ki, "not an ELF file (first bytes %02x %02x %02x %02x); L1 must be a Multiboot or Multiboot2 ELF kernel",
                    len > 0 ? img[0] : 0, len > 1 ? img[1] : 0, len > 2 ? img[2] : 0, len > 3 ? img[3] : 0);
    if (len < 52)
        return FAIL(ki, "ELF header truncated: file is only %zu bytes", len);
    unsigned cls = img[EI_CLASS];
    if (cls != ELFCLASS32 && cls != ELFCLASS64)
        return FAIL(ki, "ELF class %u is neither 32- nor 64-bit", cls);
    if (img[EI_DATA] != ELFDATA2LSB)
        return FAIL(ki, "ELF image is not little-endian");
    ki->elf_class = cls == ELFCLASS64 ? 64 : 32;
    if (cls == ELFCLASS64 && len < 64)
        return FAIL(ki, "ELF64 header truncated: file is only %zu bytes", len);
    uint16_t type = rd16(img + 16), machine = rd16(img + 18);
    if (type != ET_EXEC)
        return FAIL(ki, "ELF type %u is not an executable (ET_EXEC)", type);
    if ((cls == ELFCLASS32 && machine != EM_386) || (cls == ELFCLASS64 && machine != EM_X86_64))
        return FAIL(ki, "ELF machine %u does not match its class (ELF%u)", machine, ki->elf_class);
    if (!parse_phdrs(img, len, ki))
        return false;
    if (!entry_from_elf(img, len, ki))
        return false;

    bool found;
    if (!find_mb2(img, len, ki, &found))
        return false;
    if (found) {
        ki->protocol = KIMG_MULTIBOOT2;
    } else {
        if (!find_mb1(img, len, ki, &found))
            return false;
        if (!found)
            return FAIL(ki, "ELF image has no Multiboot header (first 8 KiB) or Multiboot2 header (first 32 KiB)");
        ki->protocol = KIMG_MULTIBOOT1;
    }
    bool inside = false;
    for (unsigned i = 0; i < ki->segment_count; i++)
        inside |= ki->entry >= ki->segments[i].paddr && ki->entry - ki->segments[i].paddr < ki->segments[i].memsz;
    if (!inside)
        return FAIL(ki, "entry point 0x%lx lies outside the loaded segments [0x%lx, 0x%lx)", ki->entry, ki->load_start,
                    ki->load_end);
    return true;
}
