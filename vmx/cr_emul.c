/* MOV to CR0/CR4 emulation (see include/nestor/cr_emul.h). */
#include "nestor/arch.h"
#include "nestor/cr_emul.h"

#define CR4_PSE BIT(4)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define CR4_PAGING_BITS (CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_SMAP | CR4_PKE)

static void finish(const struct cr_ctx *c, uint64_t cr0, uint64_t cr4, struct cr_update *u)
{
    u->pae_paging = (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(u->efer & EFER_LMA);
    (void)c;
}

bool cr0_emulate_write(const struct cr_ctx *c, uint64_t value, struct cr_update *u)
{
    if (!c->long_mode_code)
        value &= 0xffffffffull;
    if (value >> 32)
        return false;
    if ((value & CR0_PG) && !(value & CR0_PE))
        return false;
    if ((value & CR0_NW) && !(value & CR0_CD))
        return false;
    if (c->vmx_operation && (value & c->vmx_cr0_fixed0) != c->vmx_cr0_fixed0)
        return false;
    u->efer = c->efer;
    bool pg_on = (value & CR0_PG) && !(c->cr0_view & CR0_PG);
    bool pg_off = !(value & CR0_PG) && (c->cr0_view & CR0_PG);
    if (pg_on && (c->efer & EFER_LME)) {
        if (!(c->cr4_view & CR4_PAE))
            return false;
        u->efer |= EFER_LMA;
    }
    if (pg_off && (c->cr4_view & CR4_PCIDE))
        return false; /* SDM vol. 2B MOV CR: clearing CR0.PG with CR4.PCIDE = 1 is #GP */
    if (pg_off && (c->efer & EFER_LMA)) {
        if (c->long_mode_code)
            return false; /* paging cannot be turned off from 64-bit code */
        u->efer &= ~EFER_LMA;
    }
    u->view = value;
    u->real = (value | c->cr0_fixed0) & c->cr0_fixed1;
    u->flush_tlb = ((value ^ c->cr0_view) & (CR0_PG | CR0_WP | CR0_PE)) != 0;
    finish(c, value, c->cr4_view, u);
    return true;
}

bool cr4_emulate_write(const struct cr_ctx *c, uint64_t value, struct cr_update *u)
{
    if (!c->long_mode_code)
        value &= 0xffffffffull;
    uint64_t allowed = c->cr4_fixed1 & ~c->cr4_hidden;
    if (value & ~allowed)
        return false;
    if ((c->efer & EFER_LMA) && !(value & CR4_PAE))
        return false;
    if (c->vmx_operation && !(value & CR4_VMXE))
        return false;
    if ((value & CR4_PCIDE) && !(c->cr4_view & CR4_PCIDE) && (!(c->efer & EFER_LMA) || (c->cr3 & 0xfff)))
        return false;
    u->efer = c->efer;
    u->view = value;
    u->real = (value | c->cr4_fixed0) & c->cr4_fixed1;
    u->flush_tlb = ((value ^ c->cr4_view) & CR4_PAGING_BITS) != 0;
    finish(c, c->cr0_view, value, u);
    return true;
}
