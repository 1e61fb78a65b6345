/*
 * ghv: the pae test — L2 in 32-bit protected mode with PAE paging.
 *
 * "IA-32e mode guest" = 0, EFER = 0 (load IA32_EFER), CS a 32-bit code
 * segment, CR0.PG = CR4.PAE = 1 and CR3 pointing at a PDPT built here:
 * PDPTE 0 -> a page directory identity-mapping the first 1 GiB with 2 MiB
 * pages, PDPTEs 1-3 not present. Without EPT, VM entry loads the four
 * PDPTEs from guest CR3 and checks them (SDM Vol. 3C 27.3.1.6); a present
 * PDPTE with a reserved bit set makes the entry fail with reason
 * 0x80000021 (33, invalid guest state) and qualification 2 (PDPTE
 * loading; "VM-Entry Failures During or After Loading Guest State").
 *
 * L2 (l2_pae_entry, .code32): CPUID (exits: ghv answers "PAE2"), reads
 * EFER, CR0 and CR4, VMCALL.
 */
#include "xtest.h"

#define PDPTE_P 0x1ull
#define PDPTE_RSVD_BIT1 0x2ull      /* bits 2:1 and 8:5 are reserved in a PAE PDPTE */
#define PDE_P 0x1ull
#define PDE_W 0x2ull
#define PDE_PS 0x80ull

static u8 vmcs_pae[GHV_PAGE] __attribute__((aligned(GHV_PAGE)));
static u64 pae_pdpt[512] __attribute__((aligned(GHV_PAGE)));
static u64 pae_pdpt_bad[512] __attribute__((aligned(GHV_PAGE)));
static u64 pae_pd[512] __attribute__((aligned(GHV_PAGE)));

enum { RAX = 0, RBX = 3 };

static void tables_init(void)
{
    for (int i = 0; i < 512; i++)
        pae_pd[i] = ((u64)i << 21) | PDE_P | PDE_W | PDE_PS;
    memset(pae_pdpt, 0, sizeof pae_pdpt);
    pae_pdpt[0] = phys(pae_pd) | PDPTE_P;
    memcpy(pae_pdpt_bad, pae_pdpt, sizeof pae_pdpt);
    pae_pdpt_bad[0] |= PDPTE_RSVD_BIT1;
}

/* basic's VMCS turned into a 32-bit PAE guest at l2_pae_entry. */
static bool setup(struct xt *t, const u64 *pdpt)
{
    if (!xt_vmcs(t, vmcs_pae, phys(l2_pae_entry)))
        return false;
    vmwrite(ENTRY_CONTROLS, ghv_ctls.entry & ~ENTRY_IA32E_GUEST);
    if (ghv_ctls.entry & ENTRY_LOAD_EFER)
        vmwrite(GUEST_EFER, 0);
    vmwrite(GUEST_CR3, phys(pdpt));
    vmwrite(GUEST_CS_AR, 0xc09b);   /* present, DPL 0, execute/read accessed, D=1, G=1, L=0 */
    return true;
}

bool pae_run(void)
{
    struct xt t;
    xt_begin(&t, "pae");
    if (!xt_vmx(&t))
        return fail_report(&t.f, t.name);
    if ((u32)ghv_caps.entry & ENTRY_IA32E_GUEST) {     /* allowed-0: must be 1 */
        gprintf("ghv: pae skipped ia32e-mode-guest=0\n");
        return xt_end(&t, 0);
    }
    tables_init();
    XR(XR_PAE_EAX) = XR(XR_PAE_EBX) = XR(XR_PAE_EFER) = XR(XR_PAE_CR0) = XR(XR_PAE_CR4) = 0;

    if (setup(&t, pae_pdpt)) {
        struct exit_info e;
        struct xexp w = {XR_CPUID, 0, phys(l2_pae_cpuid), 2, 0, 0};
        if (xt_step(&t, "cpuid", &w, &e)) {
            t.regs[RAX] = 0x32454150;       /* "PAE2" */
            t.regs[RBX] = 0x324c324c;       /* "L2L2" */
            vmwrite(GUEST_RIP, e.rip + e.len);
            w = (struct xexp){XR_VMCALL, 0, phys(l2_pae_vmcall), 3, 0, 0};
            if (xt_step(&t, "vmcall", &w, &e)) {
                /* Every VM exit stores EFER.LMA into "IA-32e mode guest". */
                xt_show(&t, "entry.ia32e", (vmread(ENTRY_CONTROLS) >> 9) & 1, 0);
                if (ghv_ctls.exit & EXIT_SAVE_EFER)
                    xt_show(&t, "guest.efer", vmread(GUEST_EFER), 0);
            }
        }
        xt_show(&t, "cpuid.eax", XR(XR_PAE_EAX), 0x32454150);
        xt_show(&t, "cpuid.ebx", XR(XR_PAE_EBX), 0x324c324c);
        xt_show(&t, "l2.efer", XR(XR_PAE_EFER), 0);
        /* CD/NW/ET are not changed by VM entry (27.3.2.1): ghv's. TS/MP
         * are owned by ghv; the shadow says MP=1, TS=0 as in the guest CR0. */
        u64 keep = CR0_CD | CR0_NW | CR0_ET;
        xt_show(&t, "l2.cr0", XR(XR_PAE_CR0), (l2_guest_cr0() & ~keep) | (read_cr0() & keep));
        xt_show(&t, "l2.cr4", XR(XR_PAE_CR4), l2_guest_cr4());
    }

    if (setup(&t, pae_pdpt_bad))
        xt_expect_entryfail(&t, "badpdpte", 0x80000021, 2);
    return xt_end(&t, 2);
}
