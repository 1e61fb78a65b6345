/* Polled 16550 driver: Nestor's console (COM1) and the GDB stub's port (COM2). */
#include "nestor/arch.h"
#include "nestor/uart16550.h"

/* Which of the PC's four standard ports answered init (COM1 the console, COM2 the GDB stub). */
static const uint16_t known_bases[] = {COM1_BASE, COM2_BASE, 0x3e8, 0x2e8};
static bool present_at[ARRAY_SIZE(known_bases)];

static bool *present_slot(uint16_t base)
{
    for (unsigned i = 0; i < ARRAY_SIZE(known_bases); i++)
        if (known_bases[i] == base)
            return &present_at[i];
    return NULL;
}

static bool present(uint16_t base)
{
    bool *p = present_slot(base);
    return p && *p;
}

bool uart16550_init_port(uint16_t base, unsigned baud, bool keep_rx)
{
    /* A missing UART reads back 0xff everywhere; do not spin on it later. */
    bool *slot = present_slot(base);
    if (!slot)
        return false;
    outb(base + UART_SCR, 0x5a);
    if (inb(base + UART_SCR) != 0x5a) {
        *slot = false;
        return false;
    }
    unsigned divisor = 115200 / (baud ? baud : 115200);
    outb(base + UART_IER, 0x00);
    outb(base + UART_LCR, UART_LCR_DLAB);
    outb(base + UART_RBR_THR, divisor & 0xff);
    outb(base + UART_IER, (divisor >> 8) & 0xff);
    outb(base + UART_LCR, 0x03);     /* 8N1 */
    /* FIFO on, 14-byte threshold; cleared, except the receiver of a port whose peer may already be talking
     * (a debugger's first packets may arrive before the stub starts). */
    outb(base + UART_IIR_FCR, keep_rx ? 0xc5 : 0xc7);
    outb(base + UART_MCR, 0x03);     /* DTR, RTS; no OUT2: Nestor takes no interrupts */
    *slot = true;
    return true;
}

void uart16550_putc(uint16_t base, char c)
{
    if (!present(base))
        return;
    for (unsigned spins = 0; !(inb(base + UART_LSR) & UART_LSR_THRE); spins++)
        if (spins > 1000000)
            return; /* a wedged UART must not hang the hypervisor */
    outb(base + UART_RBR_THR, (uint8_t)c);
}

int uart16550_getc_nonblock(uint16_t base)
{
    if (!present(base) || !(inb(base + UART_LSR) & UART_LSR_DR))
        return -1;
    return inb(base + UART_RBR_THR);
}

void uart16550_drain(uint16_t base)
{
    if (!present(base))
        return;
    for (unsigned spins = 0; !(inb(base + UART_LSR) & UART_LSR_TEMT) && spins < 1000000; spins++)
        cpu_relax();
}

bool uart16550_init(uint16_t base, unsigned baud) { return uart16550_init_port(base, baud, false); }
