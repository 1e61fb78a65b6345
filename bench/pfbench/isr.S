/*
 * pfbench: exception entry stubs (vectors 0-31).
 *
 * Every stub leaves the same frame for pf_trap(): a dummy error code is
 * pushed where the CPU pushes none, then the vector number, then the
 * general-purpose registers (struct pf_frame in pfbench.h). The #PF path
 * is the benchmark's hot path; it saves every register like a real kernel's
 * exception entry would.
 */
    .section .text
    .code64

.macro PF_STUB vec, cpu_pushes_error
    .balign 16
pf_stub_\vec:
    .if \cpu_pushes_error == 0
    pushq $0
    .endif
    pushq $\vec
    jmp pf_trap_common
.endm

    PF_STUB 0, 0
    PF_STUB 1, 0
    PF_STUB 2, 0
    PF_STUB 3, 0
    PF_STUB 4, 0
    PF_STUB 5, 0
    PF_STUB 6, 0
    PF_STUB 7, 0
    PF_STUB 8, 1
    PF_STUB 9, 0
    PF_STUB 10, 1
    PF_STUB 11, 1
    PF_STUB 12, 1
    PF_STUB 13, 1
    PF_STUB 14, 1
    PF_STUB 15, 0
    PF_STUB 16, 0
    PF_STUB 17, 1
    PF_STUB 18, 0
    PF_STUB 19, 0
    PF_STUB 20, 0
    PF_STUB 21, 1
    PF_STUB 22, 0
    PF_STUB 23, 0
    PF_STUB 24, 0
    PF_STUB 25, 0
    PF_STUB 26, 0
    PF_STUB 27, 0
    PF_STUB 28, 0
    PF_STUB 29, 1
    PF_STUB 30, 1
    PF_STUB 31, 0

    .balign 16
pf_trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi                  /* RSP is 16-aligned here: 22 quadwords pushed */
    call pf_trap
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                   /* vector and error code */
    iretq

/* The stubs' addresses, indexed by vector, for trap.c's IDT setup. */
    .section .rodata
    .balign 8
    .globl pf_stub_table
pf_stub_table:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad pf_stub_\v
    .endr

    .section .note.GNU-stack, "", @progbits
