/*
 * The console's escape prefix (core/console_escape.c): what each byte typed
 * on Nestor's console means. Ctrl-A followed by a key is a debug command
 * (QEMU's "-serial mon:stdio" convention); Ctrl-A Ctrl-A sends one Ctrl-A to
 * L1; everything else is L1's input. After Ctrl-A e, the bytes typed are a
 * hexadecimal guest-physical address, ended by Enter (Ctrl-C, Esc or Ctrl-A
 * cancels). Pure logic: the actions are vmx/debug_keys.c's.
 */
#ifndef NESTOR_CONSOLE_ESCAPE_H
#define NESTOR_CONSOLE_ESCAPE_H

#include "types.h"

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

enum esc_result {
    ESC_NOTHING,     /* consumed (the prefix, or ignored while reading an address) */
    ESC_TO_L1,       /* *out is L1's input */
    ESC_KEY,         /* *out is a command key (lower case) */
    ESC_ADDR_ECHO,   /* *out changed the address being typed ('\b': one digit removed) */
    ESC_ADDR_DONE,   /* the address typed is in addr */
    ESC_ADDR_CANCEL, /* address entry abandoned */
};

struct esc_state {
    bool prefix;       /* Ctrl-A seen */
    bool reading_addr; /* after Ctrl-A e */
    bool swallow_lf;   /* the address ended with CR: a LF right after it is part of that Enter */
    unsigned digits;
    uint64_t addr;
};

enum esc_result esc_feed(struct esc_state *s, uint8_t c, uint8_t *out);

#endif
