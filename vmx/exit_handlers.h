/* Handlers of L1's VM exits, one file per kind, dispatched by vmx/exit_dispatch.c. */
#ifndef NESTOR_EXIT_HANDLERS_H
#define NESTOR_EXIT_HANDLERS_H

#include "nestor/nested.h"
#include "nestor/vcpu.h"

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v);

enum exit_action handle_cpuid(struct vcpu *v);
enum exit_action handle_rdmsr(struct vcpu *v);
enum exit_action handle_wrmsr(struct vcpu *v);
/* vmx/debugctl.c: IA32_DEBUGCTL reads native where the CPU has the MSR, else emulated on a fast path. */
bool debugctl_native(void);
void debugctl_bitmap(uint8_t bitmap[4096]);
enum exit_action handle_debugctl_read(struct vcpu *v);
enum exit_action handle_cr_access(struct vcpu *v);
enum exit_action handle_io(struct vcpu *v);
enum exit_action handle_hlt(struct vcpu *v);
enum exit_action handle_xsetbv(struct vcpu *v);
enum exit_action handle_invd(struct vcpu *v);
enum exit_action handle_wbinvd(struct vcpu *v);
enum exit_action handle_triple_fault(struct vcpu *v);
enum exit_action handle_undefined_opcode(struct vcpu *v);
enum exit_action handle_ept_violation(struct vcpu *v);
enum exit_action handle_ept_misconfig(struct vcpu *v);
enum exit_action handle_entry_failure(struct vcpu *v);
enum exit_action handle_interrupt_window(struct vcpu *v);
enum exit_action handle_exception(struct vcpu *v);

/* vmx/vcpu_irq.c: interrupts of Nestor's emulated devices, before each entry to L1. */
void vcpu_deliver_device_irqs(struct vcpu *v);

/* Sets up L1's emulated devices, shared by all its vCPUs (vmx/exit_io.c). */
void vcpu_io_init(struct vcpu *v);
/* COM1's interrupt condition (taken: one vCPU delivers it), under COM1's lock. vcpu_com1_flush: nestor/vcpu.h. */
bool vcpu_com1_take_irq(void);
/* COM1's receive side: room in its backlog, bytes typed for L1, and the console tick (a prompt shows). */
size_t vcpu_com1_receive_room(void);
void vcpu_com1_receive(const uint8_t *bytes, size_t n);
void vcpu_com1_tick(void);
/* vmx/console_input.c: at the first exit after v->console_deadline (vcpu_run). */
enum exit_action console_input_tick(struct vcpu *v, uint64_t now);
/* vmx/debug_keys.c: a key after Ctrl-A; the address typed after Ctrl-A e (done false: cancelled). */
enum exit_action debug_key(struct vcpu *v, uint8_t key);
void debug_key_address_echo(uint8_t c);
void debug_key_address(struct vcpu *v, bool done, gpa_t gpa);
/* vmx/stats_line.c: the machine-readable statistics of every L1 CPU (tools/nestor_stat.py). */
void exit_stats_lines(void);
/* vmx/exit_lapic.c: a write to L1's local APIC page (EPT01 maps it read-only while trapped). */
enum exit_action lapic_write_exit(struct vcpu *v, gpa_t gpa);
enum exit_action handle_preemption_timer(struct vcpu *v);
/* vmx/exit_init_sipi.c */
enum exit_action handle_init_signal(struct vcpu *v);
enum exit_action handle_sipi(struct vcpu *v);
/* Sets the I/O bitmap bits (A: ports 0-0x7fff, B: 0x8000-0xffff) of every port Nestor traps. */
void vcpu_io_fill_bitmaps(uint8_t *bitmap_a, uint8_t *bitmap_b);

/* Exceptions Nestor intercepts in L1 (vmx/exit_exception.c): the exception bitmap bits of VMCS01. */
#define L1_EXCEPTION_BITMAP L0_EXCEPTION_BITMAP

#endif
