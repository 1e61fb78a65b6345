/*
 * ghv: constants shared by the L2 code (l2_xexits.S) and ghv's side of the
 * livebitmap and xexits tests (livebitmap.c, xexits.c). Result slots are in
 * ghv_x_result (l2_more.h), from offset 0x800 on, away from the older tests'.
 */
#ifndef GHV_L2_XEXITS_H
#define GHV_L2_XEXITS_H

/* livebitmap: what L2 read back */
#define XR_LB_RD1       0x800   /* RDMSR 0x175 answered by ghv (L1's bit set by L2) */
#define XR_LB_RD2       0x808   /* RDMSR 0x175 not intercepted (bit cleared by L2): L2's SYSENTER_ESP */
#define XR_LB_FS        0x810   /* RDMSR IA32_FS_BASE after L2's own WRMSR went through */
#define XR_LB_GP        0x818   /* #GP count seen by L2 (must stay 0: L1 intercepts #GP) */

/* livebitmap: the bits L2 flips in L1's bitmaps (SDM 25.6.4, 25.6.9) */
#define LB_PORT         0xed    /* I/O bitmap A byte 0x1d, bit 5 */
#define LB_PORT_BYTE    (LB_PORT / 8)
#define LB_PORT_BIT     (1 << (LB_PORT % 8))
#define LB_RDMSR        0x175   /* IA32_SYSENTER_ESP: read-low quarter, byte 0x2e, bit 5 */
#define LB_RDMSR_BYTE   (LB_RDMSR / 8)
#define LB_RDMSR_BIT    (1 << (LB_RDMSR % 8))
#define LB_WRMSR_BYTE   (0xc00 + 0x100 / 8)     /* WRMSR IA32_FS_BASE (0xc0000100): write-high quarter */
#define LB_WRMSR_BIT    1
#define LB_FS_VALUE     0x5678000
#define LB_SYSENTER_ESP 0x1235000   /* ghv's guest IA32_SYSENTER_ESP for this test */

/* xexits: step mask in R12 (bit n set: L2 executes step n) */
#define XX_RDTSCP       0
#define XX_RDRAND       1
#define XX_RDSEED       2
#define XX_INVPCID      3
#define XX_DESC         4       /* SGDT, LIDT, SLDT, STR */
#define XX_PAUSE        5
#define XX_MONITOR      6
#define XX_MWAIT        7
#define XX_RDPMC        8
#define XX_WBINVD       9
#define XX_STEPS        10

#ifndef __ASSEMBLER__
#include "xtest.h"
/* livebitmap.c: enter L2, print the exit and check reason, qualification, RIP and length (the
 * instruction information, which xt_step requires to be 0, is left to the comparison with hardware). */
bool xi_step(struct xt *t, const char *tag, u32 reason, u64 qual, u64 rip, u32 len, struct exit_info *e);
extern const char l2_lb_entry[], l2_lb_out1[], l2_lb_rd1[], l2_lb_wr1[], l2_lb_gp[], l2_lb_outs1[],
    l2_lb_done[];
extern const char l2_xx_entry[], l2_xx_rdtscp[], l2_xx_rdrand[], l2_xx_rdseed[], l2_xx_invpcid[], l2_xx_sgdt[],
    l2_xx_lidt[], l2_xx_sldt[], l2_xx_str[], l2_xx_pause[], l2_xx_monitor[], l2_xx_mwait[], l2_xx_rdpmc[],
    l2_xx_wbinvd[], l2_xx_done[], l2_xx_scratch[];
#endif

#endif
