/*
 * Recognising an L1 kernel image: ELF program headers (System V gABI, ELF32
 * and ELF64) and the Multiboot headers inside it (Multiboot 0.6.96 section 3.1,
 * Multiboot2 section 3.1). Pure functions over a byte buffer: a malformed
 * image gives an error string, never a read outside the buffer.
 */
#ifndef NESTOR_KERNEL_IMAGE_H
#define NESTOR_KERNEL_IMAGE_H

#include "types.h"

#define KIMG_MAX_SEGMENTS 16

struct kimg_segment {
    uint64_t paddr;  /* where it goes in L1's guest-physical memory */
    uint64_t offset; /* in the file */
    uint64_t filesz, memsz;
};

enum kimg_protocol { KIMG_NONE = 0, KIMG_MULTIBOOT1, KIMG_MULTIBOOT2 };

struct kernel_image {
    enum kimg_protocol protocol;
    unsigned elf_class; /* 32 or 64 */
    uint64_t entry;     /* physical entry address */
    unsigned segment_count;
    struct kimg_segment segments[KIMG_MAX_SEGMENTS];
    uint64_t load_start, load_end; /* lowest/highest guest-physical byte loaded (end exclusive) */
    uint32_t mb1_flags;            /* Multiboot1 header flags */
    bool mb2_wants_entry_tag;
    char error[160];
};

bool kimg_parse(const uint8_t *img, size_t len, struct kernel_image *ki);

#define MB1_HEADER_MAGIC 0x1badb002u
#define MB1_BOOTLOADER_MAGIC 0x2badb002u
#define MB2_HEADER_MAGIC 0xe85250d6u

#endif
