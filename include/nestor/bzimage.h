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

/*
 * Whether a command line of len bytes (without its 0) fits the kernel's
 * cmdline_size (boot.rst: "the maximum size of the command line without the
 * terminating zero"). A longer line is refused, not cut.
 */
bool bzimage_cmdline_fits(const struct bzimage *bz, size_t len);

/* The zero page's acpi_rsdp_addr (zero-page.rst 0x070) is read by kernels of boot protocol 2.14 and later. */
#define BZ_ACPI_RSDP_MIN_VERSION 0x20e
bool bzimage_takes_acpi_rsdp_addr(const struct bzimage *bz);

/*
 * Copies the e820 map in[0..n) to out with [base, base+len) carved out of the
 * usable range that holds it and marked reserved (Nestor puts something L1
 * must keep there). Returns the new count, 0 when no single usable range
 * holds it or out has no room.
 */
unsigned bz_e820_reserve(struct mmap_entry *out, unsigned cap, const struct mmap_entry *in, unsigned n,
                         uint64_t base, uint64_t len);

struct bz_boot {
    uint32_t load_address; /* where the protected-mode kernel is (its 32-bit entry) */
    uint32_t cmdline_gpa;
    uint32_t initrd_gpa, initrd_size;
    uint64_t acpi_rsdp_gpa; /* 0: none (the kernel scans the BIOS area); set only if the kernel takes it */
    const struct mmap_entry *e820;
    unsigned e820_count;
};
/* Fills a zero page: the image's setup header, then what a boot loader sets (boot.rst "loader" fields). */
void bzimage_zero_page(uint8_t zp[BZ_ZERO_PAGE_SIZE], const uint8_t *img, const struct bzimage *bz,
                       const struct bz_boot *b);

#endif
