/*
 * l1test: switch to 64-bit long mode and finish the "cr" test from there.
 *
 * The image is linked as ELF32, so no compiled 64-bit C can be linked in;
 * the little that must run in 64-bit mode (print three registers, report
 * the status, hit the exit port) is written by hand here. Data is only
 * reached RIP-relative, which the assembler can express as R_386_PC32.
 *
 * void l1_enter_long_mode(uint32_t pml4_phys, uint32_t status)  -- noreturn
 */
#define EFER       0xc0000080
#define EFER_LME   (1 << 8)
#define CR4_PAE    (1 << 5)
#define CR0_PG     0x80000000
#define COM1       0x3f8
#define COM1_LSR   0x3fd
#define EXIT_PORT  0xf4

    .section .text
    .code32
    .globl l1_enter_long_mode
l1_enter_long_mode:
    cli
    mov 4(%esp), %eax
    mov 8(%esp), %ebx           /* status rides in EBX across the switch */
    mov %eax, %cr3

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4

    mov $EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr

    mov %cr0, %eax
    or $CR0_PG, %eax
    mov %eax, %cr0              /* now IA-32e compatibility mode */

    ljmp $0x18, $lm_entry       /* 0x18 = 64-bit code selector in entry.S GDT */

    .code64
lm_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    /* Upper register halves are undefined after the switch; 32-bit moves zero them. */
    mov %esp, %esp
    and $-16, %rsp
    mov %ebx, %r15d

    lea msg_ok(%rip), %rsi
    call lm_puts
    mov %cr0, %rax
    call lm_hex
    lea msg_cr4(%rip), %rsi
    call lm_puts
    mov %cr4, %rax
    call lm_hex
    lea msg_efer(%rip), %rsi
    call lm_puts
    mov $EFER, %ecx
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    call lm_hex
    mov $'\n', %edi
    call lm_putc

    lea msg_done(%rip), %rsi
    call lm_puts
    mov %r15, %rax
    call lm_hex
    mov $'\n', %edi
    call lm_putc

    mov %r15d, %eax
    mov $EXIT_PORT, %dx
    out %eax, %dx
1:  cli
    hlt
    jmp 1b

/* lm_putc: byte in %dil. Clobbers rax, rdx. */
lm_putc:
    mov $COM1_LSR, %dx
1:  in %dx, %al
    test $0x20, %al
    jz 1b
    mov $COM1, %dx
    mov %dil, %al
    out %al, %dx
    ret

/* lm_puts: NUL-terminated string at %rsi. Clobbers rax, rdx, rdi, rsi. */
lm_puts:
1:  movzbl (%rsi), %edi
    test %edi, %edi
    jz 2f
    call lm_putc
    inc %rsi
    jmp 1b
2:  ret

/* lm_hex: %rax as unpadded lowercase hex. Clobbers rax, rcx, rdx, rdi, r8-r11. */
lm_hex:
    mov %rax, %r9
    mov $60, %ecx
    xor %r10d, %r10d            /* becomes 1 once a digit has been printed */
1:  mov %r9, %rax
    shr %cl, %rax
    and $0xf, %eax
    jnz 2f
    test %r10d, %r10d
    jnz 2f
    test %ecx, %ecx             /* always print the last digit, so 0 -> "0" */
    jnz 3f
2:  mov $1, %r10d
    lea hex_digits(%rip), %r11
    movzbl (%r11,%rax), %edi
    call lm_putc
3:  sub $4, %ecx
    jns 1b
    ret

    .section .rodata
hex_digits: .ascii "0123456789abcdef"
msg_ok:     .asciz "l1test: long mode ok cr0=0x"
msg_cr4:    .asciz " cr4=0x"
msg_efer:   .asciz " efer=0x"
msg_done:   .asciz "l1test: done status=0x"

    .section .note.GNU-stack, "", @progbits
