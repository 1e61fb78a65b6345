/*
 * ghv: VM entry and the host-RIP landing pad.
 *
 * int ghv_vmrun(u64 regs[16], int resume)
 *   Saves ghv's callee-saved registers, points HOST_RSP at its own frame,
 *   loads L2's GPRs from regs[] (SDM numbering, slot 4 unused) and executes
 *   VMLAUNCH (resume == 0) or VMRESUME.
 *   - If the instruction fails it falls through: return 1 (VMfailInvalid)
 *     or 2 (VMfailValid) from the flags.
 *   - Otherwise the next VM exit (or a VM-entry failure, which also loads
 *     host state) lands in ghv_vmexit_stub with RSP = HOST_RSP; the stub
 *     stores L2's GPRs into regs[] and returns 0 from ghv_vmrun.
 * HOST_RSP is rewritten on every entry because the caller's stack depth may
 * differ between calls.
 */
#define VMCS_HOST_RSP 0x6c14

    .section .text
    .code64
    .globl ghv_vmrun
ghv_vmrun:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rdi                       /* regs[]: found again at HOST_RSP */
    mov $VMCS_HOST_RSP, %eax
    vmwrite %rsp, %rax
    jbe 8f                          /* CF or ZF: no usable current VMCS */

    mov %rdi, %rax
    test %esi, %esi                 /* MOVs below leave the flags alone */
    mov 1*8(%rax), %rcx
    mov 2*8(%rax), %rdx
    mov 3*8(%rax), %rbx
    mov 5*8(%rax), %rbp
    mov 6*8(%rax), %rsi
    mov 7*8(%rax), %rdi
    mov 8*8(%rax), %r8
    mov 9*8(%rax), %r9
    mov 10*8(%rax), %r10
    mov 11*8(%rax), %r11
    mov 12*8(%rax), %r12
    mov 13*8(%rax), %r13
    mov 14*8(%rax), %r14
    mov 15*8(%rax), %r15
    mov 0*8(%rax), %rax
    jnz 1f
    vmlaunch
    jmp 8f
1:  vmresume

8:  /* No VM entry happened. */
    pushfq
    pop %rdx
    pop %rdi
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    mov $1, %eax
    test $0x01, %dl                 /* CF: VMfailInvalid */
    jnz 9f
    mov $2, %eax
    test $0x40, %dl                 /* ZF: VMfailValid */
    jnz 9f
    mov $3, %eax                    /* neither: cannot happen per the SDM */
9:  ret

    .globl ghv_vmexit_stub
ghv_vmexit_stub:
    push %rax
    mov 8(%rsp), %rax               /* regs[] pushed by ghv_vmrun */
    mov %rcx, 1*8(%rax)
    mov %rdx, 2*8(%rax)
    mov %rbx, 3*8(%rax)
    mov %rbp, 5*8(%rax)
    mov %rsi, 6*8(%rax)
    mov %rdi, 7*8(%rax)
    mov %r8, 8*8(%rax)
    mov %r9, 9*8(%rax)
    mov %r10, 10*8(%rax)
    mov %r11, 11*8(%rax)
    mov %r12, 12*8(%rax)
    mov %r13, 13*8(%rax)
    mov %r14, 14*8(%rax)
    mov %r15, 15*8(%rax)
    pop %rcx                        /* L2's RAX */
    mov %rcx, 0*8(%rax)
    pop %rdi
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    xor %eax, %eax
    ret

    .section .note.GNU-stack, "", @progbits
