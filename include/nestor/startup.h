/* Start-up steps core/main.c takes once, each kept in its own file. */
#ifndef NESTOR_STARTUP_H
#define NESTOR_STARTUP_H

#include "bootinfo.h"
#include "types.h"

/* core/paging.c: the final page tables (direct map to the top of memory, no identity map). */
void paging_init(const struct boot_info *bi);

/* core/integrity.c: checksum of Nestor's code and read-only data (taken at boot, checked at the end). */
uint64_t image_checksum(void);

#endif
