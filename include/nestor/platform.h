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
#define STATUS_L1_RESET 0xfbu    /* L1 asked the chipset to reset the machine */
#define STATUS_L1_POWEROFF 0xfau /* L1 asked ACPI to power the machine off (sleep state) */
#define STATUS_CONSOLE_QUIT 0xf9u /* the user typed Ctrl-A q on the console */

/*
 * What L1 asked the machine to do at the end of its run. platform_exit first
 * reports and signals the emulator (exit=); when that returns (real hardware,
 * exit=halt) it carries the request out instead of halting. With
 * on_reset=restart a reset is carried out at once, without the emulator signal:
 * the whole machine, Nestor and L1, starts again (Nestor cannot restart L1 alone).
 */
/* Reset paths of a PC (PIIX3/PIIX4/ICH reset control register; 8042 keyboard controller; PS/2 port A). */
#define PIIX_RESET_CONTROL 0xcf9
#define RESET_CONTROL_SYS_RST BIT(1)
#define RESET_CONTROL_RST_CPU BIT(2)
#define KBC_DATA 0x60
#define KBC_COMMAND 0x64
#define KBC_WRITE_OUTPUT_PORT 0xd1
#define KBC_PULSE_RESET 0xfe /* command 0xF0-0xFF pulses the output lines whose bit is 0; line 0 is reset */
#define SYSTEM_CONTROL_A 0x92
#define SYSTEM_CONTROL_A_RESET BIT(0)

enum platform_l1_request { L1_REQUEST_NONE, L1_REQUEST_RESET, L1_REQUEST_POWEROFF };
enum platform_on_reset { ON_RESET_EXIT, ON_RESET_RESTART };
void platform_set_l1_request(enum platform_l1_request r, uint16_t port, uint32_t value, unsigned size);
bool platform_parse_on_reset(const char *s, enum platform_on_reset *out);
void platform_set_on_reset(enum platform_on_reset mode);

void platform_set_exit_mode(enum platform_exit_mode mode);
bool platform_parse_exit_mode(const char *s, enum platform_exit_mode *out);
NORETURN void platform_exit(uint32_t status);

#endif
