/*
 * The rules XSETBV applies to a new XCR0 (SDM vol. 1 13.3, vol. 2C XSETBV): the
 * name of the first one a value breaks, or NULL when the CPU accepts it.
 */
#ifndef NESTOR_XCR0_H
#define NESTOR_XCR0_H

#include "nestor/types.h"

const char *xcr0_rule_broken(uint32_t index, uint64_t value, uint64_t supported);

#endif
