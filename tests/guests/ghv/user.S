/*
 * ghv: run a code snippet at CPL 3 and come back.
 *
 * void ghv_user_call(void (*body)(void), u64 rdi, u64 rsi)
 *   IRETQ to body at CPL 3 (user code/data selectors, ghv_user_stack) with
 *   RDI/RSI set. The way back is any exception or INT 0x80: ghv_trap() sees
 *   ghv_user_active, records vector/error code/RAX in ghv_user_*, and rewrites
 *   its frame to return to label 1 below at CPL 0 on the saved stack.
 */
    .section .text
    .code64
    .globl ghv_user_call
ghv_user_call:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, ghv_user_resume_rsp(%rip)
    lea 1f(%rip), %rax
    mov %rax, ghv_user_resume_rip(%rip)
    movq $1, ghv_user_active(%rip)
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    lea ghv_user_stack_top(%rip), %rcx
    pushq $0x1b                     /* SS: user data, RPL 3 */
    push %rcx                       /* RSP */
    pushq $0x2                      /* RFLAGS: IF=0, IOPL=0 */
    pushq $0x23                     /* CS: user 64-bit code, RPL 3 */
    push %rax                       /* RIP */
    iretq
1:  mov $0x10, %ax                  /* the privilege change nulled DS/ES */
    mov %ax, %ds
    mov %ax, %es
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

    .section .bss
    .balign 16
ghv_user_stack: .skip 4096
ghv_user_stack_top:

    .section .note.GNU-stack, "", @progbits
