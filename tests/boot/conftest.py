"""Boot-test harness: build an ISO per scenario, boot it in Bochs or QEMU, return the transcript."""
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import nestor_run  # noqa: E402

# The Bochs CPU model of every Bochs boot that does not name one: corei7_skylake_x unless
# NESTOR_CPU_MODEL says otherwise (make test-models runs the nested tests on several models).
# Another model's ISOs and transcripts go to their own directory, so runs never mix.
DEFAULT_CPU = "corei7_skylake_x"
CPU_MODEL = os.environ.get("NESTOR_CPU_MODEL") or DEFAULT_CPU
BUILD = os.path.join(ROOT, "build", "boot-tests" if CPU_MODEL == DEFAULT_CPU else "boot-tests-" + CPU_MODEL)
L1_MB1 = os.path.join(ROOT, "build", "tests", "l1test-mb1.elf")
L1_MB2 = os.path.join(ROOT, "build", "tests", "l1test-mb2.elf")


def pytest_configure(config):
    config.addinivalue_line("markers", "reference: a long run on bare Bochs that checks a test guest, not Nestor "
                                       "(make test-reference; left out of make test)")
    config.addinivalue_line("markers", "long: a boot too long for make test (make test-long)")


class Boot:
    """One boot: its transcript, with helpers that fail with the transcript attached."""

    def __init__(self, name, result):
        self.name = name
        self.result = result
        self.text = result.serial
        self.lines = result.lines

    def __str__(self):
        return "--- %s transcript ---\n%s" % (self.name, self.text)

    def find(self, pattern):
        """First match of a regex anywhere in a line, or None."""
        rx = re.compile(pattern)
        for line in self.lines:
            m = rx.search(line)
            if m:
                return m
        return None

    def expect(self, pattern):
        m = self.find(pattern)
        assert m, "no line matches %r\n%s" % (pattern, self)
        return m

    def expect_not(self, pattern):
        m = self.find(pattern)
        assert not m, "unexpected line matching %r: %r\n%s" % (pattern, m.string, self)

    def l1_lines(self):
        return [l[len("L1> "):] for l in self.lines if l.startswith("L1> ")]

    def status(self):
        m = self.expect(r"^nestor: (?:cpu\d+: )?run ended, exit status 0x([0-9a-f]+)$")
        return int(m.group(1), 16)


def boot(name, l1=L1_MB2, l1_args="", modules=(), nestor_args="loglevel=info", engine="bochs",
         cpu=None, timeout=180, megs=256, cpus=1):
    cpu = cpu or CPU_MODEL
    os.makedirs(BUILD, exist_ok=True)
    iso = os.path.join(BUILD, name + ".iso")
    nestor_run.build_iso(iso, l1=l1, l1_args=l1_args, modules=modules, nestor_args=nestor_args)
    workdir = os.path.join(BUILD, name)
    if engine == "bochs":
        r = nestor_run.run_bochs(iso, workdir, cpu=cpu, timeout=timeout, megs=megs, cpus=cpus)
    else:
        r = nestor_run.run_qemu(iso, workdir, timeout=timeout, cpus=cpus)
    b = Boot(name, r)
    assert not r.timed_out, "%s did not end within %d s\n%s" % (engine, timeout, b)
    return b


@pytest.fixture
def tmp_file(tmp_path):
    def make(name, data):
        p = tmp_path / name
        p.write_bytes(data)
        return str(p)
    return make


GHV = os.path.join(ROOT, "build", "tests", "ghv.elf")


def boot_bare(name, kernel, args="", cpu=None, timeout=180):
    """Boots a kernel directly on Bochs (no Nestor): the hardware reference for nested VMX."""
    cpu = cpu or CPU_MODEL
    os.makedirs(BUILD, exist_ok=True)
    iso = os.path.join(BUILD, name + ".iso")
    nestor_run.build_iso(iso, nestor=kernel, nestor_args=args)
    r = nestor_run.run_bochs(iso, os.path.join(BUILD, name), cpu=cpu, timeout=timeout)
    b = Boot(name, r)
    assert not r.timed_out, "bochs did not end within %d s\n%s" % (timeout, b)
    return b
