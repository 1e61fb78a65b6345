/*
 * ghv: the VMCS ghv runs L2 with — controls, bitmaps, host and guest state.
 *
 * Controls: each wanted bit must be allowed-1 in the (TRUE_) capability MSR,
 * and every allowed-0 ("must be 1") bit is added, so the same code works on
 * Bochs and under a nested hypervisor with a smaller feature set. Secondary
 * controls are deliberately never activated: the VMCS then means the same
 * with and without EPT, and guest-physical == ghv-physical for L2.
 */
#include "l2_shared.h"
#include "vmx.h"

struct vmcs_ctls ghv_ctls;

static u8 io_bitmap_a[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));   /* ports 0x0000-0x7fff */
static u8 io_bitmap_b[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));   /* ports 0x8000-0xffff */
static u8 msr_bitmap[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));

static bool pick(const char *what, u64 cap, u32 want, u32 *out)
{
    u32 must = (u32)cap, may = (u32)(cap >> 32);
    if (want & ~may) {
        gprintf("ghv: %s controls 0x%x not allowed (allowed-1 0x%x)\n", what, want & ~may, may);
        return false;
    }
    *out = want | must;
    return true;
}

bool vmcs_compute_controls(void)
{
    const struct vmx_caps *c = &ghv_caps;
    bool ok = pick("pin", c->pin, 0, &ghv_ctls.pin);
    ok &= pick("proc", c->proc,
               PROC_HLT_EXIT | PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_RDTSC_EXIT | PROC_INVLPG_EXIT |
                   PROC_MOV_DR_EXIT | PROC_CR3_LOAD_EXIT,
               &ghv_ctls.proc);
    ok &= pick("exit", c->exit, EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER, &ghv_ctls.exit);
    ok &= pick("entry", c->entry, ENTRY_IA32E_GUEST | ENTRY_LOAD_EFER, &ghv_ctls.entry);
    /* "activate secondary controls" must stay 0; it is never a must-be-1 bit. */
    ghv_ctls.proc &= ~PROC_SECONDARY;
    /* SDM A.6: IA32_VMX_MISC[24:16] CR3-target values; 0 is a legal answer (KVM's nested VMX). */
    ghv_ctls.cr3_targets = ((c->misc >> 16) & 0x1ff) ? 1 : 0;
    return ok;
}

u64 l2_guest_cr0(void)
{
    /* PE, MP, ET, NE, WP (write faults at CPL 0 need it), PG. */
    return ((CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG) | ghv_caps.cr0_fixed0) & ghv_caps.cr0_fixed1;
}

u64 l2_guest_cr4(void) { return (CR4_PAE | CR4_VMXE | ghv_caps.cr4_fixed0) & ghv_caps.cr4_fixed1; }

static void bitmaps_init(void)
{
    memset(io_bitmap_a, 0, GHV_PAGE);
    memset(io_bitmap_b, 0, GHV_PAGE);
    io_bitmap_a[0x80 / 8] |= 1u << (0x80 % 8);
    io_bitmap_a[0x61 / 8] |= 1u << (0x61 % 8);
    /* MSR bitmap quarters: read low, read high, write low, write high. */
    memset(msr_bitmap, 0, GHV_PAGE);
    msr_bitmap[0x000 + 0x174 / 8] |= 1u << (0x174 % 8);
    msr_bitmap[0xc00 + 0x102 / 8] |= 1u << (0x102 % 8);    /* WRMSR 0xc0000102 */
}

static bool write_ok;

static void w(u64 field, u64 val)
{
    if (vmwrite(field, val) != VMX_OK) {
        u64 err = vmread(VM_INSN_ERROR);
        gprintf("ghv: vmwrite field=0x%lx failed error=%lu\n", field, err);
        write_ok = false;
    }
}

static void host_state(void)
{
    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) gdtr, idtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    __asm__ volatile("sidt %0" : "=m"(idtr));

    w(HOST_CR0, read_cr0());
    w(HOST_CR3, read_cr3());
    w(HOST_CR4, read_cr4());
    w(HOST_CS_SEL, GHV_KCS);
    w(HOST_SS_SEL, GHV_KDS);
    w(HOST_DS_SEL, GHV_KDS);
    w(HOST_ES_SEL, GHV_KDS);
    w(HOST_FS_SEL, GHV_KDS);
    w(HOST_GS_SEL, GHV_KDS);
    w(HOST_TR_SEL, GHV_TSS);
    w(HOST_FS_BASE, 0);
    w(HOST_GS_BASE, 0);
    w(HOST_TR_BASE, ghv_tss_base());
    w(HOST_GDTR_BASE, gdtr.base);
    w(HOST_IDTR_BASE, idtr.base);
    w(HOST_SYSENTER_CS, 0);
    w(HOST_SYSENTER_ESP, 0);
    w(HOST_SYSENTER_EIP, 0);
    if (ghv_ctls.exit & EXIT_LOAD_EFER)
        w(HOST_EFER, rdmsr(MSR_EFER));
    w(HOST_RIP, phys(ghv_vmexit_stub));
    w(HOST_RSP, 0);                 /* ghv_vmrun sets it before every entry */
}

static void guest_seg(u64 sel_f, u64 base_f, u64 limit_f, u64 ar_f, u16 sel, u32 ar)
{
    w(sel_f, sel);
    w(base_f, 0);
    w(limit_f, 0xffffffff);
    w(ar_f, ar);
}

static void guest_state(u64 rip)
{
    w(GUEST_CR0, l2_guest_cr0());
    w(GUEST_CR3, ghv_l2.cr3);
    w(GUEST_CR4, l2_guest_cr4());
    w(GUEST_DR7, 0x400);
    w(GUEST_DEBUGCTL, 0);
    if (ghv_ctls.entry & ENTRY_LOAD_EFER)
        w(GUEST_EFER, 0x500);       /* LME | LMA */
    w(GUEST_RIP, rip);
    w(GUEST_RSP, ghv_l2.stack_top);
    w(GUEST_RFLAGS, 0x2);           /* IF = 0 */

    /* Flat segments: CS 64-bit code (L=1), everything else read/write data;
     * types have the accessed bit set as VM entry requires. */
    guest_seg(GUEST_CS_SEL, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR, GHV_L2_CS, 0xa09b);
    guest_seg(GUEST_SS_SEL, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR, GHV_L2_DS, 0xc093);
    guest_seg(GUEST_DS_SEL, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR, GHV_L2_DS, 0xc093);
    guest_seg(GUEST_ES_SEL, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR, GHV_L2_DS, 0xc093);
    guest_seg(GUEST_FS_SEL, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR, GHV_L2_DS, 0xc093);
    guest_seg(GUEST_GS_SEL, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR, GHV_L2_DS, 0xc093);
    w(GUEST_LDTR_SEL, 0);
    w(GUEST_LDTR_BASE, 0);
    w(GUEST_LDTR_LIMIT, 0);
    w(GUEST_LDTR_AR, 0x10000);      /* unusable */
    w(GUEST_TR_SEL, GHV_L2_TR);
    w(GUEST_TR_BASE, ghv_l2.tss_base);
    w(GUEST_TR_LIMIT, 103);
    w(GUEST_TR_AR, 0x8b);           /* present, busy 64-bit TSS */
    w(GUEST_GDTR_BASE, ghv_l2.gdt_base);
    w(GUEST_GDTR_LIMIT, ghv_l2.gdt_limit);
    w(GUEST_IDTR_BASE, ghv_l2.idt_base);
    w(GUEST_IDTR_LIMIT, ghv_l2.idt_limit);

    w(GUEST_SYSENTER_CS, 0);
    w(GUEST_SYSENTER_ESP, 0);
    w(GUEST_SYSENTER_EIP, 0);
    w(GUEST_INTERRUPTIBILITY, 0);
    w(GUEST_ACTIVITY, 0);
    w(GUEST_PENDING_DBG, 0);
    w(VMCS_LINK_PTR, ~0ull);
}

static void control_state(void)
{
    w(PIN_CONTROLS, ghv_ctls.pin);
    w(PROC_CONTROLS, ghv_ctls.proc);
    w(EXIT_CONTROLS, ghv_ctls.exit);
    w(ENTRY_CONTROLS, ghv_ctls.entry);
    w(EXIT_MSR_STORE_COUNT, 0);
    w(EXIT_MSR_LOAD_COUNT, 0);
    w(ENTRY_MSR_LOAD_COUNT, 0);
    w(ENTRY_INTR_INFO, 0);
    w(ENTRY_EXC_ERRCODE, 0);
    w(ENTRY_INSN_LEN, 0);
    w(TSC_OFFSET, 0);

    /* #BP, #UD always exit; #PF only when (PFEC & W) == W: write faults. */
    w(EXCEPTION_BITMAP, (1u << 3) | (1u << 6) | (1u << 14));
    w(PF_ERRCODE_MASK, 0x2);
    w(PF_ERRCODE_MATCH, 0x2);

    /* ghv owns CR0.TS/MP and CR4.PCE; L2 reads the shadows for them. */
    w(CR0_GUEST_HOST_MASK, CR0_TS | CR0_MP);
    w(CR0_READ_SHADOW, l2_guest_cr0() & ~CR0_TS);
    w(CR4_GUEST_HOST_MASK, CR4_PCE);
    w(CR4_READ_SHADOW, l2_guest_cr4() & ~CR4_PCE);
    w(CR3_TARGET_COUNT, ghv_ctls.cr3_targets);
    if (ghv_ctls.cr3_targets)
        w(CR3_TARGET_VALUE0, ghv_l2.cr3);

    w(IO_BITMAP_A, phys(io_bitmap_a));
    w(IO_BITMAP_B, phys(io_bitmap_b));
    w(MSR_BITMAP, phys(msr_bitmap));
}

bool vmcs_setup(void *vmcs, u64 guest_rip)
{
    /* VMCLEAR first (it does not look at the revision), then stamp the
     * revision into the now-inactive region, then make it current. */
    u64 vmcs_pa = phys(vmcs);
    int r = vmclear(vmcs_pa);
    *(volatile u32 *)vmcs = vmx_revision();
    if (r != VMX_OK || vmptrld(vmcs_pa) != VMX_OK) {
        gprintf("ghv: vmclear/vmptrld of a fresh vmcs failed\n");
        return false;
    }
    bitmaps_init();
    write_ok = true;
    control_state();
    host_state();
    guest_state(guest_rip);
    return write_ok;
}
