/*
 * Builds small ELF32/ELF64 kernel images with Multiboot / Multiboot2 headers
 * for the kernel-image and L1-loader tests. Everything little-endian; nothing
 * here is validated, so tests can build broken images on purpose.
 */
#ifndef NESTOR_UNIT_ELF_BUILD_H
#define NESTOR_UNIT_ELF_BUILD_H

#include "nestor/types.h"

#define ELF_MAX_SEGS 24
#define PT_NULL_ 0u
#define PT_LOAD_ 1u
#define PT_NOTE_ 4u

struct elf_seg {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
};

struct elf_spec {
    unsigned cls; /* 32 or 64 */
    uint64_t entry;
    unsigned nseg;
    struct elf_seg seg[ELF_MAX_SEGS];
};

void wr16(uint8_t *p, uint16_t v);
void wr32(uint8_t *p, uint32_t v);
void wr64(uint8_t *p, uint64_t v);

/* Field offsets in the ELF header, by class. */
#define EH_PHOFF(cls) ((cls) == 64 ? 32 : 28)
#define EH_PHENTSIZE(cls) ((cls) == 64 ? 54 : 42)
#define EH_PHNUM(cls) ((cls) == 64 ? 56 : 44)
#define EH_SIZE(cls) ((cls) == 64 ? 64u : 52u)
#define PH_SIZE(cls) ((cls) == 64 ? 56u : 32u)

/* Writes the ELF header at 0 and the program headers right after it (ET_EXEC, x86 / x86-64). */
void elf_write(uint8_t *img, const struct elf_spec *s);
/* Writes a Multiboot (v1) header at off with a correct checksum. */
void mb1_write(uint8_t *img, size_t off, uint32_t flags);

/* A Multiboot2 header being assembled in a buffer (tags appended, 8-byte aligned). */
struct mb2_hdr {
    uint8_t bytes[512];
    size_t len;
};
void mb2_hdr_begin(struct mb2_hdr *h, uint32_t arch);
/* Appends a tag: type, flags, then the given 32-bit words as its body. */
void mb2_hdr_tag(struct mb2_hdr *h, uint16_t type, uint16_t flags, const uint32_t *words, size_t nwords);
/* Appends the end tag and fills in header_length and the checksum. */
void mb2_hdr_end(struct mb2_hdr *h);
/* Fills in header_length and checksum without appending an end tag. */
void mb2_hdr_seal(struct mb2_hdr *h);

#endif
