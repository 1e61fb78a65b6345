/* End of run: report the status on the console, then tell the emulator. */
#include "nestor/arch.h"
#include "nestor/console.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/platform.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_DEBUG_PORT 0x8900

static enum platform_exit_mode exit_mode = EXIT_MODE_AUTO;

void platform_set_exit_mode(enum platform_exit_mode mode) { exit_mode = mode; }

bool platform_parse_exit_mode(const char *s, enum platform_exit_mode *out)
{
    static const char *const names[] = {"auto", "qemu", "bochs", "halt"};
    for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum platform_exit_mode)i;
            return true;
        }
    return false;
}

NORETURN void platform_exit(uint32_t status)
{
    log_always("run ended, exit status 0x%x", status);
    console_drain();
    if (exit_mode == EXIT_MODE_AUTO || exit_mode == EXIT_MODE_QEMU)
        outl(QEMU_DEBUG_EXIT_PORT, status);
    if (exit_mode == EXIT_MODE_AUTO || exit_mode == EXIT_MODE_BOCHS)
        outb(BOCHS_DEBUG_PORT, 'D');
    halt_forever();
}
