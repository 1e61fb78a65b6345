/* Shared unit-test harness (see harness.h). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#include "nestor/log.h"
#include "nestor/panic.h"

/* ---------------------------------------------------------------- console capture */

#define CAPTURE_MAX (256 * 1024)

static char capture_buf[CAPTURE_MAX + 1];
static size_t capture_used;
static unsigned capture_calls;

void console_write(const char *s, size_t n)
{
    capture_calls++;
    size_t room = CAPTURE_MAX - capture_used;
    if (n > room)
        n = room;
    memcpy(capture_buf + capture_used, s, n);
    capture_used += n;
    capture_buf[capture_used] = 0;
}

/* Nestor holds the console lock around each line; the harness counts that it is balanced. */
static int console_lock_depth;
unsigned capture_lock_pairs;
void console_lock(void) { console_lock_depth++; }
void console_unlock(void)
{
    console_lock_depth--;
    capture_lock_pairs++;
}
/* The capture has no partial lines of L1 to end. */
void console_break_line(void) {}

int capture_lock_depth(void) { return console_lock_depth; }

void capture_reset(void)
{
    capture_lock_pairs = 0;
    capture_used = 0;
    capture_calls = 0;
    capture_buf[0] = 0;
}

const char *capture_text(void) { return capture_buf; }
size_t capture_len(void) { return capture_used; }
unsigned capture_writes(void) { return capture_calls; }

/* ---------------------------------------------------------------- panic */

/*
 * Nestor's panic() never returns. Here it goes through cmocka's mock_assert:
 * inside expect_assert_failure() that is the expected outcome, anywhere else
 * it fails the running test with the panic message.
 */
void panic(const char *fmt, ...)
{
    static char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mock_assert(0, msg, __FILE__, __LINE__);
    abort(); /* not reached: mock_assert jumps back into cmocka */
}

void print_stack_trace(uint64_t rbp) { (void)rbp; }

/* ---------------------------------------------------------------- assertions */

void harness_assert_contains(const char *haystack, const char *needle, const char *file, int line)
{
    if (!haystack || !strstr(haystack, needle)) {
        print_error("expected \"%s\"\n    to contain \"%s\"\n", haystack ? haystack : "(null)", needle);
        _fail(file, line);
    }
}

void harness_assert_not_contains(const char *haystack, const char *needle, const char *file, int line)
{
    if (haystack && strstr(haystack, needle)) {
        print_error("expected \"%s\"\n    not to contain \"%s\"\n", haystack, needle);
        _fail(file, line);
    }
}

void harness_assert_mem_equal(const void *a, const void *b, size_t n, const char *file, int line)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) {
            print_error("byte %zu of %zu differs: 0x%02x != 0x%02x\n", i, n, x[i], y[i]);
            _fail(file, line);
        }
    }
}

uint8_t *exact_copy(const void *src, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p) {
        print_error("out of host memory\n");
        abort();
    }
    if (n)
        memcpy(p, src, n);
    return p;
}

/* ---------------------------------------------------------------- group runner */

static bool name_listed(const char *name, const char *list)
{
    size_t n = strlen(name);
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ',')
            p++;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != ',')
            p++;
        if ((size_t)(p - w) == n && strncmp(w, name, n) == 0)
            return true;
    }
    return false;
}

static void known_bug_skipped(void **state)
{
    (void)state;
    print_message("  known bug, listed in KNOWN_BUGS (tests/unit/Makefile): `make -C tests/unit run-known-bugs` runs it\n");
    skip();
}

int harness_run_group(const char *group, const struct CMUnitTest *tests, size_t count, CMFixtureFunction setup,
                      CMFixtureFunction teardown)
{
    /* Keep cmocka's progress lines in order with its error lines when output is a pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    const char *known = getenv("NESTOR_KNOWN_BUGS");
    const char *mode = getenv("NESTOR_KNOWN_BUGS_MODE");
    bool only = mode && strcmp(mode, "only") == 0;

    struct CMUnitTest *run = calloc(count, sizeof *run);
    if (!run)
        return 1;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        bool is_known = name_listed(tests[i].name, known);
        if (only && !is_known)
            continue;
        run[n] = tests[i];
        if (is_known && !only) {
            run[n].test_func = known_bug_skipped;
            run[n].setup_func = NULL;
            run[n].teardown_func = NULL;
        }
        n++;
    }
    int rc = 0;
    if (n)
        rc = _cmocka_run_group_tests(group, run, n, setup, teardown);
    else
        printf("[==========] %s: no known-bug test in this group\n", group);
    free(run);
    return rc;
}
