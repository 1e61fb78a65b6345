/*
 * APIC virtualization for L2 (SDM vol. 3C chapter 29): use TPR shadow, virtualize APIC
 * accesses, APIC-register virtualization and virtual-interrupt delivery, as L1 sets them in
 * vmcs12. They pass through to vmcs02: the CPU virtualizes L2's APIC against L1's own
 * virtual-APIC page, so L2's TPR, EOI and register accesses cost neither L0 nor L1 an exit.
 * vmcs02 needs L1's two pages as host-physical addresses, translated through EPT01 at every
 * entry (EPT01 decides what is L1's, not vmcs12).
 *
 * The CPU reads and writes the virtual-APIC page at vmcs02's host-physical address with the
 * memory type IA32_VMX_BASIC reports, write-back (SDM A.1): it must be RAM L1 may write, else
 * the entry fails with VMfailValid(7), as KVM does for a page it cannot map. The APIC-access
 * page is only compared with the addresses of L2's accesses, never accessed; it must still be
 * L1's (EPT01 maps it), so that an EPT02 entry can reach it: an address EPT01 does not map
 * could not be matched the way the CPU would.
 */
#include "nested_internal.h"
#include "nestor/ept.h"
#include "nestor/physmem.h"
#include "nestor/vmx_ops.h"

/* VTPR: the virtual-APIC page's task-priority register (SDM 29.1.1). */
#define VAPIC_VTPR 0x80u
/* No virtual-APIC page in RAM this entry. Not 0: L1's low memory may be host-physical page 0. */
#define NO_VAPIC (~(paddr_t)0)

static bool l1_page(struct vcpu *v, gpa_t gpa, uint64_t need, bool wb_only, paddr_t *hpa)
{
    struct ept_walk w;
    if ((gpa & (PAGE_SIZE - 1)) || !ept_walk(&v->vm->ept, gpa, &w) || (w.perms & need) != need)
        return false;
    if (wb_only && ((w.leaf >> EPT_MEMTYPE_SHIFT) & 7) != MEMTYPE_WB)
        return false;
    *hpa = w.hpa;
    return true;
}

const char *apic_virt_pages(struct vcpu *v, const struct vmcs12 *v12)
{
    struct nested_vmx *n = &v->nested;
    n->vapic_hpa = NO_VAPIC; /* l1_page writes it only for a page that passes */
    if ((V12(v12, VMCS_PROC_CONTROLS) & PROC_TPR_SHADOW) &&
        !l1_page(v, V12(v12, VMCS_VIRTUAL_APIC_ADDR), EPT_R | EPT_W, true, &n->vapic_hpa))
        return "Nestor: the virtual-APIC page must be RAM L1 may write (EPT01 read/write, write-back)";
    if ((vmcs12_proc2(v12) & PROC2_VIRT_APIC_ACCESSES) &&
        !l1_page(v, V12(v12, VMCS_APIC_ACCESS_ADDR), 0, false, &n->apic_access_hpa))
        return "Nestor: the APIC-access page must be memory EPT01 gives L1";
    return NULL;
}

/* Read from the page apic_virt_pages found to be RAM only: never a device register on L1's behalf. */
uint8_t apic_virt_vtpr(const struct vcpu *v)
{
    const struct nested_vmx *n = &v->nested;
    return n->vapic_hpa != NO_VAPIC ? *(const volatile uint8_t *)phys_to_virt(n->vapic_hpa + VAPIC_VTPR) : 0xff;
}

/* vmcs02 current; apic_virt_pages passed for this entry. */
void apic_virt_vmcs02(struct vcpu *v, const struct vmcs12 *v12)
{
    const struct nested_vmx *n = &v->nested;
    uint32_t proc2 = vmcs12_proc2(v12);
    if (V12(v12, VMCS_PROC_CONTROLS) & PROC_TPR_SHADOW) {
        vmwrite(VMCS_VIRTUAL_APIC_ADDR, n->vapic_hpa);
        vmwrite(VMCS_TPR_THRESHOLD, V12(v12, VMCS_TPR_THRESHOLD));
    }
    if (proc2 & PROC2_VIRT_APIC_ACCESSES)
        vmwrite(VMCS_APIC_ACCESS_ADDR, n->apic_access_hpa);
    if (proc2 & PROC2_VIRT_INTR_DELIVERY) {
        for (unsigned i = 0; i < 4; i++)
            vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * i, v12->f[SLOT_VMCS_EOI_EXIT_BITMAP0 + i]);
        vmwrite(VMCS_GUEST_INTR_STATUS, V12(v12, VMCS_GUEST_INTR_STATUS));
    }
}

/* SDM 27.3.2 (guest interrupt status is saved with the guest state); vmcs02 current. */
void apic_virt_save(struct vmcs12 *v12)
{
    if (vmcs12_proc2(v12) & PROC2_VIRT_INTR_DELIVERY)
        V12(v12, VMCS_GUEST_INTR_STATUS) = vmread(VMCS_GUEST_INTR_STATUS);
}
