/* Human-readable EPT-violation exit qualifications (SDM 27.2.1, Table 27-7). */
#include "nestor/ept.h"
#include "nestor/fmt.h"

void ept_describe_violation(uint64_t q, char *buf, size_t size)
{
    const char *access = (q & EPTQUAL_FETCH) ? "instruction fetch" : (q & EPTQUAL_WRITE) ? "write" : "read";
    fmt_snprintf(buf, size, "%s; translation was %s%s%s%s; %s%s", access,
                 (q & EPTQUAL_READABLE) ? "r" : "-", (q & EPTQUAL_WRITABLE) ? "w" : "-",
                 (q & EPTQUAL_EXECUTABLE) ? "x" : "-",
                 (q & (EPTQUAL_READABLE | EPTQUAL_WRITABLE | EPTQUAL_EXECUTABLE)) ? "" : " (not mapped)",
                 !(q & EPTQUAL_LINEAR_VALID)          ? "no guest-linear address"
                 : (q & EPTQUAL_LINEAR_TRANSLATION) ? "guest-linear address valid (access to the translated address)"
                                                    : "guest-linear address valid (access to a guest paging structure)",
                 (q & EPTQUAL_NMI_UNBLOCKING) ? "; NMI unblocking due to IRET" : "");
}
