"""Boot tests for the exits Nestor handles for L1: CPUID, MSRs, CR access, XSETBV, HLT, I/O, VMX.

Each runs one l1test scenario under Nestor in Bochs and asserts the values L1 observed.
"""
import pytest
from conftest import L1_MB1, L1_MB2, boot


def run(test, l1=L1_MB1, extra="", nested=None):
    args = "loglevel=info" + ("" if nested is None else " nested=%d" % nested)
    name = "exit-" + test + ("" if nested is None else "-nested%d" % nested)
    return boot(name, l1=l1, l1_args=("test=%s status=0x2a %s" % (test, extra)).strip(), nestor_args=args)


def test_cpuid_offers_vmx_by_default():
    b = run("cpuid")
    b.expect(r"^L1> l1test: cpuid\.1 ecx=0x[0-9a-f]+ hypervisor=1 vmx=1$")
    assert b.status() == 0x2A


def test_cpuid_sets_hypervisor_bit_and_hides_vmx():
    b = run("cpuid", nested=0)
    m = b.expect(r"^L1> l1test: cpuid\.1 ecx=0x([0-9a-f]+) hypervisor=1 vmx=0$")
    ecx = int(m.group(1), 16)
    assert not ecx & (1 << 6), "SMX must be hidden"
    assert not ecx & (1 << 21), "x2APIC must be hidden"
    assert not ecx & (1 << 3), "MONITOR must be hidden"
    assert not ecx & (1 << 27), "OSXSAVE must follow L1's CR4 (clear at entry)"
    b.expect(r"^L1> l1test: cpuid\.40000000 max=0x40000000 sig=NestorNestor$")
    b.expect(r"^nestor:   L1->L0 CPUID\s+[1-9]\d*$")
    assert b.status() == 0x2A


def test_virtualized_msrs_offer_nested_vmx():
    b = run("msr")
    b.expect(r"^L1> l1test: rdmsr 0x3a = 0x5$")  # locked, VMX outside SMX on
    m = b.expect(r"^L1> l1test: rdmsr 0x480 = 0x([0-9a-f]+)$")
    basic = int(m.group(1), 16)
    assert basic & 0x7FFFFFFF == 0x4E53, "Nestor's own vmcs12 revision"
    assert (basic >> 32) & 0x1FFF == 4096 and (basic >> 50) & 0xF == 6 and basic & (1 << 55)
    b.expect(r"^L1> l1test: wrmsr 0x3a #GP$")
    assert b.status() == 0x2A


def test_virtualized_msrs_behave_like_a_cpu_without_vmx():
    b = run("msr", nested=0)
    b.expect(r"^L1> l1test: rdmsr 0x3a = 0x1$")  # locked, VMX off
    b.expect(r"^L1> l1test: rdmsr 0x480 #GP$")
    b.expect(r"^L1> l1test: wrmsr 0x3a #GP$")
    b.expect(r"^nestor:   L1->L0 RDMSR\s+[1-9]")
    assert b.status() == 0x2A


def test_l1_can_disable_and_reenable_its_xapic():
    b = run("apic")
    base = b.expect(r"^L1> l1test: apic_base=0x([0-9a-f]+)$")
    version = b.expect(r"^L1> l1test: apic version=0x([0-9a-f]+)$").group(1)
    assert int(base.group(1), 16) & 0xFFFFF000 == 0xFEE00000
    assert int(base.group(1), 16) & (1 << 11)
    assert version != "ffffffff"
    b.expect(r"^L1> l1test: apic disabled base=0x%x$" % (int(base.group(1), 16) & ~(1 << 11)))
    # The Bochs APIC would read all-ones here had the disable reached the hardware.
    b.expect(r"^L1> l1test: apic reenabled base=0x%s version=0x%s$" % (base.group(1), version))
    assert b.status() == 0x2A


def test_cr0_cr4_writes_take_l1_into_long_mode():
    b = run("cr", l1=L1_MB2)
    m = b.expect(r"^L1> l1test: cr0=0x([0-9a-f]+) cr4=0x([0-9a-f]+)$")
    assert int(m.group(1), 16) & 1 and not int(m.group(1), 16) & (1 << 31)
    assert not int(m.group(2), 16) & (1 << 13), "L1 must not see CR4.VMXE"
    m = b.expect(r"^L1> l1test: long mode ok cr0=0x([0-9a-f]+) cr4=0x([0-9a-f]+) efer=0x([0-9a-f]+)$")
    cr0, cr4, efer = (int(m.group(i), 16) for i in (1, 2, 3))
    assert cr0 & (1 << 31) and cr4 & (1 << 5) and not cr4 & (1 << 13)
    assert efer & (1 << 10) and efer & (1 << 8), "EFER.LMA and LME"
    assert b.status() == 0x2A


def test_xsetbv_is_emulated():
    b = run("xsetbv")
    b.expect(r"^L1> l1test: xcr0=0x3$")
    b.expect(r"^nestor:   L1->L0 XSETBV\s+1$")
    assert b.status() == 0x2A


def test_hlt_with_interrupts_enabled_waits_for_the_timer():
    b = run("timer")
    b.expect(r"^L1> l1test: timer ticks=5$")
    b.expect(r"^nestor:   L1->L0 HLT\s+[1-9]")
    assert b.status() == 0x2A


def test_hlt_with_interrupts_disabled_stops_l1():
    b = run("halt")
    b.expect(r"^L1> l1test: halting with interrupts off$")
    b.expect(r"^nestor: L1 stopped: L1 halted with interrupts disabled \(HLT with RFLAGS\.IF=0 at rip 0x[0-9a-f]+\)$")
    assert b.status() == 0xFE


def test_vmx_instructions_are_undefined_for_l1():
    b = run("vmx", nested=0)
    b.expect(r"^L1> l1test: vmxon #UD$")
    b.expect(r"^nestor:   L1->L0 VMXON\s+1$")
    assert b.status() == 0x2A


def test_loglevel_selects_what_nestor_prints():
    quiet = boot("loglevel-error", l1=L1_MB1, l1_args="test=hello", nestor_args="loglevel=error")
    quiet.expect_not(r"^nestor: L1 kernel: ")          # info lines are gone
    quiet.expect(r"^L1> l1test: hello from L1$")        # L1's console is not Nestor's log
    quiet.expect(r"^nestor: run ended, exit status 0x2a$")
    loud = boot("loglevel-debug", l1=L1_MB1, l1_args="test=hello", nestor_args="loglevel=debug")
    loud.expect(r"^nestor: debug: EPT01: low memory gpa 0x00000000-0x0009ffff identity rwx WB$")
    loud.expect(r"^nestor: L1 kernel: ")


def test_exception_in_nestor_prints_a_full_report():
    b = boot("selftest-fault", l1=L1_MB1, nestor_args="selftest=fault")
    b.expect(r"^nestor: error: CPU exception in Nestor: vector 14 \(#PF page fault\), error code 0x2$")
    b.expect(r"^nestor: error:   rip=ffffffff802[0-9a-f]{5} cs=0008 ")
    b.expect(r"^nestor: error:   cr0=[0-9a-f]{16} cr2=0000000000000010 ")
    b.expect(r"^nestor: error:   rax=[0-9a-f]{16} rbx=")
    b.expect(r"^nestor: error:   stack trace \(addr2line -e build/nestor ADDR\):$")
    b.expect(r"^nestor: PANIC: unhandled CPU exception 14 in Nestor$")
    b.expect_not(r"^L1> ")
    assert b.status() == 0xFF
