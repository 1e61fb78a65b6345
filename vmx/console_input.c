/*
 * Console input: what is typed on Nestor's COM1 becomes L1's COM1 input or a
 * debug key (core/console_escape.c sorts the bytes; vmx/debug_keys.c acts).
 *
 * One vCPU owns the console: L1's CPU 0. It looks at COM1 at the first exit
 * after each tick (g_vcpu_tick_tsc: 10 ms of TSC), and the VMX-preemption timer
 * (vmx/vmcs01.c) makes sure an exit comes within a tick even when L1 neither
 * exits nor halts, so a key acts within one exit of the tick after it
 * arrives. The UART is read under the console lock (taken only if free: a
 * CPU printing a line is not waited for; the bytes wait in the UART's FIFO
 * for the next tick). Only as many bytes are read as L1's backlog can take:
 * the rest stay in the UART (and in the line behind it), never dropped.
 *
 * stats=N on Nestor's command line prints the machine-readable statistics
 * (vmx/stats_line.c) every N seconds, timed by the TSC measured against the
 * PIT at boot.
 */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/cmdline.h"
#include "nestor/console.h"
#include "nestor/console_escape.h"
#include "nestor/lapic.h"
#include "nestor/lib.h"
#include "nestor/log.h"

#define READ_CHUNK 64
#define CALIBRATION_US 10000

static struct esc_state esc;
static uint64_t stats_period_tsc, next_stats_tsc;

/* Bounds for the measured tick: a PIT that did not count (or a TSC that did not) must not give 0 or hours. */
#define TICK_MIN_TSC (1ull << 12)
#define TICK_MAX_TSC (1ull << 31) /* the timer field is 32 bits */
#define TICK_FALLBACK_TSC ((uint64_t)1 << 20)

uint64_t g_vcpu_tick_tsc = TICK_FALLBACK_TSC;

void console_input_options(const char *cmdline)
{
    /* The PIT is still Nestor's (L1 has not started) and no AP runs yet. */
    uint64_t t0 = read_tsc();
    pit_delay_us(CALIBRATION_US);
    uint64_t per_second = (read_tsc() - t0) * (1000000 / CALIBRATION_US);
    uint64_t tick = per_second / 100;
    if (tick >= TICK_MIN_TSC && tick <= TICK_MAX_TSC)
        g_vcpu_tick_tsc = tick;
    else
        log_warn("TSC measured at %lu Hz against the PIT: the 10 ms tick falls back to %lu TSC ticks", per_second,
                 TICK_FALLBACK_TSC);
    log_debug("tick: %lu TSC ticks (10 ms; TSC %lu Hz against the PIT)", g_vcpu_tick_tsc, per_second);
    uint64_t seconds;
    if (!cmdline_get_u64(cmdline, "stats", &seconds) || !seconds)
        return;
    stats_period_tsc = per_second * seconds;
    next_stats_tsc = read_tsc() + stats_period_tsc;
    log_info("stats=%lu: machine-readable exit statistics every %lu s (TSC %lu Hz, measured)", seconds, seconds,
             per_second);
}

static enum exit_action take_byte(struct vcpu *v, uint8_t c, uint8_t *to_l1, size_t *n)
{
    uint8_t out = 0;
    switch (esc_feed(&esc, c, &out)) {
    case ESC_TO_L1:
        to_l1[(*n)++] = out;
        break;
    case ESC_KEY:
        return debug_key(v, out);
    case ESC_ADDR_ECHO:
        debug_key_address_echo(out);
        break;
    case ESC_ADDR_DONE:
        debug_key_address(v, true, esc.addr);
        break;
    case ESC_ADDR_CANCEL:
        debug_key_address(v, false, 0);
        break;
    case ESC_NOTHING:
        break;
    }
    return EXIT_RESUME;
}

enum exit_action console_input_tick(struct vcpu *v, uint64_t now)
{
    v->console_deadline = now + g_vcpu_tick_tsc;
    if (v->l1_index != 0)
        return EXIT_RESUME;
    vcpu_com1_tick();
    if (stats_period_tsc && now >= next_stats_tsc) {
        next_stats_tsc = now + stats_period_tsc;
        exit_stats_lines();
    }
    uint8_t in[READ_CHUNK], to_l1[READ_CHUNK];
    size_t want = MIN((size_t)READ_CHUNK, vcpu_com1_receive_room());
    if (!want || !console_trylock())
        return EXIT_RESUME;
    size_t got = console_read(in, want);
    console_unlock();
    size_t n = 0;
    enum exit_action a = EXIT_RESUME;
    for (size_t i = 0; i < got && a == EXIT_RESUME; i++)
        a = take_byte(v, in[i], to_l1, &n);
    if (n)
        vcpu_com1_receive(to_l1, n);
    return a;
}
