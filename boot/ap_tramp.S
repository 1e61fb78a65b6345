/*
 * Application-processor start-up code. An AP leaves INIT-SIPI in real mode at
 * CS:IP = (AP_TRAMP_PA >> 4):0 (SDM vol. 3A 8.4.4.1); this blob is copied to
 * AP_TRAMP_PA, so every address in it is AP_TRAMP_PA plus its offset here.
 * It goes real mode -> 32-bit protected mode -> long mode (SDM 9.9.1, 9.8.5)
 * on page tables the BSP prepared (identity for the low 4 GiB plus Nestor's
 * own mappings), then jumps to ap_entry64 on the stack the BSP gave it.
 * The BSP starts one AP at a time, so one parameter block is enough.
 */
#include "nestor/layout.h"

#define ABS(x) (AP_TRAMP_PA + ((x) - ap_tramp_start))

    .section .rodata.ap_tramp, "a"
    .globl ap_tramp_start, ap_tramp_end, ap_tramp_params
    .code16
ap_tramp_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl (tramp_gdtr - ap_tramp_start)
    mov %cr0, %eax
    or $1, %eax                         /* PE */
    mov %eax, %cr0
    ljmpl $0x08, $ABS(pm32)

    .code32
pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $(1 << 5), %eax                  /* PAE */
    mov %eax, %cr4
    mov ABS(p_cr3), %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or ABS(p_efer_or), %eax             /* LME, and NXE where the BSP has it */
    wrmsr
    mov %cr0, %eax
    or $0x80010001, %eax                /* PG, WP, PE */
    and $0x9fffffff, %eax               /* CD and NW are set at INIT */
    mov %eax, %cr0
    ljmp $0x18, $ABS(lm64)

    .code64
lm64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov ABS(p_stack), %rsp
    mov ABS(p_percpu), %rdi
    mov ABS(p_entry), %rax
    xor %ebp, %ebp
    jmp *%rax

    .balign 8
tramp_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff            /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff            /* 0x10: data */
    .quad 0x00af9a000000ffff            /* 0x18: 64-bit code */
tramp_gdt_end:
tramp_gdtr:
    .short tramp_gdt_end - tramp_gdt - 1
    .long ABS(tramp_gdt)

    .balign 8
ap_tramp_params:                        /* struct ap_tramp_params in core/smp.c */
p_cr3:      .long 0
p_efer_or:  .long 0
p_stack:    .quad 0
p_percpu:   .quad 0
p_entry:    .quad 0
ap_tramp_end:
