/*
 * VMCS shadowing offered to L1 (SDM 24.10 "VMCS Types: Ordinary and Shadow", 24.6.15, 30.3):
 * L1 marks a vmcs12 region as a shadow VMCS (bit 31 of its revision identifier), names it in
 * the VMCS link pointer of the vmcs12 it runs L2 with, and sets "VMCS shadowing" with its own
 * VMREAD/VMWRITE bitmaps. An L2 VMREAD/VMWRITE whose bitmap bit is clear then reads/writes
 * that shadow VMCS instead of exiting to L1.
 *
 * vmcs02 never has the control (the CPU would read Nestor's vmcs02 link and bitmaps), so every
 * L2 VMREAD/VMWRITE exits to Nestor; exit_route.c reads L1's bitmap bit, and when the access is
 * not L1's this file performs it on the shadow vmcs12, through the vmcs12 cache (so an L1 that
 * later VMPTRLDs or VMCLEARs the shadow VMCS sees what L2 wrote), and sets L2's RFLAGS as the
 * CPU would. L1 sees nothing but the result.
 */
#include "nested_internal.h"
#include "nestor/arch.h"
#include "nestor/log.h"
#include "nestor/vmx_ops.h"

bool vmcs12_is_shadow(const struct vmcs12 *v12) { return v12->revision & VMCS12_SHADOW_INDICATOR; }

/* VMPTRLD (SDM 31, "VMPTRLD" Operation): bits 30:0 must be Nestor's revision; bit 31 only with shadowing offered. */
bool nested_vmptrld_revision_ok(const struct nested_vmx *n, uint32_t rev)
{
    if ((rev & ~(uint32_t)VMCS12_SHADOW_INDICATOR) != VMCS12_REVISION)
        return false;
    return !(rev & VMCS12_SHADOW_INDICATOR) || (n->caps.proc2.allowed1 & PROC2_VMCS_SHADOWING);
}

static bool shadowing_on(const struct vmcs12 *v12)
{
    return vmcs12_proc2(v12) & PROC2_VMCS_SHADOWING;
}

/* 26.3.1.5: the region behind a VMCS link pointer other than ~0 (its address is checked by entry_checks.c). */
const char *nested_link_pointer_rule(struct vcpu *v, const struct vmcs12 *v12)
{
    uint64_t link = V12(v12, VMCS_LINK_POINTER);
    if (link == ~0ull)
        return NULL;
    uint32_t rev = vmcs12_peek_revision(v, link);
    if ((rev & ~(uint32_t)VMCS12_SHADOW_INDICATOR) != VMCS12_REVISION)
        return "26.3.1.5 VMCS link pointer must reference a region with the VMCS revision identifier";
    if (shadowing_on(v12) && !(rev & VMCS12_SHADOW_INDICATOR))
        return "26.3.1.5 with VMCS shadowing, the VMCS link pointer must reference a shadow VMCS (revision bit 31 set)";
    if (!shadowing_on(v12) && (rev & VMCS12_SHADOW_INDICATOR))
        return "26.3.1.5 without VMCS shadowing, the VMCS link pointer must reference a VMCS with revision bit 31 clear";
    return NULL;
}

/* The field operand (register 2 of the instruction information, 27.2.5) of L2's VMREAD/VMWRITE, at L2's operand size. */
uint64_t nested_l2_vmx_field_operand(struct vcpu *v)
{
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);
    return vmx_operand_reg_read(v, INSNINFO_REG2(info));
}

/*
 * An L2 VMREAD/VMWRITE with a memory operand is not emulated here (its address is L2-virtual,
 * and with EPT12 its page walk would need EPT12 too): it goes to L1 as an ordinary exit, which
 * every L1 that offers shadowing emulates anyway (it is what its L2 got before shadowing).
 */
bool nested_l2_vmrw_needs_l1(struct vcpu *v, unsigned reason)
{
    if (reason != EXIT_VMREAD && reason != EXIT_VMWRITE)
        return false;
    if (vmread(VMCS_EXIT_INSTRUCTION_INFO) & INSNINFO_REG_OPERAND)
        return false;
    log_debug("L2 %s with a memory operand: given to L1 (not emulated on L1's shadow VMCS)",
              reason == EXIT_VMREAD ? "VMREAD" : "VMWRITE");
    return true;
}

/*
 * SDM 30.3 and the VMREAD/VMWRITE Operation, for an access exit_route.c found not to be L1's:
 * #GP at CPL > 0, VMfailInvalid when the link pointer is ~0, VMfailValid(12) for a field L1 does
 * not have, VMfailValid(13) for a read-only one when VMWRITE to them is not offered; the error
 * number goes into the current VMCS (L1's vmcs12 for this L2), as VMfailValid does.
 */
enum exit_action nested_l2_shadow_vmrw(struct vcpu *v, bool write)
{
    struct nested_vmx *n = &v->nested;
    const struct vmcs12 *v12 = &n->current->v;
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);
    if (VMX_AR_DPL(vmread(VMCS_GUEST_SS_AR)) != 0)
        return nested_l2_gp(v);
    uint64_t link = V12(v12, VMCS_LINK_POINTER);
    if (link == ~0ull) {
        nested_vmfail_invalid(v);
        return EXIT_RESUME;
    }
    struct vmcs12_cache_entry *shadow = vmcs12_cache_load(v, link);
    uint64_t field = vmx_operand_reg_read(v, INSNINFO_REG2(info)), value;
    if (!write) {
        if (vmcs12_read(&shadow->v, field, n->caps.v12_features, &value) != V12_OK) {
            nested_vmfail_valid(v, VMERR_UNSUPPORTED_FIELD);
            return EXIT_RESUME;
        }
        log_trace("L2 VMREAD field 0x%lx of shadow VMCS 0x%lx = 0x%lx", field, link, value);
        vmx_operand_reg_write(v, INSNINFO_REG1(info), value);
        nested_vmsucceed(v);
        return EXIT_RESUME;
    }
    value = vmx_operand_reg_read(v, INSNINFO_REG1(info));
    bool write_any = n->caps.misc & VMX_MISC_VMWRITE_ANY_FIELD;
    if (!nested_vmwrite_outcome(v, vmcs12_write(&shadow->v, field, n->caps.v12_features, write_any, value)))
        return EXIT_RESUME;
    log_trace("L2 VMWRITE field 0x%lx of shadow VMCS 0x%lx = 0x%lx", field, link, value);
    nested_vmsucceed(v);
    return EXIT_RESUME;
}
