/*
 * ghv: 32-bit entry from the Multiboot2 loader, switch to long mode.
 *
 * The loader enters in flat 32-bit protected mode, paging off, EAX = magic,
 * EBX = MBI2 physical address. We zero .bss (page tables live there), build
 * identity page tables for the first 4 GiB with 2 MiB pages, turn on long
 * mode and call ghv_main(magic, mbi) in 64-bit C.
 *
 * Every mapping is user-accessible (U=1) so the CPL 3 tests can run ghv's own
 * code and stack at ring 3; ghv never sets CR4.SMEP/SMAP, so ring 0 is not
 * hindered by that.
 */
#define PTE_P   0x1
#define PTE_W   0x2
#define PTE_U   0x4
#define PTE_PS  0x80
#define MSR_EFER 0xc0000080

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov %eax, %esi                  /* magic: rep stosb below needs EAX */
    mov %ebx, %ebp                  /* MBI2 address */

    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    mov $ghv_boot_stack_top, %esp

    /* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
    mov $ghv_pdpt, %eax
    or $(PTE_P | PTE_W | PTE_U), %eax
    mov %eax, ghv_pml4
    mov $ghv_pd, %eax
    or $(PTE_P | PTE_W | PTE_U), %eax
    xor %ecx, %ecx
1:  mov %eax, ghv_pdpt(, %ecx, 8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jne 1b

    /* 2048 PDEs of 2 MiB each: 4 GiB identity. */
    mov $(PTE_P | PTE_W | PTE_U | PTE_PS), %eax
    xor %ecx, %ecx
2:  mov %eax, ghv_pd(, %ecx, 8)
    add $0x200000, %eax
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    mov $ghv_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax                  /* PAE */
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $0x100, %eax                 /* LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax            /* PG | PE: long mode becomes active */
    mov %eax, %cr0

    lgdt ghv_gdtr                   /* 32-bit LGDT reads limit + low 4 bytes of base */
    ljmp $0x08, $long64

    .code64
long64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    lgdt ghv_gdtr                   /* again, now with the full 64-bit base */
    mov $ghv_stack_top, %rsp
    mov %esi, %edi                  /* upper halves are undefined after the mode switch */
    mov %ebp, %esi
    call ghv_main
3:  cli
    hlt
    jmp 3b

    .section .data
    .balign 16
    .globl ghv_gdtr
    .word 0, 0, 0                   /* aligns the base below to 8 */
ghv_gdtr:
    .word 8 * 8 - 1                 /* ghv_gdt has 8 slots (cpu.c) */
    .quad ghv_gdt

    .section .bss
    .balign 4096
    .globl ghv_pml4, ghv_pdpt, ghv_pd
ghv_pml4:   .skip 4096
ghv_pdpt:   .skip 4096
ghv_pd:     .skip 4 * 4096
    .balign 16
ghv_boot_stack: .skip 1024
ghv_boot_stack_top:
    .balign 16
    .globl ghv_stack_top
ghv_stack:  .skip 32768
ghv_stack_top:

    .section .note.GNU-stack, "", @progbits
