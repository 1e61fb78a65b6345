/*
 * Building L1: allocate and map its RAM (EPT01), load its kernel (module 0)
 * per its ELF program headers, copy the other modules after it, and write its
 * Multiboot information. Every failure names the module and the reason.
 */
#include "nestor/bzimage.h"
#include "nestor/fmt.h"
#include "nestor/l1.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/palloc.h"
#include "nestor/physmem.h"
#include "nestor/vmx.h"

/* What a 4-level EPT can address; without 1 GiB pages device space is mapped up to 512 GiB (2 MiB of tables). */
#define EPT_GPA_LIMIT ((uint64_t)1 << 48)
#define DEVICE_LIMIT_NO_1G (512 * GiB)

#define MBI_BUF_SIZE (32 * KiB)
static uint8_t mbi_buf[MBI_BUF_SIZE] __attribute__((aligned(8)));

/* Tries to allocate want bytes aligned to align, halving (in whole align units) until something fits. */
static paddr_t alloc_block(uint64_t *want, uint64_t align)
{
    for (uint64_t w = ALIGN_DOWN(*want, align); w >= align; w = ALIGN_DOWN(w / 2, align)) {
        paddr_t hpa = palloc_alloc(&g_palloc, w / PAGE_SIZE, align / PAGE_SIZE);
        if (hpa) {
            *want = w;
            return hpa;
        }
    }
    return 0;
}

/* RAM is taken in the largest aligned blocks available so EPT01 can use 2 MiB / 1 GiB pages. */
static bool map_ram_range(struct l1_vm *vm, gpa_t gpa, gpa_t end)
{
    while (gpa < end) {
        uint64_t want = end - gpa, got = 0;
        paddr_t hpa = 0;
        if (IS_ALIGNED(gpa, GiB) && want >= GiB && vm->ept.large_1g) {
            got = want;
            hpa = alloc_block(&got, GiB);
        }
        if (!hpa && IS_ALIGNED(gpa, 2 * MiB) && want >= 2 * MiB) {
            got = want;
            hpa = alloc_block(&got, 2 * MiB);
        }
        if (!hpa) {
            got = MIN(want, ALIGN_UP(gpa + 1, 2 * MiB) - gpa);
            hpa = alloc_block(&got, PAGE_SIZE);
        }
        if (!hpa) {
            log_error("out of host memory while giving L1 its RAM at guest-physical 0x%lx", gpa);
            return false;
        }
        if (!ept_map(&vm->ept, gpa, hpa, got, EPT_RWX, MEMTYPE_WB)) {
            log_error("EPT01: cannot map L1 RAM 0x%lx+0x%lx", gpa, got);
            return false;
        }
        vm->ram_hpa_chunks++;
        gpa += got;
    }
    return true;
}

static bool map_ram(struct l1_vm *vm)
{
    for (unsigned i = 0; i < vm->mem.ram_count; i++) {
        const struct l1_ram_range *r = &vm->mem.ram[i];
        if (!map_ram_range(vm, r->gpa, r->gpa + r->size))
            return false;
        log_debug("EPT01: L1 RAM   gpa 0x%08lx-0x%08lx", r->gpa, r->gpa + r->size - 1);
    }
    return true;
}

static struct l1_keep_out keep_out[L1_MAX_KEEP_OUT];
static unsigned keep_out_count;

bool l1_keep_out(uint64_t base, uint64_t size, const char *what)
{
    if (keep_out_count == L1_MAX_KEEP_OUT) {
        log_error("cannot keep %s at 0x%lx+0x%lx out of L1's reach: more than %u such ranges", what, base, size,
                  (unsigned)L1_MAX_KEEP_OUT);
        return false;
    }
    keep_out[keep_out_count++] = (struct l1_keep_out){base, size, what};
    log_info("L1 devices: %s at 0x%lx-0x%lx kept out of L1's reach (accesses exit to Nestor)", what, base,
             base + size - 1);
    return true;
}

/* Where device space ends for L1: the CPU's MAXPHYADDR, what EPT can map, and what we map without 1 GiB pages. */
static uint64_t device_limit(uint64_t ept_caps)
{
    uint64_t limit = g_vmx_caps.phys_addr_mask ? g_vmx_caps.phys_addr_mask + 1 : 4 * GiB;
    limit = MIN(limit, EPT_GPA_LIMIT);
    if (!(ept_caps & EPT_CAP_1GB_PAGE) && limit > DEVICE_LIMIT_NO_1G) {
        log_info("EPT01: no 1 GiB pages; device space above 0x%lx is not mapped for L1", DEVICE_LIMIT_NO_1G);
        limit = DEVICE_LIMIT_NO_1G;
    }
    return limit;
}

static bool map_identity_regions(struct l1_vm *vm)
{
    for (unsigned i = 0; i < vm->mem.region_count; i++) {
        const struct l1_region *r = &vm->mem.regions[i];
        if (!ept_map(&vm->ept, r->gpa, r->gpa, r->size, r->perms, r->memtype)) {
            log_error("EPT01: cannot map %s at 0x%lx+0x%lx", r->what, r->gpa, r->size);
            return false;
        }
        log_debug("EPT01: %-10s gpa 0x%08lx-0x%08lx identity %c%c%c %s", r->what, r->gpa, r->gpa + r->size - 1,
                  (r->perms & EPT_R) ? 'r' : '-', (r->perms & EPT_W) ? 'w' : '-', (r->perms & EPT_X) ? 'x' : '-',
                  r->memtype == MEMTYPE_UC ? "UC" : "WB");
    }
    return true;
}

static bool load_kernel(struct l1_vm *vm, const struct boot_module *m)
{
    const uint8_t *img = phys_to_virt(m->start);
    size_t len = m->end - m->start;
    struct kernel_image *ki = &vm->kimg;
    if (!kimg_parse(img, len, ki)) {
        log_always("L1 kernel (module 0, '%s', %zu bytes) rejected: %s", m->cmdline, len, ki->error);
        return false;
    }
    for (unsigned i = 0; i < ki->segment_count; i++) {
        const struct kimg_segment *s = &ki->segments[i];
        if (!l1_segment_in_ram(&vm->mem, s->paddr, s->memsz)) {
            log_always("L1 kernel rejected: segment %u at 0x%lx-0x%lx lies outside L1's RAM [0x%lx, 0x%lx) and "
                       "its low RAM [0x%lx, 0x%lx) below the EBDA",
                       i, s->paddr, s->paddr + s->memsz, L1_RAM_BASE, vm->mem.ram_end, L1_LOW_LOAD_START,
                       (uint64_t)vm->mem.mem_lower_kb * KiB);
            return false;
        }
        if (!gmem_write(&vm->ept, s->paddr, img + s->offset, s->filesz) ||
            !gmem_zero(&vm->ept, s->paddr + s->filesz, s->memsz - s->filesz)) {
            log_error("cannot write L1 segment %u at 0x%lx", i, s->paddr);
            return false;
        }
    }
    vm->entry = (struct l1_entry){
        .rip = ki->entry,
        .rax = ki->protocol == KIMG_MULTIBOOT2 ? MB2_BOOTLOADER_MAGIC : MB1_BOOTLOADER_MAGIC,
        .cs = 0x08,
        .ds = 0x10,
        .gdtr_limit = 0xffff,
    };
    log_info("L1 kernel: %s ELF%u, loaded at 0x%lx-0x%lx, entry 0x%lx, command line '%s'",
             ki->protocol == KIMG_MULTIBOOT2 ? "Multiboot2" : "Multiboot", ki->elf_class, ki->load_start,
             ki->load_end, ki->entry, m->cmdline);
    return true;
}

bool l1_build(const struct boot_info *bi, uint64_t ram_bytes, uint64_t ept_caps, struct l1_vm *vm)
{
    memset(vm, 0, sizeof *vm);
    if (bi->module_count == 0) {
        log_always("no L1 kernel: GRUB passed no module. Add 'module2 /boot/l1.elf ARGS' after 'multiboot2 /boot/nestor' in grub.cfg");
        return false;
    }
    if (!l1_plan_memory(bi, ram_bytes, device_limit(ept_caps), keep_out, keep_out_count, &vm->mem)) {
        log_always("cannot lay out L1's memory: %s", vm->mem.error);
        return false;
    }
    if (!ept_init(&vm->ept, ept_caps)) {
        log_error("out of memory for EPT01");
        return false;
    }
    if (!map_ram(vm) || !map_identity_regions(vm))
        return false;
    log_info("L1 RAM: %lu MiB at guest-physical 0x%lx-0x%lx%s in %lu host blocks; EPT01: %lu x 1G, %lu x 2M, %lu x 4K, %u table pages",
             vm->mem.ram_total / MiB, L1_RAM_BASE, vm->mem.ram[vm->mem.ram_count - 1].gpa + vm->mem.ram[vm->mem.ram_count - 1].size - 1,
             vm->mem.ram_count > 1 ? " (with holes)" : "", vm->ram_hpa_chunks, vm->ept.mapped_1g,
             vm->ept.mapped_2m, vm->ept.mapped_4k, vm->ept.table_pages);
    log_info("L1 devices: everything that is not host RAM, identity and uncached, up to 0x%lx", vm->mem.phys_limit);

    const struct boot_module *m0 = &bi->modules[0];
    if (bzimage_detect(phys_to_virt(m0->start), m0->end - m0->start))
        return l1_load_linux(bi, vm);
    if (!load_kernel(vm, m0))
        return false;

    /* Further modules follow the kernel image, page aligned. */
    static struct l1_module mods[BOOT_MAX_MODULES];
    gpa_t cursor = ALIGN_UP(MAX(vm->kimg.load_end, L1_RAM_BASE), PAGE_SIZE); /* a kernel in low RAM: after 1 MiB */
    unsigned nmods = 0;
    for (unsigned i = 1; i < bi->module_count; i++) {
        const struct boot_module *m = &bi->modules[i];
        uint64_t size = m->end - m->start;
        if (cursor + size + MBI_BUF_SIZE > vm->mem.ram_end) {
            log_always("module %u ('%s', %lu bytes) does not fit in L1's RAM", i, m->cmdline, size);
            return false;
        }
        if (!gmem_write(&vm->ept, cursor, phys_to_virt(m->start), size))
            return false;
        mods[nmods++] = (struct l1_module){cursor, cursor + size, m->cmdline};
        log_info("L1 module %u: '%s', %lu bytes at guest-physical 0x%lx", nmods - 1, m->cmdline, size, cursor);
        cursor = ALIGN_UP(cursor + size, PAGE_SIZE);
    }

    struct l1_bootinfo_src src = {
        .cmdline = bi->modules[0].cmdline,
        .mem_lower_kb = vm->mem.mem_lower_kb,
        .mem_upper_kb = (uint32_t)(vm->mem.ram_bytes / KiB),
        .map = vm->mem.map,
        .map_count = vm->mem.map_count,
        .modules = mods,
        .module_count = nmods,
    };
    size_t size = vm->kimg.protocol == KIMG_MULTIBOOT2 ? mbi2_build(mbi_buf, sizeof mbi_buf, cursor, &src)
                                                       : mbi1_build(mbi_buf, sizeof mbi_buf, cursor, &src);
    if (size && vm->kimg.protocol == KIMG_MULTIBOOT2 && bi->rsdp_len) /* ACPI tags: L1 needs no BIOS-area scan */
        size = mbi2_add_acpi(mbi_buf, sizeof mbi_buf, size, bi->rsdp, bi->rsdp_len);
    if (!size || cursor + size > vm->mem.ram_end || !gmem_write(&vm->ept, cursor, mbi_buf, size)) {
        log_always("cannot place L1's boot information at 0x%lx", cursor);
        return false;
    }
    vm->boot_info_gpa = cursor;
    vm->entry.rbx = cursor;
    log_debug("L1 boot information: %zu bytes at guest-physical 0x%lx", size, cursor);
    return true;
}
