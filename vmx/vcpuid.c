/* CPUID filtering for L1 (bit positions from SDM vol. 2A, CPUID, Tables 3-10/3-11 and leaf 7). */
#include "nestor/lib.h"
#include "nestor/vcpuid.h"

#define C1_ECX_MONITOR BIT(3)
#define C1_ECX_VMX BIT(5)
#define C1_ECX_SMX BIT(6)
#define C1_ECX_X2APIC BIT(21)
#define C1_ECX_OSXSAVE BIT(27)
#define C1_ECX_HYPERVISOR BIT(31)
#define C1_ECX_TM2 BIT(8)
#define C1_ECX_PDCM BIT(15) /* IA32_PERF_CAPABILITIES */
#define C1_ECX_DTES64 BIT(2) /* 64-bit DS area */
#define C1_ECX_DSCPL BIT(4)  /* CPL-qualified debug store */
#define C1_EDX_DS BIT(21)    /* debug store: BTS/PEBS through IA32_DS_AREA */
#define C1_EDX_ACPI BIT(22) /* thermal monitor and clock control MSRs (IA32_THERM_*) */
#define C1_EDX_TM BIT(29)
#define C6_EAX_DTS BIT(0)
#define C6_EAX_PTM BIT(6)
#define C6_ECX_EPB BIT(3) /* IA32_ENERGY_PERF_BIAS */
#define C6_ECX_APERFMPERF BIT(0)
#define C6_EAX_HWP_BITS (0x1full << 7) /* HWP and its MSRs */
#define C7_EBX_INVPCID BIT(10)
#define C7_EBX_INTEL_PT BIT(25)
#define C7_EDX_ARCH_LBR BIT(19)
#define C7_ECX_WAITPKG BIT(5)
#define C7_ECX_PKU BIT(3)
#define C7_ECX_OSPKE BIT(4)
#define CD1_EAX_XSAVES BIT(3)
#define C80000001_EDX_RDTSCP BIT(27)

static void set_bit32(uint32_t *reg, uint32_t bit, bool on)
{
    if (on)
        *reg |= bit;
    else
        *reg &= ~bit;
}

void vcpuid_filter(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r, const struct vcpuid_ctx *c)
{
    switch (leaf) {
    case 1:
        r->ecx &= ~(C1_ECX_MONITOR | C1_ECX_VMX | C1_ECX_SMX | C1_ECX_X2APIC);
        set_bit32(&r->ecx, C1_ECX_VMX, c->vmx);
        r->ecx |= C1_ECX_HYPERVISOR;
        /* Thermal monitoring: its MSRs are the platform's, which L1 does not own (and Bochs lacks). */
        r->ecx &= ~(C1_ECX_TM2 | C1_ECX_PDCM);
        r->edx &= ~(C1_EDX_ACPI | C1_EDX_TM);
        /* The debug store's MSRs are absent for L1 (core/vmsr.c): say so here too. */
        r->ecx &= ~(C1_ECX_DTES64 | C1_ECX_DSCPL);
        r->edx &= ~C1_EDX_DS;
        set_bit32(&r->ecx, C1_ECX_OSXSAVE, c->guest_cr4 & BIT(18));
        break;
    case 5: /* MONITOR/MWAIT leaf: MONITOR is hidden */
        r->eax = r->ebx = r->ecx = r->edx = 0;
        break;
    case 6: /* no digital thermal sensor, package thermal management or energy bias for L1 either */
        r->eax &= ~(C6_EAX_DTS | C6_EAX_PTM | C6_EAX_HWP_BITS);
        /* Frequency control (APERF/MPERF, HWP, P-state MSRs) belongs to the platform: L1 gets none. */
        r->ecx &= ~(C6_ECX_EPB | C6_ECX_APERFMPERF);
        break;
    case 0x14: /* no Intel PT enumeration (CPUID.(7,0):EBX[25] is clear) */
    case 0xa: /* no architectural performance monitoring: its counters are not virtualized */
        r->eax = r->ebx = r->ecx = r->edx = 0;
        break;
    case 7:
        if (subleaf == 0) {
            if (!c->invpcid)
                r->ebx &= ~C7_EBX_INVPCID;
            r->ecx &= ~C7_ECX_WAITPKG;
            /* Intel PT and architectural LBRs: their MSRs are absent for L1 (core/vmsr.c). */
            r->ebx &= ~C7_EBX_INTEL_PT;
            r->edx &= ~C7_EDX_ARCH_LBR;
            set_bit32(&r->ecx, C7_ECX_OSPKE, (r->ecx & C7_ECX_PKU) && (c->guest_cr4 & BIT(22)));
        }
        break;
    case 0xd:
        if (subleaf == 1 && !c->xsaves)
            r->eax &= ~CD1_EAX_XSAVES;
        break;
    case HV_CPUID_LEAF:
        r->eax = HV_CPUID_LEAF;
        memcpy(&r->ebx, HV_SIGNATURE, 4);
        memcpy(&r->ecx, HV_SIGNATURE + 4, 4);
        memcpy(&r->edx, HV_SIGNATURE + 8, 4);
        break;
    case 0x80000001:
        if (!c->rdtscp)
            r->edx &= ~C80000001_EDX_RDTSCP;
        break;
    default:
        if (leaf > HV_CPUID_LEAF && leaf <= 0x400000ff)
            r->eax = r->ebx = r->ecx = r->edx = 0;
        break;
    }
}
