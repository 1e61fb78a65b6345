/* core/acpi.c acpi_read_pm1: PM1a/PM1b_CNT from the FADT, found through the RSDP and the RSDT or XSDT. */
#include <stdlib.h>
#include "harness.h"
#include "nestor/acpi.h"

#define MEM_SIZE 0x200000u
static uint8_t *mem;

static const void *fake_read(uint64_t pa, size_t len, void *ctx)
{
    (void)ctx;
    return pa + len <= MEM_SIZE ? mem + pa : NULL;
}

#define RSDP_PA (0xf5a0 + 0xe0000)

/* As Nestor calls it: with the RSDP's bytes (the boot loader's tag, or what the BIOS-area search found). */
static bool find_pm_ports(struct acpi_pm1 *pm, size_t rsdp_len)
{
    struct platform_info out;
    return acpi_read_pm1(mem + RSDP_PA, rsdp_len, fake_read, NULL, pm, &out);
}

static void put32(uint32_t pa, uint32_t v) { memcpy(mem + pa, &v, 4); }
static void put64(uint32_t pa, uint64_t v) { memcpy(mem + pa, &v, 8); }

static void fix_checksum(uint32_t pa, uint32_t len, uint32_t at)
{
    uint8_t sum = 0;
    mem[pa + at] = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + mem[pa + i]);
    mem[pa + at] = (uint8_t)-sum;
}

static void table(uint32_t pa, const char *sig, uint32_t len)
{
    memcpy(mem + pa, sig, 4);
    put32(pa + 4, len);
}

/* RSDP at 0xf5a0 + 0xe0000 (revision rev), RSDT at 0x100000 with an APIC table and the FADT at 0x101000. */
static void build(unsigned rev, uint32_t pm1a, uint32_t pm1b)
{
    memset(mem, 0, MEM_SIZE);
    uint32_t rsdp = 0xf5a0 + 0xe0000;
    memcpy(mem + rsdp, "RSD PTR ", 8);
    mem[rsdp + 15] = (uint8_t)rev;
    put32(rsdp + 16, 0x100000);
    fix_checksum(rsdp, 20, 8);
    table(0x100000, "RSDT", 36 + 8);
    put32(0x100000 + 36, 0x100800);
    put32(0x100000 + 40, 0x101000);
    fix_checksum(0x100000, 44, 9);
    table(0x100800, "APIC", 44);
    fix_checksum(0x100800, 44, 9);
    table(0x101000, "FACP", 244);
    put32(0x101000 + 64, pm1a);
    put32(0x101000 + 68, pm1b);
    fix_checksum(0x101000, 244, 9);
}

static int setup(void **state)
{
    (void)state;
    mem = calloc(1, MEM_SIZE);
    return mem ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(mem);
    return 0;
}

TEST(acpi_fadt_through_rsdt)
{
    struct acpi_pm1 pm;
    build(0, 0xb004, 0);
    assert_true(find_pm_ports(&pm, 20));
    assert_int_equal(pm.a_cnt, 0xb004);
    assert_int_equal(pm.b_cnt, 0);
    build(0, 0x1804, 0x1808);
    assert_true(find_pm_ports(&pm, 20));
    assert_int_equal(pm.b_cnt, 0x1808);
}

TEST(acpi_fadt_through_xsdt)
{
    struct acpi_pm1 pm;
    build(2, 0x604, 0);
    uint32_t rsdp = 0xf5a0 + 0xe0000;
    put32(rsdp + 20, 36);
    put64(rsdp + 24, 0x102000);
    fix_checksum(rsdp, 20, 8);
    fix_checksum(rsdp, 36, 32);
    table(0x102000, "XSDT", 36 + 8);
    put64(0x102000 + 36, 0x101000);
    fix_checksum(0x102000, 44, 9);
    put32(0x100000 + 40, 0); /* the RSDT no longer lists the FADT: the XSDT must be used */
    fix_checksum(0x100000, 44, 9);
    assert_true(find_pm_ports(&pm, 36));
    assert_int_equal(pm.a_cnt, 0x604);
}

TEST(acpi_bad_tables_refused)
{
    struct acpi_pm1 pm;
    build(0, 0xb004, 0);
    mem[0x101000 + 64] ^= 1; /* FADT checksum broken */
    assert_false(find_pm_ports(&pm, 20));
    build(0, 0xb004, 0);
    mem[0xf5a0 + 0xe0000 + 16] ^= 1; /* RSDP checksum broken */
    assert_false(find_pm_ports(&pm, 20));
    build(0, 0, 0); /* no PM1a_CNT */
    assert_false(find_pm_ports(&pm, 20));
    memset(mem, 0, MEM_SIZE);
    assert_false(find_pm_ports(&pm, 20));
}

/* Firmware that fills only X_PM1a_CNT_BLK (a Generic Address Structure): used when it is in I/O space. */
TEST(acpi_fadt_x_pm1a_in_io_space)
{
    struct acpi_pm1 pm;
    build(0, 0, 0);
    mem[0x101000 + 172] = 1; /* GAS address space: system I/O */
    put64(0x101000 + 176, 0x404);
    fix_checksum(0x101000, 244, 9);
    assert_true(find_pm_ports(&pm, 20));
    assert_int_equal(pm.a_cnt, 0x404);
    mem[0x101000 + 172] = 0; /* system memory: not a port Nestor can trap */
    fix_checksum(0x101000, 244, 9);
    assert_false(find_pm_ports(&pm, 20));
    mem[0x101000 + 172] = 1; /* I/O space, but beyond the 16-bit port range */
    put64(0x101000 + 176, 0x10000);
    fix_checksum(0x101000, 244, 9);
    assert_false(find_pm_ports(&pm, 20));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(acpi_fadt_through_rsdt, setup, teardown),
        cmocka_unit_test_setup_teardown(acpi_fadt_through_xsdt, setup, teardown),
        cmocka_unit_test_setup_teardown(acpi_bad_tables_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(acpi_fadt_x_pm1a_in_io_space, setup, teardown),
    };
    return RUN_GROUP("acpi_pm", tests, NULL, NULL);
}
