/* key=value command-line parsing. */
#include "nestor/cmdline.h"
#include "nestor/lib.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool cmdline_get(const char *cmdline, const char *key, char *val, size_t size)
{
    size_t klen = strlen(key);
    const char *p = cmdline;
    while (*p) {
        while (is_space(*p))
            p++;
        const char *word = p;
        while (*p && !is_space(*p))
            p++;
        size_t wlen = (size_t)(p - word);
        if (wlen > klen && strncmp(word, key, klen) == 0 && word[klen] == '=') {
            size_t vlen = wlen - klen - 1;
            if (vlen + 1 > size)
                return false;
            memcpy(val, word + klen + 1, vlen);
            val[vlen] = 0;
            return true;
        }
    }
    return false;
}

bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    const char *digits = s;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            break;
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    if (s == digits)
        return false;
    unsigned shift = 0;
    switch (*s) {
    case 0:
        break;
    case 'K': case 'k': shift = 10; s++; break;
    case 'M': case 'm': shift = 20; s++; break;
    case 'G': case 'g': shift = 30; s++; break;
    default:
        return false;
    }
    if (*s || (shift && v > (UINT64_MAX >> shift)))
        return false;
    *out = v << shift;
    return true;
}

bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out)
{
    char buf[32];
    return cmdline_get(cmdline, key, buf, sizeof buf) && parse_u64(buf, out);
}
