/*
 * A checksum of Nestor's code and read-only data, taken at boot and checked
 * when L1's run ends: evidence (in the log, asserted by tests) that nothing
 * L1 did reached Nestor's image.
 */
#include "nestor/log.h"
#include "nestor/startup.h"

extern const uint8_t __text_start[], __rodata_end[];

uint64_t image_checksum(void)
{
    /* FNV-1a over 8-byte words: cheap, and any changed byte changes the sum. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (const uint64_t *p = (const uint64_t *)__text_start; p < (const uint64_t *)__rodata_end; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}
