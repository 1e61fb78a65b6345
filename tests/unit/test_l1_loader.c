/*
 * core/l1_loader.c end to end on the host: plan L1's memory, back its RAM
 * with pages from g_palloc (fake memory), build EPT01, load a test kernel
 * and a module, write the Multiboot information, then read everything back
 * through EPT01 as L1 would see it.
 */
#include <stdlib.h>

#include "elf_build.h"
#include "fakemem.h"
#include "harness.h"
#include "nestor/bootinfo.h"
#include "nestor/l1.h"
#include "nestor/log.h"
#include "nestor/vmx.h"

/* l1_build reads MAXPHYADDR from here (vmx/vmx_cpu.c fills it in Nestor): 39 bits, as Bochs. */
struct vmx_caps g_vmx_caps = {.phys_addr_mask = ((uint64_t)1 << 39) - 1};

#define CAPS (EPT_CAP_2MB_PAGE | EPT_CAP_1GB_PAGE)
#define RAM (16 * MiB)

static struct boot_info bi;
static struct l1_vm vm;
static uint8_t img[0x2000];
static const uint8_t module_bytes[0x123] = {'d', 'e', 'm', 'o', 0, 1, 2, 3};

static const struct mmap_entry host_map[] = {
    {0x0, 0x9f000, MMAP_USABLE},
    {0x9f000, 0x1000, MMAP_RESERVED},
    {0xe8000, 0x18000, MMAP_RESERVED},
    {0x100000, 0x7fef0000, MMAP_USABLE},
    {0x7fff0000, 0x10000, MMAP_ACPI_RECLAIMABLE},
    {0xfffc0000, 0x40000, MMAP_RESERVED},
};

static int setup(void **state)
{
    memset(&vm, 0, sizeof vm);
    memset(&bi, 0, sizeof bi);
    memcpy(bi.mmap, host_map, sizeof host_map);
    bi.mmap_count = ARRAY_SIZE(host_map);
    log_set_level("info");
    return fakemem_test_setup(state);
}

/* Copies bytes into freshly allocated (so reserved) fake host memory, as GRUB's modules would be. */
static paddr_t place(const void *bytes, size_t len)
{
    paddr_t pa = palloc_alloc(&g_palloc, ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE, 1);
    assert_true(pa != 0);
    memcpy(fake_va(pa), bytes, len);
    return pa;
}

static void add_module(const void *bytes, size_t len, const char *cmdline)
{
    struct boot_module *m = &bi.modules[bi.module_count++];
    m->start = place(bytes, len);
    m->end = m->start + len;
    strcpy(m->cmdline, cmdline);
}

/* A 32-bit kernel: 4 KiB of code/data at 1 MiB plus 8 KiB of bss, with a Multiboot2 or Multiboot header. */
static void build_kernel(bool mb2)
{
    memset(img, 0, sizeof img);
    struct elf_spec s = {.cls = 32, .entry = 0x100010, .nseg = 1};
    s.seg[0] = (struct elf_seg){PT_LOAD_, 0x1000, 0x100000, 0x100000, 0x1000, 0x3000};
    elf_write(img, &s);
    for (unsigned i = 0x1040; i < 0x2000; i++)
        img[i] = (uint8_t)(i * 13);
    if (mb2) {
        struct mb2_hdr h;
        mb2_hdr_begin(&h, 0);
        mb2_hdr_end(&h);
        memcpy(img + 0x1000, h.bytes, h.len);
    } else {
        mb1_write(img, 0x1000, 0x3);
    }
}

static void l1_read(gpa_t gpa, void *dst, size_t n)
{
    if (!gmem_read(&vm.ept, gpa, dst, n)) {
        print_error("L1 guest-physical 0x%llx+0x%zx is not readable through EPT01\n", (unsigned long long)gpa, n);
        fail();
    }
}

static uint32_t l1_rd32(gpa_t gpa)
{
    uint32_t v;
    l1_read(gpa, &v, 4);
    return v;
}

/* ------------------------------------------------------------------ a Multiboot2 kernel */

TEST(l1_build_loads_a_multiboot2_kernel)
{
    build_kernel(true);
    add_module(img, sizeof img, "l1.elf test=hello");
    add_module(module_bytes, sizeof module_bytes, "demo-module");
    bool built = l1_build(&bi, RAM, CAPS, &vm);
    if (!built)
        print_error("%s", capture_text());
    assert_true(built);
    assert_int_equal(vm.entry.rip, 0x100010);
    assert_int_equal(vm.entry.rax, MB2_BOOTLOADER_MAGIC);
    assert_int_equal(vm.kimg.protocol, KIMG_MULTIBOOT2);
    assert_int_equal(vm.mem.ram_end, L1_RAM_BASE + RAM);

    /* The segment's file bytes, then zeroed bss (the fake memory started as 0xa5 garbage). */
    static uint8_t seg[0x3000];
    l1_read(0x100000, seg, sizeof seg);
    assert_bytes_equal(seg, img + 0x1000, 0x1000);
    for (unsigned i = 0x1000; i < 0x3000; i++)
        assert_int_equal(seg[i], 0);

    /* The module right after the kernel, page aligned. */
    uint8_t mod[sizeof module_bytes];
    l1_read(0x103000, mod, sizeof mod);
    assert_bytes_equal(mod, module_bytes, sizeof mod);

    /* The boot information after the module, read back with Nestor's own parser. */
    assert_int_equal(vm.boot_info_gpa, 0x104000);
    uint32_t total = l1_rd32(vm.boot_info_gpa);
    assert_true(total >= 16 && total < PAGE_SIZE);
    uint8_t *mbi = malloc(total);
    assert_non_null(mbi);
    l1_read(vm.boot_info_gpa, mbi, total);
    static struct boot_info seen;
    bool ok = mb2_parse(mbi, total, &seen);
    free(mbi);
    if (!ok)
        print_error("%s\n", seen.error);
    assert_true(ok);
    assert_string_equal(seen.cmdline, "l1.elf test=hello");
    assert_string_equal(seen.loader_name, "Nestor");
    assert_int_equal(seen.mem_lower_kb, 636);
    assert_int_equal(seen.mem_upper_kb, RAM / KiB);
    assert_int_equal(seen.module_count, 1);
    assert_int_equal(seen.modules[0].start, 0x103000);
    assert_int_equal(seen.modules[0].end, 0x103123);
    assert_string_equal(seen.modules[0].cmdline, "demo-module");
    assert_int_equal(seen.mmap_count, vm.mem.map_count);
    for (unsigned i = 0; i < seen.mmap_count; i++) {
        assert_int_equal(seen.mmap[i].base, vm.mem.map[i].base);
        assert_int_equal(seen.mmap[i].len, vm.mem.map[i].len);
        assert_int_equal(seen.mmap[i].type, vm.mem.map[i].type);
    }

    assert_str_contains(capture_text(), "nestor: L1 kernel: Multiboot2 ELF32, loaded at 0x100000-0x103000, entry 0x100010");
    assert_str_contains(capture_text(), "L1 module 0: 'demo-module', 291 bytes at guest-physical 0x103000");
}

TEST(l1_ram_is_private_host_memory)
{
    build_kernel(true);
    add_module(img, sizeof img, "l1.elf");
    paddr_t kernel_pa = bi.modules[0].start;
    assert_true(l1_build(&bi, RAM, CAPS, &vm));
    assert_true(vm.ept.mapped_2m >= 7); /* RAM from 2 MiB to 16 MiB in large pages */

    /* Every L1 RAM page is backed by a distinct allocator page that is neither the module nor a table. */
    static uint8_t used[FAKE_SIZE / PAGE_SIZE];
    memset(used, 0, sizeof used);
    for (gpa_t gpa = L1_RAM_BASE; gpa < vm.mem.ram_end; gpa += PAGE_SIZE) {
        struct ept_walk w;
        assert_true(ept_walk(&vm.ept, gpa, &w));
        assert_int_equal(w.perms, EPT_RWX);
        assert_int_equal(w.leaf & EPT_MEMTYPE_MASK, MEMTYPE_WB << EPT_MEMTYPE_SHIFT);
        assert_true(fake_backed(w.hpa, PAGE_SIZE));
        size_t page = (size_t)((w.hpa - FAKE_BASE) / PAGE_SIZE);
        assert_int_equal(used[page], 0);
        used[page] = 1;
        assert_true(w.hpa + PAGE_SIZE <= kernel_pa || w.hpa >= ALIGN_UP(bi.modules[0].end, PAGE_SIZE));
        assert_true(w.hpa != vm.ept.pml4);
    }
    /* No free page of the allocator is mapped into L1. */
    for (unsigned i = 0; i < g_palloc.count; i++)
        for (paddr_t p = g_palloc.r[i].base; p < g_palloc.r[i].end; p += PAGE_SIZE)
            assert_int_equal(used[(p - FAKE_BASE) / PAGE_SIZE], 0);
}

TEST(l1_identity_regions_and_holes)
{
    build_kernel(true);
    add_module(img, sizeof img, "l1.elf");
    assert_true(l1_build(&bi, RAM, CAPS, &vm));
    struct ept_walk w;
    assert_true(ept_walk(&vm.ept, 0xb8000, &w)); /* VGA text buffer: identity, uncached, not executable */
    assert_int_equal(w.hpa, 0xb8000);
    assert_int_equal(w.perms, EPT_R | EPT_W);
    assert_int_equal(w.leaf & EPT_MEMTYPE_MASK, MEMTYPE_UC << EPT_MEMTYPE_SHIFT);
    assert_true(ept_walk(&vm.ept, 0xf0000, &w)); /* BIOS ROM: read/execute */
    assert_int_equal(w.perms, EPT_R | EPT_X);
    assert_true(ept_walk(&vm.ept, 0x7fff0123, &w)); /* ACPI tables where the firmware left them */
    assert_int_equal(w.hpa, 0x7fff0123);
    assert_true(ept_walk(&vm.ept, 0xfee00030, &w)); /* local APIC */
    assert_int_equal(w.hpa, 0xfee00030);
    assert_false(ept_walk(&vm.ept, vm.mem.ram_end, &w)); /* just above RAM: host RAM Nestor keeps */
    assert_false(ept_walk(&vm.ept, 0x40000000, &w));
    assert_false(ept_walk(&vm.ept, 0x7ffef000, &w));
}

/* Everything that is not host RAM is L1's, identity and uncached: PCI BARs anywhere, flash, APICs. */
TEST(l1_device_space_is_identity_uncached)
{
    build_kernel(true);
    add_module(img, sizeof img, "l1.elf");
    assert_true(l1_build(&bi, RAM, CAPS, &vm));
    const uint64_t gpas[] = {0x80000000, 0xe0000000, 0xfebff000, 0xfee01000, 0xff000000, 0xfffff000,
                             0x100000000ull, 0x7fffffe000ull};
    for (unsigned i = 0; i < ARRAY_SIZE(gpas); i++) {
        struct ept_walk w;
        if (!ept_walk(&vm.ept, gpas[i], &w))
            fail_msg("device address 0x%llx is not mapped for L1", (unsigned long long)gpas[i]);
        assert_int_equal(w.hpa, gpas[i]);
        assert_int_equal(w.perms, EPT_R | EPT_W);
        assert_int_equal(w.leaf & EPT_MEMTYPE_MASK, MEMTYPE_UC << EPT_MEMTYPE_SHIFT);
    }
    struct ept_walk w;
    assert_false(ept_walk(&vm.ept, (uint64_t)1 << 39, &w)); /* beyond MAXPHYADDR */
    /* Large pages: the 512 GiB of device space costs a handful of table pages. */
    assert_true(vm.ept.mapped_1g >= 500);
    assert_true(vm.ept.table_pages < 32);
    assert_str_contains(capture_text(), "L1 devices: everything that is not host RAM, identity and uncached, up to 0x8000000000");
}

/* A range kept out (the PCIe ECAM) is not mapped; the rest of device space is. */
TEST(l1_keep_out_range_not_mapped)
{
    build_kernel(true);
    add_module(img, sizeof img, "l1.elf");
    assert_true(l1_keep_out(0xb0000000, 0x10000000, "PCIe ECAM"));
    assert_true(l1_build(&bi, RAM, CAPS, &vm));
    struct ept_walk w;
    assert_false(ept_walk(&vm.ept, 0xb0000000, &w));
    assert_false(ept_walk(&vm.ept, 0xbffff000, &w));
    assert_true(ept_walk(&vm.ept, 0xaffff000, &w));
    assert_true(ept_walk(&vm.ept, 0xc0000000, &w));
    assert_str_contains(capture_text(), "L1 devices: PCIe ECAM at 0xb0000000-0xbfffffff kept out of L1's reach");
    /* The table holds L1_MAX_KEEP_OUT ranges; one more is refused with a log line. */
    for (unsigned i = 1; i < L1_MAX_KEEP_OUT; i++)
        assert_true(l1_keep_out(0x1000000000ull * i, 0x1000, "filler"));
    assert_false(l1_keep_out(0x9000000000ull, 0x1000, "one too many"));
    assert_str_contains(capture_text(), "cannot keep one too many at 0x9000000000+0x1000 out of L1's reach");
}

/* Without 1 GiB EPT pages device space stops at 512 GiB (it is there already with MAXPHYADDR 39). */
TEST(l1_device_space_without_1g_pages)
{
    g_vmx_caps.phys_addr_mask = ((uint64_t)1 << 46) - 1;
    build_kernel(true);
    add_module(img, sizeof img, "l1.elf");
    bool ok = l1_build(&bi, RAM, EPT_CAP_2MB_PAGE, &vm);
    g_vmx_caps.phys_addr_mask = ((uint64_t)1 << 39) - 1;
    assert_true(ok);
    assert_int_equal(vm.mem.phys_limit, 512 * GiB);
    assert_str_contains(capture_text(), "EPT01: no 1 GiB pages; device space above 0x8000000000 is not mapped for L1");
    struct ept_walk w;
    assert_true(ept_walk(&vm.ept, 512 * GiB - PAGE_SIZE, &w));
    assert_false(ept_walk(&vm.ept, 512 * GiB, &w));
}

/* ------------------------------------------------------------------ a Multiboot (v1) kernel */

TEST(l1_build_loads_a_multiboot1_kernel)
{
    build_kernel(false);
    add_module(img, sizeof img, "l1.elf mb1");
    add_module(module_bytes, sizeof module_bytes, "demo-module");
    assert_true(l1_build(&bi, RAM, CAPS, &vm));
    assert_int_equal(vm.entry.rax, MB1_BOOTLOADER_MAGIC);
    gpa_t info = vm.boot_info_gpa;
    assert_int_equal(l1_rd32(info), 0x24d);
    assert_int_equal(l1_rd32(info + 4), 636);
    assert_int_equal(l1_rd32(info + 8), RAM / KiB);
    char s[32];
    l1_read(l1_rd32(info + 16), s, sizeof "l1.elf mb1");
    assert_string_equal(s, "l1.elf mb1");
    assert_int_equal(l1_rd32(info + 20), 1);
    gpa_t mods = l1_rd32(info + 24);
    assert_int_equal(l1_rd32(mods), 0x103000);
    assert_int_equal(l1_rd32(mods + 4), 0x103123);
    l1_read(l1_rd32(mods + 8), s, sizeof "demo-module");
    assert_string_equal(s, "demo-module");
    assert_int_equal(l1_rd32(info + 44), 24 * vm.mem.map_count);
    assert_str_contains(capture_text(), "L1 kernel: Multiboot ELF32");
}

/* ------------------------------------------------------------------ refusals, each with its reason logged */

TEST(l1_build_without_modules)
{
    assert_false(l1_build(&bi, RAM, CAPS, &vm));
    assert_str_contains(capture_text(), "no L1 kernel: GRUB passed no module");
}

TEST(l1_build_rejects_a_non_elf_kernel)
{
    add_module("MZ\x90\x00 not a kernel", 16, "l1.exe");
    assert_false(l1_build(&bi, RAM, CAPS, &vm));
    assert_str_contains(capture_text(),
                        "L1 kernel (module 0, 'l1.exe', 16 bytes) rejected: not an ELF file (first bytes 4d 5a 90 00)");
}

TEST(l1_build_rejects_segments_outside_l1_ram)
{
    build_kernel(true);
    wr32(img + 52 + 12, 0x9d000); /* low RAM, but its bss runs into the EBDA at 0x9f000 */
    wr32(img + 52 + 8, 0x9d000);
    wr32(img + 24, 0x9d010);
    add_module(img, sizeof img, "l1.elf");
    assert_false(l1_build(&bi, RAM, CAPS, &vm));
    assert_str_contains(capture_text(), "L1 kernel rejected: segment 0 at 0x9d000-0xa0000 lies outside L1's RAM "
                                        "[0x100000, 0x1100000) and its low RAM [0x500, 0x9f000) below the EBDA");

    setup(NULL);
    build_kernel(true);
    wr32(img + 52 + 12, 0x1100000 - 0x2000); /* its bss runs past ram_end */
    wr32(img + 52 + 8, 0x1100000 - 0x2000);
    wr32(img + 24, 0x1100000 - 0x2000 + 0x10);
    add_module(img, sizeof img, "l1.elf");
    assert_false(l1_build(&bi, RAM, CAPS, &vm));
    assert_str_contains(capture_text(), "lies outside L1's RAM");
}

TEST(l1_build_module_that_does_not_fit)
{
    build_kernel(true);
    add_module(img, sizeof img, "l1.elf");
    static uint8_t big[0x200000];
    add_module(big, sizeof big, "huge");
    assert_false(l1_build(&bi, 2 * MiB, CAPS, &vm));
    assert_str_contains(capture_text(), "module 1 ('huge', 2097152 bytes) does not fit in L1's RAM");
}

TEST(l1_build_out_of_host_memory)
{
    build_kernel(true);
    add_module(img, sizeof img, "l1.elf");
    /* 512 MiB asked, 64 MiB of fake memory. */
    assert_false(l1_build(&bi, 512 * MiB, CAPS, &vm));
    assert_str_contains(capture_text(), "out of host memory while giving L1 its RAM at guest-physical 0x");
}

TEST(l1_build_impossible_layout)
{
    build_kernel(true);
    add_module(img, sizeof img, "l1.elf");
    assert_false(l1_build(&bi, 0x80000, CAPS, &vm));
    assert_str_contains(capture_text(), "cannot lay out L1's memory: L1 would get only 0x80000 bytes of RAM");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(l1_build_loads_a_multiboot2_kernel),
        T(l1_ram_is_private_host_memory),
        T(l1_identity_regions_and_holes),
        T(l1_device_space_is_identity_uncached),
        T(l1_device_space_without_1g_pages),
        T(l1_keep_out_range_not_mapped), /* last: the keep-out table is global and stays filled */
        T(l1_build_loads_a_multiboot1_kernel),
        T(l1_build_without_modules),
        T(l1_build_rejects_a_non_elf_kernel),
        T(l1_build_rejects_segments_outside_l1_ram),
        T(l1_build_module_that_does_not_fit),
        T(l1_build_out_of_host_memory),
        T(l1_build_impossible_layout),
    };
#undef T
    return RUN_GROUP("l1_loader", tests, fakemem_group_setup, fakemem_group_teardown);
}
