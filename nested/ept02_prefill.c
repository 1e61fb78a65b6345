/*
 * Shadow EPT02 entries installed before L2 faults on them (the policy; the composition
 * and its rules are ept/ept02_prefetch.c):
 *
 *  - pre-fill: an EPT violation reflected to L1 is, nearly always, L1 mapping that page
 *    in EPT12 (KVM's fault handler) before it resumes L2, which then faults a second
 *    time, in Nestor, for the shadow entry. Walking EPT12 for that address when L1 resumes
 *    L2 (same EPTP12) installs it then, without that second exit;
 *  - prefetch: a fault on a page EPT12 already maps (a shadow miss: a new shadow after
 *    INVEPT, another L2, another vCPU) says L1's table around it is populated: the valid
 *    neighbours in the same EPT12 table page are installed with it. A fill after a
 *    reflection (the pre-fill) does not prefetch: L1 has just mapped that one page.
 *
 * Both only add entries where the shadow has none, and only what EPT12 and EPT01 give
 * right now; whatever fails (not present, misconfigured, not L1's memory, low memory) is
 * left for a fault to report as it always did.
 */
#include "nested_internal.h"
#include "nestor/ept02_prefetch.h"
#include "nestor/palloc.h"

static uint64_t read_l1_entry(void *ctx, gpa_t pa) { return l1_phys_read_u64(ctx, pa); }

static struct ept12_caps caps_of(const struct nested_vmx *n)
{
    return (struct ept12_caps){
        .exec_only = n->caps.ept_vpid & EPT_CAP_EXEC_ONLY,
        .large_2m = n->caps.ept_vpid & EPT_CAP_2MB_PAGE,
        .large_1g = n->caps.ept_vpid & EPT_CAP_1GB_PAGE,
        .maxphyaddr_mask = nested_maxphy_mask(),
    };
}

void ept02_note_reflected(struct vcpu *v, gpa_t gpa2, uint64_t eptp12, uint64_t need)
{
    struct nested_vmx *n = &v->nested;
    n->prefill.pending = true;
    n->prefill.gpa2 = gpa2;
    n->prefill.eptp12 = eptp12;
    n->prefill.need = need;
}

void ept02_prefill(struct vcpu *v, const struct vmcs12 *v12)
{
    struct nested_vmx *n = &v->nested;
    if (!n->prefill.pending)
        return;
    n->prefill.pending = false;
    bool ept12 = vmcs12_proc2(v12) & PROC2_ENABLE_EPT;
    if (!ept12 || V12(v12, VMCS_EPT_POINTER) != n->prefill.eptp12 ||
        !palloc_has_free(&g_palloc, EPT02_MIN_FREE_PAGES))
        return;
    struct ept02_root *root = ept02_get(v, n->prefill.eptp12); /* vmcs02_build has just made sure it exists */
    struct ept12_caps caps = caps_of(n);
    struct ept12_walk w;
    uint64_t size;
    if (!root || ept12_walk(n->prefill.eptp12, n->prefill.gpa2, &caps, read_l1_entry, v, &w) != EPT12_OK ||
        (w.perms & n->prefill.need) != n->prefill.need)
        return;
    /* EPT A/D: only if the access would set no flag (no flag is set, nothing logged, no PML-full
     * ahead of an access that may never come); writable only with D (ept02_compose). */
    if (n->prefill.eptp12 & EPTP_AD_ENABLE) {
        if (ept12_ad_pending(&w, n->prefill.need & EPT_W))
            return;
        w.ad = true;
        w.dirty = w.entry[w.level] & EPT_DIRTY;
    }
    if (ept02_compose(&root->ept, &v->vm->ept, n->prefill.gpa2, &w, n->prefill.need, &size) == EPT02_INSTALLED)
        n->stats.ept02_prefills++;
}

void ept02_prefetch_near(struct vcpu *v, struct ept02_root *root, gpa_t gpa2, const struct ept12_walk *w)
{
    struct nested_vmx *n = &v->nested;
    if (!n->prefetch || !palloc_has_free(&g_palloc, EPT02_MIN_FREE_PAGES))
        return;
    struct ept12_caps caps = caps_of(n);
    gpa_t got[EPT02_PREFETCH_GROUP];
    n->stats.ept02_prefetched += ept02_prefetch(&root->ept, &v->vm->ept, gpa2, w, &caps, read_l1_entry, v, got);
}
