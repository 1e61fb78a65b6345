/* One L1 vCPU on the fake CPU and the invariants of the nested layer (see l1env.h). */
#include "l1env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakecpu.h"
#include "nestor/arch.h"
#include "nestor/ept.h"
#include "nestor/ept12.h"
#include "nestor/l1.h"
#include "nestor/log.h"
#include "nestor/operand_addr.h"
#include "nestor/palloc.h"
#include "nestor/physmem.h"
#include "nestor/platform.h"
#include "nestor/vmcs12.h"
#include "nestor/vmx.h"
#include "nestor/vmx_ops.h"

struct l1env E;
struct vmx_caps g_vmx_caps;

static struct vcpu vcpu_s;
static struct l1_vm vm_s;
static uint64_t stale_page, stale_epoch; /* see cpu_would_fault() */

/* ------------------------------------------------------------------ input */

uint8_t fin_u8(struct fin *f)
{
    if (!f->n)
        return 0;
    f->n--;
    return *f->p++;
}
uint16_t fin_u16(struct fin *f) { return (uint16_t)(fin_u8(f) | fin_u8(f) << 8); }
uint32_t fin_u32(struct fin *f) { return fin_u16(f) | (uint32_t)fin_u16(f) << 16; }
uint64_t fin_u64(struct fin *f) { return fin_u32(f) | (uint64_t)fin_u32(f) << 32; }

void env_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "INVARIANT VIOLATED: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", fake_log_tail());
    abort();
}

/* ------------------------------------------------------------------ the machine */

/* Bochs corei7_skylake_x (the VT-x machine the boot tests use), as vmx/vmx_cpu.c reads it. */
static void bochs_caps(struct vmx_caps *c)
{
    memset(c, 0, sizeof *c);
    c->basic = 0x00d810000000002bull;
    c->misc = 0x00000000600401e0ull;
    c->ept_vpid = 0x00000f0106334141ull;
    c->vmcs_enum = 0x34;
    c->cr0_fixed0 = 0x80000021ull;
    c->cr0_fixed1 = 0xffffffffull;
    c->cr4_fixed0 = 0x2000ull;
    c->cr4_fixed1 = 0x3727ffull;
    c->true_ctls = true;
    c->has_proc2 = true;
    c->pin = vmx_ctl_cap_from_msr(0x0000007f00000016ull);
    c->proc = vmx_ctl_cap_from_msr(0xf7f9fffe04006172ull);
    c->proc2 = vmx_ctl_cap_from_msr(0x02177fff00000000ull);
    c->exit = vmx_ctl_cap_from_msr(0x007fffff00036dfbull);
    c->entry = vmx_ctl_cap_from_msr(0x0000ffff000011fbull);
    c->phys_addr_mask = (1ull << 39) - 1;
}

void *env_l1_ptr(gpa_t gpa)
{
    if (gpa >= L1_RAM_SIZE)
        env_fail("harness: gpa 0x%llx is not L1 RAM", (unsigned long long)gpa);
    return phys_to_virt(E.ram_hpa + gpa);
}

static void w(uint32_t field, uint64_t value)
{
    if (vmwrite(field, value) != VMX_OK)
        env_fail("harness: VMWRITE 0x%x", field);
}

static void set_seg(uint32_t sel_field, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    unsigned i = (sel_field - VMCS_GUEST_ES_SEL) / 2;
    w(sel_field, sel);
    w(VMCS_GUEST_ES_BASE + 2 * i, base);
    w(VMCS_GUEST_ES_LIMIT + 2 * i, limit);
    w(VMCS_GUEST_ES_AR + 2 * i, ar);
}

#define AR_CODE64 0xa09bu
#define AR_CODE32 0xc09bu
#define AR_DATA 0xc093u
#define AR_REAL_CODE 0x9bu
#define AR_REAL_DATA 0x93u

bool env_long_mode(void) { return (E.cfg & CFG_MODE_MASK) == 0; }

static void setup_l1_mode(struct vcpu *v, uint8_t cfg)
{
    unsigned mode = cfg & CFG_MODE_MASK;
    uint64_t cr0 = CR0_ET | CR0_NE | CR0_MP, cr4 = (cfg & CFG_NO_VMXE) ? 0 : CR4_VMXE, efer = 0;
    uint32_t cs_ar = AR_CODE32, ds_ar = AR_DATA, limit = 0xffffffff;
    if (mode != 3)
        cr0 |= CR0_PE;
    if (mode == 0 || mode == 2) {
        cr0 |= CR0_PG | CR0_WP;
        cr4 |= CR4_PAE;
        efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
        cs_ar = mode == 0 ? AR_CODE64 : AR_CODE32;
        uint64_t *pml4 = env_l1_ptr(L1_PT_GPA), *pdpt = env_l1_ptr(L1_PT_GPA + 0x1000),
                 *pd = env_l1_ptr(L1_PT_GPA + 0x2000);
        pml4[0] = (L1_PT_GPA + 0x1000) | 3;
        pdpt[0] = (L1_PT_GPA + 0x2000) | 3;
        pd[0] = 0x83; /* 2 MiB at 0, present and writable */
        v->entry_ctls |= ENTRY_IA32E_MODE_GUEST;
    }
    if (mode == 3) {
        cs_ar = AR_REAL_CODE;
        ds_ar = AR_REAL_DATA;
        limit = 0xffff;
    }
    if (cfg & CFG_CPL3) {
        cs_ar |= 3u << 5;
        ds_ar |= 3u << 5;
    }
    w(VMCS_CR0_READ_SHADOW, cr0);
    w(VMCS_CR4_READ_SHADOW, cr4);
    w(VMCS_GUEST_CR0, (cr0 | v->cr0_fixed0) & v->cr0_fixed1);
    w(VMCS_GUEST_CR4, (cr4 | v->cr4_fixed0) & v->cr4_fixed1);
    w(VMCS_GUEST_CR3, L1_PT_GPA);
    w(VMCS_GUEST_EFER, efer);
    set_seg(VMCS_GUEST_CS_SEL, 0x08, 0, limit, cs_ar);
    set_seg(VMCS_GUEST_SS_SEL, 0x10, 0, limit, ds_ar);
    set_seg(VMCS_GUEST_DS_SEL, 0x10, 0, limit, ds_ar);
    set_seg(VMCS_GUEST_ES_SEL, 0x10, 0, limit, ds_ar);
    set_seg(VMCS_GUEST_FS_SEL, 0x10, 0, limit, ds_ar);
    set_seg(VMCS_GUEST_GS_SEL, 0x10, 0, limit, ds_ar);
    set_seg(VMCS_GUEST_TR_SEL, 0x18, 0, 0x67, 0x8b);
    set_seg(VMCS_GUEST_LDTR_SEL, 0, 0, 0xffff, 0x10082);
    w(VMCS_GUEST_RFLAGS, 0x2 | ((cfg & CFG_VM86) ? RFLAGS_VM : 0));
}

void env_reset(uint8_t cfg)
{
    stale_page = stale_epoch = ~0ull;
    fake_mem_init();
    bochs_caps(&g_vmx_caps);
    fake_cpu_reset(g_vmx_caps.basic, g_vmx_caps.misc & VMX_MISC_VMWRITE_ANY_FIELD);
    log_set_level("warn");
    palloc_init(&g_palloc);
    if (!palloc_add_free(&g_palloc, FAKE_PHYS_BASE, FAKE_PHYS_BASE + FAKE_PHYS_SIZE))
        abort();

    memset(&E, 0, sizeof E);
    memset(&vcpu_s, 0, sizeof vcpu_s);
    memset(&vm_s, 0, sizeof vm_s);
    struct vcpu *v = &vcpu_s;
    struct l1_vm *vm = &vm_s;
    E.v = v;
    E.vm = vm;
    E.cfg = cfg;
    v->vm = vm;

    /* L1's memory: 1 MiB of RAM and one read-only page, everything else a hole. */
    E.ram_hpa = palloc_alloc(&g_palloc, L1_RAM_SIZE / PAGE_SIZE, 1);
    E.rom_hpa = palloc_alloc(&g_palloc, 1, 1);
    memset(phys_to_virt(E.ram_hpa), 0, L1_RAM_SIZE);
    memset(phys_to_virt(E.rom_hpa), 0x5a, PAGE_SIZE);
    if (!ept_init(&vm->ept, g_vmx_caps.ept_vpid) ||
        !ept_map(&vm->ept, 0, E.ram_hpa, L1_RAM_SIZE, EPT_R | EPT_W | EPT_X, MEMTYPE_WB) ||
        !ept_map(&vm->ept, L1_ROM_GPA, E.rom_hpa, PAGE_SIZE, EPT_R | EPT_X, MEMTYPE_WB))
        env_fail("harness: EPT01");

    /* vmcs01 as vmx/vmcs01.c sets it up, for the parts the nested layer reads. */
    v->vmcs = page_alloc_zeroed();
    *(uint32_t *)phys_to_virt(v->vmcs) = (uint32_t)(g_vmx_caps.basic & 0x7fffffff);
    vmclear(v->vmcs);
    vmptrld(v->vmcs);
    vmcs_write_host_state();
    v->vpid = (cfg & CFG_NO_VPID) ? 0 : 1;
    v->cr0_fixed0 = g_vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG);
    v->cr0_fixed1 = g_vmx_caps.cr0_fixed1;
    v->cr4_fixed0 = g_vmx_caps.cr4_fixed0;
    v->cr4_fixed1 = g_vmx_caps.cr4_fixed1;
    v->cr0_mask = (v->cr0_fixed0 | ~v->cr0_fixed1) & 0xffffffffull;
    v->cr4_mask = (v->cr4_fixed0 | ~v->cr4_fixed1 | CR4_VMXE) & 0xffffffffull;
    v->pin = PIN_EXT_INTR_EXITING;
    v->proc = PROC_SECONDARY_CONTROLS | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS;
    v->proc2 = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | (v->vpid ? PROC2_ENABLE_VPID : 0);
    v->exit_ctls = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
                   EXIT_SAVE_DEBUG_CONTROLS;
    v->entry_ctls = ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CONTROLS;
    w(VMCS_CR0_GUEST_HOST_MASK, v->cr0_mask);
    w(VMCS_CR4_GUEST_HOST_MASK, v->cr4_mask);
    setup_l1_mode(v, cfg);
    w(VMCS_PIN_CONTROLS, v->pin);
    w(VMCS_PROC_CONTROLS, v->proc);
    w(VMCS_PROC_CONTROLS2, v->proc2);
    w(VMCS_EXIT_CONTROLS, v->exit_ctls);
    w(VMCS_ENTRY_CONTROLS, v->entry_ctls);
    w(VMCS_EPT_POINTER, ept_eptp(&vm->ept));
    if (v->vpid)
        w(VMCS_VPID, v->vpid);
    w(VMCS_GUEST_RIP, 0x7000);
    w(VMCS_GUEST_RSP, 0x6ff0);
    w(VMCS_GUEST_DR7, 0x400);
    w(VMCS_GUEST_DEBUGCTL, 0);
    w(VMCS_GUEST_PAT, 0x0007040600070406ull);
    w(VMCS_GUEST_INTERRUPTIBILITY, 0);
    w(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    w(VMCS_GUEST_PENDING_DBG, 0);
    w(VMCS_LINK_POINTER, ~0ull);
    w(VMCS_ENTRY_INTR_INFO, 0);
    w(VMCS_EXIT_INSTRUCTION_LEN, 3);

    /* Nestor's own exits (merged into vmcs02's bitmaps): a few ports, the MSRs core/vmsr.c emulates. */
    v->io_bitmap[0] = page_alloc_zeroed();
    v->io_bitmap[1] = page_alloc_zeroed();
    uint8_t *ioa = phys_to_virt(v->io_bitmap[0]), *iob = phys_to_virt(v->io_bitmap[1]);
    static const uint16_t ports[] = {0x20, 0x21, 0x60, 0x64, 0x70, 0x71, 0x92, 0xa0, 0xa1, 0x3f8, 0x3f9, 0x3fa,
                                     0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0xcf8, 0xcf9, 0xcfc, 0xcfd, 0xcfe, 0xcff};
    for (unsigned i = 0; i < ARRAY_SIZE(ports); i++)
        ioa[ports[i] / 8] |= (uint8_t)(1u << (ports[i] % 8));
    iob[0x100] = 0x01; /* port 0x8800 */
    w(VMCS_IO_BITMAP_A, v->io_bitmap[0]);
    w(VMCS_IO_BITMAP_B, v->io_bitmap[1]);
    v->msr_bitmap = page_alloc_zeroed();
    static uint8_t msr_bitmap01[4096];
    static bool msr_bitmap_done;
    if (!msr_bitmap_done) /* core/vmsr.c's bitmap is the same every time, and slow to compute */
        vmsr_fill_bitmap(msr_bitmap01);
    msr_bitmap_done = true;
    memcpy(phys_to_virt(v->msr_bitmap), msr_bitmap01, sizeof msr_bitmap01);
    w(VMCS_MSR_BITMAP, v->msr_bitmap);
    v->msr.phys_addr_mask = g_vmx_caps.phys_addr_mask;
    v->msr.misc_enable = BIT(0) | BIT(11) | BIT(12);
    v->msr.apic_base = 0xfee00000 | APIC_BASE_ENABLE | APIC_BASE_BSP;

    nested_init(v, true, cfg & CFG_SHADOWING, !(cfg & CFG_NO_EPT));
    if (g_fake_cpu.current != v->vmcs)
        env_fail("nested_init left VMCS 0x%llx current, not vmcs01", (unsigned long long)g_fake_cpu.current);

    uint32_t rev = VMCS12_REVISION;
    memcpy(env_l1_ptr(L1_VMXON_GPA), &rev, 4);
    for (unsigned k = 0; k < L1_VMCS_COUNT; k++)
        memcpy(env_l1_ptr(L1_VMCS_GPA(k)), &rev, 4);
}

/*
 * L1 switches paging mode (as MOV to CR0/CR4 would leave vmcs01): 0 none, 1 32-bit paging with
 * 4 KiB pages, 2 32-bit paging with a 4 MiB page (PSE), 3 PAE, 4 4-level. Page tables at
 * L1_PT_GPA identity-map the first 2 MiB (L1_PT_GPA..+0x3fff are rewritten).
 */
void env_set_paging(unsigned mode)
{
    struct vcpu *v = E.v;
    memset(env_l1_ptr(L1_PT_GPA), 0, 3 * PAGE_SIZE);
    uint64_t cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_MP | (mode ? CR0_PG | CR0_WP : 0);
    uint64_t cr4 = (E.cfg & CFG_NO_VMXE) ? 0 : CR4_VMXE, efer = 0, pdpte[4] = {0};
    uint32_t *pd32 = env_l1_ptr(L1_PT_GPA), *pt32 = env_l1_ptr(L1_PT_GPA + PAGE_SIZE);
    uint64_t *t0 = env_l1_ptr(L1_PT_GPA), *t1 = env_l1_ptr(L1_PT_GPA + PAGE_SIZE), *t2 = env_l1_ptr(L1_PT_GPA + 2 * PAGE_SIZE);
    switch (mode) {
    case 1:
        pd32[0] = (uint32_t)(L1_PT_GPA + PAGE_SIZE) | 3;
        for (unsigned i = 0; i < 512; i++)
            pt32[i] = (uint32_t)(i * PAGE_SIZE) | 3;
        break;
    case 2:
        cr4 |= BIT(4); /* PSE */
        pd32[0] = 0x83;
        break;
    case 3:
        cr4 |= CR4_PAE;
        t0[0] = (L1_PT_GPA + PAGE_SIZE) | 1;
        t1[0] = 0x83;
        pdpte[0] = t0[0];
        break;
    case 4:
        cr4 |= CR4_PAE;
        efer = EFER_LME | EFER_LMA | EFER_NXE;
        t0[0] = (L1_PT_GPA + PAGE_SIZE) | 3;
        t1[0] = (L1_PT_GPA + 2 * PAGE_SIZE) | 3;
        t2[0] = 0x83;
        break;
    }
    w(VMCS_CR0_READ_SHADOW, cr0);
    w(VMCS_CR4_READ_SHADOW, cr4);
    w(VMCS_GUEST_CR0, (cr0 | v->cr0_fixed0) & v->cr0_fixed1);
    w(VMCS_GUEST_CR4, (cr4 | v->cr4_fixed0) & v->cr4_fixed1);
    w(VMCS_GUEST_CR3, L1_PT_GPA);
    w(VMCS_GUEST_EFER, efer);
    for (unsigned i = 0; i < 4; i++)
        w(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
    v->entry_ctls = mode == 4 ? v->entry_ctls | ENTRY_IA32E_MODE_GUEST : v->entry_ctls & ~ENTRY_IA32E_MODE_GUEST;
    w(VMCS_ENTRY_CONTROLS, v->entry_ctls);
    uint32_t cs_ar = mode == 4 ? AR_CODE64 : AR_CODE32;
    if (E.cfg & CFG_CPL3)
        cs_ar |= 3u << 5;
    w(VMCS_GUEST_CS_AR, cs_ar);
    E.cfg = (uint8_t)((E.cfg & ~CFG_MODE_MASK) | (mode == 4 ? 0 : 1));
}

/* 4 MiB more RAM at L1_HIGH_GPA, 2 MiB aligned in host memory too: EPT01 maps it with 2 MiB pages. */
void env_add_high_ram(void)
{
    E.high_hpa = palloc_alloc(&g_palloc, L1_HIGH_SIZE / PAGE_SIZE, (2 * MiB) / PAGE_SIZE);
    if (!E.high_hpa)
        env_fail("harness: no 2 MiB-aligned memory for the high RAM");
    memset(phys_to_virt(E.high_hpa), 0, L1_HIGH_SIZE);
    if (!ept_map(&E.vm->ept, L1_HIGH_GPA, E.high_hpa, L1_HIGH_SIZE, EPT_R | EPT_W | EPT_X, MEMTYPE_WB))
        env_fail("harness: EPT01 high RAM");
}

/* Takes Nestor's free memory down to keep_pages (shadow EPT02 tables then run short). */
void env_squeeze_memory(uint64_t keep_pages)
{
    uint64_t free_pages = palloc_free_pages(&g_palloc);
    while (free_pages > keep_pages) {
        uint64_t take = free_pages - keep_pages;
        if (!palloc_alloc(&g_palloc, take, 1) && !palloc_alloc(&g_palloc, take = 1, 1))
            break;
        free_pages -= take;
    }
}

/* ------------------------------------------------------------------ operands */

uint32_t env_mem_operand(uint64_t lo, uint64_t hi, unsigned off)
{
    gpa_t at = L1_SCRATCH_GPA + (off & 0x7ff);
    memcpy(env_l1_ptr(at), &lo, 8);
    memcpy(env_l1_ptr(at + 8), &hi, 8);
    E.v->regs.gpr[GPR_RBX] = at;
    unsigned asize = env_long_mode() ? 2 : 1;
    /* [RBX], no index, DS. */
    return (asize << 7) | (OPSEG_DS << 15) | INSNINFO_INDEX_INVALID | ((uint32_t)GPR_RBX << 23);
}

uint32_t env_reg_info(unsigned reg1, unsigned reg2, bool reg_operand)
{
    return ((reg1 & 15) << 3) | ((reg2 & 15u) << 28) | (reg_operand ? INSNINFO_REG_OPERAND : 0) |
           ((env_long_mode() ? 2u : 1u) << 7) | (OPSEG_DS << 15) | INSNINFO_INDEX_INVALID |
           ((uint32_t)GPR_RBX << 23);
}

/* ------------------------------------------------------------------ checks */

#define ARITH_FLAGS (RFLAGS_CF | BIT(2) | BIT(4) | RFLAGS_ZF | BIT(7) | BIT(11))

static uint64_t v02(uint32_t field)
{
    uint64_t x = 0;
    fake_vmcs_get(E.v->nested.vmcs02, field, &x);
    return x;
}

/* A page vmcs02 names for the CPU: vmcs12's guest-physical page as EPT01 maps it, with at least need. */
static void check_l1_page(const char *what, uint64_t hpa02, uint64_t gpa12, uint64_t need)
{
    struct ept_walk w;
    if (!ept_walk(&E.vm->ept, gpa12, &w) || (w.perms & need) != need || w.hpa != hpa02)
        env_fail("vmcs02 %s page 0x%llx is not EPT01's translation of vmcs12's 0x%llx", what,
                 (unsigned long long)hpa02, (unsigned long long)gpa12);
}

static void expect_current(paddr_t pa, const char *what)
{
    if (g_fake_cpu.current != pa)
        env_fail("%s: current VMCS 0x%llx, expected 0x%llx", what, (unsigned long long)g_fake_cpu.current,
                 (unsigned long long)pa);
}

static void check_stop(const char *what)
{
    struct vcpu *v = E.v;
    if (v->stopped && v->status == STATUS_NESTOR_PANIC)
        env_fail("%s: Nestor stopped L1 with its panic status (a Nestor bug by its own words)", what);
}

static bool vmfail_err_allowed(uint32_t reason, unsigned err)
{
    switch (reason) {
    case EXIT_VMXON: return err == VMERR_VMXON_IN_ROOT;
    case EXIT_VMCLEAR: return err == VMERR_VMCLEAR_INVALID_ADDR || err == VMERR_VMCLEAR_VMXON_PTR;
    case EXIT_VMPTRLD:
        return err == VMERR_VMPTRLD_INVALID_ADDR || err == VMERR_VMPTRLD_VMXON_PTR || err == VMERR_VMPTRLD_BAD_REVISION;
    case EXIT_VMREAD: return err == VMERR_UNSUPPORTED_FIELD;
    case EXIT_VMWRITE: return err == VMERR_UNSUPPORTED_FIELD || err == VMERR_VMWRITE_READ_ONLY;
    case EXIT_VMLAUNCH:
    case EXIT_VMRESUME:
        return err == VMERR_VMLAUNCH_NONCLEAR || err == VMERR_VMRESUME_NONLAUNCHED ||
               err == VMERR_ENTRY_INVALID_CONTROLS || err == VMERR_ENTRY_INVALID_HOST_STATE ||
               err == VMERR_ENTRY_MOV_SS_BLOCKING;
    case EXIT_INVEPT:
    case EXIT_INVVPID: return err == VMERR_INVALID_INVEPT_INVVPID;
    default: return false;
    }
}

static enum exit_action dispatch(uint32_t reason)
{
    struct vcpu *v = E.v;
    switch (reason) {
    case EXIT_VMXON: return nested_handle_vmxon(v);
    case EXIT_VMXOFF: return nested_handle_vmxoff(v);
    case EXIT_VMCLEAR: return nested_handle_vmclear(v);
    case EXIT_VMPTRLD: return nested_handle_vmptrld(v);
    case EXIT_VMPTRST: return nested_handle_vmptrst(v);
    case EXIT_VMREAD: return nested_handle_vmread(v);
    case EXIT_VMWRITE: return nested_handle_vmwrite(v);
    case EXIT_VMLAUNCH: return nested_handle_vmlaunch(v);
    case EXIT_VMRESUME: return nested_handle_vmresume(v);
    case EXIT_INVEPT: return nested_handle_invept(v);
    case EXIT_INVVPID: return nested_handle_invvpid(v);
    default: abort();
    }
}

/*
 * Nestor's VMCS shadowing for L1 (nested/vmcs_shadow.c): while vmcs01 links Nestor's shadow VMCS,
 * the CPU runs L1's VMREAD/VMWRITE of a field whose bit is clear in vmcs01's VMREAD/VMWRITE
 * bitmap on the shadow itself, with no exit (SDM 30.3, 24.6.15); so does the harness, or the
 * drain at the next VM entry would overwrite what L1 wrote through exits no CPU takes. Register
 * operands only; a memory operand goes to the handler as before.
 */
static bool cpu_runs_on_shadow(uint32_t reason, uint32_t info)
{
    struct vcpu *v = E.v;
    bool write = reason == EXIT_VMWRITE;
    if ((reason != EXIT_VMREAD && !write) || !(info & INSNINFO_REG_OPERAND) ||
        !(v->proc2 & PROC2_VMCS_SHADOWING))
        return false;
    uint64_t width = env_long_mode() ? ~0ull : 0xffffffffull;
    uint64_t field = v->regs.gpr[INSNINFO_REG2(info)] & width;
    if (field >> 15)
        return false;
    const uint8_t *bitmap = phys_to_virt(vmread(write ? VMCS_VMWRITE_BITMAP : VMCS_VMREAD_BITMAP));
    if (bitmap[field / 8] & (1u << (field % 8)))
        return false;
    paddr_t shadow = vmread(VMCS_LINK_POINTER);
    unsigned reg = INSNINFO_REG1(info);
    if (write) {
        fake_vmcs_set(shadow, (uint32_t)field, v->regs.gpr[reg] & width);
    } else {
        uint64_t value = 0;
        fake_vmcs_get(shadow, (uint32_t)field, &value);
        v->regs.gpr[reg] = value & width;
    }
    vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) & ~(uint64_t)ARITH_FLAGS); /* VMsucceed */
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + 3);
    return true;
}

enum exit_action env_l1_vmx_exit(uint32_t reason, uint32_t info, uint64_t qual)
{
    if (cpu_runs_on_shadow(reason, info))
        return EXIT_RESUME;
    struct vcpu *v = E.v;
    struct nested_vmx *n = &v->nested;
    if (n->in_l2 || v->stopped)
        abort(); /* the harness calls this only while L1 runs */
    expect_current(v->vmcs, "before L1's VMX instruction");
    /* The exit from L1 (the CPU writes the exit information; entry cleared the injection). */
    fake_vmcs_set(v->vmcs, VMCS_EXIT_REASON, reason);
    fake_vmcs_set(v->vmcs, VMCS_EXIT_QUALIFICATION, qual);
    fake_vmcs_set(v->vmcs, VMCS_EXIT_INSTRUCTION_INFO, info);
    fake_vmcs_set(v->vmcs, VMCS_EXIT_INSTRUCTION_LEN, 3);
    fake_vmcs_set(v->vmcs, VMCS_ENTRY_INTR_INFO, 0);
    v->exit_reason = reason;
    v->exit_qual = qual;
    v->injected = false;
    v->vmcs_switched = false;
    uint64_t rip0 = vmread(VMCS_GUEST_RIP);

    enum exit_action a = dispatch(reason);

    check_stop("L1's VMX instruction");
    if (v->stopped)
        return a;
    if (a != EXIT_RESUME)
        env_fail("VMX instruction %u: handler returned %d without stopping L1", reason, a);
    if (n->in_l2) {
        if (reason != EXIT_VMLAUNCH && reason != EXIT_VMRESUME)
            env_fail("exit %u entered L2", reason);
        expect_current(n->vmcs02, "after an emulated VM entry");
        env_check_vmcs02();
        return a;
    }
    expect_current(v->vmcs, "after L1's VMX instruction");
    uint64_t intr = vmread(VMCS_ENTRY_INTR_INFO);
    if (intr & INTR_INFO_VALID) {
        unsigned vec = intr & 0xff;
        if (INTR_INFO_TYPE(intr) != INTR_TYPE_HW_EXCEPTION ||
            (vec != VEC_UD && vec != VEC_GP && vec != VEC_SS && vec != VEC_PF))
            env_fail("exit %u: injected 0x%llx, not #UD/#GP/#SS/#PF", reason, (unsigned long long)intr);
        if (vmread(VMCS_GUEST_RIP) != rip0)
            env_fail("exit %u: an exception was injected but RIP moved", reason);
        return a;
    }
    uint64_t rip = vmread(VMCS_GUEST_RIP), rflags = vmread(VMCS_GUEST_RFLAGS);
    if ((reason == EXIT_VMLAUNCH || reason == EXIT_VMRESUME) && n->current) {
        const struct vmcs12 *v12 = &n->current->v;
        uint64_t r12 = V12(v12, VMCS_EXIT_REASON);
        if ((r12 & EXIT_REASON_ENTRY_FAILURE) && rip == V12(v12, VMCS_HOST_RIP) && rflags == 0x2) {
            unsigned basic = EXIT_REASON_BASIC(r12);
            if (basic != EXIT_INVALID_GUEST_STATE && basic != EXIT_MSR_LOADING)
                env_fail("VM-entry failure with exit reason %u (26.7 allows 33 and 34 only)", basic);
            if (V12(v12, VMCS_EXIT_INTR_INFO) & INTR_INFO_VALID)
                env_fail("VM-entry failure left the exit interruption information valid (27.2.2)");
            return a;
        }
    }
    if (rip != rip0 + 3)
        env_fail("exit %u: RIP 0x%llx, neither rip+len nor an exception nor an entry failure", reason,
                 (unsigned long long)rip);
    uint64_t fl = rflags & ARITH_FLAGS;
    if (fl != 0 && fl != RFLAGS_CF && fl != RFLAGS_ZF)
        env_fail("exit %u: RFLAGS 0x%llx is not VMsucceed/VMfailInvalid/VMfailValid (31.2)", reason,
                 (unsigned long long)rflags);
    if (fl == RFLAGS_ZF) {
        if (!n->current)
            env_fail("exit %u: VMfailValid without a current VMCS (31.2)", reason);
        unsigned err = (unsigned)V12(&n->current->v, VMCS_VM_INSTRUCTION_ERROR);
        if (!vmfail_err_allowed(reason, err))
            env_fail("exit %u: VMfailValid(%u), not an error this instruction can report (30.4)", reason, err);
    }
    if (fl == RFLAGS_CF && (reason == EXIT_VMREAD || reason == EXIT_VMWRITE) && n->current && n->vmxon)
        env_fail("exit %u: VMfailInvalid with a current VMCS", reason);
    return a;
}

/* Every bit of L0's bitmap page is also set in vmcs02's (skip: words vmcs02.c leaves out by design). */
static void check_bitmap_merged(paddr_t l0, paddr_t merged, bool msr, const char *what)
{
    const uint64_t *a = phys_to_virt(l0), *b = phys_to_virt(merged);
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++) {
        if (msr && ((i >= 128 && i < 256) || i >= 384))
            continue;
        if (a[i] & ~b[i])
            env_fail("vmcs02's %s bitmap lacks L0's exits at word %u (0x%llx of 0x%llx)", what, i,
                     (unsigned long long)(a[i] & ~b[i]), (unsigned long long)a[i]);
    }
}

void env_check_vmcs02(void)
{
    struct vcpu *v = E.v;
    struct nested_vmx *n = &v->nested;
    const struct vmcs12 *v12 = &n->current->v;
    for (unsigned i = 0; i < fake_l0_host_state_count; i++)
        if (v02(fake_l0_host_state[i].field) != fake_l0_host_state[i].value)
            env_fail("vmcs02 host-state field 0x%x = 0x%llx, not L0's 0x%llx", fake_l0_host_state[i].field,
                     (unsigned long long)v02(fake_l0_host_state[i].field),
                     (unsigned long long)fake_l0_host_state[i].value);
    uint64_t proc = v02(VMCS_PROC_CONTROLS), proc2 = v02(VMCS_PROC_CONTROLS2);
    uint64_t exit = v02(VMCS_EXIT_CONTROLS), entry = v02(VMCS_ENTRY_CONTROLS);
    if (!(proc & PROC_SECONDARY_CONTROLS) || !(proc2 & PROC2_ENABLE_EPT))
        env_fail("vmcs02 runs L2 without EPT (proc 0x%llx proc2 0x%llx)", (unsigned long long)proc,
                 (unsigned long long)proc2);
    uint64_t need_exit = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_EFER | EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_SAVE_PAT;
    if ((exit & need_exit) != need_exit)
        env_fail("vmcs02 exit controls 0x%llx lack L0's host switching", (unsigned long long)exit);
    if ((entry & (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT)) != (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT))
        env_fail("vmcs02 entry controls 0x%llx", (unsigned long long)entry);
    if (entry & (ENTRY_SMM | ENTRY_DEACT_DUAL_MONITOR))
        env_fail("vmcs02 entry controls 0x%llx enter SMM", (unsigned long long)entry);
    if (v02(VMCS_EXIT_MSR_STORE_COUNT) || v02(VMCS_EXIT_MSR_LOAD_COUNT) || v02(VMCS_ENTRY_MSR_LOAD_COUNT))
        env_fail("vmcs02 uses hardware MSR areas (L1's addresses would reach the CPU)");
    if (v02(VMCS_LINK_POINTER) != ~0ull)
        env_fail("vmcs02 link pointer 0x%llx", (unsigned long long)v02(VMCS_LINK_POINTER));
    if ((v02(VMCS_EXCEPTION_BITMAP) & L0_EXCEPTION_BITMAP) != L0_EXCEPTION_BITMAP)
        env_fail("vmcs02 exception bitmap 0x%llx lacks #DB/#AC", (unsigned long long)v02(VMCS_EXCEPTION_BITMAP));
    if (proc2 & PROC2_VMCS_SHADOWING)
        env_fail("vmcs02 proc2 0x%llx: L1's VMCS shadowing reaches the CPU", (unsigned long long)proc2);
    /* APIC virtualization: only as vmcs12 asks, with vmcs12's pages as EPT01 translates them. */
    uint64_t proc12 = V12(v12, VMCS_PROC_CONTROLS), proc2_12 = vmcs12_proc2(v12);
    if ((proc & PROC_TPR_SHADOW) != (proc12 & PROC_TPR_SHADOW) ||
        (proc2 & (PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY | PROC2_VIRT_X2APIC)) !=
            (proc2_12 & (PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY)))
        env_fail("vmcs02 APIC virtualization (proc 0x%llx proc2 0x%llx) is not vmcs12's", (unsigned long long)proc,
                 (unsigned long long)proc2);
    if (proc & PROC_TPR_SHADOW)
        check_l1_page("virtual-APIC", v02(VMCS_VIRTUAL_APIC_ADDR), V12(v12, VMCS_VIRTUAL_APIC_ADDR), EPT_R | EPT_W);
    if (proc2 & PROC2_VIRT_APIC_ACCESSES)
        check_l1_page("APIC-access", v02(VMCS_APIC_ACCESS_ADDR), V12(v12, VMCS_APIC_ACCESS_ADDR), 0);
    /* VPID: L2's own, never L1's or none. */
    if (n->vpid02) {
        if (!(proc2 & PROC2_ENABLE_VPID) || v02(VMCS_VPID) != n->vpid02)
            env_fail("vmcs02 VPID %llu, expected vpid02 %u", (unsigned long long)v02(VMCS_VPID), n->vpid02);
    } else if (proc2 & PROC2_ENABLE_VPID) {
        env_fail("vmcs02 enables VPID without vpid02");
    }
    /* EPTP: EPT01 without EPT12, else a shadow built for vmcs12's EPTP. */
    uint64_t eptp = v02(VMCS_EPT_POINTER);
    bool ept12 = (V12(v12, VMCS_PROC_CONTROLS) & PROC_SECONDARY_CONTROLS) &&
                 (V12(v12, VMCS_PROC_CONTROLS2) & PROC2_ENABLE_EPT);
    if (!ept12) {
        if (eptp != ept_eptp(&E.vm->ept))
            env_fail("vmcs02 EPTP 0x%llx without EPT12 is not EPT01's", (unsigned long long)eptp);
    } else {
        bool found = false;
        for (unsigned i = 0; i < EPT02_ROOTS; i++)
            /* EPTP02 carries vmcs12's A/D enable (bit 6): L2's paging-structure accesses count as writes (28.3.5). */
            if (n->ept02[i].valid && ept_eptp(&n->ept02[i].ept) == (eptp & ~(uint64_t)EPTP_AD_ENABLE) &&
                (eptp & EPTP_AD_ENABLE) == (V12(v12, VMCS_EPT_POINTER) & EPTP_AD_ENABLE) &&
                n->ept02[i].eptp12 == V12(v12, VMCS_EPT_POINTER))
                found = true;
        if (!found)
            env_fail("vmcs02 EPTP 0x%llx is not the shadow of vmcs12's EPTP 0x%llx", (unsigned long long)eptp,
                     (unsigned long long)V12(v12, VMCS_EPT_POINTER));
    }
    /* I/O: bitmaps holding L0's ports, or every port exiting. */
    if (proc & PROC_USE_IO_BITMAPS) {
        if (v02(VMCS_IO_BITMAP_A) != n->io_bitmap02[0] || v02(VMCS_IO_BITMAP_B) != n->io_bitmap02[1])
            env_fail("vmcs02 I/O bitmaps are not Nestor's pages");
        check_bitmap_merged(v->io_bitmap[0], n->io_bitmap02[0], false, "I/O A");
        check_bitmap_merged(v->io_bitmap[1], n->io_bitmap02[1], false, "I/O B");
    } else if (!(proc & PROC_UNCOND_IO_EXITING)) {
        env_fail("vmcs02 gives L2 direct access to every I/O port (proc 0x%llx)", (unsigned long long)proc);
    }
    /* MSRs: L1's bitmap is read live at each exit (nested/l2_passthrough.c), so every RDMSR/WRMSR of L2 exits. */
    if (proc & PROC_USE_MSR_BITMAPS)
        env_fail("vmcs02 uses an MSR bitmap (proc 0x%llx): L2 would reach MSRs without L0 seeing it",
                 (unsigned long long)proc);
    if (fake_vmcs_launched(n->vmcs02) != n->vmcs02_launched)
        env_fail("vmcs02 launch state: CPU %d, Nestor %d", fake_vmcs_launched(n->vmcs02), n->vmcs02_launched);
    env_check_ept02();
}

/* Whether the CPU's last entry into vmcs02 was a VMLAUNCH (an entry failure leaves it clear, SDM 26.8). */
static bool hw_entry_was_launch;

void env_enter_l2(bool force_fail)
{
    struct vcpu *v = E.v;
    struct nested_vmx *n = &v->nested;
    hw_entry_was_launch = !n->vmcs02_launched;
    int r = fake_vmentry(!n->vmcs02_launched, &g_vmx_caps, force_fail);
    if (r == VMX_OK)
        return;
    if (!force_fail)
        env_fail("the CPU refused vmcs02 (%s)", fake_vmentry_why());
    unsigned err = r == VMX_FAIL_VALID ? (unsigned)vmread(VMCS_VM_INSTRUCTION_ERROR) : 0;
    nested_hw_entry_failed(v, r, err);
    check_stop("refused vmcs02");
    expect_current(v->vmcs, "after the CPU refused vmcs02");
    if (n->in_l2)
        env_fail("still in L2 after the CPU refused vmcs02");
    if (!(vmread(VMCS_GUEST_RFLAGS) & (RFLAGS_CF | RFLAGS_ZF)))
        env_fail("L1's VMLAUNCH/VMRESUME refused by the CPU did not VMfail");
}

/*
 * An EPT violation on an access the current EPT02 allows comes only from a stale translation
 * (SDM 28.4.1), which Nestor then flushes with INVEPT: the CPU cannot fault that way on the
 * same page again until the next VM entry from L1 or INVEPT (the fill epoch). The harness lets
 * one such violation through per page and epoch.
 */
static bool cpu_would_fault(gpa_t gpa2, uint64_t qual)
{
    struct nested_vmx *n = &E.v->nested;
    uint64_t eptp = v02(VMCS_EPT_POINTER), need = qual & 7;
    for (unsigned i = 0; i < EPT02_ROOTS; i++) {
        struct ept_walk w;
        if (!n->ept02[i].valid || ept_eptp(&n->ept02[i].ept) != (eptp & ~(uint64_t)EPTP_AD_ENABLE))
            continue;
        if (!ept_walk(&n->ept02[i].ept, gpa2, &w) || (w.perms & need) != need)
            return true;
        if (stale_page == gpa2 >> PAGE_SHIFT && stale_epoch == n->fill_epoch)
            return false;
        stale_page = gpa2 >> PAGE_SHIFT;
        stale_epoch = n->fill_epoch;
        return true;
    }
    return true;
}

enum exit_action env_l2_exit(uint32_t reason, uint64_t qual, uint32_t intr_info, uint32_t idt_info, gpa_t gpa2)
{
    struct vcpu *v = E.v;
    struct nested_vmx *n = &v->nested;
    if (!n->in_l2 || v->stopped)
        abort();
    paddr_t c = n->vmcs02;
    if (EXIT_REASON_BASIC(reason) == EXIT_EPT_VIOLATION && !(qual & 7))
        qual |= 1; /* 27.2.1 (Table 27-7): an EPT violation is a read, a write or a fetch, at least one of them */
    if (EXIT_REASON_BASIC(reason) == EXIT_EPT_VIOLATION && !cpu_would_fault(gpa2, qual))
        return EXIT_RESUME; /* the CPU does not fault on what the shadow allows, once stale translations are flushed */
    fake_vmcs_set(c, VMCS_EXIT_REASON, reason);
    fake_vmcs_set(c, VMCS_EXIT_QUALIFICATION, qual);
    fake_vmcs_set(c, VMCS_EXIT_INTR_INFO, intr_info);
    fake_vmcs_set(c, VMCS_IDT_VECTORING_INFO, idt_info);
    fake_vmcs_set(c, VMCS_GUEST_PHYSICAL_ADDR, gpa2);
    fake_vmcs_set(c, VMCS_EXIT_INSTRUCTION_LEN, 2);
    fake_vmcs_set(c, VMCS_ENTRY_INTR_INFO, 0);
    /* vcpu_run: only a successful entry makes vmcs02 launched; a failed VMLAUNCH leaves it clear (26.8). */
    if (!(reason & EXIT_REASON_ENTRY_FAILURE))
        n->vmcs02_launched = true;
    else if (hw_entry_was_launch)
        fake_vmcs_set_launched(c, false);
    v->exit_reason = reason;
    v->exit_qual = qual;
    v->injected = false;
    v->vmcs_switched = false;
    struct vmcs12_cache_entry *cur = n->current;
    uint64_t eptp12 = V12(&cur->v, VMCS_EPT_POINTER);
    uint64_t fills = n->stats.ept02_fills;

    enum exit_action a = nested_l2_exit(v);

    check_stop("L2 exit");
    if (v->stopped)
        return a;
    unsigned basic = EXIT_REASON_BASIC(reason);
    if (n->in_l2)
        hw_entry_was_launch = false; /* vcpu_run enters L2 again with VMRESUME */
    if (a == EXIT_L0_HANDLES) {
        if (!n->in_l2 || (basic != EXIT_EXCEPTION_NMI && basic != EXIT_IO_INSTRUCTION && basic != EXIT_RDMSR &&
                          basic != EXIT_WRMSR))
            env_fail("L2 exit %u left to L0 (in_l2 %d)", basic, n->in_l2);
        expect_current(n->vmcs02, "L2 exit left to L0");
        return a;
    }
    if (n->in_l2) {
        expect_current(n->vmcs02, "L2 exit handled by L0");
        /*
         * What L0 may finish inside the nested layer without L1: its own shadow fills; L2's MSR
         * accesses and string I/O L1's bitmaps (read live) let through (nested/l2_passthrough.c);
         * L2's VMREAD/VMWRITE on L1's shadow VMCS (nested/vmcs12_shadow_l1.c); and a preemption
         * timer L1 did not arm (only L0's own timer can have fired).
         */
        bool l1_timer = V12(&cur->v, VMCS_PIN_CONTROLS) & PIN_PREEMPTION_TIMER;
        bool l0_may = basic == EXIT_EPT_VIOLATION || basic == EXIT_RDMSR || basic == EXIT_WRMSR ||
                      basic == EXIT_IO_INSTRUCTION || basic == EXIT_VMREAD || basic == EXIT_VMWRITE ||
                      (basic == EXIT_PREEMPTION_TIMER && !l1_timer);
        if (!l0_may)
            env_fail("L2 exit %u handled by L0 without telling L1", basic);
        /*
         * A fill must agree with EPT12 as it is now (Nestor walked it during this exit). Entries
         * not filled now may be stale: L1 may change EPT12 without INVEPT (SDM 28.3.3.4).
         */
        struct ept02_root *root = NULL;
        for (unsigned i = 0; i < EPT02_ROOTS; i++)
            if (n->ept02[i].valid && n->ept02[i].eptp12 == eptp12)
                root = &n->ept02[i];
        struct ept_walk w02;
        if (n->stats.ept02_fills != fills) {
            if (!root || !ept_walk(&root->ept, gpa2, &w02))
                env_fail("EPT02 fill for L2 0x%llx left it unmapped", (unsigned long long)gpa2);
            struct ept12_caps caps = {.exec_only = n->caps.ept_vpid & EPT_CAP_EXEC_ONLY,
                                      .large_2m = n->caps.ept_vpid & EPT_CAP_2MB_PAGE,
                                      .large_1g = n->caps.ept_vpid & EPT_CAP_1GB_PAGE,
                                      .maxphyaddr_mask = g_vmx_caps.phys_addr_mask};
            struct ept12_walk w12;
            extern uint64_t env_read_l1_u64(void *ctx, gpa_t pa);
            if (ept12_walk(eptp12, gpa2, &caps, env_read_l1_u64, NULL, &w12) != EPT12_OK)
                env_fail("EPT02 maps L2 0x%llx which EPT12 does not", (unsigned long long)gpa2);
            struct ept_walk w01;
            if (!ept_walk(&E.vm->ept, w12.l1pa, &w01))
                env_fail("EPT02 maps L2 0x%llx to L1 0x%llx outside L1's memory", (unsigned long long)gpa2,
                         (unsigned long long)w12.l1pa);
            if (w02.perms & ~(w12.perms & w01.perms))
                env_fail("EPT02 perms 0x%llx exceed EPT12 0x%llx & EPT01 0x%llx for L2 0x%llx",
                         (unsigned long long)w02.perms, (unsigned long long)w12.perms, (unsigned long long)w01.perms,
                         (unsigned long long)gpa2);
            if (w02.hpa != w01.hpa)
                env_fail("EPT02 maps L2 0x%llx to host 0x%llx, EPT12∘EPT01 gives 0x%llx", (unsigned long long)gpa2,
                         (unsigned long long)w02.hpa, (unsigned long long)w01.hpa);
        }
        env_check_ept02();
        return a;
    }
    /* Reflected to L1: L1 resumes at its host RIP with its host CR3 (27.5). */
    expect_current(v->vmcs, "L2 exit reflected to L1");
    const struct vmcs12 *v12 = &cur->v;
    if (vmread(VMCS_GUEST_RIP) != V12(v12, VMCS_HOST_RIP) || vmread(VMCS_GUEST_CR3) != V12(v12, VMCS_HOST_CR3))
        env_fail("L2 exit %u reflected, but L1 is not at its host RIP/CR3", basic);
    /* 24.8.3: a VM exit clears the valid bit; a VM-entry failure (33, 34) leaves it as it was (as the
     * CPU does: Bochs' VMexit, KVM's prepare_vmcs12 clear it only for exits after a completed entry). */
    if ((V12(v12, VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) && !(V12(v12, VMCS_EXIT_REASON) & EXIT_REASON_ENTRY_FAILURE))
        env_fail("L2 exit %u reflected with vmcs12's entry interruption still valid (24.8.3)", basic);
    unsigned r12 = EXIT_REASON_BASIC(V12(v12, VMCS_EXIT_REASON));
    /* An RDMSR/WRMSR L1 lets through that faults is L2's #GP: an exception exit when L1 intercepts #GP (25.2).
     * So is a VMREAD/VMWRITE on L1's shadow VMCS at CPL > 0 (30.3: the exit check comes before the CPL one). */
    uint32_t info12 = (uint32_t)V12(v12, VMCS_EXIT_INTR_INFO);
    bool l2_gp = (basic == EXIT_RDMSR || basic == EXIT_WRMSR || basic == EXIT_VMREAD || basic == EXIT_VMWRITE) &&
                  r12 == EXIT_EXCEPTION_NMI &&
                  INTR_INFO_VECTOR(info12) == VEC_GP && INTR_INFO_TYPE(info12) == INTR_TYPE_HW_EXCEPTION &&
                  ((V12(v12, VMCS_EXCEPTION_BITMAP) >> VEC_GP) & 1);
    if (r12 != basic && !(basic == EXIT_EPT_VIOLATION && r12 == EXIT_EPT_MISCONFIG) && !l2_gp)
        env_fail("L2 exit %u reflected as %u", basic, r12);
    if (vmread(VMCS_GUEST_RFLAGS) != 0x2)
        env_fail("L1's RFLAGS after a VM exit are 0x%llx, not 2 (27.5.3)", (unsigned long long)vmread(VMCS_GUEST_RFLAGS));
    return a;
}

uint64_t env_read_l1_u64(void *ctx, gpa_t pa)
{
    (void)ctx;
    uint64_t e;
    if (!gmem_read(&E.vm->ept, pa, &e, sizeof e))
        return ~0ull;
    return e;
}

/* Every leaf of every shadow EPT02 maps L1's memory only, never more than EPT01 allows. */
static void walk_table(paddr_t table, unsigned level, gpa_t base)
{
    const uint64_t *t = phys_to_virt(table);
    uint64_t span = 1ull << (12 + 9 * (level - 1));
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = t[i];
        if (!(e & 7))
            continue;
        /* What would make the CPU report an EPT misconfiguration (SDM 28.3.3.1): Nestor's own bug. */
        if ((e & 3) == EPT_W || (level == 4 && (e & BIT(7))))
            env_fail("EPT02 entry 0x%llx at level %u is misconfigured", (unsigned long long)e, level);
        paddr_t addr = e & 0x000ffffffffff000ull;
        if (level > 1 && !(e & BIT(7))) {
            walk_table(addr, level - 1, base + i * span);
            continue;
        }
        unsigned mt = (e >> 3) & 7;
        if (mt == 2 || mt == 3 || mt == 7)
            env_fail("EPT02 leaf 0x%llx has a reserved memory type (28.3.3.1)", (unsigned long long)e);
        addr &= ~(span - 1);
        bool in_ram = (addr >= E.ram_hpa && addr + span <= E.ram_hpa + L1_RAM_SIZE) ||
                      (E.high_hpa && addr >= E.high_hpa && addr + span <= E.high_hpa + L1_HIGH_SIZE);
        bool rom = addr == E.rom_hpa && span == PAGE_SIZE && !(e & EPT_W);
        if (!in_ram && !rom)
            env_fail("EPT02 leaf for L2 0x%llx maps host 0x%llx (+0x%llx, perms %llx): not L1's memory",
                     (unsigned long long)(base + i * span), (unsigned long long)addr, (unsigned long long)span,
                     (unsigned long long)(e & 7));
    }
}

void env_check_ept02(void)
{
    struct nested_vmx *n = &E.v->nested;
    for (unsigned i = 0; i < EPT02_ROOTS; i++)
        if (n->ept02[i].valid)
            walk_table(n->ept02[i].ept.pml4, 4, 0);
}

void env_check_l1_state(void)
{
    struct vcpu *v = E.v;
    if (v->stopped)
        return;
    expect_current(v->nested.in_l2 ? v->nested.vmcs02 : v->vmcs, "between steps");
}

/* ------------------------------------------------------------------ helpers for the targets */

void env_l1_vmwrite(uint64_t field, uint64_t value)
{
    struct vcpu *v = E.v;
    v->regs.gpr[GPR_RCX] = value;
    v->regs.gpr[GPR_RDX] = field;
    env_l1_vmx_exit(EXIT_VMWRITE, env_reg_info(GPR_RCX, GPR_RDX, true), 0);
}

uint64_t env_build_ept12(void)
{
    uint64_t *pml4 = env_l1_ptr(L1_EPT12_GPA), *pdpt = env_l1_ptr(L1_EPT12_GPA + 0x1000),
             *pd = env_l1_ptr(L1_EPT12_GPA + 0x2000), *pt = env_l1_ptr(L1_EPT12_GPA + 0x3000);
    memset(pml4, 0, 4 * PAGE_SIZE);
    pml4[0] = (L1_EPT12_GPA + 0x1000) | 7;
    pdpt[0] = (L1_EPT12_GPA + 0x2000) | 7;
    pd[0] = (L1_EPT12_GPA + 0x3000) | 7;
    for (unsigned i = 0; i < 256; i++)
        pt[i] = (i * PAGE_SIZE) | 7 | (MEMTYPE_WB << 3);
    pt[256] = L1_ROM_GPA | 5 | (MEMTYPE_WB << 3);
    pd[1] = 0x200000 | 7 | BIT(7) | (MEMTYPE_WB << 3); /* a 2 MiB page over the hole */
    pd[2] = L1_HIGH_GPA | 7 | BIT(7) | (MEMTYPE_WB << 3); /* 2 MiB pages over the high RAM (when there is some) */
    pd[3] = (L1_HIGH_GPA + 2 * MiB) | 3 | BIT(7) | (MEMTYPE_WB << 3);
    return L1_EPT12_GPA | EPTP_MEMTYPE_WB | (3 << 3);
}

void env_write_good_vmcs12(unsigned k, bool ept12, bool io_bitmaps, bool msr_bitmaps, bool long_mode_l2, bool pae_l2,
                           bool apicv)
{
    struct vcpu *v = E.v;
    struct nested_vmx *n = &v->nested;
    const struct nested_caps *c = &n->caps;
    gpa_t gpa = L1_VMCS_GPA(k & 15);
    env_l1_vmx_exit(EXIT_VMCLEAR, env_mem_operand(gpa, 0, 0), 0);
    if (v->stopped || n->in_l2)
        return;
    env_l1_vmx_exit(EXIT_VMPTRLD, env_mem_operand(gpa, 0, 0), 0);
    if (v->stopped || !n->current)
        return;
    ept12 = ept12 && n->ept;
    uint32_t proc = c->proc.allowed0 | PROC_HLT_EXITING | PROC_SECONDARY_CONTROLS |
                    (io_bitmaps ? PROC_USE_IO_BITMAPS : PROC_UNCOND_IO_EXITING) |
                    (msr_bitmaps ? PROC_USE_MSR_BITMAPS : 0);
    uint32_t proc2 = (ept12 ? PROC2_ENABLE_EPT : 0) | ((c->proc2.allowed1 & PROC2_ENABLE_VPID) ? PROC2_ENABLE_VPID : 0);
    /* APIC virtualization (nested/apic_virt.c) with every control offered, pages in L1's RAM. */
    uint32_t apicv2 = PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY;
    if (apicv && (c->proc.allowed1 & PROC_TPR_SHADOW)) {
        proc |= PROC_TPR_SHADOW;
        proc2 |= c->proc2.allowed1 & apicv2;
        memset(env_l1_ptr(L1_VAPIC_GPA), 0, PAGE_SIZE);
        *(uint32_t *)env_l1_ptr(L1_VAPIC_GPA + 0x80) = 0x20; /* VTPR */
    }
    uint32_t exit = c->exit.allowed0 | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER |
                    EXIT_LOAD_EFER | EXIT_ACK_INTR_ON_EXIT;
    uint32_t entry = c->entry.allowed0 | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER | (long_mode_l2 ? ENTRY_IA32E_MODE_GUEST : 0);
    if (!env_long_mode())
        exit &= ~(uint32_t)EXIT_HOST_ADDR_SPACE_SIZE;
    const struct {
        uint32_t f;
        uint64_t v;
    } fields[] = {
        {VMCS_PIN_CONTROLS, c->pin.allowed0 | PIN_EXT_INTR_EXITING | PIN_NMI_EXITING},
        {VMCS_PROC_CONTROLS, proc},
        {VMCS_PROC_CONTROLS2, proc2},
        {VMCS_VPID, 1},
        {VMCS_EXIT_CONTROLS, exit},
        {VMCS_ENTRY_CONTROLS, entry},
        {VMCS_IO_BITMAP_A, L1_BITMAP_GPA},
        {VMCS_IO_BITMAP_B, L1_BITMAP_GPA + 0x1000},
        {VMCS_MSR_BITMAP, L1_BITMAP_GPA + 0x2000},
        {VMCS_EXIT_MSR_STORE_ADDR, L1_MSR_AREA_GPA},
        {VMCS_EXIT_MSR_STORE_COUNT, 1},
        {VMCS_EXIT_MSR_LOAD_ADDR, L1_MSR_AREA_GPA + 0x100},
        {VMCS_EXIT_MSR_LOAD_COUNT, 1},
        {VMCS_ENTRY_MSR_LOAD_ADDR, L1_MSR_AREA_GPA + 0x200},
        {VMCS_ENTRY_MSR_LOAD_COUNT, 1},
        {VMCS_EXCEPTION_BITMAP, 1u << VEC_UD},
        {VMCS_EPT_POINTER, env_build_ept12()},
        {VMCS_HOST_CR0, env_long_mode() ? 0x80050033ull : 0x50033ull},
        {VMCS_HOST_CR3, L1_PT_GPA},
        {VMCS_HOST_CR4, env_long_mode() ? CR4_PAE | CR4_VMXE : CR4_VMXE},
        {VMCS_HOST_CS_SEL, 0x08},
        {VMCS_HOST_SS_SEL, 0x10},
        {VMCS_HOST_DS_SEL, 0x10},
        {VMCS_HOST_ES_SEL, 0x10},
        {VMCS_HOST_TR_SEL, 0x18},
        {VMCS_HOST_GDTR_BASE, 0x6000},
        {VMCS_HOST_IDTR_BASE, 0x6800},
        {VMCS_HOST_TR_BASE, 0x6c00},
        {VMCS_HOST_EFER, env_long_mode() ? EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE : 0},
        {VMCS_HOST_PAT, 0x0007040600070406ull},
        {VMCS_HOST_RSP, 0x6f00},
        {VMCS_HOST_RIP, 0x7100},
        {VMCS_GUEST_CR0, (long_mode_l2 || pae_l2) ? 0x80050033ull : 0x50033ull},
        {VMCS_GUEST_CR3, 0x9000},
        {VMCS_GUEST_CR4, (long_mode_l2 || pae_l2) ? CR4_PAE | CR4_VMXE : CR4_VMXE},
        {VMCS_GUEST_DR7, 0x400},
        {VMCS_GUEST_EFER, long_mode_l2 ? EFER_LME | EFER_LMA | EFER_SCE : 0},
        {VMCS_GUEST_PAT, 0x0007040600070406ull},
        {VMCS_GUEST_CS_SEL, 0x08},
        {VMCS_GUEST_CS_AR, long_mode_l2 ? AR_CODE64 : AR_CODE32},
        {VMCS_GUEST_CS_LIMIT, 0xffffffff},
        {VMCS_GUEST_SS_SEL, 0x10},
        {VMCS_GUEST_SS_AR, AR_DATA},
        {VMCS_GUEST_SS_LIMIT, 0xffffffff},
        {VMCS_GUEST_DS_SEL, 0x10},
        {VMCS_GUEST_DS_AR, AR_DATA},
        {VMCS_GUEST_DS_LIMIT, 0xffffffff},
        {VMCS_GUEST_ES_SEL, 0x10},
        {VMCS_GUEST_ES_AR, AR_DATA},
        {VMCS_GUEST_ES_LIMIT, 0xffffffff},
        {VMCS_GUEST_FS_SEL, 0x10},
        {VMCS_GUEST_FS_AR, AR_DATA},
        {VMCS_GUEST_FS_LIMIT, 0xffffffff},
        {VMCS_GUEST_GS_SEL, 0x10},
        {VMCS_GUEST_GS_AR, AR_DATA},
        {VMCS_GUEST_GS_LIMIT, 0xffffffff},
        {VMCS_GUEST_TR_SEL, 0x18},
        {VMCS_GUEST_TR_AR, 0x8b},
        {VMCS_GUEST_TR_LIMIT, 0x67},
        {VMCS_GUEST_LDTR_AR, 0x10000},
        {VMCS_GUEST_GDTR_LIMIT, 0x57},
        {VMCS_GUEST_IDTR_LIMIT, 0xfff},
        {VMCS_GUEST_RIP, 0x100000},
        {VMCS_GUEST_RSP, 0x8000},
        {VMCS_GUEST_RFLAGS, 2},
        {VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE},
        {VMCS_LINK_POINTER, ~0ull},
        {VMCS_VIRTUAL_APIC_ADDR, L1_VAPIC_GPA},
        {VMCS_APIC_ACCESS_ADDR, L1_VAPIC_GPA + PAGE_SIZE},
        {VMCS_TPR_THRESHOLD, 1},
        {VMCS_EOI_EXIT_BITMAP1, 1u << 1}, /* vector 0x41 */
        {VMCS_GUEST_INTR_STATUS, 0x41},   /* RVI 0x41 */
    };
    for (unsigned i = 0; i < ARRAY_SIZE(fields) && !v->stopped; i++)
        env_l1_vmwrite(fields[i].f, fields[i].v);
    /* PAE paging in L2 (SDM 26.3.2.4): PDPTEs from the VMCS with EPT12, else from L1's memory at CR3. */
    uint64_t pdpt[4] = {0xa001, 0xb001, 0, 0};
    memcpy(env_l1_ptr(0x9000), pdpt, sizeof pdpt);
    if (ept12 && pae_l2 && !long_mode_l2)
        for (unsigned i = 0; i < 4 && !v->stopped; i++)
            env_l1_vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpt[i]);
    /* L1's MSR areas: store EFER on exit, load PAT on exit, load SYSENTER_CS on entry. */
    uint32_t *area = env_l1_ptr(L1_MSR_AREA_GPA);
    area[0] = MSR_IA32_EFER;
    area[0x100 / 4] = MSR_IA32_PAT;
    memcpy(&area[0x108 / 4], &(uint64_t){0x0007040600070406ull}, 8);
    area[0x200 / 4] = MSR_IA32_SYSENTER_CS;
}
