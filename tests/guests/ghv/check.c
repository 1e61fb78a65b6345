/*
 * ghv: failure bookkeeping shared by the basic and negative tests.
 */
#include "check.h"

void fail_add(struct faillist *f, const char *name)
{
    f->count++;
    if (f->len && f->len + 1 < sizeof f->buf)
        f->buf[f->len++] = ',';
    while (*name && f->len + 1 < sizeof f->buf)
        f->buf[f->len++] = *name++;
    f->buf[f->len] = 0;
}

bool check_u64(struct faillist *f, const char *name, u64 got, u64 want)
{
    if (got == want)
        return true;
    fail_add(f, name);
    return false;
}

bool fail_report(const struct faillist *f, const char *test)
{
    if (!f->count) {
        gprintf("ghv: %s ok\n", test);
        return true;
    }
    gprintf("ghv: %s FAIL %s\n", test, f->buf);
    return false;
}
