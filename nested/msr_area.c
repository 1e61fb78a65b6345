/*
 * VM-entry MSR-load, VM-exit MSR-store and VM-exit MSR-load areas of vmcs12
 * (SDM 24.7.2, 24.8.2; checks of 26.4 and 27.4/27.6). Entries are 16 bytes:
 * u32 index, u32 reserved (must be 0), u64 value. Each entry is handled exactly
 * as L1's own RDMSR/WRMSR of that MSR would be (nested/msr_policy.c): MSRs the
 * VMCS switches (EFER, PAT, DEBUGCTL, SYSENTER) go to the current VMCS's guest
 * fields, so nothing L1 lists can change Nestor's own EFER or PAT; MSRs whose
 * RDMSR/WRMSR exits (intercepted, or outside the bitmap ranges) get Nestor's
 * virtual MSR and fail where L1 would get #GP; only MSRs L1 reaches natively
 * reach the CPU, with #GP caught. What fails fails the entry (exit 34, 26.4) or
 * is a VMX abort on exit (27.7), as on hardware.
 */
#include "nested_internal.h"
#include "nestor/arch.h"
#include "nestor/log.h"
#include "nestor/msr_policy.h"
#include "nestor/vmx_ops.h"

struct msr_entry {
    uint32_t index, reserved;
    uint64_t value;
};

static int vmcs_field_of(uint32_t msr)
{
    switch (msr) {
    case MSR_IA32_EFER: return VMCS_GUEST_EFER;
    case MSR_IA32_PAT: return VMCS_GUEST_PAT;
    case MSR_IA32_DEBUGCTL: return VMCS_GUEST_DEBUGCTL;
    case MSR_IA32_SYSENTER_CS: return VMCS_GUEST_SYSENTER_CS;
    case MSR_IA32_SYSENTER_ESP: return VMCS_GUEST_SYSENTER_ESP;
    case MSR_IA32_SYSENTER_EIP: return VMCS_GUEST_SYSENTER_EIP;
    case MSR_IA32_FS_BASE: return VMCS_GUEST_FS_BASE;
    case MSR_IA32_GS_BASE: return VMCS_GUEST_GS_BASE;
    default: return -1;
    }
}

/*
 * EFER as WRMSR would take it in the mode the entry (or exit) establishes, read from the
 * VMCS being loaded: reserved bits #GP, and LME/LMA may not disagree with IA-32e mode
 * while paging is on (SDM vol. 3A 2.2.1, 9.8.5; the same rule as 26.3.1.1 for the field).
 */
static const char *efer_refused(uint64_t efer)
{
    if (efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
        return "26.4 IA32_EFER reserved bits must be 0";
    bool ia32e = vmread(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST;
    if (!!(efer & EFER_LMA) != ia32e)
        return "26.4 IA32_EFER.LMA loaded from the MSR-load area must equal IA-32e mode guest";
    if ((vmread(VMCS_GUEST_CR0) & CR0_PG) && !!(efer & EFER_LME) != ia32e)
        return "26.4 IA32_EFER.LME loaded from the MSR-load area must equal IA-32e mode guest when CR0.PG = 1";
    return NULL;
}

/* Values WRMSR would #GP on for the other MSRs the VMCS switches (SDM vol. 4 and 3A 11.12.2, 5.8.7). */
static const char *vmcs_msr_refused(uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_IA32_DEBUGCTL:
        return (value & ~DEBUGCTL_VALID_BITS) ? "26.4 IA32_DEBUGCTL reserved bits must be 0" : NULL;
    case MSR_IA32_PAT:
        for (unsigned b = 0; b < 64; b += 8) {
            unsigned t = (value >> b) & 0xff;
            if (t == 2 || t == 3 || t > 7)
                return "26.4 IA32_PAT entries must be valid memory types";
        }
        return NULL;
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
        return (uint64_t)((int64_t)(value << 16) >> 16) != value ? "26.4 IA32_SYSENTER_ESP/EIP must be canonical" : NULL;
    default:
        return NULL;
    }
}

/* IA32_VMX_MISC[27:25] = 0 offers 512 entries (SDM A.6); past that the entry fails, as KVM does. */
#define MSR_AREA_MAX 512

static uint32_t refuse(uint32_t i, uint32_t msr, const char *rule)
{
    log_info("L1's MSR area entry %u (MSR 0x%x) refused: %s", i + 1, msr, rule);
    return i + 1;
}

uint32_t nested_load_msr_area(struct vcpu *v, gpa_t addr, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (i == MSR_AREA_MAX)
            return refuse(i, 0, "26.4 more entries than IA32_VMX_MISC[27:25] allows (512)");
        struct msr_entry e;
        l1_phys_read(v, addr + 16ull * i, &e, sizeof e);
        const char *rule = e.reserved ? "26.4 bits 63:32 of an MSR-load entry are reserved" : msr_policy_load_refused(e.index);
        if (rule)
            return refuse(i, e.index, rule);
        switch (msr_policy_path(e.index, true)) {
        case MSR_PATH_VMCS:
            if (e.index == MSR_IA32_EFER && (rule = efer_refused(e.value)))
                return refuse(i, e.index, rule);
            if ((rule = vmcs_msr_refused(e.index, e.value)))
                return refuse(i, e.index, rule);
            vmwrite((uint64_t)vmcs_field_of(e.index), e.value);
            break;
        case MSR_PATH_VIRTUAL:
            if (vmsr_write(&v->msr, e.index, e.value) != VMSR_OK)
                return refuse(i, e.index, "26.4 L1's WRMSR of this MSR (with this value) gets #GP");
            break;
        case MSR_PATH_CPU:
            if (wrmsr_safe(e.index, e.value) != 0)
                return refuse(i, e.index, "26.4 WRMSR of this MSR (with this value) faults");
            break;
        }
    }
    return 0;
}

uint32_t nested_store_msr_area(struct vcpu *v, gpa_t addr, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (i == MSR_AREA_MAX)
            return refuse(i, 0, "27.4 more entries than IA32_VMX_MISC[27:25] allows (512)");
        struct msr_entry e;
        l1_phys_read(v, addr + 16ull * i, &e, sizeof e);
        const char *rule = e.reserved ? "27.4 bits 63:32 of an MSR-store entry are reserved" : msr_policy_store_refused(e.index);
        if (rule)
            return refuse(i, e.index, rule);
        uint64_t value = 0;
        switch (msr_policy_path(e.index, false)) {
        case MSR_PATH_VMCS:
            value = vmread((uint64_t)vmcs_field_of(e.index));
            break;
        case MSR_PATH_VIRTUAL:
            if (vmsr_read(&v->msr, e.index, &value) != VMSR_OK)
                return refuse(i, e.index, "27.4 L1's RDMSR of this MSR gets #GP");
            break;
        case MSR_PATH_CPU:
            /*
             * IA32_TSC: the value at the VM exit, which the trampoline read right after it
             * (L1 runs with TSC offset 0), not the later one of this store: what L1 measures
             * as its exit latency is the CPU's, not Nestor's path to here.
             */
            if (e.index == MSR_IA32_TSC)
                value = v->regs.exit_tsc;
            else if (rdmsr_safe(e.index, &value) != 0)
                return refuse(i, e.index, "27.4 RDMSR of this MSR faults");
            break;
        }
        l1_phys_write(v, addr + 16ull * i + 8, &value, sizeof value);
    }
    return 0;
}
