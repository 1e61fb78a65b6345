/*
 * ghv: exception entry stubs for ghv's own IDT (vectors 0-31 and 0x80).
 *
 * Each stub pushes a dummy error code where the CPU pushes none, then the
 * vector, so ghv_trap() always sees a struct ghv_frame. ghv_trap() may edit
 * the frame (RIP/CS/RSP/SS) to resume somewhere else: that is how faulting
 * VMX instructions and the return from ring 3 are recovered.
 */
    .section .text
    .code64

.macro ISR vec, has_err
    .globl ghv_isr_\vec
ghv_isr_\vec:
    .if \has_err == 0
    pushq $0
    .endif
    pushq $\vec
    jmp isr_common
.endm

    ISR 0, 0
    ISR 1, 0
    ISR 2, 0
    ISR 3, 0
    ISR 4, 0
    ISR 5, 0
    ISR 6, 0
    ISR 7, 0
    ISR 8, 1
    ISR 9, 0
    ISR 10, 1
    ISR 11, 1
    ISR 12, 1
    ISR 13, 1
    ISR 14, 1
    ISR 15, 0
    ISR 16, 0
    ISR 17, 1
    ISR 18, 0
    ISR 19, 0
    ISR 20, 0
    ISR 21, 1
    ISR 22, 0
    ISR 23, 0
    ISR 24, 0
    ISR 25, 0
    ISR 26, 0
    ISR 27, 0
    ISR 28, 0
    ISR 29, 1
    ISR 30, 1
    ISR 31, 0
    ISR 128, 0

isr_common:
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
    mov %rsp, %rdi                  /* 22 quadwords pushed in all: RSP stays 16-aligned */
    call ghv_trap
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

    .section .rodata
    .balign 8
    .globl ghv_isr_table
ghv_isr_table:                      /* vectors 0-31, for cpu.c */
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad ghv_isr_\v
    .endr

    .section .note.GNU-stack, "", @progbits
