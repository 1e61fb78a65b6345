/* Copying to and from guest-physical memory through an EPT, page by page. */
#include "nestor/l1.h"
#include "nestor/lib.h"
#include "nestor/physmem.h"

typedef void (*chunk_fn)(void *host, size_t off, size_t n, void *ctx);

static bool for_each_chunk(const struct ept *e, gpa_t gpa, size_t n, uint64_t need, chunk_fn fn, void *ctx)
{
    size_t done = 0;
    while (done < n) {
        struct ept_walk w;
        if (!ept_walk(e, gpa + done, &w) || (w.perms & need) != need)
            return false;
        size_t in_page = PAGE_SIZE - ((gpa + done) & (PAGE_SIZE - 1));
        size_t c = MIN(in_page, n - done);
        fn(phys_to_virt(w.hpa), done, c, ctx);
        done += c;
    }
    return true;
}

static void do_write(void *host, size_t off, size_t n, void *ctx) { memcpy(host, (const uint8_t *)ctx + off, n); }
static void do_read(void *host, size_t off, size_t n, void *ctx) { memcpy((uint8_t *)ctx + off, host, n); }
static void do_zero(void *host, size_t off, size_t n, void *ctx)
{
    (void)off;
    (void)ctx;
    memset(host, 0, n);
}

bool gmem_write(const struct ept *e, gpa_t gpa, const void *src, size_t n)
{
    return for_each_chunk(e, gpa, n, EPT_W, do_write, (void *)(uintptr_t)src);
}

bool gmem_read(const struct ept *e, gpa_t gpa, void *dst, size_t n)
{
    return for_each_chunk(e, gpa, n, EPT_R, do_read, dst);
}

bool gmem_zero(const struct ept *e, gpa_t gpa, size_t n) { return for_each_chunk(e, gpa, n, EPT_W, do_zero, NULL); }
