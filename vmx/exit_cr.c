/* Control-register access exits (SDM 27.2.1 Table 27-3): MOV to/from CR0/CR3/CR4, CLTS, LMSW. */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/cr_emul.h"
#include "nestor/guest_walk.h"
#include "nestor/l1.h"
#include "nestor/log.h"
#include "nestor/vmx_ops.h"

static void flush_l1_tlb(struct vcpu *v)
{
    /* Without VPID every VM entry flushes; with it, the emulated write must flush L1's tagged entries. */
    if (v->vpid && invvpid(INVVPID_SINGLE_CONTEXT, v->vpid, 0) != VMX_OK)
        invvpid(INVVPID_ALL_CONTEXT, 0, 0);
}

static void fill_ctx(struct vcpu *v, struct cr_ctx *c)
{
    c->cr0_fixed0 = v->cr0_fixed0;
    c->cr0_fixed1 = v->cr0_fixed1;
    c->cr4_fixed0 = v->cr4_fixed0;
    c->cr4_fixed1 = v->cr4_fixed1;
    c->cr4_hidden = CR4_SMXE | (v->nested.offered ? 0 : CR4_VMXE);
    c->vmx_operation = v->nested.vmxon;
    c->vmx_cr0_fixed0 = v->nested.caps.cr0_fixed0;
    /* Guest-owned bits come from the real register, host-owned ones from the shadow. */
    c->cr0_view = (vmread(VMCS_GUEST_CR0) & ~v->cr0_mask) | (vmread(VMCS_CR0_READ_SHADOW) & v->cr0_mask);
    c->cr4_view = (vmread(VMCS_GUEST_CR4) & ~v->cr4_mask) | (vmread(VMCS_CR4_READ_SHADOW) & v->cr4_mask);
    c->efer = vmread(VMCS_GUEST_EFER);
    c->cr3 = vmread(VMCS_GUEST_CR3);
    c->long_mode_code = (c->efer & EFER_LMA) && (vmread(VMCS_GUEST_CS_AR) & VMX_AR_L);
}

static enum exit_action apply(struct vcpu *v, unsigned cr, const struct cr_update *u)
{
    vmwrite(cr == 0 ? VMCS_GUEST_CR0 : VMCS_GUEST_CR4, u->real);
    vmwrite(cr == 0 ? VMCS_CR0_READ_SHADOW : VMCS_CR4_READ_SHADOW, u->view);
    if (u->efer != vmread(VMCS_GUEST_EFER)) {
        vmwrite(VMCS_GUEST_EFER, u->efer);
        if (u->efer & EFER_LMA)
            v->entry_ctls |= ENTRY_IA32E_MODE_GUEST;
        else
            v->entry_ctls &= ~ENTRY_IA32E_MODE_GUEST;
        vmwrite(VMCS_ENTRY_CONTROLS, v->entry_ctls);
        log_debug("L1 %s long mode", (u->efer & EFER_LMA) ? "entered" : "left");
    }
    if (u->pae_paging && !vcpu_load_pdptes(v, vmread(VMCS_GUEST_CR3))) {
        vcpu_inject_exception(v, VEC_GP, true, 0);
        return EXIT_RESUME;
    }
    if (u->flush_tlb)
        flush_l1_tlb(v);
    vcpu_skip_instruction(v);
    return EXIT_RESUME;
}

static enum exit_action mov_to_cr(struct vcpu *v, unsigned cr, uint64_t value)
{
    struct cr_ctx c;
    struct cr_update u;
    fill_ctx(v, &c);
    switch (cr) {
    case 0:
        if (!cr0_emulate_write(&c, value, &u))
            break;
        return apply(v, 0, &u);
    case 4:
        if (!cr4_emulate_write(&c, value, &u))
            break;
        return apply(v, 4, &u);
    case 3:
        /* Only when the CPU forces CR3-load exiting (no TRUE controls). */
        vmwrite(VMCS_GUEST_CR3, value & ~BIT(63));
        if ((c.cr0_view & CR0_PG) && (c.cr4_view & CR4_PAE) && !(c.efer & EFER_LMA) && !vcpu_load_pdptes(v, value))
            break;
        if (!(c.cr4_view & CR4_PCIDE) || !(value & BIT(63)))
            flush_l1_tlb(v);
        vcpu_skip_instruction(v);
        return EXIT_RESUME;
    default:
        return vcpu_stop(v, 0xfe, true, "unexpected MOV to CR%u", cr);
    }
    log_debug("L1 MOV to CR%u of 0x%lx raises #GP", cr, value);
    vcpu_inject_exception(v, VEC_GP, true, 0);
    return EXIT_RESUME;
}

enum exit_action handle_cr_access(struct vcpu *v)
{
    uint64_t q = v->exit_qual;
    unsigned cr = CRQUAL_CR(q);
    switch (CRQUAL_TYPE(q)) {
    case CRQUAL_TYPE_MOV_TO_CR:
        return mov_to_cr(v, cr, vcpu_gpr_read(v, CRQUAL_GPR(q)));
    case CRQUAL_TYPE_MOV_FROM_CR:
        if (cr != 3)
            return vcpu_stop(v, 0xfe, true, "unexpected MOV from CR%u", cr);
        vcpu_gpr_write(v, CRQUAL_GPR(q), vmread(VMCS_GUEST_CR3));
        vcpu_skip_instruction(v);
        return EXIT_RESUME;
    case CRQUAL_TYPE_CLTS: {
        struct cr_ctx c;
        fill_ctx(v, &c);
        return mov_to_cr(v, 0, c.cr0_view & ~CR0_TS);
    }
    default: { /* LMSW loads PE, MP, EM, TS and cannot clear PE (SDM vol. 2A LMSW) */
        struct cr_ctx c;
        fill_ctx(v, &c);
        uint64_t src = CRQUAL_LMSW_DATA(q) & 0xf;
        uint64_t cr0 = (c.cr0_view & ~0xeull) | src | (c.cr0_view & CR0_PE);
        return mov_to_cr(v, 0, cr0);
    }
    }
}
