/*
 * ghv: VMX capability MSRs, VMCS field encodings and the VMX instructions.
 *
 * Encodings are from the Intel SDM, Vol. 3, Appendix B. Only the fields ghv
 * touches are listed. The instruction wrappers return the SDM's three
 * outcomes (VMsucceed / VMfailInvalid / VMfailValid) from CF and ZF.
 */
#ifndef GHV_VMX_H
#define GHV_VMX_H

#include "ghv.h"

#define MSR_VMX_BASIC         0x480
#define MSR_VMX_PINBASED      0x481
#define MSR_VMX_PROCBASED     0x482
#define MSR_VMX_EXIT          0x483
#define MSR_VMX_ENTRY         0x484
#define MSR_VMX_MISC          0x485
#define MSR_VMX_CR0_FIXED0    0x486
#define MSR_VMX_CR0_FIXED1    0x487
#define MSR_VMX_CR4_FIXED0    0x488
#define MSR_VMX_CR4_FIXED1    0x489
#define MSR_VMX_PROCBASED2    0x48b
#define MSR_VMX_EPT_VPID_CAP  0x48c
#define MSR_VMX_TRUE_PINBASED 0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT     0x48f
#define MSR_VMX_TRUE_ENTRY    0x490

/* Control bits ghv uses. */
#define PROC_HLT_EXIT      (1u << 7)
#define PROC_INVLPG_EXIT   (1u << 9)
#define PROC_RDTSC_EXIT    (1u << 12)
#define PROC_CR3_LOAD_EXIT (1u << 15)
#define PROC_MOV_DR_EXIT   (1u << 23)
#define PROC_IO_BITMAPS    (1u << 25)
#define PROC_MSR_BITMAPS   (1u << 28)
#define PROC_SECONDARY     (1u << 31)
#define PROC2_EPT          (1u << 1)
#define PROC2_VPID         (1u << 5)
#define EXIT_HOST_64       (1u << 9)
#define EXIT_SAVE_EFER     (1u << 20)
#define EXIT_LOAD_EFER     (1u << 21)
#define ENTRY_IA32E_GUEST  (1u << 9)
#define ENTRY_LOAD_EFER    (1u << 15)

/* 16-bit fields */
#define GUEST_ES_SEL 0x0800
#define GUEST_CS_SEL 0x0802
#define GUEST_SS_SEL 0x0804
#define GUEST_DS_SEL 0x0806
#define GUEST_FS_SEL 0x0808
#define GUEST_GS_SEL 0x080a
#define GUEST_LDTR_SEL 0x080c
#define GUEST_TR_SEL 0x080e
#define HOST_ES_SEL 0x0c00
#define HOST_CS_SEL 0x0c02
#define HOST_SS_SEL 0x0c04
#define HOST_DS_SEL 0x0c06
#define HOST_FS_SEL 0x0c08
#define HOST_GS_SEL 0x0c0a
#define HOST_TR_SEL 0x0c0c
/* 64-bit fields */
#define IO_BITMAP_A 0x2000
#define IO_BITMAP_B 0x2002
#define MSR_BITMAP 0x2004
#define TSC_OFFSET 0x2010
#define VMCS_LINK_PTR 0x2800
#define GUEST_DEBUGCTL 0x2802
#define GUEST_EFER 0x2806
#define HOST_EFER 0x2c02
/* 32-bit fields */
#define PIN_CONTROLS 0x4000
#define PROC_CONTROLS 0x4002
#define EXCEPTION_BITMAP 0x4004
#define PF_ERRCODE_MASK 0x4006
#define PF_ERRCODE_MATCH 0x4008
#define CR3_TARGET_COUNT 0x400a
#define EXIT_CONTROLS 0x400c
#define EXIT_MSR_STORE_COUNT 0x400e
#define EXIT_MSR_LOAD_COUNT 0x4010
#define ENTRY_CONTROLS 0x4012
#define ENTRY_MSR_LOAD_COUNT 0x4014
#define ENTRY_INTR_INFO 0x4016
#define ENTRY_EXC_ERRCODE 0x4018
#define ENTRY_INSN_LEN 0x401a
#define VM_INSN_ERROR 0x4400
#define EXIT_REASON 0x4402
#define EXIT_INTR_INFO 0x4404
#define EXIT_INTR_ERRCODE 0x4406
#define IDT_VECTORING_INFO 0x4408
#define IDT_VECTORING_ERRCODE 0x440a
#define EXIT_INSN_LEN 0x440c
#define EXIT_INSN_INFO 0x440e
#define GUEST_ES_LIMIT 0x4800
#define GUEST_CS_LIMIT 0x4802
#define GUEST_SS_LIMIT 0x4804
#define GUEST_DS_LIMIT 0x4806
#define GUEST_FS_LIMIT 0x4808
#define GUEST_GS_LIMIT 0x480a
#define GUEST_LDTR_LIMIT 0x480c
#define GUEST_TR_LIMIT 0x480e
#define GUEST_GDTR_LIMIT 0x4810
#define GUEST_IDTR_LIMIT 0x4812
#define GUEST_ES_AR 0x4814
#define GUEST_CS_AR 0x4816
#define GUEST_SS_AR 0x4818
#define GUEST_DS_AR 0x481a
#define GUEST_FS_AR 0x481c
#define GUEST_GS_AR 0x481e
#define GUEST_LDTR_AR 0x4820
#define GUEST_TR_AR 0x4822
#define GUEST_INTERRUPTIBILITY 0x4824
#define GUEST_ACTIVITY 0x4826
#define GUEST_SYSENTER_CS 0x482a
#define HOST_SYSENTER_CS 0x4c00
/* natural-width fields */
#define CR0_GUEST_HOST_MASK 0x6000
#define CR4_GUEST_HOST_MASK 0x6002
#define CR0_READ_SHADOW 0x6004
#define CR4_READ_SHADOW 0x6006
#define CR3_TARGET_VALUE0 0x6008
#define EXIT_QUALIFICATION 0x6400
#define GUEST_CR0 0x6800
#define GUEST_CR3 0x6802
#define GUEST_CR4 0x6804
#define GUEST_ES_BASE 0x6806
#define GUEST_CS_BASE 0x6808
#define GUEST_SS_BASE 0x680a
#define GUEST_DS_BASE 0x680c
#define GUEST_FS_BASE 0x680e
#define GUEST_GS_BASE 0x6810
#define GUEST_LDTR_BASE 0x6812
#define GUEST_TR_BASE 0x6814
#define GUEST_GDTR_BASE 0x6816
#define GUEST_IDTR_BASE 0x6818
#define GUEST_DR7 0x681a
#define GUEST_RSP 0x681c
#define GUEST_RIP 0x681e
#define GUEST_RFLAGS 0x6820
#define GUEST_PENDING_DBG 0x6822
#define GUEST_SYSENTER_ESP 0x6824
#define GUEST_SYSENTER_EIP 0x6826
#define HOST_CR0 0x6c00
#define HOST_CR3 0x6c02
#define HOST_CR4 0x6c04
#define HOST_FS_BASE 0x6c06
#define HOST_GS_BASE 0x6c08
#define HOST_TR_BASE 0x6c0a
#define HOST_GDTR_BASE 0x6c0c
#define HOST_IDTR_BASE 0x6c0e
#define HOST_SYSENTER_ESP 0x6c10
#define HOST_SYSENTER_EIP 0x6c12
#define HOST_RSP 0x6c14
#define HOST_RIP 0x6c16

/* Outcome of a VMX instruction as the flags report it. */
enum { VMX_OK = 0, VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2, VMX_FAULTED = 3 };

static inline int vmx_flags(u8 cf, u8 zf) { return cf ? VMX_FAIL_INVALID : zf ? VMX_FAIL_VALID : VMX_OK; }

static inline int vmxon(u64 pa)
{
    u8 cf, zf;
    __asm__ volatile("vmxon %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(pa) : "memory");
    return vmx_flags(cf, zf);
}

static inline int vmxoff(void)
{
    u8 cf, zf;
    __asm__ volatile("vmxoff" : "=@ccc"(cf), "=@ccz"(zf) : : "memory");
    return vmx_flags(cf, zf);
}

static inline int vmclear(u64 pa)
{
    u8 cf, zf;
    __asm__ volatile("vmclear %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(pa) : "memory");
    return vmx_flags(cf, zf);
}

static inline int vmptrld(u64 pa)
{
    u8 cf, zf;
    __asm__ volatile("vmptrld %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(pa) : "memory");
    return vmx_flags(cf, zf);
}

static inline int vmwrite(u64 field, u64 val)
{
    u8 cf, zf;
    __asm__ volatile("vmwrite %3, %2" : "=@ccc"(cf), "=@ccz"(zf) : "r"(field), "r"(val) : "memory");
    return vmx_flags(cf, zf);
}

static inline int vmread_r(u64 field, u64 *val)
{
    u8 cf, zf;
    u64 v = 0;
    __asm__ volatile("vmread %3, %2" : "=@ccc"(cf), "=@ccz"(zf), "=r"(v) : "r"(field) : "memory");
    *val = v;
    return vmx_flags(cf, zf);
}

/* For fields that must exist: a failure here is a ghv bug, reported as 0. */
static inline u64 vmread(u64 field)
{
    u64 v;
    return vmread_r(field, &v) == VMX_OK ? v : 0;
}

/* ---- vmx.c ---- */
struct vmx_caps {
    u64 basic, pin, proc, proc2, exit, entry, misc, ept_vpid;
    u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    u32 revision;
    bool has_invvpid;           /* INVVPID exists: VPID allowed-1 and EPT_VPID_CAP[32] */
};
extern struct vmx_caps ghv_caps;
extern bool ghv_vmx_on;            /* ghv is in VMX operation */
bool vmx_probe(void);           /* checks + prints the "vmx basic=" line */
void vmx_prepare_cr(void);      /* CR0/CR4 per FIXED0/FIXED1, CR4.VMXE=1 */
void vmx_set_vmxe(bool on);
u64 vmx_region_init(void *page, u32 revision);  /* returns its physical address */
u32 vmx_revision(void);
extern u8 ghv_vmxon_region[GHV_PAGE];
const char *vmx_result_name(int r);

/* ---- vmrun.S: enter the current VMCS's guest ----
 * regs[] uses the SDM's GPR numbering (0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP
 * (unused: RSP lives in the VMCS), 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15).
 * Returns VMX_OK after a VM exit or a VM-entry failure (both arrive at host
 * RIP), VMX_FAIL_INVALID / VMX_FAIL_VALID if VMLAUNCH/VMRESUME failed. */
int ghv_vmrun(u64 regs[16], int resume);
extern const char ghv_vmexit_stub[];

/* ---- vmcs_setup.c ---- */
/* cr3_targets: how many CR3-target values ghv uses (1, or 0 where IA32_VMX_MISC[24:16]
 * offers none, as KVM's nested VMX does: then L2's load of its own CR3 exits too). */
struct vmcs_ctls { u32 pin, proc, exit, entry, cr3_targets; };
extern struct vmcs_ctls ghv_ctls;
bool vmcs_compute_controls(void);   /* from the capability MSRs; prints why not */
/* VMCLEAR + VMPTRLD + write every field ghv needs; guest = L2 at rip. */
bool vmcs_setup(void *vmcs, u64 guest_rip);
u64 l2_guest_cr0(void);
u64 l2_guest_cr4(void);

/* ---- exits.c ---- */
struct exit_info {
    u32 reason;                 /* full field, bit 31 = VM-entry failure */
    u32 basic;                  /* bits 15:0 */
    u64 qual, rip;
    u32 len, info, intr, err, idtv;
};
void exit_read(struct exit_info *e);
void exit_print(u32 n, const struct exit_info *e);

#endif
