/*
 * l1test: "timer" test. Proves that HLT with interrupts enabled is woken by
 * a real device interrupt (legacy PIT through the 8259 PIC), i.e. that the
 * hypervisor neither loses the wakeup nor spins forever in HLT.
 */
#include "l1test.h"
#include "idt.h"
#include "io.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI   0x20

#define PIT_CH0   0x40
#define PIT_CMD   0x43
#define PIT_HZ    1193182u
#define TICK_HZ   1000u
#define WANT_TICKS 5u

static volatile uint32_t ticks;

static void on_irq(uint32_t vector)
{
    if (vector == L1_IRQ_BASE) {
        ticks++;
        l1_outb(PIC1_CMD, PIC_EOI);
    } else if (vector == L1_IRQ_BASE + 15) {
        /* Spurious IRQ15: the master still saw a real cascade request. */
        l1_outb(PIC1_CMD, PIC_EOI);
    }
    /* Spurious IRQ7 (vector 0x27) must not be acknowledged. Nothing else is unmasked. */
}

static void pic_remap(void)
{
    /* Move IRQs off 0x08-0x0f where they would alias CPU exceptions. */
    l1_outb(PIC1_CMD, 0x11);     /* ICW1: init, ICW4 follows */
    l1_outb(PIC2_CMD, 0x11);
    l1_outb(PIC1_DATA, L1_IRQ_BASE);
    l1_outb(PIC2_DATA, L1_IRQ_BASE + 8);
    l1_outb(PIC1_DATA, 0x04);    /* ICW3: slave on IRQ2 */
    l1_outb(PIC2_DATA, 0x02);
    l1_outb(PIC1_DATA, 0x01);    /* ICW4: 8086 mode */
    l1_outb(PIC2_DATA, 0x01);
    l1_outb(PIC1_DATA, 0xfe);    /* only IRQ0 */
    l1_outb(PIC2_DATA, 0xff);
}

static void pit_start(void)
{
    uint32_t div = PIT_HZ / TICK_HZ;
    l1_outb(PIT_CMD, 0x34);      /* channel 0, lo/hi byte, mode 2 (rate generator) */
    l1_outb(PIT_CH0, (uint8_t)div);
    l1_outb(PIT_CH0, (uint8_t)(div >> 8));
}

uint32_t l1_test_timer(struct l1_ctx *ctx)
{
    l1_idt_set_irq_handler(on_irq);
    pic_remap();
    pit_start();

    /*
     * "sti; hlt" back to back: STI's one-instruction interrupt shadow means
     * an interrupt arriving after the check cannot slip in before HLT and be
     * lost; it wakes HLT instead.
     */
    while (ticks < WANT_TICKS)
        __asm__ volatile("sti; hlt; cli" ::: "memory");

    l1_outb(PIC1_DATA, 0xff);
    l1_outb(PIC2_DATA, 0xff);
    l1_idt_set_irq_handler(0);
    l1_say("timer ticks=%u", ticks);
    return ctx->status;
}
