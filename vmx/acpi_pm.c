/* See vmx/acpi_pm.h. */
#include "acpi_pm.h"
#include "nestor/lib.h"

#define BIOS_AREA_START 0xe0000u
#define BIOS_AREA_END 0x100000u
#define SDT_HEADER_LEN 36u
#define FADT_PM1A_CNT_BLK 64u
#define FADT_PM1B_CNT_BLK 68u
#define FADT_X_PM1A_CNT_BLK 172u /* Generic Address Structure: space id, width, offset, size, address */
#define GAS_SYSTEM_IO 1u

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static bool checksum_ok(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum == 0;
}

/* A whole system description table at pa with the given signature, checksum verified. */
static const uint8_t *table_at(acpi_phys_read_fn read, void *ctx, uint64_t pa, const char *sig, uint32_t *len)
{
    const uint8_t *h = read(pa, SDT_HEADER_LEN, ctx);
    if (!h || memcmp(h, sig, 4) != 0)
        return NULL;
    *len = le32(h + 4);
    if (*len < SDT_HEADER_LEN || *len > 0x100000)
        return NULL;
    const uint8_t *t = read(pa, *len, ctx);
    return t && checksum_ok(t, *len) ? t : NULL;
}

static bool fadt_ports(const uint8_t *f, uint32_t len, struct acpi_pm_ports *out)
{
    if (len < FADT_PM1B_CNT_BLK + 4)
        return false;
    uint32_t a = le32(f + FADT_PM1A_CNT_BLK), b = le32(f + FADT_PM1B_CNT_BLK);
    if (!a && len >= FADT_X_PM1A_CNT_BLK + 12 && f[FADT_X_PM1A_CNT_BLK] == GAS_SYSTEM_IO)
        a = (uint32_t)le64(f + FADT_X_PM1A_CNT_BLK + 4);
    if (!a || a > 0xfffe || b > 0xfffe)
        return false;
    out->pm1a_cnt = (uint16_t)a;
    out->pm1b_cnt = (uint16_t)b;
    return true;
}

bool acpi_find_pm_ports(acpi_phys_read_fn read, void *ctx, struct acpi_pm_ports *out)
{
    uint32_t rsdp_pa = 0;
    for (uint32_t pa = BIOS_AREA_START; pa < BIOS_AREA_END && !rsdp_pa; pa += 16) {
        const uint8_t *p = read(pa, 20, ctx);
        if (p && memcmp(p, "RSD PTR ", 8) == 0 && checksum_ok(p, 20))
            rsdp_pa = pa;
    }
    if (!rsdp_pa)
        return false;
    const uint8_t *rsdp = read(rsdp_pa, 20, ctx);
    uint64_t rsdt = le32(rsdp + 16), xsdt = 0;
    if (rsdp[15] >= 2) { /* ACPI 2.0+: a 36-byte RSDP with the XSDT, under its own checksum */
        const uint8_t *r2 = read(rsdp_pa, 36, ctx);
        if (r2 && checksum_ok(r2, 36))
            xsdt = le64(r2 + 24);
    }
    uint32_t len;
    const uint8_t *sdt = xsdt ? table_at(read, ctx, xsdt, "XSDT", &len) : NULL;
    unsigned entry = 8;
    if (!sdt) {
        sdt = table_at(read, ctx, rsdt, "RSDT", &len);
        entry = 4;
    }
    if (!sdt)
        return false;
    /* Copy the entry addresses first: the reader may hand out one buffer at a time. */
    uint64_t addrs[64];
    unsigned n = 0;
    for (uint32_t off = SDT_HEADER_LEN; off + entry <= len && n < ARRAY_SIZE(addrs); off += entry)
        addrs[n++] = entry == 8 ? le64(sdt + off) : le32(sdt + off);
    for (unsigned i = 0; i < n; i++) {
        uint32_t flen;
        const uint8_t *f = table_at(read, ctx, addrs[i], "FACP", &flen);
        if (f)
            return fadt_ports(f, flen, out);
    }
    return false;
}
