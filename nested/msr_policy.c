/*
 * What L1's own RDMSR/WRMSR of an MSR does, as one decision shared by every place
 * Nestor reads or writes an MSR for L1 without an instruction of L1's: the
 * VM-entry/VM-exit MSR areas (nested/msr_area.c). An area may never reach an MSR
 * that L1's WRMSR could not: MSRs outside the two MSR-bitmap ranges always exit
 * (SDM 25.1.3) and get Nestor's answer (vmx/exit_msr.c), so do the bitmap's
 * intercepted ones (core/vmsr.c); only the MSRs L1 reaches natively may be written
 * to the CPU, where L1 would write them itself. Pure, unit-tested.
 */
#include "nestor/arch.h"
#include "nestor/msr_policy.h"
#include "nestor/vmsr.h"

/* The two ranges an MSR bitmap covers (SDM 24.6.9). */
static bool in_bitmap_ranges(uint32_t msr)
{
    return msr <= 0x1fffu || (msr >= 0xc0000000u && msr <= 0xc0001fffu);
}

enum msr_path msr_policy_path(uint32_t msr, bool write)
{
    switch (msr) {
    case MSR_IA32_EFER:
    case MSR_IA32_PAT:
    case MSR_IA32_DEBUGCTL:
    case MSR_IA32_SYSENTER_CS:
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
    case MSR_IA32_FS_BASE:
    case MSR_IA32_GS_BASE:
        return MSR_PATH_VMCS;
    default:
        break;
    }
    if (!in_bitmap_ranges(msr) || vmsr_intercepted(msr, write))
        return MSR_PATH_VIRTUAL;
    return MSR_PATH_CPU;
}

const char *msr_policy_load_refused(uint32_t msr)
{
    if (msr == MSR_IA32_FS_BASE || msr == MSR_IA32_GS_BASE)
        return "26.4 IA32_FS_BASE and IA32_GS_BASE may not be loaded from an MSR-load area";
    if ((msr >> 8) == 0x8)
        return "26.4 x2APIC MSRs (800H-8FFH) may not be loaded from an MSR-load area";
    if (msr == MSR_IA32_SMM_MONITOR_CTL || msr == MSR_IA32_SMBASE)
        return "26.4 MSRs writable only in SMM (IA32_SMM_MONITOR_CTL, IA32_SMBASE) may not be loaded outside SMM";
    return 0;
}

const char *msr_policy_store_refused(uint32_t msr)
{
    if ((msr >> 8) == 0x8)
        return "27.4 x2APIC MSRs (800H-8FFH) may not be stored from an MSR-store area";
    if (msr == MSR_IA32_SMBASE)
        return "27.4 IA32_SMBASE may not be stored outside SMM";
    return 0;
}
