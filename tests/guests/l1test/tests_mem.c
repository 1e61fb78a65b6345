/*
 * l1test: memory-isolation tests: unmapped, scribble.
 *
 * Both rely on mem_upper (contiguous RAM from 1 MiB) as the guest's idea of
 * where its RAM ends; the hypervisor uses them to check that guest writes
 * outside its RAM trap and that guest writes inside never reach host memory.
 */
#include "l1test.h"

#define ONE_MIB     0x100000ull
#define GAP_ABOVE   0x1000000ull   /* 16 MiB past the end of RAM */
#define PAGE        4096u
#define PATTERN     0xdeadbeefu
#define ADDR_LIMIT  0x100000000ull /* paging is off: 32-bit physical only */

static uint64_t ram_end(const struct l1_ctx *ctx)
{
    return ONE_MIB + (uint64_t)ctx->boot.mem_upper * 1024;
}

uint32_t l1_test_unmapped(struct l1_ctx *ctx)
{
    char value[32];
    uint64_t addr;

    if (l1_cmdline_get(ctx->cmdline, "addr", value, sizeof(value)) == 0) {
        if (l1_parse_hex(value, &addr) != 0) {
            l1_say("bad addr %s", value);
            return L1_ST_NO_MEMINFO;
        }
    } else if (ctx->boot.have_mem) {
        addr = ram_end(ctx) + GAP_ABOVE;
    } else {
        l1_say("no meminfo and no addr=");
        return L1_ST_NO_MEMINFO;
    }
    if (addr + 4 > ADDR_LIMIT) {
        l1_say("addr 0x%llx not reachable without paging", addr);
        return L1_ST_NO_MEMINFO;
    }

    l1_say("writing 0x%x at 0x%llx", 0x5a5a5a5au, addr);
    *(volatile uint32_t *)(uintptr_t)addr = 0x5a5a5a5au;
    l1_say("write to unmapped memory did not trap");
    return L1_ST_NOT_TRAPPED;
}

uint32_t l1_test_scribble(struct l1_ctx *ctx)
{
    if (!ctx->boot.have_mem) {
        l1_say("no meminfo");
        return L1_ST_NO_MEMINFO;
    }

    /* Everything from our own end upward; cmdline was already copied to .bss. */
    uint32_t start = ((uint32_t)(uintptr_t)l1_image_end + PAGE - 1) & ~(PAGE - 1);
    uint64_t end64 = ram_end(ctx);
    if (end64 > ADDR_LIMIT - PAGE)
        end64 = ADDR_LIMIT - PAGE;
    uint32_t end = (uint32_t)end64 & ~3u;
    if (end < start)
        end = start;

    for (uint32_t a = start; a < end; a += 4)
        *(volatile uint32_t *)(uintptr_t)a = PATTERN;

    /* One word per 4 KiB page: enough to see a page that was not really written. */
    for (uint32_t a = start; a < end; a += PAGE) {
        uint32_t got = *(volatile uint32_t *)(uintptr_t)a;
        if (got != PATTERN) {
            l1_say("scribbled 0x%x bytes from 0x%x to 0x%x check=bad at 0x%x",
                   end - start, start, end, a);
            return L1_ST_SCRIBBLE_BAD;
        }
    }
    l1_say("scribbled 0x%x bytes from 0x%x to 0x%x check=ok", end - start, start, end);
    return ctx->status;
}
