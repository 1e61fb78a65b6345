/*
 * ghv: L2 code of the livebitmap and xexits tests (64-bit, on basic's L2
 * machine, l2_env.c). Constants in l2_xexits.h.
 */
#include "l2_more.h"
#include "l2_xexits.h"

#define XRES(off) (ghv_x_result + off)(%rip)

    .section .text
    .code64
    .globl l2_lb_entry, l2_lb_out1, l2_lb_rd1, l2_lb_wr1, l2_lb_gp, l2_lb_outs1, l2_lb_done

/* ---- livebitmap ----
 * R8 = L1's I/O bitmap A, R9 = L1's MSR bitmap (shared memory: L2 runs on L1's
 * physical memory). L2 sets a bit, does the access (which must exit to L1 now),
 * clears the bit, does it again (which must not exit). ghv skips each exiting
 * instruction. */
l2_lb_entry:
    orb $LB_PORT_BIT, LB_PORT_BYTE(%r8)
l2_lb_out1:
    outb %al, $LB_PORT                      /* exit 30 */
    andb $~LB_PORT_BIT, LB_PORT_BYTE(%r8)
    outb %al, $LB_PORT                      /* no exit */

    orb $LB_RDMSR_BIT, LB_RDMSR_BYTE(%r9)
    mov $LB_RDMSR, %ecx
l2_lb_rd1:
    rdmsr                                   /* exit 31: ghv answers */
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, XRES(XR_LB_RD1)
    andb $~LB_RDMSR_BIT, LB_RDMSR_BYTE(%r9)
    rdmsr                                   /* no exit: L2's own SYSENTER_ESP */
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, XRES(XR_LB_RD2)

    orb $LB_WRMSR_BIT, LB_WRMSR_BYTE(%r9)
    mov $0xc0000100, %ecx
    mov $0x1234000, %eax
    xor %edx, %edx
l2_lb_wr1:
    wrmsr                                   /* exit 32: ghv drops it */
    andb $~LB_WRMSR_BIT, LB_WRMSR_BYTE(%r9)
    mov $LB_FS_VALUE, %eax
    wrmsr                                   /* no exit: FS base changes */
    xor %eax, %eax
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, XRES(XR_LB_FS)
    mov $0x80000000, %edx                   /* non-canonical FS base: #GP, which ghv intercepts */
    xor %eax, %eax
l2_lb_gp:
    wrmsr                                   /* exit 0, #GP(0) */

    orb $LB_PORT_BIT, LB_PORT_BYTE(%r8)
    lea l2_xx_scratch(%rip), %rsi
    mov $LB_PORT, %edx
l2_lb_outs1:
    outsb                                   /* exit 30, string */
    andb $~LB_PORT_BIT, LB_PORT_BYTE(%r8)
    outsb                                   /* no exit */
    xor %eax, %eax
l2_lb_done:
    vmcall

/* ---- xexits ----
 * One instruction per step, run only if R12 has the step's bit; each must exit
 * to ghv, which skips it. RSI points at l2_xx_scratch for memory operands. */
    .globl l2_xx_entry, l2_xx_rdtscp, l2_xx_rdrand, l2_xx_rdseed, l2_xx_invpcid, l2_xx_sgdt, l2_xx_lidt
    .globl l2_xx_sldt, l2_xx_str, l2_xx_pause, l2_xx_monitor, l2_xx_mwait, l2_xx_rdpmc, l2_xx_wbinvd, l2_xx_done
l2_xx_entry:
    lea l2_xx_scratch(%rip), %rsi
    bt $XX_RDTSCP, %r12
    jnc 1f
l2_xx_rdtscp:
    rdtscp
1:  bt $XX_RDRAND, %r12
    jnc 1f
l2_xx_rdrand:
    rdrand %eax
1:  bt $XX_RDSEED, %r12
    jnc 1f
l2_xx_rdseed:
    rdseed %rbx
1:  bt $XX_INVPCID, %r12
    jnc 1f
    mov $2, %eax
l2_xx_invpcid:
    invpcid 0x10(%rsi), %rax
1:  bt $XX_DESC, %r12
    jnc 1f
l2_xx_sgdt:
    sgdt 0x20(%rsi)
l2_xx_lidt:
    lidt 0x30(%rsi, %rax, 2)
l2_xx_sldt:
    sldt %cx
l2_xx_str:
    str 0x40(%rsi)
1:  bt $XX_PAUSE, %r12
    jnc 1f
l2_xx_pause:
    pause
1:  bt $XX_MONITOR, %r12
    jnc 1f
    mov %rsi, %rax
    xor %ecx, %ecx
    xor %edx, %edx
l2_xx_monitor:
    monitor
1:  bt $XX_MWAIT, %r12
    jnc 1f
    xor %eax, %eax
    xor %ecx, %ecx
l2_xx_mwait:
    mwait
1:  bt $XX_RDPMC, %r12
    jnc 1f
    xor %ecx, %ecx
l2_xx_rdpmc:
    rdpmc
1:  bt $XX_WBINVD, %r12
    jnc 1f
l2_xx_wbinvd:
    wbinvd
1:  xor %eax, %eax
l2_xx_done:
    vmcall

    .section .data
    .balign 64
    .globl l2_xx_scratch
l2_xx_scratch: .skip 128

    .section .note.GNU-stack, "", @progbits
