/* Console sink for the logger: COM1, and port 0xe9 when asked (instant under Bochs). */
#include "nestor/arch.h"
#include "nestor/console.h"
#include "nestor/log.h"
#include "nestor/spinlock.h"
#include "nestor/uart16550.h"

static bool use_e9;
static bool mid_line; /* the last byte written was not a line end (L1's prompt shown early) */
static struct spinlock console_spin;

/*
 * Whole lines from each CPU, never interleaved. Bounded: a CPU that died
 * holding the lock (an exception inside console_write) must not silence the
 * panic report of another.
 */
void console_lock(void)
{
    for (unsigned long i = 0; i < 200000000ul; i++)
        if (spin_trylock(&console_spin))
            return;
        else
            cpu_relax();
}

void console_unlock(void) { spin_unlock(&console_spin); }

void console_init(void) { uart16550_init(COM1_BASE, 115200); }

void console_enable_e9(bool on) { use_e9 = on; }

bool console_trylock(void) { return spin_trylock(&console_spin); }

bool console_at_line_start(void) { return !mid_line; }

void console_break_line(void)
{
    if (mid_line)
        console_write("\n", 1);
}

void console_write(const char *s, size_t n)
{
    if (n)
        mid_line = s[n - 1] != '\n';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart16550_putc(COM1_BASE, '\r');
        uart16550_putc(COM1_BASE, s[i]);
        if (use_e9)
            outb(0xe9, (uint8_t)s[i]);
    }
}

size_t console_read(uint8_t *buf, size_t max)
{
    size_t n = 0;
    for (int c; n < max && (c = uart16550_getc_nonblock(COM1_BASE)) >= 0;)
        buf[n++] = (uint8_t)c;
    return n;
}

void console_drain(void) { uart16550_drain(COM1_BASE); }
