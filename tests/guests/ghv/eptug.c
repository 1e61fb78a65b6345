/*
 * ghv: test=ept-ug — L2 in real mode under "unrestricted guest".
 *
 * EPT12: GPA 0 - 2 MiB onto L1-physical E_OFS (one 2 MiB leaf, WB, RWX).
 * L2 enters with CR0.PE = CR0.PG = 0 (allowed only with unrestricted
 * guest, SDM "Checks on Guest Control Registers, Debug Registers, and
 * MSRs"), CS = DS = SS = UG_SEL with base UG_GPA, at the stub l2_ug_stub
 * (l2_ept.S) copied there:
 *
 * | n | exit | ghv |
 * | 1 | CPUID, 10, rip = offset in CS, len 2 | EAX = 0x4755, EBX = 0x47554755 ("UGUG") |
 * | 2 | OUT 0x80 (AL 0x5a), 30, 0x800040, len 2 (basic's I/O bitmap) | remembers AL |
 * | - | MOV CR0 (PE=1), far jump to 32-bit code: no exits (CR0 mask 0) | |
 * | 3 | VMCALL in 32-bit protected mode, 18, rip = UG_GPA + offset, len 3 | done |
 *
 * L2 stores what CPUID returned and CR0 in real and in protected mode at
 * UG_GPA + UG_RES; ghv also checks guest CR0 and CS access rights at the end.
 */
#include "ept.h"

enum { RAX = 0, RBX = 3 };

static void w(struct xt *t, u64 f, u64 v)
{
    if (vmwrite(f, v) != VMX_OK) {
        gprintf("ghv: vmwrite field=0x%lx failed error=%lu\n", f, vmread(VM_INSN_ERROR));
        fail_add(&t->f, "vmwrite");
    }
}

static void real_seg(struct xt *t, u64 sel_f, u64 base_f, u64 limit_f, u64 ar_f, u32 ar)
{
    w(t, sel_f, UG_SEL);
    w(t, base_f, UG_GPA);
    w(t, limit_f, 0xffff);
    w(t, ar_f, ar);
}

/* CR0 the real-mode L2 starts with: ET, NE and the other FIXED0 bits except
 * PE and PG, which unrestricted guest exempts. */
static u64 ug_cr0(void)
{
    return ((CR0_ET | CR0_NE) | (ghv_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG))) & ghv_caps.cr0_fixed1;
}

static bool vmcs_real(struct xt *t, void *vmcs, const struct ept12 *e)
{
    if (!xt_vmcs(t, vmcs, 0))
        return false;
    u32 before = t->f.count;
    w(t, PROC_CONTROLS, ghv_ctls.proc | PROC_SECONDARY);
    w(t, SECONDARY_CONTROLS, PROC2_EPT | PROC2_UG | (u32)ghv_caps.proc2);
    w(t, EPT_POINTER, e->eptp);
    w(t, ENTRY_CONTROLS, ghv_ctls.entry & ~ENTRY_IA32E_GUEST);
    if (ghv_ctls.entry & ENTRY_LOAD_EFER)
        w(t, GUEST_EFER, 0);
    w(t, EXCEPTION_BITMAP, 0);
    w(t, PF_ERRCODE_MASK, 0);
    w(t, PF_ERRCODE_MATCH, 0);
    w(t, CR0_GUEST_HOST_MASK, 0);
    w(t, CR0_READ_SHADOW, 0);
    w(t, CR4_GUEST_HOST_MASK, 0);
    w(t, CR4_READ_SHADOW, 0);
    w(t, CR3_TARGET_COUNT, 0);
    w(t, GUEST_CR0, ug_cr0());
    w(t, GUEST_CR4, ghv_caps.cr4_fixed0 & ghv_caps.cr4_fixed1);
    w(t, GUEST_CR3, 0);
    real_seg(t, GUEST_CS_SEL, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR, 0x9b);
    real_seg(t, GUEST_SS_SEL, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR, 0x93);
    real_seg(t, GUEST_DS_SEL, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR, 0x93);
    real_seg(t, GUEST_ES_SEL, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR, 0x93);
    real_seg(t, GUEST_FS_SEL, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR, 0x93);
    real_seg(t, GUEST_GS_SEL, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR, 0x93);
    w(t, GUEST_TR_SEL, 0);
    w(t, GUEST_TR_BASE, 0);
    w(t, GUEST_TR_LIMIT, 0xffff);
    w(t, GUEST_TR_AR, 0x8b);          /* busy 32-bit TSS: TR must be usable */
    w(t, GUEST_GDTR_BASE, 0);
    w(t, GUEST_GDTR_LIMIT, 0xffff);
    w(t, GUEST_IDTR_BASE, 0);
    w(t, GUEST_IDTR_LIMIT, 0x3ff);
    w(t, GUEST_RIP, 0);
    w(t, GUEST_RSP, UG_SP);
    w(t, GUEST_RFLAGS, 0x2);
    return t->f.count == before;
}

bool ept_ug_run(void)
{
    struct xt t;
    xt_begin(&t, "ept-ug");
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    if (!e_secondary_offered(&t, PROC2_EPT | PROC2_UG))
        return xt_end(&t, 0);
    if ((u32)ghv_caps.entry & ENTRY_IA32E_GUEST) {
        gprintf("ghv: ept-ug skipped ia32e-mode-guest=0\n");
        return xt_end(&t, 0);
    }
    if (!e_mem_check(&t, E_POOL_BASE, E_POOL_END, "pool") || !e_mem_check(&t, E_OFS, E_OFS + 0x200000, "l2 memory"))
        return xt_end(&t, 0);

    struct ept12 e;
    u64 vmcs = e_pool_page();
    if (!vmcs || !ept12_init(&e)) {
        fail_add(&t.f, "pool");
        return xt_end(&t, 0);
    }
    bool ok = true;
    if (ghv_caps.ept_vpid & CAP_2M) {
        ok = ept12_map(&e, 0, E_OFS, 2, EPT_RWX | EPT_WB);
    } else {
        for (u64 g = 0; g < 0x200000; g += GHV_PAGE)
            ok &= ept12_map(&e, g, g + E_OFS, 1, EPT_RWX | EPT_WB);
    }
    memset(e_ptr(E_OFS), 0, 0x200000);
    memcpy(e_ptr(E_OFS + UG_GPA), l2_ug_stub, (size_t)(l2_ug_stub_end - l2_ug_stub));
    if (!ok || !vmcs_real(&t, e_ptr(vmcs), &e)) {
        fail_add(&t.f, "setup");
        return xt_end(&t, 0);
    }

    /* VM entry leaves CR0.ET/CD/NW as they are (SDM "Loading Guest Control
     * Registers, Debug Registers, and MSRs"): ghv's. */
    u64 keep = CR0_CD | CR0_NW | CR0_ET, cr0 = (ug_cr0() & ~keep) | (read_cr0() & keep);
    u64 out80 = 0;
    struct eexit x;
    struct eexp want = {XR_CPUID, 0, (u64)(l2_ug_cpuid - l2_ug_stub), 2, 0, 0, 0};
    if (e_step(&t, "cpuid", &want, &x) && x.x.basic == XR_CPUID) {
        t.regs[RAX] = 0x4755;
        t.regs[RBX] = 0x47554755;
        vmwrite(GUEST_RIP, x.x.rip + x.x.len);
        want = (struct eexp){XR_IO, (0x80 << 16) | 0x40, (u64)(l2_ug_out - l2_ug_stub), 2, 0, 0, 0};
        if (e_step(&t, "out80", &want, &x) && x.x.basic == XR_IO) {
            out80 = t.regs[RAX] & 0xff;
            vmwrite(GUEST_RIP, x.x.rip + x.x.len);
            want = (struct eexp){XR_VMCALL, 0, UG_GPA + (u64)(l2_ug_vmcall - l2_ug_stub), 3, 0, 0, 0};
            if (e_step(&t, "vmcall", &want, &x) && x.x.basic == XR_VMCALL) {
                xt_show(&t, "guest.cr0", vmread(GUEST_CR0), cr0 | CR0_PE);
                xt_show(&t, "guest.cs.ar", vmread(GUEST_CS_AR), 0xc09b);
            }
        }
    }
    volatile u32 *res = (volatile u32 *)e_ptr(E_OFS + UG_GPA + UG_RES);

    xt_show(&t, "l2 cpuid.eax", res[UG_R_EAX / 4], 0x4755);
    xt_show(&t, "l2 cpuid.ebx", res[UG_R_EBX / 4], 0x47554755);
    xt_show(&t, "out80", out80, 0x5a);
    xt_show(&t, "l2 cr0.rm", res[UG_R_CR0RM / 4], cr0);
    xt_show(&t, "l2 cr0.pm", res[UG_R_CR0PM / 4], cr0 | CR0_PE);
    return xt_end(&t, 3);
}
