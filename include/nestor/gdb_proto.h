/*
 * The GDB remote serial protocol (GDB manual, appendix E "GDB Remote Serial
 * Protocol"), the target's side: pure code over bytes and a table of target
 * operations, so the host unit tests drive it as Nestor's stub does
 * (vmx/gdb_stub.c). Every input byte is the debugger's (or anybody's on COM2):
 * nothing here trusts a length, a digit or a terminator it did not check.
 */
#ifndef NESTOR_GDB_PROTO_H
#define NESTOR_GDB_PROTO_H

#include "types.h"

/* Largest packet payload either side sends; advertised as PacketSize. */
#define GDB_PACKET_MAX 4096

/* ---- Framing: $payload#cc, acks, Ctrl-C (core/gdb_packet.c) ---- */

enum gdb_rx_event {
    GDB_RX_NONE,         /* byte consumed, nothing complete */
    GDB_RX_PACKET,       /* rx->buf[0..len) holds a packet whose checksum matched (NUL-terminated) */
    GDB_RX_BAD_CHECKSUM, /* a packet ended whose checksum did not match: answer '-' */
    GDB_RX_TOO_LONG,     /* a packet ended that did not fit the buffer: answer with an error */
    GDB_RX_INTERRUPT,    /* 0x03 outside a packet: the user pressed Ctrl-C */
    GDB_RX_ACK,          /* '+' */
    GDB_RX_NAK,          /* '-': send the last packet again */
};

struct gdb_rx {
    enum { RX_IDLE, RX_DATA, RX_CSUM1, RX_CSUM2 } state;
    bool overflow;
    uint8_t sum, got_sum;
    size_t len;
    char buf[GDB_PACKET_MAX + 1];
};

void gdb_rx_reset(struct gdb_rx *rx);
enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c);

/* "$payload#cc" into out with '#', '$', '}' and '*' escaped ('}' then c ^ 0x20); 0 if it does not fit. */
size_t gdb_frame(char *out, size_t cap, const char *payload, size_t len);
/* Undoes the escapes of binary data (X packets) in place; the new length, or -1 on a dangling '}'. */
long gdb_unescape(char *buf, size_t len);

int gdb_hex_digit(char c); /* 0-15, or -1 */
/* n bytes as 2n lowercase hex digits (no terminator). */
void gdb_hex_encode(char *out, const uint8_t *in, size_t n);
/* Exactly 2n hex digits into n bytes; false on any other character. */
bool gdb_hex_decode(uint8_t *out, const char *in, size_t n);
/* A hex number of 1-16 digits at *p, advancing *p past it; false on none or too many. */
bool gdb_parse_hex(const char **p, const char *end, uint64_t *out);

/* ---- Registers (core/gdb_arch.c) ---- */

/* The registers the stub can name, whatever the architecture numbers them. */
enum gdb_x86_reg {
    X86R_RAX, X86R_RBX, X86R_RCX, X86R_RDX, X86R_RSI, X86R_RDI, X86R_RBP, X86R_RSP,
    X86R_R8, X86R_R9, X86R_R10, X86R_R11, X86R_R12, X86R_R13, X86R_R14, X86R_R15,
    X86R_RIP, X86R_RFLAGS, X86R_CS, X86R_SS, X86R_DS, X86R_ES, X86R_FS, X86R_GS,
    X86R_FS_BASE, X86R_GS_BASE, X86R_CR0, X86R_CR2, X86R_CR3, X86R_CR4, X86R_EFER,
    X86R_COUNT,
    X86R_NONE = X86R_COUNT, /* held by the CPU, not by the stub (x87, SSE): reported unavailable */
};

struct gdb_reg_desc {
    const char *name;
    unsigned bytes;
    const char *type;    /* a GDB predefined type */
    const char *feature; /* the target-description feature it belongs to */
    enum gdb_x86_reg id;
};

struct gdb_arch {
    const char *name; /* the <architecture> element */
    unsigned count;
    const struct gdb_reg_desc *regs;
};

extern const struct gdb_arch gdb_arch_x86_64, gdb_arch_i386;
/* The target description (GDB manual, "Target Descriptions"); its length, 0 if cap is too small. */
size_t gdb_arch_xml(const struct gdb_arch *a, char *out, size_t cap);

/* ---- Commands (core/gdb_server.c) ---- */

/* What the target does for the stub; every call may refuse (false): the debugger then gets an error. */
struct gdb_target_ops {
    bool (*get_reg)(void *ctx, enum gdb_x86_reg r, uint64_t *val);
    bool (*set_reg)(void *ctx, enum gdb_x86_reg r, uint64_t val);
    /* Bytes at a guest-virtual address; the count done (reads: what the debugger gets back). */
    size_t (*read_mem)(void *ctx, uint64_t addr, uint8_t *buf, size_t n);
    size_t (*write_mem)(void *ctx, uint64_t addr, const uint8_t *buf, size_t n);
    bool (*insert_bp)(void *ctx, uint64_t addr);
    bool (*remove_bp)(void *ctx, uint64_t addr);
};

enum gdb_action { GDB_STAY, GDB_CONTINUE, GDB_STEP, GDB_DETACH, GDB_KILL };

struct gdb_server {
    const struct gdb_target_ops *ops;
    void *ctx;
    const struct gdb_arch *arch;
    bool no_ack;        /* QStartNoAckMode accepted */
    char stop_reply[32]; /* the answer to '?' */
    char xml[4096];     /* the target description, built once */
    size_t xml_len;
    uint8_t mem[GDB_PACKET_MAX / 2]; /* one memory transfer (kept off Nestor's 16 KiB stack) */
};

void gdb_server_init(struct gdb_server *s, const struct gdb_arch *arch, const struct gdb_target_ops *ops, void *ctx);
/*
 * Runs one packet (pkt[0..len), from gdb_rx); writes the reply payload (unframed, at most
 * GDB_PACKET_MAX bytes) to reply and its length to *reply_len. The action says whether the
 * target resumes.
 */
enum gdb_action gdb_server_handle(struct gdb_server *s, const char *pkt, size_t len, char *reply, size_t *reply_len);

/* Stop replies (GDB manual E.3): why the target stopped, as a POSIX signal number. */
#define GDB_SIGINT 2
#define GDB_SIGTRAP 5
#define GDB_SIGSEGV 11
void gdb_server_set_stop(struct gdb_server *s, unsigned signal, bool swbreak);

#endif
