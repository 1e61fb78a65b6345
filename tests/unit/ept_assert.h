/*
 * Assertions on what ept_walk finds, shared by the EPT unit tests
 * (test_ept.c, test_ept_install.c). Each test file keeps its EPT in a static
 * `e`; the macros take it from there and report the caller's line.
 */
#ifndef NESTOR_UNIT_EPT_ASSERT_H
#define NESTOR_UNIT_EPT_ASSERT_H

#include "harness.h"
#include "nestor/ept.h"

static inline struct ept_walk ept_walk_or_fail(const struct ept *ept, gpa_t gpa, const char *file, int line)
{
    struct ept_walk w;
    if (!ept_walk(ept, gpa, &w) || !w.present) {
        print_error("gpa 0x%llx is not mapped\n", (unsigned long long)gpa);
        _fail(file, line);
    }
    return w;
}

/* Not mapped, and the walk result says so in every field (no stale hpa, permissions or level). */
static inline void ept_expect_unmapped(const struct ept *ept, gpa_t gpa, const char *file, int line)
{
    struct ept_walk w;
    memset(&w, 0x77, sizeof w);
    if (ept_walk(ept, gpa, &w) || w.present || w.hpa || w.perms || w.level) {
        print_error("gpa 0x%llx: expected no mapping, walk gave hpa 0x%llx level %u\n", (unsigned long long)gpa,
                    (unsigned long long)w.hpa, w.level);
        _fail(file, line);
    }
}

#define walk_or_fail(gpa) ept_walk_or_fail(&e, (gpa), __FILE__, __LINE__)
#define expect_unmapped(gpa) ept_expect_unmapped(&e, (gpa), __FILE__, __LINE__)

#endif
