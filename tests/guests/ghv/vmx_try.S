/*
 * ghv: VMX instructions that are expected to misbehave (negative tests).
 *
 * Ring-0 wrappers, ghv_try_*: arm ghv_fault_resume, execute the instruction,
 * and return 0 VMsucceed / 1 VMfailInvalid / 2 VMfailValid from the flags,
 * or 3 if it faulted (ghv_trap() then recorded ghv_fault_vec/err and resumed
 * at the local label 9, with the stack as it was at the instruction).
 *
 * Ring-3 bodies, ghv_u_*: run by ghv_user_call() (user.S) at CPL 3 with
 * RDI/RSI as arguments. If the instruction does not fault they hand the
 * flags back in RAX through INT 0x80 (a DPL 3 gate into ring 0).
 */
    .section .text
    .code64

.macro TRY name
    .globl \name
\name:
    lea 9f(%rip), %rax
    mov %rax, ghv_fault_resume(%rip)
.endm

.macro TRY_END
    pushfq
    pop %rdx
    movq $0, ghv_fault_resume(%rip)
    xor %eax, %eax
    test $0x01, %dl                 /* CF */
    jz 1f
    mov $1, %eax
    ret
1:  test $0x40, %dl                 /* ZF */
    jz 2f
    mov $2, %eax
2:  ret
9:  movq $0, ghv_fault_resume(%rip)
    mov $3, %eax
    ret
.endm

/* int ghv_try_vmxon(const u64 *pa), likewise vmclear / vmptrld */
    TRY ghv_try_vmxon
    vmxon (%rdi)
    TRY_END

    TRY ghv_try_vmclear
    vmclear (%rdi)
    TRY_END

    TRY ghv_try_vmptrld
    vmptrld (%rdi)
    TRY_END

/* int ghv_try_vmptrst(u64 *out) */
    TRY ghv_try_vmptrst
    vmptrst (%rdi)
    TRY_END

/* int ghv_try_vmread(u64 field, u64 *out) */
    TRY ghv_try_vmread
    vmread %rdi, (%rsi)
    TRY_END

/* int ghv_try_vmwrite(u64 field, u64 value) */
    TRY ghv_try_vmwrite
    vmwrite %rsi, %rdi
    TRY_END

    TRY ghv_try_vmlaunch
    vmlaunch
    TRY_END

    TRY ghv_try_vmresume
    vmresume
    TRY_END

    TRY ghv_try_vmxoff
    vmxoff
    TRY_END

/* int ghv_try_invvpid(u64 type, const void *descriptor) */
    TRY ghv_try_invvpid
    invvpid (%rsi), %rdi
    TRY_END

/* ---- CPL 3 bodies ---- */
    .globl ghv_u_vmxon, ghv_u_vmxoff, ghv_u_vmclear, ghv_u_vmptrld, ghv_u_vmptrst
    .globl ghv_u_vmread, ghv_u_vmwrite, ghv_u_vmlaunch, ghv_u_vmresume, ghv_u_invvpid
ghv_u_vmxon:
    vmxon (%rdi)
    jmp u_done
ghv_u_vmxoff:
    vmxoff
    jmp u_done
ghv_u_vmclear:
    vmclear (%rdi)
    jmp u_done
ghv_u_vmptrld:
    vmptrld (%rdi)
    jmp u_done
ghv_u_vmptrst:
    vmptrst (%rdi)
    jmp u_done
ghv_u_vmread:
    vmread %rdi, %rcx
    jmp u_done
ghv_u_vmwrite:
    vmwrite %rsi, %rdi
    jmp u_done
ghv_u_vmlaunch:
    vmlaunch
    jmp u_done
ghv_u_vmresume:
    vmresume
    jmp u_done
ghv_u_invvpid:
    invvpid (%rsi), %rdi
u_done:
    pushfq
    pop %rax
    int $0x80
    ud2                             /* not reached: ghv_trap() redirects to ring 0 */

    .section .note.GNU-stack, "", @progbits
