/*
 * Which exits from L2 belong to L1: exactly those L1's vmcs12 asks for
 * (SDM 25.1-25.2 define when each exit happens). vmcs02 adds only Nestor's
 * I/O and MSR exits and EPT01's violations; those stay with Nestor when L1's
 * controls and bitmaps would not have exited.
 */
#include "nestor/exit_route.h"
#include "nestor/vmx_arch.h"

/* SDM 25.1.3: I/O bitmaps are consulted for every port the access touches; a wrap past 0xffff exits. */
static bool l1_wants_io(const struct route_ctx *r, uint64_t qual)
{
    uint32_t proc = (uint32_t)V12(r->v12, VMCS_PROC_CONTROLS);
    if (!(proc & PROC_USE_IO_BITMAPS))
        return proc & PROC_UNCOND_IO_EXITING;
    uint32_t port = IOQUAL_PORT(qual), size = IOQUAL_SIZE(qual);
    for (uint32_t p = port; p < port + size; p++) {
        if (p > 0xffff)
            return true;
        gpa_t page = p < 0x8000 ? V12(r->v12, VMCS_IO_BITMAP_A) : V12(r->v12, VMCS_IO_BITMAP_B);
        if (r->bitmap_bit(r->ctx, page, p & 0x7fff))
            return true;
    }
    return false;
}

/* SDM 25.1.3 and 24.6.9: MSR bitmaps, and MSRs outside their ranges always exit. */
static bool l1_wants_msr(const struct route_ctx *r, uint32_t msr, bool write)
{
    if (!(V12(r->v12, VMCS_PROC_CONTROLS) & PROC_USE_MSR_BITMAPS))
        return true;
    uint32_t base;
    if (msr <= 0x1fff)
        base = 0;
    else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
        base = 1024 * 8;
    else
        return true;
    base += write ? 2048 * 8 : 0;
    return r->bitmap_bit(r->ctx, V12(r->v12, VMCS_MSR_BITMAP), base + (msr & 0x1fff));
}

/*
 * SDM 30.3 (VMREAD/VMWRITE in VMX non-root operation), 24.6.15: they exit unless "VMCS shadowing"
 * is 1, the field operand has no bit set in 63:15 and the field's bit (operand bits 14:0) is
 * clear in L1's VMREAD or VMWRITE bitmap.
 */
static bool l1_wants_vmread_vmwrite(const struct route_ctx *r, uint32_t proc2, bool write)
{
    if (!(proc2 & PROC2_VMCS_SHADOWING) || (r->vmx_field >> 15))
        return true;
    gpa_t bitmap = write ? V12(r->v12, VMCS_VMWRITE_BITMAP) : V12(r->v12, VMCS_VMREAD_BITMAP);
    return r->bitmap_bit(r->ctx, bitmap, (uint32_t)r->vmx_field & 0x7fff);
}

bool nested_l1_wants_exit(const struct route_ctx *r, unsigned reason, uint64_t qual, uint32_t msr)
{
    const struct vmcs12 *v12 = r->v12;
    uint32_t proc = (uint32_t)V12(v12, VMCS_PROC_CONTROLS);
    uint32_t proc2 = vmcs12_proc2(v12);
    uint32_t pin = (uint32_t)V12(v12, VMCS_PIN_CONTROLS);
    switch (reason) {
    case EXIT_IO_INSTRUCTION:
        return l1_wants_io(r, qual);
    case EXIT_RDMSR:
        return l1_wants_msr(r, msr, false);
    case EXIT_WRMSR:
        return l1_wants_msr(r, msr, true);
    case EXIT_VMREAD:
        return l1_wants_vmread_vmwrite(r, proc2, false);
    case EXIT_VMWRITE:
        return l1_wants_vmread_vmwrite(r, proc2, true);
    case EXIT_EPT_VIOLATION:
    case EXIT_EPT_MISCONFIG:
        return false; /* EPT01 under an L2 without EPT12: Nestor's own */
    case EXIT_EXTERNAL_INTERRUPT:
        return pin & PIN_EXT_INTR_EXITING;
    case EXIT_PREEMPTION_TIMER:
        return pin & PIN_PREEMPTION_TIMER;
    case EXIT_HLT:
        return proc & PROC_HLT_EXITING;
    case EXIT_INVLPG:
    case EXIT_INVPCID:
        return proc & PROC_INVLPG_EXITING;
    case EXIT_RDPMC:
        return proc & PROC_RDPMC_EXITING;
    case EXIT_RDTSC:
    case EXIT_RDTSCP:
        return proc & PROC_RDTSC_EXITING;
    case EXIT_MWAIT:
        return proc & PROC_MWAIT_EXITING;
    case EXIT_MONITOR:
        return proc & PROC_MONITOR_EXITING;
    case EXIT_PAUSE:
        return proc & PROC_PAUSE_EXITING;
    case EXIT_DR_ACCESS:
        return proc & PROC_MOV_DR_EXITING;
    case EXIT_WBINVD:
        return proc2 & PROC2_WBINVD_EXITING;
    case EXIT_RDRAND:
        return proc2 & PROC2_RDRAND_EXITING;
    case EXIT_RDSEED:
        return proc2 & PROC2_RDSEED_EXITING;
    case EXIT_GDTR_IDTR:
    case EXIT_LDTR_TR:
        return proc2 & PROC2_DESC_TABLE_EXITING;
    case EXIT_EXCEPTION_NMI: {
        /* vmcs02 adds Nestor's #DB/#AC to L1's exception bitmap: those are L1's only if its bitmap has them
         * (25.2). Other vectors exit only because vmcs12 asked (its #PF mask/match are vmcs02's). */
        unsigned vector = r->intr_info & 0xff, type = (r->intr_info >> 8) & 7;
        if (type != INTR_TYPE_NMI && (vector == VEC_DB || vector == VEC_AC))
            return (V12(v12, VMCS_EXCEPTION_BITMAP) >> vector) & 1;
        return true;
    }
    default:
        /* Unconditional exits (CPUID, VMX instructions, XSETBV, triple fault, ...), and exits vmcs02 takes
         * only because vmcs12 asked: exceptions, CR accesses, interrupt/NMI windows, task switches. */
        return true;
    }
}
