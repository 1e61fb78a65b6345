/* PAE PDPTEs into the current VMCS (SDM 26.3.2.4): VMCS01 and VMCS02 both load them. */
#include "nestor/guest_walk.h"
#include "nestor/l1.h"
#include "nestor/vcpu.h"
#include "nestor/vmx_ops.h"

bool vmcs_write_pdptes(const uint64_t pdpte[4], uint64_t maxphyaddr_mask)
{
    for (int i = 0; i < 4; i++)
        if (!pae_pdpte_valid(pdpte[i], maxphyaddr_mask))
            return false;
    for (int i = 0; i < 4; i++)
        vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
    return true;
}

/* PAE paging outside long mode: VM entry loads PDPTEs from the VMCS (SDM 26.3.2.4), so read them now. */
bool vcpu_load_pdptes(struct vcpu *v, uint64_t cr3)
{
    uint64_t pdpte[4];
    if (!gmem_read(&v->vm->ept, cr3 & 0xffffffe0ull, pdpte, sizeof pdpte))
        return false; /* not L1's memory: no valid PDPTEs there */
    return vmcs_write_pdptes(pdpte, v->msr.phys_addr_mask);
}
