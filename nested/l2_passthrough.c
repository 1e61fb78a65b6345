/*
 * L2's I/O instructions and RDMSR/WRMSR that L1 does not intercept. vmcs02 lets all of them
 * exit (vmcs02_io_msr_exiting) so that L1's bitmaps are read at the access, as the CPU reads
 * them (SDM 25.1.3): exit_route.c has read them and said "not L1's". What remains is what
 * the access would have done had it not exited, which is what L1's own access of the same
 * port or MSR does (L2 shares L1's virtual platform):
 * - I/O: Nestor's handler, as for L1 (its devices, or the port itself). INS/OUTS are not
 *   emulated: for one to a port Nestor does not own, vmcs02 falls back to a merged copy of
 *   L1's bitmaps until the next emulated VM entry and L2 re-executes it natively.
 * - MSRs, by nested/msr_policy.c's one decision: Nestor's virtual MSRs (and DEBUGCTL) go to
 *   vmx/exit_msr.c; the MSRs the VMCS switches are vmcs02's guest fields, with WRMSR's #GP
 *   rules; the others are executed on the CPU with #GP caught, as L2 would have.
 */
#include "nested_internal.h"
#include "nestor/arch.h"
#include "nestor/log.h"
#include "nestor/msr_policy.h"
#include "nestor/vmx_ops.h"

static bool canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

static enum exit_action l2_string_io(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    const struct vmcs12 *v12 = &n->current->v;
    uint32_t proc12 = (uint32_t)V12(v12, VMCS_PROC_CONTROLS);
    /* Already on a bitmap (Nestor's ports only, or the snapshot): the port is Nestor's; its handler decides. */
    if (n->io_snapshot || !(proc12 & PROC_USE_IO_BITMAPS))
        return EXIT_L0_HANDLES;
    uint32_t proc02 = (uint32_t)vmread(VMCS_PROC_CONTROLS) & ~(uint32_t)(PROC_UNCOND_IO_EXITING | PROC_USE_IO_BITMAPS);
    vmwrite(VMCS_PROC_CONTROLS, proc02 | vmcs02_io_msr_exiting(v, v12, proc12, true));
    log_debug("L2 string I/O to port 0x%lx that L1 does not intercept: run natively on a merged bitmap until the "
              "next entry", IOQUAL_PORT(v->exit_qual));
    return EXIT_RESUME; /* RIP unchanged: L2 executes it again, now without an exit */
}

/* The VMCS guest field holding an MSR the VMCS switches for L2 (vmcs02 has save/load EFER and PAT). */
static uint32_t vmcs_field_of(uint32_t msr)
{
    switch (msr) {
    case MSR_IA32_EFER: return VMCS_GUEST_EFER;
    case MSR_IA32_PAT: return VMCS_GUEST_PAT;
    case MSR_IA32_SYSENTER_CS: return VMCS_GUEST_SYSENTER_CS;
    case MSR_IA32_SYSENTER_ESP: return VMCS_GUEST_SYSENTER_ESP;
    case MSR_IA32_SYSENTER_EIP: return VMCS_GUEST_SYSENTER_EIP;
    case MSR_IA32_FS_BASE: return VMCS_GUEST_FS_BASE;
    case MSR_IA32_GS_BASE: return VMCS_GUEST_GS_BASE;
    default: return 0;
    }
}

/* WRMSR of an MSR the VMCS holds: false where the instruction gets #GP (SDM vol. 2B WRMSR, vol. 4). */
static bool vmcs_msr_write(uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_IA32_EFER: {
        /* Vol. 3A 2.2.1: reserved bits #GP; LMA is read-only; LME may not change while paging is on. */
        uint64_t old = vmread(VMCS_GUEST_EFER);
        if (value & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
            return false;
        if ((vmread(VMCS_GUEST_CR0) & CR0_PG) && ((value ^ old) & EFER_LME))
            return false;
        value = (value & ~EFER_LMA) | (old & EFER_LMA);
        break;
    }
    case MSR_IA32_PAT:
        /* Vol. 3A 11.12.2: each entry a valid memory type. */
        for (unsigned b = 0; b < 64; b += 8) {
            unsigned t = (value >> b) & 0xff;
            if (t == 2 || t == 3 || t > 7)
                return false;
        }
        break;
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
    case MSR_IA32_FS_BASE:
    case MSR_IA32_GS_BASE:
        if (!canonical(value)) /* vol. 4: these hold linear addresses */
            return false;
        break;
    default:
        break;
    }
    vmwrite(vmcs_field_of(msr), value);
    return true;
}

/*
 * #GP for L2's RDMSR/WRMSR (and VMREAD/VMWRITE at CPL > 0): an exception exit to L1 if its exception bitmap has #GP (25.2),
 * else delivered to L2 on the next entry, as the CPU would have.
 */
enum exit_action nested_l2_gp(struct vcpu *v)
{
    struct vmcs12 *v12 = &v->nested.current->v;
    bool pe = vmread(VMCS_GUEST_CR0) & CR0_PE; /* no error code in real mode */
    if (!((V12(v12, VMCS_EXCEPTION_BITMAP) >> VEC_GP) & 1)) {
        vcpu_inject_exception(v, VEC_GP, true, 0);
        return EXIT_RESUME;
    }
    v->nested.stats.l2_to_l1[EXIT_EXCEPTION_NMI]++;
    nested_reflect(v, EXIT_EXCEPTION_NMI, 0, false);
    /* 27.2.2: a fault's exit has interruption information and no instruction length or information. */
    V12(v12, VMCS_EXIT_INTR_INFO) =
        VEC_GP | (INTR_TYPE_HW_EXCEPTION << 8) | INTR_INFO_VALID | (pe ? INTR_INFO_ERROR_CODE_VALID : 0);
    V12(v12, VMCS_EXIT_INTR_ERROR_CODE) = 0;
    V12(v12, VMCS_EXIT_INSTRUCTION_LEN) = 0;
    V12(v12, VMCS_EXIT_INSTRUCTION_INFO) = 0;
    vmcs_shadow_fill(v); /* the shadow L1 reads exit information from, if any */
    return EXIT_RESUME;
}

static enum exit_action l2_msr(struct vcpu *v, bool write)
{
    uint32_t msr = (uint32_t)v->regs.gpr[GPR_RCX];
    enum msr_path path = msr_policy_path(msr, write);
    if (path == MSR_PATH_VIRTUAL || msr == MSR_IA32_DEBUGCTL)
        return EXIT_L0_HANDLES; /* Nestor's virtual MSR, as for L1 (vmx/exit_msr.c) */
    uint64_t value = ((v->regs.gpr[GPR_RDX] & 0xffffffffull) << 32) | (v->regs.gpr[GPR_RAX] & 0xffffffffull);
    if (path == MSR_PATH_VMCS) {
        if (write && !vmcs_msr_write(msr, value))
            return nested_l2_gp(v);
        if (!write)
            value = vmread(vmcs_field_of(msr));
    } else if (write) {
        if (wrmsr_safe(msr, value) != 0)
            return nested_l2_gp(v);
    } else {
        if (rdmsr_safe(msr, &value) != 0)
            return nested_l2_gp(v);
        /* RDMSR of IA32_TSC in VMX non-root operation adds the TSC offset (25.3). */
        if (msr == MSR_IA32_TSC && (vmread(VMCS_PROC_CONTROLS) & PROC_TSC_OFFSETTING))
            value += vmread(VMCS_TSC_OFFSET);
    }
    if (!write) {
        v->regs.gpr[GPR_RAX] = value & 0xffffffffull;
        v->regs.gpr[GPR_RDX] = value >> 32;
    }
    vcpu_skip_instruction(v);
    return EXIT_RESUME;
}

enum exit_action nested_l2_io_msr_for_l0(struct vcpu *v, unsigned reason)
{
    switch (reason) {
    case EXIT_IO_INSTRUCTION:
        return (v->exit_qual & IOQUAL_STRING) ? l2_string_io(v) : EXIT_L0_HANDLES;
    case EXIT_RDMSR:
        return l2_msr(v, false);
    case EXIT_WRMSR:
        return l2_msr(v, true);
    default:
        return EXIT_L0_HANDLES;
    }
}
