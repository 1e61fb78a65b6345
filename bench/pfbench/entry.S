/*
 * pfbench: Multiboot2 header and the 32-bit entry.
 *
 * The loader (GRUB, Nestor or a small guest hypervisor) jumps to _start in
 * flat 32-bit protected mode with paging off, EAX = 0x36d76289 and EBX = the
 * physical address of the Multiboot2 information. Nothing else is assumed:
 * not the GDT, not the stack, not CR0's cache bits. The stub
 *
 *   - clears .bss (the boot page tables and the stack live there),
 *   - checks CPUID for long mode (and says so on COM1 if it is missing),
 *   - identity maps the first 4 GiB with 2 MiB pages (PML4[0] -> PDPT ->
 *     4 page directories; supervisor only, global), so that the MBI can be
 *     read wherever the loader left it; pf_main() trims the map down to the
 *     RAM it will use (at most 1 GiB) once the MBI has been parsed,
 *   - turns on PAE, EFER.LME and paging, loads its own GDT and calls
 *     pf_main(magic, mbi) in 64-bit mode with IF = 0.
 */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386    0

#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_PS  0x080
#define PTE_G   0x100

#define MSR_EFER    0xc0000080
#define EFER_LME    0x100
#define CR0_PE      0x00000001
#define CR0_PG      0x80000000
#define CR4_PAE     0x20

#define COM1        0x3f8
#define EXIT_PORT   0xf4
#define BOCHS_PORT  0x8900
#define STATUS_NO_LONG_MODE 0xe3

/* ---------------------------------------------------------------- header */
    .section .multiboot, "a"
    .balign 8
pf_mb2_header:
    .long MB2_HEADER_MAGIC
    .long MB2_ARCH_I386
    .long pf_mb2_header_end - pf_mb2_header
    .long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (pf_mb2_header_end - pf_mb2_header))
    /* Only the end tag: the ELF program headers say where everything goes. */
    .balign 8
    .short 0
    .short 0
    .long 8
pf_mb2_header_end:

/* ---------------------------------------------------------- 32-bit entry */
    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov %eax, %esi                  /* magic (rep stos needs EAX/ECX/EDI) */
    mov %ebx, %ebp                  /* MBI physical address */

    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx                    /* the linker script keeps .bss 16-aligned */
    xor %eax, %eax
    rep stosl

    mov $pf_stack_top, %esp

    /* Long mode? CPUID 0x80000001 EDX bit 29. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode

    /* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
    mov $pf_boot_pdpt, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, pf_kernel_pml4
    mov $pf_boot_pd, %eax
    or $(PTE_P | PTE_W), %eax
    xor %ecx, %ecx
1:  mov %eax, pf_boot_pdpt(, %ecx, 8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jne 1b

    /* 2048 large pages: physical 0 .. 4 GiB, identity. */
    mov $(PTE_P | PTE_W | PTE_PS | PTE_G), %eax
    xor %ecx, %ecx
2:  mov %eax, pf_boot_pd(, %ecx, 8)
    add $0x200000, %eax
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    mov $pf_kernel_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    and $0x9fffffff, %eax           /* clear CD, NW: a minimal loader may leave caching off */
    or $(CR0_PG | CR0_PE), %eax
    mov %eax, %cr0                  /* IA-32e mode, still in a 32-bit segment */

    lgdt pf_gdtr                    /* 32-bit form: limit + low 4 bytes of base */
    ljmp $0x08, $long_mode

    .code64
long_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    lgdt pf_gdtr                    /* 64-bit form: the full base */
    mov $pf_stack_top, %esp         /* zero-extends into RSP */
    mov %esi, %edi                  /* arg 0: magic (upper halves cleared) */
    mov %ebp, %esi                  /* arg 1: MBI physical address */
    call pf_main
3:  cli
    hlt
    jmp 3b

/*
 * No long mode: say so on COM1 from 32-bit code (the C side cannot run),
 * then end the run with status 0xe3 as pf_exit() would.
 */
    .code32
no_long_mode:
    mov $COM1 + 1, %dx              /* IER: no interrupts */
    xor %al, %al
    outb %al, %dx
    mov $COM1 + 3, %dx              /* LCR: DLAB */
    mov $0x80, %al
    outb %al, %dx
    mov $COM1, %dx                  /* divisor 1: 115200 baud */
    mov $1, %al
    outb %al, %dx
    mov $COM1 + 1, %dx
    xor %al, %al
    outb %al, %dx
    mov $COM1 + 3, %dx              /* 8N1 */
    mov $3, %al
    outb %al, %dx
    mov $msg_no_lm, %esi
4:  movb (%esi), %bl
    test %bl, %bl
    jz 6f
    mov $COM1 + 5, %dx
5:  inb %dx, %al
    test $0x20, %al
    jz 5b
    mov $COM1, %dx
    mov %bl, %al
    outb %al, %dx
    inc %esi
    jmp 4b
6:  mov $COM1 + 5, %dx
7:  inb %dx, %al
    test $0x40, %al
    jz 7b
    mov $EXIT_PORT, %dx
    mov $STATUS_NO_LONG_MODE, %eax
    outl %eax, %dx
    mov $BOCHS_PORT, %dx
    mov $'D', %al
    outb %al, %dx
8:  cli
    hlt
    jmp 8b

    .section .rodata
msg_no_lm:
    .ascii "pfbench: this CPU has no long mode (CPUID 0x80000001 EDX bit 29)\n"
    .ascii "pfbench: done status=0xe3\n"
    .byte 0

/* ------------------------------------------------------------ GDT, data */
    .section .data
    .balign 16
    .globl pf_gdt
pf_gdt:
    .quad 0                         /* 0x00 null */
    .quad 0x00af9a000000ffff        /* 0x08 code, 64-bit, DPL 0 */
    .quad 0x00cf92000000ffff        /* 0x10 data, DPL 0 */
    .quad 0, 0                      /* 0x18 TSS (16 bytes), filled by trap.c */
pf_gdt_end:

    .balign 8
    .word 0, 0, 0                   /* puts the base below on an 8-byte boundary */
    .globl pf_gdtr
pf_gdtr:
    .word pf_gdt_end - pf_gdt - 1
    .quad pf_gdt

/* -------------------------------------------------- page tables, stacks */
    .section .bss
    .balign 4096
    .globl pf_kernel_pml4, pf_boot_pdpt, pf_boot_pd
pf_kernel_pml4: .skip 4096
pf_boot_pdpt:   .skip 4096
pf_boot_pd:     .skip 4 * 4096
    .globl pf_stack_top
pf_stack:       .skip 32768
pf_stack_top:
    .globl pf_ist_stack_top
pf_ist_stack:   .skip 8192
pf_ist_stack_top:

    .section .note.GNU-stack, "", @progbits
