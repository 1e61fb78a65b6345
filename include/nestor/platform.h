/*
 * Ending a run. Emulators are told through their exit devices: QEMU's
 * isa-debug-exit at port 0xf4 (exit code 2*status+1) and Bochs' port 0x8900
 * ('D' breaks into its debugger, whose script quits). On real hardware the
 * CPU halts. Chosen with exit= on Nestor's command line.
 */
#ifndef NESTOR_PLATFORM_H
#define NESTOR_PLATFORM_H

#include "types.h"

enum platform_exit_mode { EXIT_MODE_AUTO, EXIT_MODE_QEMU, EXIT_MODE_BOCHS, EXIT_MODE_HALT };

/* Status values Nestor itself uses when L1 gave none. */
#define STATUS_NESTOR_PANIC 0xffu
#define STATUS_L1_FAILED 0xfeu
#define STATUS_NO_VMX 0xfdu
#define STATUS_BAD_BOOT 0xfcu

void platform_set_exit_mode(enum platform_exit_mode mode);
bool platform_parse_exit_mode(const char *s, enum platform_exit_mode *out);
NORETURN void platform_exit(uint32_t status);

#endif
