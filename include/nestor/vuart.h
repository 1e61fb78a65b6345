/*
 * The 16550 that L1 sees at COM1. Emulated rather than passed through, so
 * that L1's lines reach the console marked "L1> " and never interleave with
 * Nestor's mid-line. Transmit-only: the receiver is always empty.
 */
#ifndef NESTOR_VUART_H
#define NESTOR_VUART_H

#include "types.h"

#define VUART_LINE_MAX 200

struct vuart {
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    size_t len;
    char line[VUART_LINE_MAX + 1];
    void (*emit)(const char *line, size_t len); /* called per complete line */
};

void vuart_init(struct vuart *u, void (*emit)(const char *line, size_t len));
uint8_t vuart_read(struct vuart *u, unsigned reg);
void vuart_write(struct vuart *u, unsigned reg, uint8_t value);
/* Emits a partial line, e.g. when L1 stops mid-line. */
void vuart_flush(struct vuart *u);

#endif
