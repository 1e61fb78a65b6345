/*
 * Emulated MOV to CR0/CR4 for bits Nestor owns (guest/host mask set), with the
 * architectural #GP checks of SDM vol. 2B "MOV to/from Control Registers" and
 * the IA-32e mode activation of SDM vol. 3A 9.8.5. Pure logic.
 */
#ifndef NESTOR_CR_EMUL_H
#define NESTOR_CR_EMUL_H

#include "types.h"

struct cr_ctx {
    uint64_t cr0_fixed0, cr0_fixed1; /* effective for the guest (PE/PG relaxed by unrestricted guest) */
    uint64_t cr4_fixed0, cr4_fixed1;
    uint64_t cr4_hidden;             /* bits the guest may not set (features not offered, e.g. VMXE) */
    uint64_t cr0_view, cr4_view;     /* what the guest believes now */
    uint64_t efer;
    uint64_t cr3;
    bool long_mode_code;             /* CS.L with EFER.LMA: 64-bit operands */
    bool vmx_operation;              /* the guest is in VMX operation: CR0/CR4 fixed bits bind it (SDM 23.8) */
    uint64_t vmx_cr0_fixed0;         /* IA32_VMX_CR0_FIXED0 as the guest sees it (PE, PG included) */
};

struct cr_update {
    uint64_t real, view; /* new guest CR value and read shadow */
    uint64_t efer;       /* EFER.LMA follows CR0.PG with EFER.LME */
    bool flush_tlb;      /* the write changes translation (the CPU would flush) */
    bool pae_paging;     /* PAE paging outside long mode: PDPTEs must be loaded */
};

/* false: the write raises #GP(0). */
bool cr0_emulate_write(const struct cr_ctx *c, uint64_t value, struct cr_update *u);
bool cr4_emulate_write(const struct cr_ctx *c, uint64_t value, struct cr_update *u);

#endif
