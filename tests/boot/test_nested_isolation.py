"""A hostile (or just busy) L1 hypervisor: ghv test=hostile-nested (tests/guests/ghv/hostile_nested.c).

Each probe does something legal but unusual with VMX; the answer under Nestor must be the
one bare Bochs (the hardware reference) gives, line for line, and Nestor must neither stop
L1 nor let an MSR-load area reach what L1's own WRMSR could not:

- invept-loop / eptp-cycle: the same guest-physical page refilled again and again
  (INVEPT + VMRESUME 50 times; six EPTPs cycled) once stopped L1 as a "Nestor bug";
- relaunch / rtm-relaunch: a VMLAUNCH that fails (exit 34, the entry MSR-load area clears
  EFER.LMA/LME; exit 33, RTM pending debug exception without RTM) left the VMCS
  "launched", so the corrected VMLAUNCH got VMfailValid(4);
- msr-outside: an MSR outside the MSR-bitmap ranges in the entry MSR-load area;
- invept-ep4ta: INVEPT single-context with the same EP4TA but another memory type in the
  EPTP left the shadow EPT02 stale;
- tsc-high: the HIGH half of TSC_OFFSET under VMCS shadowing (run with and without it).
"""
import pytest
from conftest import GHV, boot, boot_bare

ARGS = "test=hostile-nested"


@pytest.fixture(scope="module")
def bare():
    return boot_bare("ghv-bare-hostile-nested", GHV, ARGS)


def ghv_lines(b, pre):
    return [l[len(pre):] for l in b.lines if l.startswith(pre) and not l.startswith(pre + "vmx basic=")]


@pytest.mark.parametrize("shadowing", ["1", "0"])
def test_hostile_nested_probes_match_the_hardware(bare, shadowing):
    bare.expect(r"^ghv: hostile-nested ok$")
    b = boot("ghv-nested-hostile-nested-shadow" + shadowing, l1=GHV, l1_args=ARGS,
             nestor_args="loglevel=info vmcs_shadowing=" + shadowing)
    b.expect(r"^L1> ghv: hostile-nested invept-loop vmcalls=50$")
    b.expect(r"^L1> ghv: hostile-nested eptp-cycle vmcalls=30$")
    b.expect(r"^L1> ghv: hostile-nested efer-area = entryfail reason=0x80000022 qual=0x1$")
    b.expect(r"^nestor: L1's MSR area entry 1 \(MSR 0xc0000080\) refused: 26\.4 IA32_EFER\.LMA loaded from the "
             r"MSR-load area must equal IA-32e mode guest$")
    b.expect(r"^L1> ghv: hostile-nested relaunch = exit reason=18$")
    b.expect(r"^L1> ghv: hostile-nested relaunch-after-vmclear = exit reason=18$")
    b.expect(r"^L1> ghv: hostile-nested rtm-pending = entryfail reason=0x80000021 qual=0x0$")
    b.expect(r"^nestor: L1 VMLAUNCH of vmcs12 0x[0-9a-f]+: VM-entry failure \(exit reason 33, qualification 0\): "
             r"26\.3\.1\.5 pending debug exceptions RTM \(bit 16\) may be 1 only if the processor supports RTM$")
    b.expect(r"^L1> ghv: hostile-nested rtm-relaunch = exit reason=18$")
    b.expect(r"^nestor: L1's MSR area entry 2 \(MSR 0x40000000\) refused: 26\.4 L1's WRMSR of this MSR")
    b.expect(r"^L1> ghv: hostile-nested ep4ta-after-invept=0x6234623462346234$")
    b.expect(r"^L1> ghv: hostile-nested high-after-full=0x11223344$")
    b.expect(r"^L1> ghv: hostile-nested full-after-high=0xaabbccdd55667788$")
    b.expect(r"^L1> ghv: hostile-nested full-after-entry=0xaabbccdd55667788$")
    b.expect_not(r"does not take|a Nestor bug|CPU refused")
    # Shadowing is on only if asked for and the CPU model has it (sandy_bridge does not: make test-models).
    cpu_shadowing = (int(bare.expect(r"^ghv: vmx basic=.* proc2=0x([0-9a-f]+) ").group(1), 16) >> 32) & (1 << 14)
    b.expect(r"^nestor: nested: .* VMCS shadowing %s" % ("on" if shadowing == "1" and cpu_shadowing else "off"))
    assert ghv_lines(b, "L1> ghv: ") == ghv_lines(bare, "ghv: ")
    b.expect(r"^L1> ghv: hostile-nested ok$")
    assert b.status() == 0
