/* core/acpi.c and core/mptable.c: RSDP, RSDT/XSDT, MADT and MP tables over fake physical memory. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "nestor/acpi.h"

/* ------------------------------------------------------------------ fake physical memory */

/*
 * Physical [0, PHYS_SIZE) is a zeroed buffer, except [hole_lo, hole_hi) which
 * reads as not readable. Every view is a fresh heap block of exactly the bytes
 * asked for, so AddressSanitizer catches a parser reading past what it viewed.
 */
#define PHYS_SIZE (4u << 20)
static uint8_t *phys;
static uint64_t hole_lo, hole_hi;
static void **views;
static size_t nviews, views_cap;

static const void *view(uint64_t pa, size_t len, void *ctx)
{
    (void)ctx;
    if (pa >= PHYS_SIZE || len > PHYS_SIZE - pa)
        return NULL;
    if (pa < hole_hi && pa + len > hole_lo)
        return NULL;
    if (nviews == views_cap) {
        views_cap = views_cap ? 2 * views_cap : 1024;
        views = realloc(views, views_cap * sizeof *views);
        assert_non_null(views);
    }
    uint8_t *v = exact_copy(phys + pa, len);
    views[nviews++] = v;
    return v;
}

static int setup(void **state)
{
    (void)state;
    phys = calloc(1, PHYS_SIZE);
    hole_lo = hole_hi = 0;
    nviews = 0;
    return phys ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < nviews; i++)
        free(views[i]);
    free(views);
    views = NULL;
    nviews = views_cap = 0;
    free(phys);
    return 0;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

/* ------------------------------------------------------------------ builders */

#define RSDP_PA 0xe0040u
#define XSDT_PA 0x200000u
#define RSDT_PA 0x201000u
#define MADT_PA 0x202000u
#define FACP_PA 0x203000u

/* Writes an RSDP at p: revision 0 (20 bytes) or 2 (36 bytes), checksums right. Returns its length. */
static size_t make_rsdp(uint8_t *p, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    memset(p, 0, 36);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "NESTOR", 6);
    p[15] = rev;
    put32(p + 16, rsdt);
    if (rev >= 2) {
        put32(p + 20, 36);
        put64(p + 24, xsdt);
    }
    p[8] = (uint8_t)(0u - sum(p, 20));
    if (rev >= 2)
        p[32] = (uint8_t)(0u - sum(p, 36));
    return rev >= 2 ? 36 : 20;
}

struct table {
    uint8_t b[8192];
    uint32_t len;
};

static void sdt_begin(struct table *t, const char *sig)
{
    memset(t, 0, sizeof *t);
    memcpy(t->b, sig, 4);
    t->b[8] = 1;
    memcpy(t->b + 10, "NESTOR", 6);
    t->len = 36;
}

/* Sets the length and checksum and copies the table to physical pa. */
static void sdt_place(struct table *t, uint64_t pa)
{
    put32(t->b + 4, t->len);
    t->b[9] = 0;
    t->b[9] = (uint8_t)(0u - sum(t->b, t->len));
    memcpy(phys + pa, t->b, t->len);
}

static void put_bytes(struct table *t, const void *p, size_t n)
{
    memcpy(t->b + t->len, p, n);
    t->len += (uint32_t)n;
}

static void madt_begin(struct table *t, uint32_t lapic, uint32_t flags)
{
    sdt_begin(t, "APIC");
    uint8_t body[8];
    put32(body, lapic);
    put32(body + 4, flags);
    put_bytes(t, body, 8);
}

static void madt_lapic(struct table *t, uint8_t uid, uint8_t id, uint32_t flags)
{
    uint8_t e[8] = {0, 8, uid, id};
    put32(e + 4, flags);
    put_bytes(t, e, 8);
}

static void madt_ioapic(struct table *t, uint8_t id, uint32_t addr, uint32_t gsi)
{
    uint8_t e[12] = {1, 12, id, 0};
    put32(e + 4, addr);
    put32(e + 8, gsi);
    put_bytes(t, e, 12);
}

static void madt_override(struct table *t, uint64_t addr)
{
    uint8_t e[12] = {5, 12};
    put64(e + 4, addr);
    put_bytes(t, e, 12);
}

static void madt_x2apic(struct table *t, uint32_t id, uint32_t flags, uint32_t uid)
{
    uint8_t e[16] = {9, 16};
    put32(e + 4, id);
    put32(e + 8, flags);
    put32(e + 12, uid);
    put_bytes(t, e, 16);
}

/* An interrupt source override (type 2, 10 bytes): parsed by nobody here, skipped by length. */
static void madt_iso(struct table *t)
{
    uint8_t e[10] = {2, 10, 0, 0, 2, 0, 0, 0, 0, 0};
    put_bytes(t, e, 10);
}

static void root_entry(struct table *t, bool xsdt, uint64_t pa)
{
    uint8_t e[8];
    put64(e, pa);
    put_bytes(t, e, xsdt ? 8 : 4);
}

/* A FACP-signed dummy table, so the root lists something besides the MADT. */
static void place_facp(void)
{
    struct table t;
    sdt_begin(&t, "FACP");
    t.len = 116;
    sdt_place(&t, FACP_PA);
}

/* A root table (XSDT if xsdt) listing FACP then MADT, placed at its address. */
static void place_root(bool xsdt)
{
    struct table t;
    sdt_begin(&t, xsdt ? "XSDT" : "RSDT");
    root_entry(&t, xsdt, FACP_PA);
    root_entry(&t, xsdt, MADT_PA);
    sdt_place(&t, xsdt ? XSDT_PA : RSDT_PA);
    place_facp();
}

/* The Bochs-like MADT most tests start from: BSP + AP + an x2APIC CPU, one I/O APIC, an ISO. */
static void standard_madt(struct table *t)
{
    madt_begin(t, 0xfee00000u, 1);
    madt_lapic(t, 0, 0, 1);
    madt_lapic(t, 1, 1, 1);
    madt_ioapic(t, 2, 0xfec00000u, 0);
    madt_iso(t);
    madt_x2apic(t, 300, 2, 7);
}

static bool read_madt(uint8_t rev, struct platform_info *pi)
{
    uint8_t rsdp[36];
    size_t n = make_rsdp(rsdp, rev, RSDT_PA, rev >= 2 ? XSDT_PA : 0);
    bool ok = acpi_read_madt(rsdp, n, view, NULL, pi);
    if (!ok)
        print_message("error: %s\n", pi->error);
    return ok;
}

/* Places a MADT built by the caller and the roots, then reads through an XSDT; expects failure naming `needle`. */
static void expect_madt_error(struct table *m, const char *needle)
{
    place_root(true);
    sdt_place(m, MADT_PA);
    struct platform_info pi;
    uint8_t rsdp[36];
    make_rsdp(rsdp, 2, RSDT_PA, XSDT_PA);
    assert_false(acpi_read_madt(rsdp, 36, view, NULL, &pi));
    assert_str_contains(pi.error, needle);
}

/* ------------------------------------------------------------------ RSDP */

TEST(rsdp_v1_and_v2_valid)
{
    uint8_t r[36];
    char why[96];
    assert_true(acpi_rsdp_valid(r, make_rsdp(r, 0, 0x1000, 0), why, sizeof why));
    assert_string_equal(why, "");
    assert_true(acpi_rsdp_valid(r, make_rsdp(r, 2, 0x1000, 0x2000), why, sizeof why));
    /* GRUB's old-ACPI tag copies 20 bytes; more bytes given is fine. */
    make_rsdp(r, 0, 0x1000, 0);
    assert_true(acpi_rsdp_valid(r, 36, why, sizeof why));
    assert_true(acpi_rsdp_valid(r, 20, NULL, 0));
}

TEST(rsdp_invalid_each_reason)
{
    uint8_t r[36];
    char why[96];
    uint8_t *exact;

    make_rsdp(r, 0, 0x1000, 0);
    exact = exact_copy(r, 19);
    assert_false(acpi_rsdp_valid(exact, 19, why, sizeof why));
    assert_str_contains(why, "RSDP truncated: 19 bytes");
    free(exact);
    assert_false(acpi_rsdp_valid(NULL, 36, why, sizeof why));

    make_rsdp(r, 0, 0x1000, 0);
    r[0] = 'X';
    assert_false(acpi_rsdp_valid(r, 20, why, sizeof why));
    assert_str_contains(why, "signature");

    make_rsdp(r, 0, 0x1000, 0);
    r[16] ^= 1;
    assert_false(acpi_rsdp_valid(r, 20, why, sizeof why));
    assert_str_contains(why, "checksum over its first 20 bytes is 0x01");

    /* Revision 2 given only the 20 bytes of a v1 copy. */
    make_rsdp(r, 2, 0x1000, 0x2000);
    exact = exact_copy(r, 20);
    assert_false(acpi_rsdp_valid(exact, 20, why, sizeof why));
    assert_str_contains(why, "revision 2 truncated");
    free(exact);

    make_rsdp(r, 2, 0x1000, 0x2000);
    r[28] ^= 0x80; /* XSDT address, covered only by the extended checksum */
    assert_false(acpi_rsdp_valid(r, 36, why, sizeof why));
    assert_str_contains(why, "extended checksum over 36 bytes");

    /* Lengths below 36 or beyond what was given: fix both checksums so only the length is wrong. */
    uint32_t bad_len[] = {20, 35, 37, 0xffffffffu};
    for (unsigned i = 0; i < ARRAY_SIZE(bad_len); i++) {
        make_rsdp(r, 2, 0x1000, 0x2000);
        put32(r + 20, bad_len[i]);
        r[32] = 0;
        r[32] = (uint8_t)(0u - sum(r, 36));
        assert_false(acpi_rsdp_valid(r, 36, why, sizeof why));
        assert_str_contains(why, "RSDP length");
    }

    /* A tiny why buffer is still terminated. */
    char small[4];
    r[0] = 'X';
    assert_false(acpi_rsdp_valid(r, 36, small, sizeof small));
    assert_int_equal(strlen(small), 3);
}

/* ------------------------------------------------------------------ RSDP scan */

TEST(rsdp_scan_rom_area)
{
    uint64_t pa = 0;
    assert_false(acpi_rsdp_scan(view, NULL, &pa));
    make_rsdp(phys + 0xf5a30, 2, 0x1000, 0x2000);
    assert_true(acpi_rsdp_scan(view, NULL, &pa));
    assert_int_equal(pa, 0xf5a30);
}

TEST(rsdp_scan_ebda_first)
{
    uint64_t pa = 0;
    put16(phys + 0x40e, 0x9fc0);
    make_rsdp(phys + 0xe0000, 0, 0x1000, 0);
    make_rsdp(phys + 0x9fc00 + 0x3f0, 0, 0x1000, 0); /* last slot of the EBDA's first KiB */
    assert_true(acpi_rsdp_scan(view, NULL, &pa));
    assert_int_equal(pa, 0x9fff0);
    /* Beyond the first KiB of the EBDA: not searched. */
    memset(phys + 0x9fff0, 0, 16);
    make_rsdp(phys + 0x9fc00 + 0x400, 0, 0x1000, 0);
    assert_true(acpi_rsdp_scan(view, NULL, &pa));
    assert_int_equal(pa, 0xe0000);
}

TEST(rsdp_scan_skips_bad_and_unaligned)
{
    uint64_t pa = 0;
    make_rsdp(phys + 0xe0008, 0, 0x1000, 0); /* not on a 16-byte boundary */
    make_rsdp(phys + 0xe1000, 0, 0x1000, 0);
    phys[0xe1000 + 16] ^= 1; /* v1 checksum wrong */
    make_rsdp(phys + 0xe2000, 2, 0x1000, 0x2000);
    phys[0xe2000 + 28] ^= 1; /* extended checksum wrong */
    make_rsdp(phys + 0xe3000, 2, 0x1000, 0x2000);
    put32(phys + 0xe3000 + 20, 0x10000000u); /* absurd length */
    phys[0xe3000 + 8] = 0;
    phys[0xe3000 + 8] = (uint8_t)(0u - sum(phys + 0xe3000, 20));
    assert_false(acpi_rsdp_scan(view, NULL, &pa));
    make_rsdp(phys + 0xfffe0, 0, 0x1000, 0);
    assert_true(acpi_rsdp_scan(view, NULL, &pa));
    assert_int_equal(pa, 0xfffe0);
}

TEST(rsdp_scan_without_bda)
{
    uint64_t pa = 0;
    hole_lo = 0;
    hole_hi = 0x1000; /* the BDA is not readable */
    make_rsdp(phys + 0xe0010, 0, 0x1000, 0);
    assert_true(acpi_rsdp_scan(view, NULL, &pa));
    assert_int_equal(pa, 0xe0010);
    /* Nor the ROM area: nothing found, nothing crashed. */
    hole_hi = 0x100000;
    assert_false(acpi_rsdp_scan(view, NULL, &pa));
}

/* ------------------------------------------------------------------ MADT through the root tables */

static void check_standard(const struct platform_info *pi)
{
    assert_string_equal(pi->source, "ACPI MADT");
    assert_int_equal(pi->madt_pa, MADT_PA);
    assert_int_equal(pi->lapic_addr, 0xfee00000u);
    assert_true(pi->pcat_compat);
    assert_int_equal(pi->cpu_count, 3);
    assert_int_equal(pi->cpus[0].apic_id, 0);
    assert_true(pi->cpus[0].enabled);
    assert_false(pi->cpus[0].online_capable);
    assert_false(pi->cpus[0].x2apic_entry);
    assert_int_equal(pi->cpus[1].apic_id, 1);
    assert_int_equal(pi->cpus[1].uid, 1);
    assert_int_equal(pi->cpus[2].apic_id, 300);
    assert_int_equal(pi->cpus[2].uid, 7);
    assert_false(pi->cpus[2].enabled);
    assert_true(pi->cpus[2].online_capable);
    assert_true(pi->cpus[2].x2apic_entry);
    assert_int_equal(pi->ioapic_count, 1);
    assert_int_equal(pi->ioapics[0].id, 2);
    assert_int_equal(pi->ioapics[0].addr, 0xfec00000u);
    assert_int_equal(pi->ioapics[0].gsi_base, 0);
    assert_int_equal(pi->entries_skipped, 1);
    assert_int_equal(pi->cpus_ignored, 0);
    assert_int_equal(pi->cpus_duplicate, 0);
    assert_string_equal(pi->error, "");
}

TEST(madt_through_xsdt)
{
    struct table m;
    standard_madt(&m);
    sdt_place(&m, MADT_PA);
    place_root(true);
    struct platform_info pi;
    assert_true(read_madt(2, &pi));
    check_standard(&pi);
    assert_int_equal(pi.madt_len, m.len);
    assert_int_equal(pi.acpi_revision, 2);
}

TEST(madt_through_rsdt)
{
    struct table m;
    standard_madt(&m);
    sdt_place(&m, MADT_PA);
    place_root(false);
    struct platform_info pi;
    assert_true(read_madt(0, &pi));
    check_standard(&pi);
    assert_int_equal(pi.acpi_revision, 0);

    /* Revision 2 without an XSDT address falls back to the RSDT. */
    uint8_t r[36];
    make_rsdp(r, 2, RSDT_PA, 0);
    assert_true(acpi_read_madt(r, 36, view, NULL, &pi));
    check_standard(&pi);
}

/* GRUB's old-ACPI tag: the first 20 bytes of a revision 2 RSDP. Its RSDT is used. */
TEST(madt_from_20_byte_copy_of_v2_rsdp)
{
    struct table m;
    standard_madt(&m);
    sdt_place(&m, MADT_PA);
    place_root(false);
    uint8_t r[36];
    make_rsdp(r, 2, RSDT_PA, 0x7000000000ull); /* an XSDT that would not be readable */
    uint8_t *copy = exact_copy(r, 20);
    struct platform_info pi;
    assert_true(acpi_read_madt(copy, 20, view, NULL, &pi));
    check_standard(&pi);
    assert_int_equal(pi.acpi_revision, 2);
    /* Its v1 checksum is still checked. */
    copy[16] ^= 1;
    assert_false(acpi_read_madt(copy, 20, view, NULL, &pi));
    assert_str_contains(pi.error, "checksum over its first 20 bytes");
    free(copy);
    /* acpi_rsdp_valid itself stays strict. */
    assert_false(acpi_rsdp_valid(r, 20, NULL, 0));
}

TEST(madt_rsdp_viewed_in_memory)
{
    struct table m;
    standard_madt(&m);
    sdt_place(&m, MADT_PA);
    place_root(true);
    make_rsdp(phys + RSDP_PA, 2, RSDT_PA, XSDT_PA);
    uint64_t pa;
    assert_true(acpi_rsdp_scan(view, NULL, &pa));
    struct platform_info pi;
    assert_true(acpi_read_madt(view(pa, 36, NULL), 36, view, NULL, &pi));
    check_standard(&pi);
}

TEST(madt_lapic_override_and_flags)
{
    struct table m;
    madt_begin(&m, 0xfee00000u, 0);
    madt_lapic(&m, 0, 0, 1);
    madt_override(&m, 0x1234567000ull);
    sdt_place(&m, MADT_PA);
    place_root(true);
    struct platform_info pi;
    assert_true(read_madt(2, &pi));
    assert_int_equal(pi.lapic_addr, 0x1234567000ull);
    assert_false(pi.pcat_compat);
}

TEST(madt_bad_rsdp)
{
    uint8_t r[36];
    make_rsdp(r, 2, RSDT_PA, XSDT_PA);
    r[0] = 'r';
    struct platform_info pi;
    assert_false(acpi_read_madt(r, 36, view, NULL, &pi));
    assert_str_contains(pi.error, "RSDP signature");
}

TEST(root_table_errors)
{
    struct table m, x;
    standard_madt(&m);
    sdt_place(&m, MADT_PA);
    struct platform_info pi;

    /* No root at all (zero memory at its address). */
    assert_false(read_madt(2, &pi));
    assert_str_contains(pi.error, "XSDT at 0x200000: signature is not \"XSDT\"");

    /* Bad checksum. */
    place_root(true);
    phys[XSDT_PA + 40] ^= 1;
    assert_false(read_madt(2, &pi));
    assert_str_contains(pi.error, "XSDT at 0x200000: checksum over 52 bytes is 0x01, not 0");

    /* Length smaller than the header. */
    sdt_begin(&x, "XSDT");
    sdt_place(&x, XSDT_PA);
    put32(phys + XSDT_PA + 4, 20);
    assert_false(read_madt(2, &pi));
    assert_str_contains(pi.error, "length 20 is smaller than its 36-byte header");

    /* Length leaving half an entry. */
    sdt_begin(&x, "XSDT");
    root_entry(&x, true, MADT_PA);
    x.len += 4;
    sdt_place(&x, XSDT_PA);
    assert_false(read_madt(2, &pi));
    assert_str_contains(pi.error, "partial 8-byte entry");

    /* Length running into unreadable memory. */
    sdt_begin(&x, "XSDT");
    root_entry(&x, true, MADT_PA);
    sdt_place(&x, XSDT_PA);
    put32(phys + XSDT_PA + 4, 4096);
    hole_lo = XSDT_PA + 2048;
    hole_hi = XSDT_PA + 4096;
    assert_false(read_madt(2, &pi));
    assert_str_contains(pi.error, "its 4096 bytes run into unreadable memory");
    hole_lo = hole_hi = 0;

    /* Absurd length. */
    put32(phys + XSDT_PA + 4, 0xfffffff0u);
    assert_false(read_madt(2, &pi));
    assert_str_contains(pi.error, "more than the");

    /* Root address outside memory, and 0. */
    uint8_t r[36];
    make_rsdp(r, 2, RSDT_PA, 0x7000000000ull);
    assert_false(acpi_read_madt(r, 36, view, NULL, &pi));
    assert_str_contains(pi.error, "XSDT at 0x7000000000 is not readable");
    make_rsdp(r, 0, 0, 0);
    assert_false(acpi_read_madt(r, 20, view, NULL, &pi));
    assert_str_contains(pi.error, "RSDT address is 0");
}

TEST(root_entries_unreadable_or_missing_madt)
{
    struct table m, x;
    standard_madt(&m);
    sdt_place(&m, MADT_PA);
    place_facp();
    sdt_begin(&x, "XSDT");
    root_entry(&x, true, 0);
    root_entry(&x, true, 0xffffffffffff0000ull);
    root_entry(&x, true, PHYS_SIZE - 8); /* header would run off the end */
    root_entry(&x, true, FACP_PA);
    root_entry(&x, true, MADT_PA);
    sdt_place(&x, XSDT_PA);
    struct platform_info pi;
    assert_true(read_madt(2, &pi));
    check_standard(&pi);
    assert_int_equal(pi.tables_unreadable, 3);

    /* Without the MADT entry: a clear error that counts the unreadable ones. */
    x.len -= 8;
    sdt_place(&x, XSDT_PA);
    assert_false(read_madt(2, &pi));
    assert_str_contains(pi.error, "lists no MADT (\"APIC\"); 3 of its entries unreadable");

    /* An RSDT (revision 0) the same way. */
    struct table rs;
    sdt_begin(&rs, "RSDT");
    root_entry(&rs, false, 0xfffff000u);
    root_entry(&rs, false, FACP_PA);
    sdt_place(&rs, RSDT_PA);
    assert_false(read_madt(0, &pi));
    assert_str_contains(pi.error, "RSDT at 0x201000 lists no MADT");
}

TEST(xsdt_lists_madt_repeatedly)
{
    struct table m, x;
    standard_madt(&m);
    sdt_place(&m, MADT_PA);
    sdt_begin(&x, "XSDT");
    for (int i = 0; i < 1000; i++)
        root_entry(&x, true, MADT_PA);
    sdt_place(&x, XSDT_PA);
    struct platform_info pi;
    size_t before = nviews;
    assert_true(read_madt(2, &pi));
    check_standard(&pi);
    assert_int_equal(pi.madt_duplicates, 999);
    /* One header view per entry, plus a bounded few: no re-parsing per duplicate. */
    assert_true(nviews - before <= 1000 + 8);
}

TEST(madt_table_errors)
{
    struct table m;
    struct platform_info pi;

    standard_madt(&m);
    place_root(true);
    sdt_place(&m, MADT_PA);
    phys[MADT_PA + 50] ^= 0x10;
    assert_false(read_madt(2, &pi));
    assert_str_contains(pi.error, "MADT at 0x202000: checksum over");

    /* Length below the SDT header. */
    madt_begin(&m, 0xfee00000u, 1);
    sdt_place(&m, MADT_PA);
    put32(phys + MADT_PA + 4, 8);
    assert_false(read_madt(2, &pi));
    assert_str_contains(pi.error, "MADT at 0x202000: length 8 is smaller than its 36-byte header");

    /* A valid SDT too short for the MADT's own fields. */
    sdt_begin(&m, "APIC");
    m.len = 40;
    expect_madt_error(&m, "MADT length 40 is smaller than its 44-byte header");

    /* The MADT's length runs into unreadable memory. */
    standard_madt(&m);
    sdt_place(&m, MADT_PA);
    hole_lo = MADT_PA + 60;
    hole_hi = MADT_PA + 4096;
    assert_false(read_madt(2, &pi));
    assert_str_contains(pi.error, "MADT at 0x202000: its");
    assert_str_contains(pi.error, "run into unreadable memory");
}

TEST(madt_entry_errors)
{
    struct table m;

    /* Length 0: would loop forever if followed. */
    madt_begin(&m, 0xfee00000u, 1);
    madt_lapic(&m, 0, 0, 1);
    put_bytes(&m, (uint8_t[]){2, 0, 0, 0}, 4);
    expect_madt_error(&m, "MADT entry at offset 52 (type 2) has length 0");

    madt_begin(&m, 0xfee00000u, 1);
    put_bytes(&m, (uint8_t[]){0x7f, 1}, 2);
    expect_madt_error(&m, "MADT entry at offset 44 (type 127) has length 1");

    /* Running past the end. */
    madt_begin(&m, 0xfee00000u, 1);
    madt_lapic(&m, 0, 0, 1);
    put_bytes(&m, (uint8_t[]){1, 12, 2, 0, 0, 0}, 6);
    expect_madt_error(&m, "MADT entry at offset 52 (type 1, length 12) runs past the table's end at 58");

    /* One stray byte at the end. */
    madt_begin(&m, 0xfee00000u, 1);
    madt_lapic(&m, 0, 0, 1);
    put_bytes(&m, (uint8_t[]){0}, 1);
    expect_madt_error(&m, "MADT entry at offset 52: 1 byte left");

    /* Known types shorter than their layout. */
    uint8_t shorts[][2] = {{0, 6}, {1, 8}, {5, 10}, {9, 12}};
    for (unsigned i = 0; i < ARRAY_SIZE(shorts); i++) {
        madt_begin(&m, 0xfee00000u, 1);
        uint8_t e[16] = {shorts[i][0], shorts[i][1]};
        put_bytes(&m, e, shorts[i][1]);
        char needle[64];
        snprintf(needle, sizeof needle, "type %u needs", shorts[i][0]);
        expect_madt_error(&m, needle);
    }
}

TEST(madt_longer_entries_and_unknown_types_skipped)
{
    struct table m;
    madt_begin(&m, 0xfee00000u, 1);
    /* A type 0 entry of 10 bytes (a future revision's longer entry): its first 8 bytes still count. */
    put_bytes(&m, (uint8_t[]){0, 10, 5, 6, 1, 0, 0, 0, 0xee, 0xee}, 10);
    put_bytes(&m, (uint8_t[]){0x80, 3, 0}, 3);
    put_bytes(&m, (uint8_t[]){0xff, 2}, 2);
    madt_lapic(&m, 1, 1, 1);
    sdt_place(&m, MADT_PA);
    place_root(true);
    struct platform_info pi;
    assert_true(read_madt(2, &pi));
    assert_int_equal(pi.cpu_count, 2);
    assert_int_equal(pi.cpus[0].apic_id, 6);
    assert_int_equal(pi.cpus[0].uid, 5);
    assert_int_equal(pi.entries_skipped, 2);
}

TEST(madt_too_many_cpus_and_ioapics)
{
    struct table m;
    madt_begin(&m, 0xfee00000u, 1);
    for (uint32_t i = 0; i < 70; i++)
        madt_x2apic(&m, i * 2, 1, i);
    for (uint8_t i = 0; i < 10; i++)
        madt_ioapic(&m, i, 0xfec00000u + i * 0x1000u, i * 24u);
    sdt_place(&m, MADT_PA);
    place_root(true);
    struct platform_info pi;
    assert_true(read_madt(2, &pi));
    assert_int_equal(pi.cpu_count, PLATFORM_MAX_CPUS);
    assert_int_equal(pi.cpus_ignored, 6);
    assert_int_equal(pi.cpus[63].apic_id, 126);
    assert_int_equal(pi.ioapic_count, PLATFORM_MAX_IOAPICS);
    assert_int_equal(pi.ioapics_ignored, 2);
    assert_int_equal(pi.ioapics[7].gsi_base, 7 * 24);
}

TEST(madt_duplicate_apic_ids)
{
    struct table m;
    madt_begin(&m, 0xfee00000u, 1);
    madt_lapic(&m, 0, 0, 1);
    madt_lapic(&m, 1, 1, 1);
    madt_x2apic(&m, 1, 1, 1); /* same CPU as a type 9 entry too */
    madt_lapic(&m, 2, 0, 1);
    sdt_place(&m, MADT_PA);
    place_root(true);
    struct platform_info pi;
    assert_true(read_madt(2, &pi));
    assert_int_equal(pi.cpu_count, 2);
    assert_int_equal(pi.cpus_duplicate, 2);
    assert_false(pi.cpus[1].x2apic_entry);
}

/* Every truncation of a good MADT (checksum fixed each time) either parses or fails with a message. */
TEST(madt_every_truncation)
{
    struct table m;
    standard_madt(&m);
    madt_override(&m, 0xfee00000u);
    uint32_t full = m.len;
    for (uint32_t len = 0; len <= full; len++) {
        uint8_t *b = exact_copy(m.b, len);
        if (len >= 8)
            put32(b + 4, len);
        struct platform_info pi;
        memset(&pi, 0, sizeof pi);
        bool ok = acpi_parse_madt(b, len, &pi);
        if (!ok)
            assert_true(pi.error[0] != 0);
        else
            assert_true(len >= 44);
        free(b);
    }
}

/* Random entry bytes: never a read past the buffer (ASan), never more CPUs than the limit. */
TEST(madt_random_bytes)
{
    srand(1234);
    for (int round = 0; round < 2000; round++) {
        uint32_t len = 44 + (uint32_t)(rand() % 200);
        uint8_t *b = malloc(len);
        for (uint32_t i = 0; i < len; i++)
            b[i] = (uint8_t)rand();
        /* bias towards small types and plausible lengths */
        for (uint32_t off = 44; off + 1 < len; off += 2 + (uint32_t)(rand() % 16)) {
            b[off] = (uint8_t)(rand() % 11);
            b[off + 1] = (uint8_t)(rand() % 20);
        }
        put32(b + 4, len);
        struct platform_info pi;
        memset(&pi, 0, sizeof pi);
        bool ok = acpi_parse_madt(b, len, &pi);
        assert_true(ok || pi.error[0]);
        assert_true(pi.cpu_count <= PLATFORM_MAX_CPUS);
        uint32_t keep[1] = {0};
        acpi_madt_hide_cpus(b, len, keep, 1);
        assert_int_equal(sum(b, len), 0);
        free(b);
    }
}

/* ------------------------------------------------------------------ MCFG (ECAM windows) */

#define MCFG_PA 0x204000u

static void mcfg_place(const uint8_t (*entries)[16], unsigned n, uint32_t extra)
{
    struct table t;
    sdt_begin(&t, "MCFG");
    t.len = 44;
    for (unsigned i = 0; i < n; i++)
        put_bytes(&t, entries[i], 16);
    t.len += extra;
    sdt_place(&t, MCFG_PA);
    struct table x;
    sdt_begin(&x, "XSDT");
    root_entry(&x, true, FACP_PA);
    root_entry(&x, true, MADT_PA);
    root_entry(&x, true, MCFG_PA);
    sdt_place(&x, XSDT_PA);
    place_facp();
}

static void ecam_entry(uint8_t *e, uint64_t base, uint16_t seg, uint8_t b0, uint8_t b1)
{
    memset(e, 0, 16);
    put64(e, base);
    put16(e + 8, seg);
    e[10] = b0;
    e[11] = b1;
}

TEST(mcfg_windows)
{
    uint8_t e[2][16];
    ecam_entry(e[0], 0xe0000000u, 0, 0, 255);
    ecam_entry(e[1], 0x3f0000000000ull, 1, 0x80, 0x8f);
    mcfg_place((const uint8_t(*)[16])e, 2, 0);
    uint8_t r[36];
    make_rsdp(r, 2, RSDT_PA, XSDT_PA);
    struct acpi_ecam ecam[4];
    unsigned n = 99;
    struct platform_info pi;
    assert_true(acpi_read_mcfg(r, 36, view, NULL, ecam, 4, &n, &pi));
    assert_int_equal(n, 2);
    assert_int_equal(ecam[0].base, 0xe0000000u);
    assert_int_equal(ecam[0].bus_end, 255);
    assert_int_equal(ecam[1].base, 0x3f0000000000ull);
    assert_int_equal(ecam[1].segment, 1);
    assert_int_equal(ecam[1].bus_start, 0x80);
    assert_int_equal(ecam[1].bus_end, 0x8f);

    /* Too many for the caller's array. */
    assert_false(acpi_read_mcfg(r, 36, view, NULL, ecam, 1, &n, &pi));
    assert_str_contains(pi.error, "MCFG lists more than 1 ECAM windows");
}

TEST(mcfg_absent_is_not_an_error)
{
    place_root(true); /* FACP and MADT only */
    uint8_t r[36];
    make_rsdp(r, 2, RSDT_PA, XSDT_PA);
    struct acpi_ecam ecam[4];
    unsigned n = 99;
    struct platform_info pi;
    assert_true(acpi_read_mcfg(r, 36, view, NULL, ecam, 4, &n, &pi));
    assert_int_equal(n, 0);
    assert_string_equal(pi.error, "");
}

TEST(mcfg_malformed)
{
    uint8_t e[1][16];
    uint8_t r[36];
    make_rsdp(r, 2, RSDT_PA, XSDT_PA);
    struct acpi_ecam ecam[4];
    unsigned n;
    struct platform_info pi;

    ecam_entry(e[0], 0xe0000000u, 0, 0, 255);
    mcfg_place((const uint8_t(*)[16])e, 1, 8); /* half an entry at the end */
    assert_false(acpi_read_mcfg(r, 36, view, NULL, ecam, 4, &n, &pi));
    assert_str_contains(pi.error, "MCFG length 68 is not its 44-byte header plus 16-byte entries");

    ecam_entry(e[0], 0xe0000000u, 0, 9, 3);
    mcfg_place((const uint8_t(*)[16])e, 1, 0);
    assert_false(acpi_read_mcfg(r, 36, view, NULL, ecam, 4, &n, &pi));
    assert_str_contains(pi.error, "MCFG entry at offset 44: buses 9-3");

    ecam_entry(e[0], 0xe0000000u, 0, 0, 255);
    mcfg_place((const uint8_t(*)[16])e, 1, 0);
    phys[MCFG_PA + 50] ^= 1;
    assert_false(acpi_read_mcfg(r, 36, view, NULL, ecam, 4, &n, &pi));
    assert_str_contains(pi.error, "MCFG at 0x204000: checksum over 60 bytes");
    assert_int_equal(n, 0);
}

/* ------------------------------------------------------------------ hiding CPUs in the MADT */

TEST(madt_hide_cpus)
{
    struct table m;
    madt_begin(&m, 0xfee00000u, 1);
    madt_lapic(&m, 0, 0, 1);
    madt_lapic(&m, 1, 1, 3);
    madt_lapic(&m, 2, 2, 0); /* already disabled: not counted */
    madt_iso(&m);
    madt_x2apic(&m, 300, 0x80000001u, 3);
    madt_x2apic(&m, 301, 2, 4);
    madt_ioapic(&m, 2, 0xfec00000u, 0);
    sdt_place(&m, MADT_PA);
    uint8_t *b = exact_copy(m.b, m.len);
    uint32_t keep[] = {0, 301};
    assert_int_equal(acpi_madt_hide_cpus(b, m.len, keep, 2), 2);
    assert_int_equal(sum(b, m.len), 0);

    struct platform_info pi;
    memset(&pi, 0, sizeof pi);
    assert_true(acpi_parse_madt(b, m.len, &pi));
    assert_int_equal(pi.cpu_count, 5);
    assert_true(pi.cpus[0].enabled);
    assert_false(pi.cpus[1].enabled);
    assert_false(pi.cpus[1].online_capable);
    assert_false(pi.cpus[2].enabled);
    assert_int_equal(pi.cpus[3].apic_id, 300);
    assert_false(pi.cpus[3].enabled);
    assert_int_equal(pi.cpus[4].apic_id, 301);
    assert_true(pi.cpus[4].online_capable);
    assert_int_equal(pi.ioapic_count, 1);
    /* Other flag bits of a hidden entry are kept (x2APIC 300's flags at offset 86). */
    assert_int_equal(get32(b + 44 + 8 + 8 + 8 + 10 + 8), 0x80000000u);

    /* Again: nothing left to hide, checksum still right. */
    assert_int_equal(acpi_madt_hide_cpus(b, m.len, keep, 2), 0);
    assert_int_equal(sum(b, m.len), 0);
    free(b);
}

TEST(madt_hide_cpus_malformed)
{
    struct table m;
    madt_begin(&m, 0xfee00000u, 1);
    madt_lapic(&m, 0, 1, 1);
    put_bytes(&m, (uint8_t[]){2, 0}, 2); /* length 0: the walk stops here */
    madt_lapic(&m, 1, 2, 1);
    sdt_place(&m, MADT_PA);
    uint8_t *b = exact_copy(m.b, m.len);
    assert_int_equal(acpi_madt_hide_cpus(b, m.len, NULL, 0), 1);
    assert_int_equal(sum(b, m.len), 0);
    free(b);

    /* The table says it is longer than the bytes given: nothing touched. */
    b = exact_copy(m.b, m.len);
    assert_int_equal(acpi_madt_hide_cpus(b, m.len - 1, NULL, 0), 0);
    assert_bytes_equal(b, m.b, m.len - 1);
    free(b);
    b = exact_copy(m.b, 40);
    assert_int_equal(acpi_madt_hide_cpus(b, 40, NULL, 0), 0);
    free(b);
    assert_int_equal(acpi_madt_hide_cpus(NULL, 100, NULL, 0), 0);
}

/* ------------------------------------------------------------------ MP tables */

#define MPC_PA 0x9f000u

struct mpc {
    uint8_t b[4096];
    uint16_t len, count;
};

static void mpc_begin(struct mpc *t, uint32_t lapic)
{
    memset(t, 0, sizeof *t);
    memcpy(t->b, "PCMP", 4);
    t->b[6] = 4;
    memcpy(t->b + 8, "NESTOR  ", 8);
    put32(t->b + 36, lapic);
    t->len = 44;
}

static void mpc_put(struct mpc *t, const uint8_t *e, size_t n)
{
    memcpy(t->b + t->len, e, n);
    t->len += (uint16_t)n;
    t->count++;
}

static void mpc_cpu(struct mpc *t, uint8_t id, uint8_t flags)
{
    uint8_t e[20] = {0, id, 0x14, flags};
    mpc_put(t, e, 20);
}

static void mpc_ioapic(struct mpc *t, uint8_t id, uint8_t flags, uint32_t addr)
{
    uint8_t e[8] = {2, id, 0x11, flags};
    put32(e + 4, addr);
    mpc_put(t, e, 8);
}

static void mpc_other(struct mpc *t, uint8_t type)
{
    uint8_t e[8] = {type};
    if (type == 1)
        memcpy(e + 2, "ISA   ", 6);
    mpc_put(t, e, 8);
}

static void mpc_place(struct mpc *t, uint64_t pa)
{
    put16(t->b + 4, t->len);
    put16(t->b + 34, t->count);
    t->b[7] = 0;
    t->b[7] = (uint8_t)(0u - sum(t->b, t->len));
    memcpy(phys + pa, t->b, t->len);
}

static void make_mpfp(uint64_t pa, uint32_t config, uint8_t feature1, uint8_t feature2)
{
    uint8_t *p = phys + pa;
    memset(p, 0, 16);
    memcpy(p, "_MP_", 4);
    put32(p + 4, config);
    p[8] = 1;
    p[9] = 4;
    p[11] = feature1;
    p[12] = feature2;
    p[10] = (uint8_t)(0u - sum(p, 16));
}

static void standard_mpc(struct mpc *t)
{
    mpc_begin(t, 0xfee00000u);
    mpc_cpu(t, 0, 3);
    mpc_cpu(t, 1, 1);
    mpc_cpu(t, 5, 0);
    mpc_other(t, 1);
    mpc_ioapic(t, 2, 1, 0xfec00000u);
    mpc_ioapic(t, 3, 0, 0xfec01000u);
    mpc_other(t, 3);
    mpc_other(t, 4);
}

TEST(mp_scan_areas)
{
    uint64_t pa = 0;
    assert_false(mptable_scan(view, NULL, &pa));

    make_mpfp(0xf0100, MPC_PA, 0, 0);
    assert_true(mptable_scan(view, NULL, &pa));
    assert_int_equal(pa, 0xf0100);

    /* Last KiB of base memory (639 KiB at 0x413: [0x9f800, 0x9fc00)) before the ROM. */
    put16(phys + 0x413, 639);
    make_mpfp(0x9fc00, MPC_PA, 0, 0); /* just past it: not searched */
    make_mpfp(0x9f800 + 0x3f0, MPC_PA, 0, 0);
    assert_true(mptable_scan(view, NULL, &pa));
    assert_int_equal(pa, 0x9fbf0);

    /* The EBDA before both. */
    put16(phys + 0x40e, 0x9000);
    make_mpfp(0x90000 + 0x200, MPC_PA, 0, 0);
    assert_true(mptable_scan(view, NULL, &pa));
    assert_int_equal(pa, 0x90200);

    /* A bad checksum is skipped; an absurd base memory size is ignored. */
    phys[0x90200 + 4] ^= 1;
    put16(phys + 0x413, 0xffff);
    assert_true(mptable_scan(view, NULL, &pa));
    assert_int_equal(pa, 0xf0100);
    phys[0xf0100 + 8] = 0; /* length 0 paragraphs */
    phys[0xf0100 + 10] = 0;
    phys[0xf0100 + 10] = (uint8_t)(0u - sum(phys + 0xf0100, 16));
    assert_false(mptable_scan(view, NULL, &pa));
}

TEST(mp_read_standard)
{
    struct mpc t;
    standard_mpc(&t);
    mpc_place(&t, MPC_PA);
    make_mpfp(0xf0100, MPC_PA, 0, 0x80);
    struct platform_info pi;
    assert_true(mptable_read(view, NULL, 0xf0100, &pi));
    assert_string_equal(pi.source, "MP table");
    assert_int_equal(pi.mpc_pa, MPC_PA);
    assert_int_equal(pi.mpc_len, t.len);
    assert_int_equal(pi.madt_pa, 0);
    assert_int_equal(pi.lapic_addr, 0xfee00000u);
    assert_true(pi.imcr_present);
    assert_true(pi.pcat_compat);
    assert_int_equal(pi.cpu_count, 3);
    assert_true(pi.cpus[0].bsp && pi.cpus[0].enabled);
    assert_true(pi.cpus[1].enabled && !pi.cpus[1].bsp);
    assert_int_equal(pi.cpus[2].apic_id, 5);
    assert_false(pi.cpus[2].enabled || pi.cpus[2].online_capable);
    assert_int_equal(pi.ioapic_count, 1);
    assert_int_equal(pi.ioapics[0].id, 2);
    assert_int_equal(pi.ioapics[0].addr, 0xfec00000u);
    assert_int_equal(pi.ioapics_disabled, 1);
}

TEST(mp_read_errors)
{
    struct mpc t;
    struct platform_info pi;

    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "signature is not \"_MP_\"");
    assert_false(mptable_read(view, NULL, PHYS_SIZE - 8, &pi));
    assert_str_contains(pi.error, "is not readable");

    make_mpfp(0xf0100, MPC_PA, 0, 0);
    phys[0xf0100 + 5] ^= 1;
    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "checksum over 16 bytes");

    make_mpfp(0xf0100, 0, 5, 0);
    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "default configuration 5");

    make_mpfp(0xf0100, 0, 0, 0);
    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "has no configuration table");

    make_mpfp(0xf0100, MPC_PA, 0, 0);
    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "signature is not \"PCMP\"");

    make_mpfp(0xf0100, 0xfffffff0u, 0, 0);
    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "MP configuration table at 0xfffffff0 is not readable");

    make_mpfp(0xf0100, MPC_PA, 0, 0);
    standard_mpc(&t);
    mpc_place(&t, MPC_PA);
    phys[MPC_PA + 60] ^= 1;
    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "checksum over");

    standard_mpc(&t);
    t.len = 40;
    t.count = 0;
    mpc_place(&t, MPC_PA);
    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "length 40 is smaller than its 44-byte header");

    standard_mpc(&t);
    mpc_place(&t, MPC_PA);
    hole_lo = MPC_PA + 100;
    hole_hi = MPC_PA + 0x1000;
    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "run into unreadable memory");
    hole_lo = hole_hi = 0;

    /* Unknown entry type. */
    standard_mpc(&t);
    uint8_t weird[8] = {0x81};
    mpc_put(&t, weird, 8);
    mpc_place(&t, MPC_PA);
    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "MP entry 8 at offset 144 has unknown type 129");

    /* More entries counted than the base length holds. */
    standard_mpc(&t);
    t.count += 3;
    mpc_place(&t, MPC_PA);
    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "MP entry 8 of 11 would start at offset 144, past the base table's 144 bytes");

    /* A processor entry cut by the base length. */
    standard_mpc(&t);
    mpc_cpu(&t, 9, 1);
    t.len -= 4;
    mpc_place(&t, MPC_PA);
    assert_false(mptable_read(view, NULL, 0xf0100, &pi));
    assert_str_contains(pi.error, "(type 0, 20 bytes) runs past the base table's");
}

TEST(mp_too_many_cpus)
{
    struct mpc t;
    mpc_begin(&t, 0xfee00000u);
    for (int i = 0; i < 70; i++)
        mpc_cpu(&t, (uint8_t)i, 1);
    mpc_cpu(&t, 3, 1);
    mpc_place(&t, MPC_PA);
    make_mpfp(0xf0100, MPC_PA, 0, 0);
    struct platform_info pi;
    assert_true(mptable_read(view, NULL, 0xf0100, &pi));
    assert_int_equal(pi.cpu_count, 64);
    assert_int_equal(pi.cpus_ignored, 6);
    assert_int_equal(pi.cpus_duplicate, 1);
}

TEST(mp_every_truncation)
{
    struct mpc t;
    standard_mpc(&t);
    mpc_place(&t, MPC_PA);
    for (uint32_t len = 0; len <= t.len + 8u; len++) {
        uint8_t *b = exact_copy(t.b, len);
        struct platform_info pi;
        memset(&pi, 0, sizeof pi);
        bool ok = mptable_parse(b, len, &pi);
        assert_true(ok == (len >= t.len));
        if (!ok)
            assert_true(pi.error[0] != 0);
        assert_int_equal(mptable_hide_cpus(b, len, NULL, 0), len >= t.len ? 2 : 0);
        free(b);
    }
}

TEST(mp_hide_cpus)
{
    struct mpc t;
    standard_mpc(&t);
    mpc_cpu(&t, 7, 1);
    mpc_place(&t, MPC_PA);
    /* The extended table behind the base part is not touched and not part of the checksum. */
    uint32_t total = t.len + 16u;
    memset(phys + MPC_PA + t.len, 0x5a, 16);
    uint32_t keep[] = {0, 7};
    assert_int_equal(mptable_hide_cpus(phys + MPC_PA, total, keep, 2), 1);
    assert_int_equal(sum(phys + MPC_PA, t.len), 0);
    assert_int_equal(phys[MPC_PA + t.len], 0x5a);

    make_mpfp(0xf0100, MPC_PA, 0, 0);
    struct platform_info pi;
    assert_true(mptable_read(view, NULL, 0xf0100, &pi));
    assert_int_equal(pi.cpu_count, 4);
    assert_true(pi.cpus[0].enabled && pi.cpus[0].bsp);
    assert_false(pi.cpus[1].enabled);
    assert_false(pi.cpus[2].enabled);
    assert_true(pi.cpus[3].enabled);
    assert_int_equal(pi.cpus[3].apic_id, 7);
    /* BSP bit stays on hidden entries' neighbours; a second pass hides nothing. */
    assert_int_equal(mptable_hide_cpus(phys + MPC_PA, total, keep, 2), 0);
    assert_int_equal(sum(phys + MPC_PA, t.len), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rsdp_v1_and_v2_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(rsdp_invalid_each_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(rsdp_scan_rom_area, setup, teardown),
        cmocka_unit_test_setup_teardown(rsdp_scan_ebda_first, setup, teardown),
        cmocka_unit_test_setup_teardown(rsdp_scan_skips_bad_and_unaligned, setup, teardown),
        cmocka_unit_test_setup_teardown(rsdp_scan_without_bda, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_through_xsdt, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_through_rsdt, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_from_20_byte_copy_of_v2_rsdp, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_rsdp_viewed_in_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_lapic_override_and_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_bad_rsdp, setup, teardown),
        cmocka_unit_test_setup_teardown(root_table_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(root_entries_unreadable_or_missing_madt, setup, teardown),
        cmocka_unit_test_setup_teardown(xsdt_lists_madt_repeatedly, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_table_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_entry_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_longer_entries_and_unknown_types_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_too_many_cpus_and_ioapics, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_duplicate_apic_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_every_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_random_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(mcfg_windows, setup, teardown),
        cmocka_unit_test_setup_teardown(mcfg_absent_is_not_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(mcfg_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_hide_cpus, setup, teardown),
        cmocka_unit_test_setup_teardown(madt_hide_cpus_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(mp_scan_areas, setup, teardown),
        cmocka_unit_test_setup_teardown(mp_read_standard, setup, teardown),
        cmocka_unit_test_setup_teardown(mp_read_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(mp_too_many_cpus, setup, teardown),
        cmocka_unit_test_setup_teardown(mp_every_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(mp_hide_cpus, setup, teardown),
    };
    return RUN_GROUP("acpi", tests, NULL, NULL);
}
