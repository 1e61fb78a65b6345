/*
 * ACPI: the RSDP (ACPI 6.5 5.2.5), the root tables (RSDT 5.2.7, XSDT 5.2.8),
 * the MADT (5.2.12), the MCFG and the FADT's PM1 control ports (5.2.9).
 * Nothing is read from a table before its length has been checked against
 * what was viewed and its checksum verified.
 */
#include "nestor/acpi.h"
#include "nestor/fmt.h"
#include "nestor/lib.h"

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

#define SAY(out, ...) ((void)fmt_snprintf((out)->error, sizeof (out)->error, __VA_ARGS__))
#define FAIL(out, ...) (SAY(out, __VA_ARGS__), false)

/* RSDP layout (ACPI 6.5 table 5.3). */
#define RSDP_CHECKSUM_V1 8
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24

/* System description table header (ACPI 6.5 table 5.4). */
#define SDT_LENGTH 4
#define SDT_CHECKSUM 9

/* MADT body (ACPI 6.5 table 5.20) and entries (5.2.12.2, .3, .8, .12). */
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_OVERRIDE_LEN 12
#define MADT_X2APIC_LEN 16

#define RSDP_SEARCH_EBDA_LEN 1024
#define BDA_EBDA_SEGMENT 0x40e
#define BIOS_ROM_BASE 0xe0000
#define BIOS_ROM_END 0x100000

uint8_t acpi_checksum(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + b[i]);
    return sum;
}

/* ------------------------------------------------------------------ RSDP */

static bool rsdp_check(const void *rsdp, size_t len, bool v1_only, char *why, size_t why_len);

bool acpi_rsdp_valid(const void *rsdp, size_t len, char *why, size_t why_len)
{
    return rsdp_check(rsdp, len, false, why, why_len);
}

/* v1_only: check only the ACPI 1.0 part, whatever the revision (a 20-byte copy of a newer RSDP). */
static bool rsdp_check(const void *rsdp, size_t len, bool v1_only, char *why, size_t why_len)
{
    const uint8_t *r = rsdp;
    char scratch[1];
    if (!why || !why_len) {
        why = scratch;
        why_len = sizeof scratch;
    }
    why[0] = 0;
    if (!r || len < ACPI_RSDP_V1_LEN) {
        fmt_snprintf(why, why_len, "RSDP truncated: %zu bytes, an ACPI 1.0 RSDP has %u", r ? len : 0,
                     (unsigned)ACPI_RSDP_V1_LEN);
        return false;
    }
    if (memcmp(r, "RSD PTR ", 8) != 0) {
        fmt_snprintf(why, why_len, "RSDP signature is not \"RSD PTR \"");
        return false;
    }
    if (acpi_checksum(r, ACPI_RSDP_V1_LEN) != 0) {
        fmt_snprintf(why, why_len, "RSDP checksum over its first 20 bytes is 0x%02x, not 0",
                     acpi_checksum(r, ACPI_RSDP_V1_LEN));
        return false;
    }
    if (r[RSDP_REVISION] < 2 || v1_only)
        return true;
    if (len < ACPI_RSDP_V2_LEN) {
        fmt_snprintf(why, why_len, "RSDP revision %u truncated: %zu bytes, needs %u", r[RSDP_REVISION], len,
                     (unsigned)ACPI_RSDP_V2_LEN);
        return false;
    }
    uint32_t length = rd32(r + RSDP_LENGTH);
    if (length < ACPI_RSDP_V2_LEN || length > len) {
        fmt_snprintf(why, why_len, "RSDP length %u is outside [%u, %zu bytes given]", length,
                     (unsigned)ACPI_RSDP_V2_LEN, len);
        return false;
    }
    if (acpi_checksum(r, length) != 0) {
        fmt_snprintf(why, why_len, "RSDP extended checksum over %u bytes is 0x%02x, not 0", length,
                     acpi_checksum(r, length));
        return false;
    }
    return true;
}

/* A valid RSDP at pa? Views 20 bytes, then its whole length for revision >= 2. */
static bool rsdp_at(phys_view_fn view, void *ctx, uint64_t pa)
{
    const uint8_t *r = view(pa, ACPI_RSDP_V1_LEN, ctx);
    if (!r || memcmp(r, "RSD PTR ", 8) != 0)
        return false;
    if (r[RSDP_REVISION] < 2)
        return acpi_rsdp_valid(r, ACPI_RSDP_V1_LEN, NULL, 0);
    const uint8_t *v2 = view(pa, ACPI_RSDP_V2_LEN, ctx);
    if (!v2)
        return false;
    uint32_t length = rd32(v2 + RSDP_LENGTH);
    if (length < ACPI_RSDP_V2_LEN || length > 4096)
        return false;
    const uint8_t *all = view(pa, length, ctx);
    return all && acpi_rsdp_valid(all, length, NULL, 0);
}

static bool rsdp_search(phys_view_fn view, void *ctx, uint64_t base, uint64_t end, uint64_t *found)
{
    for (uint64_t pa = base; pa < end; pa += 16) { /* the area bounds where it starts */
        if (rsdp_at(view, ctx, pa)) {
            *found = pa;
            return true;
        }
    }
    return false;
}

bool acpi_rsdp_scan(phys_view_fn view, void *ctx, uint64_t *rsdp_pa)
{
    const uint8_t *bda = view(BDA_EBDA_SEGMENT, 2, ctx);
    if (bda) {
        uint64_t ebda = (uint64_t)rd16(bda) << 4;
        if (ebda && rsdp_search(view, ctx, ebda, ebda + RSDP_SEARCH_EBDA_LEN, rsdp_pa))
            return true;
    }
    return rsdp_search(view, ctx, BIOS_ROM_BASE, BIOS_ROM_END, rsdp_pa);
}

/* ------------------------------------------------------------------ tables */

/*
 * Views the table at pa whole: its header, then its stated length, and checks
 * the signature (if sig), the length and the checksum. name is for errors.
 */
static const uint8_t *view_table(phys_view_fn view, void *ctx, uint64_t pa, const char *sig, const char *name,
                                 uint32_t *len_out, struct platform_info *out)
{
    if (!pa) {
        SAY(out, "%s address is 0", name);
        return NULL;
    }
    const uint8_t *h = view(pa, ACPI_SDT_HEADER_LEN, ctx);
    if (!h) {
        SAY(out, "%s at 0x%llx is not readable", name, (unsigned long long)pa);
        return NULL;
    }
    if (sig && memcmp(h, sig, 4) != 0) {
        SAY(out, "%s at 0x%llx: signature is not \"%s\"", name, (unsigned long long)pa, sig);
        return NULL;
    }
    uint32_t len = rd32(h + SDT_LENGTH);
    if (len < ACPI_SDT_HEADER_LEN) {
        SAY(out, "%s at 0x%llx: length %u is smaller than its %u-byte header", name, (unsigned long long)pa, len,
             (unsigned)ACPI_SDT_HEADER_LEN);
        return NULL;
    }
    if (len > ACPI_TABLE_MAX_LEN) {
        SAY(out, "%s at 0x%llx: length %u is more than the %u bytes accepted", name, (unsigned long long)pa, len,
             (unsigned)ACPI_TABLE_MAX_LEN);
        return NULL;
    }
    const uint8_t *t = view(pa, len, ctx);
    if (!t) {
        SAY(out, "%s at 0x%llx: its %u bytes run into unreadable memory", name, (unsigned long long)pa, len);
        return NULL;
    }
    if (acpi_checksum(t, len) != 0) {
        SAY(out, "%s at 0x%llx: checksum over %u bytes is 0x%02x, not 0", name, (unsigned long long)pa, len,
             acpi_checksum(t, len));
        return NULL;
    }
    *len_out = len;
    return t;
}

/*
 * From the RSDP to the first table signed sig listed in the XSDT (or RSDT),
 * viewed whole and checked. *found is false (and true returned) when the root
 * lists none. Later tables with the same signature are counted in
 * out->madt_duplicates when sig is "APIC".
 */
static bool find_table(const void *rsdp, size_t rsdp_len, phys_view_fn view, void *ctx, const char *sig,
                       const char *name, struct platform_info *out, const uint8_t **table, uint64_t *table_pa,
                       uint32_t *table_len, bool *found)
{
    char why[96];
    const uint8_t *r = rsdp;
    *found = false;
    /*
     * GRUB's "ACPI old" tag holds the first 20 bytes of whatever RSDP the
     * firmware has, revision 2 included: that part is checked and its RSDT used.
     */
    bool v1_copy = r && rsdp_len >= ACPI_RSDP_V1_LEN && rsdp_len < ACPI_RSDP_V2_LEN;
    if (!rsdp_check(rsdp, rsdp_len, v1_copy, why, sizeof why))
        return FAIL(out, "%s", why);
    out->acpi_revision = r[RSDP_REVISION];

    /* ACPI 6.5 5.2.5.3: an OS uses the XSDT when the RSDP has one. */
    bool xsdt = !v1_copy && r[RSDP_REVISION] >= 2 && rd64(r + RSDP_XSDT) != 0;
    uint64_t root_pa = xsdt ? rd64(r + RSDP_XSDT) : rd32(r + RSDP_RSDT);
    const char *root_name = xsdt ? "XSDT" : "RSDT";
    size_t entry_size = xsdt ? 8 : 4;
    uint32_t root_len;
    const uint8_t *root = view_table(view, ctx, root_pa, root_name, root_name, &root_len, out);
    if (!root)
        return false;
    if ((root_len - ACPI_SDT_HEADER_LEN) % entry_size != 0)
        return FAIL(out, "%s at 0x%llx: length %u leaves a partial %zu-byte entry", root_name,
                    (unsigned long long)root_pa, root_len, entry_size);

    /* The first table listed counts; later ones, even the same address again, are counted and ignored. */
    uint64_t pa_found = 0;
    out->tables_unreadable = 0;
    for (uint32_t off = ACPI_SDT_HEADER_LEN; off < root_len; off += (uint32_t)entry_size) {
        uint64_t pa = xsdt ? rd64(root + off) : rd32(root + off);
        const uint8_t *h = pa ? view(pa, ACPI_SDT_HEADER_LEN, ctx) : NULL;
        if (!h) {
            out->tables_unreadable++;
            continue;
        }
        if (memcmp(h, sig, 4) != 0)
            continue;
        if (pa_found)
            out->madt_duplicates += memcmp(sig, "APIC", 4) == 0;
        else
            pa_found = pa;
    }
    if (!pa_found) {
        SAY(out, "%s at 0x%llx lists no %s (\"%s\"); %u of its entries unreadable", root_name,
            (unsigned long long)root_pa, name, sig, out->tables_unreadable);
        return true;
    }
    *table = view_table(view, ctx, pa_found, sig, name, table_len, out);
    if (!*table)
        return false;
    *table_pa = pa_found;
    *found = true;
    return true;
}

bool acpi_read_madt(const void *rsdp, size_t rsdp_len, phys_view_fn view, void *ctx, struct platform_info *out)
{
    memset(out, 0, sizeof *out);
    out->source = "ACPI MADT";
    const uint8_t *madt = NULL;
    uint64_t madt_pa = 0;
    uint32_t madt_len = 0;
    bool found;
    if (!find_table(rsdp, rsdp_len, view, ctx, "APIC", "MADT", out, &madt, &madt_pa, &madt_len, &found))
        return false;
    if (!found)
        return false; /* the error says which root lists no MADT */
    out->madt_pa = madt_pa;
    out->madt_len = madt_len;
    return acpi_parse_madt(madt, madt_len, out);
}

/* MCFG (PCI Firmware Specification 3.2, 4.1.2): 8 reserved bytes after the header, then 16-byte entries. */
#define MCFG_ENTRIES_OFF 44
#define MCFG_ENTRY_LEN 16

bool acpi_parse_mcfg(const uint8_t *mcfg, uint32_t len, struct acpi_ecam *ecam, unsigned max, unsigned *count,
                     struct platform_info *out)
{
    *count = 0;
    if (len < MCFG_ENTRIES_OFF || (len - MCFG_ENTRIES_OFF) % MCFG_ENTRY_LEN != 0)
        return FAIL(out, "MCFG length %u is not its %u-byte header plus 16-byte entries", len,
                    (unsigned)MCFG_ENTRIES_OFF);
    for (uint32_t off = MCFG_ENTRIES_OFF; off < len; off += MCFG_ENTRY_LEN) {
        const uint8_t *e = mcfg + off;
        struct acpi_ecam c = {rd64(e), rd16(e + 8), e[10], e[11]};
        if (c.bus_end < c.bus_start)
            return FAIL(out, "MCFG entry at offset %u: buses %u-%u", off, c.bus_start, c.bus_end);
        if (*count == max)
            return FAIL(out, "MCFG lists more than %u ECAM windows", max);
        ecam[(*count)++] = c;
    }
    return true;
}

bool acpi_read_mcfg(const void *rsdp, size_t rsdp_len, phys_view_fn view, void *ctx, struct acpi_ecam *ecam,
                    unsigned max, unsigned *count, struct platform_info *out)
{
    memset(out, 0, sizeof *out);
    out->source = "ACPI MCFG";
    *count = 0;
    const uint8_t *mcfg = NULL;
    uint64_t pa = 0;
    uint32_t len = 0;
    bool found;
    if (!find_table(rsdp, rsdp_len, view, ctx, "MCFG", "MCFG", out, &mcfg, &pa, &len, &found))
        return false;
    if (!found) {
        out->error[0] = 0; /* no MCFG: no ECAM (PCI configuration through ports 0xcf8/0xcfc only) */
        return true;
    }
    return acpi_parse_mcfg(mcfg, len, ecam, max, count, out);
}

/* FADT (ACPI 6.5 5.2.9, table 5.9): PM1a_CNT_BLK, PM1b_CNT_BLK and the X_PM1a_CNT_BLK Generic Address Structure. */
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68
#define FADT_X_PM1A_CNT_BLK 172 /* GAS (5.2.3.2): space id, bit width, bit offset, access size, 64-bit address */
#define GAS_LEN 12
#define GAS_ADDRESS 4
#define GAS_SPACE_SYSTEM_IO 1
#define IO_PORT_MAX 0xfffe /* a 2-byte control register must fit below port 0xffff */

bool acpi_parse_fadt_pm1(const uint8_t *fadt, uint32_t len, struct acpi_pm1 *pm, struct platform_info *out)
{
    if (len < FADT_PM1B_CNT_BLK + 4)
        return FAIL(out, "FADT length %u ends before PM1b_CNT_BLK", len);
    uint64_t a = rd32(fadt + FADT_PM1A_CNT_BLK), b = rd32(fadt + FADT_PM1B_CNT_BLK);
    /* Hardware-reduced or 64-bit-only firmware may fill just the X_ field, in I/O space. */
    if (!a && len >= FADT_X_PM1A_CNT_BLK + GAS_LEN && fadt[FADT_X_PM1A_CNT_BLK] == GAS_SPACE_SYSTEM_IO)
        a = rd64(fadt + FADT_X_PM1A_CNT_BLK + GAS_ADDRESS);
    if (!a)
        return FAIL(out, "FADT gives no PM1a_CNT_BLK in I/O space");
    if (a > IO_PORT_MAX || b > IO_PORT_MAX)
        return FAIL(out, "FADT PM1 control block ports 0x%llx/0x%llx are not I/O ports", (unsigned long long)a,
                    (unsigned long long)b);
    pm->a_cnt = (uint16_t)a;
    pm->b_cnt = (uint16_t)b;
    return true;
}

bool acpi_read_pm1(const void *rsdp, size_t rsdp_len, phys_view_fn view, void *ctx, struct acpi_pm1 *pm,
                   struct platform_info *out)
{
    memset(out, 0, sizeof *out);
    out->source = "ACPI FADT";
    memset(pm, 0, sizeof *pm);
    const uint8_t *fadt = NULL;
    uint64_t pa = 0;
    uint32_t len = 0;
    bool found;
    if (!find_table(rsdp, rsdp_len, view, ctx, "FACP", "FADT", out, &fadt, &pa, &len, &found) || !found)
        return false;
    return acpi_parse_fadt_pm1(fadt, len, pm, out);
}

/* ------------------------------------------------------------------ MADT */

/* Shared with the MP table parser: records one CPU, refusing a repeated APIC ID. */
void platform_add_cpu(struct platform_info *out, const struct platform_cpu *cpu)
{
    for (unsigned i = 0; i < out->cpu_count; i++) {
        if (out->cpus[i].apic_id == cpu->apic_id) {
            out->cpus_duplicate++;
            return;
        }
    }
    if (out->cpu_count >= PLATFORM_MAX_CPUS) {
        out->cpus_ignored++;
        return;
    }
    out->cpus[out->cpu_count++] = *cpu;
}

void platform_add_ioapic(struct platform_info *out, uint32_t id, uint64_t addr, uint32_t gsi_base)
{
    if (out->ioapic_count >= PLATFORM_MAX_IOAPICS) {
        out->ioapics_ignored++;
        return;
    }
    struct platform_ioapic *io = &out->ioapics[out->ioapic_count++];
    io->id = id;
    io->addr = addr;
    io->gsi_base = gsi_base;
}

static unsigned madt_entry_min_len(uint8_t type)
{
    switch (type) {
    case MADT_LOCAL_APIC: return MADT_LAPIC_LEN;
    case MADT_IO_APIC: return MADT_IOAPIC_LEN;
    case MADT_LAPIC_ADDR_OVERRIDE: return MADT_OVERRIDE_LEN;
    case MADT_LOCAL_X2APIC: return MADT_X2APIC_LEN;
    default: return 2;
    }
}

bool acpi_parse_madt(const uint8_t *madt, uint32_t len, struct platform_info *out)
{
    if (len < ACPI_MADT_ENTRIES_OFF)
        return FAIL(out, "MADT length %u is smaller than its %u-byte header", len, (unsigned)ACPI_MADT_ENTRIES_OFF);
    if (rd32(madt + SDT_LENGTH) != len)
        return FAIL(out, "MADT header says %u bytes, %u given", rd32(madt + SDT_LENGTH), len);
    out->lapic_addr = rd32(madt + MADT_LAPIC_ADDR);
    out->pcat_compat = (rd32(madt + MADT_FLAGS) & MADT_FLAG_PCAT_COMPAT) != 0;

    for (uint32_t off = ACPI_MADT_ENTRIES_OFF; off < len;) {
        if (len - off < 2)
            return FAIL(out, "MADT entry at offset %u: 1 byte left, an entry header has 2", off);
        const uint8_t *e = madt + off;
        uint8_t type = e[0], elen = e[1];
        if (elen < 2)
            return FAIL(out, "MADT entry at offset %u (type %u) has length %u", off, type, elen);
        if (elen > len - off)
            return FAIL(out, "MADT entry at offset %u (type %u, length %u) runs past the table's end at %u", off,
                        type, elen, len);
        if (elen < madt_entry_min_len(type))
            return FAIL(out, "MADT entry at offset %u: type %u needs %u bytes, has length %u", off, type,
                        madt_entry_min_len(type), elen);
        struct platform_cpu cpu = {0};
        switch (type) {
        case MADT_LOCAL_APIC: {
            uint32_t flags = rd32(e + 4);
            cpu.uid = e[2];
            cpu.apic_id = e[3];
            cpu.enabled = (flags & MADT_LAPIC_ENABLED) != 0;
            cpu.online_capable = (flags & MADT_LAPIC_ONLINE_CAPABLE) != 0;
            platform_add_cpu(out, &cpu);
            break;
        }
        case MADT_LOCAL_X2APIC: {
            uint32_t flags = rd32(e + 8);
            cpu.apic_id = rd32(e + 4);
            cpu.uid = rd32(e + 12);
            cpu.enabled = (flags & MADT_LAPIC_ENABLED) != 0;
            cpu.online_capable = (flags & MADT_LAPIC_ONLINE_CAPABLE) != 0;
            cpu.x2apic_entry = true;
            platform_add_cpu(out, &cpu);
            break;
        }
        case MADT_IO_APIC:
            platform_add_ioapic(out, e[2], rd32(e + 4), rd32(e + 8));
            break;
        case MADT_LAPIC_ADDR_OVERRIDE:
            out->lapic_addr = rd64(e + 4);
            break;
        default:
            out->entries_skipped++;
            break;
        }
        off += elen;
    }
    return true;
}

static bool kept(uint32_t apic_id, const uint32_t *keep, unsigned nkeep)
{
    for (unsigned i = 0; i < nkeep; i++)
        if (keep[i] == apic_id)
            return true;
    return false;
}

/* Clears the flag bits in the 32-bit flags at p; true if any was set. */
static bool clear_flags(uint8_t *p, uint32_t bits)
{
    uint32_t f = rd32(p);
    if (!(f & bits))
        return false;
    wr32(p, f & ~bits);
    return true;
}

unsigned acpi_madt_hide_cpus(uint8_t *madt, uint32_t len, const uint32_t *keep, unsigned nkeep)
{
    if (!madt || len < ACPI_MADT_ENTRIES_OFF)
        return 0;
    uint32_t table_len = rd32(madt + SDT_LENGTH);
    if (table_len < ACPI_MADT_ENTRIES_OFF || table_len > len)
        return 0;
    const uint32_t bits = MADT_LAPIC_ENABLED | MADT_LAPIC_ONLINE_CAPABLE;
    unsigned hidden = 0;
    for (uint32_t off = ACPI_MADT_ENTRIES_OFF; table_len - off >= 2;) {
        uint8_t *e = madt + off;
        uint8_t type = e[0], elen = e[1];
        if (elen < 2 || elen > table_len - off || elen < madt_entry_min_len(type))
            break;
        if (type == MADT_LOCAL_APIC && !kept(e[3], keep, nkeep))
            hidden += clear_flags(e + 4, bits);
        else if (type == MADT_LOCAL_X2APIC && !kept(rd32(e + 4), keep, nkeep))
            hidden += clear_flags(e + 8, bits);
        off += elen;
    }
    madt[SDT_CHECKSUM] = 0;
    madt[SDT_CHECKSUM] = (uint8_t)(0u - acpi_checksum(madt, table_len));
    return hidden;
}
