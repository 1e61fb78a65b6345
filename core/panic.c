/* panic(): Nestor cannot go on. Say why, where, and stop the run. */
#include <stdarg.h>
#include "nestor/arch.h"
#include "nestor/fmt.h"
#include "nestor/log.h"
#include "nestor/panic.h"
#include "nestor/platform.h"

extern char __image_start[], __image_end[];

/* Frame pointers are kept (-fno-omit-frame-pointer), so rbp chains the frames. */
void print_stack_trace(uint64_t rbp)
{
    uintptr_t lo = (uintptr_t)__image_start, hi = (uintptr_t)__image_end;
    for (int depth = 0; depth < 16; depth++) {
        if (rbp < lo || rbp + 16 > hi || (rbp & 7))
            break;
        const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
        if (frame[1] == 0)
            break;
        log_error("    %016lx", frame[1]);
        if (frame[0] <= rbp)
            break; /* the chain must grow upward; anything else is corrupt */
        rbp = frame[0];
    }
}

NORETURN void panic(const char *fmt, ...)
{
    __asm__ volatile("cli");
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_always("PANIC: %s", msg);
    log_error("  rsp=%016lx rbp=%016lx cr0=%016lx cr3=%016lx cr4=%016lx", read_rsp(), read_rbp(), read_cr0(),
              read_cr3(), read_cr4());
    log_error("  stack trace (addr2line -e build/nestor ADDR):");
    print_stack_trace(read_rbp());
    platform_exit(STATUS_NESTOR_PANIC);
}
