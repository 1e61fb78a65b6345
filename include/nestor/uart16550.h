/* Polled 16550 UART, the host's serial console (PC16550D data sheet). */
#ifndef NESTOR_UART16550_H
#define NESTOR_UART16550_H

#include "types.h"

#define COM1_BASE 0x3f8
#define COM2_BASE 0x2f8
/* Register offsets from the base port. */
#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_LCR_DLAB 0x80
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

bool uart16550_init(uint16_t base, unsigned baud);
/* The same, for one of the four standard ports; keep_rx leaves bytes already received in the FIFO. */
bool uart16550_init_port(uint16_t base, unsigned baud, bool keep_rx);
void uart16550_putc(uint16_t base, char c);
int uart16550_getc_nonblock(uint16_t base);
/* Waits until every byte written has left the transmitter. */
void uart16550_drain(uint16_t base);

#endif
