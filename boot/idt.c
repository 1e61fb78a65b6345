/*
 * IDT for CPU exceptions (SDM vol. 3A 6.14.1). Nestor takes no external
 * interrupts (L1 owns the devices), so only vectors 0-31 are present; anything
 * else arriving is a bug and shows up as #GP with the vector in the error code.
 */
#include "nestor/cpu.h"

struct PACKED idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
};

extern const uint64_t isr_table[32];
static struct idt_gate idt[256] __attribute__((aligned(16)));

static void set_gate(unsigned vec, uint64_t handler, uint8_t ist)
{
    idt[vec] = (struct idt_gate){
        .offset_lo = handler & 0xffff,
        .selector = SEL_CODE64,
        .ist = ist,
        .type_attr = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
        .offset_mid = (handler >> 16) & 0xffff,
        .offset_hi = (uint32_t)(handler >> 32),
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < 32; v++)
        set_gate(v, isr_table[v], 0);
    set_gate(8, isr_table[8], 1);  /* #DF */
    set_gate(2, isr_table[2], 2);  /* NMI */
    set_gate(18, isr_table[18], 3); /* #MC */
    idt_load();
}

void idt_load(void)
{
    struct PACKED {
        uint16_t limit;
        uint64_t base;
    } idtr = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(idtr));
}
