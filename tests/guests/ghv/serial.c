/*
 * ghv: COM1 output, polled.
 *
 * Polling (no IRQ) keeps output independent of any interrupt setup, and the
 * wait on LSR.THRE before every byte keeps it lossless on a real 16550 as
 * well as on an emulated one.
 */
#include "ghv.h"

#define COM1 0x3f8
#define COM1_IER (COM1 + 1)
#define COM1_FCR (COM1 + 2)
#define COM1_LCR (COM1 + 3)
#define COM1_MCR (COM1 + 4)
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

void serial_init(void)
{
    outb(COM1_IER, 0x00);           /* polled: no UART interrupts */
    outb(COM1_LCR, 0x80);           /* DLAB on to set the divisor */
    outb(COM1 + 0, 0x01);           /* 115200 / 1 = 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1_LCR, 0x03);           /* 8N1, DLAB off */
    outb(COM1_FCR, 0xc7);           /* FIFOs on and cleared */
    outb(COM1_MCR, 0x03);           /* DTR | RTS */
}

void serial_putc(char c)
{
    while (!(inb(COM1_LSR) & LSR_THRE))
        ;
    outb(COM1, (u8)c);
}

/* Wait until the last byte has left the transmitter: ending the run (port
 * 0x8900 on Bochs) right after THRE would cut off the bytes still queued. */
void serial_flush(void)
{
    while (!(inb(COM1_LSR) & LSR_TEMT))
        ;
}
