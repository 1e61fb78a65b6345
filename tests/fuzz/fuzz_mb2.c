/* Fuzz target: the Multiboot2 boot-information parser (core/mb2_parse.c) on arbitrary bytes. */
#include "loader_check.h"
#include "nestor/bootinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = exact_copy(data, size);
    static struct boot_info bi;
    memset(&bi, 0xa5, sizeof bi);
    bool ok = mb2_parse(buf, size, &bi);
    CHECK_TERMINATED(bi.error);
    if (ok) {
        CHECK(bi.mmap_count <= BOOT_MAX_MMAP, "mmap_count %u", bi.mmap_count);
        CHECK(bi.module_count <= BOOT_MAX_MODULES, "module_count %u", bi.module_count);
        CHECK_TERMINATED(bi.cmdline);
        CHECK_TERMINATED(bi.loader_name);
        for (unsigned i = 0; i < bi.module_count; i++) {
            CHECK_TERMINATED(bi.modules[i].cmdline);
            CHECK(bi.modules[i].start <= bi.modules[i].end, "module %u ends before it starts", i);
        }
        CHECK(bi.rsdp_len <= BOOT_RSDP_MAX, "rsdp_len %u", bi.rsdp_len);
        char line[512];
        mb2_describe(&bi, line, sizeof line);
        CHECK(memchr(line, 0, sizeof line) != NULL, "mb2_describe overflowed");
    }
    free(buf);
    return 0;
}
