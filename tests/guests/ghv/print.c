/*
 * ghv: minimal printf to COM1.
 *
 * Supports exactly what ghv's line formats need: %s %c %d %u %x with an
 * optional 'l' (64-bit) and %%. Hex is lowercase and not zero-padded; the
 * caller writes the "0x" prefix itself.
 */
#include <stdarg.h>

#include "ghv.h"

static void put_unsigned(unsigned long v, unsigned base)
{
    char buf[24];
    int i = 0;
    do {
        buf[i++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (i)
        serial_putc(buf[--i]);
}

void gprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        fmt++;
        bool is_long = false;
        while (*fmt == 'l') {
            is_long = true;
            fmt++;
        }
        switch (*fmt) {
        case 'x':
        case 'u': {
            unsigned long v = is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_unsigned(v, *fmt == 'x' ? 16 : 10);
            break;
        }
        case 'd': {
            long v = is_long ? va_arg(ap, long) : va_arg(ap, int);
            if (v < 0) {
                serial_putc('-');
                put_unsigned(-(unsigned long)v, 10);
            } else {
                put_unsigned((unsigned long)v, 10);
            }
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            while (*s)
                serial_putc(*s++);
            break;
        }
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        case '%':
            serial_putc('%');
            break;
        case '\0':
            fmt--;                  /* stray '%' at the end: stop cleanly */
            break;
        default:
            serial_putc('%');
            serial_putc(*fmt);
            break;
        }
    }
    va_end(ap);
}
