/*
 * The fake CPU behind include/nestor/vmx_ops.h and arch.h when NESTOR_FAKE_CPU
 * is defined: VMCS contents kept in memory per VMCS address, the current-VMCS
 * pointer, VMfail outcomes as the SDM gives them (vol. 3C 31), a record of
 * INVEPT/INVVPID, MSR and XSETBV access, and host-physical memory as one arena
 * (phys_to_virt outside it is a finding: the run aborts).
 */
#ifndef NESTOR_FUZZ_FAKECPU_H
#define NESTOR_FUZZ_FAKECPU_H

#include "nestor/types.h"

/* Host-physical memory: [FAKE_PHYS_BASE, FAKE_PHYS_BASE + FAKE_PHYS_SIZE). */
#define FAKE_PHYS_BASE ((paddr_t)0x1000000)
#define FAKE_PHYS_SIZE ((uint64_t)48 << 20)

#define FAKE_VMCS_MAX 8

struct fake_cpu_record {
    unsigned invept_single, invept_all, invept_fail;
    unsigned invvpid, invvpid_fail;
    unsigned vmptrld, vmclear;
    unsigned vmwrite_fail, vmread_fail; /* Nestor's own VMREAD/VMWRITE that the CPU refused */
    unsigned wrmsr, rdmsr, xsetbv;
    uint32_t last_wrmsr;
};

struct fake_cpu {
    uint64_t revision;  /* IA32_VMX_BASIC[30:0] */
    bool vmwrite_any;   /* IA32_VMX_MISC[29] */
    paddr_t current;    /* ~0: no current VMCS */
    struct fake_cpu_record rec;
    uint64_t xcr0;
};
extern struct fake_cpu g_fake_cpu;

/* The arena; fake_cpu_reset() clears VMCS state and the record, not memory. */
void fake_mem_init(void);
uint8_t *fake_mem_base(void);
void fake_cpu_reset(uint64_t basic, bool vmwrite_any);

/* Reading/writing a field of the VMCS at pa without changing the current VMCS (the harness's view). */
bool fake_vmcs_get(paddr_t pa, uint32_t field, uint64_t *value);
void fake_vmcs_set(paddr_t pa, uint32_t field, uint64_t value);
bool fake_vmcs_launched(paddr_t pa);
void fake_vmcs_set_launched(paddr_t pa, bool launched);

/*
 * VMLAUNCH/VMRESUME of the current VMCS as vmx/vmentry.S would issue it: VMfailInvalid
 * without a current VMCS, VMfailValid(4/5) for the launch state, VMfailValid(7) for
 * controls outside the capability MSRs, VMfailValid(8) for host state other than
 * expect_host (Nestor's own, which every VMCS it enters must hold). force_fail makes
 * the CPU refuse anyway (a check Nestor lacks). On success the VMCS is launched.
 */
struct vmx_caps;
int fake_vmentry(bool launch, const struct vmx_caps *caps, bool force_fail);

/* L0's host state: what the fake vmcs_write_host_state() writes (Nestor's, on the real CPU). */
struct fake_host_field {
    uint32_t field;
    uint64_t value;
};
extern const struct fake_host_field fake_l0_host_state[];
extern const unsigned fake_l0_host_state_count;
/* Why the last fake_vmentry refused, for reports. */
const char *fake_vmentry_why(void);

/* Nestor's log: kept quiet (a ring of the last lines for crash reports). */
const char *fake_log_tail(void);

#endif
