/*
 * Decoding the instruction behind a write to L1's xAPIC page: an EPT violation
 * gives the register written, not the value, so the store is decoded from
 * its bytes (SDM vol. 2 2.1-2.2, Tables 2-1..2-3). Only the 32-bit stores
 * software uses on the APIC (SDM vol. 3A 10.4.1: registers are 32-bit,
 * accessed with aligned 32-bit loads and stores) are accepted; anything
 * else is refused with a reason so the caller can log it rather than guess.
 */
#include "nestor/lapic_emul.h"
#include "nestor/lib.h"

struct cursor {
    const uint8_t *bytes;
    size_t n; /* bytes available, at most X86_MAX_INSN_LEN */
    size_t i; /* next byte */
    const char *why;
};

/* Claims k more bytes; false (with the reason) if they are past the 15-byte limit or past what was fetched. */
static bool need(struct cursor *c, size_t k)
{
    if (c->i + k > X86_MAX_INSN_LEN) {
        c->why = "instruction longer than 15 bytes (SDM vol. 2 2.3.11)";
        return false;
    }
    if (c->i + k > c->n) {
        c->why = "instruction truncated: fewer bytes fetched than it needs";
        return false;
    }
    return true;
}

static bool is_segment_override(uint8_t b)
{
    return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
}

/* Bytes after a memory ModRM (mod != 3): SIB and displacement. SDM vol. 2 Tables 2-1 (16-bit), 2-2/2-3 (32/64-bit). */
static bool skip_memory_operand(struct cursor *c, uint8_t modrm, unsigned addr_size)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    size_t disp;

    if (addr_size == 16) {
        if (mod == 0)
            disp = rm == 6 ? 2 : 0; /* mod=00 r/m=110: disp16, no base */
        else
            disp = mod == 1 ? 1 : 2;
        return need(c, disp) && (c->i += disp, true);
    }
    if (rm == 4) { /* SIB follows */
        if (!need(c, 1))
            return false;
        uint8_t sib = c->bytes[c->i++];
        if (mod == 0)
            disp = (sib & 7) == 5 ? 4 : 0; /* SIB base=101 with mod=00: disp32, no base (REX.B does not change this) */
        else
            disp = mod == 1 ? 1 : 4;
    } else if (mod == 0) {
        disp = rm == 5 ? 4 : 0; /* disp32 (RIP-relative in 64-bit mode) */
    } else {
        disp = mod == 1 ? 1 : 4;
    }
    return need(c, disp) && (c->i += disp, true);
}

static uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool apic_store_decode(const uint8_t *bytes, size_t n, unsigned mode, struct apic_store *out, const char **why)
{
    struct cursor c = { bytes, n < X86_MAX_INSN_LEN ? n : X86_MAX_INSN_LEN, 0, NULL };
    bool opsize = false, addrsize = false;
    uint8_t rex = 0;

    memset(out, 0, sizeof(*out));
    if (mode != 16 && mode != 32 && mode != 64) {
        *why = "code-segment size is not 16, 32 or 64";
        return false;
    }

    /* Prefixes (SDM vol. 2 2.1.1); a REX not directly before the opcode is ignored (2.2.1). */
    for (;;) {
        if (!need(&c, 1)) {
            *why = c.why;
            return false;
        }
        uint8_t b = bytes[c.i];
        if (is_segment_override(b))
            rex = 0;
        else if (b == 0x66)
            opsize = true, rex = 0;
        else if (b == 0x67)
            addrsize = true, rex = 0;
        else if (b == 0xf0 || b == 0xf2 || b == 0xf3) {
            *why = "LOCK/REP prefix on an APIC store";
            return false;
        } else if (mode == 64 && (b & 0xf0) == 0x40)
            rex = b;
        else
            break;
        c.i++;
    }

    /* Operand size: 66 flips the code segment's default (SDM vol. 2 Table 3-4); REX.W forces 64. */
    if (rex & 0x08) {
        *why = "REX.W: a 64-bit store to an APIC register";
        return false;
    }
    unsigned op_size = (mode == 16) != opsize ? 16 : 32;
    if (op_size != 32) {
        *why = "16-bit operand size: APIC registers take 32-bit stores only (SDM vol. 3A 10.4.1)";
        return false;
    }
    unsigned addr_size = mode == 64 ? (addrsize ? 32 : 64) : ((mode == 16) != addrsize ? 16 : 32);

    uint8_t op = bytes[c.i++];
    if (op == 0xa3) { /* MOV moffs, EAX: offset of the address size, no ModRM */
        if (!need(&c, addr_size / 8)) {
            *why = c.why;
            return false;
        }
        c.i += addr_size / 8;
        out->len = (unsigned)c.i;
        out->from_reg = true;
        out->reg = 0;
        return true;
    }
    if (op != 0x89 && op != 0x87 && op != 0xc7) {
        *why = "not a 32-bit MOV/XCHG store (89, 87, C7 /0, A3)";
        return false;
    }
    if (!need(&c, 1)) {
        *why = c.why;
        return false;
    }
    uint8_t modrm = bytes[c.i++];
    if ((modrm >> 6) == 3) {
        *why = "ModRM names a register (mod=3), not memory";
        return false;
    }
    unsigned reg = (modrm >> 3) & 7;
    if (op == 0xc7 && reg != 0) {
        *why = "C7 with ModRM.reg != 0 is not MOV r/m32,imm32";
        return false;
    }
    if (!skip_memory_operand(&c, modrm, addr_size)) {
        *why = c.why;
        return false;
    }
    if (op == 0xc7) {
        if (!need(&c, 4)) {
            *why = c.why;
            return false;
        }
        out->imm = read_u32(bytes + c.i);
        c.i += 4;
    } else {
        out->from_reg = true;
        out->reg = reg | (rex & 0x04 ? 8 : 0);
        out->xchg = op == 0x87;
    }
    out->len = (unsigned)c.i;
    return true;
}
