/*
 * Where the time goes, per level (vmx/level_stats.c). Nestor sees every VM exit and entry;
 * the trampoline reads the TSC right after each exit and right before each entry, so every
 * cycle of a run belongs to exactly one level: L0 (Nestor, from an exit to the next entry),
 * L1 or L2 (from an entry to the next exit, by which VMCS was entered). Under Bochs with
 * `clock: sync=none` cycles are instructions.
 *
 * A workload can bracket the part it measures with CPUID leaf LEVEL_MARK_START and
 * LEVEL_MARK_STOP (bench/pfbench does, outside its own RDTSCs): Nestor takes a snapshot of
 * the counters at each, in L1 or in L2 (an L2's CPUID exit is seen before it is reflected),
 * and prints the window's split at the end of the run.
 */
#ifndef NESTOR_LEVEL_STATS_H
#define NESTOR_LEVEL_STATS_H

#include "types.h"
#include "vmx_arch.h"

#define LEVEL_MARK_START 0x4e53b000u
#define LEVEL_MARK_STOP 0x4e53b001u

enum level { LEVEL_L0, LEVEL_L1, LEVEL_L2, LEVEL_COUNT };
/* Who an exit went to: L1's own exit to Nestor, an L2 exit Nestor kept, an L2 exit reflected to L1. */
enum exit_path { PATH_L1_L0, PATH_L2_L0, PATH_L2_L1, PATH_COUNT };

/* The counters a window snapshot copies. */
struct level_counts {
    uint64_t cycles[LEVEL_COUNT];
    uint64_t exits[PATH_COUNT];
    uint64_t debugctl_reads; /* L1 RDMSRs of IA32_DEBUGCTL Nestor emulated (the CPU has none behind the VMCS field) */
    uint64_t ept02_fills, ept02_prefills, ept02_prefetched; /* copied from struct nested_stats at a mark */
};

struct level_stats {
    struct level_counts now;
    struct level_counts mark[2]; /* at LEVEL_MARK_START and LEVEL_MARK_STOP */
    unsigned marks_seen;         /* bit 0: start seen, bit 1: stop seen */
    uint64_t last_exit_tsc;      /* 0 before the first entry */
    unsigned last_path, last_reason;
    /* Nestor's cycles and exit counts per path and basic exit reason (whole run). */
    uint64_t l0_cycles[PATH_COUNT][EXIT_REASON_COUNT];
    uint32_t l0_exits[PATH_COUNT][EXIT_REASON_COUNT];
};

struct vcpu;
/* After vmx_enter returned from an exit: credit the last L0 interval and the guest interval. */
void level_stats_exit(struct vcpu *v, bool from_l2);
/* Once the exit is handled: which path it took (read from where the vCPU is now). */
void level_stats_handled(struct vcpu *v, bool from_l2);
void level_stats_print(const struct vcpu *v);

#endif
