/* core/gdb_packet.c, core/gdb_server.c, core/gdb_arch.c: the GDB stub's protocol layer against a fake target. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "nestor/gdb_proto.h"

/* ---- a fake target: registers, 4 KiB of memory at 0x1000, a breakpoint list ---- */
static uint64_t regs[X86R_COUNT];
static bool reg_ro[X86R_COUNT];
static uint8_t mem[4096];
#define MEM_BASE 0x1000
static uint64_t bps[8];
static unsigned nbps;

static bool get_reg(void *c, enum gdb_x86_reg r, uint64_t *v)
{
    (void)c;
    assert_true(r < X86R_COUNT);
    *v = regs[r];
    return true;
}
static bool set_reg(void *c, enum gdb_x86_reg r, uint64_t v)
{
    (void)c;
    assert_true(r < X86R_COUNT);
    if (reg_ro[r])
        return false;
    regs[r] = v;
    return true;
}
static size_t read_mem(void *c, uint64_t a, uint8_t *b, size_t n)
{
    (void)c;
    size_t i = 0;
    for (; i < n && a + i >= MEM_BASE && a + i < MEM_BASE + sizeof mem; i++)
        b[i] = mem[a + i - MEM_BASE];
    return i;
}
static size_t write_mem(void *c, uint64_t a, const uint8_t *b, size_t n)
{
    (void)c;
    size_t i = 0;
    for (; i < n && a + i >= MEM_BASE && a + i < MEM_BASE + sizeof mem; i++)
        mem[a + i - MEM_BASE] = b[i];
    return i;
}
static bool insert_bp(void *c, uint64_t a)
{
    (void)c;
    if (a < MEM_BASE || nbps == ARRAY_SIZE(bps))
        return false;
    bps[nbps++] = a;
    return true;
}
static bool remove_bp(void *c, uint64_t a)
{
    (void)c;
    for (unsigned i = 0; i < nbps; i++)
        if (bps[i] == a) {
            bps[i] = bps[--nbps];
            return true;
        }
    return false;
}
static const struct gdb_target_ops ops = {get_reg, set_reg, read_mem, write_mem, insert_bp, remove_bp};

static struct gdb_server srv;
static char reply[GDB_PACKET_MAX + 1];

static int setup(void **state)
{
    (void)state;
    memset(regs, 0, sizeof regs);
    memset(reg_ro, 0, sizeof reg_ro);
    memset(mem, 0, sizeof mem);
    nbps = 0;
    gdb_server_init(&srv, &gdb_arch_x86_64, &ops, NULL);
    return 0;
}

/* Runs one packet given as text (in a writable, exactly sized copy, as gdb_rx hands it over); returns the reply. */
static enum gdb_action last_action;
static const char *cmd_n(const char *pkt, size_t n)
{
    char *copy = (char *)exact_copy(pkt, n + 1);
    size_t rlen = 12345;
    memset(reply, 0, sizeof reply);
    last_action = gdb_server_handle(&srv, copy, n, reply, &rlen);
    assert_true(rlen <= GDB_PACKET_MAX);
    reply[rlen] = '\0';
    free(copy);
    return reply;
}
static const char *cmd(const char *pkt) { return cmd_n(pkt, strlen(pkt)); }

/* Feeds a byte string to a fresh receiver; returns the last event. */
static struct gdb_rx rx;
static enum gdb_rx_event feed(const char *s, size_t n)
{
    enum gdb_rx_event e = GDB_RX_NONE;
    for (size_t i = 0; i < n; i++)
        e = gdb_rx_byte(&rx, (uint8_t)s[i]);
    return e;
}

TEST(checksum_is_the_byte_sum_mod_256)
{
    char out[64];
    size_t n = gdb_frame(out, sizeof out, "OK", 2);
    out[n] = '\0';
    assert_string_equal(out, "$OK#9a"); /* 'O' 0x4f + 'K' 0x4b = 0x9a */
    n = gdb_frame(out, sizeof out, "", 0);
    out[n] = '\0';
    assert_string_equal(out, "$#00");
}

TEST(frame_escapes_the_four_special_bytes)
{
    char out[64];
    size_t n = gdb_frame(out, sizeof out, "a#b$c}d*", 8);
    out[n] = '\0';
    /* Each special byte becomes '}' and byte ^ 0x20; the checksum covers what is sent. */
    assert_int_equal(memcmp(out, "$a}\x03" "b}\x04" "c}]d}\x0a#", 14), 0);
    uint8_t sum = 0;
    for (size_t i = 1; i < n - 3; i++)
        sum = (uint8_t)(sum + (uint8_t)out[i]);
    char want[3];
    snprintf(want, sizeof want, "%02x", sum);
    assert_int_equal(memcmp(out + n - 2, want, 2), 0);
}

TEST(frame_refuses_what_does_not_fit)
{
    char out[8];
    assert_int_equal(gdb_frame(out, sizeof out, "1234", 4), 8);
    assert_int_equal(gdb_frame(out, sizeof out, "12345", 5), 0);
    assert_int_equal(gdb_frame(out, sizeof out, "123*", 4), 0); /* the escape makes it 9 */
    assert_int_equal(gdb_frame(out, 3, "", 0), 0);
}

TEST(unescape_round_trips_and_rejects_a_dangling_escape)
{
    char buf[] = "x}\x03y}]";
    assert_int_equal(gdb_unescape(buf, 6), 4);
    assert_int_equal(memcmp(buf, "x#y}", 4), 0);
    char bad[] = "ab}";
    assert_int_equal(gdb_unescape(bad, 3), -1);
}

TEST(hex_helpers)
{
    uint8_t b[3];
    char h[7] = {0};
    assert_true(gdb_hex_decode(b, "00fFa5", 3));
    assert_int_equal(b[1], 0xff);
    gdb_hex_encode(h, b, 3);
    assert_string_equal(h, "00ffa5");
    assert_false(gdb_hex_decode(b, "0g", 1));
    const char *s = "1234abcdX", *p = s;
    uint64_t v;
    assert_true(gdb_parse_hex(&p, s + 9, &v));
    assert_int_equal(v, 0x1234abcd);
    assert_ptr_equal(p, s + 8);
    p = s + 8;
    assert_false(gdb_parse_hex(&p, s + 9, &v)); /* no digit */
    const char *big = "11112222333344445", *q = big;
    assert_false(gdb_parse_hex(&q, big + 17, &v)); /* 17 digits would overflow 64 bits */
    q = big;
    assert_true(gdb_parse_hex(&q, big + 16, &v));
    assert_true(v == 0x1111222233334444ull);
}

TEST(rx_accepts_a_good_packet_and_naks_a_bad_checksum)
{
    gdb_rx_reset(&rx);
    assert_int_equal(feed("$OK#9a", 6), GDB_RX_PACKET);
    assert_string_equal(rx.buf, "OK");
    assert_int_equal(rx.len, 2);
    assert_int_equal(feed("$OK#9b", 6), GDB_RX_BAD_CHECKSUM);
    assert_int_equal(feed("$OK#zz", 5), GDB_RX_BAD_CHECKSUM); /* non-hex checksum digit */
    assert_int_equal(feed("$OK#9A", 6), GDB_RX_PACKET);       /* upper-case checksum digits */
}

TEST(rx_control_bytes_noise_and_resync)
{
    gdb_rx_reset(&rx);
    assert_int_equal(gdb_rx_byte(&rx, 0x03), GDB_RX_INTERRUPT);
    assert_int_equal(gdb_rx_byte(&rx, '+'), GDB_RX_ACK);
    assert_int_equal(gdb_rx_byte(&rx, '-'), GDB_RX_NAK);
    assert_int_equal(feed("garbage\r\n\xff", 10), GDB_RX_NONE);
    /* '$' inside a packet starts a new one; 0x03 inside a packet is data. */
    assert_int_equal(feed("$abc$g#67", 9), GDB_RX_PACKET);
    assert_string_equal(rx.buf, "g");
    char p[8] = {'$', 'a', 0x03, '#'};
    uint8_t sum = (uint8_t)('a' + 3);
    snprintf(p + 4, 3, "%02x", sum);
    assert_int_equal(feed(p, 6), GDB_RX_PACKET);
    assert_int_equal(rx.len, 2);
}

TEST(rx_never_overflows_its_buffer)
{
    gdb_rx_reset(&rx);
    size_t n = GDB_PACKET_MAX * 3;
    char *big = malloc(n + 5);
    big[0] = '$';
    memset(big + 1, 'A', n);
    big[n + 1] = '#';
    uint8_t sum = (uint8_t)(n * 'A');
    snprintf(big + n + 2, 3, "%02x", sum);
    assert_int_equal(feed(big, n + 4), GDB_RX_TOO_LONG);
    assert_true(rx.len <= GDB_PACKET_MAX);
    /* The receiver is usable again at once. */
    assert_int_equal(feed("$g#67", 5), GDB_RX_PACKET);
    /* Exactly GDB_PACKET_MAX bytes still fit. */
    big[GDB_PACKET_MAX + 1] = '#';
    sum = (uint8_t)(GDB_PACKET_MAX * 'A');
    snprintf(big + GDB_PACKET_MAX + 2, 3, "%02x", sum);
    assert_int_equal(feed(big, GDB_PACKET_MAX + 4), GDB_RX_PACKET);
    assert_int_equal(rx.len, GDB_PACKET_MAX);
    free(big);
}

TEST(rx_random_bytes_never_crash)
{
    srand(7);
    gdb_rx_reset(&rx);
    for (int i = 0; i < 200000; i++) {
        enum gdb_rx_event e = gdb_rx_byte(&rx, (uint8_t)rand());
        assert_true(rx.len <= GDB_PACKET_MAX);
        if (e == GDB_RX_PACKET) { /* whatever arrives, the server answers within bounds */
            static char copy[GDB_PACKET_MAX + 1];
            memcpy(copy, rx.buf, rx.len + 1);
            size_t rlen;
            gdb_server_handle(&srv, copy, rx.len, reply, &rlen);
            assert_true(rlen <= GDB_PACKET_MAX);
        }
    }
}

TEST(target_description_names_the_architecture_and_core_registers)
{
    char xml[4096];
    size_t n = gdb_arch_xml(&gdb_arch_x86_64, xml, sizeof xml);
    assert_true(n > 0 && n < sizeof xml);
    xml[n] = '\0';
    assert_str_contains(xml, "<architecture>i386:x86-64</architecture>");
    assert_str_contains(xml, "<feature name=\"org.gnu.gdb.i386.core\"><reg name=\"rax\" bitsize=\"64\"");
    assert_str_contains(xml, "<reg name=\"fop\" bitsize=\"32\" type=\"int\"/></feature>");
    assert_str_contains(xml, "</target>");
    n = gdb_arch_xml(&gdb_arch_i386, xml, sizeof xml);
    xml[n] = '\0';
    assert_str_contains(xml, "<architecture>i386</architecture>");
    assert_str_contains(xml, "<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>");
    assert_str_not_contains(xml, "rax");
    assert_int_equal(gdb_arch_xml(&gdb_arch_i386, xml, 100), 0);
}

TEST(qsupported_and_qxfer_in_chunks)
{
    assert_str_contains(cmd("qSupported:multiprocess+;swbreak+;xmlRegisters=i386"), "qXfer:features:read+");
    assert_str_contains(reply, "PacketSize=1000");
    char got[8192] = "";
    size_t off = 0;
    for (int i = 0; i < 100; i++) {
        char q[80];
        snprintf(q, sizeof q, "qXfer:features:read:target.xml:%zx,40", off);
        const char *r = cmd(q);
        assert_true(r[0] == 'm' || r[0] == 'l');
        strcat(got, r + 1);
        off += strlen(r + 1);
        if (r[0] == 'l')
            break;
    }
    assert_int_equal(strlen(got), srv.xml_len);
    assert_str_contains(got, "i386:x86-64");
    assert_string_equal(cmd("qXfer:features:read:other.xml:0,40"), "E00");
    assert_string_equal(cmd("qXfer:features:read:target.xml:0"), "E01");
    assert_string_equal(cmd("qXfer:features:read:target.xml:ffffffffffff,10"), "l");
}

TEST(g_reports_registers_little_endian_and_x87_unavailable)
{
    regs[X86R_RAX] = 0x1122334455667788ull;
    regs[X86R_RIP] = 0xffffffff81000000ull;
    regs[X86R_RFLAGS] = 0x246;
    const char *r = cmd("g");
    assert_int_equal(strncmp(r, "8877665544332211", 16), 0);
    /* rip is register 16: after 16 GPRs of 8 bytes. */
    assert_int_equal(strncmp(r + 16 * 16, "00000081ffffffff" "46020000", 24), 0);
    assert_str_contains(r, "xxxxxxxxxxxxxxxxxxxx"); /* st0: 10 bytes the stub does not hold */
    assert_string_equal(cmd("p10"), "00000081ffffffff");
    assert_string_equal(cmd("p18"), "xxxxxxxxxxxxxxxxxxxx"); /* register 0x18 = st0 */
    assert_string_equal(cmd("p1000"), "E01");
    assert_string_equal(cmd("p"), "E01");
    assert_string_equal(cmd("gx"), "E01");
}

TEST(i386_registers_are_32_bits_in_gdb_order)
{
    gdb_server_init(&srv, &gdb_arch_i386, &ops, NULL);
    regs[X86R_RCX] = 0xdeadbeef;
    regs[X86R_RBX] = 0x11;
    assert_string_equal(cmd("p1"), "efbeadde");   /* ecx is register 1 */
    assert_string_equal(cmd("p3"), "11000000");   /* ebx is register 3 */
    regs[X86R_RAX] = 0xaaaaaaaa00000000ull;      /* a 64-bit value: gdb sees the low half */
    assert_string_equal(cmd("P0=78563412"), "OK");
    assert_true(regs[X86R_RAX] == 0xaaaaaaaa12345678ull); /* the upper half survives a 32-bit write */
}

TEST(P_and_G_write_registers_and_report_refusals)
{
    assert_string_equal(cmd("P0=0100000000000000"), "OK");
    assert_int_equal(regs[X86R_RAX], 1);
    assert_string_equal(cmd("P0=01"), "E01");              /* wrong width */
    assert_string_equal(cmd("P0=zz00000000000000"), "E16"); /* not hex */
    assert_string_equal(cmd("P18=00000000000000000000"), "E16"); /* st0: not writable */
    reg_ro[X86R_CS] = true;
    regs[X86R_CS] = 0x10;
    assert_string_equal(cmd("P12=11000000"), "E16"); /* cs refused by the target */
    /* G: the whole block; unchanged read-only registers are fine, changed ones refused. */
    char g[GDB_PACKET_MAX + 1];
    strcpy(g, "G");
    strcat(g, cmd("g"));
    for (char *c = g; *c; c++)
        if (*c == 'x')
            *c = '0';
    g[1] = '7'; /* rax low nibble */
    assert_string_equal(cmd(g), "OK");
    assert_int_equal(regs[X86R_RAX], 0x71);
    assert_string_equal(cmd("G00"), "E01");
}

TEST(m_and_M_and_X_memory)
{
    mem[0] = 0xcc;
    mem[1] = 0x90;
    assert_string_equal(cmd("m1000,2"), "cc90");
    assert_string_equal(cmd("mfff,2"), "E0e");   /* first byte unreadable */
    assert_string_equal(cmd("m1ffe,4"), "0000"); /* short read: what could be read */
    assert_string_equal(cmd("m1000"), "E01");
    assert_string_equal(cmd("m1000,2,"), "E01");
    assert_string_equal(cmd("M1004,2:abcd"), "OK");
    assert_int_equal(mem[4], 0xab);
    assert_string_equal(cmd("M1004,2:abc"), "E01");  /* odd digits */
    assert_string_equal(cmd("M1004,3:abcd"), "E01"); /* length mismatch */
    assert_string_equal(cmd("M1ffe,4:01020304"), "E0e");
    assert_string_equal(cmd("M1000,ffffffff:00"), "E01");
    assert_string_equal(cmd_n("X1008,3:}\x03" "A}]", 13), "OK");
    assert_int_equal(mem[8], '#');
    assert_int_equal(mem[9], 'A');
    assert_int_equal(mem[10], '}');
    assert_string_equal(cmd("X1008,0:"), "OK"); /* GDB's probe for X */
    assert_string_equal(cmd("X1008,2:a}"), "E01");
    /* Large reads are cut to what fits a packet, never beyond. */
    const char *r = cmd("m1000,100000");
    assert_int_equal(strlen(r), GDB_PACKET_MAX);
}

TEST(breakpoints_and_resume)
{
    assert_string_equal(cmd("Z0,1010,1"), "OK");
    assert_int_equal(nbps, 1);
    assert_string_equal(cmd("Z0,10,1"), "E0e");
    assert_string_equal(cmd("Z1,1010,1"), ""); /* hardware breakpoints: not offered */
    assert_string_equal(cmd("Z0,1010"), "E01");
    assert_string_equal(cmd("z0,1010,1"), "OK");
    assert_int_equal(nbps, 0);
    cmd("c");
    assert_int_equal(last_action, GDB_CONTINUE);
    cmd("s");
    assert_int_equal(last_action, GDB_STEP);
    cmd("c1234");
    assert_int_equal(last_action, GDB_CONTINUE);
    assert_int_equal(regs[X86R_RIP], 0x1234);
    cmd("S05;1238");
    assert_int_equal(last_action, GDB_STEP);
    assert_int_equal(regs[X86R_RIP], 0x1238);
    assert_string_equal(cmd("c12z"), "E01");
    assert_int_equal(last_action, GDB_STAY);
    assert_string_equal(cmd("D"), "OK");
    assert_int_equal(last_action, GDB_DETACH);
}

TEST(stop_replies_and_small_queries)
{
    assert_string_equal(cmd("?"), "T05");
    gdb_server_set_stop(&srv, GDB_SIGTRAP, true);
    assert_string_equal(cmd("?"), "T05swbreak:;");
    gdb_server_set_stop(&srv, GDB_SIGINT, false);
    assert_string_equal(cmd("?"), "T02");
    assert_string_equal(cmd("qAttached"), "1");
    assert_string_equal(cmd("qfThreadInfo"), "m1");
    assert_string_equal(cmd("qsThreadInfo"), "l");
    assert_string_equal(cmd("Hg0"), "OK");
    assert_string_equal(cmd("vCont?"), "");
    assert_string_equal(cmd("qTStatus"), "");
    assert_string_equal(cmd("!"), "");
    assert_false(srv.no_ack);
    assert_string_equal(cmd("QStartNoAckMode"), "OK");
    assert_true(srv.no_ack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checksum_is_the_byte_sum_mod_256),
        cmocka_unit_test(frame_escapes_the_four_special_bytes),
        cmocka_unit_test(frame_refuses_what_does_not_fit),
        cmocka_unit_test(unescape_round_trips_and_rejects_a_dangling_escape),
        cmocka_unit_test(hex_helpers),
        cmocka_unit_test(rx_accepts_a_good_packet_and_naks_a_bad_checksum),
        cmocka_unit_test(rx_control_bytes_noise_and_resync),
        cmocka_unit_test(rx_never_overflows_its_buffer),
        cmocka_unit_test_setup(rx_random_bytes_never_crash, setup),
        cmocka_unit_test(target_description_names_the_architecture_and_core_registers),
        cmocka_unit_test_setup(qsupported_and_qxfer_in_chunks, setup),
        cmocka_unit_test_setup(g_reports_registers_little_endian_and_x87_unavailable, setup),
        cmocka_unit_test_setup(i386_registers_are_32_bits_in_gdb_order, setup),
        cmocka_unit_test_setup(P_and_G_write_registers_and_report_refusals, setup),
        cmocka_unit_test_setup(m_and_M_and_X_memory, setup),
        cmocka_unit_test_setup(breakpoints_and_resume, setup),
        cmocka_unit_test_setup(stop_replies_and_small_queries, setup),
    };
    return RUN_GROUP("gdb_proto", tests, NULL, NULL);
}
