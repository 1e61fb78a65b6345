/*
 * pfbench: polled COM1 output (tests/guests/common/com1.h), a small printf,
 * and the end of the run. Polling keeps the output independent of interrupts
 * (IF stays 0 for the whole run).
 */
#include "pfbench.h"
#include "com1.h"

#define EXIT_PORT 0xf4      /* Nestor's status port, QEMU's isa-debug-exit */
#define BOCHS_PORT 0x8900   /* 'D' here ends a bare Bochs run */

void pf_serial_init(void) { com1_init(); }

static void put_str(const char *s)
{
    while (*s)
        com1_putc(*s++);
}

/* 64-bit division by a constant is a multiply on x86-64: no libgcc involved. */
static void put_udec(u64 v)
{
    char buf[21];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        com1_putc(buf[--n]);
}

static void put_hex(u64 v)
{
    static const char digits[] = "0123456789abcdef";
    int shift = 60;
    while (shift > 0 && !((v >> shift) & 0xf))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        com1_putc(digits[(v >> shift) & 0xf]);
}

/* %s %c %u %lu %llu %d %x %lx %llx %% -- all this kernel needs. */
void pf_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            com1_putc(*p);
            continue;
        }
        p++;
        int longs = 0;
        while (*p == 'l') {
            longs++;
            p++;
        }
        switch (*p) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            put_str(s ? s : "(null)");
            break;
        }
        case 'c':
            com1_putc((char)va_arg(ap, int));
            break;
        case 'u':
            put_udec(longs ? va_arg(ap, u64) : va_arg(ap, unsigned));
            break;
        case 'd': {
            long long v = longs ? (long long)va_arg(ap, long) : va_arg(ap, int);
            if (v < 0) {
                com1_putc('-');
                put_udec(-(u64)v);
            } else {
                put_udec((u64)v);
            }
            break;
        }
        case 'x':
            put_hex(longs ? va_arg(ap, u64) : va_arg(ap, unsigned));
            break;
        case '%':
            com1_putc('%');
            break;
        case '\0':
            p--;
            break;
        default:
            com1_putc('%');
            com1_putc(*p);
            break;
        }
    }
    va_end(ap);
}

/*
 * Ends the run: the status line, a drained transmitter (so a hypervisor or
 * emulator that stops on the exit port loses no output), the status to port
 * 0xf4, then Bochs' debugger port for bare Bochs runs.
 */
void pf_exit(u32 status)
{
    pf_printf("pfbench: done status=0x%x\n", status);
    com1_flush();
    outl(EXIT_PORT, status);
    outb(BOCHS_PORT, 'D');
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

/* GCC may emit calls to these even in a freestanding build. */
void *memset(void *d, int c, size_t n)
{
    u8 *p = d;
    while (n--)
        *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    u8 *dp = d;
    const u8 *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}
