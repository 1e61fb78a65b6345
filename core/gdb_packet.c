/* GDB remote protocol framing and hex (GDB manual E.1 "Overview", E.2 "Packets"). */
#include "nestor/gdb_proto.h"
#include "nestor/lib.h"

void gdb_rx_reset(struct gdb_rx *rx)
{
    rx->state = RX_IDLE;
    rx->overflow = false;
    rx->len = 0;
    rx->sum = rx->got_sum = 0;
    rx->buf[0] = '\0';
}

int gdb_hex_digit(char c) { return hex_digit_value((unsigned char)c); }

/*
 * Outside a packet only '$', '+', '-' and 0x03 mean something; anything else
 * (line noise, a terminal's echo) is dropped. Inside one, '$' starts over: the
 * sender gave up on the old packet. A packet longer than the buffer is read to
 * its end and reported as too long, never stored past the buffer.
 */
enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c)
{
    switch (rx->state) {
    case RX_IDLE:
        if (c == '$') {
            gdb_rx_reset(rx);
            rx->state = RX_DATA;
        } else if (c == 0x03) {
            return GDB_RX_INTERRUPT;
        } else if (c == '+') {
            return GDB_RX_ACK;
        } else if (c == '-') {
            return GDB_RX_NAK;
        }
        return GDB_RX_NONE;
    case RX_DATA:
        if (c == '#') {
            rx->state = RX_CSUM1;
        } else if (c == '$') {
            gdb_rx_reset(rx);
            rx->state = RX_DATA;
        } else {
            rx->sum = (uint8_t)(rx->sum + c);
            if (rx->len < GDB_PACKET_MAX)
                rx->buf[rx->len++] = (char)c;
            else
                rx->overflow = true;
        }
        return GDB_RX_NONE;
    case RX_CSUM1: {
        int d = gdb_hex_digit((char)c);
        if (d < 0) {
            rx->state = RX_IDLE;
            return GDB_RX_BAD_CHECKSUM;
        }
        rx->got_sum = (uint8_t)(d << 4);
        rx->state = RX_CSUM2;
        return GDB_RX_NONE;
    }
    case RX_CSUM2: {
        int d = gdb_hex_digit((char)c);
        rx->state = RX_IDLE;
        if (d < 0 || (uint8_t)(rx->got_sum | d) != rx->sum)
            return GDB_RX_BAD_CHECKSUM;
        if (rx->overflow)
            return GDB_RX_TOO_LONG;
        rx->buf[rx->len] = '\0';
        return GDB_RX_PACKET;
    }
    }
    rx->state = RX_IDLE;
    return GDB_RX_NONE;
}

static bool needs_escape(char c) { return c == '#' || c == '$' || c == '}' || c == '*'; }

size_t gdb_frame(char *out, size_t cap, const char *payload, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    uint8_t sum = 0;
    if (cap < 4)
        return 0;
    out[o++] = '$';
    for (size_t i = 0; i < len; i++) {
        char c = payload[i];
        bool esc = needs_escape(c);
        if (o + (esc ? 2 : 1) + 3 > cap)
            return 0;
        if (esc) {
            out[o++] = '}';
            sum = (uint8_t)(sum + '}');
            c = (char)(c ^ 0x20);
        }
        out[o++] = c;
        sum = (uint8_t)(sum + (uint8_t)c);
    }
    out[o++] = '#';
    out[o++] = hex[sum >> 4];
    out[o++] = hex[sum & 15];
    return o;
}

long gdb_unescape(char *buf, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '}') {
            if (++i == len)
                return -1;
            buf[o++] = (char)(buf[i] ^ 0x20);
        } else {
            buf[o++] = buf[i];
        }
    }
    return (long)o;
}

void gdb_hex_encode(char *out, const uint8_t *in, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
}

bool gdb_hex_decode(uint8_t *out, const char *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = gdb_hex_digit(in[2 * i]), lo = gdb_hex_digit(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

bool gdb_parse_hex(const char **p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    unsigned digits = 0;
    const char *s = *p;
    while (s < end && gdb_hex_digit(*s) >= 0) {
        if (++digits > 16)
            return false;
        v = v << 4 | (uint64_t)gdb_hex_digit(*s++);
    }
    if (!digits)
        return false;
    *p = s;
    *out = v;
    return true;
}
