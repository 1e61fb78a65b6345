/*
 * Nestor's GDT and TSS (SDM vol. 3A 3.4.5, 7.7). The TSS exists for its
 * interrupt stacks: #DF, NMI and #MC run on their own stacks so that a
 * corrupted stack still gives a readable dump.
 */
#include "nestor/cpu.h"
#include "nestor/layout.h"
#include "nestor/lib.h"

struct PACKED tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

static struct tss64 tss __attribute__((aligned(16)));
static uint64_t gdt[5] __attribute__((aligned(16)));
static uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));

uint64_t tss_base(void) { return (uint64_t)(uintptr_t)&tss; }

void gdt_init(void)
{
    for (int i = 0; i < 3; i++)
        tss.ist[i] = (uint64_t)(uintptr_t)(ist_stacks[i] + IST_STACK_SIZE);
    tss.iomap_base = sizeof tss; /* no I/O permission bitmap */

    uint64_t base = tss_base(), limit = sizeof tss - 1;
    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffffull; /* 64-bit code, DPL 0 */
    gdt[2] = 0x00cf92000000ffffull; /* data */
    gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
             (((base >> 24) & 0xff) << 56); /* available 64-bit TSS */
    gdt[4] = base >> 32;

    struct PACKED {
        uint16_t limit;
        uint64_t base;
    } gdtr = {sizeof gdt - 1, (uint64_t)(uintptr_t)gdt};
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "mov %2, %%ax\n\t"
                     "mov %%ax, %%ds\n\t"
                     "mov %%ax, %%es\n\t"
                     "mov %%ax, %%ss\n\t"
                     "mov %%ax, %%fs\n\t"
                     "mov %%ax, %%gs\n\t"
                     "mov %3, %%ax\n\t"
                     "ltr %%ax"
                     :
                     : "m"(gdtr), "i"(SEL_CODE64), "i"(SEL_DATA), "i"(SEL_TSS)
                     : "rax", "memory");
}
