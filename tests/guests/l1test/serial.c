/*
 * l1test: COM1 output, polled (tests/guests/common/com1.h), so that it works
 * before any IDT exists and still works after the guest has broken its
 * interrupt setup on purpose (e.g. the "triple" test prints right before
 * faulting).
 */
#include "l1test.h"
#include "com1.h"

void l1_serial_init(void) { com1_init(); }
void l1_serial_putc(char c) { com1_putc(c); }
