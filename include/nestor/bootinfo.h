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
#define BOOT_CMDLINE_MAX 512

/* Memory map types (Multiboot2 spec 3.6.8, same values as ACPI/e820). */
#define MMAP_USABLE 1
#define MMAP_RESERVED 2
#define MMAP_ACPI_RECLAIMABLE 3
#define MMAP_ACPI_NVS 4
#define MMAP_BAD 5

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
    uint8_t acpi_rsdp[36];  /* a copy of the RSDP from the ACPI old/new tag (14/15) */
    uint32_t acpi_rsdp_len; /* 0: no tag */
    char error[160]; /* why parsing failed */
};

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/*
 * Parses a Multiboot2 information structure held in buf[0..buf_len).
 * Returns false, with bi->error set, on anything malformed or truncated.
 */
bool mb2_parse(const uint8_t *buf, size_t buf_len, struct boot_info *bi);

#endif
