/* Names of the VM-instruction error numbers (SDM 31.4, Table 31-1), for the log. */
#include "nestor/vcpu.h"

const char *vm_instruction_error_name(unsigned err)
{
    static const char *const names[] = {
        [VMERR_VMCALL_IN_ROOT] = "VMCALL executed in VMX root operation",
        [VMERR_VMCLEAR_INVALID_ADDR] = "VMCLEAR with invalid physical address",
        [VMERR_VMCLEAR_VMXON_PTR] = "VMCLEAR with VMXON pointer",
        [VMERR_VMLAUNCH_NONCLEAR] = "VMLAUNCH with non-clear VMCS",
        [VMERR_VMRESUME_NONLAUNCHED] = "VMRESUME with non-launched VMCS",
        [VMERR_VMRESUME_AFTER_VMXOFF] = "VMRESUME after VMXOFF",
        [VMERR_ENTRY_INVALID_CONTROLS] = "VM entry with invalid control field(s)",
        [VMERR_ENTRY_INVALID_HOST_STATE] = "VM entry with invalid host-state field(s)",
        [VMERR_VMPTRLD_INVALID_ADDR] = "VMPTRLD with invalid physical address",
        [VMERR_VMPTRLD_VMXON_PTR] = "VMPTRLD with VMXON pointer",
        [VMERR_VMPTRLD_BAD_REVISION] = "VMPTRLD with incorrect VMCS revision identifier",
        [VMERR_UNSUPPORTED_FIELD] = "VMREAD/VMWRITE from/to unsupported VMCS component",
        [VMERR_VMWRITE_READ_ONLY] = "VMWRITE to read-only VMCS component",
        [VMERR_VMXON_IN_ROOT] = "VMXON executed in VMX root operation",
        [VMERR_ENTRY_INVALID_EXEC_VMCS_PTR] = "VM entry with invalid executive-VMCS pointer",
        [VMERR_ENTRY_NONLAUNCHED_EXEC_VMCS] = "VM entry with non-launched executive VMCS",
        [VMERR_ENTRY_EXEC_VMCS_NOT_VMXON] = "VM entry with executive-VMCS pointer not VMXON pointer",
        [VMERR_VMCALL_NONCLEAR_VMCS] = "VMCALL with non-clear VMCS",
        [VMERR_VMCALL_INVALID_EXIT_CTLS] = "VMCALL with invalid VM-exit control fields",
        [VMERR_VMCALL_BAD_MSEG_REVISION] = "VMCALL with incorrect MSEG revision identifier",
        [VMERR_VMXOFF_DUAL_MONITOR] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
        [VMERR_VMCALL_INVALID_SMM_FEATURES] = "VMCALL with invalid SMM-monitor features",
        [VMERR_ENTRY_INVALID_EXEC_CTLS_IN_EXEC_VMCS] = "VM entry with invalid VM-execution control fields in executive VMCS",
        [VMERR_ENTRY_MOV_SS_BLOCKING] = "VM entry with events blocked by MOV SS",
        [VMERR_INVALID_INVEPT_INVVPID] = "invalid operand to INVEPT/INVVPID",
    };
    return err < sizeof names / sizeof names[0] && names[err] ? names[err] : "unknown VM-instruction error";
}
