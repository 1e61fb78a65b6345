/*
 * ghv: the few libc routines a freestanding build still needs.
 *
 * GCC may emit calls to memset/memcpy for struct copies and zeroing even
 * with -ffreestanding, and there is no libc or libgcc to provide them.
 */
#include "ghv.h"

void *memset(void *d, int c, size_t n)
{
    u8 *p = d;
    while (n--)
        *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    u8 *p = d;
    const u8 *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int ghv_strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (u8)*a - (u8)*b;
        if (!*a)
            return 0;
    }
    return 0;
}
