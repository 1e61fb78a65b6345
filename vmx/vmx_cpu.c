/*
 * Turning VMX on (SDM vol. 3C 23.6-23.8): CPUID, IA32_FEATURE_CONTROL, the
 * fixed CR0/CR4 bits, the VMXON region, VMXON.
 */
#include "nestor/arch.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/palloc.h"
#include "nestor/percpu.h"
#include "nestor/physmem.h"
#include "nestor/vmx.h"
#include "nestor/vmx_arch.h"
#include "nestor/vmx_ops.h"

#define CPUID_1_ECX_VMX BIT(5)

static void read_caps(struct vmx_caps *c)
{
    c->basic = rdmsr(MSR_IA32_VMX_BASIC);
    c->true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
    c->pin = vmx_ctl_cap_from_msr(rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS));
    c->proc = vmx_ctl_cap_from_msr(rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS));
    c->exit = vmx_ctl_cap_from_msr(rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS));
    c->entry = vmx_ctl_cap_from_msr(rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS));
    c->misc = rdmsr(MSR_IA32_VMX_MISC);
    c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
    c->vmcs_enum = rdmsr(MSR_IA32_VMX_VMCS_ENUM);
    unsigned maxphyaddr = 36;
    if (cpuid(0x80000000, 0).eax >= 0x80000008)
        maxphyaddr = cpuid(0x80000008, 0).eax & 0xff;
    c->phys_addr_mask = BIT(maxphyaddr) - 1;
    /* Secondary controls and EPT exist only if the primary control can be 1 (SDM A.3.3). */
    c->has_proc2 = c->proc.allowed1 & PROC_SECONDARY_CONTROLS;
    if (c->has_proc2) {
        c->proc2 = vmx_ctl_cap_from_msr(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2));
        if (c->proc2.allowed1 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
            c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
        if (c->proc2.allowed1 & PROC2_ENABLE_VMFUNC)
            c->vmfunc = rdmsr(MSR_IA32_VMX_VMFUNC);
    }
}

/*
 * An AP must offer exactly what the BSP offers: VMCS01s, vmcs12 capabilities
 * and L1's view are built once from the BSP's MSRs (SDM 31.5 expects
 * identical capabilities across a system; a CPU that differs is refused).
 */
static bool same_caps(const struct vmx_caps *a, const struct vmx_caps *b)
{
    return a->basic == b->basic && a->misc == b->misc && a->ept_vpid == b->ept_vpid && a->vmfunc == b->vmfunc &&
           a->cr0_fixed0 == b->cr0_fixed0 && a->cr0_fixed1 == b->cr0_fixed1 && a->cr4_fixed0 == b->cr4_fixed0 &&
           a->cr4_fixed1 == b->cr4_fixed1 && a->pin.allowed0 == b->pin.allowed0 &&
           a->pin.allowed1 == b->pin.allowed1 && a->proc.allowed0 == b->proc.allowed0 &&
           a->proc.allowed1 == b->proc.allowed1 && a->proc2.allowed0 == b->proc2.allowed0 &&
           a->proc2.allowed1 == b->proc2.allowed1 && a->exit.allowed0 == b->exit.allowed0 &&
           a->exit.allowed1 == b->exit.allowed1 && a->entry.allowed0 == b->entry.allowed0 &&
           a->entry.allowed1 == b->entry.allowed1 && a->phys_addr_mask == b->phys_addr_mask;
}

bool vmx_cpu_on(bool bsp)
{
    unsigned cpu = this_cpu()->index;
    struct cpuid_regs id = cpuid(0, 0);
    char vendor[13];
    memcpy(vendor, &id.ebx, 4);
    memcpy(vendor + 4, &id.edx, 4);
    memcpy(vendor + 8, &id.ecx, 4);
    vendor[12] = 0;
    if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX)) {
        log_always("VMX not available: CPUID.1:ECX.VMX[bit 5] = 0 on this %s CPU (CPU %u). Nestor needs Intel "
                   "VT-x (QEMU's TCG cannot emulate it; use Bochs, KVM with nested=1, or VT-x hardware)",
                   vendor, cpu);
        return false;
    }

    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    switch (vmx_feature_control_action(fc)) {
    case FC_LOCKED_OFF:
        log_always("VMX disabled by firmware on CPU %u: IA32_FEATURE_CONTROL = 0x%lx is locked with "
                   "VMX-outside-SMX (bit 2) clear; enable VT-x in the firmware setup", cpu, fc);
        return false;
    case FC_SET_AND_LOCK:
        wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCK);
        log_info("IA32_FEATURE_CONTROL was unlocked (0x%lx) on CPU %u: enabled VMX outside SMX and locked it", fc,
                 cpu);
        break;
    case FC_READY:
        break;
    }

    struct vmx_caps mine, *c = bsp ? &g_vmx_caps : &mine;
    read_caps(c);
    if (!bsp && !same_caps(c, &g_vmx_caps)) {
        log_always("CPU %u refused: its VMX capability MSRs differ from the boot CPU's (basic 0x%lx vs 0x%lx, "
                   "proc2 allowed-1 0x%x vs 0x%x, EPT/VPID 0x%lx vs 0x%lx)", cpu, c->basic, g_vmx_caps.basic,
                   c->proc2.allowed1, g_vmx_caps.proc2.allowed1, c->ept_vpid, g_vmx_caps.ept_vpid);
        return false;
    }
    if (bsp)
        log_info("VMX: revision 0x%lx, VMCS region %lu bytes, memory type %lu, %s controls",
                 c->basic & VMX_BASIC_REVISION_MASK, VMX_BASIC_REGION_SIZE(c->basic), VMX_BASIC_MEMTYPE(c->basic),
                 c->true_ctls ? "TRUE" : "default");
    if (VMX_BASIC_REGION_SIZE(c->basic) > PAGE_SIZE || VMX_BASIC_MEMTYPE(c->basic) != MEMTYPE_WB) {
        log_always("VMX not usable: VMCS region size %lu or memory type %lu unsupported (need <= 4096, WB)",
                   VMX_BASIC_REGION_SIZE(c->basic), VMX_BASIC_MEMTYPE(c->basic));
        return false;
    }
    const char *missing = vmx_missing_secondary(c->has_proc2, c->proc2.allowed1);
    if (missing) {
        log_always("VMX without %s (secondary controls allowed-1 = 0x%x): Nestor needs EPT and unrestricted guest "
                   "(Westmere or later; Bochs model corei5_arrandale_m520 or later)",
                   missing, c->has_proc2 ? c->proc2.allowed1 : 0);
        return false;
    }
    if (!(c->ept_vpid & EPT_CAP_WALK_4) || !(c->ept_vpid & EPT_CAP_MEMTYPE_WB)) {
        log_always("EPT without 4-level walks or write-back paging structures (IA32_VMX_EPT_VPID_CAP = 0x%lx)",
                   c->ept_vpid);
        return false;
    }

    /* Long mode already has PE, PG and NE set; this adds VMXE and whatever else the CPU demands. */
    write_cr0(vmx_apply_fixed(read_cr0(), c->cr0_fixed0, c->cr0_fixed1));
    uint64_t cr4 = read_cr4() | CR4_VMXE;
    if (cpuid(1, 0).ecx & BIT(26))
        cr4 |= CR4_OSXSAVE; /* so Nestor can execute XSETBV for L1 */
    write_cr4(vmx_apply_fixed(cr4, c->cr4_fixed0, c->cr4_fixed1));

    paddr_t region = page_try_alloc_zeroed();
    if (!region) {
        log_always("no memory for CPU %u's VMXON region", cpu);
        return false;
    }
    this_cpu()->vmxon_region = region;
    *(uint32_t *)phys_to_virt(region) = (uint32_t)(c->basic & VMX_BASIC_REVISION_MASK);
    int r = vmxon(region);
    if (r != VMX_OK) {
        log_always("VMXON failed on CPU %u (%s)", cpu, r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
        return false;
    }
    if (!bsp)
        return true;
    log_info("VMX on: pin 0x%x/0x%x proc 0x%x/0x%x proc2 0x%x/0x%x exit 0x%x/0x%x entry 0x%x/0x%x ept_vpid 0x%lx",
             c->pin.allowed0, c->pin.allowed1, c->proc.allowed0, c->proc.allowed1, c->proc2.allowed0,
             c->proc2.allowed1, c->exit.allowed0, c->exit.allowed1, c->entry.allowed0, c->entry.allowed1, c->ept_vpid);
    return true;
}
