/*
 * Nestor's start: from the boot information to L1 running, then the end of
 * the run. Each step logs what it decided; each failure says why in one line.
 */
#include "nestor/arch.h"
#include "nestor/bootinfo.h"
#include "nestor/cmdline.h"
#include "nestor/gdb_stub.h"
#include "nestor/console.h"
#include "nestor/cpu.h"
#include "nestor/ept.h"
#include "nestor/l1.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/palloc.h"
#include "nestor/percpu.h"
#include "nestor/physmem.h"
#include "nestor/platform.h"
#include "nestor/smp.h"
#include "nestor/startup.h"
#include "nestor/topology.h"
#include "nestor/vcpu.h"
#include "nestor/version.h"
#include "nestor/vmx.h"

/* Memory Nestor keeps for itself (page tables, VMCSs, bitmaps, later shadow EPTs). */
#define L0_RESERVE (32 * MiB)

extern char __image_start[], __image_end[];
NORETURN void nestor_main(uint32_t magic, uint32_t mbi_phys);

static struct boot_info boot_info;
static struct l1_vm l1;
static struct platform_info platform;

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
    enum platform_on_reset on_reset;
    if (cmdline_get(cmdline, "on_reset", val, sizeof val)) {
        if (platform_parse_on_reset(val, &on_reset))
            platform_set_on_reset(on_reset);
        else
            log_warn("on_reset=%s not understood (exit|restart)", val);
    }
    if (cmdline_get(cmdline, "e9", val, sizeof val))
        console_enable_e9(strcmp(val, "1") == 0);
    console_input_options(cmdline);
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

/*
 * Every CPU the firmware lists is started and held by Nestor (core/smp.c):
 * none may be left for L1 to start outside VMX. Each turns VMX on with the
 * same capabilities as the BSP, or is refused and kept out of L1.
 */
static void cpus_init(struct boot_info *bi)
{
    bool found = topology_discover(bi, &platform);
    if (!found) {
        platform.cpu_count = 0;
        g_cpus[0] = percpu_bsp();
        g_cpu_count = 1;
        g_cpus_online = 1;
        return;
    }
    unsigned started = smp_start_aps(&platform);
    log_info("%u of %u CPU(s) running Nestor", started + 1, g_cpu_count);
}

static bool cpus_vmx_on(void)
{
    if (!vmx_cpu_on(true))
        return false;
    for (unsigned i = 1; i < g_cpu_count; i++) {
        struct percpu *p = g_cpus[i];
        if (p->state != CPU_ALIVE)
            continue;
        smp_order(p, ORDER_VMX_ON);
        smp_wait_state(p, CPU_ALIVE, 2000000000ull);
    }
    return true;
}

static uint64_t cpus_option(const struct boot_info *bi)
{
    uint64_t max = MAX_CPUS;
    if (cmdline_get_u64(bi->cmdline, "cpus", &max) && max == 0) {
        log_warn("cpus=0 makes no sense: L1 gets one CPU");
        max = 1;
    }
    return MIN(max, (uint64_t)MAX_CPUS);
}

/* The local APIC page: out of EPT01's device mapping, then mapped on its own (vmx/exit_lapic.c says why). */
static void lapic_keep_out(void)
{
    g_lapic_trap.page = rdmsr(MSR_IA32_APIC_BASE) & ~(PAGE_SIZE - 1) & g_vmx_caps.phys_addr_mask;
    l1_keep_out(g_lapic_trap.page, PAGE_SIZE, "local APIC");
}

/* With two or more CPUs for L1, its APIC writes are trapped (read-only): INIT and SIPI are Nestor's to deliver. */
static void lapic_map(uint64_t max_cpus)
{
    unsigned l1_cpus = 1;
    for (unsigned i = 1; i < g_cpu_count; i++)
        l1_cpus += g_cpus[i]->state == CPU_VMX_ON;
    g_lapic_trap.on = MIN((uint64_t)l1_cpus, max_cpus) > 1;
    uint64_t perms = g_lapic_trap.on ? EPT_R : EPT_R | EPT_W;
    if (!ept_map(&l1.ept, g_lapic_trap.page, g_lapic_trap.page, PAGE_SIZE, perms, MEMTYPE_UC)) {
        log_always("could not map the local APIC page 0x%lx for L1", g_lapic_trap.page);
        platform_exit(STATUS_NESTOR_PANIC);
    }
    log_info("local APIC at 0x%lx: %s", g_lapic_trap.page,
             g_lapic_trap.on ? "L1's writes trapped (INIT and SIPI delivered by Nestor)" : "passed through");
}

/* cpus=N: L1's CPU count; the rest stay parked in VMX root and are hidden from L1's MADT and MP table. */
static void cpus_start_l1(const struct boot_info *bi, uint64_t max)
{
    struct l1_cpu_options opt = {true, true, true, true};
    uint64_t nested = 1, shadowing = 1, nested_ept = 1, prefetch = 1;
    cmdline_get_u64(bi->cmdline, "nested", &nested);
    cmdline_get_u64(bi->cmdline, "vmcs_shadowing", &shadowing);
    cmdline_get_u64(bi->cmdline, "nested_ept", &nested_ept);
    cmdline_get_u64(bi->cmdline, "ept02_prefetch", &prefetch);
    opt.ept02_prefetch = prefetch != 0;
    opt.nested = nested != 0;
    opt.vmcs_shadowing = shadowing != 0;
    opt.nested_ept = nested_ept != 0;
    unsigned n = l1_cpus_start(&l1, &opt, (unsigned)max);
    uint32_t keep[MAX_CPUS];
    unsigned nkeep = 0;
    for (unsigned i = 0; i < g_cpu_count; i++)
        if (g_cpus[i]->state == CPU_RUNNING_L1 || i == 0)
            keep[nkeep++] = g_cpus[i]->apic_id;
    if (platform.cpu_count)
        topology_hide_cpus(bi, &platform, keep, nkeep);
    log_info("L1 gets %u CPU(s)", n);
}

NORETURN void nestor_main(uint32_t magic, uint32_t mbi_phys)
{
    idt_init();
    percpu_load(percpu_bsp());
    console_init();
    l1_cpus_init_logging();
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
    char described[256];
    mb2_describe(&boot_info, described, sizeof described);
    log_info("%s", described);

    memory_init(&boot_info);
    paging_init(&boot_info);
    uint64_t checksum = image_checksum();
    selftest(boot_info.cmdline);

    cpus_init(&boot_info);
    if (!cpus_vmx_on())
        platform_exit(STATUS_NO_VMX);

    gdb_stub_configure(boot_info.cmdline); /* before the vCPUs are built: their controls depend on it */
    lapic_keep_out();
    if (!l1_build(&boot_info, l1_ram_size(&boot_info), g_vmx_caps.ept_vpid, &l1))
        platform_exit(STATUS_BAD_BOOT);
    uint64_t max_cpus = cpus_option(&boot_info);
    lapic_map(max_cpus);

    cpus_start_l1(&boot_info, max_cpus);
    l1_cpus_run_bsp(checksum);
}
