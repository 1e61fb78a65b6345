/* The serial console: COM1 16550 (and optionally Bochs/QEMU port 0xe9). */
#ifndef NESTOR_CONSOLE_H
#define NESTOR_CONSOLE_H

#include "types.h"

void console_init(void);
void console_enable_e9(bool on);
/* Non-blocking read of one byte typed on the console; -1 when none. */
int console_poll_char(void);
/* Waits until the console has sent everything (before the emulator is stopped). */
void console_drain(void);

#endif
