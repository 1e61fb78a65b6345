/*
 * L1's VMX instructions other than VMLAUNCH/VMRESUME, each following the
 * "Operation" pseudocode of SDM vol. 3C chapter 31 in its order of checks.
 */
#include "nested_internal.h"
#include "nestor/arch.h"
#include "nestor/entry_checks.h"
#include "nestor/ept12.h"
#include "nestor/log.h"
#include "nestor/vmx_ops.h"

static uint32_t insn_info(void) { return (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO); }

/* The 64-bit physical-address operand of VMXON, VMCLEAR and VMPTRLD. */
static bool read_addr_operand(struct vcpu *v, uint64_t *addr)
{
    return vmx_operand_mem_read(v, insn_info(), v->exit_qual, addr, sizeof *addr);
}

static bool bad_phys_addr(uint64_t a) { return (a & 0xfff) || (a & ~nested_maxphy_mask()); }

static uint64_t l1_cr4_view(struct vcpu *v)
{
    return (vmread(VMCS_GUEST_CR4) & ~v->cr4_mask) | (vmread(VMCS_CR4_READ_SHADOW) & v->cr4_mask);
}

static uint64_t l1_cr0_view(struct vcpu *v)
{
    return (vmread(VMCS_GUEST_CR0) & ~v->cr0_mask) | (vmread(VMCS_CR0_READ_SHADOW) & v->cr0_mask);
}

/* While L1 is in VMX operation, CR0.PE and PG are fixed too (SDM 23.8): own them to enforce it. */
static void own_cr0_paging_bits(struct vcpu *v, bool own)
{
    uint64_t view = l1_cr0_view(v);
    uint64_t extra = (g_vmx_caps.cr0_fixed0 & (CR0_PE | CR0_PG));
    v->cr0_mask = own ? v->cr0_mask | extra : v->cr0_mask & ~extra;
    vmwrite(VMCS_CR0_READ_SHADOW, view);
    vmwrite(VMCS_CR0_GUEST_HOST_MASK, v->cr0_mask);
}

enum exit_action nested_handle_vmxon(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    if (!n->offered)
        return vcpu_inject_exception(v, VEC_UD, false, 0), EXIT_RESUME;
    /* #UD: CR4.VMXE = 0 (as L1 sees it) or the mode checks; VMXON is the one allowed outside VMX operation. */
    if (!(l1_cr4_view(v) & CR4_VMXE))
        return vcpu_inject_exception(v, VEC_UD, false, 0), EXIT_RESUME;
    if (!vmx_insn_checks(v, false))
        return EXIT_RESUME;
    if (n->vmxon) {
        nested_vmfail(v, VMERR_VMXON_IN_ROOT);
        return EXIT_RESUME;
    }
    /* #GP(0): CR0/CR4 not supported in VMX operation, or IA32_FEATURE_CONTROL forbids VMX. */
    uint64_t cr0 = l1_cr0_view(v), cr4 = l1_cr4_view(v);
    const struct nested_caps *k = &n->caps;
    if ((cr0 & k->cr0_fixed0) != k->cr0_fixed0 || (cr0 & ~k->cr0_fixed1) || (cr4 & k->cr4_fixed0) != k->cr4_fixed0 ||
        (cr4 & ~k->cr4_fixed1) || !(v->msr.feature_control & FEATURE_CONTROL_LOCK) ||
        !(v->msr.feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
        vcpu_inject_exception(v, VEC_GP, true, 0);
        return EXIT_RESUME;
    }
    uint64_t addr;
    if (!read_addr_operand(v, &addr))
        return EXIT_RESUME;
    if (bad_phys_addr(addr)) {
        nested_vmfail_invalid(v);
        return EXIT_RESUME;
    }
    uint32_t rev;
    l1_phys_read(v, addr, &rev, sizeof rev);
    if (rev != VMCS12_REVISION) { /* also refuses bit 31 set */
        nested_vmfail_invalid(v);
        return EXIT_RESUME;
    }
    n->vmxon = true;
    n->vmxon_ptr = addr;
    n->current = NULL;
    n->current_ptr = VMCS12_NONE;
    own_cr0_paging_bits(v, true);
    log_info("L1 entered VMX operation (VMXON region 0x%lx)", addr);
    nested_vmsucceed(v);
    return EXIT_RESUME;
}

enum exit_action nested_handle_vmxoff(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    if (!vmx_insn_checks(v, true))
        return EXIT_RESUME;
    vmcs_shadow_drain(v);
    vmcs_shadow_activate(v, false);
    vmcs12_cache_flush_all(v);
    ept02_drop_all(v);
    n->vmxon = false;
    n->current = NULL;
    n->current_ptr = VMCS12_NONE;
    own_cr0_paging_bits(v, false);
    log_info("L1 left VMX operation");
    nested_vmsucceed(v);
    return EXIT_RESUME;
}

/* The VMCS-address operand of VMCLEAR and VMPTRLD, with their first checks; false: the instruction ended. */
static bool vmcs_address_operand(struct vcpu *v, unsigned err_bad_addr, unsigned err_vmxon_ptr, uint64_t *addr)
{
    if (!vmx_insn_checks(v, true) || !read_addr_operand(v, addr))
        return false;
    if (bad_phys_addr(*addr)) {
        nested_vmfail(v, err_bad_addr);
        return false;
    }
    if (*addr == v->nested.vmxon_ptr) {
        nested_vmfail(v, err_vmxon_ptr);
        return false;
    }
    return true;
}

enum exit_action nested_handle_vmclear(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    uint64_t addr;
    if (!vmcs_address_operand(v, VMERR_VMCLEAR_INVALID_ADDR, VMERR_VMCLEAR_VMXON_PTR, &addr))
        return EXIT_RESUME;
    bool was_current = addr == n->current_ptr;
    if (was_current) {
        vmcs_shadow_drain(v);
        vmcs_shadow_activate(v, false);
    }
    vmcs12_cache_clear(v, addr);
    if (was_current) {
        n->current = NULL;
        n->current_ptr = VMCS12_NONE;
    }
    nested_vmsucceed(v);
    return EXIT_RESUME;
}

enum exit_action nested_handle_vmptrld(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    uint64_t addr;
    if (!vmcs_address_operand(v, VMERR_VMPTRLD_INVALID_ADDR, VMERR_VMPTRLD_VMXON_PTR, &addr))
        return EXIT_RESUME;
    /* Bit 31 (a shadow VMCS) is accepted only where VMCS shadowing is offered. */
    if (!nested_vmptrld_revision_ok(n, vmcs12_peek_revision(v, addr))) {
        nested_vmfail(v, VMERR_VMPTRLD_BAD_REVISION);
        return EXIT_RESUME;
    }
    if (addr != n->current_ptr) {
        vmcs_shadow_drain(v);
        vmcs_shadow_activate(v, false);
        n->current = vmcs12_cache_load(v, addr);
        n->current_ptr = addr;
        vmcs_shadow_activate(v, true);
    }
    nested_vmsucceed(v);
    return EXIT_RESUME;
}

enum exit_action nested_handle_vmptrst(struct vcpu *v)
{
    uint64_t ptr = v->nested.current_ptr;
    if (!vmx_insn_checks(v, true) || !vmx_operand_mem_write(v, insn_info(), v->exit_qual, &ptr, sizeof ptr))
        return EXIT_RESUME;
    nested_vmsucceed(v);
    return EXIT_RESUME;
}

/* VMREAD and VMWRITE start alike: instruction checks, then VMfailInvalid without a current VMCS. */
static bool needs_current_vmcs(struct vcpu *v)
{
    if (!vmx_insn_checks(v, true))
        return false;
    if (!v->nested.current) {
        nested_vmfail_invalid(v);
        return false;
    }
    return true;
}

/* VMREAD/VMWRITE memory operands are 64-bit in 64-bit mode and 32-bit elsewhere (SDM vol. 3C 31.3). */
static size_t operand_size(void) { return l1_long_mode_code() ? 8 : 4; }

enum exit_action nested_handle_vmread(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    uint32_t info = insn_info();
    if (!needs_current_vmcs(v))
        return EXIT_RESUME;
    uint64_t field = vmx_operand_reg_read(v, INSNINFO_REG2(info)), value;
    log_trace("L1 VMREAD field 0x%lx", field);
    vmcs_shadow_sync_before(v, field);
    if (vmcs12_read(&n->current->v, field, n->caps.v12_features, &value) != V12_OK) {
        nested_vmfail_valid(v, VMERR_UNSUPPORTED_FIELD);
        return EXIT_RESUME;
    }
    if (info & INSNINFO_REG_OPERAND) {
        vmx_operand_reg_write(v, INSNINFO_REG1(info), value);
    } else {
        if (!vmx_operand_mem_write(v, info, v->exit_qual, &value, operand_size()))
            return EXIT_RESUME;
    }
    nested_vmsucceed(v);
    return EXIT_RESUME;
}

enum exit_action nested_handle_vmwrite(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    uint32_t info = insn_info();
    if (!needs_current_vmcs(v))
        return EXIT_RESUME;
    uint64_t value = 0;
    if (info & INSNINFO_REG_OPERAND) {
        value = vmx_operand_reg_read(v, INSNINFO_REG1(info));
    } else {
        if (!vmx_operand_mem_read(v, info, v->exit_qual, &value, operand_size()))
            return EXIT_RESUME; /* operand faults come before the field checks */
    }
    uint64_t field = vmx_operand_reg_read(v, INSNINFO_REG2(info));
    log_trace("L1 VMWRITE field 0x%lx = 0x%lx", field, value);
    bool write_any = n->caps.misc & VMX_MISC_VMWRITE_ANY_FIELD;
    vmcs_shadow_sync_before(v, field);
    int slot = vmcs12_slot_of(field, n->caps.v12_features);
    if (slot >= 0)
        vmcs12_mark_dirty(n, (unsigned)slot);
    if (!nested_vmwrite_outcome(v, vmcs12_write(&n->current->v, field, n->caps.v12_features, write_any, value)))
        return EXIT_RESUME;
    vmcs_shadow_sync_after_write(v, field);
    nested_vmsucceed(v);
    return EXIT_RESUME;
}

/* INVVPID (SDM vol. 3C 31.3): L2's translations live under vpid02, so any invalidation L1 asks for flushes vpid02. */
enum exit_action nested_handle_invvpid(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    if (!n->offered || !(n->caps.ept_vpid & VPID_CAP_INVVPID) || !(n->caps.proc2.allowed1 & PROC2_ENABLE_VPID))
        return vcpu_inject_exception(v, VEC_UD, false, 0), EXIT_RESUME;
    uint32_t info = insn_info();
    if (!vmx_insn_checks(v, true))
        return EXIT_RESUME;
    uint64_t type = vmx_operand_reg_read(v, INSNINFO_REG2(info));
    if (type > 3 || !(n->caps.ept_vpid & BIT(40 + type))) {
        nested_vmfail(v, VMERR_INVALID_INVEPT_INVVPID);
        return EXIT_RESUME;
    }
    struct {
        uint64_t vpid, linear;
    } desc;
    if (!vmx_operand_mem_read(v, info, v->exit_qual, &desc, sizeof desc))
        return EXIT_RESUME;
    if ((desc.vpid >> 16) || (type != 2 && (desc.vpid & 0xffff) == 0) || (type == 0 && !is_canonical(desc.linear))) {
        nested_vmfail(v, VMERR_INVALID_INVEPT_INVVPID);
        return EXIT_RESUME;
    }
    if (n->vpid02) {
        int r = type == 0 ? invvpid(INVVPID_ADDRESS, n->vpid02, desc.linear) : invvpid(INVVPID_SINGLE_CONTEXT, n->vpid02, 0);
        if (r != VMX_OK)
            invvpid(INVVPID_ALL_CONTEXT, 0, 0);
    }
    nested_vmsucceed(v);
    return EXIT_RESUME;
}

/*
 * INVEPT (SDM vol. 3C 31.3): #UD unless nested EPT is offered; VMfail(28) for a type not offered
 * or, single-context, an EPTP that would fail the VM-entry EPTP checks. Dropping the shadow
 * EPT02 of that EPTP (or all of them) is what invalidation means for L2.
 */
enum exit_action nested_handle_invept(struct vcpu *v)
{
    struct nested_vmx *n = &v->nested;
    if (!n->offered || !n->ept || !(n->caps.ept_vpid & EPT_CAP_INVEPT))
        return vcpu_inject_exception(v, VEC_UD, false, 0), EXIT_RESUME;
    uint32_t info = insn_info();
    if (!vmx_insn_checks(v, true))
        return EXIT_RESUME;
    uint64_t type = vmx_operand_reg_read(v, INSNINFO_REG2(info));
    bool single = type == INVEPT_SINGLE_CONTEXT && (n->caps.ept_vpid & EPT_CAP_INVEPT_SINGLE);
    bool all = type == INVEPT_ALL_CONTEXT && (n->caps.ept_vpid & EPT_CAP_INVEPT_ALL);
    if (!single && !all) {
        nested_vmfail(v, VMERR_INVALID_INVEPT_INVVPID);
        return EXIT_RESUME;
    }
    struct {
        uint64_t eptp, reserved;
    } desc;
    if (!vmx_operand_mem_read(v, info, v->exit_qual, &desc, sizeof desc))
        return EXIT_RESUME;
    if (single) {
        const struct nested_caps *k = &n->caps;
        if (ept12_check_eptp(desc.eptp, k->ept_vpid & EPT_CAP_MEMTYPE_UC, k->ept_vpid & EPT_CAP_MEMTYPE_WB,
                             k->ept_vpid & EPT_CAP_AD, nested_maxphy_mask())) {
            nested_vmfail(v, VMERR_INVALID_INVEPT_INVVPID);
            return EXIT_RESUME;
        }
        ept02_drop(v, desc.eptp);
    } else {
        ept02_drop_all(v);
    }
    n->stats.invepts++;
    nested_vmsucceed(v);
    return EXIT_RESUME;
}
