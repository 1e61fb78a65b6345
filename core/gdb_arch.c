/*
 * The registers the GDB stub shows, in the order of GDB's own i386 and amd64
 * descriptions (gdb/features/i386/{32bit,64bit}-core.xml: GDB requires these
 * names in feature org.gnu.gdb.i386.core), and the target description built
 * from them. The x87 registers are held by the CPU, not by Nestor: they are
 * listed (GDB insists) and reported unavailable. Control registers come last
 * in a feature of Nestor's own, read-only.
 */
#include <stdarg.h>

#include "nestor/fmt.h"
#include "nestor/gdb_proto.h"

#define CORE "org.gnu.gdb.i386.core"
#define SEGS "org.gnu.gdb.i386.segments"
#define SYS "org.nestor.x86.sys"

#define X87 {"st0", 10, "i387_ext", CORE, X86R_NONE}, {"st1", 10, "i387_ext", CORE, X86R_NONE},        \
    {"st2", 10, "i387_ext", CORE, X86R_NONE}, {"st3", 10, "i387_ext", CORE, X86R_NONE},                      \
    {"st4", 10, "i387_ext", CORE, X86R_NONE}, {"st5", 10, "i387_ext", CORE, X86R_NONE},                      \
    {"st6", 10, "i387_ext", CORE, X86R_NONE}, {"st7", 10, "i387_ext", CORE, X86R_NONE},                      \
    {"fctrl", 4, "int", CORE, X86R_NONE}, {"fstat", 4, "int", CORE, X86R_NONE},                              \
    {"ftag", 4, "int", CORE, X86R_NONE}, {"fiseg", 4, "int", CORE, X86R_NONE},                               \
    {"fioff", 4, "int", CORE, X86R_NONE}, {"foseg", 4, "int", CORE, X86R_NONE},                              \
    {"fooff", 4, "int", CORE, X86R_NONE}, {"fop", 4, "int", CORE, X86R_NONE}

#define SEGMENT_SELECTORS                                                                                   \
    {"cs", 4, "int32", CORE, X86R_CS}, {"ss", 4, "int32", CORE, X86R_SS}, {"ds", 4, "int32", CORE, X86R_DS}, \
    {"es", 4, "int32", CORE, X86R_ES}, {"fs", 4, "int32", CORE, X86R_FS}, {"gs", 4, "int32", CORE, X86R_GS}

#define SYSTEM_REGS(n, t)                                                                                    \
    {"cr0", n, t, SYS, X86R_CR0}, {"cr2", n, t, SYS, X86R_CR2}, {"cr3", n, t, SYS, X86R_CR3},                \
    {"cr4", n, t, SYS, X86R_CR4}, {"efer", 8, "uint64", SYS, X86R_EFER}

static const struct gdb_reg_desc regs64[] = {
    {"rax", 8, "int64", CORE, X86R_RAX}, {"rbx", 8, "int64", CORE, X86R_RBX},
    {"rcx", 8, "int64", CORE, X86R_RCX}, {"rdx", 8, "int64", CORE, X86R_RDX},
    {"rsi", 8, "int64", CORE, X86R_RSI}, {"rdi", 8, "int64", CORE, X86R_RDI},
    {"rbp", 8, "data_ptr", CORE, X86R_RBP}, {"rsp", 8, "data_ptr", CORE, X86R_RSP},
    {"r8", 8, "int64", CORE, X86R_R8}, {"r9", 8, "int64", CORE, X86R_R9},
    {"r10", 8, "int64", CORE, X86R_R10}, {"r11", 8, "int64", CORE, X86R_R11},
    {"r12", 8, "int64", CORE, X86R_R12}, {"r13", 8, "int64", CORE, X86R_R13},
    {"r14", 8, "int64", CORE, X86R_R14}, {"r15", 8, "int64", CORE, X86R_R15},
    {"rip", 8, "code_ptr", CORE, X86R_RIP}, {"eflags", 4, "int32", CORE, X86R_RFLAGS},
    SEGMENT_SELECTORS,
    X87,
    {"fs_base", 8, "int64", SEGS, X86R_FS_BASE}, {"gs_base", 8, "int64", SEGS, X86R_GS_BASE},
    SYSTEM_REGS(8, "uint64"),
};

static const struct gdb_reg_desc regs32[] = {
    {"eax", 4, "int32", CORE, X86R_RAX}, {"ecx", 4, "int32", CORE, X86R_RCX},
    {"edx", 4, "int32", CORE, X86R_RDX}, {"ebx", 4, "int32", CORE, X86R_RBX},
    {"esp", 4, "data_ptr", CORE, X86R_RSP}, {"ebp", 4, "data_ptr", CORE, X86R_RBP},
    {"esi", 4, "int32", CORE, X86R_RSI}, {"edi", 4, "int32", CORE, X86R_RDI},
    {"eip", 4, "code_ptr", CORE, X86R_RIP}, {"eflags", 4, "int32", CORE, X86R_RFLAGS},
    SEGMENT_SELECTORS,
    X87,
    SYSTEM_REGS(4, "uint32"),
};

const struct gdb_arch gdb_arch_x86_64 = {"i386:x86-64", ARRAY_SIZE(regs64), regs64};
const struct gdb_arch gdb_arch_i386 = {"i386", ARRAY_SIZE(regs32), regs32};

static bool put(char *out, size_t cap, size_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = fmt_vsnprintf(out + *o, cap - *o, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= cap - *o)
        return false;
    *o += (size_t)w;
    return true;
}

size_t gdb_arch_xml(const struct gdb_arch *a, char *out, size_t cap)
{
    size_t o = 0;
    const char *feature = NULL;
    if (!cap || !put(out, cap, &o, "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
                                   "<target version=\"1.0\"><architecture>%s</architecture>", a->name))
        return 0;
    for (unsigned i = 0; i < a->count; i++) {
        const struct gdb_reg_desc *r = &a->regs[i];
        if (r->feature != feature) {
            if (feature && !put(out, cap, &o, "</feature>"))
                return 0;
            if (!put(out, cap, &o, "<feature name=\"%s\">", r->feature))
                return 0;
            feature = r->feature;
        }
        if (!put(out, cap, &o, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\"/>", r->name, r->bytes * 8, r->type))
            return 0;
    }
    if (!put(out, cap, &o, "%s</target>", feature ? "</feature>" : ""))
        return 0;
    return o;
}
