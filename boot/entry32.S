/*
 * 32-bit entry from GRUB (Multiboot2 spec 3.3: protected mode, paging off,
 * EAX = magic, EBX = physical address of the boot information).
 * Builds the boot page tables, enters long mode (SDM vol. 3A 9.8.5) and calls
 * nestor_main(magic, mbi) on the high-half stack. C finishes the page tables.
 */
#include "nestor/layout.h"

#define PHYS(x) ((x) - KERNEL_VMA)
#define COM1 0x3f8

    .section .boot.text, "ax"
    .code32
    .globl _start32
_start32:
    cli
    cld
    mov %eax, %edi              /* multiboot magic: checked in C */
    mov %ebx, %esi              /* boot information address */

    /* GRUB zeroes .bss, but page tables must be clean whoever loaded us. */
    mov $PHYS(__bss_start), %edx
    mov $PHYS(__bss_end), %ecx
    sub %edx, %ecx
    xor %eax, %eax
    push %edi
    mov %edx, %edi
    rep stosb
    pop %edi

    mov $PHYS(boot_stack_top), %esp

    /* Long mode (CPUID.80000001H:EDX.LM[29]) is the one thing we cannot explain from C. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    test $(1 << 29), %edx
    jz no_long_mode
    mov %edx, %ebp              /* keep NX (bit 20) for EFER below */

    /* Four page directories of 2 MiB pages: identity map of 0-4 GiB. */
    mov $PHYS(boot_pd), %ebx
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax              /* present, writable, 2 MiB page */
    mov %eax, (%ebx, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jb 1b

    mov $PHYS(boot_pdpt_low), %edx
    lea 3(%ebx), %eax
    mov %eax, 0(%edx)
    add $4096, %eax
    mov %eax, 8(%edx)
    add $4096, %eax
    mov %eax, 16(%edx)
    add $4096, %eax
    mov %eax, 24(%edx)

    /* -2 GiB maps the first GiB: that is where the image is linked. */
    mov $PHYS(boot_pdpt_high), %edx
    lea 3(%ebx), %eax
    mov %eax, (510 * 8)(%edx)

    /* PML4: identity (for this transition only), direct map, high half. */
    mov $PHYS(boot_pml4), %edx
    mov $PHYS(boot_pdpt_low), %eax
    or $3, %eax
    mov %eax, 0(%edx)
    mov %eax, (256 * 8)(%edx)
    mov $PHYS(boot_pdpt_high), %eax
    or $3, %eax
    mov %eax, (511 * 8)(%edx)
    mov %edx, %cr3

    mov %cr4, %eax
    or $(1 << 5), %eax          /* PAE */
    mov %eax, %cr4

    mov $0xc0000080, %ecx
    rdmsr
    or $(1 << 8), %eax          /* LME */
    test $(1 << 20), %ebp
    jz 2f
    or $(1 << 11), %eax         /* NXE */
2:  wrmsr

    mov %cr0, %eax
    or $0x80010001, %eax        /* PG, WP, PE */
    and $0x9fffffff, %eax       /* firmware may leave caching off (CD, NW set at reset) */
    mov %eax, %cr0

    lgdt PHYS(boot_gdtr)
    ljmp $0x08, $PHYS(start64_low)

no_long_mode:
    mov $PHYS(msg_no_lm), %ebx
3:  movb (%ebx), %al
    test %al, %al
    jz 5f
    mov %al, %cl
    mov $(COM1 + 5), %dx
4:  inb %dx, %al
    test $0x20, %al
    jz 4b
    mov $COM1, %dx
    mov %cl, %al
    outb %al, %dx
    outb %al, $0xe9
    inc %ebx
    jmp 3b
5:  cli
    hlt
    jmp 5b

    .code64
start64_low:
    movabs $start64_high, %rax
    jmp *%rax

    .text
start64_high:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    mov %edi, %edi              /* zero-extend magic and boot info address */
    mov %esi, %esi
    call nestor_main
6:  cli
    hlt
    jmp 6b

    .section .rodata
msg_no_lm:
    .asciz "nestor: error: this CPU has no 64-bit long mode (CPUID.80000001H:EDX.LM = 0); Nestor needs x86-64\r\n"

    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdt_end:
boot_gdtr:
    .short boot_gdt_end - boot_gdt - 1
    .long PHYS(boot_gdt)

    .section .bss
    .balign 4096
    .globl boot_pml4, boot_pdpt_low, boot_pdpt_high, boot_pd
boot_pml4: .skip 4096
boot_pdpt_low: .skip 4096
boot_pdpt_high: .skip 4096
boot_pd: .skip 4 * 4096
    .globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
    .skip BOOT_STACK_SIZE
boot_stack_top:
