/*
 * Per-CPU state: one struct percpu for each physical CPU Nestor owns, reached
 * through GS (GS base = the struct, its first field points to itself), so
 * that exit handlers never look a CPU up in a shared table. The host GS base
 * in every VMCS is the struct of the CPU that runs it.
 */
#ifndef NESTOR_PERCPU_H
#define NESTOR_PERCPU_H

#include "layout.h"
#include "types.h"

#define MAX_CPUS 64

struct PACKED tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

/* What a CPU is doing, as the BSP sees it (written by the CPU itself, read by the BSP). */
enum cpu_state {
    CPU_OFFLINE,    /* not started, or did not answer its SIPIs */
    CPU_ALIVE,      /* in long mode on Nestor's tables, waiting for orders */
    CPU_VMX_ON,     /* VMX on with the BSP's capabilities */
    CPU_REFUSED,    /* VMX missing or different from the BSP's: kept out of L1 */
    CPU_PARKED,     /* in VMX root, interrupts off, INIT blocked: L1 cannot wake it */
    CPU_RUNNING_L1, /* about to enter (or in) VMX non-root as one of L1's CPUs */
};

/* Orders the BSP gives an AP (percpu.order). */
enum cpu_order { ORDER_NONE, ORDER_VMX_ON, ORDER_RUN_L1, ORDER_PARK };

struct vcpu;

struct percpu {
    struct percpu *self; /* GS:0 */
    unsigned index;      /* 0 is the boot CPU */
    uint32_t apic_id;
    volatile enum cpu_state state;
    volatile enum cpu_order order;
    struct vcpu *vcpu;   /* the L1 vCPU this CPU runs, if any */
    unsigned l1_index;   /* its number among L1's CPUs */
    paddr_t vmxon_region;
    volatile uint32_t nmi_count; /* NMIs taken while Nestor ran (handed on to L1 by vcpu_run) */
    uint64_t stack_top;
    struct tss64 tss __attribute__((aligned(16)));
    uint64_t gdt[5] __attribute__((aligned(16)));
};

/* core/percpu.c */
extern struct percpu *g_cpus[MAX_CPUS];
extern unsigned g_cpu_count;           /* entries in g_cpus (every CPU found, started or not) */
extern volatile unsigned g_cpus_online; /* CPUs running Nestor code */

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

/* The boot CPU's struct (static: the allocator is not up yet when the console needs a CPU). */
struct percpu *percpu_bsp(void);
/* A zeroed struct with stacks for an AP, from the page allocator. */
struct percpu *percpu_alloc(unsigned index, uint32_t apic_id);
/* Loads this CPU's GDT, TSS (IST stacks) and GS base; the IDT is shared. */
void percpu_load(struct percpu *p);

#endif
