/*
 * pfbench: polled COM1 output, a small printf, and the end of the run.
 *
 * Polling keeps the output independent of interrupts (IF stays 0 for the
 * whole run) and lossless: every byte waits for LSR.THRE.
 */
#include "pfbench.h"

#define COM1 0x3f8
#define COM1_IER (COM1 + 1)
#define COM1_FCR (COM1 + 2)
#define COM1_LCR (COM1 + 3)
#define COM1_MCR (COM1 + 4)
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define EXIT_PORT 0xf4      /* Nestor's status port, QEMU's isa-debug-exit */
#define BOCHS_PORT 0x8900   /* 'D' here ends a bare Bochs run */

void pf_serial_init(void)
{
    outb(COM1_IER, 0x00);   /* no UART interrupts */
    outb(COM1_LCR, 0x80);   /* DLAB: divisor latch */
    outb(COM1 + 0, 0x01);   /* 115200 / 1 */
    outb(COM1 + 1, 0x00);
    outb(COM1_LCR, 0x03);   /* 8N1 */
    outb(COM1_FCR, 0xc7);   /* FIFOs on, cleared */
    outb(COM1_MCR, 0x03);   /* DTR | RTS */
}

static void putc_raw(char c)
{
    while (!(inb(COM1_LSR) & LSR_THRE))
        ;
    outb(COM1, (u8)c);
}

static void put_str(const char *s)
{
    while (*s)
        putc_raw(*s++);
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
        putc_raw(buf[--n]);
}

static void put_hex(u64 v)
{
    static const char digits[] = "0123456789abcdef";
    int shift = 60;
    while (shift > 0 && !((v >> shift) & 0xf))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        putc_raw(digits[(v >> shift) & 0xf]);
}

/* %s %c %u %lu %llu %d %x %lx %llx %% -- all this kernel needs. */
void pf_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            putc_raw(*p);
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
            putc_raw((char)va_arg(ap, int));
            break;
        case 'u':
            put_udec(longs ? va_arg(ap, u64) : va_arg(ap, unsigned));
            break;
        case 'd': {
            long long v = longs ? (long long)va_arg(ap, long) : va_arg(ap, int);
            if (v < 0) {
                putc_raw('-');
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
            putc_raw('%');
            break;
        case '\0':
            p--;
            break;
        default:
            putc_raw('%');
            putc_raw(*p);
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
    while (!(inb(COM1_LSR) & LSR_TEMT))
        ;
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
