/* printf-style formatting into a buffer: %s %c %d %i %u %x %X %p %%, flags '0' '-', width, l/ll/z. */
#ifndef NESTOR_FMT_H
#define NESTOR_FMT_H

#include <stdarg.h>
#include "types.h"

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
