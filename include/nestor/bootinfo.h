/*
 * What Nestor keeps of the boot information GRUB gave it. Parsed once at
 * start into this fixed-size copy, so nothing later depends on memory that
 * L1 may own.
 */
#ifndef NESTOR_BOOTINFO_H
#define NESTOR_BOOTINFO_H

#include "types.h"

#define BOOT_MAX_MMAP 64
#define BOOT_MAX_MODULES 16
/*
 * The longest command line (Nestor's, L1's, each module's) carried, in bytes
 * without the terminating 0. A longer one is refused, never cut: a cut line
 * silently changes what the kernel is told to do.
 */
#define BOOT_CMDLINE_LEN 4096
#define BOOT_CMDLINE_MAX (BOOT_CMDLINE_LEN + 1) /* buffer size, with the 0 */
/* An ACPI RSDP: 20 bytes (ACPI 1.0) or its Length field, 36 since ACPI 2.0 (ACPI 6.5 section 5.2.5.3). */
#define BOOT_RSDP_V1_LEN 20
#define BOOT_RSDP_MAX 64

/* Memory map types (Multiboot2 spec 3.6.8, same values as ACPI/e820). */
#define MMAP_USABLE 1
#define MMAP_RESERVED 2
#define MMAP_ACPI_RECLAIMABLE 3
#define MMAP_ACPI_NVS 4
#define MMAP_BAD 5
#define MMAP_PERSISTENT 7 /* ACPI AddressRangePersistentMemory */

/* Where boot_info's memory map came from. */
enum boot_mmap_source { BOOT_MMAP_NONE, BOOT_MMAP_MB2, BOOT_MMAP_EFI };

struct mmap_entry {
    uint64_t base;
    uint64_t len;
    uint32_t type;
};

struct boot_module {
    paddr_t start;
    paddr_t end; /* exclusive */
    char cmdline[BOOT_CMDLINE_MAX];
};

struct boot_info {
    paddr_t mbi_phys;
    uint32_t mbi_size;
    char cmdline[BOOT_CMDLINE_MAX];
    bool have_meminfo;
    uint32_t mem_lower_kb, mem_upper_kb;
    unsigned mmap_count;
    struct mmap_entry mmap[BOOT_MAX_MMAP];
    unsigned module_count;
    struct boot_module modules[BOOT_MAX_MODULES];
    char loader_name[64];
    enum boot_mmap_source mmap_source;
    unsigned efi_mmap_descs;   /* valid descriptors the EFI memory map tag (17) starts with, 0 without one */
    unsigned efi_mmap_junk;    /* entries after them that are not descriptors (mb2_parse.c says why) */
    /* ACPI: a copy of the RSDP GRUB found (tag 15 "new" preferred over 14 "old"), checksums verified. */
    uint32_t rsdp_len;         /* 0: no ACPI tag */
    uint8_t rsdp_tag;          /* 14 or 15 */
    uint8_t rsdp[BOOT_RSDP_MAX];
    /* UEFI boot: the EFI64 system table and image handle (tags 12 and 20), 0 when absent. */
    bool efi64;
    uint64_t efi_system_table, efi_image_handle;
    bool have_framebuffer;     /* tag 8: noted and ignored, the console is serial */
    char error[160]; /* why parsing failed */
};

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/*
 * Parses a Multiboot2 information structure held in buf[0..buf_len).
 * Returns false, with bi->error set, on anything malformed or truncated.
 */
bool mb2_parse(const uint8_t *buf, size_t buf_len, struct boot_info *bi);

/*
 * One line saying what the boot information held, for the start-up log, e.g.
 * "UEFI boot (EFI64 system table 0x...); memory map: 17 ranges from GRUB's map
 * (EFI map with 95 descriptors also given); ACPI RSDP rev 2 (tag 15, OEM 'BOCHS ')".
 */
void mb2_describe(const struct boot_info *bi, char *buf, size_t size);

/*
 * Sets bi's RSDP from bytes found elsewhere (the BIOS-area scan on a legacy
 * boot) when the boot loader gave no ACPI tag. Checks signature, checksums
 * and length like the tags; false (bi unchanged) when they fail or bi already
 * has an RSDP.
 */
bool boot_info_set_rsdp(struct boot_info *bi, const uint8_t *rsdp, size_t avail);

/*
 * core/l1_bootinfo.c: appends ACPI tags to the Multiboot2 information
 * mbi2_build made in buf[0..len), before its end tag: the old tag (14) with
 * the RSDP's 20-byte ACPI 1.0 part, and for an ACPI 2.0+ RSDP (rsdp_len >=
 * 36) the new tag (15) with all of it (Multiboot2 spec 3.6.12, 3.6.13), as
 * GRUB gives them. Returns the new size, 0 when it does not fit in cap or
 * buf[0..len) does not end with an end tag.
 */
size_t mbi2_add_acpi(uint8_t *buf, size_t cap, size_t len, const uint8_t *rsdp, uint32_t rsdp_len);

/*
 * ACPI RSDP checks (ACPI 6.5 section 5.2.5.3) on avail bytes at p: the
 * signature and the 20-byte checksum always; then the Length field and the
 * extended checksum for RSDP_V2 (the "new" tag 15), or for RSDP_BY_REVISION
 * when the revision is 2 or more. RSDP_V1_PART (the "old" tag 14) stops at
 * the ACPI 1.0 part, which is all that tag holds. Returns NULL and the
 * RSDP's length in *len when valid, else what is wrong.
 */
enum rsdp_part { RSDP_V1_PART, RSDP_BY_REVISION, RSDP_V2 };
const char *rsdp_check(const uint8_t *p, size_t avail, enum rsdp_part part, uint32_t *len);

#endif
