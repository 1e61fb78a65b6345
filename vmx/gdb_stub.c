/*
 * The GDB stub's session on COM2: when L1 stops, why, and what the debugger
 * says while it is stopped (the commands themselves: core/gdb_server.c; L1's
 * registers and memory: vmx/gdb_target.c).
 *
 * Only the CPU running L1's boot vCPU serves the stub: it stops in VMX root,
 * polling COM2, while the debugger looks at L1. L1's other CPUs, if it has
 * started any, run on (docs/GDB.md). While L1 runs, every exit of the boot
 * vCPU polls COM2 for Ctrl-C (or a packet: a debugger that attaches again);
 * the VMX-preemption timer (vmx/vmcs01.c) bounds the time between exits.
 *
 * Single-step: RFLAGS.TF with #DB intercepted (MTF does not work in Bochs
 * 2.7); an instruction Nestor emulates completes without a #DB, so a step
 * also ends at the first exit after which RIP moved.
 */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/cmdline.h"
#include "nestor/fmt.h"
#include "nestor/gdb_proto.h"
#include "nestor/gdb_stub.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/platform.h"
#include "nestor/uart16550.h"
#include "nestor/vmx_ops.h"

/* Bytes taken from COM2 per exit while L1 runs: a flood on COM2 must not starve L1. */
#define POLL_BUDGET 64

static struct {
    bool on;
    bool attached; /* a debugger has spoken since the last detach */
    bool stepping;
    bool tf_before; /* L1's own RFLAGS.TF when the step began */
    uint64_t step_from; /* linear address of the stepped instruction */
    struct gdb_rx rx;
    struct gdb_server srv;
    char frame[2 * GDB_PACKET_MAX + 8];
    size_t frame_len;
    char reply[GDB_PACKET_MAX + 1];
} g;

void gdb_stub_configure(const char *cmdline)
{
    char val[16];
    if (!cmdline_get(cmdline, "gdb", val, sizeof val))
        return;
    if (strcmp(val, "com2") != 0) {
        log_warn("gdb=%s: unknown port (gdb=com2 is the one offered); no GDB stub", val);
        return;
    }
    if (!uart16550_init_port(COM2_BASE, 115200, true)) {
        log_warn("gdb=com2: no UART answers at port 0x%x; no GDB stub", COM2_BASE);
        return;
    }
    g.on = true;
    gdb_rx_reset(&g.rx);
}

bool gdb_stub_enabled(void) { return g.on; }

static void send_raw(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        uart16550_putc(COM2_BASE, s[i]);
}

static void send_packet(const char *payload, size_t n)
{
    g.frame_len = gdb_frame(g.frame, sizeof g.frame, payload, n);
    send_raw(g.frame, g.frame_len);
}

static void send_text(const char *s) { send_packet(s, strlen(s)); }

/* A line on the debugger's console ('O' packet, hex text): only while it waits for a stop reply. */
static void console_note(const char *text)
{
    char buf[2 + 2 * 160];
    size_t n = MIN(strlen(text), (size_t)160);
    buf[0] = 'O';
    gdb_hex_encode(buf + 1, (const uint8_t *)text, n);
    send_packet(buf, 1 + 2 * n);
}

static int getc_blocking(void)
{
    for (;;) {
        int c = uart16550_getc_nonblock(COM2_BASE);
        if (c >= 0)
            return c;
        cpu_relax();
    }
}

/* One packet: ack, run, reply (c and s answer later, with the stop reply). */
static enum gdb_action run_packet(void)
{
    size_t n;
    if (!g.srv.no_ack)
        send_raw("+", 1);
    g.attached = true;
    enum gdb_action a = gdb_server_handle(&g.srv, g.rx.buf, g.rx.len, g.reply, &n);
    if (a != GDB_CONTINUE && a != GDB_STEP && !(a == GDB_KILL && g.rx.buf[0] == 'k'))
        send_packet(g.reply, n);
    return a;
}

/* One event from COM2 while L1 is stopped: what the debugger wants done (GDB_STAY: nothing yet). */
static enum gdb_action on_event(enum gdb_rx_event e)
{
    switch (e) {
    case GDB_RX_PACKET:
        return run_packet();
    case GDB_RX_BAD_CHECKSUM:
        send_raw("-", 1);
        break;
    case GDB_RX_TOO_LONG:
        send_raw("+", 1);
        send_text("E01");
        break;
    case GDB_RX_NAK:
        send_raw(g.frame, g.frame_len);
        break;
    default:
        break;
    }
    return GDB_STAY;
}

/* Serves the debugger until it resumes L1; first_packet: the stop came from a packet already received. */
static enum gdb_action serve(bool first_packet)
{
    enum gdb_action a = first_packet ? run_packet() : GDB_STAY;
    while (a == GDB_STAY)
        a = on_event(gdb_rx_byte(&g.rx, (uint8_t)getc_blocking()));
    return a;
}

static void begin_step(void)
{
    uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);
    g.tf_before = rflags & RFLAGS_TF;
    g.step_from = gdb_target_pc_linear();
    g.stepping = true;
    vmwrite(VMCS_GUEST_RFLAGS, rflags | RFLAGS_TF);
    gdb_target_sync_pending_bs();
}

/* The step is over: L1's own TF back as it was. */
static void end_step(struct vcpu *v)
{
    g.stepping = false;
    if (v->nested.in_l2)
        return; /* the exit to L1 loaded RFLAGS from vmcs12's host state: TF is clear */
    uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);
    vmwrite(VMCS_GUEST_RFLAGS, g.tf_before ? rflags | RFLAGS_TF : rflags & ~RFLAGS_TF);
    gdb_target_sync_pending_bs();
}

/*
 * L1 stops: tell the debugger why (unless the stop came from its own packet), serve it,
 * then resume as it says. Returns what the run loop does next.
 */
static enum exit_action stop(struct vcpu *v, unsigned sig, bool swbreak, const char *why, bool from_packet)
{
    log_info("gdb: L1 stopped (%s) at rip 0x%lx%s", why, vmread(VMCS_GUEST_RIP),
             v->nested.in_l2 ? " while L2 runs: the debugger sees L1 as it resumes after L2's next exit" : "");
    gdb_server_set_stop(&g.srv, sig, swbreak);
    if (!from_packet && g.attached) {
        if (v->nested.in_l2)
            console_note("nestor: L2 is running; registers and memory shown are L1's as it resumes at the next "
                         "exit from L2 (read-only)\n");
        send_text(g.srv.stop_reply);
    }
    enum gdb_action a = serve(from_packet);
    switch (a) {
    case GDB_STEP:
        if (v->nested.in_l2) {
            /* L1 executes nothing until L2 exits: the step ends at L1's first instruction after that. */
            g.stepping = true;
            g.tf_before = false;
            g.step_from = ~0ull;
        } else {
            begin_step();
        }
        return EXIT_RESUME;
    case GDB_DETACH:
        gdb_target_remove_all(v);
        g.attached = false;
        g.stepping = false;
        log_info("gdb: debugger detached; L1 runs on");
        return EXIT_RESUME;
    case GDB_KILL:
        gdb_target_remove_all(v);
        g.attached = false;
        return vcpu_stop(v, STATUS_L1_FAILED, false, "killed by the debugger");
    default:
        return EXIT_RESUME;
    }
}

void gdb_stub_attach(struct vcpu *v)
{
    if (!g.on)
        return;
    const struct gdb_arch *arch = v->vm->kimg.elf_class == 32 ? &gdb_arch_i386 : &gdb_arch_x86_64;
    gdb_server_init(&g.srv, arch, &gdb_l1_ops, v);
    /* #BP intercepted on this vCPU: the debugger's breakpoints are int3 bytes (vmx/gdb_target.c). */
    vmwrite(VMCS_EXCEPTION_BITMAP, vmread(VMCS_EXCEPTION_BITMAP) | BIT(VEC_BP));
    log_always("gdb: stub on COM2 (port 0x%x, %s registers); L1 waits for the debugger before its first "
               "instruction", COM2_BASE, arch->name);
    /* Nothing was asked yet: the debugger's first packet (qSupported) arrives here, no stop reply precedes it. */
    enum gdb_rx_event e;
    while ((e = gdb_rx_byte(&g.rx, (uint8_t)getc_blocking())) != GDB_RX_PACKET)
        on_event(e); /* line noise, bad checksums, oversized packets: answered, L1 still waits */
    if (stop(v, GDB_SIGTRAP, false, "before its first instruction", true) == EXIT_STOP)
        platform_exit(v->status);
}

enum exit_action gdb_stub_breakpoint(struct vcpu *v)
{
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
    if (g.on && !v->nested.in_l2 && v->l1_index == 0 && gdb_target_is_breakpoint(v, gdb_target_pc_linear())) {
        if (g.stepping)
            end_step(v);
        return stop(v, GDB_SIGTRAP, true, "breakpoint", false);
    }
    /* L1's own int3 (or L2's, if it reaches here): delivered as the software exception it was (SDM 26.6.1.3). */
    vmwrite(VMCS_ENTRY_INTR_INFO, info & ~(uint32_t)INTR_INFO_NMI_UNBLOCKING);
    vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, vmread(VMCS_EXIT_INSTRUCTION_LEN));
    v->injected = true;
    return EXIT_RESUME;
}

bool gdb_stub_step_trap(struct vcpu *v, enum exit_action *a)
{
    if (!g.on || !g.stepping || v->nested.in_l2 || v->l1_index != 0 || !(v->exit_qual & DR6_BS))
        return false;
    end_step(v);
    *a = stop(v, GDB_SIGTRAP, false, "single step", false);
    return true;
}

/* L1's run is over: the debugger learns how (W: exited with a status; X: ended by a signal). */
static enum exit_action report_end(struct vcpu *v)
{
    char msg[8];
    if (v->status == STATUS_L1_FAILED) {
        /* L1 faulted (triple fault, EPT violation, ...): let the debugger look before the run ends. */
        stop(v, GDB_SIGSEGV, false, "L1 fault: the run ends when the debugger resumes", false);
        fmt_snprintf(msg, sizeof msg, "X%02x", GDB_SIGSEGV);
    } else {
        fmt_snprintf(msg, sizeof msg, "W%02x", v->status & 0xff);
    }
    send_text(msg);
    uart16550_drain(COM2_BASE);
    g.attached = false;
    return EXIT_STOP;
}

enum exit_action gdb_stub_after_exit(struct vcpu *v, enum exit_action a)
{
    if (!g.on || v->l1_index != 0)
        return a;
    if (a == EXIT_STOP)
        return g.attached ? report_end(v) : a;
    if (g.stepping && !v->nested.in_l2 && (v->exit_reason & 0xffff) != EXIT_EXCEPTION_NMI &&
        gdb_target_pc_linear() != g.step_from) {
        end_step(v);
        return stop(v, GDB_SIGTRAP, false, v->vmcs_switched ? "single step: L2 exited to L1" : "single step", false);
    }
    for (unsigned budget = POLL_BUDGET; budget; budget--) {
        int c = uart16550_getc_nonblock(COM2_BASE);
        if (c < 0)
            break;
        switch (gdb_rx_byte(&g.rx, (uint8_t)c)) {
        case GDB_RX_INTERRUPT:
            g.attached = true;
            return stop(v, GDB_SIGINT, false, "Ctrl-C from the debugger", false);
        case GDB_RX_PACKET: /* a debugger (re)attaching: all-stop, so L1 stops and it gets its answer */
            return stop(v, GDB_SIGTRAP, false, "a debugger attached", true);
        case GDB_RX_BAD_CHECKSUM:
            send_raw("-", 1);
            break;
        default:
            break;
        }
    }
    return a;
}
