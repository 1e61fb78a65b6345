/*
 * ghv: machinery of the nested-EPT tests and runl2 (ept.h): boot
 * information, ghv's page pool, EPT12 construction, L2's 64-bit machine in
 * its own guest-physical space, entering L2 and checking exits.
 *
 * Memory. ghv's image lies at 1 MiB and basic's L2 test region at 4-6 MiB.
 * These tests use two fixed regions of ghv's RAM, so that every address they
 * print is the same on bare hardware and under a nested hypervisor:
 *   16 - 64 MiB  page pool (EPT12 tables, VMCS regions, bitmaps)
 *   64 MiB -     L2's memory (GPA + E_OFS), or runl2's L2 RAM
 * Both are checked against the memory map and against the boot modules and
 * the boot information, which a loader may have put anywhere.
 */
#include "cmdline.h"
#include "ept.h"

struct e_boot e_boot;
const u64 ghv_e_known_1g = EV_1G;

extern char ghv_xe_bss_start[], ghv_xe_bss_end[];
extern const char ghv_image_start[], ghv_image_end[];

static char cmdline_copy[256], modline_copy[256];
static u64 pool_next;

static void copy_str(char *d, const char *s, size_t cap)
{
    size_t i = 0;
    while (s[i] && i + 1 < cap) {
        d[i] = s[i];
        i++;
    }
    d[i] = 0;
}

/* MBI2: u32 total size, u32 reserved, 8-aligned tags up to the end tag.
 * Tag 1 command line, 3 module (start, end, string), 4 basic meminfo
 * (mem_lower, mem_upper in KiB), 6 memory map (entry size, version,
 * entries: u64 base, u64 length, u32 type). */
static void boot_parse(u32 mbi)
{
    const u8 *p = (const u8 *)(uintptr_t)mbi;
    u32 total = *(const u32 *)p;
    e_boot.mbi_start = mbi;
    e_boot.mbi_end = (u64)mbi + total;
    e_boot.cmdline = cmdline_copy;
    e_boot.mod_cmdline = modline_copy;
    u64 upper_end = 0, map_end = 0;
    for (u32 off = 8; off + 8 <= total;) {
        u32 type = *(const u32 *)(p + off), size = *(const u32 *)(p + off + 4);
        if (type == 0 || size < 8)
            break;
        const u8 *t = p + off;
        if (type == 1) {
            copy_str(cmdline_copy, (const char *)(t + 8), sizeof cmdline_copy);
        } else if (type == 3 && !e_boot.has_module) {
            e_boot.has_module = true;
            e_boot.mod_start = *(const u32 *)(t + 8);
            e_boot.mod_end = *(const u32 *)(t + 12);
            copy_str(modline_copy, (const char *)(t + 16), sizeof modline_copy);
        } else if (type == 4) {
            upper_end = 0x100000 + (u64)*(const u32 *)(t + 12) * 1024;
        } else if (type == 6) {
            u32 esize = *(const u32 *)(t + 8);
            for (u32 e = 16; esize && e + esize <= size; e += esize) {
                u64 base = *(const u64 *)(t + e), len = *(const u64 *)(t + e + 8);
                u32 etype = *(const u32 *)(t + e + 16);
                if (etype == 1 && base <= 0x100000 && base + len > 0x100000)
                    map_end = base + len;
            }
        }
        off += (size + 7) & ~7u;
    }
    e_boot.ram_end = map_end ? map_end : upper_end;
}

static bool overlaps(u64 a, u64 b, u64 lo, u64 hi) { return a < hi && lo < b; }

bool e_mem_check(struct xt *t, u64 lo, u64 hi, const char *what)
{
    if (hi > e_boot.ram_end) {
        gprintf("ghv: %s %s 0x%lx-0x%lx is beyond ghv's RAM (ends at 0x%lx)\n", t->name, what, lo, hi,
                e_boot.ram_end);
        fail_add(&t->f, "memory");
        return false;
    }
    if (overlaps(e_boot.mbi_start, e_boot.mbi_end, lo, hi) ||
        (e_boot.has_module && overlaps(e_boot.mod_start, e_boot.mod_end, lo, hi))) {
        gprintf("ghv: %s %s 0x%lx-0x%lx overlaps the boot information or a module\n", t->name, what, lo, hi);
        fail_add(&t->f, "memory");
        return false;
    }
    return true;
}

void e_pool_reset(void) { pool_next = E_POOL_BASE; }

u64 e_pool_page(void)
{
    if (pool_next + GHV_PAGE > E_POOL_END)
        return 0;
    u64 pa = pool_next;
    pool_next += GHV_PAGE;
    memset(e_ptr(pa), 0, GHV_PAGE);
    return pa;
}

/* ---- EPT12 ---- */

bool ept12_init(struct ept12 *e)
{
    e->pml4 = e_pool_page();
    /* EPTP: memory type WB (bits 2:0), page-walk length 4 - 1 (bits 5:3). */
    e->eptp = e->pml4 | 6 | (3 << 3);
    return e->pml4 != 0;
}

volatile u64 *ept12_entry(struct ept12 *e, u64 gpa, int level)
{
    u64 table = e->pml4;
    for (int l = 4; l > level; l--) {
        volatile u64 *ent = (volatile u64 *)e_ptr(table) + ((gpa >> (12 + 9 * (l - 1))) & 511);
        if (!(*ent & EPT_RWX)) {
            u64 pg = e_pool_page();
            if (!pg)
                return 0;
            *ent = pg | EPT_RWX;
        } else if (l < 4 && (*ent & EPT_LEAF)) {
            return 0;
        }
        table = *ent & 0x000ffffffffff000ull;
    }
    return (volatile u64 *)e_ptr(table) + ((gpa >> (12 + 9 * (level - 1))) & 511);
}

bool ept12_map(struct ept12 *e, u64 gpa, u64 l1pa, int level, u64 bits)
{
    volatile u64 *ent = ept12_entry(e, gpa, level);
    if (!ent)
        return false;
    *ent = l1pa | bits | (level > 1 ? EPT_LEAF : 0);
    return true;
}

/* ---- L2's 64-bit machine ---- */

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PS 0x80ull

static void gate(u64 idt_gpa, int vec, u64 handler)
{
    volatile u64 *g = e_l1(idt_gpa + 16 * (u64)vec);
    g[0] = (handler & 0xffff) | ((u64)GHV_L2_CS << 16) | (0x8eull << 40) | (((handler >> 16) & 0xffff) << 48);
    g[1] = handler >> 32;
}

bool e_l2_build(struct xt *t, struct ept12 *e, bool idt_present)
{
    u64 img_lo = phys(ghv_image_start), img_hi = phys(ghv_image_end);
    if (img_hi > 0x200000) {
        gprintf("ghv: %s image end 0x%lx beyond the 2 MiB leaf\n", t->name, img_hi);
        fail_add(&t->f, "image");
        return false;
    }
    memset(e_ptr(E_OFS), 0, E_L2_SPAN);
    memcpy(e_ptr(E_OFS + img_lo), ghv_image_start, img_hi - img_lo);

    /* L2's paging structures: identity, 2 MiB pages, 0 - 2 GiB; PML4[1]
     * reaches the self-loop address of ept-hostile. */
    *e_l1(E_GPA_PML4) = E_GPA_PDPT | PTE_P | PTE_W;
    *e_l1(E_GPA_PML4 + 8) = E_GPA_PDPT_HI | PTE_P | PTE_W;
    *e_l1(E_GPA_PDPT) = E_GPA_PD0 | PTE_P | PTE_W;
    *e_l1(E_GPA_PDPT + 8) = E_GPA_PD1 | PTE_P | PTE_W;
    for (u64 i = 0; i < 512; i++) {
        *e_l1(E_GPA_PD0 + 8 * i) = (i << 21) | PTE_P | PTE_W | PTE_PS;
        *e_l1(E_GPA_PD1 + 8 * i) = (0x40000000 + (i << 21)) | PTE_P | PTE_W | PTE_PS;
    }
    *e_l1(E_GPA_PDPT_HI + 8 * ((E_GPA_SELF >> 30) & 511)) = E_GPA_PD_HI | PTE_P | PTE_W;
    *e_l1(E_GPA_PD_HI + 8 * ((E_GPA_SELF >> 21) & 511)) = (E_GPA_SELF & ~0x1fffffull) | PTE_P | PTE_W | PTE_PS;

    /* GDT as basic's L2 (l2_env.c), TSS, IDT with #BP only. */
    u64 tss = E_GPA_TSS, tss_limit = 103;
    *e_l1(E_GPA_GDT + 0x08) = 0x00af9b000000ffffull;
    *e_l1(E_GPA_GDT + 0x10) = 0x00cf93000000ffffull;
    *e_l1(E_GPA_GDT + 0x18) = tss_limit | ((tss & 0xffffff) << 16) | (0x8bull << 40) | (((tss >> 24) & 0xff) << 56);
    *e_l1(E_GPA_GDT + 0x20) = tss >> 32;
    *(volatile u16 *)e_ptr(E_OFS + E_GPA_TSS + 102) = 104;  /* I/O map base beyond the limit */
    gate(E_GPA_IDT, 3, phys(l2_ept_bp_handler));

    /* EPT12: GPA 0 - 2 MiB one 2 MiB leaf (4 KiB leaves if 2 MiB pages are
     * not offered), the data pages as 4 KiB leaves; all WB, RWX. */
    bool ok = true;
    if (ghv_caps.ept_vpid & CAP_2M) {
        ok &= ept12_map(e, 0, E_OFS, 2, EPT_RWX | EPT_WB);
    } else {
        gprintf("ghv: %s skipped 2m\n", t->name);
        for (u64 g = 0; g < 0x200000; g += GHV_PAGE)
            ok &= ept12_map(e, g, g + E_OFS, 1, EPT_RWX | EPT_WB);
    }
    for (u64 g = E_GPA_PML4; g < E_GPA_DATA_END; g += GHV_PAGE)
        if (g != E_GPA_IDT || idt_present)
            ok &= ept12_map(e, g, g + E_OFS, 1, EPT_RWX | EPT_WB);
    if (!ok) {
        fail_add(&t->f, "ept12");
        gprintf("ghv: %s ept12 pool exhausted\n", t->name);
    }
    return ok;
}

bool e_secondary_offered(struct xt *t, u32 want)
{
    if (!xt_offered(t, "secondary-controls", ghv_caps.proc, PROC_SECONDARY))
        return false;
    if (!xt_offered(t, want & PROC2_UG ? "unrestricted-guest" : "ept", ghv_caps.proc2, want))
        return false;
    u64 need = CAP_WALK4 | CAP_WB;
    if ((ghv_caps.ept_vpid & need) != need) {
        gprintf("ghv: %s skipped ept-walk4-wb\n", t->name);
        return false;
    }
    return true;
}

static bool wok;
static void w(u64 f, u64 v)
{
    if (vmwrite(f, v) != VMX_OK) {
        gprintf("ghv: vmwrite field=0x%lx failed error=%lu\n", f, vmread(VM_INSN_ERROR));
        wok = false;
    }
}

bool e_vmcs_64(struct xt *t, void *vmcs, const struct ept12 *e, u64 rip)
{
    if (!xt_vmcs(t, vmcs, rip))
        return false;
    wok = true;
    w(PROC_CONTROLS, ghv_ctls.proc | PROC_SECONDARY);
    w(SECONDARY_CONTROLS, PROC2_EPT | (u32)ghv_caps.proc2);
    w(EPT_POINTER, e->eptp);
    /* Events are L2's own: nothing intercepted (no #PF mask/match exits either). */
    w(EXCEPTION_BITMAP, 0);
    w(PF_ERRCODE_MASK, 0);
    w(PF_ERRCODE_MATCH, 0);
    if (ghv_ctls.cr3_targets)       /* KVM's nested VMX, with no targets, refuses the field */
        w(CR3_TARGET_VALUE0, E_GPA_PML4);
    w(GUEST_CR3, E_GPA_PML4);
    w(GUEST_GDTR_BASE, E_GPA_GDT);
    w(GUEST_GDTR_LIMIT, 0x27);
    w(GUEST_IDTR_BASE, E_GPA_IDT);
    w(GUEST_IDTR_LIMIT, 16 * 4 - 1);
    w(GUEST_TR_BASE, E_GPA_TSS);
    w(GUEST_TR_LIMIT, 103);
    w(GUEST_RSP, E_GPA_RES);
    if (!wok)
        fail_add(&t->f, "vmcs-ept");
    return wok;
}

/* ---- entering L2, checking exits ---- */

int e_enter(struct xt *t, struct eexit *e)
{
    int r = ghv_vmrun(t->regs, t->launched);
    if (r == VMX_OK) {
        exit_read(&e->x);
        if (!(e->x.reason >> 31))
            t->launched = true;
        e->gpa = e->gla = 0;
        if (!(e->x.reason >> 31) && (e->x.basic == XR_EPT_VIOLATION || e->x.basic == XR_EPT_MISCONFIG)) {
            e->gpa = vmread(GUEST_PHYS_ADDR);
            /* The guest-linear address is defined only for violations with qual bit 7. */
            if (e->x.basic == XR_EPT_VIOLATION && (e->x.qual & 0x80))
                e->gla = vmread(GUEST_LINEAR_ADDR);
        }
    }
    return r;
}

bool e_run(struct xt *t, const char *tag, struct eexit *e)
{
    bool resume = t->launched;
    int r = e_enter(t, e);
    if (r != VMX_OK) {
        u64 err = r == VMX_FAIL_VALID ? vmread(VM_INSN_ERROR) : 0;
        gprintf("ghv: %s %s entry failed: %s %s error=%lu\n", t->name, tag, resume ? "vmresume" : "vmlaunch",
                vmx_result_name(r), err);
        fail_add(&t->f, tag);
        return false;
    }
    const struct exit_info *x = &e->x;
    if (x->reason >> 31) {
        gprintf("ghv: %s %s entry failed: entryfail reason=0x%x qual=0x%lx\n", t->name, tag, x->reason, x->qual);
        fail_add(&t->f, tag);
        return false;
    }
    t->n++;
    exit_print(t->n, x);
    if (x->basic == XR_EPT_VIOLATION || x->basic == XR_EPT_MISCONFIG)
        gprintf("ghv: %s gpa=0x%lx gla=0x%lx qual=0x%lx\n", t->name, e->gpa, e->gla, x->qual);
    return true;
}

void e_check(struct xt *t, const char *tag, const struct eexp *w, const struct eexit *e)
{
    const struct exit_info *x = &e->x;
    bool bad = x->basic != w->reason || x->qual != w->qual || x->rip != w->rip || x->len != w->len ||
               x->intr != 0 || x->err != 0 || x->info != 0 || x->idtv != w->idtv;
    if ((x->basic == XR_EPT_VIOLATION || x->basic == XR_EPT_MISCONFIG) && (e->gpa != w->gpa || e->gla != w->gla))
        bad = true;
    if (bad)
        fail_add(&t->f, tag);
}

bool e_step(struct xt *t, const char *tag, const struct eexp *w, struct eexit *e)
{
    if (!e_run(t, tag, e))
        return false;
    e_check(t, tag, w, e);
    return true;
}

u64 e_qual_linear(u64 bits)
{
    bits |= 0x180;
    if (ghv_caps.ept_vpid & CAP_ADV_INFO)
        bits |= 0x400;
    return bits;
}

/* ---- entry from main.c ---- */

bool eptx_run(int test, u32 mbi)
{
    memset(ghv_xe_bss_start, 0, (size_t)(ghv_xe_bss_end - ghv_xe_bss_start));
    boot_parse(mbi);
    e_pool_reset();
    switch (test) {
    case GHV_TEST_EPT: return ept_run();
    case GHV_TEST_EPT_UG: return ept_ug_run();
    case GHV_TEST_EPT_HOSTILE: return ept_hostile_run();
    case GHV_TEST_EPT_OUTSIDE: return ept_outside_run();
    case GHV_TEST_RUNL2: return runl2_run();
    default: return true;
    }
}
