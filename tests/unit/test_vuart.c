/* drivers/vuart16550.c: L1's emulated COM1 (PC16550D register semantics, line assembly). */
#include "harness.h"
#include "nestor/uart16550.h"
#include "nestor/vuart.h"

#define MAX_LINES 16

static struct vuart u;
static char lines[MAX_LINES][VUART_LINE_MAX + 1];
static size_t line_len[MAX_LINES];
static unsigned nlines;

static char partial[VUART_LINE_MAX + 1];
static size_t partial_len;
static unsigned partial_shows;

/* Lines as the console shows them: a partial line shown early continues with the rest. */
static void record(const char *text, size_t len, bool line_end)
{
    assert_true(partial_len + len <= VUART_LINE_MAX);
    memcpy(partial + partial_len, text, len);
    partial_len += len;
    if (!line_end) {
        partial_shows++;
        return;
    }
    assert_true(nlines < MAX_LINES);
    memcpy(lines[nlines], partial, partial_len);
    lines[nlines][partial_len] = 0;
    line_len[nlines] = partial_len;
    nlines++;
    partial_len = 0;
}

static int setup(void **state)
{
    (void)state;
    memset(lines, 0, sizeof lines);
    nlines = 0;
    partial_len = 0;
    partial_shows = 0;
    vuart_init(&u, record);
    return 0;
}

static void send(const char *s)
{
    for (; *s; s++)
        vuart_write(&u, UART_RBR_THR, (uint8_t)*s);
}

static void send_bytes(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vuart_write(&u, UART_RBR_THR, b[i]);
}

/* ------------------------------------------------------------------ registers */

TEST(vuart_reset_state)
{
    assert_int_equal(vuart_read(&u, UART_LCR), 0x03); /* 8N1 */
    assert_int_equal(vuart_read(&u, UART_IER), 0);
    assert_int_equal(vuart_read(&u, UART_IIR_FCR), 0x01); /* no interrupt pending, FIFOs off */
    assert_int_equal(vuart_read(&u, UART_MCR), 0);
    assert_int_equal(vuart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    assert_int_equal(vuart_read(&u, UART_MSR), 0xb0); /* CTS, DSR, DCD: a cable is attached */
    assert_int_equal(vuart_read(&u, UART_SCR), 0);
    assert_int_equal(vuart_read(&u, UART_RBR_THR), 0); /* nothing received */
}

TEST(vuart_lsr_always_ready_and_read_only)
{
    send("some text without a newline");
    assert_int_equal(vuart_read(&u, UART_LSR), 0x60);
    vuart_write(&u, UART_LSR, 0x00);
    vuart_write(&u, UART_MSR, 0x00);
    assert_int_equal(vuart_read(&u, UART_LSR), 0x60);
    assert_int_equal(vuart_read(&u, UART_MSR), 0xb0);
    assert_false(vuart_read(&u, UART_LSR) & UART_LSR_DR);
}

TEST(vuart_divisor_latch)
{
    vuart_write(&u, UART_LCR, 0x80 | 0x03);
    vuart_write(&u, UART_RBR_THR, 0x0c); /* 9600 baud */
    vuart_write(&u, UART_IER, 0x00);
    assert_int_equal(vuart_read(&u, UART_RBR_THR), 0x0c);
    assert_int_equal(vuart_read(&u, UART_IER), 0x00);
    vuart_write(&u, UART_IER, 0xab);
    assert_int_equal(vuart_read(&u, UART_IER), 0xab); /* DLM keeps all 8 bits */
    assert_int_equal(nlines, 0);
    vuart_write(&u, UART_LCR, 0x03);
    assert_int_equal(vuart_read(&u, UART_IER), 0); /* the real IER was not touched */
    assert_int_equal(vuart_read(&u, UART_RBR_THR), 0);
    send("x\n"); /* and the divisor write was not transmitted */
    assert_int_equal(nlines, 1);
    assert_string_equal(lines[0], "x");
    vuart_write(&u, UART_LCR, 0x83);
    assert_int_equal(vuart_read(&u, UART_RBR_THR), 0x0c);
    assert_int_equal(vuart_read(&u, UART_IER), 0xab);
}

TEST(vuart_ier_mcr_masked)
{
    vuart_write(&u, UART_IER, 0xff);
    assert_int_equal(vuart_read(&u, UART_IER), 0x0f);
    vuart_write(&u, UART_MCR, 0xff);
    assert_int_equal(vuart_read(&u, UART_MCR), 0x1f);
}

TEST(vuart_fifo_bits_in_iir)
{
    vuart_write(&u, UART_IIR_FCR, 0x07);
    assert_int_equal(vuart_read(&u, UART_IIR_FCR), 0xc1);
    vuart_write(&u, UART_IIR_FCR, 0x06);
    assert_int_equal(vuart_read(&u, UART_IIR_FCR), 0x01);
}

TEST(vuart_scratch_register)
{
    vuart_write(&u, UART_SCR, 0x5a);
    assert_int_equal(vuart_read(&u, UART_SCR), 0x5a);
    vuart_write(&u, UART_LCR, 0x83); /* not affected by DLAB */
    assert_int_equal(vuart_read(&u, UART_SCR), 0x5a);
}

TEST(vuart_loopback_modem_status)
{
    static const struct {
        uint8_t mcr, msr;
    } map[] = {
        {0x10, 0x00}, {0x11, 0x20}, {0x12, 0x10}, {0x14, 0x40}, {0x18, 0x80}, {0x1f, 0xf0}, {0x1a, 0x90},
    };
    for (unsigned i = 0; i < ARRAY_SIZE(map); i++) {
        vuart_write(&u, UART_MCR, map[i].mcr);
        assert_int_equal(vuart_read(&u, UART_MSR), map[i].msr);
    }
    vuart_write(&u, UART_MCR, 0x0f); /* loopback off: the idle cable again */
    assert_int_equal(vuart_read(&u, UART_MSR), 0xb0);
}

TEST(vuart_loopback_sends_nothing)
{
    vuart_write(&u, UART_MCR, 0x10);
    send("loop test\n");
    assert_int_equal(nlines, 0);
    vuart_write(&u, UART_MCR, 0x03);
    send("real\n");
    assert_int_equal(nlines, 1);
    assert_string_equal(lines[0], "real");
}

TEST(vuart_unknown_register)
{
    assert_int_equal(vuart_read(&u, 8), 0xff);
    assert_int_equal(vuart_read(&u, 0xffff), 0xff);
    vuart_write(&u, 8, 0x41);
    vuart_write(&u, 100, '\n');
    assert_int_equal(nlines, 0);
}

/* ------------------------------------------------------------------ line assembly */

TEST(vuart_lines_assembled_and_cr_dropped)
{
    send("hello\r\nworld\n\r\n");
    assert_int_equal(nlines, 3);
    assert_string_equal(lines[0], "hello");
    assert_int_equal(line_len[0], 5);
    assert_string_equal(lines[1], "world");
    assert_string_equal(lines[2], ""); /* an empty line is a line */
    send("a\rb\n");
    assert_string_equal(lines[3], "ab");
}

TEST(vuart_non_printables_become_question_marks)
{
    static const uint8_t in[] = {'a', 0x01, '\t', 0x1b, '[', 'm', 0x7f, 0x80, 0xff, ' ', '~', 0, 'z', 0x08, 0x07, '\n'};
    send_bytes(in, sizeof in);
    assert_int_equal(nlines, 1);
    assert_int_equal(line_len[0], 15);
    /* Escape, backspace and bell pass (a shell's line editing); other controls and non-ASCII do not. */
    assert_string_equal(lines[0], "a?\t\x1b[m??? ~?z\b\a");
}

TEST(vuart_flush_partial_line)
{
    send("partial");
    assert_int_equal(nlines, 0);
    vuart_flush(&u);
    assert_int_equal(nlines, 1);
    assert_string_equal(lines[0], "partial");
    vuart_flush(&u); /* nothing left: no empty line */
    assert_int_equal(nlines, 1);
    send("next\n");
    assert_string_equal(lines[1], "next");
}

TEST(vuart_long_line_split_at_max)
{
    char buf[2 * VUART_LINE_MAX + 51];
    for (unsigned i = 0; i < sizeof buf - 1; i++)
        buf[i] = (char)('a' + i % 26);
    buf[sizeof buf - 1] = 0;
    send(buf);
    assert_int_equal(nlines, 2);
    assert_int_equal(line_len[0], VUART_LINE_MAX);
    assert_int_equal(line_len[1], VUART_LINE_MAX);
    assert_int_equal(strncmp(lines[0], buf, VUART_LINE_MAX), 0);
    assert_int_equal(strncmp(lines[1], buf + VUART_LINE_MAX, VUART_LINE_MAX), 0);
    send("\n");
    assert_int_equal(nlines, 3);
    assert_string_equal(lines[2], buf + 2 * VUART_LINE_MAX);
}

/*
 * A line of exactly VUART_LINE_MAX characters followed by its newline is one
 * line. The vuart emits the 200 characters when the buffer fills, then the
 * newline emits a second, empty line: the transcript gets a spurious bare
 * "L1> " line after every 200-character line. KNOWN BUG.
 */
TEST(vuart_line_of_exactly_max_then_newline_is_one_line)
{
    char buf[VUART_LINE_MAX + 2];
    memset(buf, '=', VUART_LINE_MAX);
    buf[VUART_LINE_MAX] = '\n';
    buf[VUART_LINE_MAX + 1] = 0;
    send(buf);
    send("next\n");
    assert_int_equal(nlines, 2);
    assert_int_equal(line_len[0], VUART_LINE_MAX);
    assert_string_equal(lines[1], "next");
}

TEST(vuart_without_sink_is_safe)
{
    vuart_init(&u, NULL);
    send("no one listens\n");
    char buf[VUART_LINE_MAX * 3];
    memset(buf, 'q', sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    send(buf);
    vuart_flush(&u);
    assert_int_equal(u.len, 0);
    assert_int_equal(nlines, 0);
}

/* ------------------------------------------------------------ the THRE interrupt (IRQ 4) */

TEST(vuart_no_interrupt_without_etbei)
{
    vuart_write(&u, UART_RBR_THR, 'x');
    assert_false(vuart_take_irq(&u));
    assert_int_equal(vuart_read(&u, UART_IIR_FCR) & 0x0f, 0x01); /* no interrupt pending */
}

TEST(vuart_enabling_etbei_with_thr_empty_interrupts_once)
{
    vuart_write(&u, UART_IER, 0x02);
    assert_true(vuart_take_irq(&u));
    assert_false(vuart_take_irq(&u)); /* one edge, taken once */
    assert_int_equal(vuart_read(&u, UART_IIR_FCR) & 0x0f, 0x02); /* THRE is the source ... */
    assert_int_equal(vuart_read(&u, UART_IIR_FCR) & 0x0f, 0x01); /* ... and reading IIR cleared it */
    vuart_write(&u, UART_IER, 0x02);                          /* rewriting IER: THR still empty */
    assert_true(vuart_take_irq(&u));
}

TEST(vuart_every_byte_raises_thre_again)
{
    vuart_write(&u, UART_IER, 0x02);
    assert_true(vuart_take_irq(&u));
    assert_int_equal(vuart_read(&u, UART_IIR_FCR) & 0x0f, 0x02);
    for (int i = 0; i < 3; i++) {
        vuart_write(&u, UART_RBR_THR, 'a');
        assert_true(vuart_take_irq(&u)); /* the byte left at once: THR empty again, new edge */
        assert_int_equal(vuart_read(&u, UART_IIR_FCR) & 0x0f, 0x02);
    }
    /* Without reading IIR in between, each THR write still clears the condition and raises it anew. */
    vuart_write(&u, UART_RBR_THR, 'b');
    assert_true(vuart_take_irq(&u));
    vuart_write(&u, UART_RBR_THR, 'c');
    assert_true(vuart_take_irq(&u)); /* writing THR cleared and re-raised it */
}

TEST(vuart_disabling_etbei_clears_the_condition)
{
    vuart_write(&u, UART_IER, 0x02);
    assert_true(vuart_take_irq(&u));
    vuart_write(&u, UART_IER, 0x00);
    assert_int_equal(vuart_read(&u, UART_IIR_FCR) & 0x0f, 0x01);
    assert_false(vuart_take_irq(&u));
}

/* ------------------------------------------------------------ the receiver */

#define MCR_DTR_RTS 0x03

static size_t recv_str(const char *s) { return vuart_receive(&u, (const uint8_t *)s, strlen(s)); }

static void read_all(char *out, size_t max)
{
    size_t n = 0;
    while ((vuart_read(&u, UART_LSR) & UART_LSR_DR) && n + 1 < max)
        out[n++] = (char)vuart_read(&u, UART_RBR_THR);
    out[n] = 0;
}

TEST(vuart_rx_waits_for_rts)
{
    assert_int_equal(recv_str("early"), 5);
    assert_false(vuart_read(&u, UART_LSR) & UART_LSR_DR); /* RTS off: the input waits on the cable */
    vuart_write(&u, UART_MCR, 0x01);                      /* DTR alone does not open it */
    assert_false(vuart_read(&u, UART_LSR) & UART_LSR_DR);
    vuart_write(&u, UART_MCR, MCR_DTR_RTS);
    assert_true(vuart_read(&u, UART_LSR) & UART_LSR_DR);
    char buf[32];
    read_all(buf, sizeof buf);
    assert_string_equal(buf, "early");
    assert_int_equal(u.rx_bytes, 5);
    assert_int_equal(vuart_read(&u, UART_RBR_THR), 0); /* empty: reads 0, DR clear */
    assert_int_equal(vuart_read(&u, UART_LSR), 0x60);
}

TEST(vuart_rx_fifo_reset_keeps_the_backlog)
{
    vuart_write(&u, UART_MCR, MCR_DTR_RTS);
    recv_str("abcdefghijklmnopqrstuvwxyz"); /* 26 bytes: a 16-byte FIFO's worth is inside, the rest waits */
    vuart_write(&u, UART_IIR_FCR, 0x01);    /* FIFOs on: the enable change clears the receiver */
    char buf[64];
    read_all(buf, sizeof buf);
    /* FIFO off -> on cleared the byte inside (the "a"), as on hardware; the cable's bytes all follow. */
    assert_string_equal(buf, "bcdefghijklmnopqrstuvwxyz");
}

TEST(vuart_rx_fifo_mode_delivers_all)
{
    vuart_write(&u, UART_IIR_FCR, 0xc7); /* FIFOs on and cleared, trigger 14: as Linux and Nestor set it */
    vuart_write(&u, UART_MCR, MCR_DTR_RTS);
    char in[100], buf[128];
    for (int i = 0; i < 99; i++)
        in[i] = (char)('!' + i % 90);
    in[99] = 0;
    recv_str(in);
    assert_int_equal(u.fifo_count, VUART_FIFO_SIZE);
    read_all(buf, sizeof buf);
    assert_string_equal(buf, in); /* refilled from the backlog as L1 reads: nothing dropped, in order */
}

TEST(vuart_rx_without_fifo_holds_one_byte)
{
    vuart_write(&u, UART_MCR, MCR_DTR_RTS);
    recv_str("xy");
    assert_int_equal(u.fifo_count, 1);
    assert_int_equal(vuart_read(&u, UART_RBR_THR), 'x');
    assert_int_equal(vuart_read(&u, UART_RBR_THR), 'y');
    assert_false(vuart_read(&u, UART_LSR) & UART_LSR_DR);
}

TEST(vuart_rx_backlog_full_refuses_rest)
{
    static uint8_t big[VUART_BACKLOG_SIZE + 10];
    memset(big, 'b', sizeof big);
    assert_int_equal(vuart_receive(&u, big, sizeof big), VUART_BACKLOG_SIZE);
    assert_int_equal(vuart_backlog_room(&u), 0);
    vuart_write(&u, UART_MCR, MCR_DTR_RTS);
    assert_int_equal(vuart_backlog_room(&u), 1); /* one byte moved into RBR */
}

TEST(vuart_rx_interrupt_and_iir)
{
    vuart_write(&u, UART_MCR, MCR_DTR_RTS);
    vuart_write(&u, UART_IER, 0x01); /* ERBFI */
    assert_false(vuart_take_irq(&u));
    assert_int_equal(vuart_read(&u, UART_IIR_FCR), 0x01);
    recv_str("k");
    assert_true(vuart_take_irq(&u));
    assert_int_equal(vuart_read(&u, UART_IIR_FCR), 0x04); /* received data available */
    assert_int_equal(vuart_read(&u, UART_IIR_FCR), 0x04); /* reading IIR does not clear it: reading RBR does */
    assert_int_equal(vuart_read(&u, UART_RBR_THR), 'k');
    assert_int_equal(vuart_read(&u, UART_IIR_FCR), 0x01);
    recv_str("m");
    assert_true(vuart_take_irq(&u)); /* a new rise: a new edge */
    assert_false(vuart_take_irq(&u));
    /* FIFO mode below the trigger level: the character-timeout indication. */
    vuart_write(&u, UART_IIR_FCR, 0xc1); /* enable (clears), trigger 14 */
    recv_str("abc");
    assert_int_equal(vuart_read(&u, UART_IIR_FCR), 0xcc);
    /* Received data outranks THRE; once read, THRE shows. */
    vuart_write(&u, UART_IER, 0x03);
    assert_int_equal(vuart_read(&u, UART_IIR_FCR) & 0x0f, 0x0c);
    char buf[8];
    read_all(buf, sizeof buf);
    assert_string_equal(buf, "abc");
    assert_int_equal(vuart_read(&u, UART_IIR_FCR) & 0x0f, 0x02);
}

TEST(vuart_rx_enabling_erbfi_with_data_interrupts)
{
    vuart_write(&u, UART_MCR, MCR_DTR_RTS);
    recv_str("z");
    assert_false(vuart_take_irq(&u));
    vuart_write(&u, UART_IER, 0x01);
    assert_true(vuart_take_irq(&u));
}

TEST(vuart_loopback_receives_what_is_sent)
{
    vuart_write(&u, UART_MCR, 0x10 | MCR_DTR_RTS);
    recv_str("outside"); /* the cable is disconnected in loopback */
    send("in");
    char buf[16];
    read_all(buf, sizeof buf);
    assert_string_equal(buf, "i"); /* FIFOs off: RBR holds one byte, the second overran */
    vuart_write(&u, UART_MCR, MCR_DTR_RTS);
    read_all(buf, sizeof buf);
    assert_string_equal(buf, "outside"); /* back on the cable: its bytes arrive, one RBR at a time */
    assert_int_equal(nlines, 0);
}

TEST(vuart_partial_line_shown_when_idle)
{
    send("/ # ");
    vuart_show_partial(&u); /* L1 wrote since the last tick: not yet */
    assert_int_equal(partial_shows, 0);
    vuart_show_partial(&u); /* a tick with nothing written: the prompt shows */
    assert_int_equal(partial_shows, 1);
    assert_int_equal(partial_len, 4);
    vuart_show_partial(&u);
    assert_int_equal(partial_shows, 1); /* nothing new */
    send("ls\n");
    assert_int_equal(nlines, 1);
    assert_string_equal(lines[0], "/ # ls");
    send("x");
    vuart_show_partial(&u);
    vuart_show_partial(&u);
    vuart_flush(&u); /* the shown part is closed with a line end, not repeated */
    assert_int_equal(nlines, 2);
    assert_string_equal(lines[1], "x");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(vuart_reset_state),
        T(vuart_lsr_always_ready_and_read_only),
        T(vuart_divisor_latch),
        T(vuart_ier_mcr_masked),
        T(vuart_fifo_bits_in_iir),
        T(vuart_scratch_register),
        T(vuart_loopback_modem_status),
        T(vuart_loopback_sends_nothing),
        T(vuart_unknown_register),
        T(vuart_lines_assembled_and_cr_dropped),
        T(vuart_non_printables_become_question_marks),
        T(vuart_flush_partial_line),
        T(vuart_long_line_split_at_max),
        T(vuart_line_of_exactly_max_then_newline_is_one_line),
        T(vuart_without_sink_is_safe),
        T(vuart_no_interrupt_without_etbei),
        T(vuart_enabling_etbei_with_thr_empty_interrupts_once),
        T(vuart_every_byte_raises_thre_again),
        T(vuart_disabling_etbei_clears_the_condition),
        T(vuart_rx_waits_for_rts),
        T(vuart_rx_fifo_reset_keeps_the_backlog),
        T(vuart_rx_fifo_mode_delivers_all),
        T(vuart_rx_without_fifo_holds_one_byte),
        T(vuart_rx_backlog_full_refuses_rest),
        T(vuart_rx_interrupt_and_iir),
        T(vuart_rx_enabling_erbfi_with_data_interrupts),
        T(vuart_loopback_receives_what_is_sent),
        T(vuart_partial_line_shown_when_idle),
    };
#undef T
    return RUN_GROUP("vuart", tests, NULL, NULL);
}
