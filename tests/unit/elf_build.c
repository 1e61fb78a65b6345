/* Builder for test kernel images (see elf_build.h). */
#include "elf_build.h"

#include <string.h>

#include "nestor/kernel_image.h"

void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

void elf_write(uint8_t *img, const struct elf_spec *s)
{
    bool is64 = s->cls == 64;
    memset(img, 0, EH_SIZE(s->cls));
    memcpy(img, "\x7f" "ELF", 4);
    img[4] = is64 ? 2 : 1; /* EI_CLASS */
    img[5] = 1;            /* EI_DATA: little-endian */
    img[6] = 1;            /* EI_VERSION */
    wr16(img + 16, 2);     /* ET_EXEC */
    wr16(img + 18, is64 ? 62 : 3);
    wr32(img + 20, 1);
    if (is64) {
        wr64(img + 24, s->entry);
        wr64(img + 32, 64);
        wr16(img + 52, 64);
        wr16(img + 54, 56);
        wr16(img + 56, (uint16_t)s->nseg);
    } else {
        wr32(img + 24, (uint32_t)s->entry);
        wr32(img + 28, 52);
        wr16(img + 40, 52);
        wr16(img + 42, 32);
        wr16(img + 44, (uint16_t)s->nseg);
    }
    uint8_t *ph = img + EH_SIZE(s->cls);
    for (unsigned i = 0; i < s->nseg; i++, ph += PH_SIZE(s->cls)) {
        const struct elf_seg *g = &s->seg[i];
        memset(ph, 0, PH_SIZE(s->cls));
        wr32(ph, g->type);
        if (is64) {
            wr32(ph + 4, 7); /* RWX */
            wr64(ph + 8, g->offset);
            wr64(ph + 16, g->vaddr);
            wr64(ph + 24, g->paddr);
            wr64(ph + 32, g->filesz);
            wr64(ph + 40, g->memsz);
            wr64(ph + 48, 0x1000);
        } else {
            wr32(ph + 4, (uint32_t)g->offset);
            wr32(ph + 8, (uint32_t)g->vaddr);
            wr32(ph + 12, (uint32_t)g->paddr);
            wr32(ph + 16, (uint32_t)g->filesz);
            wr32(ph + 20, (uint32_t)g->memsz);
            wr32(ph + 24, 7);
            wr32(ph + 28, 0x1000);
        }
    }
}

void mb1_write(uint8_t *img, size_t off, uint32_t flags)
{
    wr32(img + off, MB1_HEADER_MAGIC);
    wr32(img + off + 4, flags);
    wr32(img + off + 8, (uint32_t)(0u - MB1_HEADER_MAGIC - flags));
}

void mb2_hdr_begin(struct mb2_hdr *h, uint32_t arch)
{
    memset(h, 0, sizeof *h);
    wr32(h->bytes, MB2_HEADER_MAGIC);
    wr32(h->bytes + 4, arch);
    h->len = 16;
}

void mb2_hdr_tag(struct mb2_hdr *h, uint16_t type, uint16_t flags, const uint32_t *words, size_t nwords)
{
    uint8_t *t = h->bytes + h->len;
    uint32_t size = (uint32_t)(8 + 4 * nwords);
    wr16(t, type);
    wr16(t + 2, flags);
    wr32(t + 4, size);
    for (size_t i = 0; i < nwords; i++)
        wr32(t + 8 + 4 * i, words[i]);
    h->len += ALIGN_UP(size, 8);
}

void mb2_hdr_seal(struct mb2_hdr *h)
{
    uint32_t arch, len = (uint32_t)h->len;
    memcpy(&arch, h->bytes + 4, 4);
    wr32(h->bytes + 8, len);
    wr32(h->bytes + 12, (uint32_t)(0u - MB2_HEADER_MAGIC - arch - len));
}

void mb2_hdr_end(struct mb2_hdr *h)
{
    mb2_hdr_tag(h, 0, 0, NULL, 0);
    mb2_hdr_seal(h);
}
