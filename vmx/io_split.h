/*
 * Splitting one IN/OUT into the pieces each owner of its ports sees: an access of
 * 2 or 4 bytes may straddle a port Nestor emulates and ports it passes through
 * (`in ax,0x3f7` covers 0x3f7 and COM1's 0x3f8). Pure, unit-tested.
 */
#ifndef NESTOR_IO_SPLIT_H
#define NESTOR_IO_SPLIT_H

#include "nestor/types.h"

struct io_range {
    uint16_t first, last;
};

#define IO_PASSTHROUGH (-1)

/* Consecutive bytes of the access with the same owner. */
struct io_piece {
    uint16_t port;
    uint8_t size;   /* 1-4 */
    uint8_t offset; /* of the piece's first byte within the access (value bits 8*offset and up) */
    int owner;      /* index into the ranges, or IO_PASSTHROUGH */
};

/* Fills out[] (at most 4 pieces, one per byte in the worst case) and returns how many. */
unsigned io_split(uint16_t port, unsigned size, const struct io_range *ranges, unsigned nranges,
                  struct io_piece out[4]);

#endif
