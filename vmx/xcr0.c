/* XCR0 values XSETBV accepts (see vmx/xcr0.h). Pure, unit-tested. */
#include "nestor/arch.h"
#include "xcr0.h"

const char *xcr0_rule_broken(uint32_t index, uint64_t value, uint64_t supported)
{
    if (index != 0)
        return "XCR index other than 0";
    if (!(value & XCR0_X87))
        return "XCR0[0] (x87) clear";
    if (value & ~supported)
        return "XCR0 bit the CPU does not support";
    if ((value & XCR0_AVX) && !(value & XCR0_SSE))
        return "XCR0[2] (AVX) without XCR0[1] (SSE)";
    if (!(value & XCR0_BNDREGS) != !(value & XCR0_BNDCSR))
        return "XCR0[3] != XCR0[4] (MPX)";
    if ((value & XCR0_AVX512) && (value & XCR0_AVX512) != XCR0_AVX512)
        return "XCR0[7:5] (AVX-512) neither all set nor all clear";
    if ((value & XCR0_AVX512) && !(value & XCR0_AVX))
        return "XCR0[7:5] (AVX-512) without XCR0[2] (AVX)";
    if (!(value & XCR0_TILECFG) != !(value & XCR0_TILEDATA))
        return "XCR0[17] != XCR0[18] (AMX)";
    return NULL;
}

