/* The VMX capability MSRs Nestor offers L1 (SDM Appendix A), derived from the CPU's. */
#include "nestor/arch.h"
#include "nestor/lib.h"
#include "nestor/nested_caps.h"
#include "nestor/vmcs12.h"
#include "nestor/vmx_arch.h"

/* Controls Nestor emulates for L1; everything else is never offered. */
#define EMU_PIN (PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER)
#define EMU_PROC                                                                                           \
    (PROC_INTR_WINDOW_EXITING | PROC_TSC_OFFSETTING | PROC_HLT_EXITING | PROC_INVLPG_EXITING |             \
     PROC_MWAIT_EXITING | PROC_RDPMC_EXITING | PROC_RDTSC_EXITING | PROC_CR3_LOAD_EXITING |                \
     PROC_CR3_STORE_EXITING | PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING | PROC_NMI_WINDOW_EXITING |    \
     PROC_MOV_DR_EXITING | PROC_UNCOND_IO_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |           \
     PROC_MONITOR_EXITING | PROC_PAUSE_EXITING | PROC_SECONDARY_CONTROLS | PROC_TPR_SHADOW)
#define EMU_PROC2                                                                                          \
    (PROC2_DESC_TABLE_EXITING | PROC2_ENABLE_RDTSCP | PROC2_ENABLE_VPID | PROC2_WBINVD_EXITING |           \
     PROC2_ENABLE_INVPCID | PROC2_RDRAND_EXITING | PROC2_RDSEED_EXITING | EMU_PROC2_APIC)
/*
 * APIC virtualization (SDM 29) passes through to vmcs02 with L1's pages translated by EPT01
 * (nested/apic_virt.c): the CPU virtualizes L2's APIC against L1's virtual-APIC page. Not
 * virtualize x2APIC mode: it acts only through the MSR bitmap, and vmcs02 has none (every L2
 * RDMSR/WRMSR exits to Nestor, nested/l2_passthrough.c). Not posted interrupts (Bochs lacks them).
 */
#define EMU_PROC2_APIC (PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY)
/* PML only with EPT A/D flags (it logs the D flags Nestor sets: nested/ept_ad.c). */
#define EMU_PROC2_EPT (PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_PML)
/* L1's own shadow VMCSs (nested/vmcs12_shadow_l1.c): L2's VMREAD/VMWRITE exit to Nestor, which
 * reads L1's bitmaps and the shadow vmcs12, so the CPU's control is only needed as a policy:
 * offered where a real CPU of this model would have it. */
#define EMU_PROC2_SHADOW PROC2_VMCS_SHADOWING
#define EMU_EXIT                                                                                           \
    (EXIT_SAVE_DEBUG_CONTROLS | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_PAT |        \
     EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PREEMPTION_TIMER)
#define EMU_ENTRY (ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER)

/* IA32_VMX_MISC bits offered: preemption-timer rate (4:0), EFER.LMA stored on exit (5),
 * HLT activity state (6), CR3-target count (24:16); VMWRITE to read-only fields (29) only with
 * VMCS shadowing (below). Not: shutdown/wait-for-SIPI states, SMM, zero-length injection (30). */
#define MISC_KEEP (0x1full | BIT(5) | BIT(6))
#define MISC_CR3_TARGETS(m) (((m) >> 16) & 0x1ff)

/* EPT/VPID capabilities offered: INVVPID with its four types; with nested EPT, 4-level walks,
 * UC/WB, 2 MiB and 1 GiB pages, execute-only, A/D flags (nested/ept_ad.c), INVEPT single and all
 * context. Not: advanced exit information, 5-level walks. */
#define VPID_CAP_KEEP (VPID_CAP_INVVPID | BIT(40) | BIT(41) | BIT(42) | BIT(43))
#define EPT_CAP_KEEP                                                                                      \
    (EPT_CAP_EXEC_ONLY | EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_UC | EPT_CAP_MEMTYPE_WB | EPT_CAP_2MB_PAGE |    \
     EPT_CAP_1GB_PAGE | EPT_CAP_AD | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)

static struct vmx_ctl_cap offer(struct vmx_ctl_cap hw, uint32_t emulated)
{
    /* allowed-0 stays what the CPU forces (never less: the CPU would refuse vmcs02). */
    struct vmx_ctl_cap c = {hw.allowed0, (hw.allowed1 & emulated) | hw.allowed0};
    return c;
}

static uint64_t as_msr(struct vmx_ctl_cap c) { return ((uint64_t)c.allowed1 << 32) | c.allowed0; }

static void set_msr(struct nested_caps *n, uint32_t msr, uint64_t value)
{
    n->msr[msr - NESTED_CAP_MSR_FIRST] = value;
    n->present[msr - NESTED_CAP_MSR_FIRST] = true;
}

void nested_caps_compute(const struct vmx_caps *hw, const struct nested_options *opt, struct nested_caps *n)
{
    memset(n, 0, sizeof *n);
    n->pin = offer(hw->pin, EMU_PIN);
    n->proc = offer(hw->proc, EMU_PROC);
    uint32_t proc2_emu = EMU_PROC2 | (opt->ept ? EMU_PROC2_EPT : 0) | (opt->vmcs_shadowing ? EMU_PROC2_SHADOW : 0);
    n->proc2 = hw->has_proc2 ? offer(hw->proc2, proc2_emu) : (struct vmx_ctl_cap){0, 0};
    if (!n->proc2.allowed1)
        n->proc.allowed1 &= ~(uint32_t)PROC_SECONDARY_CONTROLS;
    n->exit = offer(hw->exit, EMU_EXIT);
    if (!(n->pin.allowed1 & PIN_PREEMPTION_TIMER))
        n->exit.allowed1 &= ~(uint32_t)EXIT_SAVE_PREEMPTION_TIMER | hw->exit.allowed0;
    n->entry = offer(hw->entry, EMU_ENTRY);
    n->cr0_fixed0 = hw->cr0_fixed0;
    n->cr0_fixed1 = hw->cr0_fixed1;
    n->cr4_fixed0 = hw->cr4_fixed0;
    n->cr4_fixed1 = hw->cr4_fixed1;

    uint64_t cr3_targets = MIN(MISC_CR3_TARGETS(hw->misc), 4ull);
    n->misc = (hw->misc & MISC_KEEP) | (cr3_targets << 16);
    if (!(n->pin.allowed1 & PIN_PREEMPTION_TIMER))
        n->misc &= ~0x1full;
    /* With VMCS shadowing, VMWRITE to the exit-information fields too (A.6 bit 29): a hypervisor
     * fills a shadow VMCS with them (KVM uses shadow VMCSs only when it can). Emulated in
     * software (vmcs12_write's write_any), whatever the CPU's own bit 29. */
    if (n->proc2.allowed1 & PROC2_VMCS_SHADOWING)
        n->misc |= VMX_MISC_VMWRITE_ANY_FIELD;

    n->ept_vpid = 0;
    if (n->proc2.allowed1 & PROC2_ENABLE_VPID)
        n->ept_vpid |= hw->ept_vpid & VPID_CAP_KEEP;
    if (n->proc2.allowed1 & PROC2_ENABLE_EPT) {
        n->ept_vpid |= hw->ept_vpid & EPT_CAP_KEEP;
        uint64_t need = EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL;
        if ((n->ept_vpid & need) != need) { /* not enough to emulate: offer no EPT at all */
            n->ept_vpid &= ~EPT_CAP_KEEP;
            n->proc2.allowed1 &= ~(uint32_t)(PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST);
        }
    }
    if (!(n->ept_vpid & EPT_CAP_AD))
        n->proc2.allowed1 &= ~(uint32_t)PROC2_ENABLE_PML | n->proc2.allowed0;
    if (!(n->ept_vpid & VPID_CAP_INVVPID))
        n->proc2.allowed1 &= ~(uint32_t)PROC2_ENABLE_VPID;
    /* 26.2.1.1: APIC-register virtualization and virtual-interrupt delivery need use TPR shadow. */
    if (!(n->proc.allowed1 & PROC_TPR_SHADOW))
        n->proc2.allowed1 &= ~(uint32_t)(PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY) | n->proc2.allowed0;

    n->v12_features = V12F_ALWAYS;
    if (n->proc2.allowed1 & PROC2_ENABLE_VPID)
        n->v12_features |= V12F_VPID;
    if (n->proc2.allowed1 & PROC2_ENABLE_EPT)
        n->v12_features |= V12F_EPT;
    if (n->pin.allowed1 & PIN_PREEMPTION_TIMER)
        n->v12_features |= V12F_PREEMPT;
    if (n->proc2.allowed1 & PROC2_VMCS_SHADOWING)
        n->v12_features |= V12F_SHADOW;
    if (n->proc2.allowed1 & PROC2_ENABLE_PML)
        n->v12_features |= V12F_PML;
    if (n->proc.allowed1 & PROC_TPR_SHADOW)
        n->v12_features |= V12F_TPR;
    if (n->proc2.allowed1 & PROC2_VIRT_APIC_ACCESSES)
        n->v12_features |= V12F_APIC_ACCESS;
    if (n->proc2.allowed1 & PROC2_VIRT_INTR_DELIVERY)
        n->v12_features |= V12F_VID;

    /* IA32_VMX_BASIC: Nestor's revision, 4 KiB regions, write-back, TRUE MSRs, and
     * INS/OUTS instruction information only if the CPU gives it to Nestor (A.1). */
    uint64_t basic = VMCS12_REVISION | (4096ull << 32) | ((uint64_t)MEMTYPE_WB << 50) | VMX_BASIC_TRUE_CTLS |
                     (hw->basic & VMX_BASIC_INS_OUTS_INFO);
    set_msr(n, MSR_IA32_VMX_BASIC, basic);
    /* The non-TRUE MSRs report the default1 controls as fixed to 1 (A.3.1-A.5). */
    struct vmx_ctl_cap pin_legacy = n->pin, proc_legacy = n->proc, exit_legacy = n->exit, entry_legacy = n->entry;
    pin_legacy.allowed0 |= 0x16;         /* bits 1, 2, 4 */
    proc_legacy.allowed0 |= 0x0401e172;  /* bits 1, 4-6, 8, 13-16, 26 */
    exit_legacy.allowed0 |= 0x00036dff;  /* bits 0-8, 10, 11, 13, 14, 16, 17 */
    entry_legacy.allowed0 |= 0x000011ff; /* bits 0-8, 12 */
    pin_legacy.allowed1 |= pin_legacy.allowed0;
    proc_legacy.allowed1 |= proc_legacy.allowed0;
    exit_legacy.allowed1 |= exit_legacy.allowed0;
    entry_legacy.allowed1 |= entry_legacy.allowed0;
    set_msr(n, MSR_IA32_VMX_PINBASED_CTLS, as_msr(pin_legacy));
    set_msr(n, MSR_IA32_VMX_PROCBASED_CTLS, as_msr(proc_legacy));
    set_msr(n, MSR_IA32_VMX_EXIT_CTLS, as_msr(exit_legacy));
    set_msr(n, MSR_IA32_VMX_ENTRY_CTLS, as_msr(entry_legacy));
    set_msr(n, MSR_IA32_VMX_MISC, n->misc);
    set_msr(n, MSR_IA32_VMX_CR0_FIXED0, n->cr0_fixed0);
    set_msr(n, MSR_IA32_VMX_CR0_FIXED1, n->cr0_fixed1);
    set_msr(n, MSR_IA32_VMX_CR4_FIXED0, n->cr4_fixed0);
    set_msr(n, MSR_IA32_VMX_CR4_FIXED1, n->cr4_fixed1);
    set_msr(n, MSR_IA32_VMX_VMCS_ENUM, (uint64_t)vmcs12_max_index(n->v12_features) << 1);
    if (n->proc.allowed1 & PROC_SECONDARY_CONTROLS)
        set_msr(n, MSR_IA32_VMX_PROCBASED_CTLS2, as_msr(n->proc2));
    if (n->proc2.allowed1 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
        set_msr(n, MSR_IA32_VMX_EPT_VPID_CAP, n->ept_vpid);
    set_msr(n, MSR_IA32_VMX_TRUE_PINBASED_CTLS, as_msr(n->pin));
    set_msr(n, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, as_msr(n->proc));
    set_msr(n, MSR_IA32_VMX_TRUE_EXIT_CTLS, as_msr(n->exit));
    set_msr(n, MSR_IA32_VMX_TRUE_ENTRY_CTLS, as_msr(n->entry));
}
