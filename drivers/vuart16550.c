/* L1's emulated COM1 (register semantics from the PC16550D data sheet). */
#include "nestor/lib.h"
#include "nestor/uart16550.h"
#include "nestor/vuart.h"

#define MCR_LOOPBACK 0x10
#define IER_ETBEI 0x02
#define IIR_THRI 0x02
#define IIR_NO_INTERRUPT 0x01
#define IIR_FIFO_ENABLED 0xc0
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

void vuart_init(struct vuart *u, void (*emit)(const char *line, size_t len))
{
    memset(u, 0, sizeof *u);
    u->lcr = 0x03;
    u->dll = 1;
    u->emit = emit;
}

void vuart_flush(struct vuart *u)
{
    if (u->len && u->emit)
        u->emit(u->line, u->len);
    u->len = 0;
}

/* THR is empty again (at once): with ETBEI that is an interrupt condition and, if new, an edge. */
static void thr_empty(struct vuart *u)
{
    if (!(u->ier & IER_ETBEI))
        return;
    if (!u->thre_pending)
        u->irq_edge = true;
    u->thre_pending = true;
}

bool vuart_take_irq(struct vuart *u)
{
    bool edge = u->irq_edge;
    u->irq_edge = false;
    return edge;
}

static void transmit(struct vuart *u, uint8_t c)
{
    if (c == '\r')
        return;
    if (c == '\n') {
        u->line[u->len] = 0;
        if (u->emit)
            u->emit(u->line, u->len);
        u->len = 0;
        return;
    }
    if (u->len == VUART_LINE_MAX) /* split overlong lines only when more follows */
        vuart_flush(u);
    u->line[u->len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? (char)c : '?';
}

uint8_t vuart_read(struct vuart *u, unsigned reg)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case UART_RBR_THR:
        return dlab ? u->dll : 0;
    case UART_IER:
        return dlab ? u->dlm : u->ier;
    case UART_IIR_FCR: {
        uint8_t fifo = (u->fcr & 1) ? IIR_FIFO_ENABLED : 0;
        if ((u->ier & IER_ETBEI) && u->thre_pending) {
            u->thre_pending = false; /* reading IIR with THRE as the source clears it */
            return IIR_THRI | fifo;
        }
        return IIR_NO_INTERRUPT | fifo;
    }
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        return UART_LSR_THRE | UART_LSR_TEMT; /* transmitter always ready, nothing received */
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
        if (!(u->mcr & MCR_LOOPBACK))
            transmit(u, v);
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
        u->fcr = v;
        break;
    case UART_LCR:
        u->lcr = v;
        break;
    case UART_MCR:
        u->mcr = v & 0x1f;
        break;
    case UART_SCR:
        u->scr = v;
        break;
    default:
        break; /* LSR and MSR are read-only */
    }
}
