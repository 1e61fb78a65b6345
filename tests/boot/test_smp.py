"""SMP: every CPU under Nestor (issue 8), on Bochs with `cpu: count=2`.

Each scenario runs twice: on bare Bochs (no Nestor: the reference, which must pass today)
and under Nestor (which needs Nestor's SMP support: one L1 vCPU per physical CPU, L1's APs
in wait-for-SIPI, `cpus=N` hiding CPUs from L1's MADT/MP table).

- l1test test=smp_hostile: L1 sends INIT-SIPI-SIPI to an AP whose trampoline (all in low
  memory, so a CPU running it natively really executes it) reports CPUID's hypervisor view
  and scribbles 2-4 MiB (Nestor's image in host memory). Under Nestor it must run as an L1
  vCPU ("NestorNestor"), its writes must land in L1's RAM, Nestor's image checksum must hold;
  with cpus=1 the hidden CPU must never run it.
- ghv test=smp: ghv starts its AP, VMXON on both CPUs, an L2 on each CPU in lock step, then
  both L2 vCPUs change CPUs (VMCLEAR on one, VMPTRLD + VMLAUNCH on the other) and go on.
- Linux with 2 CPUs: both online, kvmtest --smp runs a 2-vCPU KVM guest (one thread per
  vCPU, each pinned to its own L1 CPU, then swapped), kvm_intel.ept=1 and ept=0.
"""
import os
import re
import subprocess
import sys
import time

import pytest
from conftest import BUILD, GHV, L1_MB2, ROOT, Boot, boot

sys.path.insert(0, os.path.join(ROOT, "tools"))
import linux_kit  # noqa: E402
import nestor_run  # noqa: E402

CPUS = 2
LINUX_CMDLINE = "console=ttyS0,115200 panic=-1 quiet mitigations=off nokaslr cryptomgr.notests=1 idle=halt"


def run_bochs_until(iso, workdir, cpus, stop, timeout, ignore_bad_msrs=False):
    """Bochs with no Nestor: stops it once a serial line matches `stop` (l1test's exit port
    does not end a bare Bochs run) or the guest ends the run itself."""
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    serial = os.path.join(workdir, "serial.txt")
    if os.path.exists(serial):
        os.unlink(serial)
    rc = nestor_run.BOCHSRC
    if ignore_bad_msrs:  # Linux on plain Bochs reads MSRs Bochs lacks (platform.md)
        rc = rc.replace("ignore_bad_msrs=0", "ignore_bad_msrs=1")
    rc_path = os.path.join(workdir, "bochsrc")
    with open(rc_path, "w") as f:
        f.write(rc.format(megs=512 if ignore_bad_msrs else 256, cpu="corei7_skylake_x", cpus=cpus,
                          iso=os.path.abspath(iso), serial=serial, log=os.path.join(workdir, "bochs.log")))
    with open(os.path.join(workdir, "ci.rc"), "w") as f:
        f.write("c\nquit\n")
    out = open(os.path.join(workdir, "bochs.out"), "wb")
    proc = subprocess.Popen(["bochs", "-q", "-f", rc_path, "-rc", "ci.rc"], stdin=subprocess.DEVNULL,
                            stdout=out, stderr=subprocess.STDOUT, cwd=workdir, env=dict(os.environ, TERM="dumb"),
                            start_new_session=True)
    rx, deadline, timed_out, text = re.compile(stop, re.M), time.time() + timeout, False, ""
    try:
        while proc.poll() is None:
            text = open(serial, "rb").read().decode("utf-8", "replace") if os.path.exists(serial) else ""
            if rx.search(text.replace("\r", "")):
                time.sleep(0.5)  # the rest of the line and anything right after it
                break
            if time.time() > deadline:
                timed_out = True
                break
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        proc.wait()
        out.close()
    text = open(serial, "rb").read().decode("utf-8", "replace") if os.path.exists(serial) else ""
    name = os.path.basename(workdir)
    b = Boot(name, nestor_run.RunResult(proc.returncode, text, timed_out))
    assert not timed_out, "bare bochs did not reach %r within %d s\n%s" % (stop, timeout, b)
    return b


def boot_bare(name, kernel, args, cpus=CPUS, stop=r"^(l1test|ghv): done status=", timeout=300):
    iso = os.path.join(BUILD, name + ".iso")
    os.makedirs(BUILD, exist_ok=True)
    nestor_run.build_iso(iso, nestor=kernel, nestor_args=args)
    return run_bochs_until(iso, os.path.join(BUILD, name), cpus, stop, timeout)


# ---------------------------------------------------------------- hostile L1: INIT/SIPI to an AP

def test_hostile_ap_bare_bochs_reference():
    """Reference: on the bare machine the AP starts, sees no hypervisor, and a second
    INIT-SIPI-SIPI round restarts it."""
    b = boot_bare("smp-hostile-bare", L1_MB2, "test=smp_hostile smp_rounds=2")
    b.expect(r"^l1test: smp cpus=2$")
    b.expect(r"^l1test: smp table=madt bsp_apic=0x0 target=0x1$")
    b.expect(r"^l1test: smp bsp hypervisor=none$")
    b.expect(r"^l1test: smp ap_started=1 hypervisor=none$")
    b.expect(r"^l1test: smp ap done=1 pattern_seen=1$")
    b.expect(r"^l1test: smp round2 ap_started=1 hypervisor=none$")
    b.expect(r"^l1test: smp round2 ap done=1 pattern_seen=1$")
    b.expect(r"^l1test: done status=0x2a$")


def test_hostile_ap_bare_bochs_one_cpu():
    """The timeout path: with one CPU nobody answers the broadcast."""
    b = boot_bare("smp-hostile-bare-1cpu", L1_MB2, "test=smp_hostile", cpus=1)
    b.expect(r"^l1test: smp cpus=1$")
    b.expect(r"^l1test: smp table=madt bsp_apic=0x0 target=all-but-self$")
    b.expect(r"^l1test: smp ap_started=0$")
    b.expect(r"^l1test: smp ap stage=0$")


def test_hostile_ap_runs_as_an_l1_vcpu_under_nestor():
    """NESTOR SMP: the AP L1 starts is an L1 vCPU in VMX non-root (CPUID says NestorNestor),
    its writes to 2-4 MiB land in L1's RAM (the BSP sees them), Nestor's image is intact,
    and a second INIT-SIPI-SIPI round works as on hardware."""
    b = boot("smp-hostile-nested", l1=L1_MB2, l1_args="test=smp_hostile smp_rounds=2", cpus=CPUS)
    b.expect(r"^L1> l1test: smp cpus=2$")
    b.expect(r"^L1> l1test: smp bsp hypervisor=NestorNestor$")
    b.expect(r"^L1> l1test: smp ap_started=1 hypervisor=NestorNestor$")
    b.expect(r"^L1> l1test: smp ap done=1 pattern_seen=1$")
    b.expect(r"^L1> l1test: smp round2 ap_started=1 hypervisor=NestorNestor$")
    b.expect(r"^L1> l1test: smp round2 ap done=1 pattern_seen=1$")
    b.expect(r"^L1> l1test: done status=0x2a$")
    b.expect(r"^nestor: (?:cpu\d+: )?image checksum ok")
    assert b.status() == 0x2A


@pytest.mark.parametrize("target", ["all-but-self", "0x1"])
def test_hidden_cpu_never_runs_l1_code(target):
    """NESTOR SMP: with cpus=1 on a 2-CPU machine L1's table lists one CPU, and neither an
    INIT-SIPI-SIPI to all-but-self nor one sent straight to the hidden CPU's APIC ID wakes
    anything: the hidden CPU stays Nestor's."""
    args = "test=smp_hostile" + ("" if target == "all-but-self" else " target=" + target)
    b = boot("smp-hostile-nested-cpus1-" + target, l1=L1_MB2, l1_args=args, cpus=CPUS,
             nestor_args="loglevel=info cpus=1")
    b.expect(r"^L1> l1test: smp cpus=1$")
    b.expect(r"^L1> l1test: smp table=(madt|mp) bsp_apic=0x[0-9a-f]+ target=%s$" % target)
    b.expect(r"^L1> l1test: smp ap_started=0$")
    b.expect(r"^L1> l1test: smp ap stage=0$")
    b.expect(r"^nestor: (?:cpu\d+: )?image checksum ok")
    assert b.status() == 0x2A


def test_four_cpus_three_for_l1():
    """NESTOR SMP on a 4-CPU machine: Nestor starts all four, gives L1 three (cpus=3), parks the
    fourth in VMX root and marks it disabled in the MADT L1 reads; L1 starts its first AP, which
    runs under Nestor; the run ends once, from one CPU, with every CPU's statistics."""
    b = boot("smp-hostile-4cpus-cpus3", l1=L1_MB2, l1_args="test=smp_hostile", cpus=4,
             nestor_args="loglevel=info cpus=3")
    b.expect(r"^nestor: CPUs: 4 enabled in the ACPI MADT \(APIC IDs 0 1 2 3\)")
    for cpu in (1, 2, 3):
        b.expect(r"^nestor: cpu0: CPU %d \(APIC ID %d\) started: long mode, own stack, GDT, TSS$" % (cpu, cpu))
    b.expect(r"^nestor: cpu0: CPU 3 \(APIC ID 3\) held by Nestor \(cpus=3\): parked in VMX root, hidden from L1$")
    b.expect(r"^nestor: cpu0: ACPI MADT: 1 CPU\(s\) marked disabled for L1$")
    b.expect(r"^nestor: cpu0: L1 gets 3 CPU\(s\)$")
    b.expect(r"^L1> l1test: smp cpus=3$")
    b.expect(r"^L1> l1test: smp ap_started=1 hypervisor=NestorNestor$")
    b.expect(r"^L1> l1test: smp ap done=1 pattern_seen=1$")
    for l1cpu in (0, 1, 2):
        b.expect(r"^nestor: cpu\d: L1 CPU %d \(physical CPU %d\):$" % (l1cpu, l1cpu))
    b.expect_not(r"L1 CPU 3 ")
    b.expect(r"^nestor: cpu\d: exit statistics, all 3 CPUs of L1: \d+ L1 exits handled by L0$")
    b.expect(r"^nestor: cpu\d: image checksum ok")
    assert b.status() == 0x2A


# ---------------------------------------------------------------- ghv: a guest hypervisor on both CPUs

GHV_SMP_LINES = [
    "smp cpus=2",
    "smp ap started=1 vmxon=1",
    "smp ap vmx basic same=1 feature_control=0x5",
    "smp both cpus in vmx operation",
    "smp concurrent cpu0 vcpu0 exits=16 ok=1, cpu1 vcpu1 exits=16 ok=1",
    "smp run vcpu=0 cpu0->cpu0 exits=16 stack=16 counter=16 r12=16 bad=0",
    "smp run vcpu=1 cpu1->cpu1 exits=16 stack=16 counter=16 r12=16 bad=0",
    "smp migrated cpu0 vcpu1 ok=1, cpu1 vcpu0 ok=1",
    "smp migrate vcpu=0 cpu0->cpu1 exits=32 stack=32 counter=32 r12=32 bad=0",
    "smp migrate vcpu=1 cpu1->cpu0 exits=32 stack=32 counter=32 r12=32 bad=0",
    "smp ap vmxoff=1 stage=off",
    "smp vmxoff ok",
    "smp ok",
    "done status=0x0",
]


def ghv_smp_transcript(b, prefix):
    return [l[len(prefix):] for l in b.lines if l.startswith(prefix + "smp ") or l.startswith(prefix + "done ")]


def test_ghv_smp_bare_bochs_reference():
    """Reference: two L2s at once, lock-stepped, then swapped between the CPUs (VMCLEAR on
    one, VMPTRLD + VMLAUNCH on the other), each going on with its registers, stack and RIP."""
    b = boot_bare("ghv-smp-bare", GHV, "test=smp", timeout=200)
    assert ghv_smp_transcript(b, "ghv: ") == GHV_SMP_LINES


def test_ghv_smp_under_nestor_matches_the_hardware():
    """NESTOR SMP: the same transcript as bare Bochs. Needs L1's AP started through INIT/SIPI
    exits, nested VMX state per vCPU, and vmcs12 found by address after VMCLEAR on one CPU and
    VMPTRLD on the other."""
    b = boot("ghv-smp-nested", l1=GHV, l1_args="test=smp", cpus=CPUS)
    assert ghv_smp_transcript(b, "L1> ghv: ") == GHV_SMP_LINES, str(b)
    b.expect(r"^nestor: (?:cpu\d+: )?image checksum ok")
    assert b.status() == 0


# ---------------------------------------------------------------- Linux with 2 CPUs, a 2-vCPU KVM guest

@pytest.fixture(scope="module")
def kit():
    return linux_kit.build(os.path.join(BUILD, "linux"))


def linux_iso(name, kit, cmdline):
    """GRUB's own `linux`/`initrd` (no Nestor): bare Bochs boots the kernel directly. Only modules every
    GRUB platform has (tools/mkiso.sh says why): with grub-efi installed too, biosdisk failed the build."""
    vmlinuz, initrd = kit
    iso = os.path.join(BUILD, name + ".iso")
    d = os.path.join(BUILD, name + ".isodir")
    os.makedirs(os.path.join(d, "boot", "grub"), exist_ok=True)
    for src, dst in ((vmlinuz, "vmlinuz"), (initrd, "initrd")):
        with open(src, "rb") as f, open(os.path.join(d, "boot", dst), "wb") as g:
            g.write(f.read())
    with open(os.path.join(d, "boot", "grub", "grub.cfg"), "w") as f:
        f.write('set timeout=0\nset default=0\nmenuentry "Linux" {\n    linux /boot/vmlinuz %s\n'
                '    initrd /boot/initrd\n    boot\n}\n' % cmdline)
    subprocess.run(["grub-mkrescue", "-o", iso, "--locales=", "--fonts=", "--themes=",
                    "--install-modules=normal linux iso9660 boot", d],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return iso


def expect_two_vcpus(b, pre):
    """kvmtest --smp's lines (pre: the transcript's prefix for kvmtest's stdout lines)."""
    b.expect(r"init: cpus online=0-1$")
    b.expect(r"kvmtest: smp cpus online=2$")
    for i in (0, 1):
        b.expect(r"kvmtest: smp vcpu%d up cpu=%d$" % (i, i))
        b.expect(r"kvmtest: smp vcpu%d phase0 increments=200 cpu=%d$" % (i, i))
        b.expect(r"kvmtest: smp vcpu%d moved to cpu=%d$" % (i, 1 - i))
        b.expect(r"kvmtest: smp vcpu%d phase1 increments=200 cpu=%d$" % (i, 1 - i))
        b.expect(r"kvmtest: smp vcpu%d done counter=\d+ exits=\d+$" % i)
        b.expect(r"kvmtest: smp vcpu%d hlt$" % i)
    b.expect(r"kvmtest: smp counter=800$")
    b.expect(r"kvmtest: smp ok$")
    b.expect(r"^%skvmtest: all ok$" % pre)


@pytest.mark.reference
@pytest.mark.parametrize("ept", [1, 0])
def test_linux_2cpus_kvm_2vcpus_bare_bochs_reference(kit, ept):
    """Reference: Linux directly on Bochs with 2 CPUs runs kvmtest --smp."""
    cmdline = "%s kvm_intel.ept=%d kvmtest=--smp" % (LINUX_CMDLINE, ept)
    iso = linux_iso("smp-linux-bare-ept%d" % ept, kit, cmdline)
    b = run_bochs_until(iso, os.path.join(BUILD, "smp-linux-bare-ept%d" % ept), CPUS,
                        r"init: kvmtest returned|reboot: Power down", timeout=900, ignore_bad_msrs=True)
    b.expect(r"init: kvm_intel ept=%s nested=Y$" % ("Y" if ept else "N"))
    expect_two_vcpus(b, "")


@pytest.mark.parametrize("ept", [1, 0])
def test_linux_2cpus_kvm_2vcpus_under_nestor(kit, ept):
    """NESTOR SMP: Linux as L1 brings up both CPUs (L1's AP through INIT/SIPI exits), and KVM
    runs a 2-vCPU guest, each vCPU thread pinned to one L1 CPU and then moved to the other."""
    vmlinuz, initrd = kit
    b = boot("smp-linux-nested-ept%d" % ept, l1=vmlinuz, modules=[initrd + ":initrd"], cpus=CPUS,
             l1_args="%s kvm_intel.ept=%d kvmtest=--smp" % (LINUX_CMDLINE, ept),
             nestor_args="loglevel=info", timeout=900, megs=512)
    b.expect(r"init: kvm_intel ept=%s nested=Y$" % ("Y" if ept else "N"))
    expect_two_vcpus(b, "L1> ")
    b.expect(r"^nestor: (?:cpu\d+: )?nested: \d+ entries to L2")
    b.expect(r"^nestor: (?:cpu\d+: )?image checksum ok")
    assert b.status() == 0
