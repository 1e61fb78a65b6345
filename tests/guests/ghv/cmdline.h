/* ghv: command-line parsing (cmdline.c). */
#ifndef GHV_CMDLINE_H
#define GHV_CMDLINE_H

#include "ghv.h"

enum ghv_test { GHV_TEST_BASIC, GHV_TEST_NEG, GHV_TEST_ALL };
bool cmdline_parse(u32 magic, u32 mbi, enum ghv_test *test);

#endif
