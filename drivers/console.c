/* Console sink for the logger: COM1, and port 0xe9 when asked (instant under Bochs). */
#include "nestor/arch.h"
#include "nestor/console.h"
#include "nestor/log.h"
#include "nestor/spinlock.h"
#include "nestor/uart16550.h"

static bool use_e9;
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

void console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart16550_putc(COM1_BASE, '\r');
        uart16550_putc(COM1_BASE, s[i]);
        if (use_e9)
            outb(0xe9, (uint8_t)s[i]);
    }
}

int console_poll_char(void) { return uart16550_getc_nonblock(COM1_BASE); }

void console_drain(void) { uart16550_drain(COM1_BASE); }
