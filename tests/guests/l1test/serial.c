/*
 * l1test: COM1 output.
 *
 * Polled rather than interrupt driven so that output works before any IDT
 * exists and still works after the guest has broken its interrupt setup on
 * purpose (e.g. the "triple" test prints right before faulting).
 */
#include "l1test.h"
#include "io.h"

#define COM1      0x3f8
#define COM1_IER  (COM1 + 1)
#define COM1_FCR  (COM1 + 2)
#define COM1_LCR  (COM1 + 3)
#define COM1_MCR  (COM1 + 4)
#define COM1_LSR  (COM1 + 5)
#define LSR_THRE  0x20

void l1_serial_init(void)
{
    l1_outb(COM1_IER, 0x00);       /* we poll; an IRQ4 would only get in the way */
    l1_outb(COM1_LCR, 0x80);       /* DLAB to reach the divisor latch */
    l1_outb(COM1, 0x01);           /* 115200 = 115200 / 1 */
    l1_outb(COM1 + 1, 0x00);
    l1_outb(COM1_LCR, 0x03);       /* 8N1, DLAB off */
    l1_outb(COM1_FCR, 0xc7);       /* FIFO on and flushed */
    l1_outb(COM1_MCR, 0x03);       /* DTR|RTS: some consoles wait for them */
}

void l1_serial_putc(char c)
{
    while (!(l1_inb(COM1_LSR) & LSR_THRE))
        ;
    l1_outb(COM1, (uint8_t)c);
}
