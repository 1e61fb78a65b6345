/*
 * ghv test=smp: the application processor's way from the SIPI to 64-bit C,
 * and the L2 code both L2 vCPUs run.
 *
 * ghv_smp_tramp_start..end is copied to a page below 1 MiB (smp.c) and
 * entered in real mode at CS:IP = (page >> 4):0. It works out its own page
 * from CS, so it needs no relocation: GDTR base and the far pointer to
 * protected mode are written at run time into the copy. It enables PAE
 * paging on ghv's own identity tables (ghv_pml4, entry.S) and long mode,
 * then jumps into the image at ghv_smp_ap_long64, which takes the stack the
 * BSP left in ghv_smp_ap_rsp and calls ghv_smp_ap_main (never returns).
 */
#define MSR_EFER 0xc0000080

    .section .text
    .code16
    .globl ghv_smp_tramp_start, ghv_smp_tramp_end
ghv_smp_tramp_start:
    cli
    cld
    xor %ebp, %ebp
    mov %cs, %bp
    shl $4, %ebp                            /* EBP = linear address of this page */
    mov %cs, %ax
    mov %ax, %ds
    mov %ebp, %eax
    add $(tramp_gdt - ghv_smp_tramp_start), %eax
    mov %eax, tramp_gdtr - ghv_smp_tramp_start + 2
    mov %ebp, %eax
    add $(tramp_pm32 - ghv_smp_tramp_start), %eax
    mov %eax, tramp_far - ghv_smp_tramp_start
    lgdtl tramp_gdtr - ghv_smp_tramp_start
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl *(tramp_far - ghv_smp_tramp_start)

    .code32
tramp_pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $0x20, %eax                          /* PAE */
    mov %eax, %cr4
    mov $ghv_pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $0x100, %eax                         /* LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax                    /* PG | PE: long mode active */
    mov %eax, %cr0
    ljmp $0x18, $ghv_smp_ap_long64

    .balign 8
tramp_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff                /* 0x08 32-bit code */
    .quad 0x00cf92000000ffff                /* 0x10 data */
    .quad 0x00af9a000000ffff                /* 0x18 64-bit code */
    .word 0
tramp_gdtr:
    .word 4 * 8 - 1
    .long 0                                 /* page + tramp_gdt, written at run time */
    .balign 4
tramp_far:
    .long 0                                 /* page + tramp_pm32, written at run time */
    .word 0x08
ghv_smp_tramp_end:

    .code64
ghv_smp_ap_long64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov ghv_smp_ap_rsp(%rip), %rsp
    call ghv_smp_ap_main
1:  cli
    hlt
    jmp 1b

/*
 * L2 (both vCPUs): three counters, all handed to ghv at every VMCALL. R12
 * lives in ghv's saved GPRs, (%rbx) in the vCPU's memory, and (%rsp) in a
 * stack slot the prologue zeroes once: after a move to another CPU the
 * latter is only right if the VMCS kept RSP and RIP (a VMCS restarted at
 * the entry point, or with RSP back at the top, gives it away).
 * RAX = stack count, RBX = memory counter's address, R12 = register count.
 */
    .globl ghv_smp_l2, ghv_smp_l2_vmcall
ghv_smp_l2:
    sub $8, %rsp
    movq $0, (%rsp)
1:  inc %r12
    incq (%rbx)
    incq (%rsp)
    mov (%rsp), %rax
ghv_smp_l2_vmcall:
    vmcall
    jmp 1b

    .section .note.GNU-stack, "", @progbits
