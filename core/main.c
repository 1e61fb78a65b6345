/*
 * Nestor's start: from the boot information to L1 running, then the end of
 * the run. Each step logs what it decided; each failure says why in one line.
 */
#include "nestor/arch.h"
#include "nestor/bootinfo.h"
#include "nestor/cmdline.h"
#include "nestor/console.h"
#include "nestor/cpu.h"
#include "nestor/l1.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/palloc.h"
#include "nestor/physmem.h"
#include "nestor/platform.h"
#include "nestor/startup.h"
#include "nestor/vcpu.h"
#include "nestor/version.h"
#include "nestor/vmx.h"
#include "../vmx/exit_handlers.h"

/* Memory Nestor keeps for itself (page tables, VMCSs, bitmaps, later shadow EPTs). */
#define L0_RESERVE (32 * MiB)

extern char __image_start[], __image_end[];
NORETURN void nestor_main(uint32_t magic, uint32_t mbi_phys);

static struct boot_info boot_info;
static struct l1_vm l1;
static struct vcpu vcpu0;

static const char *mmap_type_name(uint32_t t)
{
    switch (t) {
    case MMAP_USABLE: return "usable";
    case MMAP_RESERVED: return "reserved";
    case MMAP_ACPI_RECLAIMABLE: return "ACPI";
    case MMAP_ACPI_NVS: return "ACPI NVS";
    case MMAP_BAD: return "bad";
    default: return "other";
    }
}

static void apply_options(const char *cmdline)
{
    char val[32];
    if (cmdline_get(cmdline, "loglevel", val, sizeof val) && !log_set_level(val))
        log_warn("loglevel=%s not understood (error|warn|info|debug|trace); keeping %s", val,
                 log_level_name(log_get_level()));
    enum platform_exit_mode mode;
    if (cmdline_get(cmdline, "exit", val, sizeof val)) {
        if (platform_parse_exit_mode(val, &mode))
            platform_set_exit_mode(mode);
        else
            log_warn("exit=%s not understood (auto|qemu|bochs|halt)", val);
    }
    if (cmdline_get(cmdline, "e9", val, sizeof val))
        console_enable_e9(strcmp(val, "1") == 0);
}

static void memory_init(const struct boot_info *bi)
{
    palloc_init(&g_palloc);
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct mmap_entry *m = &bi->mmap[i];
        log_debug("  memory 0x%016lx-0x%016lx %s", m->base, m->base + m->len - 1, mmap_type_name(m->type));
        if (m->type == MMAP_USABLE)
            palloc_add_free(&g_palloc, m->base, m->base + m->len);
    }
    /* The first MiB belongs to L1 (identity-mapped); the rest is what GRUB put there. */
    palloc_reserve(&g_palloc, 0, MiB);
    palloc_reserve(&g_palloc, virt_to_phys(__image_start), virt_to_phys(__image_end));
    palloc_reserve(&g_palloc, bi->mbi_phys, bi->mbi_phys + bi->mbi_size);
    for (unsigned i = 0; i < bi->module_count; i++)
        palloc_reserve(&g_palloc, bi->modules[i].start, bi->modules[i].end);
    log_info("memory: %lu MiB free after Nestor (0x%lx-0x%lx), boot information and %u modules", 
             palloc_free_pages(&g_palloc) * PAGE_SIZE / MiB, virt_to_phys(__image_start), virt_to_phys(__image_end),
             bi->module_count);
}

/*
 * selftest=fault makes Nestor fault on purpose (a write to an unmapped low
 * address) so the boot tests can check the exception report end to end.
 */
static void selftest(const char *cmdline)
{
    char val[16];
    if (!cmdline_get(cmdline, "selftest", val, sizeof val))
        return;
    if (strcmp(val, "fault") == 0) {
        log_always("selftest: writing to unmapped address 0x10");
        volatile uint64_t *volatile target = (volatile uint64_t *)(uintptr_t)0x10;
        *target = 1;
    }
    log_warn("selftest=%s not understood (fault)", val);
}

static uint64_t l1_ram_size(const struct boot_info *bi)
{
    uint64_t free = palloc_free_pages(&g_palloc) * PAGE_SIZE;
    uint64_t want = free > L0_RESERVE + 2 * MiB ? free - L0_RESERVE : 0;
    uint64_t mib;
    if (cmdline_get_u64(bi->cmdline, "l1_mem", &mib)) {
        if (mib * MiB > want)
            log_warn("l1_mem=%lu MiB is more than the %lu MiB available; using %lu MiB", mib, want / MiB, want / MiB);
        else
            want = mib * MiB;
    }
    /* RAM starts at 1 MiB: end it on a 2 MiB boundary so EPT01 uses large pages to the end. */
    return want > 2 * MiB ? ALIGN_DOWN(want + MiB, 2 * MiB) - MiB : want;
}

static NORETURN void finish(uint32_t status, uint64_t checksum)
{
    exit_stats_print(&vcpu0);
    uint64_t now = image_checksum();
    if (now == checksum)
        log_always("image checksum ok (0x%016lx): Nestor's code and data unchanged", now);
    else
        log_always("image checksum MISMATCH: 0x%016lx at boot, 0x%016lx now", checksum, now);
    platform_exit(now == checksum ? status : STATUS_NESTOR_PANIC);
}

NORETURN void nestor_main(uint32_t magic, uint32_t mbi_phys)
{
    console_init();
    gdt_init();
    idt_init();
    log_always("Nestor %s, a nested-virtualization hypervisor", NESTOR_VERSION);

    if (magic != MB2_BOOTLOADER_MAGIC) {
        log_always("not started by a Multiboot2 boot loader (EAX = 0x%x, expected 0x%x): boot Nestor with "
                   "GRUB's multiboot2 command", magic, MB2_BOOTLOADER_MAGIC);
        platform_exit(STATUS_BAD_BOOT);
    }
    const uint8_t *mbi = phys_to_virt(mbi_phys);
    uint32_t total = *(const uint32_t *)mbi;
    if (!mb2_parse(mbi, total, &boot_info)) {
        log_always("bad boot information at 0x%x: %s", mbi_phys, boot_info.error);
        platform_exit(STATUS_BAD_BOOT);
    }
    boot_info.mbi_phys = mbi_phys;
    apply_options(boot_info.cmdline);
    log_info("command line: '%s'; boot loader: '%s'; log level %s", boot_info.cmdline, boot_info.loader_name,
             log_level_name(log_get_level()));

    memory_init(&boot_info);
    paging_init(&boot_info);
    uint64_t checksum = image_checksum();
    selftest(boot_info.cmdline);

    if (!vmx_enable())
        platform_exit(STATUS_NO_VMX);

    if (!l1_build(&boot_info, l1_ram_size(&boot_info), g_vmx_caps.ept_vpid, &l1))
        platform_exit(STATUS_BAD_BOOT);

    vcpu_io_init(&vcpu0);
    if (!vmcs01_setup(&vcpu0, &l1))
        platform_exit(STATUS_NESTOR_PANIC);
    uint64_t nested = 1, shadowing = 1, nested_ept = 1;
    cmdline_get_u64(boot_info.cmdline, "nested", &nested);
    cmdline_get_u64(boot_info.cmdline, "vmcs_shadowing", &shadowing);
    cmdline_get_u64(boot_info.cmdline, "nested_ept", &nested_ept);
    nested_init(&vcpu0, nested != 0, shadowing != 0, nested_ept != 0);

    uint32_t status = vcpu_run(&vcpu0);
    finish(status, checksum);
}
