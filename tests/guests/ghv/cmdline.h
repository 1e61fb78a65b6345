/* ghv: command-line parsing (cmdline.c). */
#ifndef GHV_CMDLINE_H
#define GHV_CMDLINE_H

#include "ghv.h"

enum ghv_test {
    GHV_TEST_BASIC, GHV_TEST_NEG, GHV_TEST_ALL,
    GHV_TEST_EVENTS, GHV_TEST_L0, GHV_TEST_MSRAREA, GHV_TEST_PAE, GHV_TEST_EVERY,
    /* nested EPT (eptlib.c), not part of "every" */
    GHV_TEST_EPT, GHV_TEST_EPT_UG, GHV_TEST_EPT_HOSTILE, GHV_TEST_EPT_OUTSIDE, GHV_TEST_RUNL2,
    GHV_TEST_SMP,   /* smp.c, run before the eptx dispatch in main.c */
    GHV_TEST_HOSTILE_NESTED, /* hostile_nested.c, after the EPT setup of eptx_run */
    GHV_TEST_LIVEBITMAP, GHV_TEST_XEXITS, /* livebitmap.c, xexits.c */
    GHV_TEST_SHADOW, /* shadow.c */
    GHV_TEST_EPTAD, /* eptad.c, after the EPT setup of eptx_run */
    GHV_TEST_APICV, /* apicv.c */
    GHV_TEST_APICV_OUTSIDE, /* apicv_outside.c: Nestor only */
    GHV_TEST_LATENCY, /* latency.c: a benchmark figure */
    GHV_TEST_COUNT
};
/* Names as on the command line, indexed by enum ghv_test. */
extern const char *const ghv_test_names[];
bool cmdline_parse(u32 magic, u32 mbi, enum ghv_test *test);

#endif
