/*
 * The x86 Linux boot protocol (Documentation/arch/x86/boot.rst, protocol
 * 2.10+): recognising a bzImage and building its "zero page" (struct
 * boot_params). Pure functions over buffers, unit-tested on the host.
 */
#ifndef NESTOR_BZIMAGE_H
#define NESTOR_BZIMAGE_H

#include "bootinfo.h"
#include "types.h"

#define BZ_ZERO_PAGE_SIZE 4096
#define BZ_E820_MAX 128

struct bzimage {
    uint16_t version;
    uint8_t loadflags;
    uint16_t xloadflags;
    uint32_t kernel_alignment, init_size, initrd_addr_max, cmdline_size;
    bool relocatable;
    uint64_t pref_address;
    size_t setup_size;   /* boot sector + setup sectors */
    size_t header_end;   /* end of the setup header, copied into the zero page */
    size_t pm_offset, pm_size; /* the protected-mode kernel in the file */
    char error[160];
};

/* "HdrS" at 0x202 and the 0xAA55 boot flag: this is a Linux kernel image. */
bool bzimage_detect(const uint8_t *img, size_t len);
/* Checks the header (protocol >= 2.10, loaded high, 32-bit entry) and the file's extent. */
bool bzimage_parse(const uint8_t *img, size_t len, struct bzimage *bz);

struct bz_boot {
    uint32_t load_address; /* where the protected-mode kernel is (its 32-bit entry) */
    uint32_t cmdline_gpa;
    uint32_t initrd_gpa, initrd_size;
    const struct mmap_entry *e820;
    unsigned e820_count;
};
/* Fills a zero page: the image's setup header, then what a boot loader sets (boot.rst "loader" fields). */
void bzimage_zero_page(uint8_t zp[BZ_ZERO_PAGE_SIZE], const uint8_t *img, const struct bzimage *bz,
                       const struct bz_boot *b);

#endif
