/*
 * ghv: test=ept — a 64-bit L2 under an EPT12 with a non-identity mapping,
 * every EPT violation and misconfiguration checked exactly.
 *
 * EPT12 (4-level, WB): GPA 0-2 MiB one 2 MiB leaf, L2's data pages as 4 KiB
 * leaves, all onto GPA + E_OFS; GPA 1-2 GiB one read-only 1 GiB leaf onto
 * L1-physical 0 (ghv's RAM is smaller than 2 GiB, so the leaf covers ghv's
 * own low memory; L2 reads ghv_e_known_1g through it); and the test pages of
 * ept.h. L2's script (l2_ept.S) and the exits it must produce:
 *
 *  a. reads through the 2 MiB leaf, the 1 GiB leaf and two remapped 4 KiB
 *     pages: no exit, values checked afterwards
 *  b. write to the R page: violation, qual = write | readable | linear
 *     (bits 1, 3, 7, 8); ghv adds W without INVEPT (SDM, "Invalidation of
 *     Cached Information" under EPT: widening permissions needs none, and
 *     the violation itself invalidated what was cached for the address)
 *  c. read of the not-present page: violation, bits 5:3 = 0; ghv maps it
 *     onto a page holding EV_NP, no INVEPT (not present -> present)
 *  d. call the RET in the X-only page (no exit; only if EPT_VPID_CAP[0]),
 *     then read it: violation, bits 5:3 = 0b100; ghv adds R
 *  e. read of the W-only page: misconfiguration (exit 49, qual 0, the GPA);
 *     ghv makes it RW (misconfigured entries are never cached)
 *  f. read P (A); VMCALL 1: P -> B, INVEPT single-context; read (B);
 *     VMCALL 2: P -> C, INVEPT all-context; read (C)
 *  g. INT3 with L2's IDT page not present: violation while delivering #BP,
 *     IDT-vectoring information 0x80000603, length 1; ghv maps the page and
 *     re-injects the event from the vectoring information; the handler runs once
 *  h. VMCALL 0: done
 */
#include "ept.h"

enum { RAX = 0 };

struct ept_ctx {
    struct xt t;
    struct ept12 e;
    bool xo, g1, inv1, inv2;
};

static bool invept(struct ept_ctx *c, u64 type)
{
    u64 desc[2] = {c->e.eptp, 0};
    int r = ghv_e_invept(type, desc);
    if (r == VMX_OK)
        return true;
    gprintf("ghv: ept invept type %lu failed: %s error=%lu\n", type, vmx_result_name(r),
            r == VMX_FAIL_VALID ? vmread(VM_INSN_ERROR) : 0);
    fail_add(&c->t.f, "invept");
    return false;
}

static bool setup(struct ept_ctx *c)
{
    struct xt *t = &c->t;
    u64 cap = ghv_caps.ept_vpid;
    c->xo = cap & CAP_XO;
    c->g1 = cap & CAP_1G;
    c->inv1 = (cap & CAP_INVEPT) && (cap & CAP_INVEPT_1);
    c->inv2 = (cap & CAP_INVEPT) && (cap & CAP_INVEPT_2);
    if (!ept12_init(&c->e) || !e_l2_build(t, &c->e, false))
        return false;
    struct ept12 *e = &c->e;
    bool ok = true;

    *e_l1(E_GPA_MARK2M) = EV_2M;
    if (c->g1) {
        ok &= ept12_map(e, E_GPA_1G, 0, 3, EPT_R | EPT_WB);
        ER(ER_IN_1G_ADDR) = E_GPA_1G + phys(&ghv_e_known_1g);
    } else {
        gprintf("ghv: ept skipped 1g\n");
    }
    /* Remapped pages: the identity slot holds a wrong value. */
    *(volatile u64 *)e_ptr(E_L1_4KA) = EV_4KA;
    *(volatile u64 *)e_ptr(E_L1_4KB) = EV_4KB;
    *e_l1(E_GPA_4KA) = *e_l1(E_GPA_4KB) = EV_WRONG;
    ok &= ept12_map(e, E_GPA_4KA, E_L1_4KA, 1, EPT_RWX | EPT_WB);
    ok &= ept12_map(e, E_GPA_4KB, E_L1_4KB, 1, EPT_RWX | EPT_WB);
    *e_l1(E_GPA_RO) = EV_RO;
    ok &= ept12_map(e, E_GPA_RO, E_GPA_RO + E_OFS, 1, EPT_R | EPT_WB);
    if (c->xo) {
        *(volatile u8 *)e_l1(E_GPA_XO) = 0xc3;     /* RET */
        ok &= ept12_map(e, E_GPA_XO, E_GPA_XO + E_OFS, 1, EPT_X | EPT_WB);
        ER(ER_IN_XO) = 1;
    } else {
        gprintf("ghv: ept skipped exec-only\n");
    }
    *(volatile u64 *)e_ptr(E_L1_NP) = EV_NP;
    *e_l1(E_GPA_NP) = EV_WRONG;                     /* the NP entry stays 0 */
    *e_l1(E_GPA_WO) = EV_WO;
    ok &= ept12_map(e, E_GPA_WO, E_GPA_WO + E_OFS, 1, EPT_W | EPT_WB);
    *(volatile u64 *)e_ptr(E_L1_PA) = EV_PA;
    *(volatile u64 *)e_ptr(E_L1_PB) = EV_PB;
    *(volatile u64 *)e_ptr(E_L1_PC) = EV_PC;
    *e_l1(E_GPA_P) = EV_WRONG;
    ok &= ept12_map(e, E_GPA_P, E_L1_PA, 1, EPT_RWX | EPT_WB);
    if (!c->inv1)
        gprintf("ghv: ept skipped invept-single\n");
    if (!c->inv2)
        gprintf("ghv: ept skipped invept-all\n");
    if (!ok)
        fail_add(&t->f, "ept12");
    return ok;
}

/* One step: enter, check; false (L2 abandoned) if the exit is not the one
 * the script is at (reason or RIP differ), so the fix-ups never go astray. */
static bool step(struct ept_ctx *c, const char *tag, const struct eexp *w, struct eexit *x)
{
    if (!e_step(&c->t, tag, w, x))
        return false;
    if (x->x.basic != w->reason || x->x.rip != w->rip) {
        gprintf("ghv: ept unexpected exit at step %s, l2 abandoned\n", tag);
        return false;
    }
    return true;
}

static void run(struct ept_ctx *c, void *vmcs)
{
    struct xt *t = &c->t;
    struct ept12 *e = &c->e;
    struct eexit x;
    if (!e_vmcs_64(t, vmcs, e, phys(l2_ept_entry)))
        return;

    struct eexp w = {XR_EPT_VIOLATION, e_qual_linear(0x2 | 0x8), phys(l2_ept_ro_write), 0, 0, E_GPA_RO, E_GPA_RO};
    if (!step(c, "ro-write", &w, &x))
        return;
    *ept12_entry(e, E_GPA_RO, 1) |= EPT_W;          /* upgrade, no INVEPT */

    w = (struct eexp){XR_EPT_VIOLATION, e_qual_linear(0x1), phys(l2_ept_np_read), 0, 0, E_GPA_NP, E_GPA_NP};
    if (!step(c, "np-read", &w, &x))
        return;
    *ept12_entry(e, E_GPA_NP, 1) = E_L1_NP | EPT_R | EPT_W | EPT_WB;     /* not present -> present */

    if (c->xo) {
        w = (struct eexp){XR_EPT_VIOLATION, e_qual_linear(0x1 | 0x20), phys(l2_ept_xo_read), 0, 0, E_GPA_XO,
                          E_GPA_XO};
        if (!step(c, "xo-read", &w, &x))
            return;
        *ept12_entry(e, E_GPA_XO, 1) |= EPT_R;
    }

    w = (struct eexp){XR_EPT_MISCONFIG, 0, phys(l2_ept_wo_read), 0, 0, E_GPA_WO, 0};
    if (!step(c, "wo-misconfig", &w, &x))
        return;
    *ept12_entry(e, E_GPA_WO, 1) = (E_GPA_WO + E_OFS) | EPT_R | EPT_W | EPT_WB;

    w = (struct eexp){XR_VMCALL, 0, phys(l2_ept_call1), 3, 0, 0, 0};
    if (!step(c, "remap-single", &w, &x))
        return;
    if (c->inv1) {
        *ept12_entry(e, E_GPA_P, 1) = E_L1_PB | EPT_RWX | EPT_WB;
        invept(c, 1);
    }
    vmwrite(GUEST_RIP, x.x.rip + x.x.len);

    w = (struct eexp){XR_VMCALL, 0, phys(l2_ept_call2), 3, 0, 0, 0};
    if (!step(c, "remap-all", &w, &x))
        return;
    if (c->inv2) {
        *ept12_entry(e, E_GPA_P, 1) = E_L1_PC | EPT_RWX | EPT_WB;
        invept(c, 2);
    }
    vmwrite(GUEST_RIP, x.x.rip + x.x.len);

    /* #BP delivery reads gate 3 of L2's IDT (16 bytes at IDT + 0x30). */
    w = (struct eexp){XR_EPT_VIOLATION, e_qual_linear(0x1), phys(l2_ept_int3), 1, 0x80000603, E_GPA_IDT + 0x30,
                      E_GPA_IDT + 0x30};
    if (!step(c, "int3-idt", &w, &x))
        return;
    *ept12_entry(e, E_GPA_IDT, 1) = (E_GPA_IDT + E_OFS) | EPT_R | EPT_W | EPT_WB;
    /* Re-inject what was being delivered, as the SDM's "IDT-vectoring
     * information" section says a VMM does: same type and vector, the
     * instruction length of the exit for a software exception. */
    vmwrite(ENTRY_INTR_INFO, x.x.idtv & 0x80000fff);
    vmwrite(ENTRY_EXC_ERRCODE, 0);
    vmwrite(ENTRY_INSN_LEN, x.x.len);

    w = (struct eexp){XR_VMCALL, 0, phys(l2_ept_done), 3, 0, 0, 0};
    step(c, "done", &w, &x);
}

static void show(struct xt *t, const char *key, u64 got, u64 want) { xt_show(t, key, got, want); }

bool ept_run(void)
{
    struct ept_ctx c;
    struct xt *t = &c.t;
    xt_begin(t, "ept");
    if (!xt_vmx(t))
        return fail_report(&t->f, t->name);
    if (!e_secondary_offered(t, PROC2_EPT))
        return xt_end(t, 0);
    if (!e_mem_check(t, E_POOL_BASE, E_POOL_END, "pool") || !e_mem_check(t, E_OFS, E_OFS + E_L2_SPAN, "l2 memory"))
        return xt_end(t, 0);
    u64 vmcs = e_pool_page();
    if (!vmcs || !setup(&c))
        return xt_end(t, 0);

    run(&c, e_ptr(vmcs));

    show(t, "l2 2m", ER(ER_2M), EV_2M);
    if (c.g1)
        show(t, "l2 1g", ER(ER_1G), EV_1G);
    show(t, "l2 4ka", ER(ER_4KA), EV_4KA);
    show(t, "l2 4kb", ER(ER_4KB), EV_4KB);
    show(t, "l2 ro", ER(ER_RO), EV_RW);
    show(t, "l1 ro", *e_l1(E_GPA_RO), EV_RW);       /* the write landed where EPT12 says */
    show(t, "l2 np", ER(ER_NP), EV_NP);
    if (c.xo) {
        show(t, "l2 xo.called", ER(ER_XO_CALLED), 1);
        show(t, "l2 xo.byte", ER(ER_XO_BYTE), 0xc3);
    }
    show(t, "l2 wo", ER(ER_WO), EV_WO);
    show(t, "l2 p.a", ER(ER_PA), EV_PA);
    show(t, "l2 p.b", ER(ER_PB), c.inv1 ? EV_PB : EV_PA);
    show(t, "l2 p.c", ER(ER_PC), c.inv2 ? EV_PC : c.inv1 ? EV_PB : EV_PA);
    show(t, "l2 bp.count", ER(ER_BP_COUNT), 1);
    show(t, "l2 bp.rip", ER(ER_BP_RIP), phys(l2_ept_int3) + 1);
    return xt_end(t, 7 + (c.xo ? 1 : 0));
}
