/* Setting up nested VMX for L1: what is offered, vmcs02 and its bitmaps. */
#include "nested_internal.h"
#include "nestor/arch.h"
#include "nestor/log.h"
#include "nestor/palloc.h"
#include "nestor/physmem.h"
#include "nestor/vmx.h"
#include "nestor/vmx_ops.h"

#define L2_VPID 2

void nested_init(struct vcpu *v, bool offer, bool vmcs_shadowing, bool nested_ept)
{
    struct nested_vmx *n = &v->nested;
    n->offered = offer;
    n->current_ptr = VMCS12_NONE;
    n->vmxon_ptr = VMCS12_NONE;
    for (unsigned i = 0; i < VMCS12_CACHE_SIZE; i++)
        n->cache[i].gpa = VMCS12_NONE;
    if (!offer) {
        log_info("nested VMX: not offered to L1 (nested=0)");
        return;
    }
    struct nested_options opt = {.ept = nested_ept, .vmcs_shadowing = vmcs_shadowing};
    nested_caps_compute(&g_vmx_caps, &opt, &n->caps);
    n->ept = n->caps.proc2.allowed1 & PROC2_ENABLE_EPT;
    n->rtm = cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & BIT(11));
    v->msr.vmx_caps = n->caps.msr;
    v->msr.vmx_caps_present = n->caps.present;
    v->msr.feature_control = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;

    n->vmcs02 = page_alloc_zeroed();
    *(uint32_t *)phys_to_virt(n->vmcs02) = (uint32_t)(g_vmx_caps.basic & VMX_BASIC_REVISION_MASK);
    n->io_bitmap02[0] = page_alloc_zeroed();
    n->io_bitmap02[1] = page_alloc_zeroed();
    n->vpid02 = v->vpid ? L2_VPID : 0;
    sparse_page_index(&n->io_bitmap01_words[0], v->io_bitmap[0]);
    sparse_page_index(&n->io_bitmap01_words[1], v->io_bitmap[1]);
    /* Host state never changes: write it once into vmcs02, then make vmcs01 current again. */
    vmclear(n->vmcs02);
    vmptrld(n->vmcs02);
    vmcs_write_host_state();
    vmptrld(v->vmcs);
    bool shadow = vmcs_shadow_init(v, vmcs_shadowing);

    const struct nested_caps *k = &n->caps;
    log_info("nested VMX offered: revision 0x%x, pin 0x%x/0x%x proc 0x%x/0x%x proc2 0x%x/0x%x exit 0x%x/0x%x "
             "entry 0x%x/0x%x misc 0x%lx ept_vpid 0x%lx",
             VMCS12_REVISION, k->pin.allowed0, k->pin.allowed1, k->proc.allowed0, k->proc.allowed1, k->proc2.allowed0,
             k->proc2.allowed1, k->exit.allowed0, k->exit.allowed1, k->entry.allowed0, k->entry.allowed1, k->misc,
             k->ept_vpid);
    log_info("nested VMX: nested EPT %s", n->ept ? "offered" : nested_ept ? "not offered (the CPU lacks it)" : "not offered (nested_ept=0)");
    log_info("nested VMX: VMCS shadowing offered to L1 for its L2s: %s",
             (k->proc2.allowed1 & PROC2_VMCS_SHADOWING) ? "yes"
             : vmcs_shadowing                         ? "no (the CPU lacks it)"
                                                      : "no (vmcs_shadowing=0)");
    log_info("nested VMX: VMCS shadowing %s", shadow ? (n->shadow_ro ? "on (with exit information)" : "on")
                                             : vmcs_shadowing ? "off (the CPU lacks it)" : "off (vmcs_shadowing=0)");
}
