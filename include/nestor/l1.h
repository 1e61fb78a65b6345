/*
 * L1: the guest Nestor boots. Its guest-physical layout has the host's shape
 * whatever host memory backs its RAM:
 *   [0, 0xA0000)           identity to host low RAM (BIOS data, EBDA, MP table)
 *   [0xA0000, 0xC0000)     identity, VGA, uncached
 *   [0xC0000, 0x100000)    identity, BIOS ROMs (read/execute)
 *   L1's RAM               where the host map has usable RAM, from 1 MiB up (below
 *                          and above 4 GiB), backed by pages Nestor allocates
 *   ACPI tables            identity, write-back, where the firmware put them
 *   everything else that   identity, uncached, up to MAXPHYADDR: PCI BARs (32- and
 *   is not host RAM        64-bit), I/O APIC, HPET, local APIC, flash, ...
 * Host RAM L1 does not get is unmapped (and reserved in L1's map): Nestor's own
 * memory is not reachable from L1.
 */
#ifndef NESTOR_L1_H
#define NESTOR_L1_H

#include "bootinfo.h"
#include "ept.h"
#include "kernel_image.h"
#include "types.h"

#define L1_RAM_BASE ((uint64_t)0x100000)
#define L1_MAX_REGIONS (2 * BOOT_MAX_MMAP + 16)
#define L1_MAX_MMAP (BOOT_MAX_MMAP + 16)
#define L1_MAX_RAM_RANGES BOOT_MAX_MMAP

enum l1_region_kind { L1_REGION_IDENTITY };

struct l1_region {
    gpa_t gpa;
    uint64_t size;
    uint64_t perms;
    unsigned memtype;
    const char *what;
};

struct l1_ram_range {
    gpa_t gpa;
    uint64_t size;
};

struct l1_memplan {
    uint64_t ram_bytes; /* RAM contiguous from L1_RAM_BASE (Multiboot's mem_upper) */
    gpa_t ram_end;      /* its end: kernels, modules and boot information go below it */
    uint64_t ram_total; /* all of L1's RAM from 1 MiB up, ram_bytes included */
    uint64_t phys_limit; /* identity device mappings end here */
    uint32_t mem_lower_kb;
    unsigned ram_count; /* L1's RAM ranges, sorted; ram[0] starts at L1_RAM_BASE */
    struct l1_ram_range ram[L1_MAX_RAM_RANGES];
    unsigned map_count; /* L1's memory map, sorted */
    struct mmap_entry map[L1_MAX_MMAP];
    unsigned region_count; /* identity-mapped ranges (RAM is mapped separately) */
    struct l1_region regions[L1_MAX_REGIONS];
    char error[160];
};

/*
 * Device space L1 must not reach directly (the PCIe ECAM windows, which hold
 * the host bridge's SMRAM controls): never mapped by EPT01, so each access
 * exits to Nestor, which stops L1 or emulates it.
 */
#define L1_MAX_KEEP_OUT 8
struct l1_keep_out {
    uint64_t base, size;
    const char *what;
};
/* Adds a range for l1_build to keep out of L1's reach (call before l1_build). False, logged, when the table is full. */
bool l1_keep_out(uint64_t base, uint64_t size, const char *what);

/*
 * Plans L1's guest-physical layout from the host memory map: ram_bytes of RAM
 * (less if the host map has less usable RAM above 1 MiB) laid where the host
 * has usable RAM, and identity regions for everything that is not host RAM
 * below phys_limit (at least 4 GiB; 1 << MAXPHYADDR on the machine),
 * except the keep_out ranges (widened to whole pages), which stay unmapped.
 */
bool l1_plan_memory(const struct boot_info *bi, uint64_t ram_bytes, uint64_t phys_limit,
                    const struct l1_keep_out *keep_out, unsigned nkeep_out, struct l1_memplan *plan);

/* Low RAM a kernel may load into: above the real-mode IVT and BIOS data area, below the EBDA (mem_lower). */
#define L1_LOW_LOAD_START ((uint64_t)0x500)

/*
 * Whether a kernel segment [pa, pa+size) lies wholly in L1's RAM: one of its
 * RAM ranges, or its low RAM (GRUB loads kernels linked below 1 MiB there).
 * Anything touching the IVT/BDA, the EBDA, VGA, ROMs or a hole is refused.
 */
bool l1_segment_in_ram(const struct l1_memplan *p, uint64_t pa, uint64_t size);

/* What the Multiboot information for L1 is built from. */
struct l1_module {
    gpa_t start, end;
    const char *cmdline;
};
struct l1_bootinfo_src {
    const char *cmdline;
    uint32_t mem_lower_kb, mem_upper_kb;
    const struct mmap_entry *map;
    unsigned map_count;
    const struct l1_module *modules;
    unsigned module_count;
};
/* Builds Multiboot (v1) / Multiboot2 information into buf, which L1 will see at buf_gpa. Returns its size, 0 if it does not fit. */
size_t mbi1_build(uint8_t *buf, size_t cap, gpa_t buf_gpa, const struct l1_bootinfo_src *src);
size_t mbi2_build(uint8_t *buf, size_t cap, gpa_t buf_gpa, const struct l1_bootinfo_src *src);

/* The machine state L1 starts in: 32-bit flat protected mode, paging off, as its boot protocol says. */
struct l1_entry {
    uint64_t rip;
    uint64_t rax, rbx, rsi;   /* Multiboot: magic and boot information; Linux: the zero page in rsi */
    uint16_t cs, ds;          /* flat 4 GiB code and data selectors */
    gpa_t gdtr_base;          /* a GDT holding them (Linux needs one); 0 with limit 0xffff for Multiboot */
    uint16_t gdtr_limit;
};

struct l1_vm {
    struct ept ept;
    struct l1_memplan mem;
    struct kernel_image kimg;
    struct l1_entry entry;
    gpa_t boot_info_gpa;
    uint64_t ram_hpa_chunks; /* how many host blocks back L1's RAM */
};

/* Guest-physical memory access through an EPT (ept/gmem.c). */
bool gmem_write(const struct ept *e, gpa_t gpa, const void *src, size_t n);
bool gmem_read(const struct ept *e, gpa_t gpa, void *dst, size_t n);
bool gmem_zero(const struct ept *e, gpa_t gpa, size_t n);

/* Allocates and maps L1's memory, loads its kernel, modules and boot information. Logs why on failure. */
bool l1_build(const struct boot_info *bi, uint64_t ram_bytes, uint64_t ept_caps, struct l1_vm *vm);
/* core/l1_linux.c: module 0 is a Linux bzImage (memory already mapped): load it per the boot protocol. */
bool l1_load_linux(const struct boot_info *bi, struct l1_vm *vm);

#endif
