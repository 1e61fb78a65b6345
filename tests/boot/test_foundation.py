"""Boot tests for the foundation: Nestor boots from GRUB, enables VMX, runs L1 under EPT01.

Each test boots an ISO in Bochs (corei7_skylake_x, VMX with EPT) unless it says otherwise,
and asserts on specific lines of the serial transcript and on the run's exit status.
"""
import os
import subprocess

import pytest
from conftest import L1_MB1, L1_MB2, ROOT, boot

STATUS_L1_FAILED = 0xFE
STATUS_NO_VMX = 0xFD
STATUS_BAD_BOOT = 0xFC
STATUS_PANIC = 0xFF


def expect_nestor_survived(b):
    """Nestor outlived L1: it printed its statistics and its image is unchanged."""
    b.expect(r"^nestor: exit statistics: \d+ L1 exits handled by L0$")
    b.expect(r"^nestor: image checksum ok ")


@pytest.mark.parametrize("variant,l1,proto", [("mb1", L1_MB1, "mb1"), ("mb2", L1_MB2, "mb2")])
def test_l1_runs_and_ends_with_its_status(variant, l1, proto):
    b = boot("hello-" + variant, l1=l1, l1_args="test=hello status=0x11")
    b.expect(r"^nestor: VMX on: ")
    b.expect(r"^nestor: L1 kernel: %s ELF%s, loaded at 0x100000-" %
             ("Multiboot2" if proto == "mb2" else "Multiboot", "64" if proto == "mb2" else "32"))
    b.expect(r"^L1> l1test: start proto=%s$" % proto)
    b.expect(r"^L1> l1test: hello from L1$")
    b.expect(r"^nestor: L1 stopped: L1 requested exit through port 0xf4: status 0x11$")
    assert b.status() == 0x11, b
    assert b.result.returncode == 0, b  # Bochs quit through its debugger port
    expect_nestor_survived(b)


def test_every_line_is_marked_as_nestor_or_l1():
    b = boot("marked-lines", l1=L1_MB1, l1_args="test=hello")
    assert len(b.l1_lines()) >= 5, b
    for line in b.lines:
        assert line == "" or line.startswith("nestor: ") or line.startswith("L1> "), (line, str(b))


@pytest.mark.parametrize("variant,l1", [("mb1", L1_MB1), ("mb2", L1_MB2)])
def test_l1_sees_its_command_line_modules_and_memory_map(variant, l1, tmp_file):
    d0, d1 = b"ALPHA-module-data\x00\x01rest", b"Beta module, second of two.\n" * 100
    m0 = tmp_file("alpha.bin", d0)
    m1 = tmp_file("beta.txt", d1)
    b = boot("bootinfo-" + variant, l1=l1, l1_args="test=hello status=0x5 extra=word",
             modules=[m0 + ":alpha one", m1 + ":beta two"])
    b.expect(r"^L1> l1test: cmdline=test=hello status=0x5 extra=word$")
    b.expect(r"^L1> l1test: modules=2$")
    mod0 = b.expect(r"^L1> l1test: module 0 start=0x([0-9a-f]+) end=0x([0-9a-f]+) cmdline=alpha one head=ALPHA-module-dat$")
    mod1 = b.expect(r"^L1> l1test: module 1 start=0x([0-9a-f]+) end=0x([0-9a-f]+) cmdline=beta two head=Beta module, sec$")
    assert int(mod0.group(2), 16) - int(mod0.group(1), 16) == len(d0)
    assert int(mod1.group(2), 16) - int(mod1.group(1), 16) == len(d1)
    assert int(mod0.group(1), 16) % 4096 == 0 and int(mod1.group(1), 16) % 4096 == 0

    # L1's RAM as Nestor reports it is exactly what L1's boot information says.
    ram = b.expect(r"^nestor: L1 RAM: (\d+) MiB at guest-physical 0x100000-0x([0-9a-f]+) ")
    ram_end = int(ram.group(2), 16) + 1
    mem = b.expect(r"^L1> l1test: mem_lower=(\d+) mem_upper=(\d+)$")
    assert int(mem.group(2)) * 1024 == ram_end - 0x100000, b
    assert 600 <= int(mem.group(1)) <= 640
    b.expect(r"^L1> l1test: mmap base=0x100000 len=0x%x type=1$" % (ram_end - 0x100000))
    # Nothing usable above L1's RAM: the host memory Nestor keeps is not in L1's map.
    usable = [l for l in b.l1_lines() if l.startswith("l1test: mmap") and l.endswith("type=1")]
    for l in usable:
        base = int(l.split("base=0x")[1].split()[0], 16)
        length = int(l.split("len=0x")[1].split()[0], 16)
        assert base + length <= ram_end, l
    assert b.status() == 5


def test_l1_write_outside_its_memory_is_stopped_and_reported():
    b = boot("unmapped", l1=L1_MB1, l1_args="test=unmapped")
    w = b.expect(r"^L1> l1test: writing 0x5a5a5a5a at 0x([0-9a-f]+)$")
    addr = int(w.group(1), 16)
    b.expect(r"^nestor: L1 stopped: EPT violation: L1 accessed guest-physical 0x%x .*: write; translation was "
             r"--- \(not mapped\)" % addr)
    b.expect(r"^nestor: error: L1 state at exit 48 \(EPT violation\)")
    b.expect_not(r"did not trap")
    assert b.status() == STATUS_L1_FAILED
    expect_nestor_survived(b)


def test_l1_cannot_reach_the_memory_nestor_keeps():
    # 0xf000000 is host RAM near the top of Bochs' 256 MiB that Nestor keeps for itself;
    # for L1 it lies above its RAM and is not mapped at all.
    b = boot("nestor-ram", l1=L1_MB2, l1_args="test=unmapped addr=0xf000000")
    b.expect(r"^nestor: L1 stopped: EPT violation: L1 accessed guest-physical 0xf000000 ")
    assert b.status() == STATUS_L1_FAILED
    expect_nestor_survived(b)


def test_l1_overwriting_all_its_ram_leaves_nestor_intact():
    b = boot("scribble", l1=L1_MB1, l1_args="test=scribble status=0x33")
    b.expect(r"^L1> l1test: scribbled 0x[0-9a-f]+ bytes from 0x[0-9a-f]+ to 0x[0-9a-f]+ check=ok$")
    assert b.status() == 0x33
    expect_nestor_survived(b)


def test_l1_triple_fault_is_reported_with_its_state():
    b = boot("triple", l1=L1_MB2, l1_args="test=triple")
    b.expect(r"^L1> l1test: triple fault now$")
    b.expect(r"^nestor: L1 stopped: L1 triple fault \(shutdown\) at rip 0x[0-9a-f]+$")
    b.expect(r"^nestor: error:   rip=[0-9a-f]{16} rsp=[0-9a-f]{16} rflags=")
    b.expect(r"^nestor: error:   gdtr=[0-9a-f]{16}/[0-9a-f]{4} idtr=[0-9a-f]{16}/0000$")  # the zero-limit IDT L1 loaded
    b.expect_not(r"survived triple fault")
    assert b.status() == STATUS_L1_FAILED
    expect_nestor_survived(b)


def test_missing_l1_is_a_clear_error():
    b = boot("no-l1", l1=None)
    b.expect(r"^nestor: no L1 kernel: GRUB passed no module\.")
    assert b.status() == STATUS_BAD_BOOT


def test_l1_that_is_not_elf_is_rejected(tmp_file):
    junk = tmp_file("notelf.bin", b"#!/bin/sh\necho this is not a kernel\n" * 20)
    b = boot("not-elf", l1=junk, l1_args="whatever")
    b.expect(r"^nestor: L1 kernel \(module 0, 'whatever', 720 bytes\) rejected: not an ELF file "
             r"\(first bytes 23 21 2f 62\)")
    assert b.status() == STATUS_BAD_BOOT


@pytest.mark.parametrize("cut", [40, 3000])
def test_truncated_l1_is_rejected(cut, tmp_file):
    data = open(L1_MB1, "rb").read()
    t = tmp_file("trunc%d.elf" % cut, data[:cut])
    b = boot("truncated-%d" % cut, l1=t)
    if cut < 52:
        b.expect(r"rejected: ELF header truncated: file is only %d bytes$" % cut)
    else:
        b.expect(r"rejected: ELF segment \d+ \(offset 0x[0-9a-f]+, 0x[0-9a-f]+ bytes\) runs past the end of the "
                 r"%d-byte file: truncated image\?$" % cut)
    assert b.status() == STATUS_BAD_BOOT


def test_elf_without_multiboot_header_is_rejected():
    # Nestor itself is an ELF64 executable whose header is Multiboot2... so use an ELF with none:
    # the host's own /bin/true is ET_DYN; build a minimal ET_EXEC instead.
    src = os.path.join(ROOT, "build", "boot-tests", "nomb.S")
    elf = os.path.join(ROOT, "build", "boot-tests", "nomb.elf")
    os.makedirs(os.path.dirname(src), exist_ok=True)
    with open(src, "w") as f:
        f.write(".code32\n.globl _start\n_start: hlt\n")
    subprocess.run(["gcc", "-m32", "-nostdlib", "-static", "-no-pie", "-Wl,-Ttext=0x100000", "-Wl,--build-id=none",
                    "-o", elf, src], check=True)
    b = boot("no-mb-header", l1=elf)
    b.expect(r"rejected: ELF image has no Multiboot header \(first 8 KiB\) or Multiboot2 header \(first 32 KiB\)$")
    assert b.status() == STATUS_BAD_BOOT


def test_cpu_without_vmx_gets_a_clear_refusal_under_qemu():
    b = boot("qemu-no-vmx", l1=L1_MB2, engine="qemu", timeout=120)
    b.expect(r"^nestor: Nestor [0-9.]+, a nested-virtualization hypervisor$")
    b.expect(r"^nestor: VMX not available: CPUID\.1:ECX\.VMX\[bit 5\] = 0 on this \w+ CPU \(CPU 0\)\. Nestor needs Intel VT-x")
    assert b.status() == STATUS_NO_VMX
    assert b.result.returncode == ((STATUS_NO_VMX << 1) | 1) & 0xFF  # isa-debug-exit
    b.expect_not(r"^L1> ")
    b.expect_not(r"^nestor: (warn|error):")  # QEMU's memory map (a reserved range at 1 TiB) is no surprise


def test_cpu_without_vmx_gets_a_clear_refusal_under_bochs():
    b = boot("bochs-no-vmx", l1=L1_MB2, cpu="athlon64_clawhammer")
    b.expect(r"^nestor: VMX not available: CPUID\.1:ECX\.VMX\[bit 5\] = 0 on this AuthenticAMD CPU")
    assert b.status() == STATUS_NO_VMX


def test_vmx_without_ept_gets_a_clear_refusal():
    b = boot("bochs-no-ept", l1=L1_MB2, cpu="core2_penryn_t9600")
    b.expect(r"^nestor: VMX without EPT and unrestricted guest ")
    assert b.status() == STATUS_NO_VMX
