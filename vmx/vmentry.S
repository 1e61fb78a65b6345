/*
 * VM entry and VM exit (SDM vol. 3C 26 and 27). vmx_enter() saves Nestor's
 * callee-saved registers, points HOST_RSP at them, loads L1's registers and
 * enters. A VM exit lands at vmx_exit_entry (HOST_RIP) with RSP = HOST_RSP,
 * stores L1's registers and returns 0 from vmx_enter(). If VMLAUNCH/VMRESUME
 * itself fails, vmx_enter() returns 1 (VMfailInvalid) or 2 (VMfailValid).
 */
#define REG(n) (8 * (n))
#define REG_CR2 128
#define REG_ENTRY_TSC 136
#define REG_EXIT_TSC 144
#define VMCS_HOST_RSP 0x6c14

    .text
    .globl vmx_enter
/* int vmx_enter(struct guest_regs *regs, int launched) */
vmx_enter:
    push %rbp
    mov %rsp, %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rdi                    /* regs, found again at (%rsp) after the exit */

    mov $VMCS_HOST_RSP, %rax
    vmwrite %rsp, %rax

    mov REG_CR2(%rdi), %rax
    mov %rax, %cr2
    /* Nestor's time ends here (vmx/level_stats.c): RAX and RDX are loaded below. */
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, REG_ENTRY_TSC(%rdi)

    /* Decide launch vs resume before the flags are needed no more: movs keep them. */
    test %esi, %esi
    mov REG(0)(%rdi), %rax
    mov REG(1)(%rdi), %rcx
    mov REG(2)(%rdi), %rdx
    mov REG(3)(%rdi), %rbx
    mov REG(5)(%rdi), %rbp
    mov REG(6)(%rdi), %rsi
    mov REG(8)(%rdi), %r8
    mov REG(9)(%rdi), %r9
    mov REG(10)(%rdi), %r10
    mov REG(11)(%rdi), %r11
    mov REG(12)(%rdi), %r12
    mov REG(13)(%rdi), %r13
    mov REG(14)(%rdi), %r14
    mov REG(15)(%rdi), %r15
    mov REG(7)(%rdi), %rdi
    jnz 1f
    vmlaunch
    jmp 2f
1:  vmresume
2:  /* Only reached when the entry failed: CF = VMfailInvalid, ZF = VMfailValid. */
    mov $1, %eax
    jc 3f
    mov $2, %eax
3:  pop %rdi
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

    .globl vmx_exit_entry
vmx_exit_entry:
    push %rdi                    /* L1's rdi; regs pointer is now at 8(%rsp) */
    mov 8(%rsp), %rdi
    mov %rax, REG(0)(%rdi)
    mov %rcx, REG(1)(%rdi)
    mov %rdx, REG(2)(%rdi)
    mov %rbx, REG(3)(%rdi)
    mov %rbp, REG(5)(%rdi)
    mov %rsi, REG(6)(%rdi)
    mov %r8, REG(8)(%rdi)
    mov %r9, REG(9)(%rdi)
    mov %r10, REG(10)(%rdi)
    mov %r11, REG(11)(%rdi)
    mov %r12, REG(12)(%rdi)
    mov %r13, REG(13)(%rdi)
    mov %r14, REG(14)(%rdi)
    mov %r15, REG(15)(%rdi)
    rdtsc                        /* the guest's time ends here; RAX and RDX are saved above */
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, REG_EXIT_TSC(%rdi)
    pop %rax
    mov %rax, REG(7)(%rdi)
    mov %cr2, %rax
    mov %rax, REG_CR2(%rdi)
    xor %eax, %eax
    jmp 3b
