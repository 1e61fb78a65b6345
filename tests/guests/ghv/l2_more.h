/*
 * ghv: layout of the result page of the extended tests (ghv_x_result, in
 * l2_more.S) and the constants L2's code there shares with ghv. Offsets
 * are bytes, every slot 64 bits, usable from C and asm alike.
 */
#ifndef GHV_L2_MORE_H
#define GHV_L2_MORE_H

/* events: L2's #GP handler (injected #GP) */
#define XR_GP_COUNT     0x00
#define XR_GP_VEC       0x08
#define XR_GP_ERR       0x10
#define XR_GP_RIP       0x18
/* events: ghv's own IRQ0 handler (interrupt left pending by an exit without ack) */
#define XR_IRQ0_COUNT   0x20
/* l0 */
#define XR_L0_FC        0x28
/* msrarea: what L2 read */
#define XR_KGS          0x30
#define XR_SYSENTER_CS  0x38
/* pae: what the 32-bit L2 saw */
#define XR_PAE_EAX      0x40
#define XR_PAE_EBX      0x48
#define XR_PAE_EFER     0x50    /* EDX:EAX of RDMSR, stored as two halves */
#define XR_PAE_CR0      0x58
#define XR_PAE_CR4      0x60

/* VMCALL codes (RAX) of the extended tests' L2 code. */
#define X_CALL_DONE     0
#define X_CALL_TIMEOUT  0x71    /* a spin loop ran out without the expected exit */

/* Iterations of L2's one-instruction spin loop (LOOP to itself): a VM exit
 * during the loop always reports the same RIP, and if the exit never comes
 * L2 gives up with X_CALL_TIMEOUT instead of hanging the run. */
#define X_SPIN_COUNT    0x4000000

/* msrarea values (canonical: IA32_KERNEL_GS_BASE takes only canonical addresses) */
#define X_KGS_ENTRY     0x0000334455667788ull   /* loaded by the VM-entry MSR-load area */
#define X_KGS_L2        0xffffbbccddeeff00ull   /* written by L2 with WRMSR */
#define X_KGS_EXIT      0x5555ull               /* loaded by the VM-exit MSR-load area */
#define X_SYSENTER_CS   0x10

#ifndef __ASSEMBLER__
#include "ghv.h"
extern volatile u64 ghv_x_result[512];
#define XR(off) (ghv_x_result[(off) / 8])
extern const char l2_ev_spin[], l2_ev_call[], l2_ev_gp_handler[], ghv_x_irq0[];
extern const char l2_l0_entry[], l2_l0_vmcall[], l2_msr_entry[], l2_msr_vmcall[];
extern const char l2_pae_entry[], l2_pae_cpuid[], l2_pae_vmcall[];
#endif

#endif
