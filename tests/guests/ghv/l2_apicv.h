/*
 * ghv: constants shared by the L2 code (l2_apicv.S) and ghv's side of the apicv test (apicv.c):
 * the APIC-virtualization controls and fields, the virtual-APIC page offsets, the values ghv
 * presets and L2's result slots (in ghv_x_result, l2_more.h, from 0xc00 on).
 */
#ifndef GHV_L2_APICV_H
#define GHV_L2_APICV_H

/* Controls (SDM Vol. 3C 25.6.1 pin-based, 25.6.2 processor-based, Tables 25-6 and 25-7). */
#define AV_PIN_EXT_INT      (1u << 0)   /* external-interrupt exiting: required by virtual-interrupt delivery */
#define AV_PROC_CR8_LOAD    (1u << 19)
#define AV_PROC_CR8_STORE   (1u << 20)
#define AV_PROC_TPR_SHADOW  (1u << 21)
#define AV_PROC2_VAA        (1u << 0)   /* virtualize APIC accesses */
#define AV_PROC2_ARV        (1u << 8)   /* APIC-register virtualization */
#define AV_PROC2_VID        (1u << 9)   /* virtual-interrupt delivery */

/* VMCS fields (SDM Vol. 3C Appendix B; 25.6.8 APIC-virtualization controls, 25.4.2 guest
 * interrupt status: RVI bits 7:0, SVI bits 15:8). */
#define AV_GUEST_INTR_STATUS 0x0810
#define AV_VIRTUAL_APIC_ADDR 0x2012
#define AV_APIC_ACCESS_ADDR  0x2014
#define AV_EOI_EXIT0         0x201c     /* vectors 0-63; 0x201e 64-127, 0x2020 128-191, 0x2022 192-255 */
#define AV_SECONDARY         0x401e
#define AV_TPR_THRESHOLD     0x401c

/* Offsets in the (virtual-)APIC page (SDM Vol. 3A 11.4.1, Vol. 3C 29.1). */
#define AV_VER              0x030
#define AV_TPR              0x080
#define AV_PPR              0x0a0
#define AV_EOI              0x0b0
#define AV_ISR              0x100       /* 8 words 16 bytes apart, vectors 32n..32n+31 */
#define AV_IRR              0x200
#define AV_ICR_LO           0x300
#define AV_INIT_COUNT       0x380
#define AV_CUR_COUNT        0x390       /* never virtualized: its reads always exit */

/* The vector of the virtual interrupt: word 2 of ISR/IRR, bit 1; EOI-exit bitmap 1, bit 1. */
#define AV_VECTOR           0x41
#define AV_VEC_WORD         (AV_VECTOR / 32 * 16)
#define AV_VEC_BIT          (1u << (AV_VECTOR % 32))

/* What ghv writes into the virtual-APIC page, and what it answers for accesses it emulates. */
#define AV_VER_VALUE        0x50014     /* a local APIC version register: version 0x14, 6 LVT entries */
#define AV_ICR_VALUE        0xc4041
#define AV_APIC_READ_ANSWER 0x44440000  /* | the offset: ghv's answer to an APIC-access read exit */
#define AV_CR8_STORE_ANSWER 0x9         /* ghv's answer to MOV from CR8 with CR8-store exiting */
#define AV_INIT_COUNT_VALUE 0x12345     /* written by L2 to the initial-count register */
#define AV_BACKING_FILL     0xeeeeeeeeu /* the APIC-access page itself: L2 must never read or write it */

/* Result slots: what L2 read. */
#define XR_AV_CR8_1         0xc00   /* MOV from CR8 with the TPR shadow: VTPR[7:4] */
#define XR_AV_CR8_2         0xc08   /* the same after the MOV to CR8 that exited */
#define XR_AV_CR8_3         0xc10   /* MOV from CR8 with CR8-store exiting: ghv's answer */
#define XR_AV_VAA_TPR       0xc18   /* APIC-access page 0x80 (virtualized) */
#define XR_AV_VAA_ICR       0xc20   /* 0x300 (exit: ghv's answer) */
#define XR_AV_VAA_VER       0xc28   /* 0x30 (exit without APIC-register virtualization: ghv's answer) */
#define XR_AV_ARV_VER       0xc30   /* 0x30 with APIC-register virtualization */
#define XR_AV_ARV_ICR       0xc38   /* 0x300 with APIC-register virtualization */
#define XR_AV_ARV_CUR       0xc40   /* 0x390 (exit: ghv's answer) */
#define XR_AV_INT_COUNT     0xc48   /* vector 0x41 handler runs */
#define XR_AV_INT_RIP       0xc50   /* RIP the last one interrupted */
#define XR_AV_INT_ISR       0xc58   /* its ISR word 2 (APIC-access page 0x120) before its EOI */
#define XR_AV_INT_ISR_AFTER 0xc60   /* and after */
#define XR_AV_VID2_COUNT    0xc68   /* handler runs before L2 lowered its TPR in the second VID step */

#ifndef __ASSEMBLER__
extern const char l2_av_tpr[], l2_av_cr8_write[], l2_av_cr8_write_next[], l2_av_tpr_done[];
extern const char l2_av_cr8x[], l2_av_cr8_load[], l2_av_cr8_store[], l2_av_cr8x_done[];
extern const char l2_av_vaa[], l2_av_vaa_icr[], l2_av_vaa_icr_next[], l2_av_vaa_ver[], l2_av_vaa_ver_next[],
    l2_av_vaa_tpr_next[], l2_av_vaa_eoi[], l2_av_vaa_eoi_next[], l2_av_vaa_done[];
extern const char l2_av_arv[], l2_av_arv_cur[], l2_av_arv_cur_next[], l2_av_arv_count_next[], l2_av_arv_eoi_next[],
    l2_av_arv_done[];
extern const char l2_av_vid[], l2_av_vid_done[], l2_av_vid2[], l2_av_vid2_after[], l2_av_vid2_done[];
extern const char l2_av_handler[], l2_av_handler_call[], l2_av_eoi_next[];
#endif

#endif
