/*
 * MSRs Nestor virtualizes for L1. Every other MSR in the bitmap ranges is
 * passed through and behaves exactly as on the CPU (including #GP for ones it
 * lacks). These are intercepted because passing them through would either
 * break L1 (IA32_APIC_BASE: the Bochs APIC dies when globally disabled),
 * expose what Nestor does not emulate (VMX), or let L1 change the host
 * (IA32_FEATURE_CONTROL, MTRRs, microcode update), or because CPUs Nestor runs
 * on (Bochs) lack them although guests read them unguarded (IA32_MISC_ENABLE,
 * IA32_BIOS_SIGN_ID, MPERF/APERF).
 */
#ifndef NESTOR_VMSR_H
#define NESTOR_VMSR_H

#include "types.h"

#define VMSR_MTRR_VAR_MAX 16 /* IA32_MTRRCAP.VCNT is 8 bits; no CPU has more than 16 pairs below 0x220 */
#define VMSR_MTRR_FIXED 11

struct vmsr_state {
    uint64_t apic_base;
    uint64_t feature_control;
    uint64_t misc_enable;
    uint64_t phys_addr_mask; /* bits above MAXPHYADDR are reserved */
    bool have_mtrr;
    unsigned mtrr_var_count;
    uint64_t mtrr_cap, mtrr_def_type;
    uint64_t mtrr_var[2 * VMSR_MTRR_VAR_MAX];
    uint64_t mtrr_fixed[VMSR_MTRR_FIXED];
    /* Time source for MPERF/APERF (the TSC); NULL in unit tests that do not need it. */
    uint64_t (*read_tsc)(void);
    /* VMX capability MSRs 0x480-0x491 offered to L1 (nested VMX); NULL: none, they #GP. */
    const uint64_t *vmx_caps;
    const bool *vmx_caps_present;
};

enum vmsr_result { VMSR_OK, VMSR_GP };

/* Whether the MSR bitmap traps reads / writes of this MSR. */
bool vmsr_intercepted(uint32_t msr, bool write);
enum vmsr_result vmsr_read(struct vmsr_state *s, uint32_t msr, uint64_t *value);
enum vmsr_result vmsr_write(struct vmsr_state *s, uint32_t msr, uint64_t value);

/* Sets the MSR bitmap (SDM 24.6.9) bits for every intercepted MSR. */
void vmsr_fill_bitmap(uint8_t bitmap[4096]);
/* Sets one MSR's read or write bit; false for MSRs outside the two bitmap ranges (those always exit). */
bool msr_bitmap_set(uint8_t bitmap[4096], uint32_t msr, bool write);
bool msr_bitmap_clear(uint8_t bitmap[4096], uint32_t msr, bool write);

#endif
