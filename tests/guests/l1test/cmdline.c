/*
 * l1test: "key=value" word lookup on the kernel command line.
 *
 * Words are separated by blanks; the first word may be the kernel path
 * (GRUB passes it for multiboot v1), which simply never matches a key.
 */
#include "l1test.h"

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int l1_cmdline_get(const char *cmdline, const char *key, char *out, size_t outlen)
{
    const char *p = cmdline;
    while (p && *p) {
        while (is_blank(*p))
            p++;
        const char *k = key;
        const char *w = p;
        while (*k && *w == *k) {
            k++;
            w++;
        }
        if (!*k && *w == '=') {
            size_t n = 0;
            w++;
            while (*w && !is_blank(*w) && n + 1 < outlen)
                out[n++] = *w++;
            out[n] = '\0';
            return 0;
        }
        while (*p && !is_blank(*p))
            p++;
    }
    return -1;
}

int l1_parse_hex(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int digits = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (; *s; s++, digits++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -1;
        if (digits >= 16)
            return -1;      /* would not fit in 64 bits */
        v = (v << 4) | d;
    }
    if (!digits)
        return -1;
    *out = v;
    return 0;
}
