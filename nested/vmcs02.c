/*
 * vmcs02: the VMCS L2 really runs on. Controls are vmcs12's (only offered,
 * hence hardware-supported, bits can be there) plus what Nestor needs for
 * itself: EPT01 under L2's memory, L2's own VPID, the I/O and MSR exits
 * Nestor keeps (merged into L1's bitmaps), and the EFER/PAT switching of its
 * own host state. Guest state is vmcs12's; the host state is Nestor's.
 */
#include "nested_internal.h"
#include "nestor/arch.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/physmem.h"
#include "nestor/vmx.h"
#include "nestor/vmx_ops.h"

/*
 * Guest-state fields loaded from vmcs12 on every entry and saved back on every exit (SDM 26.3.2,
 * 27.3); EFER, PAT, DEBUGCTL, DR7, PDPTEs and the timer depend on controls and are handled apart.
 */
const uint32_t vmcs12_guest_fields[] = {
    VMCS_GUEST_ES_SEL, VMCS_GUEST_CS_SEL, VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL, VMCS_GUEST_FS_SEL,
    VMCS_GUEST_GS_SEL, VMCS_GUEST_LDTR_SEL, VMCS_GUEST_TR_SEL, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT,
    VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_LDTR_LIMIT,
    VMCS_GUEST_TR_LIMIT, VMCS_GUEST_GDTR_LIMIT, VMCS_GUEST_IDTR_LIMIT, VMCS_GUEST_ES_AR, VMCS_GUEST_CS_AR,
    VMCS_GUEST_SS_AR, VMCS_GUEST_DS_AR, VMCS_GUEST_FS_AR, VMCS_GUEST_GS_AR, VMCS_GUEST_LDTR_AR, VMCS_GUEST_TR_AR,
    VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_ACTIVITY_STATE, VMCS_GUEST_SYSENTER_CS, VMCS_GUEST_CR0,
    VMCS_GUEST_CR3, VMCS_GUEST_CR4, VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
    VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_TR_BASE,
    VMCS_GUEST_GDTR_BASE, VMCS_GUEST_IDTR_BASE, VMCS_GUEST_RSP, VMCS_GUEST_RIP, VMCS_GUEST_RFLAGS,
    VMCS_GUEST_PENDING_DBG, VMCS_GUEST_SYSENTER_ESP, VMCS_GUEST_SYSENTER_EIP,
};
const unsigned vmcs12_guest_field_count = ARRAY_SIZE(vmcs12_guest_fields);

/* Control fields copied verbatim: what L1 decides for L2 and the CPU enforces as is. */
static const uint32_t plain_control_fields[] = {
    VMCS_EXCEPTION_BITMAP, VMCS_PF_ERROR_CODE_MASK, VMCS_PF_ERROR_CODE_MATCH, VMCS_CR3_TARGET_COUNT,
    VMCS_ENTRY_INTR_INFO, VMCS_ENTRY_EXCEPTION_ERROR_CODE, VMCS_ENTRY_INSTRUCTION_LEN, VMCS_CR0_GUEST_HOST_MASK,
    VMCS_CR4_GUEST_HOST_MASK, VMCS_CR0_READ_SHADOW, VMCS_CR4_READ_SHADOW, VMCS_CR3_TARGET0, VMCS_CR3_TARGET1,
    VMCS_CR3_TARGET2, VMCS_CR3_TARGET3,
};

static void w(uint32_t field, uint64_t value)
{
    if (vmwrite(field, value) != VMX_OK)
        log_warn("vmcs02: VMWRITE of field 0x%x failed", field);
}

/* Slots of the field lists, looked up once: this copy runs at every emulated VM entry. */
static uint8_t guest_slots[ARRAY_SIZE(vmcs12_guest_fields)], control_slots[ARRAY_SIZE(plain_control_fields)];

#define SLOT_WORDS ((VMCS12_NFIELDS + 63) / 64)
typedef uint64_t slot_set[SLOT_WORDS];
/*
 * Which changed vmcs12 fields cost what at the next entry:
 *  - guest: the guest-state fields copied as they are: each changed one is written again;
 *  - controls: the fields vmcs02's controls are made of: any change rebuilds all of them;
 *  - not_checked: what the control and host-state entry checks (26.2) never read: when only
 *    these changed, those checks still hold (the guest-state checks run at every entry).
 * Everything else vmcs02 takes from vmcs12 (EFER, PAT, DEBUGCTL, DR7, PDPTEs, the timer, event
 * injection, EPTP) is written at every entry.
 */
static slot_set guest_set, control_set, not_checked_set;

static void set_slot(slot_set s, unsigned slot) { s[slot / 64] |= 1ull << (slot % 64); }

static const uint32_t control_fields[] = {
    VMCS_PIN_CONTROLS, VMCS_PROC_CONTROLS, VMCS_PROC_CONTROLS2, VMCS_EXIT_CONTROLS, VMCS_ENTRY_CONTROLS,
    VMCS_IO_BITMAP_A, VMCS_IO_BITMAP_B, VMCS_MSR_BITMAP, VMCS_TSC_OFFSET, VMCS_VPID,
};
static const uint32_t unchecked_guest_extra[] = {
    VMCS_GUEST_EFER, VMCS_GUEST_PAT, VMCS_GUEST_DEBUGCTL, VMCS_GUEST_DR7, VMCS_GUEST_PDPTE0, VMCS_GUEST_PDPTE1,
    VMCS_GUEST_PDPTE2, VMCS_GUEST_PDPTE3, VMCS_PREEMPTION_TIMER_VALUE,
};

static void add_slots(slot_set s, const uint32_t *fields, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        int slot = vmcs12_slot_of(fields[i], ~0u);
        if (slot >= 0)
            set_slot(s, (unsigned)slot);
    }
}

static void index_fields(void)
{
    static bool done;
    if (done)
        return;
    vmcs12_slots(vmcs12_guest_fields, vmcs12_guest_field_count, guest_slots);
    vmcs12_slots(plain_control_fields, ARRAY_SIZE(plain_control_fields), control_slots);
    add_slots(guest_set, vmcs12_guest_fields, vmcs12_guest_field_count);
    add_slots(control_set, control_fields, ARRAY_SIZE(control_fields));
    add_slots(control_set, plain_control_fields, ARRAY_SIZE(plain_control_fields));
    /* Event injection is written at every entry anyway: L1 injecting an event rebuilds no control. */
    static const unsigned event_slots[] = {SLOT_VMCS_ENTRY_INTR_INFO, SLOT_VMCS_ENTRY_EXCEPTION_ERROR_CODE,
                                           SLOT_VMCS_ENTRY_INSTRUCTION_LEN};
    for (unsigned i = 0; i < ARRAY_SIZE(event_slots); i++)
        control_set[event_slots[i] / 64] &= ~(1ull << (event_slots[i] % 64));
    add_slots(not_checked_set, vmcs12_guest_fields, vmcs12_guest_field_count);
    add_slots(not_checked_set, unchecked_guest_extra, ARRAY_SIZE(unchecked_guest_extra));
    not_checked_set[SLOT_VMCS_GUEST_CR0 / 64] &= ~(1ull << (SLOT_VMCS_GUEST_CR0 % 64)); /* event injection checks read it */
    done = true;
}

static bool any_in(const uint64_t *dirty, const slot_set s)
{
    for (unsigned i = 0; i < SLOT_WORDS; i++)
        if (dirty[i] & s[i])
            return true;
    return false;
}

bool vmcs02_unchanged(const struct nested_vmx *n, bool l1_ia32e)
{
    if (n->vmcs02_of != n->current || n->checked_l1_ia32e != l1_ia32e)
        return false;
    for (unsigned i = 0; i < SLOT_WORDS; i++)
        if (n->dirty[i])
            return false;
    return true;
}

bool vmcs02_checks_still_hold(const struct nested_vmx *n, bool l1_ia32e)
{
    index_fields();
    if (n->vmcs02_of != n->current || n->checked_l1_ia32e != l1_ia32e)
        return false;
    for (unsigned i = 0; i < SLOT_WORDS; i++)
        if (n->dirty[i] & ~not_checked_set[i])
            return false;
    return true;
}

const uint8_t *vmcs12_guest_slots(void)
{
    index_fields();
    return guest_slots;
}

static uint32_t fit(const char *what, struct vmx_ctl_cap cap, uint32_t value)
{
    uint32_t v = (value | cap.allowed0) & cap.allowed1;
    if (v != (value | cap.allowed0))
        log_warn("vmcs02: %s controls 0x%x not all supported (0x%x): a Nestor bug", what, value, v);
    return v;
}

/*
 * Nestor's own bitmap OR L1's: an access exits if either wants it. Nestor's bitmaps have a
 * few dozen bits set, so L1's page is copied and only Nestor's nonzero words are ORed in
 * (this runs at every emulated VM entry).
 */
static void merge_page(struct vcpu *v, paddr_t dst, paddr_t l0, const struct sparse_page *sp, bool with_l1,
                       gpa_t l1_gpa)
{
    uint64_t *d = phys_to_virt(dst);
    const uint64_t *own = phys_to_virt(l0);
    if (!with_l1) {
        memcpy(d, own, PAGE_SIZE);
        return;
    }
    l1_phys_read(v, l1_gpa, d, PAGE_SIZE);
    if (sp->complete) {
        for (unsigned i = 0; i < sp->count; i++)
            d[sp->index[i]] |= own[sp->index[i]];
        return;
    }
    for (size_t i = 0; i < PAGE_SIZE / 8; i++)
        d[i] |= own[i];
}

void sparse_page_index(struct sparse_page *sp, paddr_t page)
{
    const uint64_t *w = phys_to_virt(page);
    sp->count = 0;
    sp->complete = true;
    for (uint16_t i = 0; i < PAGE_SIZE / 8; i++) {
        if (!w[i])
            continue;
        if (sp->count == SPARSE_PAGE_MAX) {
            sp->complete = false; /* too dense: merge word by word */
            return;
        }
        sp->index[sp->count++] = i;
    }
}

/*
 * How L2's I/O and MSR accesses exit (the I/O and MSR controls of vmcs02; vmcs02 current).
 * L1's bitmaps are read live, as the CPU reads them at each access (SDM 25.1.3): L2 shares
 * memory with L1 and may change a bit while it runs, so vmcs02 holds no copy of them. Every
 * I/O instruction of L2 exits (unconditional I/O exiting, as KVM does) and every RDMSR/WRMSR
 * (no MSR bitmaps), and nested/l2_passthrough.c decides at that moment from L1's pages.
 * snapshot: the old merge of L1's bitmaps with Nestor's, used only to let one string I/O
 * instruction that neither L1 nor Nestor intercepts run natively (Nestor does not emulate
 * INS/OUTS); the next emulated VM entry returns to live reads.
 */
uint32_t vmcs02_io_msr_exiting(struct vcpu *v, const struct vmcs12 *v12, uint32_t proc12, bool snapshot)
{
    struct nested_vmx *n = &v->nested;
    bool l1_bitmaps = proc12 & PROC_USE_IO_BITMAPS;
    uint32_t proc02 = 0;
    n->io_snapshot = snapshot;
    if (!l1_bitmaps && (proc12 & PROC_UNCOND_IO_EXITING)) {
        proc02 |= PROC_UNCOND_IO_EXITING; /* every port exits, and all of them are L1's */
    } else if (l1_bitmaps && !snapshot) {
        proc02 |= PROC_UNCOND_IO_EXITING; /* live: L1's bitmaps are read at the exit */
    } else {
        /* Nestor's ports only (L1 does not intercept I/O), or the string-I/O snapshot. */
        merge_page(v, n->io_bitmap02[0], v->io_bitmap[0], &n->io_bitmap01_words[0], l1_bitmaps,
                   V12(v12, VMCS_IO_BITMAP_A));
        merge_page(v, n->io_bitmap02[1], v->io_bitmap[1], &n->io_bitmap01_words[1], l1_bitmaps,
                   V12(v12, VMCS_IO_BITMAP_B));
        proc02 |= PROC_USE_IO_BITMAPS;
        w(VMCS_IO_BITMAP_A, n->io_bitmap02[0]);
        w(VMCS_IO_BITMAP_B, n->io_bitmap02[1]);
    }
    /* No MSR bitmaps in vmcs02: every RDMSR/WRMSR exits, and L1's bitmap is read then (live). */
    return proc02;
}

/* L1's state that L2 inherits when vmcs12 does not load it (read while vmcs01 is current). */
struct l1_inherit {
    uint64_t efer, pat, debugctl, dr7;
};

bool vmcs02_build(struct vcpu *v, const struct vmcs12 *v12)
{
    struct nested_vmx *n = &v->nested;
    const struct vmx_caps *hw = &g_vmx_caps;
    uint32_t pin12 = (uint32_t)V12(v12, VMCS_PIN_CONTROLS), proc12 = (uint32_t)V12(v12, VMCS_PROC_CONTROLS);
    uint32_t proc2_12 = vmcs12_proc2(v12);
    /* EPT is always on for L2: EPT02 with EPT12, else EPT01 (L2 addresses are L1-physical). */
    uint64_t eptp02 = vmread(VMCS_EPT_POINTER);
    if (proc2_12 & PROC2_ENABLE_EPT) {
        eptp02 = ept02_eptp_for(v, V12(v12, VMCS_EPT_POINTER));
        if (!eptp02)
            return false; /* never EPT01 in its place: that would give L2 all of L1's memory */
    }
    struct l1_inherit l1 = {vmread(VMCS_GUEST_EFER), vmread(VMCS_GUEST_PAT), vmread(VMCS_GUEST_DEBUGCTL),
                            vmread(VMCS_GUEST_DR7)};
    vmptrld(n->vmcs02);

    uint32_t exit12 = (uint32_t)V12(v12, VMCS_EXIT_CONTROLS), entry12 = (uint32_t)V12(v12, VMCS_ENTRY_CONTROLS);
    index_fields();
    bool full = n->vmcs02_of != n->current;
    /* After a string-I/O snapshot (l2_passthrough.c) vmcs02's I/O controls differ from what this entry wants. */
    bool controls = full || any_in(n->dirty, control_set) || n->io_snapshot;

    uint32_t proc02 = (proc12 & ~(uint32_t)(PROC_USE_IO_BITMAPS | PROC_UNCOND_IO_EXITING | PROC_USE_MSR_BITMAPS)) |
                      PROC_SECONDARY_CONTROLS | vmcs02_io_msr_exiting(v, v12, proc12, false);
    /* Unrestricted guest passes through (it needs EPT12); EPT is always on (eptp02 above). L1's VMCS
     * shadowing never: L2's VMREAD/VMWRITE must exit to Nestor (nested/vmcs12_shadow_l1.c). L1's PML
     * neither: it is Nestor's to write (nested/ept_ad.c); the CPU would log EPT02's flags into it. */
    uint32_t proc2_02 = (proc2_12 & n->caps.proc2.allowed1 &
                         ~(uint32_t)(PROC2_ENABLE_VPID | PROC2_ENABLE_EPT | PROC2_VMCS_SHADOWING | PROC2_ENABLE_PML)) |
                        PROC2_ENABLE_EPT | (n->vpid02 ? PROC2_ENABLE_VPID : 0);
    uint32_t exit02 = (exit12 & (EXIT_SAVE_DEBUG_CONTROLS | EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_PREEMPTION_TIMER)) |
                      EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
                      EXIT_SAVE_DEBUG_CONTROLS;
    uint32_t entry02 = (entry12 & ENTRY_IA32E_MODE_GUEST) | ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CONTROLS;

    /* Nestor's own timer, when it needs exits from an L2 that L1 lets run untimed (vcpu.h, l0_timer_in_l2). */
    bool l0_timer = v->l0_timer_in_l2 && !(pin12 & PIN_PREEMPTION_TIMER);
    /* A control-field VMWRITE also makes the next entry check them again: only when they changed. */
    if (controls) {
        w(VMCS_PIN_CONTROLS, fit("pin-based", hw->pin, pin12 | (l0_timer ? PIN_PREEMPTION_TIMER : 0)));
        w(VMCS_PROC_CONTROLS, fit("processor-based", hw->proc, proc02));
        w(VMCS_PROC_CONTROLS2, fit("secondary", hw->proc2, proc2_02));
        w(VMCS_EXIT_CONTROLS, fit("VM-exit", hw->exit, exit02));
        w(VMCS_ENTRY_CONTROLS, fit("VM-entry", hw->entry, entry02));
        for (unsigned i = 0; i < ARRAY_SIZE(plain_control_fields); i++)
            w(plain_control_fields[i], v12->f[control_slots[i]]);
        /* L2 must not wedge the CPU either: Nestor's #DB/#AC exits, delivered to L2 when L1 did not ask (exit_route). */
        w(VMCS_EXCEPTION_BITMAP, V12(v12, VMCS_EXCEPTION_BITMAP) | L0_EXCEPTION_BITMAP);
        w(VMCS_TSC_OFFSET, (proc12 & PROC_TSC_OFFSETTING) ? V12(v12, VMCS_TSC_OFFSET) : 0);
        w(VMCS_EXIT_MSR_STORE_COUNT, 0); /* MSR areas are emulated by nested/msr_area.c */
        w(VMCS_EXIT_MSR_LOAD_COUNT, 0);
        w(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
        if (n->vpid02)
            w(VMCS_VPID, n->vpid02);
        w(VMCS_LINK_POINTER, ~0ull);
    } else {
        /* L1's event injection, and Nestor's own re-injection into L2 may have left its values in these. */
        w(VMCS_ENTRY_INTR_INFO, V12(v12, VMCS_ENTRY_INTR_INFO));
        w(VMCS_ENTRY_EXCEPTION_ERROR_CODE, V12(v12, VMCS_ENTRY_EXCEPTION_ERROR_CODE));
        w(VMCS_ENTRY_INSTRUCTION_LEN, V12(v12, VMCS_ENTRY_INSTRUCTION_LEN));
    }
    w(VMCS_EPT_POINTER, eptp02); /* a shadow may have been dropped and made anew */
    apic_virt_vmcs02(v, v12);
    if (pin12 & PIN_PREEMPTION_TIMER)
        w(VMCS_PREEMPTION_TIMER_VALUE, V12(v12, VMCS_PREEMPTION_TIMER_VALUE)); /* counted down in vmcs02 */
    else if (l0_timer)
        w(VMCS_PREEMPTION_TIMER_VALUE, v->l0_timer_in_l2);

    if (full) {
        for (unsigned i = 0; i < vmcs12_guest_field_count; i++)
            w(vmcs12_guest_fields[i], v12->f[guest_slots[i]]);
    } else {
        /* vmcs02 holds L2's state as the last exit left it, which is vmcs12's but for what L1 changed since. */
        for (unsigned i = 0; i < SLOT_WORDS; i++)
            for (uint64_t bits = n->dirty[i] & guest_set[i]; bits; bits &= bits - 1) {
                unsigned slot = i * 64 + (unsigned)__builtin_ctzll(bits);
                w(vmcs12_encoding_of(slot), v12->f[slot]);
            }
    }
    /* SDM 26.3.2.1: what the entry loads only when vmcs12 asks; otherwise L1's values carry over. */
    uint64_t efer = (entry12 & ENTRY_LOAD_EFER) ? V12(v12, VMCS_GUEST_EFER)
                    : (entry12 & ENTRY_IA32E_MODE_GUEST) ? l1.efer | EFER_LMA | EFER_LME
                                                         : l1.efer & ~(EFER_LMA | EFER_LME);
    w(VMCS_GUEST_EFER, efer);
    w(VMCS_GUEST_PAT, (entry12 & ENTRY_LOAD_PAT) ? V12(v12, VMCS_GUEST_PAT) : l1.pat);
    w(VMCS_GUEST_DEBUGCTL, (entry12 & ENTRY_LOAD_DEBUG_CONTROLS) ? V12(v12, VMCS_GUEST_DEBUGCTL) : l1.debugctl);
    w(VMCS_GUEST_DR7, (entry12 & ENTRY_LOAD_DEBUG_CONTROLS) ? V12(v12, VMCS_GUEST_DR7) : l1.dr7);

    /* VPID semantics for L2 (SDM 28.3.3.3): without VPID12 every entry starts with no cached translations. */
    if (n->vpid02) {
        uint16_t vpid12 = (proc2_12 & PROC2_ENABLE_VPID) ? (uint16_t)V12(v12, VMCS_VPID) : 0;
        if (!vpid12 || !n->vpid12_seen || vpid12 != n->last_vpid12) {
            if (invvpid(INVVPID_SINGLE_CONTEXT, n->vpid02, 0) != VMX_OK)
                invvpid(INVVPID_ALL_CONTEXT, 0, 0);
        }
        n->last_vpid12 = vpid12;
        n->vpid12_seen = vpid12 != 0;
    }
    n->vmcs02_of = n->current;
    memset(n->dirty, 0, sizeof n->dirty);
    return true;
}

bool vmcs02_load_pdptes(struct vcpu *v, const struct vmcs12 *v12)
{
    uint64_t cr0 = V12(v12, VMCS_GUEST_CR0), cr4 = V12(v12, VMCS_GUEST_CR4);
    bool ia32e = V12(v12, VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST;
    bool ept12 = vmcs12_proc2(v12) & PROC2_ENABLE_EPT;
    if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || ia32e)
        return true;
    if (!ept12) /* L2's CR3 is an L1-physical address */
        return vcpu_load_pdptes(v, V12(v12, VMCS_GUEST_CR3));
    /* With EPT the entry takes them from the VMCS fields (26.3.2.4). */
    return vmcs_write_pdptes(&v12->f[SLOT_VMCS_GUEST_PDPTE0], nested_maxphy_mask());
}
