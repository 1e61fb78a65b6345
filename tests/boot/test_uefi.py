"""One ISO, both firmware interfaces: UEFI (QEMU with OVMF) and legacy BIOS (QEMU's SeaBIOS, Bochs).

grub-mkrescue puts a boot image in the ISO for every GRUB platform installed (tools/deps.sh installs
grub-pc-bin and grub-efi-amd64-bin); tools/mkiso.sh gives it only modules both platforms have. QEMU's
TCG has no VMX, so under QEMU Nestor gets as far as the VMX check and refuses with status 0xfd: that
it gets there shows GRUB loaded it, it parsed the boot information of that firmware and set up its
memory and paging from it.
"""
import os

import pytest
from conftest import BUILD, L1_MB2, Boot, boot

import nestor_run

STATUS_NO_VMX = 0xFD

# OVMF announces the boot option it starts; SeaBIOS and GRUB's BIOS image never print this.
UEFI_BOOT_LINE = r'BdsDxe: starting Boot[0-9A-F]{4} "UEFI QEMU DVD-ROM'
# What Nestor prints when GRUB handed over (main.c), with the refusal QEMU's TCG always gets.
NO_VMX_LINE = r"^nestor: cpu0: VMX not available: CPUID\.1:ECX\.VMX\[bit 5\] = 0 "


@pytest.fixture(scope="module")
def iso():
    os.makedirs(BUILD, exist_ok=True)
    path = os.path.join(BUILD, "uefi-and-bios.iso")
    nestor_run.build_iso(path, l1=L1_MB2, l1_args="test=hello status=0x11", nestor_args="loglevel=debug")
    platforms = nestor_run.iso_boot_platforms(path)
    assert platforms >= {"BIOS", "UEFI"}, (
        "the ISO has boot images for %s only: tools/deps.sh installs grub-pc-bin and grub-efi-amd64-bin, "
        "grub-mkrescue makes one boot image per GRUB platform installed" % sorted(platforms))
    return path


def boot_qemu(name, iso, uefi):
    workdir = os.path.join(BUILD, name)
    r = nestor_run.run_qemu(iso, workdir, timeout=60, cpus=4, uefi=uefi)
    b = Boot(name, r)
    assert not r.timed_out, "QEMU did not end within 60 s\n%s" % b
    return b


def expect_nestor_reached_the_vmx_check(b):
    b.expect(r"^nestor: Nestor \S+, a nested-virtualization hypervisor$")
    b.expect(r"^nestor: command line: 'loglevel=debug'; boot loader: 'GRUB ")
    b.expect(r"^nestor: debug:   memory 0x0000000000100000-0x[0-9a-f]{16} usable$")
    b.expect(r"^nestor: memory: \d+ MiB free after Nestor ")
    b.expect(r"^nestor: debug: direct map: ")
    # The CPUs from the ACPI MADT, each AP started by Nestor into long mode before the VMX check (-smp 4).
    b.expect(r"^nestor: ACPI: RSDP from the (boot loader|BIOS area), revision \d+; MADT at 0x[0-9a-f]+$")
    b.expect(r"^nestor: CPUs: 4 enabled in the ACPI MADT \(APIC IDs 0 1 2 3\)")
    for cpu in (1, 2, 3):
        b.expect(r"^nestor: (cpu0: )?CPU %d \(APIC ID %d\) started: long mode, own stack, GDT, TSS$" % (cpu, cpu))
    b.expect(r"^nestor: cpu0: 4 of 4 CPU\(s\) running Nestor$")
    b.expect(NO_VMX_LINE)
    b.expect_not(r"bad boot information")
    assert b.status() == STATUS_NO_VMX


def test_uefi_boot_through_ovmf_and_grub_efi(iso):
    b = boot_qemu("uefi-ovmf-smp4", iso, uefi=True)
    b.expect(UEFI_BOOT_LINE)
    expect_nestor_reached_the_vmx_check(b)
    # The EFI memory map as GRUB converted it: OVMF's ACPI NVS ranges below 16 MiB, which SeaBIOS has not.
    b.expect(r"^nestor: debug:   memory 0x0000000000[0-9a-f]{6}-0x0000000000[0-9a-f]{6} ACPI NVS$")
    b.expect_not(r"^error: ")  # GRUB found every module it loads (none missing on the EFI platform)
    # No BIOS area to search under UEFI: the FADT's poweroff ports come through GRUB's RSDP.
    b.expect(r"^nestor: ACPI FADT: PM1a_CNT at port 0x[0-9a-f]+ \(L1's poweroff is trapped there\)$")
    b.expect_not(r"^nestor: warning: ACPI FADT")


def test_uefi_boot_information_summary(iso):
    b = boot_qemu("uefi-ovmf-summary", iso, uefi=True)
    b.expect(r"^nestor: boot information: UEFI \(EFI64 system table 0x[0-9a-f]+\); memory map: \d+ ranges from "
             r"GRUB's map, EFI memory map of \d+ descriptors checked( \(the tag's last \d+ entries are not descriptors: "
             r"ignored\))?; ACPI RSDP revision 2 from tag 15, OEM '")


def test_same_iso_boots_legacy_bios_in_qemu(iso):
    b = boot_qemu("bios-seabios-smp4", iso, uefi=False)
    b.expect_not(r"BdsDxe:")
    expect_nestor_reached_the_vmx_check(b)


def test_same_iso_boots_legacy_bios_in_bochs_and_runs_l1(iso):
    """Bochs has VT-x: the dual-platform ISO runs L1 to its end as the BIOS-only ISO did."""
    workdir = os.path.join(BUILD, "bios-bochs-dual-iso")
    r = nestor_run.run_bochs(iso, workdir, timeout=120)
    b = Boot("bios-bochs-dual-iso", r)
    assert not r.timed_out, "Bochs did not end within 120 s\n%s" % b
    b.expect(r"^nestor: command line: 'loglevel=debug'; boot loader: 'GRUB ")
    b.expect(r"^nestor: VMX on: ")
    b.expect(r"^L1> l1test: hello from L1$")
    assert b.status() == 0x11


# ---------------------------------------------------------------- long command lines (issue 13, item 7)

def long_line(length, head="test=hello status=0x11"):
    """head, key=value words, then pad=ppp... and end=here: exactly length bytes."""
    line = head
    i = 0
    while len(line) + 17 + len(" pad=pppp end=here") <= length:
        line += " w%03d=%s" % (i, "v" * 11)
        i += 1
    line += " pad=" + "p" * (length - len(line) - len(" pad= end=here")) + " end=here"
    assert len(line) == length, len(line)
    return line


@pytest.mark.parametrize("length", [925, 4096])
def test_l1_gets_its_long_command_line_whole(length):
    """Once cut at 511 bytes without a word: now up to 4096 bytes arrive whole."""
    args = long_line(length)
    b = boot("long-cmdline-%d" % length, l1=L1_MB2, l1_args=args, timeout=120)
    # Nestor's virtual UART splits L1's long output into several "L1> " lines: join them back.
    lines = b.l1_lines()
    start = next((i for i, l in enumerate(lines) if l.startswith("l1test: cmdline=")), None)
    assert start is not None, "L1 printed no command line\n%s" % b
    got = lines[start][len("l1test: cmdline="):]
    for l in lines[start + 1:]:
        if l.startswith("l1test: "):
            break
        got += l
    assert got == args, "L1 got %d bytes of its %d-byte command line\n%s" % (len(got), len(args), b)
    b.expect(r"^L1> l1test: hello from L1$")
    assert b.status() == 0x11


def test_command_line_longer_than_4096_refused():
    b = boot("long-cmdline-4097", l1=L1_MB2, l1_args=long_line(4097), timeout=120)
    b.expect(r"^nestor: bad boot information at 0x[0-9a-f]+: multiboot2 info: module 0's command line is 4097 "
             r"bytes long, more than the 4096 Nestor carries")
    b.expect_not(r"^L1> ")
    assert b.status() == 0xFC


# ---------------------------------------------------------------- ACPI hand-off to a Linux L1 (issue 13, item 2)

def test_linux_l1_finds_acpi_through_nestors_rsdp_copy():
    """GRUB's ACPI tag -> boot_info -> a copy of the RSDP at 0x12000, reserved in L1's e820 and named by
    acpi_rsdp_addr: Linux takes its ACPI tables from there, not from a BIOS-area scan (a UEFI machine has none)."""
    import linux_kit
    vmlinuz, initrd = linux_kit.build(os.path.join(BUILD, "linux"))
    b = boot("linux-acpi-handoff", l1=vmlinuz, modules=[initrd + ":initrd"], megs=512, timeout=600,
             l1_args="console=ttyS0,115200 panic=-1 mitigations=off nokaslr cryptomgr.notests=1 idle=halt")
    b.expect(r"^nestor: L1 ACPI: RSDP revision 0 \(20 bytes, GRUB's old ACPI tag\) copied to guest-physical "
             r"0x12000, reserved in its e820; acpi_rsdp_addr set$")
    b.expect(r"BIOS-e820: \[mem 0x0000000000012000-0x0000000000012fff\] reserved$")
    b.expect(r"BIOS-e820: \[mem 0x[0-9a-f]{16}-0x[0-9a-f]{16}\] ACPI data$")  # the firmware's tables, kept
    b.expect(r"ACPI: RSDP 0x0000000000012000 000014 \(v00 BOCHS \)$")
    b.expect(r"ACPI: Using ACPI \(MADT\) for SMP configuration information$")
    b.expect(r"kvmtest: all ok$")
    assert b.status() == 0
