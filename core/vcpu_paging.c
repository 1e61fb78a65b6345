/* The paging state of the guest the current VMCS runs, for walks of its page tables (nested/guest_walk.c). */
#include "nestor/arch.h"
#include "nestor/vcpu.h"
#include "nestor/vmx.h"
#include "nestor/vmx_ops.h"

void vcpu_paging_ctx(struct paging_ctx *pc)
{
    *pc = (struct paging_ctx){
        .cr0 = vmread(VMCS_GUEST_CR0),
        .cr3 = vmread(VMCS_GUEST_CR3),
        .cr4 = vmread(VMCS_GUEST_CR4),
        .efer = vmread(VMCS_GUEST_EFER),
        .pdpte = {vmread(VMCS_GUEST_PDPTE0), vmread(VMCS_GUEST_PDPTE1), vmread(VMCS_GUEST_PDPTE2),
                  vmread(VMCS_GUEST_PDPTE3)},
        .cpl = VMX_AR_DPL(vmread(VMCS_GUEST_SS_AR)),
        .rflags_ac = vmread(VMCS_GUEST_RFLAGS) & BIT(18),
        .maxphyaddr_mask = g_vmx_caps.phys_addr_mask,
    };
}
