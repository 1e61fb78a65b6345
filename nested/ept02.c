/*
 * Nested EPT: shadow EPT02 = EPT12 ∘ EPT01, filled on demand ("multi-
 * dimensional paging"). L2 runs on EPT02; an EPT violation in L2 walks L1's
 * EPT12 (through EPT01) and either installs the combined translation (L0
 * handles it, L1 never knows) or reflects the violation/misconfiguration L1
 * would get from the hardware. Shadows are cached per EPTP12, least recently
 * used evicted; INVEPT, VMXOFF and a changed EPT01 drop them.
 *
 * Staleness: a shadow entry is a cached translation. When L1 removes or
 * narrows an EPT12 mapping without INVEPT, the SDM (28.3.3.4, 28.4) lets the
 * CPU keep using the old translation until INVEPT, and so does Nestor; when
 * L1 widens permissions without INVEPT, the next violation re-walks EPT12 and
 * picks the new permissions up, as the SDM requires. Nestor is stricter in
 * one way: INVEPT single-context drops the whole shadow of that EPTP.
 *
 * EPT A/D flags (docs/NESTED.md, "EPT A/D and PML"): when the EPTP12 has bit 6, a shadow entry
 * is installed either by a fill through nested_ept12_access() for that very access (which set
 * A in the EPT12 entries, and D, logged to PML, for a write) or ahead of an access that would
 * set no flag at all (pre-fill, prefetch: ept/ept02_prefetch.c, nested/ept02_prefill.c); in
 * every case a leaf is writable only if EPT12's D is set (w.dirty).
 */
#include "nested_internal.h"
#include "nestor/ept.h"
#include "nestor/ept12.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/palloc.h"
#include "nestor/platform.h"
#include "nestor/vmx_ops.h"

/*
 * The EPTP of a shadow. With A/D flags on in L1's EPTP they are on in EPT02 too: the CPU then
 * treats L2's guest paging-structure accesses as writes (SDM 28.3.3.2), so they fault on a
 * read-only shadow entry and reach the EPT12 walk as the writes they are, with the access bits
 * of the exit qualification as the CPU gives them under A/D (nested/ept_ad.c).
 */
static uint64_t eptp02_of(const struct ept02_root *r) { return ept_eptp(&r->ept) | (r->eptp12 & EPTP_AD_ENABLE); }

static void invalidate_hw(const struct ept *e)
{
    if (invept(INVEPT_SINGLE_CONTEXT, ept_eptp(e)) != VMX_OK)
        invept(INVEPT_ALL_CONTEXT, 0);
}

static void drop(struct ept02_root *r)
{
    if (!r->valid)
        return;
    invalidate_hw(&r->ept); /* its pages may come back as another tree: no stale TLB entries may remain */
    unsigned refused = ept_destroy(&r->ept);
    if (refused)
        log_warn("shadow EPT02: the allocator refused %u table pages as already free (a Nestor bug)", refused);
    r->valid = false;
}

void ept02_drop_all(struct vcpu *v)
{
    memset(&v->nested.l1_tlb, 0, sizeof v->nested.l1_tlb);
    v->nested.fill_epoch++;
    for (unsigned i = 0; i < EPT02_ROOTS; i++)
        drop(&v->nested.ept02[i]);
}

/* INVEPT single-context: every shadow built for the same EP4TA, whatever the rest of its EPTP. */
void ept02_drop(struct vcpu *v, uint64_t eptp12)
{
    v->nested.fill_epoch++;
    for (unsigned i = 0; i < EPT02_ROOTS; i++)
        if (v->nested.ept02[i].valid && ept12_same_ep4ta(v->nested.ept02[i].eptp12, eptp12))
            drop(&v->nested.ept02[i]);
}

struct ept02_root *ept02_get(struct vcpu *v, uint64_t eptp12)
{
    struct nested_vmx *n = &v->nested;
    struct ept02_root *r = NULL;
    for (unsigned i = 0; i < EPT02_ROOTS; i++)
        if (n->ept02[i].valid && n->ept02[i].eptp12 == eptp12)
            r = &n->ept02[i];
    if (!r) {
        for (unsigned i = 0; i < EPT02_ROOTS; i++)
            if (!r || !n->ept02[i].valid || (r->valid && n->ept02[i].last_used < r->last_used))
                r = &n->ept02[i];
        drop(r);
        /* Shadows only use page sizes both EPT12 and EPT01 could use: the CPU's. */
        if (!ept_init(&r->ept, g_vmx_caps.ept_vpid))
            return NULL;
        r->eptp12 = eptp12;
        r->valid = true;
        n->stats.ept02_roots++;
    }
    r->last_used = ++n->lru_clock;
    return r;
}

/* Re-executing an IRET that unblocked NMIs: block them again (SDM 27.2.3). */
static void reblock_nmis(uint64_t qual)
{
    if ((qual & EPTQUAL_NMI_UNBLOCKING) && !(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmread(VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_NMI);
}

/* The shadow already grants this access: refilling it would change nothing. */
static bool shadow_allows(struct ept02_root *root, gpa_t gpa2, uint64_t need)
{
    struct ept_walk w;
    return ept_walk(&root->ept, gpa2, &w) && (w.perms & need) == need;
}

/*
 * A violation on an access the shadow already allows: a translation the CPU cached
 * before the shadow changed. Flushing it is the cure. Refilling the same page again
 * and again is legal for L1 (INVEPT + VMRESUME in a loop, more EPTPs than the shadow
 * cache holds), but each of those drops the shadow or enters anew (the epoch moves).
 * Only a violation that repeats with the shadow allowing it, the same EPTP and nothing
 * in between is a livelock, and only Nestor can be the cause.
 */
static enum exit_action stale_violation(struct vcpu *v, struct ept02_root *root, gpa_t gpa2, uint64_t qual)
{
    struct nested_vmx *n = &v->nested;
    bool again = gpa2 >> PAGE_SHIFT == n->last_fill_gpa >> PAGE_SHIFT && root->eptp12 == n->last_fill_eptp12 &&
                 n->fill_epoch == n->last_fill_epoch;
    n->same_fill_count = again ? n->same_fill_count + 1 : 0;
    n->last_fill_gpa = gpa2;
    n->last_fill_eptp12 = root->eptp12;
    n->last_fill_epoch = n->fill_epoch;
    if (n->same_fill_count > 8)
        return vcpu_stop(v, STATUS_NESTOR_PANIC, true,
                         "shadow EPT02 maps 0x%lx but L2 keeps faulting on it after INVEPT (a Nestor bug)", gpa2);
    invalidate_hw(&root->ept);
    n->stats.l2_by_l0[EXIT_EPT_VIOLATION]++;
    reblock_nmis(qual);
    return EXIT_RESUME;
}

static unsigned level_of(uint64_t size) { return size == GiB ? 3 : size == 2 * MiB ? 2 : 1; }

/* An EPT violation while L2 runs with EPT12 (vmcs02 current). */
enum exit_action ept02_violation(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    struct vmcs12 *v12 = &n->current->v;
    uint64_t qual = v->exit_qual;
    gpa_t gpa2 = vmread(VMCS_GUEST_PHYSICAL_ADDR);
    uint64_t need = ((qual & EPTQUAL_READ) ? EPT_R : 0) | ((qual & EPTQUAL_WRITE) ? EPT_W : 0) |
                    ((qual & EPTQUAL_FETCH) ? EPT_X : 0);
    struct ept12_caps caps = {
        .exec_only = n->caps.ept_vpid & EPT_CAP_EXEC_ONLY,
        .large_2m = n->caps.ept_vpid & EPT_CAP_2MB_PAGE,
        .large_1g = n->caps.ept_vpid & EPT_CAP_1GB_PAGE,
        .maxphyaddr_mask = nested_maxphy_mask(),
    };
    struct ept12_walk w;
    enum ept12_access_result r = nested_ept12_access(v, gpa2, need, &caps, &w);
    if (r == EPT12_ACCESS_LOG_FULL) { /* SDM 28.3.6: before the access, nothing set; bit 12 as for a violation */
        nested_reflect(v, EXIT_PML_FULL, qual & EPTQUAL_NMI_UNBLOCKING, false);
        return EXIT_RESUME;
    }
    if (r == EPT12_ACCESS_BUSY) { /* L1 keeps rewriting the entries: let L2 retry the access */
        reblock_nmis(qual);
        return EXIT_RESUME;
    }
    if (r == EPT12_ACCESS_MISCONFIG) {
        n->stats.l2_to_l1[EXIT_EPT_MISCONFIG]++;
        log_debug("EPT12 misconfiguration for L2 guest-physical 0x%lx (level %u): reflected", gpa2, w.level);
        nested_reflect(v, EXIT_EPT_MISCONFIG, 0, false);
        return EXIT_RESUME;
    }
    if (r == EPT12_ACCESS_VIOLATION) {
        n->stats.l2_to_l1[EXIT_EPT_VIOLATION]++;
        ept02_note_reflected(v, gpa2, V12(v12, VMCS_EPT_POINTER), need);
        nested_reflect(v, EXIT_EPT_VIOLATION, ept12_violation_qual(qual, w.perms), false);
        return EXIT_RESUME;
    }
    /* EPT12 allows the access: combine with EPT01. L1-physical memory that EPT01 does not map is not L1's. */
    struct ept_walk w01;
    if (!ept_walk(&v->vm->ept, w.l1pa, &w01))
        return vcpu_stop(v, STATUS_L1_FAILED, true,
                         "L1's EPT12 maps L2 guest-physical 0x%lx to L1-physical 0x%lx, which is not L1's memory: "
                         "L1 stopped (Nestor never maps it)", gpa2, w.l1pa);
    uint64_t perms = w.perms & w01.perms;
    if (!w.dirty) /* EPT A/D: writable only once EPT12's D is set, so every D-setting write comes here */
        perms &= ~EPT_W;
    if ((perms & need) != need)
        return vcpu_stop(v, STATUS_L1_FAILED, true,
                         "L2 %s L1-physical 0x%lx (guest-physical 0x%lx), which L1 itself may not: L1 stopped",
                         (need & EPT_W) ? "writes" : (need & EPT_X) ? "executes" : "reads", w.l1pa, gpa2);
    /* The shadow leaf is the smaller of the two mappings; memory type as L1 asked, unless EPT01 says uncached. */
    uint64_t size = MIN(w.page_size, 1ull << (12 + 9 * (w01.level - 1)));
    gpa_t base2 = ALIGN_DOWN(gpa2, size);
    paddr_t hpa = ALIGN_DOWN(w01.hpa, size);
    bool uc = ((w01.leaf >> EPT_MEMTYPE_SHIFT) & 7) == MEMTYPE_UC;
    unsigned memtype = uc ? MEMTYPE_UC : w.memtype;
    /* Shadows are a cache: whatever L1 maps, they never take Nestor's last pages. */
    if (!palloc_has_free(&g_palloc, EPT02_MIN_FREE_PAGES)) {
        ept02_drop_all(v);
        n->stats.ept02_flushes++;
    }
    bool replaced = false, retried = false;
    struct ept02_root *root = ept02_get(v, V12(v12, VMCS_EPT_POINTER));
    if (root && shadow_allows(root, gpa2, need))
        return stale_violation(v, root, gpa2, qual);
    for (;;) {
        if (!root)
            return vcpu_stop(v, STATUS_NESTOR_PANIC, true, "out of memory for a shadow EPT");
        vmwrite(VMCS_EPT_POINTER, eptp02_of(root)); /* the root may be new after a flush */
        if (ept_install(&root->ept, base2, hpa, level_of(size), perms, memtype, uc || w.ignore_pat, &replaced))
            break;
        if (size > PAGE_SIZE) {
            size = size == GiB ? 2 * MiB : PAGE_SIZE; /* smaller entries already live there */
        } else if (!retried) {
            ept02_drop_all(v); /* out of table pages: free every shadow and refill from scratch */
            n->stats.ept02_flushes++;
            root = ept02_get(v, V12(v12, VMCS_EPT_POINTER));
            retried = true;
        } else {
            return vcpu_stop(v, STATUS_NESTOR_PANIC, true, "cannot install a shadow EPT entry for 0x%lx", gpa2);
        }
        base2 = ALIGN_DOWN(gpa2, size);
        hpa = ALIGN_DOWN(w01.hpa, size);
    }
    if (replaced)
        invalidate_hw(&root->ept);
    n->stats.ept02_fills++;
    ept02_prefetch_near(v, root, gpa2, &w);
    n->stats.l2_by_l0[EXIT_EPT_VIOLATION]++;
    reblock_nmis(qual);
    log_trace("EPT02: L2 0x%lx -> L1 0x%lx -> host 0x%lx, %lu KiB, perms %lx", gpa2, w.l1pa, w01.hpa, size / KiB,
              perms);
    return EXIT_RESUME;
}

/* The shadow EPT for the current vmcs12 (vmcs12 enables EPT). */
uint64_t ept02_eptp_for(struct vcpu *v, uint64_t eptp12)
{
    struct ept02_root *r = ept02_get(v, eptp12);
    return r ? eptp02_of(r) : 0;
}
