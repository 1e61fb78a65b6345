/* Command lines of the form "word key=value key=value" (Nestor's and L1's). */
#ifndef NESTOR_CMDLINE_H
#define NESTOR_CMDLINE_H

#include "types.h"

/* Copies the value of key= into val; false when the key is absent or the value does not fit. */
bool cmdline_get(const char *cmdline, const char *key, char *val, size_t size);
/* Decimal or 0x-hex with an optional K, M or G suffix (binary units). */
bool parse_u64(const char *s, uint64_t *out);
bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out);

#endif
