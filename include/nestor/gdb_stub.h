/*
 * The GDB stub for L1 (issue 10 item 3): with gdb=com2 on Nestor's command line,
 * Nestor speaks the GDB remote serial protocol (include/nestor/gdb_proto.h) on
 * COM2 for the CPU that runs L1's boot vCPU. L1 stops before its first
 * instruction, at a breakpoint, after a single step, on Ctrl-C and when it
 * faults; the other CPUs of L1, if any, run on (docs/GDB.md).
 */
#ifndef NESTOR_GDB_STUB_H
#define NESTOR_GDB_STUB_H

#include "vcpu.h"

/* Reads gdb= from Nestor's command line and sets up COM2 (before any vCPU is built). */
void gdb_stub_configure(const char *cmdline);
bool gdb_stub_enabled(void);
/* Boot vCPU, VMCS01 current, before L1's first instruction: waits for the debugger. */
void gdb_stub_attach(struct vcpu *v);
/* After every exit of the boot vCPU (vmx/vcpu_run.c): Ctrl-C, steps Nestor completed, L1's end. */
enum exit_action gdb_stub_after_exit(struct vcpu *v, enum exit_action a);
/* #BP exit (intercepted while the stub is on): a breakpoint of the debugger's, or L1's own int3 (reflected). */
enum exit_action gdb_stub_breakpoint(struct vcpu *v);
/* #DB exit: true (and *a set) when it ends the debugger's single step. */
bool gdb_stub_step_trap(struct vcpu *v, enum exit_action *a);

/* vmx/gdb_target.c: L1 as the protocol layer sees it (registers, memory by virtual address, breakpoints). */
struct gdb_target_ops;
extern const struct gdb_target_ops gdb_l1_ops;
/* L1's breakpoint at this linear address of the current instruction? */
bool gdb_target_is_breakpoint(struct vcpu *v, uint64_t linear);
void gdb_target_remove_all(struct vcpu *v);
/* The linear address of L1's current instruction (CS base + RIP, 32 bits outside 64-bit mode). */
uint64_t gdb_target_pc_linear(void);
/* After RFLAGS.TF changed: the pending BS debug exception the VM-entry checks require with it (SDM 26.3.1.5). */
void gdb_target_sync_pending_bs(void);

#endif
