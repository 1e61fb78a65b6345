/* L1's emulated COM1 (register semantics from the PC16550D data sheet). */
#include "nestor/lib.h"
#include "nestor/uart16550.h"
#include "nestor/vuart.h"

#define IER_ERBFI 0x01
#define IER_ETBEI 0x02
#define IIR_NO_INTERRUPT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04     /* received data available (at the trigger level) */
#define IIR_TIMEOUT 0x0c /* character timeout: data below the trigger level (FIFO mode) */
#define IIR_FIFO_ENABLED 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define MCR_RTS 0x02
#define MCR_LOOPBACK 0x10
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

void vuart_init(struct vuart *u, vuart_emit_fn emit)
{
    memset(u, 0, sizeof *u);
    u->lcr = 0x03;
    u->dll = 1;
    u->emit = emit;
}

/* The interrupt output follows the enabled conditions; a rise is an edge to deliver. */
static void update_irq(struct vuart *u)
{
    bool level = ((u->ier & IER_ERBFI) && u->fifo_count) || ((u->ier & IER_ETBEI) && u->thre_pending);
    if (level && !u->irq_line)
        u->irq_edge = true;
    u->irq_line = level;
}

bool vuart_take_irq(struct vuart *u)
{
    bool edge = u->irq_edge;
    u->irq_edge = false;
    return edge;
}

/* ------------------------------------------------------------------ receiver */

static unsigned fifo_capacity(const struct vuart *u) { return (u->fcr & FCR_ENABLE) ? VUART_FIFO_SIZE : 1; }

/* Trigger level of FCR bits 7:6 (1, 4, 8 or 14 bytes). */
static unsigned rx_trigger(const struct vuart *u)
{
    static const unsigned levels[4] = {1, 4, 8, 14};
    return levels[u->fcr >> 6];
}

static void fifo_push(struct vuart *u, uint8_t c)
{
    u->fifo[(u->fifo_head + u->fifo_count) % VUART_FIFO_SIZE] = c;
    u->fifo_count++;
}

/* The cable delivers while L1 asserts RTS (outside loopback) and its receiver has room. */
static void pump(struct vuart *u)
{
    if (!(u->mcr & MCR_RTS) || (u->mcr & MCR_LOOPBACK))
        return;
    while (u->backlog_count && u->fifo_count < fifo_capacity(u)) {
        fifo_push(u, u->backlog[u->backlog_head]);
        u->backlog_head = (u->backlog_head + 1) % VUART_BACKLOG_SIZE;
        u->backlog_count--;
    }
    update_irq(u);
}

size_t vuart_backlog_room(const struct vuart *u) { return VUART_BACKLOG_SIZE - u->backlog_count; }

size_t vuart_receive(struct vuart *u, const uint8_t *bytes, size_t n)
{
    size_t take = MIN(n, vuart_backlog_room(u));
    for (size_t i = 0; i < take; i++)
        u->backlog[(u->backlog_head + u->backlog_count + i) % VUART_BACKLOG_SIZE] = bytes[i];
    u->backlog_count += take;
    pump(u);
    return take;
}

static uint8_t read_rbr(struct vuart *u)
{
    if (!u->fifo_count)
        return 0;
    uint8_t c = u->fifo[u->fifo_head];
    u->fifo_head = (u->fifo_head + 1) % VUART_FIFO_SIZE;
    u->fifo_count--;
    u->rx_bytes++;
    pump(u);
    update_irq(u);
    return c;
}

static void clear_rx_fifo(struct vuart *u)
{
    u->fifo_head = 0;
    u->fifo_count = 0;
}

/* ------------------------------------------------------------------ transmitter */

/* A line end is always emitted (an empty line is a line); a partial line only when it has text. */
static void emit(struct vuart *u, bool line_end, bool force)
{
    if (u->emit && (force || u->len > u->shown || (line_end && u->shown)))
        u->emit(u->line + u->shown, u->len - u->shown, line_end);
    if (line_end) {
        u->len = 0;
        u->shown = 0;
    } else {
        u->shown = u->len;
    }
}

void vuart_flush(struct vuart *u) { emit(u, true, false); }

void vuart_show_partial(struct vuart *u)
{
    if (!u->tx_recent && u->len > u->shown)
        emit(u, false, false);
    u->tx_recent = false;
}

/* THR is empty again (at once): with ETBEI that is an interrupt condition. */
static void thr_empty(struct vuart *u)
{
    if (u->ier & IER_ETBEI)
        u->thre_pending = true;
    update_irq(u);
}

static bool shown_as_is(uint8_t c)
{
    /* Printable ASCII and tab; backspace, bell and escape for a shell's line editing (cursor moves, and its
     * cursor-position query, which the user's terminal answers as input), as any serial console passes them. */
    return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\b' || c == '\a' || c == 0x1b;
}

static void transmit(struct vuart *u, uint8_t c)
{
    u->tx_recent = true;
    if (c == '\r')
        return;
    if (c == '\n') {
        u->line[u->len] = 0;
        emit(u, true, true);
        return;
    }
    if (u->len == VUART_LINE_MAX) /* split overlong lines only when more follows */
        vuart_flush(u);
    u->line[u->len++] = shown_as_is(c) ? (char)c : '?';
}

/* ------------------------------------------------------------------ registers */

static uint8_t read_iir(struct vuart *u)
{
    uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO_ENABLED : 0;
    /* Priority (PC16550D Table IV): line status (never raised here), received data, THR empty. */
    if ((u->ier & IER_ERBFI) && u->fifo_count)
        return ((u->fcr & FCR_ENABLE) && u->fifo_count < rx_trigger(u) ? IIR_TIMEOUT : IIR_RDI) | fifo;
    if ((u->ier & IER_ETBEI) && u->thre_pending) {
        u->thre_pending = false; /* reading IIR with THRE as the source clears it */
        update_irq(u);
        return IIR_THRI | fifo;
    }
    return IIR_NO_INTERRUPT | fifo;
}

uint8_t vuart_read(struct vuart *u, unsigned reg)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case UART_RBR_THR:
        return dlab ? u->dll : read_rbr(u);
    case UART_IER:
        return dlab ? u->dlm : u->ier;
    case UART_IIR_FCR:
        return read_iir(u);
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR: /* transmitter always ready; never an overrun: the backlog holds what does not fit */
        return UART_LSR_THRE | UART_LSR_TEMT | (u->fifo_count ? UART_LSR_DR : 0);
    case UART_MSR:
        /* In loopback the modem inputs mirror the outputs (DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD). */
        if (u->mcr & MCR_LOOPBACK)
            return (uint8_t)(((u->mcr & 1) << 5) | ((u->mcr & 2) << 3) | ((u->mcr & 4) << 4) | ((u->mcr & 8) << 4));
        return MSR_CTS | MSR_DSR | MSR_DCD;
    case UART_SCR:
        return u->scr;
    default:
        return 0xff;
    }
}

void vuart_write(struct vuart *u, unsigned reg, uint8_t v)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case UART_RBR_THR:
        if (dlab) {
            u->dll = v;
            break;
        }
        u->thre_pending = false; /* writing THR clears the interrupt; it empties again at once */
        update_irq(u);
        if (!(u->mcr & MCR_LOOPBACK))
            transmit(u, v);
        else if (u->fifo_count < fifo_capacity(u))
            fifo_push(u, v); /* loopback: the transmitter feeds the receiver (a full FIFO overruns: dropped) */
        thr_empty(u);
        break;
    case UART_IER:
        if (dlab) {
            u->dlm = v;
        } else {
            u->ier = v & 0x0f;
            if (!(u->ier & IER_ETBEI))
                u->thre_pending = false;
            thr_empty(u); /* enabling ETBEI with THR empty interrupts at once */
        }
        break;
    case UART_IIR_FCR:
        /* Changing the FIFO enable clears both FIFOs, as does bit 1 for the receiver (PC16550D "FCR"). */
        if (((v ^ u->fcr) & FCR_ENABLE) || (v & FCR_CLEAR_RX))
            clear_rx_fifo(u);
        u->fcr = v & 0xc9; /* the clear bits self-reset */
        pump(u);
        update_irq(u);
        break;
    case UART_LCR:
        u->lcr = v;
        break;
    case UART_MCR:
        u->mcr = v & 0x1f;
        pump(u);
        break;
    case UART_SCR:
        u->scr = v;
        break;
    default:
        break; /* LSR and MSR are read-only */
    }
}
