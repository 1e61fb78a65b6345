/* ghv: what test=apicv (apicv.c) shares with test=apicv-outside (apicv_outside.c). */
#ifndef GHV_APICV_H
#define GHV_APICV_H

#include "xtest.h"

/* Enters L2 expecting VMfailValid(7): prints "ghv: <test> <tag> = <outcome>" and records a
 * failure under tag for any other outcome (an exit is printed and counted). */
void apicv_expect_vmfail(struct xt *t, const char *tag);

#endif
