/*
 * EPT A/D flags and PML for L1 (docs/NESTED.md, "EPT A/D and PML"): the L2 access behind an
 * EPT02 violation, walked in L1's EPT12 with the flags set in L1's memory (ept/ept12_ad.c) and
 * the D flags logged into L1's PML (nested/pml.c). Called by nested/ept02.c before it fills
 * the shadow; the shadow leaf stays read-only while the EPT12 leaf's D is clear, so the write
 * that sets D always comes through here, and the log is exact.
 */
#include "nested_internal.h"
#include "nestor/ept.h"
#include "nestor/ept12_ad.h"
#include "nestor/physmem.h"
#include "nestor/pml.h"

/* Through the vCPU's small cache of EPT12 table pages (operand.c): a walk reads four entries. */
static uint64_t read_l1_entry(void *ctx, gpa_t pa) { return l1_phys_read_u64(ctx, pa); }

/* The CPU updates EPT entries with locked read-modify-writes: so does Nestor (L1's other CPUs share them). */
static bool l1_cmpxchg(void *ctx, gpa_t pa, uint64_t old, uint64_t val)
{
    struct vcpu *v = ctx;
    struct ept_walk w;
    if ((pa & 7) || !ept_walk(&v->vm->ept, pa, &w) || !(w.perms & EPT_W))
        return true; /* not writable RAM of L1: the write vanishes */
    uint64_t *p = phys_to_virt(w.hpa);
    return __atomic_compare_exchange_n(p, &old, val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static void pml_write(void *ctx, gpa_t pa, uint64_t value) { l1_phys_write(ctx, pa, &value, sizeof value); }

static bool log_full(void *ctx) { return pml_full(ctx); }
static void log_dirtied(void *ctx, gpa_t gpa) { pml_log(ctx, gpa); }

enum ept12_access_result nested_ept12_access(struct vcpu *v, gpa_t gpa2, uint64_t need, const struct ept12_caps *caps,
                                             struct ept12_walk *w)
{
    struct vmcs12 *v12 = &v->nested.current->v;
    bool pml_on = vmcs12_proc2(v12) & PROC2_ENABLE_PML;
    struct pml pml = {V12(v12, VMCS_PML_ADDR), &V12(v12, VMCS_GUEST_PML_INDEX), pml_write, v};
    struct ept12_ad_log log = {log_full, log_dirtied, &pml};
    enum ept12_access_result r = ept12_access(V12(v12, VMCS_EPT_POINTER), gpa2, need, caps, read_l1_entry, l1_cmpxchg,
                                              v, pml_on ? &log : NULL, w);
    struct nested_stats *s = &v->nested.stats;
    if (r == EPT12_ACCESS_LOG_FULL)
        s->l2_to_l1[EXIT_PML_FULL]++;
    if (r == EPT12_ACCESS_OK) {
        s->ept12_ad_writes += w->ad_written;
        s->ept12_dirtied += w->dirtied;
        s->pml_logged += w->dirtied && pml_on;
    }
    return r;
}
