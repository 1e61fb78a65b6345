/* The serial console: COM1 16550 (and optionally Bochs/QEMU port 0xe9). */
#ifndef NESTOR_CONSOLE_H
#define NESTOR_CONSOLE_H

#include "types.h"

void console_init(void);
void console_enable_e9(bool on);
/* Non-blocking: the bytes typed so far, at most max (call with the console lock held). */
size_t console_read(uint8_t *buf, size_t max);
/* The console lock if free now (console_lock waits for it). */
bool console_trylock(void);
/* Under the lock: nothing is on the current console line yet. */
bool console_at_line_start(void);
/* Waits until the console has sent everything (before the emulator is stopped). */
void console_drain(void);

#endif
