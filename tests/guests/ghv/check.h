/*
 * ghv: collecting the names of failed checks for the final
 * "ghv: <test> ok" / "ghv: <test> FAIL <names>" line.
 */
#ifndef GHV_CHECK_H
#define GHV_CHECK_H

#include "ghv.h"

struct faillist {
    char buf[768];
    size_t len;
    unsigned count;
};

void fail_add(struct faillist *f, const char *name);
/* Compares, records a failure under name if different; returns equality. */
bool check_u64(struct faillist *f, const char *name, u64 got, u64 want);
/* Prints "ghv: <test> ok" or "ghv: <test> FAIL a,b,c"; returns true if ok. */
bool fail_report(const struct faillist *f, const char *test);

#endif
