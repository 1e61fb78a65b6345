/*
 * ghv: the machine L2 runs on — its page tables, GDT, TSS, IDT and stack.
 *
 * L2 is a 64-bit CPL 0 guest with state of its own, so that exits, CR3
 * switches and event delivery inside L2 exercise L2's structures and not
 * ghv's. Without EPT, L2's "physical" addresses are ghv's; L2's tables
 * identity-map the first 1 GiB with 2 MiB pages, except the 2 MiB region at
 * L2_TEST_REGION which uses 4 KiB pages so that one page can be left not
 * present (L2_NP_ADDR, read-fault test) and one read-only (L2_RO_ADDR,
 * write-fault test). A second PML4 with identical contents is the "other"
 * CR3 of the CR3-load test.
 */
#include "l2_shared.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PS 0x80ull

struct l2_env ghv_l2;

static u64 l2_pml4[512] __attribute__((aligned(GHV_PAGE)));
static u64 l2_pml4_alt[512] __attribute__((aligned(GHV_PAGE)));
static u64 l2_pdpt[512] __attribute__((aligned(GHV_PAGE)));
static u64 l2_pd[512] __attribute__((aligned(GHV_PAGE)));
static u64 l2_pt[512] __attribute__((aligned(GHV_PAGE)));

static u64 l2_gdt[5] __attribute__((aligned(16)));
static u8 l2_tss[104] __attribute__((aligned(16)));
static u64 l2_idt[2 * (L2_INT_VECTOR + 1)] __attribute__((aligned(16)));
static u8 l2_stack[8192] __attribute__((aligned(16)));

static void l2_gate(int vec, const char *handler)
{
    u64 h = phys(handler);
    /* Present 64-bit interrupt gate, DPL 0, L2's code selector. */
    l2_idt[2 * vec] = (h & 0xffff) | ((u64)GHV_L2_CS << 16) | (0x8eull << 40) | (((h >> 16) & 0xffff) << 48);
    l2_idt[2 * vec + 1] = h >> 32;
}

void l2_env_init(void)
{
    /* Page tables. */
    for (int i = 0; i < 512; i++)
        l2_pd[i] = ((u64)i << 21) | PTE_P | PTE_W | PTE_PS;
    for (int i = 0; i < 512; i++)
        l2_pt[i] = (L2_TEST_REGION + ((u64)i << 12)) | PTE_P | PTE_W;
    l2_pt[(L2_NP_ADDR - L2_TEST_REGION) >> 12] = 0;
    l2_pt[(L2_RO_ADDR - L2_TEST_REGION) >> 12] = L2_RO_ADDR | PTE_P;
    l2_pd[L2_TEST_REGION >> 21] = phys(l2_pt) | PTE_P | PTE_W;
    l2_pdpt[0] = phys(l2_pd) | PTE_P | PTE_W;
    l2_pml4[0] = phys(l2_pdpt) | PTE_P | PTE_W;
    memcpy(l2_pml4_alt, l2_pml4, sizeof l2_pml4);

    /* GDT: null, 64-bit code, data, then a busy 64-bit TSS (16 bytes). The
     * descriptors match the access rights ghv puts in the VMCS, since L2's
     * IRETQ reloads CS and SS from this table. */
    u64 tss = phys(l2_tss), tss_limit = sizeof l2_tss - 1;
    l2_gdt[0] = 0;
    l2_gdt[1] = 0x00af9b000000ffffull;      /* accessed, like the VMCS AR 0xa09b */
    l2_gdt[2] = 0x00cf93000000ffffull;      /* accessed, like the VMCS AR 0xc093 */
    l2_gdt[3] = tss_limit | ((tss & 0xffffff) << 16) | (0x8bull << 40) | (((tss >> 24) & 0xff) << 56);
    l2_gdt[4] = tss >> 32;
    memset(l2_tss, 0, sizeof l2_tss);
    *(u16 *)(l2_tss + 102) = sizeof l2_tss;  /* I/O map base beyond the limit */

    /* IDT: #BP (re-injected by ghv), #PF (read faults arrive here directly,
     * write faults are injected by ghv), 0x40 (injected by ghv). Every other
     * vector is not present: an unexpected event ends in a triple-fault exit. */
    memset(l2_idt, 0, sizeof l2_idt);
    l2_gate(3, l2_bp_handler);
    l2_gate(14, l2_pf_handler);
    l2_gate(L2_INT_VECTOR, l2_int40_handler);

    ghv_l2.cr3 = phys(l2_pml4);
    ghv_l2.cr3_alt = phys(l2_pml4_alt);
    ghv_l2.gdt_base = phys(l2_gdt);
    ghv_l2.gdt_limit = sizeof l2_gdt - 1;
    ghv_l2.idt_base = phys(l2_idt);
    ghv_l2.idt_limit = sizeof l2_idt - 1;
    ghv_l2.tss_base = tss;
    ghv_l2.stack_top = phys(l2_stack + sizeof l2_stack);
}
