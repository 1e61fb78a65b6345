/*
 * Loading a Linux bzImage as L1 (x86 boot protocol, 32-bit entry): the
 * protected-mode kernel at its preferred address, the zero page with an e820
 * map of L1's memory only (Nestor's is not in it), the command line from the
 * module string, an initrd from the next module, and a GDT with __BOOT_CS
 * (0x10) and __BOOT_DS (0x18), which the 32-bit entry requires.
 */
#include "nestor/bzimage.h"
#include "nestor/l1.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/physmem.h"

/*
 * In L1's low memory (identity-mapped, usable), where boot loaders
 * traditionally put them. The RSDP copy's page is marked reserved in L1's
 * e820 so Linux keeps it; the command line has two pages (BOOT_CMDLINE_MAX).
 */
#define ZERO_PAGE_GPA 0x10000ull
#define GDT_GPA 0x11000ull
#define RSDP_GPA ((gpa_t)0x12000)
#define CMDLINE_GPA 0x13000ull
#define BOOT_CS 0x10
#define BOOT_DS 0x18

/*
 * ACPI for a Linux L1: a copy of the RSDP in a page its e820 reserves, named
 * by acpi_rsdp_addr (zero-page.rst 0x070, boot protocol 2.14+), so L1 need
 * not scan the BIOS area (there is none on a UEFI machine). The tables it
 * points to stay where the firmware put them, identity-mapped. Returns false
 * only when writing L1's memory fails.
 */
static bool place_rsdp(const struct boot_info *bi, const struct bzimage *bz, struct l1_vm *vm, struct bz_boot *b)
{
    static struct mmap_entry e820[BOOT_MAX_MMAP + 2];
    if (!bi->rsdp_len) {
        log_info("L1 ACPI: no RSDP from the boot loader or the BIOS area; Linux looks for ACPI itself");
        return true;
    }
    if (!bzimage_takes_acpi_rsdp_addr(bz)) {
        log_warn("L1 ACPI: this kernel's boot protocol 2.%02x predates acpi_rsdp_addr (2.14): it must find the "
                 "RSDP by scanning the BIOS area, which a UEFI machine does not have", bz->version & 0xff);
        return true;
    }
    unsigned n = bz_e820_reserve(e820, ARRAY_SIZE(e820), vm->mem.map, vm->mem.map_count, RSDP_GPA, PAGE_SIZE);
    if (!n) {
        log_warn("L1 ACPI: guest-physical 0x%lx is not usable low memory in L1's map: no acpi_rsdp_addr", RSDP_GPA);
        return true;
    }
    if (!gmem_zero(&vm->ept, RSDP_GPA, PAGE_SIZE) || !gmem_write(&vm->ept, RSDP_GPA, bi->rsdp, bi->rsdp_len))
        return false;
    b->acpi_rsdp_gpa = RSDP_GPA;
    b->e820 = e820;
    b->e820_count = n;
    log_info("L1 ACPI: RSDP revision %u (%u bytes, %s) copied to guest-physical 0x%lx, reserved in its e820; "
             "acpi_rsdp_addr set", bi->rsdp[15], bi->rsdp_len,
             bi->rsdp_tag ? (bi->rsdp_tag == 15 ? "GRUB's new ACPI tag" : "GRUB's old ACPI tag") : "BIOS area",
             RSDP_GPA);
    return true;
}

bool l1_load_linux(const struct boot_info *bi, struct l1_vm *vm)
{
    const struct boot_module *m = &bi->modules[0];
    const uint8_t *img = phys_to_virt(m->start);
    size_t len = m->end - m->start;
    struct bzimage bz;
    if (!bzimage_parse(img, len, &bz)) {
        log_always("L1 kernel (module 0, '%s', %zu bytes) rejected: %s", m->cmdline, len, bz.error);
        return false;
    }
    uint64_t align = bz.relocatable && bz.kernel_alignment ? bz.kernel_alignment : PAGE_SIZE;
    uint64_t load = bz.relocatable && bz.pref_address >= L1_RAM_BASE ? ALIGN_UP(bz.pref_address, align) : L1_RAM_BASE;
    size_t cmdline_len = strlen(m->cmdline);
    if (!bzimage_cmdline_fits(&bz, cmdline_len)) {
        log_always("L1 kernel rejected: its command line is %zu bytes, but this Linux takes at most %u "
                   "(cmdline_size in its boot header); shorten it rather than have it cut", cmdline_len,
                   bz.cmdline_size);
        return false;
    }
    if (load + bz.init_size > vm->mem.ram_end) {
        log_always("L1 kernel rejected: Linux needs 0x%x bytes at 0x%lx but L1's RAM ends at 0x%lx (raise l1_mem)",
                   bz.init_size, load, vm->mem.ram_end);
        return false;
    }
    if (!gmem_write(&vm->ept, load, img + bz.pm_offset, bz.pm_size))
        return false;

    struct bz_boot b = {.load_address = (uint32_t)load, .cmdline_gpa = (uint32_t)CMDLINE_GPA,
                        .e820 = vm->mem.map, .e820_count = vm->mem.map_count};
    if (bi->module_count > 1) {
        const struct boot_module *rd = &bi->modules[1];
        uint64_t size = rd->end - rd->start;
        uint64_t top = MIN(vm->mem.ram_end, (uint64_t)bz.initrd_addr_max + 1);
        uint64_t at = ALIGN_DOWN(top - size, PAGE_SIZE);
        if (size > top || at < load + bz.init_size) {
            log_always("initrd (module 1, %lu bytes) does not fit in L1's RAM above the kernel", size);
            return false;
        }
        if (!gmem_write(&vm->ept, at, phys_to_virt(rd->start), size))
            return false;
        b.initrd_gpa = (uint32_t)at;
        b.initrd_size = (uint32_t)size;
        log_info("L1 initrd: '%s', %lu bytes at guest-physical 0x%lx", rd->cmdline, size, at);
        for (unsigned i = 2; i < bi->module_count; i++)
            log_warn("module %u ('%s') ignored: a Linux L1 takes one initrd", i, bi->modules[i].cmdline);
    }

    if (!place_rsdp(bi, &bz, vm, &b))
        return false;
    static uint8_t zp[BZ_ZERO_PAGE_SIZE];
    bzimage_zero_page(zp, img, &bz, &b);
    static const uint64_t gdt[4] = {0, 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};
    if (!gmem_write(&vm->ept, CMDLINE_GPA, m->cmdline, cmdline_len + 1) ||
        !gmem_write(&vm->ept, ZERO_PAGE_GPA, zp, sizeof zp) || !gmem_write(&vm->ept, GDT_GPA, gdt, sizeof gdt))
        return false;
    vm->boot_info_gpa = ZERO_PAGE_GPA;
    vm->entry = (struct l1_entry){
        .rip = load,
        .rsi = ZERO_PAGE_GPA,
        .cs = BOOT_CS,
        .ds = BOOT_DS,
        .gdtr_base = GDT_GPA,
        .gdtr_limit = sizeof gdt - 1,
    };
    log_info("L1 kernel: Linux bzImage, boot protocol 2.%02x, %zu bytes at 0x%lx (init size 0x%x), command line '%s'",
             bz.version & 0xff, bz.pm_size, load, bz.init_size, m->cmdline);
    return true;
}
