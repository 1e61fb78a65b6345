/* Virtualized MSRs (see include/nestor/vmsr.h). Pure logic, unit-tested. */
#include "nestor/arch.h"
#include "nestor/vmsr.h"

static const uint32_t mtrr_fixed_msrs[VMSR_MTRR_FIXED] = {
    MSR_IA32_MTRR_FIX64K_00000, MSR_IA32_MTRR_FIX16K_80000, MSR_IA32_MTRR_FIX16K_A0000, 0x268, 0x269, 0x26a,
    0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
};

static int mtrr_fixed_index(uint32_t msr)
{
    for (int i = 0; i < VMSR_MTRR_FIXED; i++)
        if (mtrr_fixed_msrs[i] == msr)
            return i;
    return -1;
}

static bool is_vmx_cap_msr(uint32_t msr) { return msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_VMFUNC; }

static bool is_mtrr_msr(uint32_t msr)
{
    return msr == MSR_IA32_MTRR_DEF_TYPE || (msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE0 + 2 * VMSR_MTRR_VAR_MAX) ||
           mtrr_fixed_index(msr) >= 0;
}

/*
 * Tracing and sampling MSRs: they make the CPU write to physical memory (Intel PT
 * output, SDM 32.2.7) or through whatever CR3 is current when a counter overflows
 * (PEBS and BTS records into the DS area, SDM 20.6.3), root mode included, or
 * record Nestor's branches (architectural LBRs are not cleared on VM exit). L1 sees
 * none of them: CPUID leaf 0xA is zeroed (vmx/vcpuid.c) and IA32_MISC_ENABLE says
 * "BTS and PEBS unavailable", so every access gets #GP, as on a CPU without them.
 */
static const struct {
    uint32_t first, last;
} absent_msrs[] = {
    {0x0c1, 0x0c8},   /* IA32_PMC0-7 */
    {0x186, 0x18d},   /* IA32_PERFEVTSEL0-7 */
    {0x1a6, 0x1a7},   /* MSR_OFFCORE_RSP_0/1 */
    {0x309, 0x30f},   /* IA32_FIXED_CTR0-6 */
    {0x329, 0x329},   /* IA32_PERF_METRICS */
    {0x345, 0x345},   /* IA32_PERF_CAPABILITIES */
    {0x38d, 0x392},   /* IA32_FIXED_CTR_CTRL, IA32_PERF_GLOBAL_STATUS/CTRL/OVF_CTRL/STATUS_SET/INUSE */
    {0x3f1, 0x3f1},   /* IA32_PEBS_ENABLE */
    {0x3f6, 0x3f7},   /* MSR_PEBS_LD_LAT, MSR_PEBS_FRONTEND */
    {0x4c1, 0x4c8},   /* IA32_A_PMC0-7 */
    {0x560, 0x561},   /* IA32_RTIT_OUTPUT_BASE, IA32_RTIT_OUTPUT_MASK_PTRS */
    {0x570, 0x572},   /* IA32_RTIT_CTL, IA32_RTIT_STATUS, IA32_RTIT_CR3_MATCH */
    {0x580, 0x587},   /* IA32_RTIT_ADDR0-3_A/B */
    {0x600, 0x600},   /* IA32_DS_AREA */
    {0x1200, 0x12ff}, /* IA32_LBR_x_INFO (architectural LBRs) */
    {0x14ce, 0x14cf}, /* IA32_LBR_CTL, IA32_LBR_DEPTH */
    {0x1500, 0x16ff}, /* IA32_LBR_x_FROM_IP, IA32_LBR_x_TO_IP */
};

static bool is_absent_msr(uint32_t msr)
{
    for (unsigned i = 0; i < ARRAY_SIZE(absent_msrs); i++)
        if (msr >= absent_msrs[i].first && msr <= absent_msrs[i].last)
            return true;
    return false;
}

/*
 * 0xC0000000-0xC0001FFF: only the MSRs the VMCS switches (EFER, FS/GS base) or that
 * Nestor never uses in root (SYSCALL targets, KERNEL_GS_BASE, TSC_AUX) pass through;
 * any other MSR of that range is trapped and gets #GP, so a model-specific MSR a
 * future CPU adds there never reaches the hardware from L1.
 */
static bool is_passthrough_high_msr(uint32_t msr)
{
    return (msr >= MSR_IA32_EFER && msr <= MSR_IA32_FMASK) || (msr >= MSR_IA32_FS_BASE && msr <= MSR_IA32_TSC_AUX);
}

bool vmsr_intercepted(uint32_t msr, bool write)
{
    (void)write;
    if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
        return !is_passthrough_high_msr(msr);
    if (is_absent_msr(msr))
        return true;
    switch (msr) {
    case MSR_IA32_MTRRCAP:
    case MSR_IA32_APIC_BASE:
    case MSR_IA32_FEATURE_CONTROL:
    case MSR_IA32_BIOS_UPDT_TRIG:
    case MSR_IA32_BIOS_SIGN_ID:
    case MSR_IA32_SMM_MONITOR_CTL:
    case MSR_IA32_MISC_ENABLE:
    case MSR_IA32_MPERF:
    case MSR_IA32_APERF:
    case MSR_IA32_DEBUGCTL: /* lives in the VMCS (vmx/exit_msr.c); Bochs has no MSR behind it */
        return true;
    default:
        return is_vmx_cap_msr(msr) || is_mtrr_msr(msr);
    }
}

enum vmsr_result vmsr_read(struct vmsr_state *s, uint32_t msr, uint64_t *value)
{
    int fi;
    switch (msr) {
    case MSR_IA32_APIC_BASE:
        *value = s->apic_base;
        return VMSR_OK;
    case MSR_IA32_FEATURE_CONTROL:
        *value = s->feature_control;
        return VMSR_OK;
    case MSR_IA32_MISC_ENABLE:
        *value = s->misc_enable;
        return VMSR_OK;
    case MSR_IA32_BIOS_UPDT_TRIG:
    case MSR_IA32_BIOS_SIGN_ID: /* microcode revision 0 in bits 63:32, as Bochs reports in CPUID */
        *value = 0;
        return VMSR_OK;
    case MSR_IA32_MPERF:
    case MSR_IA32_APERF: /* both count at the TSC rate: the CPU always runs at its nominal frequency */
        *value = s->read_tsc ? s->read_tsc() : 0;
        return VMSR_OK;
    case MSR_IA32_MTRRCAP:
        if (!s->have_mtrr)
            return VMSR_GP;
        /* Report exactly the variable ranges Nestor keeps, so none of L1's writes reach the host's. */
        *value = (s->mtrr_cap & ~0xffull) | s->mtrr_var_count;
        return VMSR_OK;
    default:
        break;
    }
    if (is_mtrr_msr(msr) && s->have_mtrr) {
        if (msr == MSR_IA32_MTRR_DEF_TYPE)
            *value = s->mtrr_def_type;
        else if ((fi = mtrr_fixed_index(msr)) >= 0)
            *value = s->mtrr_fixed[fi];
        else if (msr - MSR_IA32_MTRR_PHYSBASE0 < 2 * s->mtrr_var_count)
            *value = s->mtrr_var[msr - MSR_IA32_MTRR_PHYSBASE0];
        else
            return VMSR_GP;
        return VMSR_OK;
    }
    /* VMX capability MSRs: what nested VMX offers, or nothing (#GP) when VMX is not offered (SDM Appendix A). */
    if (is_vmx_cap_msr(msr) && s->vmx_caps && s->vmx_caps_present[msr - MSR_IA32_VMX_BASIC]) {
        *value = s->vmx_caps[msr - MSR_IA32_VMX_BASIC];
        return VMSR_OK;
    }
    return VMSR_GP;
}

/* Memory types valid in MTRRs (SDM vol. 3A 11.11.2): UC, WC, WT, WP, WB. */
static bool mtrr_type_ok(uint64_t t) { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6; }

enum vmsr_result vmsr_write(struct vmsr_state *s, uint32_t msr, uint64_t v)
{
    int fi;
    switch (msr) {
    case MSR_IA32_APIC_BASE:
        /* Reserved: bits 0-7, 9, above MAXPHYADDR; x2APIC (bit 10) is not offered (SDM vol. 3A 10.4.4, 10.12.1). */
        if (v & (0xffull | BIT(9) | APIC_BASE_X2APIC | ~s->phys_addr_mask))
            return VMSR_GP;
        /* BSP is read-only. The real APIC stays on: Nestor keeps L1's view only. */
        s->apic_base = (v & ~APIC_BASE_BSP) | (s->apic_base & APIC_BASE_BSP);
        return VMSR_OK;
    case MSR_IA32_FEATURE_CONTROL:
        return VMSR_GP; /* locked */
    case MSR_IA32_MISC_ENABLE:
        s->misc_enable = v;
        return VMSR_OK;
    case MSR_IA32_BIOS_UPDT_TRIG:
    case MSR_IA32_BIOS_SIGN_ID: /* writing 0 before CPUID.1 is how software asks for the revision */
    case MSR_IA32_MPERF:
    case MSR_IA32_APERF:
        return VMSR_OK; /* accepted and ignored (a microcode update from L1 included) */
    default:
        break;
    }
    if (is_mtrr_msr(msr) && s->have_mtrr) {
        /* Stored for L1 to read back; EPT memory types decide caching of L1's accesses. */
        if (msr == MSR_IA32_MTRR_DEF_TYPE) {
            if ((v & ~0xcffull) || !mtrr_type_ok(v & 0xff))
                return VMSR_GP;
            s->mtrr_def_type = v;
        } else if ((fi = mtrr_fixed_index(msr)) >= 0) {
            for (int b = 0; b < 8; b++)
                if (!mtrr_type_ok((v >> (8 * b)) & 0xff))
                    return VMSR_GP;
            s->mtrr_fixed[fi] = v;
        } else if (msr - MSR_IA32_MTRR_PHYSBASE0 < 2 * s->mtrr_var_count) {
            bool is_base = !((msr - MSR_IA32_MTRR_PHYSBASE0) & 1);
            uint64_t reserved = is_base ? (0xf00ull | ~s->phys_addr_mask) : (0x7ffull | ~s->phys_addr_mask);
            if ((v & reserved) || (is_base && !mtrr_type_ok(v & 0xff)))
                return VMSR_GP;
            s->mtrr_var[msr - MSR_IA32_MTRR_PHYSBASE0] = v;
        } else {
            return VMSR_GP;
        }
        return VMSR_OK;
    }
    return VMSR_GP;
}

static bool msr_bitmap_locate(uint32_t msr, bool write, unsigned *byte, uint8_t *mask)
{
    unsigned base;
    if (msr <= 0x1fff)
        base = 0;
    else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
        base = 1024;
    else
        return false;
    base += write ? 2048 : 0;
    uint32_t bit = msr & 0x1fff;
    *byte = base + bit / 8;
    *mask = (uint8_t)(1u << (bit % 8));
    return true;
}

bool msr_bitmap_set(uint8_t bitmap[4096], uint32_t msr, bool write)
{
    unsigned byte;
    uint8_t mask;
    if (!msr_bitmap_locate(msr, write, &byte, &mask))
        return false;
    bitmap[byte] |= mask;
    return true;
}

bool msr_bitmap_clear(uint8_t bitmap[4096], uint32_t msr, bool write)
{
    unsigned byte;
    uint8_t mask;
    if (!msr_bitmap_locate(msr, write, &byte, &mask))
        return false;
    bitmap[byte] &= (uint8_t)~mask;
    return true;
}

void vmsr_fill_bitmap(uint8_t bitmap[4096])
{
    static const uint32_t range_base[2] = {0, 0xc0000000u};
    for (unsigned r = 0; r < 2; r++)
        for (uint32_t msr = range_base[r]; msr <= range_base[r] + 0x1fff; msr++) {
            if (vmsr_intercepted(msr, false))
                msr_bitmap_set(bitmap, msr, false);
            if (vmsr_intercepted(msr, true))
                msr_bitmap_set(bitmap, msr, true);
        }
}
