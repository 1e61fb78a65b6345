/*
 * l1test: a trip to ring 3 for the #AC probe (tests_hostile.c). Alignment
 * checks exist only at CPL 3. l1_ring3_ac_run(addr) enters ring 3 with
 * EFLAGS.AC set, loads a dword from addr, then executes HLT, whose #GP the
 * probe's exception hook turns into a return to l1_ring3_return in ring 0.
 * Selectors: 0x23 ring-3 code, 0x2b ring-3 data (the probe's own GDT).
 */
    .section .text
    .code32

    .globl l1_ring3_ac_run
l1_ring3_ac_run:
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov 20(%esp), %ebx
    mov %esp, ring0_esp
    mov $0x2b, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    push $0x2b                  /* SS */
    push $ring3_stack_top       /* ESP */
    pushf
    orl $0x40000, (%esp)        /* EFLAGS.AC */
    andl $~0x200, (%esp)        /* no interrupts in ring 3 */
    push $0x23                  /* CS */
    push $ring3_code
    iret

    .globl l1_ring3_ac_insn
ring3_code:
l1_ring3_ac_insn:
    movl (%ebx), %eax           /* 8b 03: misaligned, #AC */
    hlt                         /* #GP at CPL 3: back to ring 0 */

    .globl l1_ring3_return
l1_ring3_return:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    mov ring0_esp, %esp
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret

    .section .bss
    .balign 4
ring0_esp:
    .skip 4
    .balign 16
ring3_stack:
    .skip 1024
ring3_stack_top:

    .section .note.GNU-stack, "", @progbits
