/*
 * Each CPU's GDT and TSS (SDM vol. 3A 3.4.5, 7.7), kept in its struct percpu.
 * The TSS exists for its interrupt stacks: #DF, NMI and #MC run on their own
 * stacks so that a corrupted stack still gives a readable dump.
 */
#include "nestor/cpu.h"
#include "nestor/layout.h"
#include "nestor/lib.h"
#include "nestor/percpu.h"

uint64_t tss_base(void) { return (uint64_t)(uintptr_t)&this_cpu()->tss; }

void gdt_load(struct percpu *p, const uint64_t ist_tops[3])
{
    struct tss64 *tss = &p->tss;
    memset(tss, 0, sizeof *tss);
    for (int i = 0; i < 3; i++)
        tss->ist[i] = ist_tops[i];
    tss->iomap_base = sizeof *tss; /* no I/O permission bitmap */

    uint64_t base = (uint64_t)(uintptr_t)tss, limit = sizeof *tss - 1;
    uint64_t *gdt = p->gdt;
    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffffull; /* 64-bit code, DPL 0 */
    gdt[2] = 0x00cf92000000ffffull; /* data */
    gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
             (((base >> 24) & 0xff) << 56); /* available 64-bit TSS */
    gdt[4] = base >> 32;

    struct PACKED {
        uint16_t limit;
        uint64_t base;
    } gdtr = {sizeof p->gdt - 1, (uint64_t)(uintptr_t)gdt};
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
