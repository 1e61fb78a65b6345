/*
 * l1test: interrupt entry stubs.
 *
 * One fixed-size stub per vector so idt.c can compute stub addresses as
 * base + vector * 16 instead of needing a table of labels. Each stub makes
 * the stack look the same (dummy error code where the CPU pushes none) so
 * l1_trap sees a uniform struct l1_frame.
 */
    .section .text
    .code32

    .balign 16
    .globl l1_isr_stubs
l1_isr_stubs:
    .set vec, 0
    .rept 48
    .balign 16
    .if !((vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30))
    pushl $0
    .endif
    pushl $vec
    jmp l1_isr_common
    .set vec, vec + 1
    .endr

l1_isr_common:
    pusha
    cld                         /* C code assumes DF=0 */
    mov %esp, %eax
    push %eax
    call l1_trap
    add $4, %esp
    popa
    add $8, %esp                /* drop vector and error code */
    iret

    .section .note.GNU-stack, "", @progbits
