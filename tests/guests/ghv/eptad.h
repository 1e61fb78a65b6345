/*
 * ghv: test=eptad (eptad.c, l2_eptad.S) — EPT accessed/dirty flags and page-modification
 * logging of L1's EPT for its L2. Pages of L2 (guest-physical, 4 KiB EPT12 leaves onto
 * L1-physical GPA + E_OFS, in the 2 - 4 MiB part of the nested-EPT tests' layout, ept.h):
 */
#ifndef GHV_EPTAD_H
#define GHV_EPTAD_H

#define AD_GPA_R1   0x220000    /* read */
#define AD_GPA_R2   0x221000    /* read */
#define AD_GPA_W1   0x222000    /* written */
#define AD_GPA_W2   0x223000    /* written */
#define AD_GPA_RW   0x224000    /* read, then written */
#define AD_GPA_U    0x225000    /* never touched */
#define AD_GPA_P1   0x226000    /* PML phase: written, logged */
#define AD_GPA_P2   0x227000    /* written, logged: the index wraps to 0xffff */
#define AD_GPA_P3   0x228000    /* written: PML-full exit first, then logged */
#define AD_GPA_P4   0x229000    /* written, logged */

#define AD_V1       0x5731      /* values L2 writes */
#define AD_V2       0x5732
#define AD_VP       0x5050

#endif
