/* Polled 16550 driver for Nestor's own console. */
#include "nestor/arch.h"
#include "nestor/uart16550.h"

static bool present;

bool uart16550_init(uint16_t base, unsigned baud)
{
    /* A missing UART reads back 0xff everywhere; do not spin on it later. */
    outb(base + UART_SCR, 0x5a);
    if (inb(base + UART_SCR) != 0x5a) {
        present = false;
        return false;
    }
    unsigned divisor = 115200 / (baud ? baud : 115200);
    outb(base + UART_IER, 0x00);
    outb(base + UART_LCR, UART_LCR_DLAB);
    outb(base + UART_RBR_THR, divisor & 0xff);
    outb(base + UART_IER, (divisor >> 8) & 0xff);
    outb(base + UART_LCR, 0x03);     /* 8N1 */
    outb(base + UART_IIR_FCR, 0xc7); /* FIFO on, cleared, 14-byte threshold */
    outb(base + UART_MCR, 0x03);     /* DTR, RTS; no OUT2: Nestor takes no interrupts */
    present = true;
    return true;
}

void uart16550_putc(uint16_t base, char c)
{
    if (!present)
        return;
    for (unsigned spins = 0; !(inb(base + UART_LSR) & UART_LSR_THRE); spins++)
        if (spins > 1000000)
            return; /* a wedged UART must not hang the hypervisor */
    outb(base + UART_RBR_THR, (uint8_t)c);
}

int uart16550_getc_nonblock(uint16_t base)
{
    if (!present || !(inb(base + UART_LSR) & UART_LSR_DR))
        return -1;
    return inb(base + UART_RBR_THR);
}

void uart16550_drain(uint16_t base)
{
    if (!present)
        return;
    for (unsigned spins = 0; !(inb(base + UART_LSR) & UART_LSR_TEMT) && spins < 1000000; spins++)
        cpu_relax();
}
