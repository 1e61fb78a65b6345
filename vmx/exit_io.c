/*
 * I/O exits for the ports the I/O bitmaps trap (vmx/vmcs01.c); every other
 * port goes straight to the device. Dispatch is a table of port ranges.
 */
#include "exit_handlers.h"
#include "nestor/log.h"
#include "nestor/spinlock.h"
#include "nestor/uart16550.h"
#include "nestor/vmx_ops.h"

struct io_access {
    uint16_t port;
    unsigned size; /* 1, 2 or 4 */
    bool in;
    uint32_t value; /* out: what L1 wrote; in: what L1 reads */
};

typedef enum exit_action (*io_handler_fn)(struct vcpu *v, struct io_access *io);

/* L1 has one COM1 whichever of its CPUs touches it: shared, behind its own lock. */
static struct vuart com1;
static struct spinlock com1_lock;

static enum exit_action io_com1(struct vcpu *v, struct io_access *io)
{
    unsigned reg = io->port - COM1_BASE;
    spin_lock(&com1_lock);
    if (io->in)
        io->value = vuart_read(v->uart, reg);
    else
        vuart_write(v->uart, reg, (uint8_t)io->value);
    spin_unlock(&com1_lock);
    return EXIT_RESUME;
}

/* QEMU's isa-debug-exit convention: whatever L1 writes to port 0xf4 is the run's status. */
static enum exit_action io_debug_exit(struct vcpu *v, struct io_access *io)
{
    if (io->in) {
        io->value = 0xffffffffu;
        return EXIT_RESUME;
    }
    if (io->port != 0xf4)
        return EXIT_RESUME;
    return vcpu_stop(v, io->value, false, "L1 requested exit through port 0xf4: status 0x%x", io->value);
}

static enum exit_action io_bochs_port(struct vcpu *v, struct io_access *io)
{
    (void)v;
    if (io->in)
        io->value = 0xffffffffu;
    else
        log_warn("L1 wrote 0x%x to the Bochs debugger port 0x8900: ignored (end a run through port 0xf4)", io->value);
    return EXIT_RESUME;
}

static const struct {
    uint16_t first, last;
    io_handler_fn fn;
} io_ports[] = {
    {0x3f8, 0x3ff, io_com1},
    {0xf4, 0xf7, io_debug_exit},
    {0x8900, 0x8900, io_bochs_port},
};

static void emit_l1_line(const char *line, size_t len)
{
    console_lock();
    console_write("L1> ", 4);
    console_write(line, len);
    console_write("\n", 1);
    console_unlock();
}

void vcpu_io_init(struct vcpu *v)
{
    if (!com1.emit)
        vuart_init(&com1, emit_l1_line);
    v->uart = &com1;
}

bool vcpu_com1_take_irq(void)
{
    spin_lock(&com1_lock);
    bool irq = vuart_take_irq(&com1);
    spin_unlock(&com1_lock);
    return irq;
}

void vcpu_com1_flush(void)
{
    spin_lock(&com1_lock);
    vuart_flush(&com1);
    spin_unlock(&com1_lock);
}

enum exit_action handle_io(struct vcpu *v)
{
    uint64_t q = v->exit_qual;
    struct io_access io = {.port = IOQUAL_PORT(q), .size = IOQUAL_SIZE(q), .in = q & IOQUAL_IN};
    if (q & IOQUAL_STRING)
        return vcpu_stop(v, 0xfe, true, "string I/O (%s%s) to port 0x%x is not emulated", (q & IOQUAL_REP) ? "REP " : "",
                         io.in ? "INS" : "OUTS", io.port);
    uint32_t mask = io.size == 4 ? 0xffffffffu : (1u << (8 * io.size)) - 1;
    if (!io.in)
        io.value = (uint32_t)v->regs.gpr[GPR_RAX] & mask;
    for (unsigned i = 0; i < ARRAY_SIZE(io_ports); i++) {
        if (io.port < io_ports[i].first || io.port > io_ports[i].last)
            continue;
        enum exit_action a = io_ports[i].fn(v, &io);
        if (a == EXIT_STOP)
            return a;
        if (io.in) {
            uint64_t rax = v->regs.gpr[GPR_RAX];
            /* A 32-bit IN zero-extends into RAX; 8/16-bit ones merge (SDM vol. 2A IN). */
            v->regs.gpr[GPR_RAX] = io.size == 4 ? (io.value & mask) : ((rax & ~(uint64_t)mask) | (io.value & mask));
        }
        vcpu_skip_instruction(v);
        return EXIT_RESUME;
    }
    return vcpu_stop(v, 0xfe, true, "I/O exit for port 0x%x, which Nestor does not trap", io.port);
}
