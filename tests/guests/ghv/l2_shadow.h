/*
 * ghv: constants shared by the L2 code (l2_shadow.S) and ghv's side of the shadow test
 * (shadow.c). Result slots in ghv_x_result (l2_more.h) from 0xa00 on.
 */
#ifndef GHV_L2_SHADOW_H
#define GHV_L2_SHADOW_H

#define XR_SH_RIP       0xa00   /* L2's VMREAD of GUEST_RIP from the shadow VMCS */
#define XR_SH_FL1       0xa08   /* RFLAGS after it */
#define XR_SH_FL2       0xa10   /* RFLAGS after L2's VMWRITE of GUEST_RSP */
#define XR_SH_RSP       0xa18   /* L2's VMREAD of GUEST_RSP back */
#define XR_SH_FL3       0xa20   /* RFLAGS after L2's VMREAD of an unsupported field */
#define XR_SH_FL4       0xa28   /* RFLAGS after L2's VMREAD with the link pointer ~0 */

#define SH_F_RSP        0x681c  /* GUEST_RSP: read and written by L2 without exits */
#define SH_F_RIP        0x681e  /* GUEST_RIP: read by L2 without exits */
#define SH_F_RFLAGS     0x6820  /* GUEST_RFLAGS: its VMREAD bit is set (exits to ghv) */
#define SH_F_BAD        0x6c42  /* no such field; its VMREAD bit is clear */
#define SH_RIP_VALUE    0x1234abcd
#define SH_RSP_VALUE    0x5678ef01

#ifndef __ASSEMBLER__
extern const char l2_sh_entry[], l2_sh_rflags[], l2_sh_high[], l2_sh_done[], l2_sh_entry2[], l2_sh_done2[];
#endif

#endif
