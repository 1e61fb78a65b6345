/*
 * Shared pieces of the host unit tests: cmocka, a capture of everything the
 * code under test writes to the console, a panic() that fails the running
 * test, and a group runner that keeps the tests named in NESTOR_KNOWN_BUGS
 * out of the default run (see README.md).
 */
#ifndef NESTOR_UNIT_HARNESS_H
#define NESTOR_UNIT_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "nestor/types.h"

/* Every cmocka test function takes a state pointer most tests do not need. */
#define TEST(name) static void name(void **state UNUSED)

/* ---- console capture (console_write is what core/log.c prints through) ---- */
void capture_reset(void);
/* Everything written since the last reset, NUL-terminated. */
const char *capture_text(void);
size_t capture_len(void);
/* How many times console_write was called since the last reset. */
unsigned capture_writes(void);
/* Console lock: its depth now (0 between lines), and how many lines were written under it. */
int capture_lock_depth(void);
extern unsigned capture_lock_pairs;

/* ---- assertions with a readable message ---- */
void harness_assert_contains(const char *haystack, const char *needle, const char *file, int line);
void harness_assert_not_contains(const char *haystack, const char *needle, const char *file, int line);
void harness_assert_mem_equal(const void *a, const void *b, size_t n, const char *file, int line);
#define assert_str_contains(h, n) harness_assert_contains((h), (n), __FILE__, __LINE__)
#define assert_str_not_contains(h, n) harness_assert_not_contains((h), (n), __FILE__, __LINE__)
#define assert_bytes_equal(a, b, n) harness_assert_mem_equal((a), (b), (n), __FILE__, __LINE__)

/*
 * Copies n bytes into a fresh heap block of exactly n bytes (at least 1), so
 * AddressSanitizer reports any read past the end of the input a parser is given.
 * Free with free().
 */
uint8_t *exact_copy(const void *src, size_t n);

/*
 * Runs one cmocka group. Tests named in the NESTOR_KNOWN_BUGS environment
 * variable (whitespace-separated test names; the Makefile passes KNOWN_BUGS)
 * are reported as skipped; with NESTOR_KNOWN_BUGS_MODE=only, only those run.
 */
int harness_run_group(const char *group, const struct CMUnitTest *tests, size_t count, CMFixtureFunction setup,
                      CMFixtureFunction teardown);
#define RUN_GROUP(name, tests, setup, teardown) \
    harness_run_group((name), (tests), sizeof(tests) / sizeof((tests)[0]), (setup), (teardown))

#endif
