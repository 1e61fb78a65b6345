/*
 * l1test: tests that change or break the CPU's execution state:
 * cr (switch to long mode), halt, triple.
 */
#include "l1test.h"
#include "io.h"

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_PS  (1ull << 7)
#define PAGE_2M (1ull << 21)

void l1_enter_long_mode(uint32_t pml4_phys, uint32_t status) __attribute__((noreturn));

/* 4 GiB identity map with 2 MiB pages: 1 PML4 + 1 PDPT + 4 PDs = 24 KiB of .bss. */
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[4][512] __attribute__((aligned(4096)));

static void build_identity_map(void)
{
    pml4[0] = (uint32_t)(uintptr_t)pdpt | PTE_P | PTE_RW;
    for (uint32_t g = 0; g < 4; g++) {
        pdpt[g] = (uint32_t)(uintptr_t)pd[g] | PTE_P | PTE_RW;
        for (uint32_t i = 0; i < 512; i++)
            pd[g][i] = ((uint64_t)(g * 512 + i) * PAGE_2M) | PTE_P | PTE_RW | PTE_PS;
    }
}

uint32_t l1_test_cr(struct l1_ctx *ctx)
{
    l1_say("cr0=0x%x cr4=0x%x", l1_read_cr0(), l1_read_cr4());
    build_identity_map();
    /* Our IDT has 32-bit gates, useless in long mode: no interrupts from here on. */
    l1_cli();
    l1_enter_long_mode((uint32_t)(uintptr_t)pml4, ctx->status);
}

uint32_t l1_test_halt(struct l1_ctx *ctx)
{
    (void)ctx;
    l1_say("halting with interrupts off");
    l1_halt_forever();
}

uint32_t l1_test_triple(struct l1_ctx *ctx)
{
    /*
     * With a zero-limit IDT, int3 cannot be delivered (#GP), neither can the
     * #GP, nor the resulting #DF: the CPU shuts down.
     */
    static const struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) no_idt = { 0, 0 };

    (void)ctx;
    l1_say("triple fault now");
    __asm__ volatile("lidt %0; int3" : : "m"(no_idt) : "memory");
    l1_say("survived triple fault");
    return L1_ST_SURVIVED;
}
