/* core/log.c: levels, prefixes, the threshold, and what reaches console_write(). */
#include "harness.h"
#include "nestor/log.h"

static int reset(void **state)
{
    (void)state;
    assert_true(log_set_level("info"));
    capture_reset();
    return 0;
}

TEST(log_info_line_has_plain_prefix_and_newline)
{
    log_info("L1 RAM: %u MiB", 64u);
    assert_string_equal(capture_text(), "nestor: L1 RAM: 64 MiB\n");
    assert_int_equal(capture_writes(), 1); /* one write per line: lines never interleave */
}

TEST(log_levels_named_in_prefix)
{
    log_error("bad %s", "thing");
    log_warn("careful");
    assert_string_equal(capture_text(), "nestor: error: bad thing\nnestor: warn: careful\n");
}

TEST(log_threshold_filters)
{
    log_debug("hidden");
    log_trace("hidden too");
    assert_string_equal(capture_text(), "");
    assert_true(log_set_level("trace"));
    log_debug("shown %d", 1);
    log_trace("shown %d", 2);
    assert_string_equal(capture_text(), "nestor: debug: shown 1\nnestor: trace: shown 2\n");
    capture_reset();
    assert_true(log_set_level("error"));
    log_warn("hidden");
    log_info("hidden");
    log_error("shown");
    assert_string_equal(capture_text(), "nestor: error: shown\n");
}

TEST(log_always_ignores_threshold)
{
    assert_true(log_set_level("error"));
    log_always("run ended: status 0x%x", 0x10u);
    assert_string_equal(capture_text(), "nestor: run ended: status 0x10\n");
}

TEST(log_enabled_follows_threshold)
{
    assert_true(log_enabled(LOG_ERROR));
    assert_true(log_enabled(LOG_INFO));
    assert_false(log_enabled(LOG_DEBUG));
    assert_true(log_set_level("debug"));
    assert_true(log_enabled(LOG_DEBUG));
    assert_false(log_enabled(LOG_TRACE));
    assert_int_equal(log_get_level(), LOG_DEBUG);
}

TEST(log_set_level_accepts_names_and_digits)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    static const char *const digits[] = {"0", "1", "2", "3", "4"};
    for (unsigned i = 0; i < 5; i++) {
        assert_true(log_set_level(names[4 - i]));
        assert_true(log_set_level(names[i]));
        assert_int_equal(log_get_level(), i);
        assert_true(log_set_level(digits[4 - i]));
        assert_true(log_set_level(digits[i]));
        assert_int_equal(log_get_level(), i);
    }
}

TEST(log_set_level_refuses_unknown_and_keeps_level)
{
    assert_true(log_set_level("warn"));
    static const char *const bad[] = {"", "5", "9", "00", "1x", "INFO", "warning", "deb", "info "};
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_false(log_set_level(bad[i]));
        assert_int_equal(log_get_level(), LOG_WARN);
    }
}

TEST(log_level_names)
{
    assert_string_equal(log_level_name(LOG_ERROR), "error");
    assert_string_equal(log_level_name(LOG_WARN), "warn");
    assert_string_equal(log_level_name(LOG_INFO), "info");
    assert_string_equal(log_level_name(LOG_DEBUG), "debug");
    assert_string_equal(log_level_name(LOG_TRACE), "trace");
    assert_string_equal(log_level_name((enum log_level)5), "?");
    assert_string_equal(log_level_name((enum log_level)-1), "?");
}

TEST(log_long_line_truncated_but_terminated_by_newline)
{
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    log_warn("%s", big);
    const char *t = capture_text();
    size_t n = capture_len();
    assert_int_equal(n, 511); /* the 512-byte line buffer, newline included */
    assert_int_equal(t[n - 1], '\n');
    assert_int_equal(strncmp(t, "nestor: warn: xxx", 17), 0);
    assert_int_equal(strchr(t, '\n') - t, (long)(n - 1));
    assert_int_equal(capture_writes(), 1);
}

static int cpu_number;
static int fake_cpu(void) { return cpu_number; }

TEST(log_lines_name_their_cpu_when_tagged)
{
    log_set_cpu_tag(fake_cpu);
    cpu_number = 1;
    log_info("L1 CPU 1 started");
    cpu_number = -1; /* one CPU online: no tag */
    log_warn("plain");
    cpu_number = 0;
    log_error("x");
    log_set_cpu_tag(NULL);
    assert_string_equal(capture_text(), "nestor: cpu1: L1 CPU 1 started\nnestor: warn: plain\nnestor: cpu0: error: x\n");
    assert_int_equal(capture_writes(), 3);
}

TEST(log_each_line_written_under_the_console_lock)
{
    log_info("one");
    log_always("two");
    assert_int_equal(capture_lock_pairs, 2);
    assert_int_equal(capture_lock_depth(), 0);
}

TEST(log_empty_message)
{
    log_info("%s", "");
    assert_string_equal(capture_text(), "nestor: \n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(log_info_line_has_plain_prefix_and_newline, reset),
        cmocka_unit_test_setup(log_levels_named_in_prefix, reset),
        cmocka_unit_test_setup(log_threshold_filters, reset),
        cmocka_unit_test_setup(log_always_ignores_threshold, reset),
        cmocka_unit_test_setup(log_enabled_follows_threshold, reset),
        cmocka_unit_test_setup(log_set_level_accepts_names_and_digits, reset),
        cmocka_unit_test_setup(log_set_level_refuses_unknown_and_keeps_level, reset),
        cmocka_unit_test_setup(log_level_names, reset),
        cmocka_unit_test_setup(log_long_line_truncated_but_terminated_by_newline, reset),
        cmocka_unit_test_setup(log_empty_message, reset),
        cmocka_unit_test_setup(log_lines_name_their_cpu_when_tagged, reset),
        cmocka_unit_test_setup(log_each_line_written_under_the_console_lock, reset),
    };
    return RUN_GROUP("log", tests, NULL, NULL);
}
