/*
 * l1test: line-oriented output and the end-of-run protocol.
 *
 * Only the conversions the tests use are implemented: %s %c %u %x %llx.
 * Hex is printed without padding; 64-bit values are split with shifts so no
 * libgcc division helpers are needed.
 */
#include <stdarg.h>
#include "l1test.h"
#include "io.h"

#define L1_EXIT_PORT 0xf4   /* QEMU isa-debug-exit; the hypervisor traps it too */

static void put_str(const char *s)
{
    if (!s)
        s = "(null)";
    while (*s)
        l1_serial_putc(*s++);
}

static void put_hex(uint64_t v)
{
    int started = 0;
    for (int shift = 60; shift >= 0; shift -= 4) {
        unsigned d = (unsigned)(v >> shift) & 0xf;
        if (d || started || shift == 0) {
            l1_serial_putc("0123456789abcdef"[d]);
            started = 1;
        }
    }
}

static void put_dec(uint32_t v)
{
    char buf[10];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);   /* 32-bit div: native, no libgcc */
        v /= 10;
    } while (v);
    while (n)
        l1_serial_putc(buf[--n]);
}

void l1_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_str("l1test: ");
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            l1_serial_putc(*p);
            continue;
        }
        p++;
        if (p[0] == 'l' && p[1] == 'l' && p[2] == 'x') {
            p += 2;
            put_hex(va_arg(ap, unsigned long long));
        } else if (*p == 'x') {
            put_hex(va_arg(ap, unsigned int));
        } else if (*p == 'u') {
            put_dec(va_arg(ap, unsigned int));
        } else if (*p == 's') {
            put_str(va_arg(ap, const char *));
        } else if (*p == 'c') {
            l1_serial_putc((char)va_arg(ap, int));
        } else if (*p == '%') {
            l1_serial_putc('%');
        } else {
            /* Unsupported conversion: make the bug visible instead of guessing. */
            put_str("<?>");
            if (!*p)
                break;
        }
    }
    l1_serial_putc('\n');
    va_end(ap);
}

void l1_done(uint32_t status)
{
    l1_say("done status=0x%x", status);
    l1_outl(L1_EXIT_PORT, status);
    /* Only reached when nothing implements the exit port. */
    l1_halt_forever();
}
