/* Shared by the files of nested/ only. */
#ifndef NESTOR_NESTED_INTERNAL_H
#define NESTOR_NESTED_INTERNAL_H

#include "nestor/nested.h"
#include "nestor/vcpu.h"

/* insn_common.c: the checks every VMX instruction starts with, and its outcomes (SDM 31.2). */
bool vmx_insn_checks(struct vcpu *v, bool needs_vmx_operation);
void nested_vmsucceed(struct vcpu *v);
void nested_vmfail_invalid(struct vcpu *v);
void nested_vmfail_valid(struct vcpu *v, unsigned err);
/* A VMWRITE's vmcs12 outcome: VMfailValid(12) unsupported field, (13) read-only field (31.4); true: written. */
bool nested_vmwrite_outcome(struct vcpu *v, enum vmcs12_result r);
/* VMfailValid when there is a current VMCS, VMfailInvalid otherwise. */
void nested_vmfail(struct vcpu *v, unsigned err);
bool l1_long_mode_code(void);
uint64_t nested_maxphy_mask(void);

/* operand.c: operands of L1's VMX instructions (decoded from VM-exit instruction information). */
uint64_t vmx_operand_reg_read(struct vcpu *v, unsigned reg);
void vmx_operand_reg_write(struct vcpu *v, unsigned reg, uint64_t value);
/* false: a fault was injected into L1 (#GP, #SS or #PF) and the instruction must not complete. */
bool vmx_operand_mem_read(struct vcpu *v, uint32_t info, uint64_t qual, void *buf, size_t n);
bool vmx_operand_mem_write(struct vcpu *v, uint32_t info, uint64_t qual, const void *buf, size_t n);
/* L1-physical memory: unmapped reads give all ones and writes vanish, as on a bus with nothing there. */
void l1_phys_read(struct vcpu *v, gpa_t gpa, void *buf, size_t n);
void l1_phys_write(struct vcpu *v, gpa_t gpa, const void *buf, size_t n);
/* One aligned 8-byte entry of L1's (an EPT12 entry): the same answer as l1_phys_read, on the shadow-fill path. */
uint64_t l1_phys_read_u64(struct vcpu *v, gpa_t gpa);

/* vmcs12_cache.c */
struct vmcs12_cache_entry *vmcs12_cache_load(struct vcpu *v, gpa_t gpa);
void vmcs12_cache_clear(struct vcpu *v, gpa_t gpa);
void vmcs12_cache_flush_all(struct vcpu *v);
uint32_t vmcs12_peek_revision(struct vcpu *v, gpa_t gpa);

/* vmcs_shadow.c: VMCS shadowing of vmcs12 for L1's VMREAD/VMWRITE. */
bool vmcs_shadow_init(struct vcpu *v, bool want);
void vmcs_shadow_fill(struct vcpu *v);
/* After a reflected exit: writes only what changed since the shadow was last filled or drained. */
void vmcs_shadow_refresh(struct vcpu *v);
void vmcs_shadow_drain(struct vcpu *v);
void vmcs_shadow_activate(struct vcpu *v, bool on);
/* An exiting VMREAD/VMWRITE of the HIGH half of a shadowed 64-bit field: shadow -> vmcs12 before, vmcs12 -> shadow after a write. */
void vmcs_shadow_sync_before(struct vcpu *v, uint64_t field);
void vmcs_shadow_sync_after_write(struct vcpu *v, uint64_t field);

/* vmcs12_shadow_l1.c: VMCS shadowing offered to L1 (its own shadow VMCSs for its L2s). */
bool vmcs12_is_shadow(const struct vmcs12 *v12);
bool nested_vmptrld_revision_ok(const struct nested_vmx *n, uint32_t rev);
/* NULL, or the 26.3.1.5 rule the region behind vmcs12's VMCS link pointer breaks. */
const char *nested_link_pointer_rule(struct vcpu *v, const struct vmcs12 *v12);
uint64_t nested_l2_vmx_field_operand(struct vcpu *v);
/* L2's VMREAD/VMWRITE that Nestor does not emulate on the shadow VMCS (memory operand): L1's. */
bool nested_l2_vmrw_needs_l1(struct vcpu *v, unsigned reason);
/* L2's VMREAD/VMWRITE that L1's VMREAD/VMWRITE bitmaps let through: done on L1's shadow vmcs12. */
enum exit_action nested_l2_shadow_vmrw(struct vcpu *v, bool write);

/* l2_passthrough.c: #GP for an instruction of L2: an exception exit to L1 if its bitmap has #GP, else into L2. */
enum exit_action nested_l2_gp(struct vcpu *v);

/* ept02.c: shadow EPT02 for L2s running with EPT12. */
struct ept02_root *ept02_get(struct vcpu *v, uint64_t eptp12);
uint64_t ept02_eptp_for(struct vcpu *v, uint64_t eptp12);
void ept02_drop(struct vcpu *v, uint64_t eptp12);
void ept02_drop_all(struct vcpu *v);
enum exit_action ept02_violation(struct vcpu *v);
/* ept_ad.c: the EPT12 walk of an L2 access, with A/D flags set and logged when L1 enables them. */
#include "nestor/ept12_ad.h"
enum ept12_access_result nested_ept12_access(struct vcpu *v, gpa_t gpa2, uint64_t need, const struct ept12_caps *caps,
                                             struct ept12_walk *w);
/* ept02_prefill.c: shadow entries installed ahead of L2's faults. */
struct ept12_walk;
void ept02_note_reflected(struct vcpu *v, gpa_t gpa2, uint64_t eptp12, uint64_t need);
void ept02_prefill(struct vcpu *v, const struct vmcs12 *v12);
void ept02_prefetch_near(struct vcpu *v, struct ept02_root *root, gpa_t gpa2, const struct ept12_walk *w);

/* vmcs02.c: a vmcs12 field changed that vmcs02 does not have yet (see struct nested_vmx). */
static inline void vmcs12_mark_dirty(struct nested_vmx *n, unsigned slot) { n->dirty[slot / 64] |= 1ull << (slot % 64); }
/* vmcs02 no longer matches any vmcs12: built in full at the next entry. */
static inline void vmcs02_forget(struct nested_vmx *n) { n->vmcs02_of = NULL; }
/* The controls and host state of the current vmcs12 passed the entry checks and none of them changed since. */
bool vmcs02_checks_still_hold(const struct nested_vmx *n, bool l1_ia32e);
/* Nothing in the current vmcs12 changed since vmcs02 was built from it but what L2 did itself. */
bool vmcs02_unchanged(const struct nested_vmx *n, bool l1_ia32e);

/* vmcs02.c: the guest-state fields vmcs12 and vmcs02 exchange as they are. */
extern const uint32_t vmcs12_guest_fields[];
extern const unsigned vmcs12_guest_field_count;
/* Their vmcs12 slots, in the same order. */
const uint8_t *vmcs12_guest_slots(void);
/* vmcs02.c: indexes one of Nestor's bitmap pages (at init; they never change). */
/* msr_bitmap: leave out what vmcs02 never needs (nested/vmcs02.c says what). */
void sparse_page_index(struct sparse_page *sp, paddr_t page);
/*
 * vmcs02.c: builds vmcs02 (made current) from vmcs12 and Nestor's needs. false (vmcs01 still
 * current, nothing changed): no memory for the shadow EPT02 vmcs12's EPTP needs.
 */
bool vmcs02_build(struct vcpu *v, const struct vmcs12 *v12);
/* apic_virt.c: APIC virtualization for L2. The pages through EPT01 (NULL, or the rule they break);
 * then VTPR for the entry checks (0xff without a virtual-APIC page in RAM); vmcs02's fields;
 * saving at an exit. */
const char *apic_virt_pages(struct vcpu *v, const struct vmcs12 *v12);
uint8_t apic_virt_vtpr(const struct vcpu *v);
void apic_virt_vmcs02(struct vcpu *v, const struct vmcs12 *v12);
void apic_virt_save(struct vmcs12 *v12);
/* vmcs02.c: the I/O and MSR exiting controls for vmcs02 (live reads of L1's bitmaps, or the snapshot). */
uint32_t vmcs02_io_msr_exiting(struct vcpu *v, const struct vmcs12 *v12, uint32_t proc12, bool snapshot);
/* l2_passthrough.c: an L2 I/O or RDMSR/WRMSR exit that L1's bitmaps (read now) do not want. */
enum exit_action nested_l2_io_msr_for_l0(struct vcpu *v, unsigned reason);
/* Loads L2's PDPTEs for PAE paging without EPT12 into vmcs02; false if one is invalid (26.3.1.6). */
bool vmcs02_load_pdptes(struct vcpu *v, const struct vmcs12 *v12);

/* nested_entry.c: the CPU refused vmcs02 with an entry-failure exit: undo "launched" (vmcs12 and vmcs02). */
void nested_entry_failed_in_hw(struct vcpu *v);

/* nested_exit.c: a VM exit from L2 (or a failed VM entry) delivered to L1 (SDM 27). */
void nested_reflect(struct vcpu *v, uint32_t reason, uint64_t qual, bool entry_failure);

/* exit_route.c (declared in include/nestor/exit_route.h, pure and unit-tested) */
#include "nestor/exit_route.h"

/* msr_area.c: VM-entry/VM-exit MSR areas (SDM 24.7.2, 24.8.2). 0 on success, else the 1-based failing entry. */
uint32_t nested_load_msr_area(struct vcpu *v, gpa_t addr, uint32_t count);
uint32_t nested_store_msr_area(struct vcpu *v, gpa_t addr, uint32_t count);

#endif
