/*
 * ghv: VMX discovery and enabling, done the way a real hypervisor must.
 *
 * Everything is derived from the capability MSRs: the TRUE_* control MSRs
 * when IA32_VMX_BASIC[55] says they exist, the secondary/EPT-VPID MSRs only
 * when the primary controls allow "activate secondary controls" (reading
 * an MSR that does not exist would #GP).
 */
#include "vmx.h"

struct vmx_caps ghv_caps;
bool ghv_vmx_on;
u8 ghv_vmxon_region[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));

const char *vmx_result_name(int r)
{
    switch (r) {
    case VMX_OK: return "ok";
    case VMX_FAIL_INVALID: return "VMfailInvalid";
    case VMX_FAIL_VALID: return "VMfailValid";
    default: return "fault";
    }
}

bool vmx_probe(void)
{
    u32 r[4];
    cpuid(1, 0, r);
    if (!(r[2] & (1u << 5))) {
        gprintf("ghv: no vmx (cpuid.1:ecx.vmx=0)\n");
        return false;
    }

    /* IA32_FEATURE_CONTROL: bit 0 lock, bit 2 VMX outside SMX. If firmware
     * left it unlocked we enable VMX and lock it ourselves. */
    u64 fc = rdmsr(MSR_FEATURE_CONTROL);
    if (!(fc & 1)) {
        fc |= 0x5;
        wrmsr(MSR_FEATURE_CONTROL, fc);
    } else if (!(fc & 4)) {
        gprintf("ghv: vmx locked off\n");
        return false;
    }

    struct vmx_caps *c = &ghv_caps;
    c->basic = rdmsr(MSR_VMX_BASIC);
    c->revision = (u32)c->basic & 0x7fffffff;
    bool true_ctls = c->basic & (1ull << 55);
    c->pin = rdmsr(true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED);
    c->proc = rdmsr(true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED);
    c->exit = rdmsr(true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT);
    c->entry = rdmsr(true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY);
    c->misc = rdmsr(MSR_VMX_MISC);
    c->proc2 = (c->proc >> 32) & PROC_SECONDARY ? rdmsr(MSR_VMX_PROCBASED2) : 0;
    /* IA32_VMX_EPT_VPID_CAP exists only if EPT or VPID can be enabled. */
    c->ept_vpid = (c->proc2 >> 32) & (PROC2_EPT | PROC2_VPID) ? rdmsr(MSR_VMX_EPT_VPID_CAP) : 0;
    c->has_invvpid = ((c->proc2 >> 32) & PROC2_VPID) && (c->ept_vpid & (1ull << 32));
    c->cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
    c->cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
    c->cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
    c->cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);

    gprintf("ghv: vmx basic=0x%lx pin=0x%lx proc=0x%lx proc2=0x%lx exit=0x%lx entry=0x%lx misc=0x%lx "
            "ept_vpid=0x%lx\n",
            c->basic, c->pin, c->proc, c->proc2, c->exit, c->entry, c->misc, c->ept_vpid);

    u32 vmcs_size = (u32)(c->basic >> 32) & 0x1fff;
    if (vmcs_size > GHV_PAGE) {
        gprintf("ghv: vmcs size 0x%x does not fit a page\n", vmcs_size);
        return false;
    }
    return true;
}

/* CR0/CR4 must satisfy IA32_VMX_CR*_FIXED0 (bits that must be 1) and
 * FIXED1 (bits that may be 1) before VMXON, and stay so in VMX operation. */
void vmx_prepare_cr(void)
{
    const struct vmx_caps *c = &ghv_caps;
    write_cr0((read_cr0() | c->cr0_fixed0) & c->cr0_fixed1);
    write_cr4((read_cr4() | c->cr4_fixed0 | CR4_VMXE) & c->cr4_fixed1);
}

void vmx_set_vmxe(bool on)
{
    u64 cr4 = read_cr4();
    write_cr4(on ? cr4 | CR4_VMXE : cr4 & ~CR4_VMXE);
}

/* VMXON region and VMCS share the layout of their first word: revision
 * identifier in bits 30:0, bit 31 clear. */
u64 vmx_region_init(void *page, u32 revision)
{
    memset(page, 0, GHV_PAGE);
    *(volatile u32 *)page = revision;
    return phys(page);
}

u32 vmx_revision(void) { return ghv_caps.revision; }
