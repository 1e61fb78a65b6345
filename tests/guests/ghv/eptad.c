/*
 * ghv: test=eptad — EPT accessed and dirty flags (EPTP bit 6, SDM 28.3.5) and page-modification
 * logging (SDM 28.3.6) for ghv's L2, compared with bare hardware by the boot test.
 *
 * Set-up: the nested-EPT tests' L2 machine (eptlib.c) with A/D enabled in the EPTP. L2's own
 * paging entries are made accessed (and its 2 MiB pages dirty) beforehand, so the CPU has no
 * reason to write them: the D flags of the EPT12 leaves that map L2's paging structures come
 * only from the rule that guest paging-structure accesses are writes under EPT A/D
 * (SDM 28.3.3.2).
 *
 * | n | L2 (l2_eptad.S) | exit |
 * | 1 | reads R1, R2; writes W1, W2; reads then writes RW | 18 (VMCALL) |
 *   ghv prints and checks A/D of every EPT12 entry involved; then enables PML, index 1
 * | 2 | writes P1 (logged at 1), P2 (logged at 0, index 0xffff), then P3 | 62 (PML full) at P3's write |
 *   ghv checks the log, P3's leaf (no flag set) and memory (not written); index back to 511
 * | 3 | the write to P3 (logged at 511), P4 (510) | 18 |
 */
#include "ept.h"
#include "eptad.h"

#define PROC2_PML           (1u << 17)
#define PML_ADDR            0x200e
#define GUEST_PML_INDEX     0x0812
#define XR_PML_FULL         62
#define EPTP_AD             (1ull << 6)
#define EPT_A               (1ull << 8)
#define EPT_D               (1ull << 9)
#define PTE_A               0x20ull
#define PTE_D               0x40ull

extern const char l2_ad_entry[], l2_ad_call1[], l2_ad_pml[], l2_ad_p3_write[], l2_ad_call2[];

static const u64 ad_pages[] = {AD_GPA_R1, AD_GPA_R2, AD_GPA_W1, AD_GPA_W2, AD_GPA_RW, AD_GPA_U,
                               AD_GPA_P1, AD_GPA_P2, AD_GPA_P3, AD_GPA_P4};

/* "a" and "d" of an EPT entry as two hex digits: 0x11 = A and D, 0x10 = A only. */
static u64 ad_of(u64 e) { return ((e & EPT_A) ? 0x10 : 0) | ((e & EPT_D) ? 1 : 0); }

static u64 leaf_ad(struct ept12 *e, u64 gpa) { return ad_of(*ept12_entry(e, gpa, 1)); }

static void show_leaf(struct xt *t, struct ept12 *e, const char *what, u64 gpa, u64 want)
{
    char key[32] = "ad ";
    unsigned i = 3;
    for (const char *s = what; *s && i < sizeof key - 1; s++)
        key[i++] = *s;
    key[i] = 0;
    xt_show(t, key, leaf_ad(e, gpa), want);
}

bool eptad_run(void)
{
    struct xt t;
    struct eexit x;
    struct ept12 e;
    xt_begin(&t, "eptad");
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    if (!e_secondary_offered(&t, PROC2_EPT))
        return xt_end(&t, 0);
    if (!(ghv_caps.ept_vpid & CAP_AD)) {
        gprintf("ghv: eptad skipped ept-ad\n");
        return xt_end(&t, 0);
    }
    bool pml = (ghv_caps.proc2 >> 32) & PROC2_PML;
    if (!pml)
        gprintf("ghv: eptad skipped pml\n");
    if (!e_mem_check(&t, E_POOL_BASE, E_POOL_END, "pool") || !e_mem_check(&t, E_OFS, E_OFS + E_L2_SPAN, "l2 memory"))
        return xt_end(&t, 0);
    u64 vmcs = e_pool_page(), log = e_pool_page();
    if (!vmcs || !log || !ept12_init(&e) || !e_l2_build(&t, &e, true))
        return xt_end(&t, 0);
    bool ok = true;
    for (unsigned i = 0; i < sizeof ad_pages / sizeof ad_pages[0]; i++)
        ok &= ept12_map(&e, ad_pages[i], ad_pages[i] + E_OFS, 1, EPT_RWX | EPT_WB);
    if (!ok) {
        fail_add(&t.f, "ept12");
        return xt_end(&t, 0);
    }
    /* Nothing for the CPU to write in L2's own paging entries (see above). */
    *e_l1(E_GPA_PML4) |= PTE_A;
    *e_l1(E_GPA_PDPT) |= PTE_A;
    for (u64 i = 0; i < 512; i++)
        *e_l1(E_GPA_PD0 + 8 * i) |= PTE_A | PTE_D;
    e.eptp |= EPTP_AD;
    if (!e_vmcs_64(&t, e_ptr(vmcs), &e, phys(l2_ad_entry)))
        return xt_end(&t, 0);

    /* 1: reads and writes, then VMCALL. */
    struct eexp call1 = {XR_VMCALL, 0, phys(l2_ad_call1), 3, 0, 0, 0};
    if (!e_step(&t, "call1", &call1, &x))
        return xt_end(&t, t.n);
    volatile u64 *pml4e = (volatile u64 *)e_ptr(e.pml4);
    volatile u64 *pdpte = (volatile u64 *)e_ptr(*pml4e & 0x000ffffffffff000ull);
    volatile u64 *pde = (volatile u64 *)e_ptr(*pdpte & 0x000ffffffffff000ull);
    xt_show(&t, "ad pml4e", ad_of(pml4e[0]), 0x10);  /* A only in non-leaf entries */
    xt_show(&t, "ad pdpte", ad_of(pdpte[0]), 0x10);
    xt_show(&t, "ad pde.2m", ad_of(pde[0]), 0x10);   /* the code's 2 MiB leaf: fetched, never written */
    xt_show(&t, "ad pde.4k", ad_of(pde[1]), 0x10);
    xt_show(&t, "ad pml4e.1", ad_of(pml4e[1]), 0);   /* ept-hostile's part: never used */
    show_leaf(&t, &e, "r1", AD_GPA_R1, 0x10);
    show_leaf(&t, &e, "r2", AD_GPA_R2, 0x10);
    show_leaf(&t, &e, "w1", AD_GPA_W1, 0x11);
    show_leaf(&t, &e, "w2", AD_GPA_W2, 0x11);
    show_leaf(&t, &e, "rw", AD_GPA_RW, 0x11);
    show_leaf(&t, &e, "u", AD_GPA_U, 0);
    /* L2's paging structures: the CPU's walks are writes under EPT A/D (SDM 28.3.3.2). */
    show_leaf(&t, &e, "l2.pml4", E_GPA_PML4, 0x11);
    show_leaf(&t, &e, "l2.pdpt", E_GPA_PDPT, 0x11);
    show_leaf(&t, &e, "l2.pd0", E_GPA_PD0, 0x11);
    show_leaf(&t, &e, "l2.pd1", E_GPA_PD1, 0);
    show_leaf(&t, &e, "l2.res", E_GPA_RES, 0);
    xt_show(&t, "l1 w1", *e_l1(AD_GPA_W1), AD_V1);
    xt_show(&t, "l1 w2", *e_l1(AD_GPA_W2 + 8), AD_V2);
    if (!pml)
        return xt_end(&t, 1);

    /* 2: PML with two free slots: P1 and P2 are logged, P3's write is a PML-full exit. */
    vmwrite(GUEST_RIP, phys(l2_ad_pml));
    vmwrite(SECONDARY_CONTROLS, vmread(SECONDARY_CONTROLS) | PROC2_PML);
    vmwrite(PML_ADDR, log);
    vmwrite(GUEST_PML_INDEX, 1);
    volatile u64 *plog = (volatile u64 *)e_ptr(log);
    for (unsigned i = 0; i < 512; i++)
        plog[i] = 0;
    struct eexp full = {XR_PML_FULL, 0, phys(l2_ad_p3_write), 0, 0, 0, 0};
    if (!e_step(&t, "pml-full", &full, &x))
        return xt_end(&t, t.n);
    xt_show(&t, "pml index", vmread(GUEST_PML_INDEX), 0xffff);
    xt_show(&t, "pml log.1", plog[1], AD_GPA_P1);
    xt_show(&t, "pml log.0", plog[0], AD_GPA_P2);
    xt_show(&t, "pml log.511", plog[511], 0);
    show_leaf(&t, &e, "p3.full", AD_GPA_P3, 0);     /* no flag set, */
    xt_show(&t, "l1 p3.full", *e_l1(AD_GPA_P3), 0); /* and the write did not happen */
    show_leaf(&t, &e, "p1", AD_GPA_P1, 0x11);

    /* 3: an empty log again; the write to P3 goes through now. */
    vmwrite(GUEST_PML_INDEX, 511);
    struct eexp call2 = {XR_VMCALL, 0, phys(l2_ad_call2), 3, 0, 0, 0};
    if (!e_step(&t, "call2", &call2, &x))
        return xt_end(&t, t.n);
    xt_show(&t, "pml index.end", vmread(GUEST_PML_INDEX), 509);
    xt_show(&t, "pml log.511.end", plog[511], AD_GPA_P3);
    xt_show(&t, "pml log.510.end", plog[510], AD_GPA_P4);
    xt_show(&t, "pml log.509.end", plog[509], 0);
    show_leaf(&t, &e, "p3", AD_GPA_P3, 0x11);
    show_leaf(&t, &e, "p4", AD_GPA_P4, 0x11);
    xt_show(&t, "l1 p3", *e_l1(AD_GPA_P3), AD_VP);
    return xt_end(&t, 3);
}
