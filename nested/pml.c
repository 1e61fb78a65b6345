/* Page-modification log of L1 (include/nestor/pml.h; SDM 28.3.6). */
#include "nestor/pml.h"

bool pml_full(const struct pml *p) { return (*p->index & 0xffff) >= PML_ENTRIES; }

void pml_log(struct pml *p, gpa_t gpa)
{
    if (pml_full(p))
        return;
    uint64_t index = *p->index & 0xffff;
    /* "Bits 11:0 of the value written are always 0": the 4 KiB page, also inside a large page. */
    p->write(p->ctx, p->addr + 8 * index, gpa & ~(gpa_t)0xfff);
    *p->index = (index - 1) & 0xffff;
}
