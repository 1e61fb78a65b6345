/*
 * ghv: the code L2 runs (64-bit, CPL 0, on the tables built by l2_env.c).
 *
 * l2_entry executes the basic script, one step per VM exit where the step
 * exits, storing what it observes into ghv_l2_result; ghv prints and checks
 * those values after L2's final VMCALL. Registers are chosen on purpose so
 * that the exit qualifications carry distinct GPR numbers:
 *   MOV CR0 via RBX (3), MOV CR4 via RCX (1), MOV CR3 via RDX (2),
 *   MOV DR7 via RSI (6).
 * The two page-fault instructions are exactly 2 bytes long (8b 03 / 89 03):
 * L2's #PF handler skips a faulting instruction by adding 2 to the saved RIP.
 *
 * l2_neg_entry is the trivial guest of the negative tests: VMCALL at once.
 */
#include "l2_shared.h"

#define RES(off) (ghv_l2_result + off)(%rip)
#define STEP(n) movq $(n), RES(L2R_STEP)

    .section .text
    .code64
    .globl l2_entry, l2_neg_entry, l2_int3_insn, l2_read_fault_insn, l2_write_fault_insn
    .globl l2_bp_handler, l2_pf_handler, l2_int40_handler

l2_entry:
    /* 1. CPUID leaf 0: exits, ghv supplies the answer. */
    STEP(1)
    xor %eax, %eax
    xor %ecx, %ecx
    cpuid
    mov %rax, RES(L2R_CPUID_EAX)
    mov %rbx, RES(L2R_CPUID_EBX)
    mov %rcx, RES(L2R_CPUID_ECX)
    mov %rdx, RES(L2R_CPUID_EDX)

    /* 2. OUT 0x80 exits; OUT 0xed is not in the I/O bitmap; IN 0x61 exits. */
    STEP(2)
    mov $0x5a, %al
    outb %al, $0x80
    outb %al, $0xed
    xor %eax, %eax
    inb $0x61, %al
    mov %rax, RES(L2R_IN61)

    /* 3. HLT exits; ghv skips it. */
    STEP(3)
    hlt

    /* 4. Toggle CR0.TS (owned by ghv through the mask): exits. Reading CR0
     * back never exits and shows the shadow for TS/MP. */
    STEP(4)
    mov %cr0, %rbx
    xor $0x8, %rbx
    mov %rbx, %cr0
    mov %cr0, %rax
    mov %rax, RES(L2R_CR0)

    /* 5. CR4.PCE is owned by ghv: setting it exits. Then CR3: our own value is
     * in the CR3-target list (no exit), the PML4 copy is not (exits). */
    STEP(5)
    mov %cr4, %rcx
    or $0x100, %rcx
    mov %rcx, %cr4
    mov %cr4, %rax
    mov %rax, RES(L2R_CR4)
    mov RES(L2R_OWN_CR3), %rdx
    mov %rdx, %cr3
    mov RES(L2R_ALT_CR3), %rdx
    mov %rdx, %cr3

    /* 6. RDMSR 0x174 exits (MSR bitmap); RDMSR EFER does not; WRMSR
     * 0xc0000102 exits. */
    STEP(6)
    mov $0x174, %ecx
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, RES(L2R_MSR174)
    mov $0xc0000080, %ecx
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, RES(L2R_EFER)
    mov $0xc0000102, %ecx
    mov $L2_WRMSR_EAX, %eax
    mov $L2_WRMSR_EDX, %edx
    wrmsr

    /* 7. RDTSC exits; ghv supplies the value. */
    STEP(7)
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, RES(L2R_TSC)

    /* 8. INVLPG exits with the linear address as qualification. */
    STEP(8)
    mov $L2_INVLPG_ADDR, %eax
    invlpg (%rax)

    /* 9. MOV to DR7 exits. */
    STEP(9)
    mov $L2_DR7_VALUE, %esi
    mov %rsi, %dr7

    /* 10. UD2: #UD is in the exception bitmap; ghv skips 2 bytes. */
    STEP(10)
    ud2

    /* 11. INT3: exits as a software exception; ghv re-injects it and our
     * #BP handler records it. */
    STEP(11)
l2_int3_insn:
    int3

    /* 12. Read from the not-present page: error code 0 does not match the
     * PFEC mask/match (W), so no exit; our own #PF handler records it. */
    STEP(12)
    mov $L2_NP_ADDR, %ebx
l2_read_fault_insn:
    mov (%rbx), %eax

    /* 13. Write to the read-only page: error code W|P matches, exits; ghv
     * sets CR2 and injects the #PF into our handler. */
    STEP(13)
    mov $L2_RO_ADDR, %ebx
l2_write_fault_insn:
    mov %eax, (%rbx)

    /* 14. Ask ghv to inject external interrupt 0x40 on its next VM entry.
     * ghv must set RFLAGS.IF for that (SDM: an injected external interrupt
     * requires IF=1); we clear it again right after. */
    STEP(14)
    mov $L2_CALL_INJECT, %eax
    vmcall
    cli

    /* 15. Done. */
    STEP(15)
    mov $L2_CALL_DONE, %eax
    vmcall
1:  ud2                             /* ghv never resumes us after DONE */
    jmp 1b

l2_neg_entry:
    vmcall
2:  ud2
    jmp 2b

/* ---- L2's interrupt handlers (its IDT: vectors 3, 14 and 0x40) ---- */

l2_bp_handler:                      /* only reached when ghv re-injects #BP */
    incq RES(L2R_BP_COUNT)
    movq $3, RES(L2R_BP_VEC)
    push %rax
    mov 8(%rsp), %rax               /* RIP pushed: the byte after INT3 */
    mov %rax, RES(L2R_BP_RIP)
    pop %rax
    iretq

l2_pf_handler:
    push %rax
    push %rbx
    mov RES(L2R_PF_COUNT), %rbx
    incq RES(L2R_PF_COUNT)
    shl $3, %rbx                    /* slot stride: 3 quadwords (24 bytes) */
    lea (%rbx, %rbx, 2), %rbx
    lea RES(L2R_PF0_CR2), %rax
    add %rax, %rbx                  /* RBX = &pf[n].cr2 */
    mov %cr2, %rax
    mov %rax, 0(%rbx)
    mov 16(%rsp), %rax              /* error code */
    mov %rax, 8(%rbx)
    mov 24(%rsp), %rax              /* faulting RIP */
    mov %rax, 16(%rbx)
    addq $2, 24(%rsp)               /* skip the 2-byte faulting instruction */
    pop %rbx
    pop %rax
    add $8, %rsp                    /* drop the error code */
    iretq

l2_int40_handler:
    incq RES(L2R_INT40_COUNT)
    movq $L2_INT_VECTOR, RES(L2R_INT40_VEC)
    iretq

    .section .bss
    .balign 4096
    .globl ghv_l2_result
ghv_l2_result: .skip 4096

    .section .note.GNU-stack, "", @progbits
