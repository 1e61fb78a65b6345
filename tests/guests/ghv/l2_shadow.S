/*
 * ghv: L2 code of the shadow test (64-bit, on basic's L2 machine, l2_env.c). L2 executes
 * VMREAD/VMWRITE itself: in VMX non-root operation with "VMCS shadowing" they access the
 * VMCS named by the link pointer unless L1's bitmap bit is set (SDM 30.3). Constants in
 * l2_shadow.h.
 */
#include "l2_more.h"
#include "l2_shadow.h"

#define XRES(off) (ghv_x_result + off)(%rip)
#define ARITH_FLAGS 0x8d5

    .section .text
    .code64
    .globl l2_sh_entry, l2_sh_rflags, l2_sh_high, l2_sh_done, l2_sh_entry2, l2_sh_done2

/* Link pointer = ghv's shadow VMCS. */
l2_sh_entry:
    mov $SH_F_RIP, %eax
    xor %ebx, %ebx
    vmread %rax, %rbx                       /* no exit: the shadow's GUEST_RIP */
    pushfq
    pop %rcx
    and $ARITH_FLAGS, %ecx
    mov %rbx, XRES(XR_SH_RIP)
    mov %rcx, XRES(XR_SH_FL1)
    mov $SH_F_RSP, %eax
    mov $SH_RSP_VALUE, %ebx
    vmwrite %rbx, %rax                      /* no exit: into the shadow */
    pushfq
    pop %rcx
    and $ARITH_FLAGS, %ecx
    mov %rcx, XRES(XR_SH_FL2)
    xor %ebx, %ebx
    vmread %rax, %rbx                       /* no exit: what L2 just wrote */
    mov %rbx, XRES(XR_SH_RSP)
    mov $SH_F_BAD, %eax
    vmread %rax, %rbx                       /* no exit: VMfailValid(12) */
    pushfq
    pop %rcx
    and $ARITH_FLAGS, %ecx
    mov %rcx, XRES(XR_SH_FL3)
    mov $SH_F_RFLAGS, %eax
l2_sh_rflags:
    vmread %rax, %rbx                       /* exit 23: its VMREAD bit is set */
    mov $(0x10000 | SH_F_RIP), %eax
l2_sh_high:
    vmread %rax, %rbx                       /* exit 23: operand bits 63:15 are not 0 */
    xor %eax, %eax
l2_sh_done:
    vmcall                                  /* exit 18 */

/* Link pointer ~0: VMfailInvalid. */
l2_sh_entry2:
    mov $SH_F_RIP, %eax
    vmread %rax, %rbx
    pushfq
    pop %rcx
    and $ARITH_FLAGS, %ecx
    mov %rcx, XRES(XR_SH_FL4)
    xor %eax, %eax
l2_sh_done2:
    vmcall                                  /* exit 18 */
