/* Nestor's CPUs (core/smp.c, core/l1_cpus.c): bring-up, orders, parking, the end of a run. */
#ifndef NESTOR_SMP_H
#define NESTOR_SMP_H

#include "percpu.h"
#include "types.h"

struct platform_info;
struct l1_vm;

/* Starts every enabled CPU of pi but this one into long mode; returns how many answered. */
unsigned smp_start_aps(const struct platform_info *pi);
void smp_order(struct percpu *p, enum cpu_order order);
/* Spins until p->state is no longer not_this (true) or spins run out (false). */
bool smp_wait_state(struct percpu *p, enum cpu_state not_this, uint64_t spins);
NORETURN void smp_park_this_cpu(void);

/* core/l1_cpus.c */
struct l1_cpu_options {
    bool nested, vmcs_shadowing, nested_ept;
    bool ept02_prefetch; /* ept02_prefetch=0 turns the shadow EPT02 prefetch off (nested/ept02_prefill.c) */
};
/* Gives L1 up to max_cpus of the CPUs whose VMX is on (the BSP first), parks the rest, starts the APs' vCPUs
 * in wait-for-SIPI and returns the number of L1 CPUs. */
unsigned l1_cpus_start(struct l1_vm *vm, const struct l1_cpu_options *opt, unsigned max_cpus);
/* How many CPUs L1 got (1 until l1_cpus_start has run). */
unsigned l1_cpu_count(void);
/* From now on, with more than one CPU online, each log line names its CPU. */
void l1_cpus_init_logging(void);
/* Runs L1's BSP on this CPU; never returns (the run ends through run_end). */
NORETURN void l1_cpus_run_bsp(uint64_t checksum);
/* An AP's part: build its vCPU and enter L1 (wait-for-SIPI). */
NORETURN void smp_ap_run_l1(struct percpu *p);
/* Ends the run from any CPU: the first caller stops the others, prints the report once and exits. */
NORETURN void run_end(uint32_t status);
/* True once some CPU is ending the run (checked after every VM exit: one load, no lock). */
extern volatile uint32_t g_run_ending;

#endif
