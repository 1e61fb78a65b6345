/* What the loader modules need from the rest of Nestor on the host: a console that drops lines, panic. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nestor/types.h"

void console_write(const char *s, size_t n) { (void)s; (void)n; }
void console_lock(void) {}
void console_unlock(void) {}
void console_break_line(void) {}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "Nestor panic: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}
