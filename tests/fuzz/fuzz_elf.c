/* Fuzz target: ELF32/ELF64 and Multiboot header recognition (core/kernel_image.c) on arbitrary bytes. */
#include "loader_check.h"
#include "nestor/kernel_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *img = exact_copy(data, size);
    static struct kernel_image ki;
    memset(&ki, 0xa5, sizeof ki);
    bool ok = kimg_parse(img, size, &ki);
    CHECK_TERMINATED(ki.error);
    if (ok) {
        CHECK(ki.segment_count <= KIMG_MAX_SEGMENTS, "segment_count %u", ki.segment_count);
        CHECK(ki.elf_class == 32 || ki.elf_class == 64, "class %u", ki.elf_class);
        CHECK(ki.protocol == KIMG_MULTIBOOT1 || ki.protocol == KIMG_MULTIBOOT2, "protocol %d", ki.protocol);
        for (unsigned i = 0; i < ki.segment_count; i++) {
            const struct kimg_segment *s = &ki.segments[i];
            /* The loader copies filesz bytes from offset: they must be in the file. */
            CHECK(s->offset <= size && s->filesz <= size - s->offset, "segment %u [0x%llx+0x%llx) beyond %zu", i,
                  (unsigned long long)s->offset, (unsigned long long)s->filesz, size);
            CHECK(s->filesz <= s->memsz, "segment %u filesz > memsz", i);
            CHECK(s->paddr + s->memsz >= s->paddr, "segment %u wraps", i);
            CHECK(s->paddr >= ki.load_start && s->paddr + s->memsz <= ki.load_end, "segment %u outside load range", i);
        }
    }
    free(img);
    return 0;
}
