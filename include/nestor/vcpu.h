/* One virtual CPU of L1 and what its exit handlers share. */
#ifndef NESTOR_VCPU_H
#define NESTOR_VCPU_H

#include "guest_walk.h"
#include "l1.h"
#include "lapic_emul.h"
#include "level_stats.h"
#include "nested.h"
#include "types.h"
#include "vmx_arch.h"
#include "vmsr.h"
#include "vuart.h"

/* General-purpose registers indexed as the SDM numbers them in exit qualifications (Table 27-3). */
enum gpr {
    GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
    GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
};

/*
 * Layout shared with vmx/vmentry.S: gpr[i] at 8*i, cr2 at 128, entry_tsc at 136, exit_tsc at 144.
 * gpr[GPR_RSP] is unused (RSP lives in the VMCS). The two TSCs are read by the trampoline right
 * before VMLAUNCH/VMRESUME and right after the exit: the edges of the guest's time (vmx/level_stats.c).
 */
struct guest_regs {
    uint64_t gpr[16];
    uint64_t cr2;
    uint64_t entry_tsc, exit_tsc;
};

/* EXIT_L0_HANDLES: nested_l2_exit leaves an L2 exit to L0's own handler (exit_dispatch_l2_for_l0). */
/*
 * Exceptions Nestor intercepts in L1 and in L2 (vmx/exit_exception.c): #DB and #AC can be
 * raised again by their own delivery and would loop in the CPU (CVE-2015-8104, -5307).
 */
#define L0_EXCEPTION_BITMAP (BIT(VEC_DB) | BIT(VEC_AC))

enum exit_action { EXIT_RESUME, EXIT_STOP, EXIT_L0_HANDLES };

/*
 * The tick: 10 ms of TSC, measured against the PIT at boot (vmx/console_input.c). The longest
 * L1 runs without an exit when the VMX-preemption timer is on (vmx/vmcs01.c sets it from this
 * one value), and how often the console's owner looks for input. Under Bochs' sync=none the
 * TSC runs at ~50 MHz of instructions (500,000 a tick); on a 3 GHz machine a tick is 30M
 * cycles, so an L1 that never exits pays 100 timer exits a second per CPU: a key waits at
 * most 10 ms, and a benchmark pays ~0.2 % (one exit of ~1,000 cycles per tick).
 */
extern uint64_t g_vcpu_tick_tsc;

struct vcpu {
    struct guest_regs regs;
    unsigned l1_index;       /* which of L1's CPUs (0: its BSP) */
    bool waiting_for_sipi;   /* in the wait-for-SIPI activity state: nothing may be injected */
    volatile bool halted_irq_off; /* HLT with RFLAGS.IF = 0: only INIT or NMI wakes it */
    bool init_pending;       /* INIT arrived while L1 was in VMX operation (blocked, SDM 23.8) */
    /* INIT/SIPI requests other vCPUs post (vmx/exit_lapic.c), taken after this vCPU's next exit. */
    volatile uint32_t ipi_pending;
    bool smi_blocking_quirk; /* started by SIPI under a CPU that saves stale SMI blocking (Bochs) */
    volatile uint8_t sipi_vector;
    uint32_t lapic_ldr, lapic_dfr; /* what L1 last wrote there: logical IPI destinations */
    bool launched;
    paddr_t vmcs;
    struct l1_vm *vm;
    uint16_t vpid;

    /* Control values chosen for VMCS01. */
    uint32_t pin, proc, proc2, exit_ctls, entry_ctls;
    /* Nonzero: the VMX-preemption timer value Nestor also runs L2 with when L1 does not use the timer
     * (gdb=com2: a Ctrl-C must reach a CPU running an L2 that never exits; vmx/gdb_stub.c). */
    uint32_t l0_timer_in_l2;
    uint64_t cr0_mask, cr4_mask;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1; /* effective for L1 (unrestricted guest) */
    uint64_t xcr0_supported;
    paddr_t io_bitmap[2], msr_bitmap; /* Nestor's own exits, also merged into vmcs02's */

    struct vmsr_state msr;
    struct vuart *uart; /* L1's COM1, shared by its vCPUs */

    /* The exit being handled. */
    uint32_t exit_reason;
    uint64_t exit_qual;
    bool injected; /* an event was queued for the next entry */
    uint32_t nmis_delivered;
    uint8_t irq_vector; /* an emulated device's interrupt waiting for L1 to accept it */

    /* Why L1 stopped, and the status the run ends with. */
    bool stopped;
    uint32_t status;

    bool vmcs_switched; /* this exit moved between L1 and L2: no re-injection into the other one */

    struct nested_vmx nested;

    uint64_t exit_count[EXIT_REASON_COUNT];
    uint64_t exit_total;
    uint64_t console_deadline; /* TSC of the next console tick (vmx/console_input.c) */
    uint64_t l0_cycles; /* TSC spent in Nestor between exits and entries (instructions under Bochs sync=none) */
    struct level_stats levels; /* the same split by level and exit path (vmx/level_stats.c) */
};

/* core/vcpu_paging.c: the current VMCS's guest paging state (CRs, EFER, PDPTEs, CPL, AC). */
void vcpu_paging_ctx(struct paging_ctx *pc);
/* core/vcpu_regs.c */
uint64_t vcpu_gpr_read(struct vcpu *v, unsigned n);
void vcpu_gpr_write(struct vcpu *v, unsigned n, uint64_t value);
void vcpu_skip_instruction(struct vcpu *v);
void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error);
/* Ends L1's run: logs the reason, dumps L1's state if asked, records the run status. */
enum exit_action vcpu_stop(struct vcpu *v, uint32_t status, bool dump, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void vcpu_dump_guest_state(struct vcpu *v);
/* RIP, RSP, RFLAGS, the GPRs and CR2 of the current VMCS's guest, each line after prefix; always: whatever the log level. */
void vcpu_log_gprs(const struct vcpu *v, bool always, const char *prefix);
/* core/vcpu_pdpte.c: PAE PDPTEs into the current VMCS, all or none (false if one is invalid, SDM vol. 3A 4.4.1). */
bool vmcs_write_pdptes(const uint64_t pdpte[4], uint64_t maxphyaddr_mask);
/* The same, read from the page-directory-pointer table at cr3 in L1's memory. */
bool vcpu_load_pdptes(struct vcpu *v, uint64_t cr3);

/* vmx/console_input.c: console options from Nestor's command line (stats=N), before L1 runs. */
void console_input_options(const char *cmdline);
/* vmx/vmcs01.c: VMCS01 for this CPU; L1's BSP starts at its kernel's entry, an AP waits for SIPI. */
bool vmcs01_setup(struct vcpu *v, struct l1_vm *vm, bool wait_for_sipi);
/* vmx/exit_init_sipi.c: the architectural INIT state (SDM vol. 3A 9.1.1), waiting for SIPI. */
void vcpu_enter_init_state(struct vcpu *v);
void vcpu_take_pending_init(struct vcpu *v);
void vcpu_clear_smi_blocking(void);
/* SIPI: real mode at vector << 12 (SDM vol. 3A 8.4.4.1). */
void vcpu_start_at_sipi(struct vcpu *v, unsigned vector);
/* vmx/exit_lapic.c */
void vcpu_take_ipis(struct vcpu *v);
/* Trapping L1's writes to its local APIC (on when L1 has more than one CPU). */
struct lapic_trap {
    bool on;
    paddr_t page; /* the APIC's registers, guest-physical = host-physical */
};
extern struct lapic_trap g_lapic_trap;
/* core/vcpu_host_state.c: Nestor's host state into the current VMCS (vmcs01 and vmcs02 share it);
 * false (each failed VMWRITE logged) if a write failed. */
bool vmcs_write_host_state(void);
/* vmx/vcpu_run.c: runs L1 until it stops; returns the run status. */
uint32_t vcpu_run(struct vcpu *v);
/* vmx/exit_dispatch.c */
enum exit_action exit_dispatch(struct vcpu *v);
/* An L2 exit nested_l2_exit returned EXIT_L0_HANDLES for (I/O, RDMSR, WRMSR): L0's handler runs it. */
enum exit_action exit_dispatch_l2_for_l0(struct vcpu *v);
void exit_stats_print(const struct vcpu *v);
/* core/exit_names.c */
const char *exit_reason_name(unsigned reason);
/* core/vm_insn_error.c */
const char *vm_instruction_error_name(unsigned err);
/* vmx/exit_io.c: writes out COM1's unfinished line, under COM1's lock. */
void vcpu_com1_flush(void);

/* vmx/vmentry.S: 0 after a VM exit, VMX_FAIL_* when VMLAUNCH/VMRESUME failed. */
int vmx_enter(struct guest_regs *regs, int launched);
void vmx_exit_entry(void);

#endif
