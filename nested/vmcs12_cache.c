/*
 * vmcs12 cache, keyed by the VMCS's guest-physical address (never by CPU: an
 * L1 may move a VMCS between CPUs). VMPTRLD loads a region into a slot;
 * VMCLEAR, VMXOFF and eviction write it back to L1's memory, so the region
 * in L1's memory holds the documented layout whenever the VMCS is not active.
 */
#include "nested_internal.h"
#include "nestor/lib.h"
#include "nestor/log.h"

static void write_back(struct vcpu *v, struct vmcs12_cache_entry *e)
{
    l1_phys_write(v, e->gpa, &e->v, sizeof e->v);
}

static struct vmcs12_cache_entry *find(struct nested_vmx *n, gpa_t gpa)
{
    for (unsigned i = 0; i < VMCS12_CACHE_SIZE; i++)
        if (n->cache[i].gpa == gpa)
            return &n->cache[i];
    return NULL;
}

uint32_t vmcs12_peek_revision(struct vcpu *v, gpa_t gpa)
{
    struct vmcs12_cache_entry *e = find(&v->nested, gpa);
    if (e)
        return e->v.revision;
    uint32_t rev;
    l1_phys_read(v, gpa, &rev, sizeof rev);
    return rev;
}

struct vmcs12_cache_entry *vmcs12_cache_load(struct vcpu *v, gpa_t gpa)
{
    struct nested_vmx *n = &v->nested;
    struct vmcs12_cache_entry *e = find(n, gpa);
    if (!e) {
        /* The least recently used slot that is not the current VMCS. */
        for (unsigned i = 0; i < VMCS12_CACHE_SIZE; i++) {
            struct vmcs12_cache_entry *c = &n->cache[i];
            if (c == n->current)
                continue;
            if (!e || c->gpa == VMCS12_NONE || (e->gpa != VMCS12_NONE && c->last_used < e->last_used))
                e = c;
        }
        if (e->gpa != VMCS12_NONE) {
            log_debug("vmcs12 cache: writing back 0x%lx to make room for 0x%lx", e->gpa, gpa);
            write_back(v, e);
        }
        e->gpa = gpa;
        l1_phys_read(v, gpa, &e->v, sizeof e->v);
        if (n->vmcs02_of == e)
            vmcs02_forget(n); /* this slot now holds another region, or a fresh copy of it */
    }
    e->last_used = ++n->lru_clock;
    return e;
}

void vmcs12_cache_clear(struct vcpu *v, gpa_t gpa)
{
    struct vmcs12_cache_entry *e = find(&v->nested, gpa);
    if (e) {
        if (v->nested.vmcs02_of == e)
            vmcs02_forget(&v->nested);
        e->v.launch_state = 0;
        write_back(v, e);
        e->gpa = VMCS12_NONE;
        return;
    }
    /* Not cached: only the launch state in the region changes. */
    uint32_t clear = 0;
    l1_phys_write(v, gpa + offsetof(struct vmcs12, launch_state), &clear, sizeof clear);
}

void vmcs12_cache_flush_all(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    vmcs02_forget(n);
    for (unsigned i = 0; i < VMCS12_CACHE_SIZE; i++)
        if (n->cache[i].gpa != VMCS12_NONE) {
            write_back(v, &n->cache[i]);
            n->cache[i].gpa = VMCS12_NONE;
        }
}
