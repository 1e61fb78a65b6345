/*
 * ghv: layout of the page L2 and ghv share (ghv_l2_result, in l2_workload.S).
 *
 * L2 is written in asm, so the layout is a list of byte offsets usable from
 * both languages rather than a C struct. Every slot is 64 bits.
 * "in" slots are written by ghv before the launch, the others by L2.
 */
#ifndef GHV_L2_SHARED_H
#define GHV_L2_SHARED_H

#define L2R_CPUID_EAX   0x00
#define L2R_CPUID_EBX   0x08
#define L2R_CPUID_ECX   0x10
#define L2R_CPUID_EDX   0x18
#define L2R_IN61        0x20
#define L2R_CR0         0x28
#define L2R_CR4         0x30
#define L2R_MSR174      0x38
#define L2R_EFER        0x40
#define L2R_TSC         0x48
#define L2R_BP_COUNT    0x50
#define L2R_BP_VEC      0x58
#define L2R_BP_RIP      0x60
#define L2R_PF_COUNT    0x68
#define L2R_PF0_CR2     0x70
#define L2R_PF0_ERR     0x78
#define L2R_PF0_RIP     0x80
#define L2R_PF1_CR2     0x88
#define L2R_PF1_ERR     0x90
#define L2R_PF1_RIP     0x98
#define L2R_INT40_COUNT 0xa0
#define L2R_INT40_VEC   0xa8
#define L2R_OWN_CR3     0xb0    /* in: L2's own CR3 (L2 never reads CR3 itself) */
#define L2R_ALT_CR3     0xb8    /* in: the identical PML4 copy */
#define L2R_STEP        0xc0    /* last script step L2 started, for diagnostics */

/* L2 maps the 2 MiB region at 4 MiB with 4 KiB pages (link.ld keeps ghv's
 * image below it): its first page is not present, its second read-only. */
#define L2_TEST_REGION  0x400000
#define L2_NP_ADDR      0x400000
#define L2_RO_ADDR      0x401000

/* VMCALL function codes (RAX) understood by ghv. */
#define L2_CALL_DONE    0
#define L2_CALL_INJECT  1       /* "inject the external interrupt now" */

#define L2_INT_VECTOR   0x40

/* Values L2 writes that ghv checks. */
#define L2_WRMSR_EDX    0x7fff
#define L2_WRMSR_EAX    0x12345678
#define L2_INVLPG_ADDR  0x12345000
#define L2_DR7_VALUE    0x400

#ifndef __ASSEMBLER__
#include "ghv.h"
extern volatile u64 ghv_l2_result[512];
#define L2R(off) (ghv_l2_result[(off) / 8])
/* Code labels in l2_workload.S whose addresses ghv checks against. */
extern const char l2_entry[], l2_neg_entry[], l2_int3_insn[], l2_read_fault_insn[], l2_write_fault_insn[];
extern const char l2_bp_handler[], l2_pf_handler[], l2_int40_handler[];
#endif

#endif
