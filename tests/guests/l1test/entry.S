/*
 * l1test: 32-bit entry point shared by the multiboot v1 and v2 variants.
 *
 * Both protocols enter here in flat 32-bit protected mode with paging off,
 * EAX = magic and EBX = boot info address. The loader's GDT may live in
 * memory we are not allowed to trust, so we load our own before any
 * segment register is reloaded (the IDT and long-mode code rely on our
 * selectors anyway).
 */
#define STACK_SIZE 16384

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    lgdt l1_gdt_desc
    ljmp $0x08, $1f
1:  mov $0x10, %cx
    mov %cx, %ds
    mov %cx, %es
    mov %cx, %fs
    mov %cx, %gs
    mov %cx, %ss
    mov $l1_stack_top, %esp

    /*
     * Zero .bss ourselves: loaders are supposed to, but a hypervisor's own
     * ELF loader is exactly what this kernel is meant to test. EAX is
     * needed by stos, so park the magic in EBP; EBX survives untouched.
     */
    mov %eax, %ebp
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    sub $8, %esp                /* keep the call site 16-byte aligned */
    push %ebx
    push %ebp
    call l1_main
2:  cli
    hlt
    jmp 2b

    .section .data
    .balign 8
    .globl l1_gdt
l1_gdt:
    .quad 0                     /* null */
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code, flat 4 GiB */
    .quad 0x00cf92000000ffff    /* 0x10: data, flat 4 GiB */
    .quad 0x00af9a000000ffff    /* 0x18: 64-bit code (L=1) for the "cr" test */
l1_gdt_end:

    .balign 4
    .word 0                     /* pads so the 6-byte descriptor's base is aligned */
l1_gdt_desc:
    .word l1_gdt_end - l1_gdt - 1
    .long l1_gdt

    .section .bss
    .balign 16
l1_stack:
    .skip STACK_SIZE
l1_stack_top:

    .section .note.GNU-stack, "", @progbits
