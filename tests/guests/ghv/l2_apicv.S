/*
 * ghv: L2 code of the apicv test (64-bit, on basic's L2 machine, l2_env.c). One script per
 * scenario, each ending in VMCALL; ghv sets the controls and RIP for the next one. R8 = the
 * APIC-access page (identity-mapped: L2's linear = L2's physical = ghv's physical address).
 * Labels ending in _next are where ghv resumes after emulating a fault-like exit; after a
 * trap-like exit (TPR below threshold, APIC write, virtualized EOI) the CPU reports the
 * instruction after the access itself. Constants in l2_apicv.h.
 */
#include "l2_more.h"
#include "l2_apicv.h"

#define XRES(off) (ghv_x_result + off)(%rip)
#define APIC(off) off(%r8)

    .section .text
    .code64
    .globl l2_av_tpr, l2_av_cr8_write, l2_av_cr8_write_next, l2_av_tpr_done
    .globl l2_av_cr8x, l2_av_cr8_load, l2_av_cr8_store, l2_av_cr8x_done

/* TPR shadow alone (SDM 29.3): MOV from CR8 reads VTPR[7:4], MOV to CR8 writes VTPR and
 * exits (trap-like) when VTPR[7:4] drops below the TPR threshold. */
l2_av_tpr:
    mov %cr8, %rax                          /* no exit: 5 (VTPR 0x50) */
    mov %rax, XRES(XR_AV_CR8_1)
    mov $2, %ecx
l2_av_cr8_write:
    mov %rcx, %cr8                          /* VTPR 0x20 < threshold 4: exit 43 after it */
l2_av_cr8_write_next:
    mov %cr8, %rax
    mov %rax, XRES(XR_AV_CR8_2)
    xor %eax, %eax
l2_av_tpr_done:
    vmcall

/* CR8-load and CR8-store exiting with the TPR shadow: the MOVs exit to ghv (28). */
l2_av_cr8x:
    mov $7, %ecx
l2_av_cr8_load:
    mov %rcx, %cr8                          /* exit 28, qual 0x108; ghv writes VTPR 0x70 */
l2_av_cr8_store:
    mov %cr8, %rax                          /* exit 28, qual 0x18; ghv answers */
    mov %rax, XRES(XR_AV_CR8_3)
    xor %eax, %eax
l2_av_cr8x_done:
    vmcall

/* + virtualize APIC accesses (SDM 29.4): without APIC-register virtualization only VTPR is
 * read and written in the virtual-APIC page; every other access exits (44). */
    .globl l2_av_vaa, l2_av_vaa_icr, l2_av_vaa_icr_next, l2_av_vaa_ver, l2_av_vaa_ver_next
    .globl l2_av_vaa_tpr_next, l2_av_vaa_eoi, l2_av_vaa_eoi_next, l2_av_vaa_done
l2_av_vaa:
    movl APIC(AV_TPR), %eax                 /* no exit: VTPR 0x50 */
    mov %rax, XRES(XR_AV_VAA_TPR)
l2_av_vaa_icr:
    movl APIC(AV_ICR_LO), %eax              /* exit 44, qual 0x300 (linear read) */
l2_av_vaa_icr_next:
    mov %rax, XRES(XR_AV_VAA_ICR)
l2_av_vaa_ver:
    movl APIC(AV_VER), %eax                 /* exit 44, qual 0x30 */
l2_av_vaa_ver_next:
    mov %rax, XRES(XR_AV_VAA_VER)
    mov $0x30, %ecx
    movl %ecx, APIC(AV_TPR)                 /* VTPR 0x30 < threshold 4: exit 43 after it */
l2_av_vaa_tpr_next:
l2_av_vaa_eoi:
    movl $0, APIC(AV_EOI)                   /* exit 44, qual 0x10b0 (linear write) */
l2_av_vaa_eoi_next:
    xor %eax, %eax
l2_av_vaa_done:
    vmcall

/* + APIC-register virtualization (SDM 29.4.2, 29.4.3): reads of most registers come from the
 * virtual-APIC page; writes go there and end in an APIC-write exit (56) after the instruction. */
    .globl l2_av_arv, l2_av_arv_cur, l2_av_arv_cur_next, l2_av_arv_count_next, l2_av_arv_eoi_next
    .globl l2_av_arv_done
l2_av_arv:
    movl APIC(AV_VER), %eax                 /* no exit */
    mov %rax, XRES(XR_AV_ARV_VER)
    movl APIC(AV_ICR_LO), %eax              /* no exit */
    mov %rax, XRES(XR_AV_ARV_ICR)
l2_av_arv_cur:
    movl APIC(AV_CUR_COUNT), %eax           /* exit 44, qual 0x390 */
l2_av_arv_cur_next:
    mov %rax, XRES(XR_AV_ARV_CUR)
    mov $AV_INIT_COUNT_VALUE, %ecx
    movl %ecx, APIC(AV_INIT_COUNT)          /* exit 56, qual 0x380, after it */
l2_av_arv_count_next:
    movl $0, APIC(AV_EOI)                   /* no virtual-interrupt delivery: exit 56, qual 0xb0 */
l2_av_arv_eoi_next:
    xor %eax, %eax
l2_av_arv_done:
    vmcall

/* + virtual-interrupt delivery (SDM 29.2, 29.1.4): ghv has put vector 0x41 in VIRR and RVI;
 * with RFLAGS.IF = 1 it is delivered through L2's IDT as soon as VPPR allows. */
    .globl l2_av_vid, l2_av_vid_done, l2_av_vid2, l2_av_vid2_after, l2_av_vid2_done
l2_av_vid:
    xor %eax, %eax                          /* delivered before this instruction (VPPR 0) */
l2_av_vid_done:
    vmcall

l2_av_vid2:
    vmcall                                  /* exit 18: ghv looks at VIRR, VPPR and RVI */
    mov XRES(XR_AV_INT_COUNT), %rax         /* VTPR 0x50 holds 0x41 back: still 1 */
    mov %rax, XRES(XR_AV_VID2_COUNT)
    xor %ecx, %ecx
    mov %rcx, %cr8                          /* VTPR 0: delivered after this instruction */
l2_av_vid2_after:
    xor %eax, %eax
l2_av_vid2_done:
    vmcall

/* Vector 0x41: counts, records the interrupted RIP and the ISR word before and after its EOI,
 * which with virtual-interrupt delivery is EOI virtualization (exit 45 if the vector's
 * EOI-exit bit is set). The VMCALL lets ghv look at VISR, VPPR and SVI while it is in service. */
    .globl l2_av_handler, l2_av_handler_call, l2_av_eoi_next
l2_av_handler:
    push %rax
    incq XRES(XR_AV_INT_COUNT)
    mov 8(%rsp), %rax
    mov %rax, XRES(XR_AV_INT_RIP)
    movl APIC(AV_ISR + AV_VEC_WORD), %eax
    mov %rax, XRES(XR_AV_INT_ISR)
l2_av_handler_call:
    vmcall                                  /* exit 18 */
    movl $0, APIC(AV_EOI)                   /* exit 45, qual 0x41, after it (bit set) */
l2_av_eoi_next:
    movl APIC(AV_ISR + AV_VEC_WORD), %eax
    mov %rax, XRES(XR_AV_INT_ISR_AFTER)
    pop %rax
    iretq

    .section .note.GNU-stack, "", @progbits
