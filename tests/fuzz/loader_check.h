/* Shared by the loader fuzz targets: a failed check aborts with a message. */
#ifndef NESTOR_FUZZ_LOADER_CHECK_H
#define NESTOR_FUZZ_LOADER_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                                                                                    \
    do {                                                                                                    \
        if (!(cond)) {                                                                                      \
            fprintf(stderr, "INVARIANT VIOLATED (%s): ", #cond);                                             \
            fprintf(stderr, __VA_ARGS__);                                                                   \
            fprintf(stderr, "\n");                                                                          \
            abort();                                                                                        \
        }                                                                                                   \
    } while (0)

/* A string field must end inside its array. */
#define CHECK_TERMINATED(arr) CHECK(memchr((arr), 0, sizeof(arr)) != NULL, "%s not terminated", #arr)

/* The input in a heap block of exactly its size, so ASan sees any read past the end. */
static inline uint8_t *exact_copy(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (size)
        memcpy(p, data, size);
    return p;
}

#endif
