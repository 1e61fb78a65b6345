/*
 * VMCS shadowing (SDM 24.10, 25.3): L1's VMREAD/VMWRITE of the fields it
 * touches on every exit run against a hardware shadow VMCS without exiting.
 * vmcs12 stays the one truth Nestor works from: the shadow is filled from it
 * when a VMCS becomes current and after every exit reflected to L1, and L1's
 * writes are copied back into it before Nestor looks at vmcs12 (VM entry,
 * VMCLEAR, VMPTRLD of another VMCS, VMXOFF). Fields not listed here keep
 * exiting, as do VMWRITEs to the read-only ones.
 */
#include "nested_internal.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/palloc.h"
#include "nestor/physmem.h"
#include "nestor/vmx.h"
#include "nestor/vmx_ops.h"

/* Read and written by hypervisors on nearly every exit. */
static const uint32_t shadow_rw_always[] = {
    VMCS_GUEST_RIP, VMCS_GUEST_RSP, VMCS_GUEST_RFLAGS, VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4,
    VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_ACTIVITY_STATE, VMCS_GUEST_CS_SEL, VMCS_GUEST_CS_AR,
    VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_AR, VMCS_GUEST_DS_BASE, VMCS_GUEST_ES_BASE, VMCS_GUEST_FS_BASE,
    VMCS_GUEST_GS_BASE, VMCS_GUEST_EFER, VMCS_GUEST_PENDING_DBG, VMCS_ENTRY_INTR_INFO,
    VMCS_ENTRY_EXCEPTION_ERROR_CODE, VMCS_ENTRY_INSTRUCTION_LEN, VMCS_PROC_CONTROLS, VMCS_EXCEPTION_BITMAP,
    VMCS_CR0_READ_SHADOW, VMCS_CR4_READ_SHADOW, VMCS_TSC_OFFSET, VMCS_GUEST_DR7, VMCS_PIN_CONTROLS,
    VMCS_PROC_CONTROLS2, VMCS_HOST_RSP, VMCS_HOST_RIP, VMCS_HOST_CR3, VMCS_HOST_CR4, VMCS_HOST_FS_BASE,
    VMCS_HOST_GS_BASE, VMCS_HOST_FS_SEL, VMCS_HOST_GS_SEL,
};
/* The exit information: read on every exit, never written by L1. */
static const uint32_t shadow_ro[] = {
    VMCS_EXIT_REASON, VMCS_EXIT_QUALIFICATION, VMCS_EXIT_INTR_INFO, VMCS_EXIT_INTR_ERROR_CODE,
    VMCS_IDT_VECTORING_INFO, VMCS_IDT_VECTORING_ERROR_CODE, VMCS_EXIT_INSTRUCTION_LEN, VMCS_EXIT_INSTRUCTION_INFO,
    VMCS_GUEST_LINEAR_ADDR, VMCS_GUEST_PHYSICAL_ADDR, /* read by KVM on every EPT violation */
};
/*
 * Read/write fields that exist in vmcs12 only with a feature offered to L1 (vmcs12.h): shadowed
 * only then, or L1's VMREAD of a field it does not have would succeed instead of VMfail(12).
 * KVM reads the PML index at every exit it handles when it logs dirty pages with PML, and
 * writes the TPR threshold before entries with TPR shadow.
 */
static const struct {
    uint32_t field;
    unsigned features;
} shadow_rw_gated[] = {
    {VMCS_GUEST_PML_INDEX, V12F_PML},
    {VMCS_TPR_THRESHOLD, V12F_TPR | V12F_SHADOW},
    {VMCS_GUEST_INTR_STATUS, V12F_VID},
};

#define SHADOW_RW_MAX (ARRAY_SIZE(shadow_rw_always) + ARRAY_SIZE(shadow_rw_gated))
_Static_assert(SHADOW_RW_MAX <= ARRAY_SIZE(((struct nested_vmx *)0)->shadow_rw_vals),
               "struct nested_vmx keeps a copy of every read/write shadow field");

/*
 * The read/write fields shadowed for the features offered (the same for every CPU: set by
 * vmcs_shadow_init) and the vmcs12 slots of both lists: the copies run on every exit.
 */
static uint32_t shadow_rw[SHADOW_RW_MAX];
static unsigned rw_count;
static uint8_t rw_slots[SHADOW_RW_MAX], ro_slots[ARRAY_SIZE(shadow_ro)];

static void set_exits(uint8_t *bitmap, uint32_t field, bool exit)
{
    /* Bitmaps are indexed by encoding bits 14:0 (SDM 24.6.15). */
    uint32_t bit = field & 0x7fff;
    if (exit)
        bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
    else
        bitmap[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

bool vmcs_shadow_init(struct vcpu *v, bool want)
{
    struct nested_vmx *n = &v->nested;
    const struct vmx_caps *hw = &g_vmx_caps;
    if (!want || !(hw->proc2.allowed1 & PROC2_VMCS_SHADOWING))
        return false;
    /* Nestor writes the exit information into the shadow: that needs VMWRITE to read-only fields. */
    n->shadow_ro = hw->misc & VMX_MISC_VMWRITE_ANY_FIELD;
    rw_count = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(shadow_rw_always); i++)
        shadow_rw[rw_count++] = shadow_rw_always[i];
    for (unsigned i = 0; i < ARRAY_SIZE(shadow_rw_gated); i++)
        if (shadow_rw_gated[i].features & n->caps.v12_features)
            shadow_rw[rw_count++] = shadow_rw_gated[i].field;
    vmcs12_slots(shadow_rw, rw_count, rw_slots);
    vmcs12_slots(shadow_ro, ARRAY_SIZE(shadow_ro), ro_slots);
    n->shadow_vmcs = page_alloc_zeroed();
    *(uint32_t *)phys_to_virt(n->shadow_vmcs) = (uint32_t)(hw->basic & VMX_BASIC_REVISION_MASK) | (1u << 31);
    paddr_t rd = page_alloc_zeroed(), wr = page_alloc_zeroed();
    uint8_t *rbm = phys_to_virt(rd), *wbm = phys_to_virt(wr);
    memset(rbm, 0xff, PAGE_SIZE);
    memset(wbm, 0xff, PAGE_SIZE);
    for (unsigned i = 0; i < rw_count; i++) {
        set_exits(rbm, shadow_rw[i], false);
        set_exits(wbm, shadow_rw[i], false);
    }
    for (unsigned i = 0; n->shadow_ro && i < ARRAY_SIZE(shadow_ro); i++)
        set_exits(rbm, shadow_ro[i], false);
    vmclear(n->shadow_vmcs);
    vmwrite(VMCS_VMREAD_BITMAP, rd);
    vmwrite(VMCS_VMWRITE_BITMAP, wr);
    n->shadowing = true;
    return true;
}

static void copy_to_shadow(struct vcpu *v, const uint32_t *fields, const uint8_t *slots, unsigned count)
{
    const struct vmcs12 *v12 = &v->nested.current->v;
    for (unsigned i = 0; i < count; i++)
        vmwrite(fields[i], v12->f[slots[i]]);
}

/* vmcs12 -> shadow. vmcs01 must be current and stays current. */
void vmcs_shadow_fill(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    if (!n->shadowing || !n->current)
        return;
    vmptrld(n->shadow_vmcs);
    copy_to_shadow(v, shadow_rw, rw_slots, rw_count);
    for (unsigned i = 0; i < rw_count; i++)
        n->shadow_rw_vals[i] = n->current->v.f[rw_slots[i]];
    n->shadow_known = true;
    if (n->shadow_ro)
        copy_to_shadow(v, shadow_ro, ro_slots, ARRAY_SIZE(shadow_ro));
    vmptrld(v->vmcs);
}

/*
 * After an exit reflected to L1: the shadow holds what the drain at L1's VM entry read, and
 * since then only the exit changed vmcs12 (L2's state, the exit information). Only the
 * read/write fields that differ are written; the exit information always is.
 */
void vmcs_shadow_refresh(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    if (!n->shadowing || !n->current)
        return;
    if (!n->shadow_known) {
        vmcs_shadow_fill(v);
        return;
    }
    const struct vmcs12 *v12 = &n->current->v;
    vmptrld(n->shadow_vmcs);
    for (unsigned i = 0; i < rw_count; i++) {
        uint64_t value = v12->f[rw_slots[i]];
        if (value != n->shadow_rw_vals[i]) {
            vmwrite(shadow_rw[i], value);
            n->shadow_rw_vals[i] = value;
        }
    }
    if (n->shadow_ro)
        copy_to_shadow(v, shadow_ro, ro_slots, ARRAY_SIZE(shadow_ro));
    vmptrld(v->vmcs);
}

/* shadow -> vmcs12: L1's VMWRITEs that did not exit. vmcs01 must be current and stays current. */
void vmcs_shadow_drain(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    if (!n->shadowing || !n->shadow_active || !n->current)
        return;
    struct vmcs12 *v12 = &n->current->v;
    vmptrld(n->shadow_vmcs);
    for (unsigned i = 0; i < rw_count; i++) {
        uint64_t value = vmread(shadow_rw[i]); /* VMREAD zero-extends to the field's width */
        n->shadow_rw_vals[i] = value;
        if (value != v12->f[rw_slots[i]]) {
            v12->f[rw_slots[i]] = value;
            vmcs12_mark_dirty(n, rw_slots[i]);
        }
    }
    vmptrld(v->vmcs);
}

/*
 * The HIGH encoding of a 64-bit field (bit 0 set, SDM 24.11.2) is a bit of its own in
 * the VMREAD/VMWRITE bitmaps, left set: L1's VMREAD/VMWRITE of it exits. The shadow
 * holds the truth for the shadowed field until the next drain, so such an access must
 * see what L1 wrote there (before), and a VMWRITE of it must reach the shadow (after),
 * or the drain would overwrite the high half L1 just wrote.
 */
static int shadowed_rw_index_of_high(uint64_t field)
{
    if (!(field & 1) || ((field >> 13) & 3) != 1 || field > 0xffffffffull)
        return -1; /* not the HIGH access of a 64-bit field */
    for (unsigned i = 0; i < rw_count; i++)
        if (shadow_rw[i] == (field & ~1ull))
            return (int)i;
    return -1;
}

void vmcs_shadow_sync_before(struct vcpu *v, uint64_t field)
{
    struct nested_vmx *n = &v->nested;
    int i = shadowed_rw_index_of_high(field);
    if (i < 0 || !n->shadowing || !n->shadow_active || !n->current)
        return;
    vmptrld(n->shadow_vmcs);
    uint64_t value = vmread(shadow_rw[i]);
    n->shadow_rw_vals[i] = value;
    if (value != n->current->v.f[rw_slots[i]]) {
        n->current->v.f[rw_slots[i]] = value;
        vmcs12_mark_dirty(n, rw_slots[i]);
    }
    vmptrld(v->vmcs);
}

/*
 * An exit-information field shadowed for reading only: L1's VMWRITE of it (offered IA32_VMX_MISC[29])
 * exits, of its full encoding or, for the 64-bit guest-physical address, of its HIGH one.
 */
static int shadowed_ro_index_of(uint64_t field)
{
    if ((field & 1) && ((field >> 13) & 3) == 1)
        field &= ~1ull;
    for (unsigned i = 0; i < ARRAY_SIZE(shadow_ro); i++)
        if (shadow_ro[i] == field)
            return (int)i;
    return -1;
}

void vmcs_shadow_sync_after_write(struct vcpu *v, uint64_t field)
{
    struct nested_vmx *n = &v->nested;
    if (!n->shadowing || !n->shadow_active || !n->current)
        return;
    int ro = n->shadow_ro ? shadowed_ro_index_of(field) : -1;
    if (ro >= 0) { /* or L1's next VMREAD of it would read the old value from the shadow */
        vmptrld(n->shadow_vmcs);
        vmwrite(shadow_ro[ro], n->current->v.f[ro_slots[ro]]);
        vmptrld(v->vmcs);
        return;
    }
    int i = shadowed_rw_index_of_high(field);
    if (i < 0)
        return;
    vmptrld(n->shadow_vmcs);
    vmwrite(shadow_rw[i], n->current->v.f[rw_slots[i]]);
    n->shadow_rw_vals[i] = n->current->v.f[rw_slots[i]];
    vmptrld(v->vmcs);
}

/* Points vmcs01 at the shadow while L1 has a current VMCS; without one, VMREAD/VMWRITE exit (VMfailInvalid). */
void vmcs_shadow_activate(struct vcpu *v, bool on)
{
    struct nested_vmx *n = &v->nested;
    if (!n->shadowing || n->shadow_active == on)
        return;
    n->shadow_known = false;
    if (on)
        vmcs_shadow_fill(v);
    v->proc2 = on ? v->proc2 | PROC2_VMCS_SHADOWING : v->proc2 & ~(uint32_t)PROC2_VMCS_SHADOWING;
    vmwrite(VMCS_PROC_CONTROLS2, v->proc2);
    vmwrite(VMCS_LINK_POINTER, on ? n->shadow_vmcs : ~0ull);
    n->shadow_active = on;
}
