/*
 * The MSR policy of L1's own RDMSR/WRMSR, as a decision the MSR areas of
 * nested VMX apply too (nested/msr_policy.c). Pure, unit-tested.
 */
#ifndef NESTOR_MSR_POLICY_H
#define NESTOR_MSR_POLICY_H

#include "types.h"

#define MSR_IA32_SMBASE 0x9eu

enum msr_path {
    MSR_PATH_VMCS,    /* switched by the VMCS: the guest's value is a VMCS field */
    MSR_PATH_VIRTUAL, /* L1's RDMSR/WRMSR exits: Nestor's virtual MSR (core/vmsr.c), #GP if it has none */
    MSR_PATH_CPU,     /* L1 reaches it natively: the CPU's, #GP as the CPU decides */
};

enum msr_path msr_policy_path(uint32_t msr, bool write);
/* The SDM rule that forbids an MSR-load (26.4, 27.6) or MSR-store (27.4) area to name msr, or NULL. */
const char *msr_policy_load_refused(uint32_t msr);
const char *msr_policy_store_refused(uint32_t msr);

#endif
