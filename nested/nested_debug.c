/*
 * The console's views of nested state (Ctrl-A v, Ctrl-A e; vmx/debug_keys.c):
 * the vmcs12 L1 has current beside the vmcs02 Nestor built from it, and the
 * shadow EPT02 entries for an L2 guest-physical address. Read-only: the
 * current VMCS is the same before and after.
 */
#include "nested_internal.h"
#include "nestor/ept.h"
#include "nestor/log.h"
#include "nestor/vcpu.h"
#include "nestor/vmcs12.h"
#include "nestor/vmx_ops.h"

void nested_debug_dump_vmcs(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    if (!n->vmxon || !n->current) {
        log_always("vmcs: L1 CPU %u has %s", v->l1_index,
                   !n->vmxon ? "not executed VMXON: no vmcs12, no vmcs02" : "no current vmcs12 (VMPTRLD)");
        return;
    }
    if (!n->in_l2)
        vmcs_shadow_drain(v); /* L1's VMWRITEs that went to the shadow VMCS without an exit (vmcs01 is current) */
    const struct vmcs12 *v12 = &n->current->v;
    /* vmcs02 holds this vmcs12's translation once an entry into L2 has built it; it is current while L2 runs. */
    bool have02 = n->vmcs02 && (n->in_l2 || n->vmcs02_launched);
    bool switch02 = have02 && !n->in_l2;
    if (switch02 && vmptrld(n->vmcs02) != VMX_OK)
        have02 = switch02 = false;
    log_always("vmcs: L1 CPU %u, vmcs12 at 0x%lx (%s)%s", v->l1_index, n->current_ptr,
               v12->launch_state == VMCS12_LAUNCHED ? "launched" : "clear", n->in_l2 ? ", L2 running" : "");
    log_always("vmcs:   %-34s %6s %18s %18s", "field", "enc", "vmcs12", have02 ? "vmcs02" : "vmcs02 (not built)");
    for (unsigned s = 0; s < VMCS12_NFIELDS; s++) {
        uint32_t enc = vmcs12_encoding_of(s);
        uint64_t v02 = 0;
        bool ok02 = have02 && vmread_checked(enc, &v02) == VMX_OK;
        if (ok02)
            log_always("vmcs:   %-34s %06x %18lx %18lx%s", vmcs12_name_of(s), enc, v12->f[s], v02,
                       v02 != v12->f[s] ? " *" : "");
        else
            log_always("vmcs:   %-34s %06x %18lx %18s", vmcs12_name_of(s), enc, v12->f[s], "-");
    }
    if (switch02 && vmptrld(v->vmcs) != VMX_OK)
        log_error("vmcs: VMPTRLD of VMCS01 after the dump failed");
    log_always("vmcs: end (* = vmcs02 differs: Nestor's own controls, host state, shadow EPT)");
}

void nested_debug_ept02(struct vcpu *v, gpa_t gpa)
{
    struct nested_vmx *n = &v->nested;
    uint64_t cur12 = n->current ? V12(&n->current->v, VMCS_EPT_POINTER) : 0;
    bool any = false;
    for (unsigned i = 0; i < EPT02_ROOTS; i++) {
        const struct ept02_root *r = &n->ept02[i];
        if (!r->valid)
            continue;
        any = true;
        struct ept_walk w;
        const char *mark = r->eptp12 == cur12 ? " (the current vmcs12's)" : "";
        if (ept_walk(&r->ept, gpa, &w))
            log_always("ept: EPT02 for EPTP12 0x%lx%s: L2 0x%lx -> 0x%lx, level %u entry 0x%016lx, %c%c%c", r->eptp12,
                       mark, gpa, w.hpa, w.level, w.leaf, (w.perms & EPT_R) ? 'r' : '-',
                       (w.perms & EPT_W) ? 'w' : '-', (w.perms & EPT_X) ? 'x' : '-');
        else
            log_always("ept: EPT02 for EPTP12 0x%lx%s: L2 0x%lx not filled (the next access faults it in)", r->eptp12,
                       mark, gpa);
    }
    if (!any)
        log_always("ept: no EPT02 (L1 has not run an L2 with EPT)");
}
