#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/ (committed).

Each seed is a well-formed input that reaches deep into its target: a Multiboot2
information structure with every tag Nestor reads, ELF32/ELF64 kernels with
Multiboot headers, a bzImage header, and for the nested targets operation
sequences that enter VMX operation, build a valid vmcs12, enter L2 and exit.
Run it again after changing an input format; libFuzzer extends the corpus itself.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


# ---------------------------------------------------------------- Multiboot2 information

def mb2_tag(t, payload):
    return pad8(struct.pack("<II", t, 8 + len(payload)) + payload)


def rsdp_v1():
    body = b"RSD PTR " + b"\0" + b"BOCHS " + b"\0" + struct.pack("<I", 0xE0000)
    csum = (-sum(body)) & 0xFF
    return body[:8] + bytes([csum]) + body[9:]


def mb2_info():
    tags = b""
    tags += mb2_tag(1, b"loglevel=info nested=1\0")
    tags += mb2_tag(2, b"GRUB 2.06\0")
    tags += mb2_tag(4, struct.pack("<II", 639, 130048))
    tags += mb2_tag(3, struct.pack("<II", 0x200000, 0x300000) + b"demo-module\0")
    mmap = [(0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0xf0000, 0x10000, 2), (0x100000, 0x7ef0000, 1),
            (0x7ff0000, 0x10000, 3), (0xfffc0000, 0x40000, 2)]
    tags += mb2_tag(6, struct.pack("<II", 24, 0) + b"".join(struct.pack("<QQII", b, l, t, 0) for b, l, t in mmap))
    tags += mb2_tag(14, rsdp_v1())
    tags += mb2_tag(8, b"\0" * 24)
    tags += mb2_tag(0, b"")
    return struct.pack("<II", 8 + len(tags), 0) + tags


def mb2_efi_info():
    tags = mb2_tag(1, b"\0") + mb2_tag(12, struct.pack("<Q", 0x7fe00000)) + mb2_tag(20, struct.pack("<Q", 0x7fd00000))
    descs = [(7, 0x100000, 0x7000), (4, 0x7100000, 0x100), (9, 0x7f00000, 0x10), (0, 0xfee00000, 1)]
    body = struct.pack("<II", 48, 1) + b"".join(struct.pack("<IIQQQQ", t, 0, b, 0, n, 0xf) + b"\0" * 8 for t, b, n in descs)
    tags += mb2_tag(17, body) + mb2_tag(18, b"") + mb2_tag(0, b"")
    return struct.pack("<II", 8 + len(tags), 0) + tags


# ---------------------------------------------------------------- ELF kernels with Multiboot headers

def mb2_header():
    tags = struct.pack("<HHI", 3, 0, 12) + struct.pack("<I", 0x100040) + b"\0" * 4  # entry address tag
    tags += struct.pack("<HHI", 0, 0, 8)
    length = 16 + len(tags)
    return struct.pack("<IIII", 0xE85250D6, 0, length, (-(0xE85250D6 + length)) & 0xFFFFFFFF) + tags


def mb1_header():
    flags = 0x3
    return struct.pack("<III", 0x1BADB002, flags, (-(0x1BADB002 + flags)) & 0xFFFFFFFF)


def elf64(payload):
    ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x100040, 64, 0, 0, 64, 56, 2, 64, 0, 0)
    ph1 = struct.pack("<IIQQQQQQ", 1, 5, 0x1000, 0x100000, 0x100000, len(payload), len(payload) + 0x2000, 0x1000)
    ph2 = struct.pack("<IIQQQQQQ", 4, 4, 0x1000, 0x100000, 0x100000, 16, 16, 4)  # a PT_NOTE (ignored)
    img = ehdr + ph1 + ph2
    return img + b"\0" * (0x1000 - len(img)) + payload


def elf32(payload):
    ehdr = b"\x7fELF" + bytes([1, 1, 1, 0]) + b"\0" * 8
    ehdr += struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, 0x100010, 52, 0, 0, 52, 32, 1, 40, 0, 0)
    ph = struct.pack("<IIIIIIII", 1, 0x1000, 0x100000, 0x100000, len(payload), len(payload) + 0x1000, 7, 0x1000)
    img = ehdr + ph
    return img + b"\0" * (0x1000 - len(img)) + payload


# ---------------------------------------------------------------- bzImage

def bzimage(version=0x20F):
    setup_sects = 4
    img = bytearray(512 * (setup_sects + 1) + 4096)
    img[0x1F1] = setup_sects
    struct.pack_into("<H", img, 0x1FE, 0xAA55)
    struct.pack_into("<I", img, 0x202, 0x53726448)  # "HdrS"
    struct.pack_into("<H", img, 0x206, version)
    img[0x211] = 0x01  # LOADED_HIGH
    struct.pack_into("<I", img, 0x214, 0x100000)  # code32_start
    struct.pack_into("<I", img, 0x22C, 0x7FFFFFFF)  # initrd_addr_max
    struct.pack_into("<I", img, 0x230, 0x200000)  # kernel_alignment
    img[0x234] = 1  # relocatable
    struct.pack_into("<H", img, 0x236, 0x3)  # xloadflags
    struct.pack_into("<I", img, 0x238, 2047)  # cmdline_size
    struct.pack_into("<Q", img, 0x258, 0x1000000)  # pref_address
    struct.pack_into("<I", img, 0x260, 0x800000)  # init_size
    img[0x201] = 0x6A - 0x02  # jump: header ends at 0x26c
    img[0x200] = 0xEB
    return bytes(img)


# ---------------------------------------------------------------- nested targets (see fuzz_vmx_seq.c for the format)

def seq(cfg, *ops):
    return bytes([cfg]) + bytes(b for op in ops for b in op)


VMXON = [0x00, 0xA0]          # op 0, address selector 0xa? = the VMXON region
VMXOFF = [0x01]
VMCLEAR = lambda k: [0x02, k]
VMPTRLD = lambda k: [0x03, k]
VMPTRST = [0x04, 0x00, 0x01]
VMLAUNCH = [0x07]
VMRESUME = [0x08]
GOOD = lambda flags: [0x0C, flags]  # k = flags & 7; bit 3 PAE L2; bits 4-7 turn off EPT12, I/O bitmaps, MSR bitmaps, 64-bit L2
# One MSR-area entry (op 11, selector >= 0xc0): s % 3 picks exit-store / exit-load / entry-load, s & 0x20 sets count 4.
MSR_ENTRY = lambda s, slot, msr_idx, value: [0x0B, s, slot, msr_idx] + list(struct.pack("<Q", value))
VMREAD = lambda idx: [0x05, 0x01, idx]
VMWRITE_BIT = lambda idx, bit: [0x06, 0x01, idx, 0x40 + bit]
INVEPT_SINGLE = [0x09, 0x21]
INVEPT_ALL = [0x09, 0x02]
INVVPID = [0x0A, 0x01, 0x01]
L2_EPT_VIOL = lambda q, gpa16: [0x01, q, gpa16 & 0xFF, gpa16 >> 8]
L2_IO = lambda port: [0x02, port & 0xFF, port >> 8, 0x08]
L2_MSR = lambda s: [0x03, s]
L2_EXC = lambda vec: [0x06, vec, 0x0B, 0, 0, 0, 0]
L2_CPUID = [0x00, 0x04] + [0] * 20
L2_HLT = [0x00, 0x05] + [0] * 20
L2_ENTRY_FAIL = [0x07, 0x00]


def nested_seeds():
    s = {}
    s["launch-64bit-ept12"] = seq(0, VMXON, GOOD(0x01), VMLAUNCH, L2_EPT_VIOL(0x01, 0x1000), L2_EPT_VIOL(0x02, 0x2000),
                                  L2_CPUID, VMRESUME, L2_IO(0x3F8), L2_MSR(0x00), L2_HLT, VMRESUME, L2_EXC(6))
    s["launch-no-ept12"] = seq(0, VMXON, GOOD(0x12), VMLAUNCH, L2_IO(0x60), L2_MSR(0x01), L2_CPUID, VMRESUME,
                               L2_EXC(14), L2_ENTRY_FAIL)
    s["launch-32bit-l2"] = seq(0, VMXON, GOOD(0x83), VMLAUNCH, L2_CPUID, VMRESUME, L2_HLT)
    s["l1-32bit-protected"] = seq(1, VMXON, GOOD(0x04), VMLAUNCH, L2_CPUID, VMREAD(3), VMRESUME)
    s["shadowing"] = seq(0x20, VMXON, GOOD(0x05), VMREAD(5), VMWRITE_BIT(5, 3), VMLAUNCH, L2_CPUID, VMREAD(70),
                         VMRESUME, L2_HLT)
    s["invept-invvpid"] = seq(0, VMXON, GOOD(0x06), VMLAUNCH, L2_EPT_VIOL(0x01, 0x40), L2_CPUID, INVEPT_SINGLE,
                              INVEPT_ALL, INVVPID, VMRESUME, L2_EPT_VIOL(0x04, 0x40))
    s["vmclear-vmptrld-many"] = seq(0, VMXON, *[VMCLEAR(k) for k in range(6)], *[VMPTRLD(k) for k in range(6)],
                                    VMPTRST, VMXOFF)
    s["bad-modes"] = seq(0x0C, VMXON, VMXOFF)
    s["pae-l2-ept12"] = seq(0, VMXON, GOOD(0x8C), VMLAUNCH, L2_CPUID, VMRESUME, L2_EPT_VIOL(0x01, 0x200), L2_HLT)
    s["pae-l2-no-ept12"] = seq(0, VMXON, GOOD(0x9D), VMLAUNCH, L2_CPUID, VMRESUME, L2_HLT)
    s["msr-areas"] = seq(0, VMXON, GOOD(0x06), MSR_ENTRY(0xE0, 1, 1, 0x0007040600070406),
                         MSR_ENTRY(0xE0, 2, 4, 0xffff800000001000), MSR_ENTRY(0xE1, 1, 6, 0),
                         MSR_ENTRY(0xE1, 2, 10, 0), MSR_ENTRY(0xE2, 1, 2, 0x1), MSR_ENTRY(0xE2, 2, 0, 0xd01),
                         VMLAUNCH, L2_CPUID, VMRESUME, L2_HLT)
    for mode in range(5):  # op 15 with bit 7: L1 paging mode; then operands through those page tables
        s["l1-paging-mode-%d" % mode] = seq(0, [0x0F, 0x80 + (mode - 3) % 5], VMXON, GOOD(0x02),
                                            VMPTRST, VMREAD(3), [0x06, 0x00, 7, 0x41], VMLAUNCH, L2_CPUID)
    s["no-vpid-no-ept"] = seq(0xC0, VMXON, GOOD(0x07), VMLAUNCH, L2_CPUID, VMRESUME, L2_IO(0x3FD))
    return s


# ---------------------------------------------------------------- dictionaries

def vmcs_encodings():
    text = open(os.path.join(HERE, "..", "..", "include", "nestor", "vmx_arch.h")).read()
    import re
    return sorted(set(int(v, 16) for v in re.findall(r"^\s*VMCS_\w+ = (0x[0-9a-f]+),", text, re.M)))


def le(v, n):
    return "".join("\\x%02x" % ((v >> (8 * i)) & 0xFF) for i in range(n))


def write_dict(target, entries, comment):
    d = os.path.join(HERE, "dict")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, target + ".dict"), "w") as f:
        f.write("# " + comment + " (written by make_seeds.py)\n")
        for name, val in entries:
            f.write('%s="%s"\n' % (name, val))


def dictionaries():
    enc = vmcs_encodings()
    vmcs = [("vmcs_%04x" % e, le(e, 4)) for e in enc] + [("vmcs_%04x_high" % e, le(e | 1, 4)) for e in enc if (e >> 13) & 3 == 1]
    nested = vmcs + [("rev", le(0x4E53, 4)), ("launched", le(0x4C41554E, 4)), ("eptp_wb4", le(0x4001E, 8)),
                     ("ones", le((1 << 64) - 1, 8)), ("maxphy", le(1 << 39, 8))]
    comment = "VMCS field encodings (SDM Appendix B) as 32-bit operands, vmcs12 revision and launch-state words"
    for t in ("fuzz_vmx_seq", "fuzz_l2_exit", "fuzz_ept02"):
        write_dict(t, nested, comment)
    write_dict("fuzz_mb2", [("tag%d" % t, le(t, 4)) for t in (0, 1, 2, 3, 4, 6, 8, 12, 14, 15, 17, 18, 20)] +
               [("rsdp", "RSD PTR "), ("efi_desc", le(48, 4))], "Multiboot2 tag types")
    write_dict("fuzz_elf", [("elf", "\\x7fELF"), ("mb1", le(0x1BADB002, 4)), ("mb2", le(0xE85250D6, 4)),
                            ("pt_load", le(1, 4)), ("em_x86_64", le(62, 2)), ("em_386", le(3, 2))],
               "ELF and Multiboot header magic")
    write_dict("fuzz_bzimage", [("hdrs", "HdrS"), ("boot_flag", le(0xAA55, 2)), ("v215", le(0x20F, 2)),
                                ("v210", le(0x20A, 2))], "Linux boot protocol header words")


def main():
    dictionaries()
    write("fuzz_mb2", "grub-bios", mb2_info())
    write("fuzz_mb2", "grub-efi", mb2_efi_info())
    write("fuzz_elf", "elf64-mb2", elf64(mb2_header() + b"\x90" * 64))
    write("fuzz_elf", "elf32-mb1", elf32(mb1_header() + b"\x90" * 64))
    write("fuzz_bzimage", "bzimage-2.15", bzimage(0x20F))
    write("fuzz_bzimage", "bzimage-2.12", bzimage(0x20C))
    for name, data in nested_seeds().items():
        write("fuzz_vmx_seq", name, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
