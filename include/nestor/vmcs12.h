/*
 * vmcs12: the VMCS L1 builds for its L2, emulated by Nestor.
 *
 * Layout of a vmcs12 region in L1's memory (4 KiB, what VMCLEAR writes back
 * and VMPTRLD reads; docs/NESTED.md has the table):
 *   offset 0   u32 revision identifier (Nestor's own, VMCS12_REVISION; bit 31 set
 *              for a shadow VMCS, SDM 24.10)
 *   offset 4   u32 VMX-abort indicator
 *   offset 8   u32 launch state (VMCS12_LAUNCHED or anything else = clear)
 *   offset 12  u32 reserved
 *   offset 16  u64 field[slot] for every supported field, in the order of
 *              VMCS12_FIELDS below, each stored zero-extended to 64 bits
 * Encodings follow SDM Appendix B; an encoding's width, type and index are
 * in its bits (SDM 24.11.2).
 */
#ifndef NESTOR_VMCS12_H
#define NESTOR_VMCS12_H

#include "types.h"
#include "vmx_arch.h"

#define VMCS12_REVISION 0x4e53u /* "NS" */
/* Bit 31 of the revision identifier: a shadow VMCS (SDM 24.2, 24.10), only with VMCS shadowing offered. */
#define VMCS12_SHADOW_INDICATOR BIT(31)
#define VMCS12_LAUNCHED 0x4c41554eu /* "NUAL" */

/* Fields exist only if the feature that uses them is offered to L1. */
#define V12F_ALWAYS 0u
#define V12F_VPID BIT(0)
#define V12F_EPT BIT(1)
#define V12F_PREEMPT BIT(2)
/* VMCS shadowing offered to L1: the VMREAD/VMWRITE bitmaps, and the TPR threshold, which every CPU
 * with shadowing has (they all have TPR shadow) and which KVM's shadow-field list VMWRITEs
 * unconditionally. */
#define V12F_SHADOW BIT(3)
#define V12F_PML BIT(4)
/* APIC virtualization (SDM 24.6.8, 29): use TPR shadow; virtualize APIC accesses; virtual-interrupt delivery. */
#define V12F_TPR BIT(5)
#define V12F_APIC_ACCESS BIT(6)
#define V12F_VID BIT(7)

#define VMCS12_FIELDS(X)                                                                          \
    X(VMCS_VPID, V12F_VPID)                                                                       \
    X(VMCS_GUEST_ES_SEL, V12F_ALWAYS) X(VMCS_GUEST_CS_SEL, V12F_ALWAYS)                           \
    X(VMCS_GUEST_SS_SEL, V12F_ALWAYS) X(VMCS_GUEST_DS_SEL, V12F_ALWAYS)                           \
    X(VMCS_GUEST_FS_SEL, V12F_ALWAYS) X(VMCS_GUEST_GS_SEL, V12F_ALWAYS)                           \
    X(VMCS_GUEST_LDTR_SEL, V12F_ALWAYS) X(VMCS_GUEST_TR_SEL, V12F_ALWAYS)                         \
    X(VMCS_HOST_ES_SEL, V12F_ALWAYS) X(VMCS_HOST_CS_SEL, V12F_ALWAYS)                             \
    X(VMCS_HOST_SS_SEL, V12F_ALWAYS) X(VMCS_HOST_DS_SEL, V12F_ALWAYS)                             \
    X(VMCS_HOST_FS_SEL, V12F_ALWAYS) X(VMCS_HOST_GS_SEL, V12F_ALWAYS)                             \
    X(VMCS_HOST_TR_SEL, V12F_ALWAYS)                                                              \
    X(VMCS_IO_BITMAP_A, V12F_ALWAYS) X(VMCS_IO_BITMAP_B, V12F_ALWAYS)                             \
    X(VMCS_MSR_BITMAP, V12F_ALWAYS) X(VMCS_EXIT_MSR_STORE_ADDR, V12F_ALWAYS)                      \
    X(VMCS_VMREAD_BITMAP, V12F_SHADOW) X(VMCS_VMWRITE_BITMAP, V12F_SHADOW)                        \
    X(VMCS_TPR_THRESHOLD, V12F_SHADOW | V12F_TPR)                                                 \
    X(VMCS_EXIT_MSR_LOAD_ADDR, V12F_ALWAYS) X(VMCS_ENTRY_MSR_LOAD_ADDR, V12F_ALWAYS)              \
    X(VMCS_TSC_OFFSET, V12F_ALWAYS) X(VMCS_EPT_POINTER, V12F_EPT)                                 \
    X(VMCS_GUEST_PHYSICAL_ADDR, V12F_EPT)                                                         \
    X(VMCS_LINK_POINTER, V12F_ALWAYS) X(VMCS_GUEST_DEBUGCTL, V12F_ALWAYS)                         \
    X(VMCS_GUEST_PAT, V12F_ALWAYS) X(VMCS_GUEST_EFER, V12F_ALWAYS)                                \
    X(VMCS_GUEST_PDPTE0, V12F_EPT) X(VMCS_GUEST_PDPTE1, V12F_EPT)                                 \
    X(VMCS_GUEST_PDPTE2, V12F_EPT) X(VMCS_GUEST_PDPTE3, V12F_EPT)                                 \
    X(VMCS_HOST_PAT, V12F_ALWAYS) X(VMCS_HOST_EFER, V12F_ALWAYS)                                  \
    X(VMCS_PIN_CONTROLS, V12F_ALWAYS) X(VMCS_PROC_CONTROLS, V12F_ALWAYS)                          \
    X(VMCS_EXCEPTION_BITMAP, V12F_ALWAYS) X(VMCS_PF_ERROR_CODE_MASK, V12F_ALWAYS)                 \
    X(VMCS_PF_ERROR_CODE_MATCH, V12F_ALWAYS) X(VMCS_CR3_TARGET_COUNT, V12F_ALWAYS)                \
    X(VMCS_EXIT_CONTROLS, V12F_ALWAYS) X(VMCS_EXIT_MSR_STORE_COUNT, V12F_ALWAYS)                  \
    X(VMCS_EXIT_MSR_LOAD_COUNT, V12F_ALWAYS) X(VMCS_ENTRY_CONTROLS, V12F_ALWAYS)                  \
    X(VMCS_ENTRY_MSR_LOAD_COUNT, V12F_ALWAYS) X(VMCS_ENTRY_INTR_INFO, V12F_ALWAYS)                \
    X(VMCS_ENTRY_EXCEPTION_ERROR_CODE, V12F_ALWAYS) X(VMCS_ENTRY_INSTRUCTION_LEN, V12F_ALWAYS)    \
    X(VMCS_PROC_CONTROLS2, V12F_ALWAYS)                                                           \
    X(VMCS_VM_INSTRUCTION_ERROR, V12F_ALWAYS) X(VMCS_EXIT_REASON, V12F_ALWAYS)                    \
    X(VMCS_EXIT_INTR_INFO, V12F_ALWAYS) X(VMCS_EXIT_INTR_ERROR_CODE, V12F_ALWAYS)                 \
    X(VMCS_IDT_VECTORING_INFO, V12F_ALWAYS) X(VMCS_IDT_VECTORING_ERROR_CODE, V12F_ALWAYS)         \
    X(VMCS_EXIT_INSTRUCTION_LEN, V12F_ALWAYS) X(VMCS_EXIT_INSTRUCTION_INFO, V12F_ALWAYS)          \
    X(VMCS_GUEST_ES_LIMIT, V12F_ALWAYS) X(VMCS_GUEST_CS_LIMIT, V12F_ALWAYS)                       \
    X(VMCS_GUEST_SS_LIMIT, V12F_ALWAYS) X(VMCS_GUEST_DS_LIMIT, V12F_ALWAYS)                       \
    X(VMCS_GUEST_FS_LIMIT, V12F_ALWAYS) X(VMCS_GUEST_GS_LIMIT, V12F_ALWAYS)                       \
    X(VMCS_GUEST_LDTR_LIMIT, V12F_ALWAYS) X(VMCS_GUEST_TR_LIMIT, V12F_ALWAYS)                     \
    X(VMCS_GUEST_GDTR_LIMIT, V12F_ALWAYS) X(VMCS_GUEST_IDTR_LIMIT, V12F_ALWAYS)                   \
    X(VMCS_GUEST_ES_AR, V12F_ALWAYS) X(VMCS_GUEST_CS_AR, V12F_ALWAYS)                             \
    X(VMCS_GUEST_SS_AR, V12F_ALWAYS) X(VMCS_GUEST_DS_AR, V12F_ALWAYS)                             \
    X(VMCS_GUEST_FS_AR, V12F_ALWAYS) X(VMCS_GUEST_GS_AR, V12F_ALWAYS)                             \
    X(VMCS_GUEST_LDTR_AR, V12F_ALWAYS) X(VMCS_GUEST_TR_AR, V12F_ALWAYS)                           \
    X(VMCS_GUEST_INTERRUPTIBILITY, V12F_ALWAYS) X(VMCS_GUEST_ACTIVITY_STATE, V12F_ALWAYS)         \
    X(VMCS_GUEST_SMBASE, V12F_ALWAYS) X(VMCS_GUEST_SYSENTER_CS, V12F_ALWAYS)                      \
    X(VMCS_PREEMPTION_TIMER_VALUE, V12F_PREEMPT)                                                  \
    X(VMCS_HOST_SYSENTER_CS, V12F_ALWAYS)                                                         \
    X(VMCS_CR0_GUEST_HOST_MASK, V12F_ALWAYS) X(VMCS_CR4_GUEST_HOST_MASK, V12F_ALWAYS)             \
    X(VMCS_CR0_READ_SHADOW, V12F_ALWAYS) X(VMCS_CR4_READ_SHADOW, V12F_ALWAYS)                     \
    X(VMCS_CR3_TARGET0, V12F_ALWAYS) X(VMCS_CR3_TARGET1, V12F_ALWAYS)                             \
    X(VMCS_CR3_TARGET2, V12F_ALWAYS) X(VMCS_CR3_TARGET3, V12F_ALWAYS)                             \
    X(VMCS_EXIT_QUALIFICATION, V12F_ALWAYS) X(VMCS_IO_RCX, V12F_ALWAYS)                           \
    X(VMCS_IO_RSI, V12F_ALWAYS) X(VMCS_IO_RDI, V12F_ALWAYS) X(VMCS_IO_RIP, V12F_ALWAYS)           \
    X(VMCS_GUEST_LINEAR_ADDR, V12F_ALWAYS)                                                        \
    X(VMCS_GUEST_CR0, V12F_ALWAYS) X(VMCS_GUEST_CR3, V12F_ALWAYS) X(VMCS_GUEST_CR4, V12F_ALWAYS)  \
    X(VMCS_GUEST_ES_BASE, V12F_ALWAYS) X(VMCS_GUEST_CS_BASE, V12F_ALWAYS)                         \
    X(VMCS_GUEST_SS_BASE, V12F_ALWAYS) X(VMCS_GUEST_DS_BASE, V12F_ALWAYS)                         \
    X(VMCS_GUEST_FS_BASE, V12F_ALWAYS) X(VMCS_GUEST_GS_BASE, V12F_ALWAYS)                         \
    X(VMCS_GUEST_LDTR_BASE, V12F_ALWAYS) X(VMCS_GUEST_TR_BASE, V12F_ALWAYS)                       \
    X(VMCS_GUEST_GDTR_BASE, V12F_ALWAYS) X(VMCS_GUEST_IDTR_BASE, V12F_ALWAYS)                     \
    X(VMCS_GUEST_DR7, V12F_ALWAYS) X(VMCS_GUEST_RSP, V12F_ALWAYS) X(VMCS_GUEST_RIP, V12F_ALWAYS)  \
    X(VMCS_GUEST_RFLAGS, V12F_ALWAYS) X(VMCS_GUEST_PENDING_DBG, V12F_ALWAYS)                      \
    X(VMCS_GUEST_SYSENTER_ESP, V12F_ALWAYS) X(VMCS_GUEST_SYSENTER_EIP, V12F_ALWAYS)               \
    X(VMCS_HOST_CR0, V12F_ALWAYS) X(VMCS_HOST_CR3, V12F_ALWAYS) X(VMCS_HOST_CR4, V12F_ALWAYS)     \
    X(VMCS_HOST_FS_BASE, V12F_ALWAYS) X(VMCS_HOST_GS_BASE, V12F_ALWAYS)                           \
    X(VMCS_HOST_TR_BASE, V12F_ALWAYS) X(VMCS_HOST_GDTR_BASE, V12F_ALWAYS)                         \
    X(VMCS_HOST_IDTR_BASE, V12F_ALWAYS) X(VMCS_HOST_SYSENTER_ESP, V12F_ALWAYS)                    \
    X(VMCS_HOST_SYSENTER_EIP, V12F_ALWAYS) X(VMCS_HOST_RSP, V12F_ALWAYS) X(VMCS_HOST_RIP, V12F_ALWAYS) \
    X(VMCS_PML_ADDR, V12F_PML) X(VMCS_GUEST_PML_INDEX, V12F_PML)                                 \
    X(VMCS_VIRTUAL_APIC_ADDR, V12F_TPR) X(VMCS_APIC_ACCESS_ADDR, V12F_APIC_ACCESS)                \
    X(VMCS_EOI_EXIT_BITMAP0, V12F_VID) X(VMCS_EOI_EXIT_BITMAP1, V12F_VID)                         \
    X(VMCS_EOI_EXIT_BITMAP2, V12F_VID) X(VMCS_EOI_EXIT_BITMAP3, V12F_VID)                         \
    X(VMCS_GUEST_INTR_STATUS, V12F_VID)

#define VMCS12_SLOT_ENUM(enc, feat) SLOT_##enc,
enum vmcs12_slot { VMCS12_FIELDS(VMCS12_SLOT_ENUM) VMCS12_NFIELDS };

struct vmcs12 {
    uint32_t revision;
    uint32_t abort;
    uint32_t launch_state;
    uint32_t reserved;
    uint64_t f[VMCS12_NFIELDS];
};
_Static_assert(sizeof(struct vmcs12) <= 4096, "a vmcs12 must fit its 4 KiB region");

_Static_assert(SLOT_VMCS_GUEST_PDPTE3 == SLOT_VMCS_GUEST_PDPTE0 + 3, "the PDPTEs are copied as an array");
_Static_assert(SLOT_VMCS_EOI_EXIT_BITMAP3 == SLOT_VMCS_EOI_EXIT_BITMAP0 + 3, "the EOI-exit bitmaps are copied as an array");

/* Field access by name: V12(v, VMCS_GUEST_RIP). */
#define V12(v, enc) ((v)->f[SLOT_##enc])

/* The secondary processor-based controls in effect: only with primary bit 31 set (SDM 24.6.2). */
static inline uint32_t vmcs12_proc2(const struct vmcs12 *v)
{
    return (V12(v, VMCS_PROC_CONTROLS) & PROC_SECONDARY_CONTROLS) ? (uint32_t)V12(v, VMCS_PROC_CONTROLS2) : 0;
}

/* Field encoding bits (SDM 24.11.2). */
#define VMCS_ENC_HIGH BIT(0)
#define VMCS_ENC_INDEX(e) (((e) >> 1) & 0x1ff)
#define VMCS_ENC_TYPE(e) (((e) >> 10) & 3)
#define VMCS_ENC_WIDTH(e) (((e) >> 13) & 3)
#define VMCS_TYPE_RO_DATA 1u
#define VMCS_WIDTH_16 0u
#define VMCS_WIDTH_64 1u
#define VMCS_WIDTH_32 2u
#define VMCS_WIDTH_NATURAL 3u

enum vmcs12_result { V12_OK, V12_UNSUPPORTED, V12_READ_ONLY };

/* -1 when the encoding names no field L1 has (given the features offered). */
int vmcs12_slot_of(uint64_t encoding, unsigned features);
enum vmcs12_result vmcs12_read(const struct vmcs12 *v, uint64_t encoding, unsigned features, uint64_t *value);
/* write_any: IA32_VMX_MISC[29] as offered to L1 (VMWRITE to read-only fields allowed). */
enum vmcs12_result vmcs12_write(struct vmcs12 *v, uint64_t encoding, unsigned features, bool write_any,
                                uint64_t value);
/* Highest field index offered (IA32_VMX_VMCS_ENUM bits 9:1). */
unsigned vmcs12_max_index(unsigned features);
/* Slots of a list of field encodings, for copying many fields without a lookup each (all must exist). */
void vmcs12_slots(const uint32_t *encodings, unsigned count, uint8_t *slots);
/* Encoding of a slot (for iterating over all fields). */
uint32_t vmcs12_encoding_of(unsigned slot);
/* Name of a slot's field without the "VMCS_" prefix ("GUEST_RIP"), for dumps. */
const char *vmcs12_name_of(unsigned slot);

#endif
