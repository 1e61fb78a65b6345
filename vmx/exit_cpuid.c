/* CPUID exits (unconditional, SDM 25.1.2): the host's answer, filtered by vmx/vcpuid.c. */
#include "exit_handlers.h"
#include "nestor/vcpuid.h"
#include "nestor/vmx_ops.h"

enum exit_action handle_cpuid(struct vcpu *v)
{
    uint32_t leaf = (uint32_t)v->regs.gpr[GPR_RAX], subleaf = (uint32_t)v->regs.gpr[GPR_RCX];
    struct cpuid_regs r = cpuid(leaf, subleaf);
    struct vcpuid_ctx ctx = {
        .rdtscp = v->proc2 & PROC2_ENABLE_RDTSCP,
        .invpcid = v->proc2 & PROC2_ENABLE_INVPCID,
        .xsaves = v->proc2 & PROC2_ENABLE_XSAVES,
        .vmx = v->nested.offered,
        .guest_cr4 = (vmread(VMCS_GUEST_CR4) & ~v->cr4_mask) | (vmread(VMCS_CR4_READ_SHADOW) & v->cr4_mask),
    };
    vcpuid_filter(leaf, subleaf, &r, &ctx);
    v->regs.gpr[GPR_RAX] = r.eax;
    v->regs.gpr[GPR_RBX] = r.ebx;
    v->regs.gpr[GPR_RCX] = r.ecx;
    v->regs.gpr[GPR_RDX] = r.edx;
    vcpu_skip_instruction(v);
    return EXIT_RESUME;
}
