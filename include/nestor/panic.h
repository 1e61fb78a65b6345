/* Fatal errors in Nestor itself: dump state on the console and end the run. */
#ifndef NESTOR_PANIC_H
#define NESTOR_PANIC_H

#include "types.h"

NORETURN void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints return addresses by following the frame-pointer chain from rbp. */
void print_stack_trace(uint64_t rbp);

#endif
