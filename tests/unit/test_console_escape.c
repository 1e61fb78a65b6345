/* core/console_escape.c: the Ctrl-A prefix, command keys and the address prompt of Ctrl-A e. */
#include "harness.h"
#include "nestor/console_escape.h"

static struct esc_state s;
static uint8_t out;

static int setup(void **state)
{
    (void)state;
    memset(&s, 0, sizeof s);
    out = 0;
    return 0;
}

static enum esc_result feed(uint8_t c) { return esc_feed(&s, c, &out); }

TEST(esc_plain_bytes_go_to_l1)
{
    const char *text = "ls -l\r\x03\x1b[A";
    for (const char *p = text; *p; p++) {
        assert_int_equal(feed((uint8_t)*p), ESC_TO_L1);
        assert_int_equal(out, (uint8_t)*p);
    }
}

TEST(esc_prefix_then_key)
{
    assert_int_equal(feed(0x01), ESC_NOTHING);
    assert_int_equal(feed('s'), ESC_KEY);
    assert_int_equal(out, 's');
    assert_int_equal(feed('s'), ESC_TO_L1); /* one key per prefix */
    assert_int_equal(feed(0x01), ESC_NOTHING);
    assert_int_equal(feed('Q'), ESC_KEY); /* upper case is the same key */
    assert_int_equal(out, 'q');
}

TEST(esc_double_prefix_sends_one_ctrl_a)
{
    assert_int_equal(feed(0x01), ESC_NOTHING);
    assert_int_equal(feed(0x01), ESC_TO_L1);
    assert_int_equal(out, 0x01);
    assert_int_equal(feed('s'), ESC_TO_L1); /* the prefix was used up */
    assert_int_equal(out, 's');
}

TEST(esc_unknown_key_is_reported_as_key)
{
    feed(0x01);
    assert_int_equal(feed('z'), ESC_KEY); /* the action layer answers with the help hint */
    assert_int_equal(out, 'z');
}

static enum esc_result type(const char *text)
{
    enum esc_result r = ESC_NOTHING;
    for (const char *p = text; *p; p++)
        r = feed((uint8_t)*p);
    return r;
}

TEST(esc_address_entry)
{
    feed(0x01);
    assert_int_equal(feed('e'), ESC_KEY);
    assert_true(s.reading_addr);
    assert_int_equal(feed('1'), ESC_ADDR_ECHO);
    assert_int_equal(out, '1');
    assert_int_equal(type("0fF0"), ESC_ADDR_ECHO);
    assert_int_equal(feed('\r'), ESC_ADDR_DONE);
    assert_int_equal(s.addr, 0x10ff0);
    assert_false(s.reading_addr);
    assert_int_equal(feed('\n'), ESC_NOTHING); /* the LF of a CR LF Enter */
    assert_int_equal(feed('\n'), ESC_TO_L1);   /* a second one is L1's */
}

TEST(esc_address_with_0x_and_backspace)
{
    feed(0x01);
    feed('e');
    assert_int_equal(feed('0'), ESC_ADDR_ECHO);
    assert_int_equal(feed('x'), ESC_ADDR_ECHO);
    type("12345");
    assert_int_equal(feed(0x7f), ESC_ADDR_ECHO);
    assert_int_equal(out, 0x08);
    assert_int_equal(feed('g'), ESC_NOTHING); /* not a digit */
    assert_int_equal(feed('\n'), ESC_ADDR_DONE);
    assert_int_equal(s.addr, 0x1234);
    assert_int_equal(feed('\n'), ESC_TO_L1); /* LF ended it: nothing swallowed */
}

TEST(esc_address_zero_and_cancel)
{
    feed(0x01);
    feed('e');
    type("0");
    assert_int_equal(feed('\r'), ESC_ADDR_DONE);
    assert_int_equal(s.addr, 0);
    feed(0x01);
    feed('e');
    assert_int_equal(feed('\r'), ESC_ADDR_CANCEL); /* nothing typed */
    feed(0x01);
    feed('e');
    type("ab");
    assert_int_equal(feed(0x03), ESC_ADDR_CANCEL); /* Ctrl-C */
    assert_int_equal(feed('x'), ESC_TO_L1);
    feed(0x01);
    feed('e');
    assert_int_equal(feed(0x01), ESC_ADDR_CANCEL); /* Ctrl-A abandons it too ... */
    assert_false(s.prefix);                        /* ... without starting a new prefix */
    assert_int_equal(feed(0x08), ESC_TO_L1);
}

TEST(esc_address_keeps_64_bits)
{
    feed(0x01);
    feed('e');
    type("ffffffffffffffff");
    assert_int_equal(feed('1'), ESC_NOTHING); /* a 17th significant digit would lose the top */
    assert_int_equal(feed('\r'), ESC_ADDR_DONE);
    assert_true(s.addr == ~0ull);
    feed(0x01);
    feed('e');
    type("0000000000000000001");
    feed('\r');
    assert_int_equal(s.addr, 1); /* leading zeros do not count against the width */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(esc_plain_bytes_go_to_l1),
        T(esc_prefix_then_key),
        T(esc_double_prefix_sends_one_ctrl_a),
        T(esc_unknown_key_is_reported_as_key),
        T(esc_address_entry),
        T(esc_address_with_0x_and_backspace),
        T(esc_address_zero_and_cancel),
        T(esc_address_keeps_64_bits),
    };
#undef T
    return RUN_GROUP("console_escape", tests, NULL, NULL);
}
