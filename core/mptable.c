/*
 * The Intel MultiProcessor Specification 1.4 tables, for machines whose
 * firmware has no ACPI: the floating pointer structure (4.1) and the base
 * part of the MP configuration table (4.2, 4.3). The extended part is not
 * read: it describes buses, not CPUs or I/O APICs.
 */
#include "nestor/acpi.h"
#include "nestor/fmt.h"
#include "nestor/lib.h"

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

#define SAY(out, ...) ((void)fmt_snprintf((out)->error, sizeof (out)->error, __VA_ARGS__))
#define FAIL(out, ...) (SAY(out, __VA_ARGS__), false)

/* Floating pointer structure (MP 1.4 figure 4-2). */
#define MPFP_CONFIG_PA 4
#define MPFP_LENGTH 8
#define MPFP_FEATURE1 11
#define MPFP_FEATURE2 12
#define MPFP_IMCRP BIT(7)

/* Configuration table header (MP 1.4 table 4-2). */
#define MPC_BASE_LEN 4
#define MPC_CHECKSUM 7
#define MPC_ENTRY_COUNT 34
#define MPC_LAPIC_ADDR 36

/* Base entries (MP 1.4 table 4-3): a processor entry has 20 bytes, the others 8. */
#define MP_PROCESSOR_LEN 20
#define MP_OTHER_LEN 8

#define BDA_EBDA_SEGMENT 0x40e
#define BDA_BASE_MEM_KIB 0x413
#define BASE_MEM_MAX_KIB 640
#define MP_BIOS_BASE 0xf0000
#define MP_BIOS_END 0x100000

/* 0 if the type is not one MP 1.4 defines for the base table. */
static unsigned entry_len(uint8_t type)
{
    switch (type) {
    case MP_ENTRY_PROCESSOR: return MP_PROCESSOR_LEN;
    case MP_ENTRY_BUS:
    case MP_ENTRY_IOAPIC:
    case MP_ENTRY_IO_INTERRUPT:
    case MP_ENTRY_LOCAL_INTERRUPT: return MP_OTHER_LEN;
    default: return 0;
    }
}

/* A floating pointer at pa with a good signature, length and checksum? */
static const uint8_t *mpfp_at(phys_view_fn view, void *ctx, uint64_t pa, struct platform_info *out)
{
    const uint8_t *fp = view(pa, MP_FLOATING_LEN, ctx);
    if (!fp) {
        if (out)
            SAY(out, "MP floating pointer at 0x%llx is not readable", (unsigned long long)pa);
        return NULL;
    }
    if (memcmp(fp, "_MP_", 4) != 0) {
        if (out)
            SAY(out, "MP floating pointer at 0x%llx: signature is not \"_MP_\"", (unsigned long long)pa);
        return NULL;
    }
    unsigned len = fp[MPFP_LENGTH] * 16u;
    if (len < MP_FLOATING_LEN) {
        if (out)
            SAY(out, "MP floating pointer at 0x%llx: length %u paragraphs", (unsigned long long)pa,
                 fp[MPFP_LENGTH]);
        return NULL;
    }
    const uint8_t *all = view(pa, len, ctx);
    if (!all) {
        if (out)
            SAY(out, "MP floating pointer at 0x%llx: its %u bytes run into unreadable memory",
                 (unsigned long long)pa, len);
        return NULL;
    }
    if (acpi_checksum(all, len) != 0) {
        if (out)
            SAY(out, "MP floating pointer at 0x%llx: checksum over %u bytes is 0x%02x, not 0",
                 (unsigned long long)pa, len, acpi_checksum(all, len));
        return NULL;
    }
    return all;
}

static bool mpfp_search(phys_view_fn view, void *ctx, uint64_t base, uint64_t end, uint64_t *found)
{
    for (uint64_t pa = base; pa < end; pa += 16) {
        if (mpfp_at(view, ctx, pa, NULL)) {
            *found = pa;
            return true;
        }
    }
    return false;
}

bool mptable_scan(phys_view_fn view, void *ctx, uint64_t *mpfp_pa)
{
    const uint8_t *seg = view(BDA_EBDA_SEGMENT, 2, ctx);
    uint64_t ebda = seg ? (uint64_t)rd16(seg) << 4 : 0;
    if (ebda && mpfp_search(view, ctx, ebda, ebda + 1024, mpfp_pa))
        return true;
    const uint8_t *kib = view(BDA_BASE_MEM_KIB, 2, ctx);
    if (kib) {
        uint64_t top = (uint64_t)rd16(kib) * 1024;
        if (top >= 1024 && top <= BASE_MEM_MAX_KIB * 1024 && top - 1024 != ebda &&
            mpfp_search(view, ctx, top - 1024, top, mpfp_pa))
            return true;
    }
    return mpfp_search(view, ctx, MP_BIOS_BASE, MP_BIOS_END, mpfp_pa);
}

bool mptable_read(phys_view_fn view, void *ctx, uint64_t mpfp_pa, struct platform_info *out)
{
    memset(out, 0, sizeof *out);
    out->source = "MP table";
    const uint8_t *fp = mpfp_at(view, ctx, mpfp_pa, out);
    if (!fp)
        return false;
    /* MP 1.4 4.1: a non-zero feature byte 1 names a default configuration and there is no table. */
    if (fp[MPFP_FEATURE1] != 0)
        return FAIL(out, "MP floating pointer at 0x%llx names default configuration %u, which is not supported",
                    (unsigned long long)mpfp_pa, fp[MPFP_FEATURE1]);
    uint64_t pa = rd32(fp + MPFP_CONFIG_PA);
    if (!pa)
        return FAIL(out, "MP floating pointer at 0x%llx has no configuration table", (unsigned long long)mpfp_pa);
    out->imcr_present = (fp[MPFP_FEATURE2] & MPFP_IMCRP) != 0;

    const uint8_t *h = view(pa, MP_CONFIG_HEADER_LEN, ctx);
    if (!h)
        return FAIL(out, "MP configuration table at 0x%llx is not readable", (unsigned long long)pa);
    if (memcmp(h, "PCMP", 4) != 0)
        return FAIL(out, "MP configuration table at 0x%llx: signature is not \"PCMP\"", (unsigned long long)pa);
    uint16_t len = rd16(h + MPC_BASE_LEN);
    if (len < MP_CONFIG_HEADER_LEN)
        return FAIL(out, "MP configuration table at 0x%llx: length %u is smaller than its %u-byte header",
                    (unsigned long long)pa, len, (unsigned)MP_CONFIG_HEADER_LEN);
    const uint8_t *t = view(pa, len, ctx);
    if (!t)
        return FAIL(out, "MP configuration table at 0x%llx: its %u bytes run into unreadable memory",
                    (unsigned long long)pa, len);
    if (acpi_checksum(t, len) != 0)
        return FAIL(out, "MP configuration table at 0x%llx: checksum over %u bytes is 0x%02x, not 0",
                    (unsigned long long)pa, len, acpi_checksum(t, len));
    out->mpc_pa = pa;
    out->mpc_len = len;
    return mptable_parse(t, len, out);
}

bool mptable_parse(const uint8_t *mpc, uint32_t len, struct platform_info *out)
{
    if (!out->source)
        out->source = "MP table";
    if (len < MP_CONFIG_HEADER_LEN)
        return FAIL(out, "MP configuration table: %u bytes, smaller than its %u-byte header", len,
                    (unsigned)MP_CONFIG_HEADER_LEN);
    uint32_t base_len = rd16(mpc + MPC_BASE_LEN);
    if (base_len < MP_CONFIG_HEADER_LEN || base_len > len)
        return FAIL(out, "MP configuration table: base length %u is outside [%u, %u bytes given]", base_len,
                    (unsigned)MP_CONFIG_HEADER_LEN, len);
    out->lapic_addr = rd32(mpc + MPC_LAPIC_ADDR);
    out->pcat_compat = true; /* MP 1.4 3.6.2: every MP system keeps the PC/AT 8259 pair */

    unsigned count = rd16(mpc + MPC_ENTRY_COUNT);
    uint32_t off = MP_CONFIG_HEADER_LEN;
    for (unsigned i = 0; i < count; i++) {
        if (off >= base_len)
            return FAIL(out, "MP entry %u of %u would start at offset %u, past the base table's %u bytes", i, count,
                        off, base_len);
        const uint8_t *e = mpc + off;
        unsigned elen = entry_len(e[0]);
        if (!elen)
            return FAIL(out, "MP entry %u at offset %u has unknown type %u", i, off, e[0]);
        if (elen > base_len - off)
            return FAIL(out, "MP entry %u at offset %u (type %u, %u bytes) runs past the base table's %u bytes", i,
                        off, e[0], elen, base_len);
        if (e[0] == MP_ENTRY_PROCESSOR) {
            struct platform_cpu cpu = {0};
            cpu.apic_id = e[1];
            cpu.uid = e[1];
            cpu.enabled = cpu.online_capable = (e[3] & MP_CPU_ENABLED) != 0;
            cpu.bsp = (e[3] & MP_CPU_BSP) != 0;
            platform_add_cpu(out, &cpu);
        } else if (e[0] == MP_ENTRY_IOAPIC) {
            if (e[3] & MP_IOAPIC_ENABLED)
                platform_add_ioapic(out, e[1], rd32(e + 4), 0);
            else
                out->ioapics_disabled++;
        }
        off += elen;
    }
    return true;
}

unsigned mptable_hide_cpus(uint8_t *mpc, uint32_t len, const uint32_t *keep, unsigned nkeep)
{
    if (!mpc || len < MP_CONFIG_HEADER_LEN)
        return 0;
    uint32_t base_len = rd16(mpc + MPC_BASE_LEN);
    if (base_len < MP_CONFIG_HEADER_LEN || base_len > len)
        return 0;
    unsigned count = rd16(mpc + MPC_ENTRY_COUNT), hidden = 0;
    uint32_t off = MP_CONFIG_HEADER_LEN;
    for (unsigned i = 0; i < count && off < base_len; i++) {
        uint8_t *e = mpc + off;
        unsigned elen = entry_len(e[0]);
        if (!elen || elen > base_len - off)
            break;
        if (e[0] == MP_ENTRY_PROCESSOR && (e[3] & MP_CPU_ENABLED)) {
            bool keep_it = false;
            for (unsigned k = 0; k < nkeep; k++)
                keep_it = keep_it || keep[k] == e[1];
            if (!keep_it) {
                e[3] &= (uint8_t)~MP_CPU_ENABLED;
                hidden++;
            }
        }
        off += elen;
    }
    mpc[MPC_CHECKSUM] = 0;
    mpc[MPC_CHECKSUM] = (uint8_t)(0u - acpi_checksum(mpc, base_len));
    return hidden;
}
