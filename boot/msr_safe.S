/*
 * RDMSR/WRMSR/XSETBV that survive a #GP: for operands chosen by L1 (VM-entry and
 * VM-exit MSR areas, XCR0). The #GP handler looks the faulting RIP up in
 * msr_fixup_table and resumes at the fixup, which returns -1.
 */
    .text
    .globl rdmsr_safe
/* int rdmsr_safe(uint32_t msr, uint64_t *value): 0 or -1 */
rdmsr_safe:
    mov %edi, %ecx
rdmsr_insn:
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, (%rsi)
    xor %eax, %eax
    ret
rdmsr_fixup:
    mov $-1, %eax
    ret

    .globl wrmsr_safe
/* int wrmsr_safe(uint32_t msr, uint64_t value): 0 or -1 */
wrmsr_safe:
    mov %edi, %ecx
    mov %rsi, %rax
    mov %rsi, %rdx
    shr $32, %rdx
wrmsr_insn:
    wrmsr
    xor %eax, %eax
    ret
wrmsr_fixup:
    mov $-1, %eax
    ret

    .globl xsetbv_safe
/* int xsetbv_safe(uint32_t xcr, uint64_t value): 0 or -1 */
xsetbv_safe:
    mov %edi, %ecx
    mov %rsi, %rax
    mov %rsi, %rdx
    shr $32, %rdx
xsetbv_insn:
    xsetbv
    xor %eax, %eax
    ret
xsetbv_fixup:
    mov $-1, %eax
    ret

    .section .rodata
    .balign 8
    .globl msr_fixup_table, msr_fixup_count
msr_fixup_table:
    .quad rdmsr_insn, rdmsr_fixup
    .quad wrmsr_insn, wrmsr_fixup
    .quad xsetbv_insn, xsetbv_fixup
msr_fixup_count:
    .quad 3
