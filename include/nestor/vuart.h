/*
 * The 16550 that L1 sees at COM1. Emulated rather than passed through, so
 * that L1's lines reach the console marked "L1> " and never interleave with
 * Nestor's mid-line. Transmit-only: the receiver is always empty. The
 * transmitter empties instantly, so with IER.ETBEI set it raises its
 * "transmitter holding register empty" interrupt after every byte, as a
 * fast 16550 would; Nestor delivers it as IRQ 4 (vmx/vcpu_irq.c).
 */
#ifndef NESTOR_VUART_H
#define NESTOR_VUART_H

#include "types.h"

#define VUART_LINE_MAX 200

struct vuart {
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    bool thre_pending; /* THRE interrupt condition, cleared by reading IIR (PC16550D "IIR") */
    bool irq_edge;     /* the interrupt line rose and has not been delivered yet */
    size_t len;
    char line[VUART_LINE_MAX + 1];
    void (*emit)(const char *line, size_t len); /* called per complete line */
};

void vuart_init(struct vuart *u, void (*emit)(const char *line, size_t len));
uint8_t vuart_read(struct vuart *u, unsigned reg);
void vuart_write(struct vuart *u, unsigned reg, uint8_t value);
/* Takes the pending rising edge of the UART's interrupt line, if any. */
bool vuart_take_irq(struct vuart *u);
/* Emits a partial line, e.g. when L1 stops mid-line. */
void vuart_flush(struct vuart *u);

#endif
