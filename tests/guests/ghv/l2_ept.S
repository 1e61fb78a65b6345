/*
 * ghv: L2 code of the nested-EPT tests (ept.h), and ghv's INVEPT wrapper.
 *
 * The 64-bit pieces run from L2's copy of ghv's image, at their link
 * addresses in L2's guest-physical space (identity-mapped by L2's own page
 * tables), so every label is the RIP ghv expects in the exit lines. Results
 * go to the result page at E_GPA_RES, addressed absolutely (it is below
 * 2 GiB). l2_ug_stub is position-independent 16-bit/32-bit code that ghv
 * copies to GPA UG_GPA for the ept-ug test.
 */
#include "ept.h"

#define RES(off) (E_GPA_RES + (off))

    .section .text
    .code64
    .globl l2_ept_entry, l2_ept_ro_write, l2_ept_np_read, l2_ept_xo_read, l2_ept_wo_read
    .globl l2_ept_call1, l2_ept_call2, l2_ept_int3, l2_ept_done, l2_ept_bp_handler
    .globl l2_eh_entry, l2_eh_self_read, l2_eh_self_next, l2_eh_mc_read, l2_eh_done
    .globl l2_eo_entry, l2_eo_read, l2_eo_done
    .globl l2_ug_stub, l2_ug_cpuid, l2_ug_out, l2_ug_vmcall, l2_ug_stub_end
    .globl ghv_e_invept

/* ---- test=ept ---- */
l2_ept_entry:
    /* a. reads through the 2 MiB leaf, the 1 GiB leaf and the remapped 4 KiB pages */
    mov $E_GPA_MARK2M, %eax
    mov (%rax), %rbx
    mov %rbx, RES(ER_2M)
    mov RES(ER_IN_1G_ADDR), %rax
    test %rax, %rax
    jz 1f
    mov (%rax), %rbx
    mov %rbx, RES(ER_1G)
1:  mov $E_GPA_4KA, %eax
    mov (%rax), %rbx
    mov %rbx, RES(ER_4KA)
    mov $E_GPA_4KB, %eax
    mov (%rax), %rbx
    mov %rbx, RES(ER_4KB)

    /* b. write to the read-only page: violation; ghv makes it RW without INVEPT */
    mov $E_GPA_RO, %eax
    movabs $EV_RW, %rbx
l2_ept_ro_write:
    mov %rbx, (%rax)
    mov (%rax), %rbx
    mov %rbx, RES(ER_RO)

    /* c. read of the not-present page: violation; ghv maps it without INVEPT */
    mov $E_GPA_NP, %eax
l2_ept_np_read:
    mov (%rax), %rbx
    mov %rbx, RES(ER_NP)

    /* d. call the RET in the execute-only page (no exit), then read it (violation) */
    cmpq $0, RES(ER_IN_XO)
    je 2f
    mov $E_GPA_XO, %eax
    call *%rax
    incq RES(ER_XO_CALLED)
l2_ept_xo_read:
    movzbl (%rax), %ebx
    mov %rbx, RES(ER_XO_BYTE)

    /* e. read of the write-only (misconfigured) page: exit 49; ghv fixes it */
2:  mov $E_GPA_WO, %eax
l2_ept_wo_read:
    mov (%rax), %rbx
    mov %rbx, RES(ER_WO)

    /* f. P read (A), remap + INVEPT single (B), remap + INVEPT all (C) */
    mov $E_GPA_P, %ecx
    mov (%rcx), %rbx
    mov %rbx, RES(ER_PA)
    mov $E_CALL_REMAP1, %eax
l2_ept_call1:
    vmcall
    mov (%rcx), %rbx
    mov %rbx, RES(ER_PB)
    mov $E_CALL_REMAP2, %eax
l2_ept_call2:
    vmcall
    mov (%rcx), %rbx
    mov %rbx, RES(ER_PC)

    /* g. INT3 with L2's IDT on a not-present page: violation during delivery */
l2_ept_int3:
    int3
    /* h. */
    mov $E_CALL_DONE, %eax
l2_ept_done:
    vmcall
3:  ud2
    jmp 3b

/* L2's #BP handler: count, and the RIP the event was delivered with. */
l2_ept_bp_handler:
    push %rax
    incq RES(ER_BP_COUNT)
    mov 8(%rsp), %rax
    mov %rax, RES(ER_BP_RIP)
    pop %rax
    iretq

/* ---- test=ept-hostile: the self-referencing walk, the reserved-bit PDE ---- */
l2_eh_entry:
    cmpq $0, RES(ER_IN_SELF)
    je 1f
    movabs $(E_GPA_SELF + 8), %rax
l2_eh_self_read:
    mov (%rax), %rbx
l2_eh_self_next:
    mov %rbx, RES(ER_SELF)
1:  mov $E_GPA_SPECIAL, %eax
l2_eh_mc_read:
    mov (%rax), %rbx
    mov %rbx, RES(ER_MC)
    mov $E_CALL_DONE, %eax
l2_eh_done:
    vmcall
2:  ud2
    jmp 2b

/* ---- test=ept-outside: one read through a leaf beyond ghv's RAM ---- */
l2_eo_entry:
    mov $E_GPA_SPECIAL, %eax
l2_eo_read:
    mov (%rax), %rbx
    mov %rbx, RES(ER_OUT)
    mov $E_CALL_DONE, %eax
l2_eo_done:
    vmcall
3:  ud2
    jmp 3b

/* ---- test=ept-ug: real mode (CS = DS = SS = UG_SEL, base UG_GPA), then
 * 32-bit protected mode. Copied to UG_GPA; only offsets from l2_ug_stub
 * and UG_GPA-based absolute addresses are used. ---- */
    .code16
l2_ug_stub:
    xor %eax, %eax
    xor %ecx, %ecx
l2_ug_cpuid:
    cpuid
    mov %eax, UG_RES + UG_R_EAX
    mov %ebx, UG_RES + UG_R_EBX
    mov $0x5a, %al
l2_ug_out:
    outb %al, $0x80
    mov %cr0, %eax
    mov %eax, UG_RES + UG_R_CR0RM
    cli
    lgdtl ug_gdtr - l2_ug_stub
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $(UG_GPA + ug_pm - l2_ug_stub)
    .code32
ug_pm:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov %cr0, %eax
    mov %eax, UG_GPA + UG_RES + UG_R_CR0PM
    mov $E_CALL_DONE, %eax
l2_ug_vmcall:
    vmcall
1:  ud2
    jmp 1b
    .balign 8
ug_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff        /* 0x08: 32-bit code, accessed */
    .quad 0x00cf93000000ffff        /* 0x10: data, accessed */
ug_gdtr:
    .word 3 * 8 - 1
    .long UG_GPA + ug_gdt - l2_ug_stub
l2_ug_stub_end:
    .code64

/* ---- ghv side: int ghv_e_invept(u64 type, const u64 desc[2])
 * VMX_OK / VMX_FAIL_INVALID / VMX_FAIL_VALID from the flags, or VMX_FAULTED
 * (3) if INVEPT faulted (ghv_trap recorded ghv_fault_vec and resumed at 9). */
ghv_e_invept:
    lea 9f(%rip), %rax
    mov %rax, ghv_fault_resume(%rip)
    invept (%rsi), %rdi
    pushfq
    pop %rdx
    movq $0, ghv_fault_resume(%rip)
    xor %eax, %eax
    test $0x01, %dl                 /* CF: VMfailInvalid */
    jz 1f
    mov $1, %eax
    ret
1:  test $0x40, %dl                 /* ZF: VMfailValid */
    jz 2f
    mov $2, %eax
2:  ret
9:  movq $0, ghv_fault_resume(%rip)
    mov $3, %eax
    ret

    .section .note.GNU-stack, "", @progbits
