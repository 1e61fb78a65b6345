/*
 * Nestor's host state (SDM 25.5): what every VM exit loads, the same in VMCS01
 * and in VMCS02 (Nestor is the host of both).
 */
#include "nestor/arch.h"
#include "nestor/cpu.h"
#include "nestor/log.h"
#include "nestor/percpu.h"
#include "nestor/vcpu.h"
#include "nestor/vmx_ops.h"

static bool failed_write;

static void w(uint32_t field, uint64_t value)
{
    if (vmwrite(field, value) != VMX_OK) {
        log_error("VMWRITE of field 0x%x = 0x%lx failed", field, value);
        failed_write = true;
    }
}

bool vmcs_write_host_state(void)
{
    failed_write = false;
    struct desc_ptr gdtr, idtr;
    read_gdtr(&gdtr);
    read_idtr(&idtr);
    w(VMCS_HOST_CR0, read_cr0());
    w(VMCS_HOST_CR3, read_cr3());
    w(VMCS_HOST_CR4, read_cr4());
    w(VMCS_HOST_CS_SEL, SEL_CODE64);
    w(VMCS_HOST_SS_SEL, SEL_DATA);
    w(VMCS_HOST_DS_SEL, SEL_DATA);
    w(VMCS_HOST_ES_SEL, SEL_DATA);
    w(VMCS_HOST_FS_SEL, SEL_DATA);
    w(VMCS_HOST_GS_SEL, SEL_DATA);
    w(VMCS_HOST_TR_SEL, SEL_TSS);
    w(VMCS_HOST_FS_BASE, 0);
    w(VMCS_HOST_GS_BASE, (uint64_t)(uintptr_t)this_cpu()); /* this_cpu() after every exit */
    w(VMCS_HOST_TR_BASE, tss_base());
    w(VMCS_HOST_GDTR_BASE, gdtr.base);
    w(VMCS_HOST_IDTR_BASE, idtr.base);
    w(VMCS_HOST_SYSENTER_CS, 0);
    w(VMCS_HOST_SYSENTER_ESP, 0);
    w(VMCS_HOST_SYSENTER_EIP, 0);
    w(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
    w(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
    w(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
    return !failed_write;
}
