/*
 * CPUID as L1 sees it: the host's values with the hypervisor bit set and
 * every feature Nestor does not give L1 hidden (SMX, x2APIC, MONITOR/MWAIT,
 * thermal monitoring and energy bias, performance monitoring (leaf 0xA,
 * PDCM), VMX when nested=0, and the instructions whose
 * VM-execution controls are off).
 */
#ifndef NESTOR_VCPUID_H
#define NESTOR_VCPUID_H

#include "arch.h"
#include "types.h"

struct vcpuid_ctx {
    bool rdtscp, invpcid, xsaves; /* the secondary controls that make these work in L1 */
    bool vmx;                     /* nested VMX offered */
    uint64_t guest_cr4;          /* for the OS-enable bits CPUID reflects */
};

#define HV_CPUID_LEAF 0x40000000u
#define HV_SIGNATURE "NestorNestor"

void vcpuid_filter(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r, const struct vcpuid_ctx *c);

#endif
