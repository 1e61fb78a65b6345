/*
 * ghv: find the Multiboot2 command line and pick the test.
 *
 * The MBI2 is a u32 total size, a u32 reserved word, then 8-aligned tags
 * (u32 type, u32 size) up to the end tag (type 0). Tag 1 holds the command
 * line as a NUL-terminated string of space-separated key=value words.
 */
#include "cmdline.h"

#define MB2_BOOT_MAGIC 0x36d76289u

const char *const ghv_test_names[] = {"basic", "neg", "all", "events", "l0", "msrarea", "pae", "every",
                                     "ept", "ept-ug", "ept-hostile", "ept-outside", "runl2",
                                     "smp",
                                     "hostile-nested",
                                     "livebitmap", "xexits", "shadow",
                                     "eptad", "apicv", "apicv-outside",
                                     "latency"};

static const char *find_cmdline(u32 mbi)
{
    const u8 *p = (const u8 *)(uintptr_t)mbi;
    u32 total = *(const u32 *)p;
    for (u32 off = 8; off + 8 <= total;) {
        u32 type = *(const u32 *)(p + off), size = *(const u32 *)(p + off + 4);
        if (type == 0 || size < 8)
            break;
        if (type == 1)
            return (const char *)(p + off + 8);
        off += (size + 7) & ~7u;
    }
    return "";
}

/* Returns false (after printing why) if the command line is not understood. */
bool cmdline_parse(u32 magic, u32 mbi, enum ghv_test *test)
{
    *test = GHV_TEST_BASIC;
    if (magic != MB2_BOOT_MAGIC) {
        gprintf("ghv: bad multiboot2 magic 0x%x\n", magic);
        return false;
    }
    bool ok = true;
    const char *s = find_cmdline(mbi);
    while (*s) {
        while (*s == ' ')
            s++;
        const char *w = s;
        while (*s && *s != ' ')
            s++;
        size_t n = (size_t)(s - w);
        if (n > 5 && !ghv_strncmp(w, "test=", 5)) {
            const char *v = w + 5;
            size_t vn = n - 5;
            bool known = false;
            for (int i = 0; i < GHV_TEST_COUNT; i++) {
                const char *name = ghv_test_names[i];
                size_t len = 0;
                while (name[len])
                    len++;
                if (vn == len && !ghv_strncmp(v, name, len)) {
                    *test = (enum ghv_test)i;
                    known = true;
                }
            }
            if (!known) {
                gprintf("ghv: unknown test value\n");
                ok = false;
            }
        }
        /* Other words (a loader may pass the kernel path first, runl2 takes
         * l2mem= and ept12_4k=) are ignored here. */
    }
    return ok;
}
