/* Basic types for freestanding C11 code that also builds on the host for unit tests. */
#ifndef NESTOR_TYPES_H
#define NESTOR_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t; /* a host-physical address */
typedef uint64_t gpa_t;   /* a guest-physical address (L1's unless named otherwise) */

#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

#define PAGE_SIZE ((uint64_t)4096)
#define PAGE_SHIFT 12
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define ALIGN_UP(x, a) (((x) + (uint64_t)(a) - 1) & ~((uint64_t)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((uint64_t)(a) - 1)) == 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) ((uint64_t)1 << (n))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define NORETURN _Noreturn
#define PACKED __attribute__((packed))
#define UNUSED __attribute__((unused))

#endif
