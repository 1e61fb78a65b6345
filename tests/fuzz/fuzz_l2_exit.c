/*
 * Fuzz target: the L2 exit path. A valid vmcs12 whose routing controls, exception
 * bitmap, #PF mask/match and L1 bitmaps come from the input, then L2 exits with
 * random reason, qualification, interruption and IDT-vectoring information. The
 * routing decision is checked against the SDM rules written out here once more
 * (25.1-25.2, 24.6.4, 24.6.9), independently of nested/exit_route.c, and a
 * reflected exit against the vmcs12 update of 27.2-27.3.
 */
#include <string.h>

#include "../../nested/nested_internal.h"
#include "fakecpu.h"
#include "nestor/arch.h"
#include "l1env.h"
#include "nestor/vmcs12.h"
#include "nestor/vmx_ops.h"

static const uint32_t ctl_fields[] = {
    VMCS_PIN_CONTROLS, VMCS_PROC_CONTROLS, VMCS_PROC_CONTROLS2, VMCS_EXCEPTION_BITMAP, VMCS_PF_ERROR_CODE_MASK,
    VMCS_PF_ERROR_CODE_MATCH, VMCS_CR0_GUEST_HOST_MASK, VMCS_CR4_GUEST_HOST_MASK, VMCS_EXIT_CONTROLS,
    VMCS_ENTRY_INTR_INFO, VMCS_EXIT_MSR_STORE_COUNT, VMCS_EXIT_MSR_LOAD_COUNT, VMCS_ENTRY_MSR_LOAD_COUNT,
    VMCS_EXIT_MSR_STORE_ADDR, VMCS_EXIT_MSR_LOAD_ADDR, VMCS_GUEST_INTERRUPTIBILITY,
};
#define NCTL (sizeof ctl_fields / sizeof ctl_fields[0])

static const uint32_t reasons[] = {
    EXIT_EXCEPTION_NMI, EXIT_EXTERNAL_INTERRUPT, EXIT_TRIPLE_FAULT, EXIT_INTERRUPT_WINDOW, EXIT_NMI_WINDOW,
    EXIT_TASK_SWITCH, EXIT_CPUID, EXIT_GETSEC, EXIT_HLT, EXIT_INVD, EXIT_INVLPG, EXIT_RDPMC, EXIT_RDTSC,
    EXIT_VMCALL, EXIT_VMCLEAR, EXIT_VMLAUNCH, EXIT_VMPTRLD, EXIT_VMREAD, EXIT_VMRESUME, EXIT_VMWRITE, EXIT_VMXOFF,
    EXIT_VMXON, EXIT_CR_ACCESS, EXIT_DR_ACCESS, EXIT_IO_INSTRUCTION, EXIT_RDMSR, EXIT_WRMSR, EXIT_MWAIT,
    EXIT_MONITOR, EXIT_PAUSE, EXIT_GDTR_IDTR, EXIT_LDTR_TR, EXIT_EPT_VIOLATION, EXIT_INVEPT, EXIT_RDTSCP,
    EXIT_PREEMPTION_TIMER, EXIT_INVVPID, EXIT_WBINVD, EXIT_XSETBV,
};
#define NREASONS (sizeof reasons / sizeof reasons[0])

/* A bit of one of L1's bitmaps; where L1 has no memory, reads give all ones (nested/operand.c, l1_phys_read). */
static bool l1_bit(gpa_t page, uint32_t bit)
{
    uint8_t b;
    if (!gmem_read(&E.vm->ept, page + bit / 8, &b, 1))
        return true;
    return (b >> (bit % 8)) & 1;
}

/* L2's VMREAD/VMWRITE: the instruction information and field operand of the exit being checked. */
static uint32_t vmx_info;
static uint64_t vmx_field;

/* What the SDM says about this exit: 1 L1 gets it, 0 it cannot be L1's, -1 no independent rule here. */
static int sdm_l1_gets(const struct vmcs12 *v12, unsigned reason, uint64_t qual, uint32_t intr, uint32_t msr)
{
    uint32_t proc = (uint32_t)V12(v12, VMCS_PROC_CONTROLS), pin = (uint32_t)V12(v12, VMCS_PIN_CONTROLS);
    uint32_t proc2 = (proc & PROC_SECONDARY_CONTROLS) ? (uint32_t)V12(v12, VMCS_PROC_CONTROLS2) : 0;
    switch (reason) {
    /* 25.1.2: instructions that cause VM exits unconditionally, and the exits vmcs02 takes only for L1. */
    case EXIT_VMREAD:
    case EXIT_VMWRITE: { /* 30.3, 24.6.15: with VMCS shadowing, a clear bitmap bit keeps it from L1 */
        if (!(proc2 & PROC2_VMCS_SHADOWING))
            return 1;
        if (!(vmx_info & INSNINFO_REG_OPERAND))
            return -1; /* Nestor gives memory operands to L1 (nested/vmcs12_shadow_l1.c, documented) */
        uint64_t field = vmx_field;
        if (field >> 15)
            return 1;
        gpa_t bitmap = reason == EXIT_VMWRITE ? V12(v12, VMCS_VMWRITE_BITMAP) : V12(v12, VMCS_VMREAD_BITMAP);
        return l1_bit(bitmap, (uint32_t)field & 0x7fff);
    }
    case EXIT_CPUID: case EXIT_GETSEC: case EXIT_INVD: case EXIT_XSETBV: case EXIT_VMCALL: case EXIT_VMCLEAR:
    case EXIT_VMLAUNCH: case EXIT_VMPTRLD: case EXIT_VMRESUME:
    case EXIT_VMXOFF: case EXIT_VMXON: case EXIT_INVEPT: case EXIT_INVVPID: case EXIT_TRIPLE_FAULT:
    case EXIT_TASK_SWITCH: case EXIT_CR_ACCESS: case EXIT_INTERRUPT_WINDOW: case EXIT_NMI_WINDOW:
        return 1;
    case EXIT_HLT: return !!(proc & PROC_HLT_EXITING);
    case EXIT_RDTSC: return !!(proc & PROC_RDTSC_EXITING);
    case EXIT_RDPMC: return !!(proc & PROC_RDPMC_EXITING);
    case EXIT_MWAIT: return !!(proc & PROC_MWAIT_EXITING);
    case EXIT_EXTERNAL_INTERRUPT: return !!(pin & PIN_EXT_INTR_EXITING);
    case EXIT_EXCEPTION_NMI: {
        unsigned vec = intr & 0xff, type = (intr >> 8) & 7;
        if (type == INTR_TYPE_NMI)
            return -1;
        if (vec == VEC_DB || vec == VEC_AC) /* Nestor's own intercepts: L1's only if its bitmap says so (25.2) */
            return (V12(v12, VMCS_EXCEPTION_BITMAP) >> vec) & 1;
        return -1;
    }
    case EXIT_IO_INSTRUCTION: { /* 25.1.3 */
        if (!(proc & PROC_USE_IO_BITMAPS))
            return !!(proc & PROC_UNCOND_IO_EXITING);
        uint32_t port = (qual >> 16) & 0xffff, size = (qual & 7) + 1;
        for (uint32_t p = port; p < port + size; p++) {
            if (p > 0xffff)
                return 1;
            if (l1_bit(p < 0x8000 ? V12(v12, VMCS_IO_BITMAP_A) : V12(v12, VMCS_IO_BITMAP_B), p & 0x7fff))
                return 1;
        }
        return 0;
    }
    case EXIT_RDMSR:
    case EXIT_WRMSR: { /* 24.6.9 */
        if (!(proc & PROC_USE_MSR_BITMAPS))
            return 1;
        bool write = reason == EXIT_WRMSR;
        uint32_t off;
        if (msr <= 0x1fff)
            off = write ? 0x800 : 0;
        else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
            off = write ? 0xc00 : 0x400;
        else
            return 1;
        return l1_bit(V12(v12, VMCS_MSR_BITMAP) + off, msr & 0x1fff);
    }
    case EXIT_WBINVD: return !!(proc2 & PROC2_WBINVD_EXITING);
    default: return -1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fin f = {data, size};
    env_reset(fin_u8(&f) & (CFG_SHADOWING | CFG_NO_EPT | CFG_NO_VPID));
    struct vcpu *v = E.v;
    struct nested_vmx *n = &v->nested;
    env_l1_vmx_exit(EXIT_VMXON, env_mem_operand(L1_VMXON_GPA, 0, 0), 0);
    uint8_t flags = fin_u8(&f);
    env_write_good_vmcs12(0, flags & 1, !(flags & 2), !(flags & 4), !(flags & 8), flags & 16, flags & 32);
    if (!n->current)
        return 0;
    /* L1 gives L2 VMCS shadowing (24.10): a shadow vmcs12 as link pointer, VMREAD/VMWRITE bitmaps
     * from the input (nested/vmcs12_shadow_l1.c then runs L2's VMREAD/VMWRITE on the shadow). */
    if ((flags & 64) && (n->caps.proc2.allowed1 & PROC2_VMCS_SHADOWING)) {
        uint32_t rev = VMCS12_REVISION | VMCS12_SHADOW_INDICATOR;
        memcpy(env_l1_ptr(L1_VMCS_GPA(15)), &rev, 4);
        memset(env_l1_ptr(L1_VMRW_BITMAP_GPA), 0, 2 * PAGE_SIZE);
        env_l1_vmwrite(VMCS_VMREAD_BITMAP, L1_VMRW_BITMAP_GPA);
        env_l1_vmwrite(VMCS_VMWRITE_BITMAP, L1_VMRW_BITMAP_GPA + PAGE_SIZE);
        env_l1_vmwrite(VMCS_LINK_POINTER, L1_VMCS_GPA(15));
        env_l1_vmwrite(VMCS_PROC_CONTROLS2, V12(&n->current->v, VMCS_PROC_CONTROLS2) | PROC2_VMCS_SHADOWING);
        for (unsigned i = fin_u8(&f) % 8; i; i--) {
            uint16_t off = fin_u16(&f) % (2 * PAGE_SIZE);
            *(uint8_t *)env_l1_ptr(L1_VMRW_BITMAP_GPA + off) = fin_u8(&f);
        }
    }
    /* L1's controls and bitmaps, from the input. */
    for (unsigned i = fin_u8(&f) % 8; i; i--) {
        uint32_t field = ctl_fields[fin_u8(&f) % NCTL];
        uint64_t cur = 0;
        vmcs12_read(&n->current->v, field, ~0u, &cur);
        env_l1_vmwrite(field, cur ^ fin_u32(&f));
    }
    for (unsigned i = fin_u8(&f) % 16; i; i--) {
        uint16_t off = fin_u16(&f) % (3 * PAGE_SIZE);
        *(uint8_t *)env_l1_ptr(L1_BITMAP_GPA + off) = fin_u8(&f);
    }
    env_l1_vmx_exit(EXIT_VMLAUNCH, 0, 0);
    if (!n->in_l2)
        return 0;
    env_enter_l2(false);

    for (unsigned step = 0; step < 16 && !fin_empty(&f) && !v->stopped; step++) {
        if (!n->in_l2) { /* the exit went to L1: it resumes L2 */
            env_l1_vmx_exit(EXIT_VMRESUME, 0, 0);
            if (!n->in_l2 || v->stopped)
                return 0;
            env_enter_l2(false);
        }
        uint8_t r = fin_u8(&f);
        unsigned reason = r < 4 * NREASONS ? reasons[r % NREASONS] : fin_u8(&f);
        uint64_t qual = fin_u64(&f);
        uint32_t intr = fin_u32(&f), idt = fin_u32(&f), msr = fin_u32(&f);
        v->regs.gpr[GPR_RCX] = msr;
        /* L2 ran: some of its state changed. */
        for (unsigned i = fin_u8(&f) % 4; i; i--)
            fake_vmcs_set(n->vmcs02, vmcs12_guest_fields[fin_u8(&f) % vmcs12_guest_field_count], fin_u64(&f));
        vmx_info = vmx_field = 0;
        if (reason == EXIT_VMREAD || reason == EXIT_VMWRITE) {
            /* Register or memory operand, any registers; the field is a VMCS encoding or anything. */
            vmx_info = fin_u32(&f);
            unsigned reg2 = INSNINFO_REG2(vmx_info);
            uint64_t field = fin_u8(&f) & 1 ? fin_u64(&f) : vmcs12_encoding_of(fin_u8(&f) % VMCS12_NFIELDS);
            unsigned reg1 = INSNINFO_REG1(vmx_info);
            uint64_t value = reg1 == reg2 ? field : fin_u64(&f);
            /* L2's RSP is in vmcs02, the other registers in the vCPU's save area (core/vcpu_regs.c). */
            v->regs.gpr[reg1] = value;
            v->regs.gpr[reg2] = field;
            fake_vmcs_set(n->vmcs02, VMCS_GUEST_RSP, reg2 == GPR_RSP ? field : reg1 == GPR_RSP ? value : 0x8000);
            fake_vmcs_set(n->vmcs02, VMCS_EXIT_INSTRUCTION_INFO, vmx_info);
            vmx_field = field;
            uint64_t cs_ar = 0, efer = 0;
            fake_vmcs_get(n->vmcs02, VMCS_GUEST_CS_AR, &cs_ar);
            fake_vmcs_get(n->vmcs02, VMCS_GUEST_EFER, &efer);
            if (!((efer & EFER_LMA) && (cs_ar & (1u << 13))))
                vmx_field &= 0xffffffffull; /* outside 64-bit mode the operand is 32 bits */
        }
        const struct vmcs12 *v12 = &n->current->v;
        bool ept12 = (V12(v12, VMCS_PROC_CONTROLS) & PROC_SECONDARY_CONTROLS) &&
                     (V12(v12, VMCS_PROC_CONTROLS2) & PROC2_ENABLE_EPT);
        if (reason == EXIT_EPT_MISCONFIG || (reason == EXIT_EPT_VIOLATION && ept12))
            continue; /* fuzz_ept02's subject */
        int want = sdm_l1_gets(v12, reason, qual, intr, msr);
        uint64_t rip2 = 0, cr3_2 = 0;
        fake_vmcs_get(n->vmcs02, VMCS_GUEST_RIP, &rip2);
        fake_vmcs_get(n->vmcs02, VMCS_GUEST_CR3, &cr3_2);
        struct vmcs12_cache_entry *cur = n->current;

        enum exit_action a = env_l2_exit(reason, qual, intr, idt, 0x1000);

        if (v->stopped)
            return 0;
        bool reflected = !n->in_l2;
        if (want == 1 && !reflected)
            env_fail("L2 exit %u kept by L0 (action %d) although L1's controls ask for it", reason, a);
        /* An RDMSR/WRMSR L1 lets through, or a VMREAD/VMWRITE on its shadow at CPL > 0, may be L2's #GP:
         * an exception exit if L1 intercepts #GP (25.2, 30.3). */
        bool l2_gp = (reason == EXIT_RDMSR || reason == EXIT_WRMSR || reason == EXIT_VMREAD || reason == EXIT_VMWRITE) &&
                      reflected &&
                      EXIT_REASON_BASIC(V12(&cur->v, VMCS_EXIT_REASON)) == EXIT_EXCEPTION_NMI &&
                      INTR_INFO_VECTOR(V12(&cur->v, VMCS_EXIT_INTR_INFO)) == VEC_GP &&
                      ((V12(&cur->v, VMCS_EXCEPTION_BITMAP) >> VEC_GP) & 1);
        if (want == 0 && reflected && !l2_gp)
            env_fail("L2 exit %u reflected to L1 although its controls do not ask for it", reason);
        if (reflected && !l2_gp) { /* 27.2: exit information; 27.3: L2's state saved */
            const struct vmcs12 *c = &cur->v;
            if (V12(c, VMCS_EXIT_QUALIFICATION) != qual || (uint32_t)V12(c, VMCS_EXIT_INTR_INFO) != intr ||
                (uint32_t)V12(c, VMCS_IDT_VECTORING_INFO) != idt)
                env_fail("L2 exit %u: vmcs12's exit information differs from the exit's", reason);
            if (V12(c, VMCS_GUEST_RIP) != rip2 || V12(c, VMCS_GUEST_CR3) != cr3_2)
                env_fail("L2 exit %u: vmcs12's guest RIP/CR3 not saved from vmcs02", reason);
        }
    }
    return 0;
}
