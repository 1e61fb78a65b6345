/*
 * The commands of the GDB stub (GDB manual E.2 "Packets", E.4 "General Query
 * Packets"), over the operations of a target. One thread, all-stop, no
 * multiprocess extensions: what GDB needs to debug one CPU of a kernel.
 * Malformed packets get an error reply ("E.."), unknown ones the empty reply
 * GDB reads as "not supported"; replies never exceed GDB_PACKET_MAX.
 */
#include "nestor/fmt.h"
#include "nestor/gdb_proto.h"
#include "nestor/lib.h"

#define E_MALFORMED "E01"
#define E_FAULT "E0e"  /* EFAULT: memory not readable/writable, or the target refused */
#define E_INVAL "E16"  /* EINVAL: a register or value the target will not take */

/* Memory transfers: the hex reply of 'm' must fit a packet. */
#define MEM_CHUNK sizeof(((struct gdb_server *)0)->mem)

void gdb_server_set_stop(struct gdb_server *s, unsigned signal, bool swbreak)
{
    /* swbreak: the PC is already at the breakpoint; GDB must not back it up (GDB manual E.3, "swbreak"). */
    fmt_snprintf(s->stop_reply, sizeof s->stop_reply, "T%02x%s", signal & 0xff, swbreak ? "swbreak:;" : "");
}

void gdb_server_init(struct gdb_server *s, const struct gdb_arch *arch, const struct gdb_target_ops *ops, void *ctx)
{
    s->ops = ops;
    s->ctx = ctx;
    s->arch = arch;
    s->no_ack = false;
    s->xml_len = gdb_arch_xml(arch, s->xml, sizeof s->xml);
    gdb_server_set_stop(s, GDB_SIGTRAP, false);
}

struct out {
    char *buf;
    size_t len;
};

static void say(struct out *o, const char *text)
{
    size_t n = strnlen(text, GDB_PACKET_MAX);
    memcpy(o->buf, text, n);
    o->len = n;
}

static bool starts(const char *p, const char *end, const char *prefix)
{
    size_t n = strlen(prefix);
    return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

/* One register in target byte order (little-endian), or 'x's when the target does not hold it. */
static void put_reg(struct gdb_server *s, const struct gdb_reg_desc *d, char *out)
{
    uint64_t v;
    if (d->id == X86R_NONE || !s->ops->get_reg(s->ctx, d->id, &v)) {
        memset(out, 'x', 2 * d->bytes);
        return;
    }
    uint8_t b[16] = {0};
    for (unsigned i = 0; i < 8 && i < d->bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    gdb_hex_encode(out, b, d->bytes);
}

static bool take_reg(struct gdb_server *s, const struct gdb_reg_desc *d, const char *hex)
{
    uint8_t b[16];
    if (!gdb_hex_decode(b, hex, d->bytes))
        return false;
    if (d->id == X86R_NONE)
        return false;
    uint64_t v = 0, old;
    for (unsigned i = 0; i < 8 && i < d->bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    /* A register the target keeps wider than GDB shows it keeps its upper bits. */
    if (d->bytes < 8 && s->ops->get_reg(s->ctx, d->id, &old))
        v |= old & ~((BIT(8 * d->bytes)) - 1);
    if (s->ops->get_reg(s->ctx, d->id, &old) && old == v)
        return true; /* unchanged (G rewrites them all): never refused */
    return s->ops->set_reg(s->ctx, d->id, v);
}

static void read_all_regs(struct gdb_server *s, struct out *o)
{
    size_t n = 0;
    for (unsigned i = 0; i < s->arch->count; i++) {
        const struct gdb_reg_desc *d = &s->arch->regs[i];
        if (n + 2 * d->bytes > GDB_PACKET_MAX)
            break; /* cannot happen with the built-in tables */
        put_reg(s, d, o->buf + n);
        n += 2 * d->bytes;
    }
    o->len = n;
}

static void write_all_regs(struct gdb_server *s, const char *p, const char *end, struct out *o)
{
    size_t need = 0;
    for (unsigned i = 0; i < s->arch->count; i++)
        need += 2 * s->arch->regs[i].bytes;
    if ((size_t)(end - p) != need) {
        say(o, E_MALFORMED);
        return;
    }
    bool ok = true;
    for (unsigned i = 0; i < s->arch->count; i++) {
        const struct gdb_reg_desc *d = &s->arch->regs[i];
        if (d->id != X86R_NONE && !take_reg(s, d, p))
            ok = false;
        p += 2 * d->bytes;
    }
    say(o, ok ? "OK" : E_INVAL);
}

/* "n" of p/P: a register number of this architecture. */
static const struct gdb_reg_desc *reg_number(struct gdb_server *s, const char **p, const char *end)
{
    uint64_t n;
    if (!gdb_parse_hex(p, end, &n) || n >= s->arch->count)
        return NULL;
    return &s->arch->regs[n];
}

/* "addr,len" with a terminator check left to the caller. */
static bool addr_len(const char **p, const char *end, uint64_t *addr, uint64_t *len)
{
    return gdb_parse_hex(p, end, addr) && *p < end && *(*p)++ == ',' && gdb_parse_hex(p, end, len);
}

static void read_memory(struct gdb_server *s, const char *p, const char *end, struct out *o)
{
    uint64_t addr, len;
    if (!addr_len(&p, end, &addr, &len) || p != end) {
        say(o, E_MALFORMED);
        return;
    }
    uint8_t *buf = s->mem;
    size_t n = s->ops->read_mem(s->ctx, addr, buf, MIN(len, (uint64_t)MEM_CHUNK));
    if (len && !n) {
        say(o, E_FAULT);
        return;
    }
    gdb_hex_encode(o->buf, buf, n); /* a short read answers the bytes that could be read (GDB asks again) */
    o->len = 2 * n;
}

/* M addr,len:hex and X addr,len:binary. */
static void write_memory(struct gdb_server *s, char *p, char *end, bool binary, struct out *o)
{
    uint64_t addr, len;
    const char *q = p;
    if (!addr_len(&q, end, &addr, &len) || q >= end || *q != ':' || len > MEM_CHUNK) {
        say(o, E_MALFORMED);
        return;
    }
    char *data = p + (q - p) + 1;
    uint8_t *buf = s->mem;
    if (binary) {
        long n = gdb_unescape(data, (size_t)(end - data));
        if (n < 0 || (uint64_t)n != len) {
            say(o, E_MALFORMED);
            return;
        }
        memcpy(buf, data, (size_t)n);
    } else if ((uint64_t)(end - data) != 2 * len || !gdb_hex_decode(buf, data, (size_t)len)) {
        say(o, E_MALFORMED);
        return;
    }
    if (len && s->ops->write_mem(s->ctx, addr, buf, (size_t)len) != len) {
        say(o, E_FAULT);
        return;
    }
    say(o, "OK");
}

/* Z0,addr,kind / z0,addr,kind: software breakpoints; other kinds are not offered (empty reply). */
static void breakpoint(struct gdb_server *s, bool insert, const char *p, const char *end, struct out *o)
{
    uint64_t type, addr, kind;
    if (!gdb_parse_hex(&p, end, &type) || p >= end || *p++ != ',' || !addr_len(&p, end, &addr, &kind)) {
        say(o, E_MALFORMED);
        return;
    }
    if (type != 0) {
        o->len = 0;
        return;
    }
    /* Conditions and commands evaluated by the target (";X...") are not offered; ignore any. */
    bool ok = insert ? s->ops->insert_bp(s->ctx, addr) : s->ops->remove_bp(s->ctx, addr);
    say(o, ok ? "OK" : E_FAULT);
}

/* qXfer:features:read:annex:offset,length (GDB manual E.4, "qXfer"). */
static void xfer_features(struct gdb_server *s, const char *p, const char *end, struct out *o)
{
    static const char annex[] = "target.xml:";
    uint64_t off, len;
    if (!starts(p, end, annex)) {
        say(o, "E00"); /* unknown annex */
        return;
    }
    p += sizeof annex - 1;
    if (!addr_len(&p, end, &off, &len) || p != end || !s->xml_len) {
        say(o, E_MALFORMED);
        return;
    }
    /* The reply is framed with escapes, which may double a byte: half a packet is always safe. */
    len = MIN(len, (uint64_t)(GDB_PACKET_MAX / 2 - 1));
    if (off >= s->xml_len) {
        say(o, "l");
        return;
    }
    size_t n = (size_t)MIN(len, s->xml_len - off);
    o->buf[0] = off + n < s->xml_len ? 'm' : 'l';
    memcpy(o->buf + 1, s->xml + off, n);
    o->len = n + 1;
}

static enum gdb_action resume(struct gdb_server *s, const char *p, const char *end, bool with_signal,
                              enum gdb_action a, struct out *o)
{
    uint64_t v;
    if (with_signal) { /* C sig[;addr]: the signal is not delivered (a kernel has no signals) */
        if (!gdb_parse_hex(&p, end, &v))
            goto malformed;
        if (p < end && *p++ != ';')
            goto malformed;
    }
    if (p < end) {
        if (!gdb_parse_hex(&p, end, &v) || p != end)
            goto malformed;
        uint64_t old;
        if (!(s->ops->get_reg(s->ctx, X86R_RIP, &old) && old == v) && !s->ops->set_reg(s->ctx, X86R_RIP, v)) {
            say(o, E_INVAL);
            return GDB_STAY;
        }
    }
    o->len = 0;
    return a;
malformed:
    say(o, E_MALFORMED);
    return GDB_STAY;
}

enum gdb_action gdb_server_handle(struct gdb_server *s, const char *pkt, size_t len, char *reply, size_t *reply_len)
{
    struct out o = {reply, 0};
    enum gdb_action a = GDB_STAY;
    /* The rx buffer is writable and NUL-terminated; X unescapes its data in place. */
    char *p = (char *)pkt + 1, *end = (char *)pkt + len;
    if (!len) {
        *reply_len = 0;
        return GDB_STAY;
    }
    switch (pkt[0]) {
    case '?':
        say(&o, s->stop_reply);
        break;
    case 'g':
        if (p == end)
            read_all_regs(s, &o);
        else
            say(&o, E_MALFORMED);
        break;
    case 'G':
        write_all_regs(s, p, end, &o);
        break;
    case 'p': {
        const char *q = p;
        const struct gdb_reg_desc *d = reg_number(s, &q, end);
        if (!d || q != end) {
            say(&o, E_MALFORMED);
            break;
        }
        put_reg(s, d, o.buf);
        o.len = 2 * d->bytes;
        break;
    }
    case 'P': {
        const char *q = p;
        const struct gdb_reg_desc *d = reg_number(s, &q, end);
        if (!d || q >= end || *q++ != '=' || (size_t)(end - q) != 2 * d->bytes) {
            say(&o, E_MALFORMED);
            break;
        }
        say(&o, take_reg(s, d, q) ? "OK" : E_INVAL);
        break;
    }
    case 'm':
        read_memory(s, p, end, &o);
        break;
    case 'M':
        write_memory(s, p, end, false, &o);
        break;
    case 'X':
        write_memory(s, p, end, true, &o);
        break;
    case 'Z':
    case 'z':
        breakpoint(s, pkt[0] == 'Z', p, end, &o);
        break;
    case 'c':
        a = resume(s, p, end, false, GDB_CONTINUE, &o);
        break;
    case 's':
        a = resume(s, p, end, false, GDB_STEP, &o);
        break;
    case 'C':
        a = resume(s, p, end, true, GDB_CONTINUE, &o);
        break;
    case 'S':
        a = resume(s, p, end, true, GDB_STEP, &o);
        break;
    case 'D':
        say(&o, "OK");
        a = GDB_DETACH;
        break;
    case 'k':
        a = GDB_KILL;
        break;
    case 'H':
    case 'T':
        say(&o, "OK"); /* one thread: every thread id names it */
        break;
    case 'q':
        if (starts(p, end, "Supported"))
            o.len = (size_t)fmt_snprintf(o.buf, GDB_PACKET_MAX,
                                         "PacketSize=%x;qXfer:features:read+;swbreak+;QStartNoAckMode+",
                                         GDB_PACKET_MAX);
        else if (starts(p, end, "Xfer:features:read:"))
            xfer_features(s, p + 19, end, &o);
        else if (starts(p, end, "Attached") && (end - p == 8 || p[8] == ':'))
            say(&o, "1");
        else if (end - p == 1 && p[0] == 'C')
            say(&o, "QC1");
        else if (starts(p, end, "fThreadInfo") && end - p == 11)
            say(&o, "m1");
        else if (starts(p, end, "sThreadInfo") && end - p == 11)
            say(&o, "l");
        else if (starts(p, end, "Symbol:"))
            say(&o, "OK");
        break;
    case 'Q':
        if (end - p == 14 && starts(p, end, "StartNoAckMode")) {
            s->no_ack = true;
            say(&o, "OK");
        }
        break;
    case 'v':
        if (starts(p, end, "Kill")) {
            say(&o, "OK");
            a = GDB_KILL;
        }
        break; /* vCont? and the rest: empty, so GDB uses c and s */
    default:
        break;
    }
    *reply_len = o.len;
    return a;
}
