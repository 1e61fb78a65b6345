/*
 * Polled COM1 output for the test and benchmark guests (l1test, ghv, pfbench).
 *
 * Header-only so each guest keeps its own build (l1test is 32-bit code, ghv
 * and pfbench 64-bit) with no shared object. Polling keeps the output
 * independent of any interrupt setup, including one a test broke on purpose,
 * and waiting for LSR.THRE before every byte keeps it lossless on a real
 * 16550 as on an emulated one.
 */
#ifndef GUEST_COM1_H
#define GUEST_COM1_H

#include <stdint.h>

#define COM1 0x3f8
#define COM1_IER (COM1 + 1)
#define COM1_FCR (COM1 + 2)
#define COM1_LCR (COM1 + 3)
#define COM1_MCR (COM1 + 4)
#define COM1_LSR (COM1 + 5)
#define COM1_LSR_THRE 0x20
#define COM1_LSR_TEMT 0x40

static inline void com1_out(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t com1_in(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void com1_init(void)
{
    com1_out(COM1_IER, 0x00); /* polled: an IRQ4 would only get in the way */
    com1_out(COM1_LCR, 0x80); /* DLAB on, to reach the divisor latch */
    com1_out(COM1 + 0, 0x01); /* 115200 / 1 = 115200 baud */
    com1_out(COM1 + 1, 0x00);
    com1_out(COM1_LCR, 0x03); /* 8N1, DLAB off */
    com1_out(COM1_FCR, 0xc7); /* FIFOs on and cleared */
    com1_out(COM1_MCR, 0x03); /* DTR | RTS: some consoles wait for them */
}

static inline void com1_putc(char c)
{
    while (!(com1_in(COM1_LSR) & COM1_LSR_THRE))
        ;
    com1_out(COM1, (uint8_t)c);
}

/* Wait until the last byte has left the transmitter: ending the run (port
 * 0x8900 on Bochs) right after THRE would cut off the bytes still queued. */
static inline void com1_flush(void)
{
    while (!(com1_in(COM1_LSR) & COM1_LSR_TEMT))
        ;
}

#endif
