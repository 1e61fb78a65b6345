/* Memory-operand addressing of VMX instructions (see include/nestor/operand_addr.h). */
#include "nestor/guest_walk.h"
#include "nestor/operand_addr.h"
#include "nestor/vmx_arch.h"

enum operand_fault operand_linear(const struct operand_ctx *c, uint32_t info, uint64_t disp, size_t n, bool write,
                                  uint64_t *out)
{
    unsigned asz = INSNINFO_ADDR_SIZE(info), seg = INSNINFO_SEG(info);
    enum operand_fault fault = seg == OPSEG_SS ? OPERAND_SS : OPERAND_GP;
    if (seg > OPSEG_GS || asz > 2)
        return OPERAND_GP; /* encodings the CPU never reports */
    uint64_t ea = disp;
    if (!(info & INSNINFO_BASE_INVALID))
        ea += c->gpr[INSNINFO_BASE(info)];
    if (!(info & INSNINFO_INDEX_INVALID))
        ea += c->gpr[INSNINFO_INDEX(info)] << INSNINFO_SCALE(info);
    ea &= asz == 0 ? 0xffffull : asz == 1 ? 0xffffffffull : ~0ull;

    if (c->long_mode) { /* only FS and GS have a base; the address must be canonical */
        uint64_t lin = ea + (seg == OPSEG_FS || seg == OPSEG_GS ? c->seg[seg].base : 0);
        if (!is_canonical_for(lin, c->la57) || !is_canonical_for(lin + n - 1, c->la57))
            return fault;
        *out = lin;
        return OPERAND_OK;
    }
    uint32_t ar = c->seg[seg].ar, limit = c->seg[seg].limit;
    unsigned type = VMX_AR_TYPE(ar);
    bool code = type & 8, expand_down = !code && (type & 4);
    bool rights = write ? (!code && (type & 2)) : (!code || (type & 2));
    bool in_limit;
    if (expand_down) { /* valid offsets are above the limit, up to 64 KiB or 4 GiB */
        uint64_t top = (ar & VMX_AR_DB) ? 0xffffffffull : 0xffffull;
        in_limit = ea > limit && ea + n - 1 <= top;
    } else {
        in_limit = ea + n - 1 <= limit;
    }
    if ((ar & VMX_AR_UNUSABLE) || !rights || !in_limit)
        return fault;
    *out = (c->seg[seg].base + ea) & 0xffffffffull;
    return OPERAND_OK;
}
