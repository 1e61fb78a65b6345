/* See vmx/io_split.h. */
#include "io_split.h"

static int owner_of(uint16_t port, const struct io_range *ranges, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (port >= ranges[i].first && port <= ranges[i].last)
            return (int)i;
    return IO_PASSTHROUGH;
}

unsigned io_split(uint16_t port, unsigned size, const struct io_range *ranges, unsigned nranges,
                  struct io_piece out[4])
{
    unsigned count = 0;
    if (size > 4)
        size = 4;
    for (unsigned i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i); /* the I/O space wraps at 0xffff like the CPU's port counter */
        int owner = owner_of(p, ranges, nranges);
        if (count && out[count - 1].owner == owner && (uint16_t)(out[count - 1].port + out[count - 1].size) == p) {
            out[count - 1].size++;
            continue;
        }
        out[count++] = (struct io_piece){.port = p, .size = 1, .offset = (uint8_t)i, .owner = owner};
    }
    return count;
}
