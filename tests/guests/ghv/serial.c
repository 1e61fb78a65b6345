/* ghv: COM1 output, polled (tests/guests/common/com1.h). */
#include "ghv.h"
#include "com1.h"

void serial_init(void) { com1_init(); }
void serial_putc(char c) { com1_putc(c); }
void serial_flush(void) { com1_flush(); }
