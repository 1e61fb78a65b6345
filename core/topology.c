/*
 * Finding the machine's CPUs: the ACPI MADT first (RSDP from the boot
 * loader's tag when it gave one, else the legacy BIOS-area search), the MP
 * table as the fallback, and the boot CPU alone when neither is there. Also
 * hiding from L1 the CPUs it does not get, in the firmware's own tables, and
 * finding the FADT's poweroff ports with the same RSDP (the boot loader's on
 * UEFI, where no BIOS area exists to search).
 */
#include "nestor/acpi.h"
#include "nestor/bootinfo.h"
#include "nestor/fmt.h"
#include "nestor/l1.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/physmem.h"
#include "nestor/topology.h"

/* Nestor may read what its direct map covers: the low 4 GiB, and RAM and ACPI memory above. */
static const void *view(uint64_t pa, size_t len, void *ctx)
{
    const struct boot_info *bi = ctx;
    if (pa + len < pa)
        return NULL;
    if (pa + len <= 4 * GiB)
        return phys_to_virt(pa);
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct mmap_entry *m = &bi->mmap[i];
        bool mapped = m->type == MMAP_USABLE || m->type == MMAP_ACPI_RECLAIMABLE || m->type == MMAP_ACPI_NVS;
        if (mapped && pa >= m->base && pa + len <= m->base + m->len)
            return phys_to_virt(pa);
    }
    return NULL;
}

/*
 * The RSDP: the boot loader's ACPI tag, else (legacy BIOS boot) the BIOS-area
 * search, whose find is kept in bi so that L1 gets the same hand-off.
 */
static bool find_rsdp(struct boot_info *bi, const char **where)
{
    *where = "boot loader";
    if (bi->rsdp_len)
        return true;
    uint64_t pa;
    const uint8_t *p;
    if (bi->efi64 || !acpi_rsdp_scan(view, bi, &pa) || !(p = view(pa, ACPI_RSDP_V2_LEN, bi)))
        return false;
    *where = "BIOS area";
    /* A revision-0 RSDP is 20 bytes: boot_info_set_rsdp reads only what its revision says. */
    return boot_info_set_rsdp(bi, p, ACPI_RSDP_V2_LEN);
}

/* The PCIe ECAM windows hold the host bridge's SMRAM controls: L1 must reach them only through Nestor. */
static void keep_ecam_from_l1(const struct boot_info *bi)
{
    struct acpi_ecam ecam[8];
    unsigned n = 0;
    struct platform_info scratch;
    memset(&scratch, 0, sizeof scratch);
    if (!acpi_read_mcfg(bi->rsdp, bi->rsdp_len, view, (void *)bi, ecam, ARRAY_SIZE(ecam), &n, &scratch)) {
        log_warn("ACPI MCFG: %s", scratch.error);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t base = ecam[i].base + ((uint64_t)ecam[i].bus_start << 20);
        uint64_t size = (uint64_t)(ecam[i].bus_end - ecam[i].bus_start + 1) << 20;
        if (!l1_keep_out(base, size, "PCIe ECAM"))
            log_warn("PCIe ECAM at 0x%lx: no room to keep it out of L1's reach", base);
    }
}

/* The FADT's PM1 control ports, read once at boot (before any CPU of L1 runs), then only read. */
static struct acpi_pm1 machine_pm1;
static bool machine_pm1_found;

bool topology_pm1_ports(struct acpi_pm1 *out)
{
    *out = machine_pm1;
    return machine_pm1_found;
}

static void find_pm1_ports(const struct boot_info *bi)
{
    struct platform_info scratch;
    machine_pm1_found = acpi_read_pm1(bi->rsdp, bi->rsdp_len, view, (void *)bi, &machine_pm1, &scratch);
    if (!machine_pm1_found)
        log_warn("ACPI FADT: %s", scratch.error);
    else if (machine_pm1.b_cnt)
        log_info("ACPI FADT: PM1a_CNT at port 0x%x, PM1b_CNT at 0x%x (L1's poweroff is trapped there)",
                 machine_pm1.a_cnt, machine_pm1.b_cnt);
    else
        log_info("ACPI FADT: PM1a_CNT at port 0x%x (L1's poweroff is trapped there)", machine_pm1.a_cnt);
}

static bool from_acpi(struct boot_info *bi, struct platform_info *pi)
{
    const char *where;
    if (!find_rsdp(bi, &where))
        return false;
    keep_ecam_from_l1(bi);
    find_pm1_ports(bi);
    if (!acpi_read_madt(bi->rsdp, bi->rsdp_len, view, bi, pi)) {
        log_warn("ACPI (RSDP from the %s): %s", where, pi->error);
        return false;
    }
    log_info("ACPI: RSDP from the %s, revision %u; MADT at 0x%lx", where, pi->acpi_revision, pi->madt_pa);
    return true;
}

bool topology_discover(struct boot_info *bi, struct platform_info *pi)
{
    memset(pi, 0, sizeof *pi);
    if (!from_acpi(bi, pi)) {
        memset(pi, 0, sizeof *pi);
        uint64_t mpfp;
        if (!mptable_scan(view, (void *)bi, &mpfp) || !mptable_read(view, (void *)bi, mpfp, pi)) {
            log_warn("no ACPI MADT and no MP table%s%s: running on the boot CPU only", pi->error[0] ? ": " : "",
                     pi->error);
            return false;
        }
    }
    char ids[128];
    size_t used = 0;
    ids[0] = 0;
    unsigned enabled = 0;
    for (unsigned i = 0; i < pi->cpu_count; i++) {
        if (!pi->cpus[i].enabled)
            continue;
        enabled++;
        if (used + 12 < sizeof ids)
            used += (size_t)fmt_snprintf(ids + used, sizeof ids - used, "%s%u", used ? " " : "", pi->cpus[i].apic_id);
    }
    log_info("CPUs: %u enabled in the %s (APIC IDs %s)%s; %u I/O APIC(s), local APIC at 0x%lx", enabled, pi->source,
             ids, pi->cpus_ignored ? ", more ignored" : "", pi->ioapic_count, pi->lapic_addr);
    return true;
}

void topology_hide_cpus(const struct boot_info *bi, const struct platform_info *pi, const uint32_t *keep,
                        unsigned nkeep)
{
    if (pi->madt_len) {
        uint8_t *madt = (uint8_t *)view(pi->madt_pa, pi->madt_len, (void *)bi);
        unsigned n = madt ? acpi_madt_hide_cpus(madt, pi->madt_len, keep, nkeep) : 0;
        if (n)
            log_info("ACPI MADT: %u CPU(s) marked disabled for L1", n);
    }
    /* The MP table may sit in BIOS ROM shadow the chipset keeps read-only: check that the change held. */
    uint64_t mpfp;
    struct platform_info mp;
    memset(&mp, 0, sizeof mp);
    if (mptable_scan(view, (void *)bi, &mpfp) && mptable_read(view, (void *)bi, mpfp, &mp) && mp.mpc_len) {
        uint8_t *mpc = (uint8_t *)view(mp.mpc_pa, mp.mpc_len, (void *)bi);
        unsigned n = mpc ? mptable_hide_cpus(mpc, mp.mpc_len, keep, nkeep) : 0;
        struct platform_info after;
        memset(&after, 0, sizeof after);
        unsigned still = 0;
        if (n && mptable_read(view, (void *)bi, mpfp, &after))
            for (unsigned i = 0; i < after.cpu_count; i++)
                still += after.cpus[i].enabled;
        if (n && still > nkeep)
            log_warn("MP table at 0x%lx is read-only (BIOS shadow): L1 may see %u CPUs there, but only %u start",
                     mp.mpc_pa, still, nkeep);
        else if (n)
            log_info("MP table: %u CPU(s) marked disabled for L1", n);
    }
}
