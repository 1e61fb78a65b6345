"""Other Bochs CPU models than corei7_skylake_x: what Nestor offers L1 follows from the CPU.

make test runs this file on the default model: one nested boot on corei7_sandy_bridge_2600k
(no VMCS shadowing, no EPT A/D, no 1 GiB EPT pages, no PML) compared with bare Bochs of the same
model, and the refusal on corei5_lynnfield_750 (EPT without unrestricted guest). The full matrix,
every nested test on sandy_bridge, haswell and skylake_x, is `make test-models`
(NESTOR_CPU_MODEL=<model> for tests/boot/test_nested_vmx.py and the other nested tests).
"""
import re

from conftest import GHV, L1_MB2, boot, boot_bare

SANDY = "corei7_sandy_bridge_2600k"
STATUS_NO_VMX = 0xFD


def caps(b, prefix):
    m = b.expect(r"^%sghv: vmx basic=0x([0-9a-f]+) pin=0x([0-9a-f]+) proc=0x([0-9a-f]+) proc2=0x([0-9a-f]+) "
                 r"exit=0x([0-9a-f]+) entry=0x([0-9a-f]+) misc=0x([0-9a-f]+) ept_vpid=0x([0-9a-f]+)$" % prefix)
    keys = ("basic", "pin", "proc", "proc2", "exit", "entry", "misc", "ept_vpid")
    return dict(zip(keys, (int(g, 16) for g in m.groups())))


def test_sandy_bridge_offers_only_what_it_has_and_nested_basic_matches_the_hardware():
    bare = boot_bare("models-sandy-bare-basic", GHV, "test=basic", cpu=SANDY)
    nested = boot("models-sandy-nested-basic", l1=GHV, l1_args="test=basic", cpu=SANDY)
    hw, offered = caps(bare, ""), caps(nested, "L1> ")
    # Every offered allowed-1 control is one the CPU has (Nestor may offer less, never more).
    for k in ("pin", "proc", "proc2", "exit", "entry"):
        assert (offered[k] >> 32) & ~(hw[k] >> 32) == 0, "%s offers 0x%x beyond the CPU's 0x%x" % (
            k, offered[k] >> 32, hw[k] >> 32)
    hw2 = hw["proc2"] >> 32
    assert not hw2 & (1 << 14) and not hw2 & (1 << 17), "sandy_bridge: no VMCS shadowing, no PML"
    assert not hw["ept_vpid"] & (1 << 21) and not hw["ept_vpid"] & (1 << 17), "sandy_bridge: no EPT A/D, no 1G"
    assert not offered["ept_vpid"] & ((1 << 21) | (1 << 17)), "EPT A/D and 1 GiB pages must not be offered"
    nested.expect(r"^nestor: nested VMX: VMCS shadowing off \(the CPU lacks it\)$")
    ref = [l for l in bare.lines if l.startswith(("ghv: exit ", "ghv: l2 "))]
    got = [l[4:] for l in nested.lines if l.startswith(("L1> ghv: exit ", "L1> ghv: l2 "))]
    assert len(ref) == 17 + 26 and got == ref
    nested.expect(r"^L1> ghv: basic ok$")
    assert nested.status() == 0


def test_ept_without_unrestricted_guest_is_refused_naming_only_that():
    b = boot("models-lynnfield-refused", l1=L1_MB2, cpu="corei5_lynnfield_750")
    m = b.expect(r"^nestor: VMX without (.+) \(secondary controls allowed-1 = 0x([0-9a-f]+)\): Nestor needs EPT "
                 r"and unrestricted guest")
    assert m.group(1) == "unrestricted guest", "lynnfield has EPT: the message must not say it is missing"
    assert int(m.group(2), 16) & (1 << 1), "the allowed-1 value printed shows EPT"
    b.expect_not(r"^L1> ")
    assert b.status() == STATUS_NO_VMX
