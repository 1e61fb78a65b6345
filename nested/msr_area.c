/*
 * VM-entry MSR-load, VM-exit MSR-store and VM-exit MSR-load areas of vmcs12
 * (SDM 24.7.2, 24.8.2; checks of 26.4 and 27.4/27.6). Entries are 16 bytes:
 * u32 index, u32 reserved (must be 0), u64 value. MSRs the VMCS switches
 * (EFER, PAT, DEBUGCTL, SYSENTER) go to the current VMCS's guest fields, so
 * nothing L1 lists can change Nestor's own EFER or PAT; Nestor's virtual MSRs
 * go through vmx/vmsr.c; the rest reach the CPU with #GP caught.
 */
#include "nested_internal.h"
#include "nestor/arch.h"
#include "nestor/log.h"
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

/* 26.4: x2APIC MSRs, SMM monitor control, and FS/GS base may not be loaded from an MSR area. */
static bool loadable(uint32_t msr)
{
    return !(msr >= 0x800 && msr <= 0x8ff) && msr != MSR_IA32_SMM_MONITOR_CTL && msr != MSR_IA32_FS_BASE &&
           msr != MSR_IA32_GS_BASE && msr != 0x9e /* IA32_SMBASE */;
}

static bool efer_ok(uint64_t efer) { return (efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) == 0; }

/* IA32_VMX_MISC[27:25] = 0 offers 512 entries (SDM A.6); past that the entry fails, as KVM does. */
#define MSR_AREA_MAX 512

uint32_t nested_load_msr_area(struct vcpu *v, gpa_t addr, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (i == MSR_AREA_MAX)
            return i + 1;
        struct msr_entry e;
        l1_phys_read(v, addr + 16ull * i, &e, sizeof e);
        if (e.reserved || !loadable(e.index))
            return i + 1;
        int field = vmcs_field_of(e.index);
        if (field >= 0) {
            if (e.index == MSR_IA32_EFER && !efer_ok(e.value))
                return i + 1;
            vmwrite((uint64_t)field, e.value);
        } else if (vmsr_intercepted(e.index, true)) {
            if (vmsr_write(&v->msr, e.index, e.value) != VMSR_OK)
                return i + 1;
        } else if (wrmsr_safe(e.index, e.value) != 0) {
            return i + 1;
        }
    }
    return 0;
}

uint32_t nested_store_msr_area(struct vcpu *v, gpa_t addr, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (i == MSR_AREA_MAX)
            return i + 1;
        struct msr_entry e;
        l1_phys_read(v, addr + 16ull * i, &e, sizeof e);
        if (e.reserved || (e.index >= 0x800 && e.index <= 0x8ff) || e.index == 0x9e)
            return i + 1;
        int field = vmcs_field_of(e.index);
        uint64_t value;
        if (field >= 0)
            value = vmread((uint64_t)field);
        else if (vmsr_intercepted(e.index, false) ? vmsr_read(&v->msr, e.index, &value) != VMSR_OK
                                                  : rdmsr_safe(e.index, &value) != 0)
            return i + 1;
        l1_phys_write(v, addr + 16ull * i + 8, &value, sizeof value);
    }
    return 0;
}
