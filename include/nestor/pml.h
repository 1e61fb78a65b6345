/*
 * Page-modification logging for L1 (SDM 28.3.6, "Page-Modification Logging"): when vmcs12 enables
 * PML and its EPTP enables A/D flags, every D flag Nestor sets in EPT12 for an L2 write
 * (ept/ept12_ad.c) appends the 4 KiB-aligned guest-physical address to L1's log, at
 * PML address + 8 * PML index, and decrements the index (16 bits: 0 - 1 = 0xffff). An index
 * outside 0-511 when a flag is to be set is a PML-full exit (reason 62) before the access.
 *
 * Pure: the log is written through a callback (L1-physical memory through EPT01).
 */
#ifndef NESTOR_PML_H
#define NESTOR_PML_H

#include "types.h"

#define PML_ENTRIES 512u

struct pml {
    gpa_t addr;       /* vmcs12's PML address (checked at VM entry: 26.2.1.1) */
    uint64_t *index;  /* vmcs12's guest PML index field */
    void (*write)(void *ctx, gpa_t pa, uint64_t value);
    void *ctx;
};

bool pml_full(const struct pml *p);
/* Logs gpa; does nothing when full (the caller checked first: the exit comes before the access). */
void pml_log(struct pml *p, gpa_t gpa);

#endif
