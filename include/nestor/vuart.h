/*
 * The 16550 that L1 sees at COM1. Emulated rather than passed through, so
 * that L1's lines reach the console marked "L1> " and never interleave with
 * Nestor's mid-line.
 *
 * Transmit: the transmitter empties instantly, so with IER.ETBEI set it
 * raises its "transmitter holding register empty" interrupt after every
 * byte, as a fast 16550 would.
 *
 * Receive: bytes typed on Nestor's console (vmx/console_input.c) wait in a
 * backlog, "the cable", and move into the receiver FIFO (16 bytes, or the
 * single RBR with FIFOs off) only while L1 asserts RTS (MCR bit 1) outside
 * loopback: hardware flow control, so input typed before L1 opened its port
 * waits rather than being dropped by L1's own FIFO reset, and nothing is
 * ever overrun. In loopback, what L1 transmits is received instead.
 *
 * The interrupt output is the OR of the enabled conditions (received data,
 * THR empty); each rising edge is delivered once as IRQ 4 (vmx/vcpu_irq.c).
 */
#ifndef NESTOR_VUART_H
#define NESTOR_VUART_H

#include "types.h"

#define VUART_LINE_MAX 200
#define VUART_FIFO_SIZE 16
#define VUART_BACKLOG_SIZE 4096

/* Text L1 transmitted: a whole line (line_end) or the start of one shown early (vuart_show_partial). */
typedef void (*vuart_emit_fn)(const char *text, size_t len, bool line_end);

struct vuart {
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    bool thre_pending; /* THRE interrupt condition, cleared by reading IIR (PC16550D "IIR") */
    bool irq_line;     /* the interrupt output's level */
    bool irq_edge;     /* the interrupt line rose and has not been delivered yet */
    /* Receiver FIFO (RBR at fifo[fifo_head]) and the backlog waiting for RTS. */
    uint8_t fifo[VUART_FIFO_SIZE];
    unsigned fifo_head, fifo_count;
    uint8_t backlog[VUART_BACKLOG_SIZE];
    size_t backlog_head, backlog_count;
    uint64_t rx_bytes; /* bytes L1 has read from RBR */
    /* Transmit line assembly. */
    size_t len;
    size_t shown;    /* bytes of line[] already emitted as a partial line */
    bool tx_recent;  /* L1 transmitted since the last vuart_show_partial */
    char line[VUART_LINE_MAX + 1];
    vuart_emit_fn emit;
};

void vuart_init(struct vuart *u, vuart_emit_fn emit);
uint8_t vuart_read(struct vuart *u, unsigned reg);
void vuart_write(struct vuart *u, unsigned reg, uint8_t value);
/* Takes the pending rising edge of the UART's interrupt line, if any. */
bool vuart_take_irq(struct vuart *u);
/* Emits a partial line as a line, e.g. when L1 stops mid-line. */
void vuart_flush(struct vuart *u);
/*
 * Shows the unfinished line L1 has not added to since the last call (a shell
 * prompt waiting for input): emitted without a line end, the rest follows it.
 */
void vuart_show_partial(struct vuart *u);
/* Bytes arriving on L1's receive line; returns how many fit in the backlog (the rest must wait). */
size_t vuart_receive(struct vuart *u, const uint8_t *bytes, size_t n);
size_t vuart_backlog_room(const struct vuart *u);

#endif
