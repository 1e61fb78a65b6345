"""L1's memory (issue 13 items 5 and 6): RAM above 4 GiB is L1's; a Multiboot kernel linked
below 1 MiB loads into L1's low RAM."""
import struct

from conftest import L1_MB2, boot


def test_l1_gets_ram_above_4g(monkeypatch):
    """Issue 13 item 5: Bochs with 6 GiB (its BIOS maps RAM to 3 GiB and the rest above 4 GiB):
    L1's RAM continues above 4 GiB, in its memory map and mapped by EPT01 (1 GiB pages)."""
    import nestor_run
    # The runners have no option for more than 2048 MiB (megs: is refused above it); Bochs' memory:
    # option takes guest memory beyond the host allocation.
    monkeypatch.setattr(nestor_run, "BOCHSRC", nestor_run.BOCHSRC.replace("megs: {megs}",
                                                                           "memory: guest=6144, host=1024"))
    b = boot("ram-above-4g", l1=L1_MB2, l1_args="test=hello status=0x5")
    ram = b.expect(r"^nestor: L1 RAM: (\d+) MiB at guest-physical 0x100000-0x([0-9a-f]+) \(with holes\) "
                   r"in \d+ host blocks; EPT01: (\d+) x 1G")
    assert int(ram.group(1)) > 4096, b
    assert int(ram.group(2), 16) > 0x100000000, b
    high = b.expect(r"^L1> l1test: mmap base=0x100000000 len=0x([0-9a-f]+) type=1$")
    assert int(high.group(1), 16) >= 1 << 30
    b.expect(r"^L1> l1test: mmap base=0x100000 len=0x[0-9a-f]+ type=1$")
    assert b.status() == 5
    b.expect(r"^nestor: image checksum ok ")


def low_kernel():
    """A Multiboot (v1) ELF32 kernel linked at 0x8000: 256 bytes of file, 8 KiB in memory (bss to 0xa000).
    It exits with the byte at 0x8080 (0x42) as its status, or 0xee if its bss was not zeroed."""
    base, data_at = 0x8000, 0x80
    seg = bytearray(0x100)
    struct.pack_into("<III", seg, 0, 0x1BADB002, 0, (-0x1BADB002) & 0xFFFFFFFF)
    code = bytes([0x80, 0x3D]) + struct.pack("<I", 0x9FF0) + bytes([0x00])   # cmp byte [0x9ff0], 0 (bss)
    code += bytes([0x75, 0x0C])                                                  # jne bad
    code += bytes([0x0F, 0xB6, 0x05]) + struct.pack("<I", base + data_at)       # movzx eax, byte [0x8080]
    code += bytes([0xE6, 0xF4, 0xF4, 0xEB, 0xFD])                               # out 0xf4, al; hlt; jmp hlt
    code += bytes([0xB0, 0xEE, 0xE6, 0xF4, 0xF4, 0xEB, 0xFD])                   # bad: mov al, 0xee; out; hlt
    seg[12:12 + len(code)] = code
    seg[data_at] = 0x42
    ehdr = bytearray(52)
    ehdr[0:16] = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    struct.pack_into("<HHIIIIIHHHHHH", ehdr, 16, 2, 3, 1, base + 12, 52, 0, 0, 52, 32, 1, 40, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 0x1000, base, base, len(seg), 0x2000, 7, 0x1000)
    img = bytearray(0x1000)
    img[0:52] = ehdr
    img[52:52 + 32] = phdr
    return bytes(img + seg)


def test_multiboot_kernel_linked_at_0x8000_loads_in_low_ram(tmp_file):
    k = tmp_file("low.elf", low_kernel())
    b = boot("low-kernel", l1=k, l1_args="low")
    b.expect(r"^nestor: L1 kernel: Multiboot ELF32, loaded at 0x8000-0xa000, entry 0x800c")
    b.expect_not(r"rejected")
    assert b.status() == 0x42, b
    b.expect(r"^nestor: image checksum ok ")


def test_kernel_over_the_ebda_is_refused(tmp_file):
    img = bytearray(low_kernel())
    # Move the segment to 0x9e000: its 8 KiB run into the EBDA (Bochs: mem_lower 636 KiB = 0x9f000).
    struct.pack_into("<II", img, 52 + 8, 0x9E000, 0x9E000)
    struct.pack_into("<I", img, 24, 0x9E00C)
    k = tmp_file("over-ebda.elf", bytes(img))
    b = boot("low-kernel-ebda", l1=k, l1_args="ebda")
    b.expect(r"^nestor: L1 kernel rejected: segment 0 at 0x9e000-0xa0000 lies outside L1's RAM \[0x100000, "
             r"0x[0-9a-f]+\) and its low RAM \[0x500, 0x9f000\) below the EBDA$")
