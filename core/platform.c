/* End of run: report the status on the console, then tell the emulator. */
#include "nestor/arch.h"
#include "nestor/console.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/platform.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_DEBUG_PORT 0x8900

static enum platform_exit_mode exit_mode = EXIT_MODE_AUTO;
static enum platform_on_reset on_reset = ON_RESET_EXIT;
static struct {
    enum platform_l1_request what;
    uint16_t port;
    unsigned size;
    uint32_t value;
} l1_request;

void platform_set_l1_request(enum platform_l1_request r, uint16_t port, uint32_t value, unsigned size)
{
    l1_request.what = r;
    l1_request.port = port;
    l1_request.value = value;
    l1_request.size = size;
}

bool platform_parse_on_reset(const char *s, enum platform_on_reset *out)
{
    if (strcmp(s, "exit") == 0)
        *out = ON_RESET_EXIT;
    else if (strcmp(s, "restart") == 0)
        *out = ON_RESET_RESTART;
    else
        return false;
    return true;
}

void platform_set_on_reset(enum platform_on_reset mode) { on_reset = mode; }

/* A hard reset through the chipset, then the keyboard controller; a triple fault if both are missing. */
static NORETURN void machine_reset(void)
{
    outb(PIIX_RESET_CONTROL, RESET_CONTROL_SYS_RST);
    outb(PIIX_RESET_CONTROL, RESET_CONTROL_SYS_RST | RESET_CONTROL_RST_CPU);
    for (int i = 0; i < 100000; i++)
        cpu_relax();
    outb(KBC_COMMAND, KBC_PULSE_RESET);
    for (int i = 0; i < 100000; i++)
        cpu_relax();
    static const struct desc_ptr no_idt = {0, 0};
    __asm__ volatile("lidt %0; int3" ::"m"(no_idt));
    halt_forever();
}

/* L1's own PM1a_CNT write replayed: the sleep type L1 chose is the firmware's (ACPI \_Sx) to interpret. */
static void carry_out_l1_request(void)
{
    if (l1_request.what == L1_REQUEST_RESET) {
        log_always("resetting the machine as L1 asked");
        console_drain();
        machine_reset();
    }
    if (l1_request.what == L1_REQUEST_POWEROFF) {
        log_always("powering off as L1 asked (port 0x%x = 0x%x)", l1_request.port, l1_request.value);
        console_drain();
        if (l1_request.size == 4)
            outl(l1_request.port, l1_request.value);
        else if (l1_request.size == 2)
            outw(l1_request.port, (uint16_t)l1_request.value);
        else
            outb(l1_request.port, (uint8_t)l1_request.value);
    }
}

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
    if (l1_request.what == L1_REQUEST_RESET && on_reset == ON_RESET_RESTART) {
        log_always("on_reset=restart: the machine restarts, Nestor and L1 with it");
        carry_out_l1_request();
    }
    if (exit_mode == EXIT_MODE_AUTO || exit_mode == EXIT_MODE_QEMU)
        outl(QEMU_DEBUG_EXIT_PORT, status);
    if (exit_mode == EXIT_MODE_AUTO || exit_mode == EXIT_MODE_BOCHS)
        outb(BOCHS_DEBUG_PORT, 'D');
    carry_out_l1_request();
    halt_forever();
}
