/* The meaning of each byte typed on the console (include/nestor/console_escape.h). */
#include "nestor/console_escape.h"
#include "nestor/lib.h"

#define CTRL_C 0x03
#define BACKSPACE 0x08
#define ESCAPE 0x1b
#define DELETE 0x7f

static enum esc_result address_byte(struct esc_state *s, uint8_t c, uint8_t *out)
{
    if (c == '\r' || c == '\n') {
        s->reading_addr = false;
        s->swallow_lf = c == '\r';
        return s->digits ? ESC_ADDR_DONE : ESC_ADDR_CANCEL;
    }
    if (c == CTRL_C || c == ESCAPE || c == CONSOLE_ESCAPE) {
        s->reading_addr = false;
        return ESC_ADDR_CANCEL;
    }
    if (c == BACKSPACE || c == DELETE) {
        if (!s->digits)
            return ESC_NOTHING;
        s->digits--;
        s->addr >>= 4;
        *out = BACKSPACE;
        return ESC_ADDR_ECHO;
    }
    if ((c == 'x' || c == 'X') && s->digits == 1 && s->addr == 0) {
        *out = c; /* the x of a "0x" prefix: shown, no digit */
        return ESC_ADDR_ECHO;
    }
    int h = hex_digit_value(c);
    if (h < 0 || (s->addr >> 60))
        return ESC_NOTHING; /* not a digit, or the 64 bits are full */
    s->addr = (s->addr << 4) | (uint64_t)h;
    s->digits++;
    *out = c;
    return ESC_ADDR_ECHO;
}

enum esc_result esc_feed(struct esc_state *s, uint8_t c, uint8_t *out)
{
    bool swallow = s->swallow_lf;
    s->swallow_lf = false;
    if (s->reading_addr)
        return address_byte(s, c, out);
    if (swallow && c == '\n')
        return ESC_NOTHING;
    if (!s->prefix) {
        if (c == CONSOLE_ESCAPE) {
            s->prefix = true;
            return ESC_NOTHING;
        }
        *out = c;
        return ESC_TO_L1;
    }
    s->prefix = false;
    if (c == CONSOLE_ESCAPE) {
        *out = c;
        return ESC_TO_L1;
    }
    if (c >= 'A' && c <= 'Z')
        c = (uint8_t)(c - 'A' + 'a');
    if (c == 'e') {
        s->reading_addr = true;
        s->digits = 0;
        s->addr = 0;
    }
    *out = c;
    return ESC_KEY;
}
