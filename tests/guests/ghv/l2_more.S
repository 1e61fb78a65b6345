/*
 * ghv: L2 code of the extended tests, plus ghv's own IRQ0 handler.
 *
 * 64-bit pieces run on basic's L2 machine (l2_env.c); l2_pae_entry is
 * 32-bit protected-mode code for the PAE test. Results go to ghv_x_result
 * (layout in l2_more.h).
 */
#include "l2_more.h"

#define XRES(off) (ghv_x_result + off)(%rip)
#define XABS(off) (ghv_x_result + off)

    .section .text
    .code64
    .globl l2_ev_spin, l2_ev_call, l2_ev_gp_handler, ghv_x_irq0
    .globl l2_l0_entry, l2_l0_vmcall, l2_msr_entry, l2_msr_vmcall, l2_pae_entry, l2_pae_cpuid, l2_pae_vmcall

/* ---- events ----
 * l2_ev_spin: RCX (set by ghv) iterations of a single LOOP instruction, so
 * an asynchronous exit (timer, interrupt) always reports this RIP; then a
 * VMCALL saying the exit never came. */
l2_ev_spin:
    loop l2_ev_spin
    mov $X_CALL_TIMEOUT, %eax
    vmcall
    ud2

/* l2_ev_call: a lone VMCALL (RAX = X_CALL_DONE from ghv). Window exits happen
 * before it; ghv resumes here after asynchronous exits. */
l2_ev_call:
    vmcall
1:  ud2                             /* ghv never resumes after this VMCALL */
    jmp 1b

/* #GP in L2's events IDT, reached only by ghv's injection: records vector,
 * error code and the RIP the event was delivered with. That RIP is the
 * VMCALL at l2_ev_call (an injected fault does not advance RIP), so IRETQ
 * simply returns to it. */
l2_ev_gp_handler:
    incq XRES(XR_GP_COUNT)
    movq $13, XRES(XR_GP_VEC)
    push %rax
    mov 8(%rsp), %rax               /* error code */
    mov %rax, XRES(XR_GP_ERR)
    mov 16(%rsp), %rax              /* RIP */
    mov %rax, XRES(XR_GP_RIP)
    pop %rax
    add $8, %rsp                    /* drop the error code */
    iretq

/* ghv's handler for IRQ0 at vector 0x20 (installed only while ghv takes
 * the interrupt an exit without acknowledgement left pending). */
ghv_x_irq0:
    push %rax
    incq XRES(XR_IRQ0_COUNT)
    mov $0x20, %al
    outb %al, $0x20                 /* non-specific EOI to the master PIC */
    pop %rax
    iretq

/* ---- l0 ----
 * Neither COM1 nor IA32_FEATURE_CONTROL is in L1's bitmaps, so none of this
 * exits to L1: on hardware it reaches the devices directly, under Nestor L0
 * handles it for L2. Only the final VMCALL exits to ghv. */
l2_l0_entry:
    lea l0_msg(%rip), %rsi
1:  movzbl (%rsi), %ebx
    test %bl, %bl
    jz 3f
    mov $0x3fd, %dx                 /* LSR */
2:  inb %dx, %al
    test $0x20, %al                 /* THRE */
    jz 2b
    mov $0x3f8, %dx
    mov %bl, %al
    outb %al, %dx
    inc %rsi
    jmp 1b
3:  mov $0x3a, %ecx                 /* IA32_FEATURE_CONTROL */
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, XRES(XR_L0_FC)
    mov $X_CALL_DONE, %eax
l2_l0_vmcall:
    vmcall
4:  ud2
    jmp 4b

/* ---- msrarea ----
 * Reads IA32_KERNEL_GS_BASE and IA32_SYSENTER_CS (both loaded by the
 * VM-entry MSR-load area), writes IA32_KERNEL_GS_BASE, VMCALL. ghv's MSR
 * bitmap for this test intercepts nothing. */
l2_msr_entry:
    mov $0xc0000102, %ecx
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, XRES(XR_KGS)
    mov $0x174, %ecx
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, XRES(XR_SYSENTER_CS)
    mov $0xc0000102, %ecx
    mov $(X_KGS_L2 & 0xffffffff), %eax
    mov $(X_KGS_L2 >> 32), %edx
    wrmsr
    mov $X_CALL_DONE, %eax
l2_msr_vmcall:
    vmcall
5:  ud2
    jmp 5b

/* ---- pae ----
 * 32-bit protected mode, PAE paging, CPL 0. CPUID exits (ghv answers
 * "PAE2"), then EFER, CR0 and CR4 as L2 sees them, then VMCALL. */
    .code32
l2_pae_entry:
    xor %eax, %eax
    xor %ecx, %ecx
l2_pae_cpuid:
    cpuid
    mov %eax, XABS(XR_PAE_EAX)
    mov %ebx, XABS(XR_PAE_EBX)
    mov $0xc0000080, %ecx
    rdmsr
    mov %eax, XABS(XR_PAE_EFER)
    mov %edx, XABS(XR_PAE_EFER) + 4
    mov %cr0, %eax
    mov %eax, XABS(XR_PAE_CR0)
    mov %cr4, %eax
    mov %eax, XABS(XR_PAE_CR4)
    mov $X_CALL_DONE, %eax
l2_pae_vmcall:
    vmcall
6:  ud2
    jmp 6b
    .code64

    .section .rodata
l0_msg: .asciz "l2: hello through L1's COM1\n"

    .section .bss
    .balign 4096
    .globl ghv_x_result
ghv_x_result: .skip 4096

    .section .note.GNU-stack, "", @progbits
