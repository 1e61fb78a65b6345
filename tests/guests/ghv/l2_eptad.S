/*
 * ghv: L2 code of test=eptad (eptad.c). No stack, no result page: the only memory L2
 * touches is its code (the 2 MiB EPT12 leaf), its own paging structures (walked by the CPU)
 * and the pages of eptad.h, so the A/D flags L1 finds are exactly those of these accesses.
 */
#include "ept.h"
#include "eptad.h"

    .section .text
    .code64
    .globl l2_ad_entry, l2_ad_call1, l2_ad_pml, l2_ad_p3_write, l2_ad_call2

l2_ad_entry:
    mov $AD_GPA_R1, %eax
    mov (%rax), %rbx
    mov $AD_GPA_R2, %eax
    mov (%rax), %rbx
    mov $AD_GPA_W1, %eax
    movq $AD_V1, (%rax)
    mov $AD_GPA_W2, %eax
    movq $AD_V2, 8(%rax)
    mov $AD_GPA_RW, %eax
    mov (%rax), %rbx
    movq $AD_V1, 16(%rax)
l2_ad_call1:
    vmcall

/* PML: L1 enabled it with index 1 before resuming here. */
l2_ad_pml:
    mov $AD_GPA_P1, %eax
    movq $AD_VP, (%rax)
    mov $AD_GPA_P2, %eax
    movq $AD_VP, (%rax)
    mov $AD_GPA_P3, %eax
l2_ad_p3_write:                 /* the index is 0xffff now: PML-full exit before this write */
    movq $AD_VP, (%rax)
    mov $AD_GPA_P4, %eax
    movq $AD_VP, (%rax)
l2_ad_call2:
    vmcall
