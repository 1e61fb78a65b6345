/*
 * Finding the machine's CPUs and I/O APICs in the firmware's tables: the ACPI
 * MADT (ACPI 6.5 5.2.5 RSDP, 5.2.7 RSDT, 5.2.8 XSDT, 5.2.12 MADT) or, on
 * machines without ACPI, the MP configuration table (Intel MP spec 1.4,
 * chapter 4). Also hiding CPUs from L1 by editing those tables in place.
 *
 * Pure code: physical memory is only read through a phys_view_fn the caller
 * gives, so the same parser runs in Nestor and in host unit tests. Every
 * length and checksum is checked before anything behind it is used; a table
 * that does not add up gives a sentence in platform_info.error, never a read
 * outside what was viewed.
 */
#ifndef NESTOR_ACPI_H
#define NESTOR_ACPI_H

#include "types.h"

/* A readable view of [pa, pa+len), or NULL if that range is not readable. */
typedef const void *(*phys_view_fn)(uint64_t pa, size_t len, void *ctx);

#define PLATFORM_MAX_CPUS 64
#define PLATFORM_MAX_IOAPICS 8

/* Table sizes the parser accepts (a MADT with 4096 x2APIC entries is 64 KiB). */
#define ACPI_TABLE_MAX_LEN (1024 * 1024)
#define ACPI_SDT_HEADER_LEN 36
#define ACPI_MADT_ENTRIES_OFF 44
#define ACPI_RSDP_V1_LEN 20
#define ACPI_RSDP_V2_LEN 36
#define MP_FLOATING_LEN 16
#define MP_CONFIG_HEADER_LEN 44

/* MADT entry types (ACPI 6.5 5.2.12, table 5.21) and flags (table 5.23). */
#define MADT_LOCAL_APIC 0
#define MADT_IO_APIC 1
#define MADT_LAPIC_ADDR_OVERRIDE 5
#define MADT_LOCAL_X2APIC 9
#define MADT_LAPIC_ENABLED BIT(0)
#define MADT_LAPIC_ONLINE_CAPABLE BIT(1)
#define MADT_FLAG_PCAT_COMPAT BIT(0)

/* MP configuration table entry types (MP spec 1.4 4.3, table 4-3) and flags. */
#define MP_ENTRY_PROCESSOR 0
#define MP_ENTRY_BUS 1
#define MP_ENTRY_IOAPIC 2
#define MP_ENTRY_IO_INTERRUPT 3
#define MP_ENTRY_LOCAL_INTERRUPT 4
#define MP_CPU_ENABLED BIT(0)
#define MP_CPU_BSP BIT(1)
#define MP_IOAPIC_ENABLED BIT(0)

struct platform_cpu {
    uint32_t apic_id;
    uint32_t uid;        /* ACPI processor UID; the APIC ID for MP tables, which have none */
    bool enabled;
    bool online_capable; /* ACPI: may be enabled later; MP: same as enabled */
    bool x2apic_entry;   /* from a MADT type 9 entry */
    bool bsp;            /* MP tables only: the CPU flags' BP bit */
};

struct platform_ioapic {
    uint32_t id;
    uint64_t addr;
    uint32_t gsi_base; /* MP tables give none: 0 (the I/O APIC's version register has its pin count) */
};

struct platform_info {
    const char *source;                 /* "ACPI MADT" or "MP table" */
    uint64_t madt_pa;
    uint32_t madt_len;                  /* where the MADT is (0 if none) */
    uint64_t mpc_pa;
    uint32_t mpc_len;                   /* MP configuration table's base part (0 if none) */
    uint8_t acpi_revision;              /* the RSDP's revision */
    uint64_t lapic_addr;                /* MADT's, or its type-5 override; MP table's */
    bool pcat_compat;                   /* MADT flags bit 0: dual 8259 present; always for MP tables */
    bool imcr_present;                  /* MP floating pointer feature byte 2 bit 7 (IMCRP) */
    unsigned cpu_count;                 /* entries in cpus[], enabled or not */
    unsigned cpus_ignored;              /* entries beyond PLATFORM_MAX_CPUS */
    struct platform_cpu cpus[PLATFORM_MAX_CPUS];
    unsigned ioapic_count;
    struct platform_ioapic ioapics[PLATFORM_MAX_IOAPICS];
    char error[160];                    /* why parsing failed */

    /* What was skipped, with its reason (each counted, none fatal). */
    unsigned cpus_duplicate;            /* a processor entry repeating an APIC ID already listed */
    unsigned ioapics_ignored;           /* I/O APIC entries beyond PLATFORM_MAX_IOAPICS */
    unsigned ioapics_disabled;          /* MP I/O APIC entries without the enabled flag */
    unsigned entries_skipped;           /* MADT entries of other types, skipped by their length */
    unsigned tables_unreadable;         /* XSDT/RSDT entries whose header could not be viewed */
    unsigned madt_duplicates;           /* further "APIC" tables after the first (ignored) */
};

/* Record one CPU / I/O APIC in out (repeated APIC IDs and entries past the limits are counted, not stored). */
void platform_add_cpu(struct platform_info *out, const struct platform_cpu *cpu);
void platform_add_ioapic(struct platform_info *out, uint32_t id, uint64_t addr, uint32_t gsi_base);

/* Sum of len bytes, modulo 256 (a valid ACPI / MP structure sums to 0). */
uint8_t acpi_checksum(const void *p, size_t len);

/* Checks an RSDP (ACPI 6.5 5.2.5.3): signature, v1 checksum over 20 bytes, and for revision >= 2 the length and extended checksum. */
bool acpi_rsdp_valid(const void *rsdp, size_t len, char *why, size_t why_len);

/* Legacy BIOS search (ACPI 5.2.5.1): first KiB of the EBDA (segment at 0x40e), then 0xE0000-0xFFFFF, 16-byte aligned. */
bool acpi_rsdp_scan(phys_view_fn view, void *ctx, uint64_t *rsdp_pa);

/*
 * From an RSDP (bytes, as GRUB's multiboot2 ACPI tags copy it, or viewed at
 * rsdp_pa): XSDT (rev>=2 with a non-zero XSDT address, else RSDT), find
 * "APIC", parse it. Every table's length and checksum is checked; any
 * inconsistency is a clear error in out->error. Given fewer than 36 bytes
 * (GRUB's "ACPI old" tag copies 20 bytes even of a revision 2 RSDP), only the
 * ACPI 1.0 part is checked and the RSDT is used.
 */
bool acpi_read_madt(const void *rsdp, size_t rsdp_len, phys_view_fn view, void *ctx, struct platform_info *out);

/* Parses a MADT already in memory (len readable bytes) into out (cpus, I/O APICs, LAPIC address, flags); out zeroed by the caller. */
bool acpi_parse_madt(const uint8_t *madt, uint32_t len, struct platform_info *out);

/* A PCIe ECAM (MMCONFIG) window: bus b's configuration space is at base + (b << 20), 1 MiB per bus. */
struct acpi_ecam {
    uint64_t base;
    uint16_t segment;
    uint8_t bus_start, bus_end;
};
#define ACPI_ECAM_BUS_SIZE (1ull << 20)

/*
 * The MCFG (PCI Firmware Specification 3.2, 4.1.2): the ECAM windows, which L1
 * must not reach directly (they hold the host bridge's SMRAM controls). True
 * with *count 0 when the root lists no MCFG; false with out->error on a bad
 * RSDP/root/MCFG (same checks as acpi_read_madt) or more than max windows.
 */
bool acpi_read_mcfg(const void *rsdp, size_t rsdp_len, phys_view_fn view, void *ctx, struct acpi_ecam *ecam,
                    unsigned max, unsigned *count, struct platform_info *out);
bool acpi_parse_mcfg(const uint8_t *mcfg, uint32_t len, struct acpi_ecam *ecam, unsigned max, unsigned *count,
                     struct platform_info *out);

/* Where the machine is powered off: the FADT's PM1a/PM1b control ports (0: none). */
struct acpi_pm1 {
    uint16_t a_cnt, b_cnt;
};

/*
 * The FADT ("FACP", ACPI 6.5 5.2.9) listed by the root, checked like the MADT,
 * and its PM1a/PM1b_CNT_BLK (PM1a from X_PM1a_CNT_BLK when only that is set,
 * in I/O space). False with out->error when there is none or it is unusable.
 */
bool acpi_read_pm1(const void *rsdp, size_t rsdp_len, phys_view_fn view, void *ctx, struct acpi_pm1 *pm,
                   struct platform_info *out);
bool acpi_parse_fadt_pm1(const uint8_t *fadt, uint32_t len, struct acpi_pm1 *pm, struct platform_info *out);

/* MP spec 1.4: floating pointer "_MP_" in the EBDA's first KiB, the last KiB of base memory (from 0x413), 0xF0000-0xFFFFF. */
bool mptable_scan(phys_view_fn view, void *ctx, uint64_t *mpfp_pa);
bool mptable_read(phys_view_fn view, void *ctx, uint64_t mpfp_pa, struct platform_info *out);

/* Parses an MP configuration table already in memory (len readable bytes); out zeroed by the caller. */
bool mptable_parse(const uint8_t *mpc, uint32_t len, struct platform_info *out);

/*
 * In place, in the firmware's table (writable bytes of the whole table): mark
 * every processor entry whose APIC ID is not in keep[] disabled (MADT types 0
 * and 9: clear Enabled and Online Capable; MP: clear CPU-enabled), then fix
 * the table checksum. Returns how many entries it disabled (entries already
 * disabled are not counted). Walks only entries that lie wholly inside both
 * len and the table's own length; stops at the first malformed one.
 */
unsigned acpi_madt_hide_cpus(uint8_t *madt, uint32_t len, const uint32_t *keep, unsigned nkeep);
unsigned mptable_hide_cpus(uint8_t *mpc, uint32_t len, const uint32_t *keep, unsigned nkeep);

#endif
