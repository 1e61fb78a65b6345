/*
 * I/O exits for the ports the I/O bitmaps trap (io_ports below, set up by
 * vcpu_io_fill_bitmaps); every other port goes straight to the device. An
 * access straddling trapped and passed-through ports is split per port
 * (vmx/io_split.c): each byte reaches the device that owns it.
 */
#include "exit_handlers.h"
#include "io_split.h"
#include "pci_filter.h"
#include "nestor/arch.h"
#include "nestor/gdb_stub.h"
#include "nestor/console.h"
#include "nestor/log.h"
#include "nestor/physmem.h"
#include "nestor/platform.h"
#include "nestor/spinlock.h"
#include "nestor/topology.h"
#include "nestor/uart16550.h"
#include "nestor/vmx_ops.h"

/* One piece of L1's access, as the device owning its ports sees it. */
struct io_access {
    uint16_t port;
    unsigned size; /* 1-4 */
    bool in;
    uint32_t value; /* out: what L1 wrote; in: what L1 reads */
};

typedef enum exit_action (*io_handler_fn)(struct vcpu *v, struct io_access *io);

/* L1 has one COM1 whichever of its CPUs touches it: shared, behind its own lock. */
static struct vuart com1;
static struct spinlock com1_lock;
/* The machine's other devices Nestor filters (PCI configuration latch, 8042 state): one lock for them. */
static struct spinlock machine_io_lock;

/* What L1 could do itself: ports it owns, reached byte by byte when the piece has no I/O width (3 bytes). */
static void passthrough(struct io_access *io)
{
    if (io->size == 1 || io->size == 2 || io->size == 4) {
        if (io->in)
            io->value = port_in(io->port, io->size);
        else
            port_out(io->port, io->size, io->value);
        return;
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < io->size; i++) {
        if (io->in)
            v |= (uint32_t)inb((uint16_t)(io->port + i)) << (8 * i);
        else
            outb((uint16_t)(io->port + i), (uint8_t)(io->value >> (8 * i)));
    }
    if (io->in)
        io->value = v;
}

static enum exit_action io_com1(struct vcpu *v, struct io_access *io)
{
    /* 8-bit registers: a wider access reads or writes consecutive ones. */
    uint32_t value = 0;
    spin_lock(&com1_lock);
    for (unsigned i = 0; i < io->size; i++) {
        unsigned reg = io->port + i - COM1_BASE;
        if (io->in)
            value |= (uint32_t)vuart_read(v->uart, reg) << (8 * i);
        else
            vuart_write(v->uart, reg, (uint8_t)(io->value >> (8 * i)));
    }
    spin_unlock(&com1_lock);
    if (io->in)
        io->value = value;
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

/* L1 resets or powers off the machine: end the run with the usual report; platform_exit then does it. */
static enum exit_action l1_reset(struct vcpu *v, const struct io_access *io, const char *how)
{
    platform_set_l1_request(L1_REQUEST_RESET, io->port, io->value, io->size);
    log_always("L1 requested reset (%s: port 0x%x = 0x%x)", how, io->port, io->value);
    return vcpu_stop(v, STATUS_L1_RESET, false, "L1 requested reset");
}

/*
 * 0xCF8-0xCFF: a dword at 0xCF8 is CONFIG_ADDRESS; any other access to 0xCF8-0xCFB is taken
 * byte by byte (0xCF9 is the chipset's reset control register, and an unaligned access must
 * not reach CONFIG_DATA unfiltered); accesses within 0xCFC-0xCFF go through the filter.
 */
static enum exit_action io_pci_locked(struct vcpu *v, struct io_access *io)
{
    bool config_address = io->port == PCI_CONFIG_ADDRESS && io->size == 4;
    if (!config_address && io->port < PCI_CONFIG_DATA && io->size > 1) {
        uint32_t value = 0;
        for (unsigned i = 0; i < io->size; i++) {
            struct io_access b = {.port = (uint16_t)(io->port + i), .size = 1, .in = io->in,
                                  .value = (io->value >> (8 * i)) & 0xff};
            if (io_pci_locked(v, &b) == EXIT_STOP)
                return EXIT_STOP;
            value |= (b.value & 0xff) << (8 * i);
        }
        if (io->in)
            io->value = value;
        return EXIT_RESUME;
    }
    if (!io->in && io->port == PIIX_RESET_CONTROL && (io->value & RESET_CONTROL_RST_CPU))
        return l1_reset(v, io, "reset control register");
    if (io->in)
        io->value = pci_filter_in(io->port, io->size);
    else
        pci_filter_out(io->port, io->size, io->value);
    return EXIT_RESUME;
}

/* A handler of machine-wide device state (PCI configuration latch, 8042), one vCPU at a time. */
static enum exit_action under_machine_lock(io_handler_fn fn, struct vcpu *v, struct io_access *io)
{
    spin_lock(&machine_io_lock);
    enum exit_action a = fn(v, io);
    spin_unlock(&machine_io_lock);
    return a;
}

static enum exit_action io_pci(struct vcpu *v, struct io_access *io) { return under_machine_lock(io_pci_locked, v, io); }

static enum exit_action io_port92(struct vcpu *v, struct io_access *io)
{
    if (!io->in && (io->value & SYSTEM_CONTROL_A_RESET))
        return l1_reset(v, io, "system control port A");
    passthrough(io);
    return EXIT_RESUME;
}

static bool kbc_write_output_port; /* the machine's one 8042 awaits the output port byte */

/*
 * 8042 keyboard controller: commands 0xF0-0xFF pulse the output lines whose bit is 0,
 * line 0 being the CPU reset; command 0xD1 writes the output port from the next data byte.
 */
static enum exit_action io_kbc_locked(struct vcpu *v, struct io_access *io)
{
    if (!io->in && io->port == KBC_COMMAND) {
        uint8_t cmd = (uint8_t)io->value;
        if ((cmd & 0xf0) == 0xf0 && !(cmd & 1))
            return l1_reset(v, io, "keyboard controller reset pulse");
        kbc_write_output_port = cmd == KBC_WRITE_OUTPUT_PORT;
    } else if (!io->in && io->port == KBC_DATA && kbc_write_output_port) {
        kbc_write_output_port = false;
        if (!(io->value & 1))
            return l1_reset(v, io, "keyboard controller output port");
    }
    passthrough(io);
    return EXIT_RESUME;
}

static enum exit_action io_kbc(struct vcpu *v, struct io_access *io) { return under_machine_lock(io_kbc_locked, v, io); }

/*
 * ACPI PM1a/PM1b_CNT (ACPI 6.4, 4.8.3.2.1): SLP_EN (bit 13) enters the sleep state in
 * SLP_TYP. The ports are the FADT's (core/topology.c); without one, the PIIX4 values of the
 * two emulators: Bochs' PM base 0xB000 and QEMU's 0x600 (+4).
 */
#define PM1_CNT_SLP_EN BIT(13)

static enum exit_action io_pm1a_cnt(struct vcpu *v, struct io_access *io)
{
    uint32_t shift = 8 * (io->port & 1); /* the register is 16 bits at an even port */
    if (!io->in && ((io->value << shift) & PM1_CNT_SLP_EN)) {
        platform_set_l1_request(L1_REQUEST_POWEROFF, io->port, io->value, io->size);
        log_always("L1 requested poweroff (ACPI PM1a_CNT port 0x%x = 0x%x, SLP_TYP %u)", io->port, io->value,
                   (unsigned)((io->value << shift) >> 10) & 7);
        return vcpu_stop(v, STATUS_L1_POWEROFF, false, "L1 requested poweroff");
    }
    passthrough(io);
    return EXIT_RESUME;
}

/* COM2 while the GDB stub owns it: absent for L1 (reads all ones, writes dropped), so L1 cannot talk to the debugger. */
static enum exit_action io_com2(struct vcpu *v, struct io_access *io)
{
    (void)v;
    if (!gdb_stub_enabled()) { /* not trapped then; only a piece of a wider access lands here */
        passthrough(io);
        return EXIT_RESUME;
    }
    if (io->in)
        io->value = 0xffffffffu;
    return EXIT_RESUME;
}

static struct io_range io_ranges[] = {
    {0x3f8, 0x3ff},   /* COM1: emulated so L1's lines are marked */
    {0xf4, 0xf7},     /* isa-debug-exit: L1 ends the run */
    {0x8900, 0x8900}, /* Bochs debugger port: only Nestor may stop the emulator */
    {0xcf8, 0xcff},   /* PCI configuration: the host bridge's SMRAM/PAM registers are Nestor's */
    {0x92, 0x92},     /* system control port A: fast reset */
    {0x60, 0x60},     /* keyboard controller data (output port writes) */
    {0x64, 0x64},     /* keyboard controller command: reset pulse */
    {0xb004, 0xb005}, /* ACPI PM1a_CNT (Bochs' until the FADT says otherwise) */
    {0x604, 0x605},   /* ACPI PM1b_CNT or, without an FADT, QEMU's PM1a_CNT */
    {0x2f8, 0x2ff},   /* COM2: the GDB stub's (trapped only with gdb=com2) */
};
#define IO_RANGE_PM1A 7
#define IO_RANGE_PM1B 8
#define IO_RANGE_COM2 9
static const io_handler_fn io_handlers[ARRAY_SIZE(io_ranges)] = {
    io_com1, io_debug_exit, io_bochs_port, io_pci, io_port92, io_kbc, io_kbc, io_pm1a_cnt, io_pm1a_cnt, io_com2,
};

void vcpu_io_fill_bitmaps(uint8_t *bitmap_a, uint8_t *bitmap_b)
{
    /* Bitmap A covers ports 0-0x7fff, B 0x8000-0xffff (SDM 24.6.4). */
    uint8_t *bm[2] = {bitmap_a, bitmap_b};
    for (unsigned i = 0; i < ARRAY_SIZE(io_ranges); i++)
        for (unsigned p = io_ranges[i].first; p <= io_ranges[i].last && (i != IO_RANGE_COM2 || gdb_stub_enabled()); p++)
            bm[p >> 15][(p & 0x7fff) / 8] |= (uint8_t)(1u << (p % 8));
}

/*
 * L1's text on the console: each line marked "L1> ". A partial line shown early (a prompt) is
 * continued in place, unless a line of Nestor's broke it: then the rest starts a marked line.
 */
static void emit_l1_text(const char *text, size_t len, bool line_end)
{
    console_lock();
    if (console_at_line_start())
        console_write("L1> ", 4);
    console_write(text, len);
    if (line_end)
        console_write("\n", 1);
    console_unlock();
}

/* The FADT's ports, as core/topology.c found them through the boot loader's (or the BIOS area's) RSDP. */
static void find_acpi_ports(void)
{
    struct acpi_pm1 pm;
    if (!topology_pm1_ports(&pm)) {
        log_warn("ACPI: no FADT found: trapping PM1a_CNT at ports 0x%x and 0x%x (Bochs, QEMU) for L1's poweroff",
                 io_ranges[IO_RANGE_PM1A].first, io_ranges[IO_RANGE_PM1B].first);
        return;
    }
    uint16_t b = pm.b_cnt ? pm.b_cnt : pm.a_cnt;
    io_ranges[IO_RANGE_PM1A] = (struct io_range){pm.a_cnt, (uint16_t)(pm.a_cnt + 1)};
    io_ranges[IO_RANGE_PM1B] = (struct io_range){b, (uint16_t)(b + 1)};
}

/* Called for each vCPU as it is built (one at a time, core/l1_cpus.c): the machine's devices once. */
void vcpu_io_init(struct vcpu *v)
{
    if (!com1.emit) {
        vuart_init(&com1, emit_l1_text);
        pci_filter_init();
        find_acpi_ports();
    }
    v->uart = &com1;
}

bool vcpu_com1_take_irq(void)
{
    spin_lock(&com1_lock);
    bool irq = vuart_take_irq(&com1);
    spin_unlock(&com1_lock);
    return irq;
}

size_t vcpu_com1_receive_room(void)
{
    spin_lock(&com1_lock);
    size_t room = vuart_backlog_room(&com1);
    spin_unlock(&com1_lock);
    return room;
}

void vcpu_com1_receive(const uint8_t *bytes, size_t n)
{
    spin_lock(&com1_lock);
    size_t taken = vuart_receive(&com1, bytes, n);
    spin_unlock(&com1_lock);
    if (taken < n) /* the caller asked for the room first: only another reader could have filled it */
        log_warn("console input: %lu bytes for L1's COM1 did not fit its backlog", (unsigned long)(n - taken));
}

void vcpu_com1_tick(void)
{
    spin_lock(&com1_lock);
    vuart_show_partial(&com1);
    spin_unlock(&com1_lock);
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
    uint16_t port = IOQUAL_PORT(q);
    unsigned size = IOQUAL_SIZE(q);
    bool in = q & IOQUAL_IN;
    if (q & IOQUAL_STRING)
        return vcpu_stop(v, 0xfe, true, "string I/O (%s%s) to port 0x%x is not emulated", (q & IOQUAL_REP) ? "REP " : "",
                         in ? "INS" : "OUTS", port);
    uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    uint32_t out_value = (uint32_t)v->regs.gpr[GPR_RAX] & mask, in_value = 0;
    struct io_piece pieces[4];
    unsigned n = io_split(port, size, io_ranges, ARRAY_SIZE(io_ranges), pieces);
    for (unsigned i = 0; i < n; i++) {
        uint32_t piece_mask = pieces[i].size == 4 ? 0xffffffffu : (1u << (8 * pieces[i].size)) - 1;
        struct io_access io = {.port = pieces[i].port, .size = pieces[i].size, .in = in,
                               .value = (out_value >> (8 * pieces[i].offset)) & piece_mask};
        if (pieces[i].owner == IO_PASSTHROUGH)
            passthrough(&io);
        else if (io_handlers[pieces[i].owner](v, &io) == EXIT_STOP)
            return EXIT_STOP;
        if (in)
            in_value |= (io.value & piece_mask) << (8 * pieces[i].offset);
    }
    if (in) {
        uint64_t rax = v->regs.gpr[GPR_RAX];
        /* A 32-bit IN zero-extends into RAX; 8/16-bit ones merge (SDM vol. 2A IN). */
        v->regs.gpr[GPR_RAX] = size == 4 ? in_value : ((rax & ~(uint64_t)mask) | (in_value & mask));
    }
    vcpu_skip_instruction(v);
    return EXIT_RESUME;
}
