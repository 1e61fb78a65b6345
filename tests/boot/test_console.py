"""Console input and debug keys (issue 10, items 1, 2 and 4), through a pipe.

`nestor_run.py bochs --live` connects Bochs' COM1 (a loopback socket) to the runner's stdin and
stdout; the test writes to that stdin as a user types, and reads the transcript as it grows.
L1 is l1test's `test=echo` (tests/guests/l1test/tests_uart.c): it echoes every line its UART
receives, as "l1test: echo: LINE", reading only in its receive-interrupt handler."""
import os
import re
import subprocess
import sys

from conftest import ROOT
from live_console import LiveRun

STATUS_CONSOLE_QUIT = 0xF9
STATS_LINE = re.compile(r"^nestor: stats v1 cpu=0 tsc=\d+ level=l1( \d+=\d+)+$")


def test_console_input_and_debug_keys():
    # vmx=1: L1 also enters VMX operation with a current vmcs12 (GUEST_RIP 0x12345678), for Ctrl-A v.
    run = LiveRun("console-echo", "test=echo vmx=1", nestor_args="loglevel=info stats=1")
    try:
        # Typed before Nestor even started: held by the runner, then on the line while L1's receiver is closed.
        run.send(b"typed before L1 opened its receiver\n")
        run.wait_for(r"^L1> l1test: echo: \d+ bytes were in the FIFO; nothing more arrived while RTS was off")
        run.wait_for(r"^L1> l1test: echo: typed before L1 opened its receiver$")
        run.send(b"second line\n\x01\x01 after one Ctrl-A\n")
        run.wait_for(r"^L1> l1test: echo: second line$")
        run.wait_for(r"^L1> l1test: echo: \\x01 after one Ctrl-A$")

        run.send(b"\x01s")
        run.wait_for(r"^nestor: stats v1 cpu=0 tsc=\d+ level=l2l1$")
        run.send(b"\x01r")
        run.wait_for(r"^nestor: regs:   rip=[0-9a-f]{16} rsp=[0-9a-f]{16} rflags=[0-9a-f]{16}$")
        run.send(b"\x01e0x100000\r")
        run.wait_for(r"^nestor: ept: EPT01: L1 0x100000 -> host 0x[0-9a-f]+, level \d entry 0x[0-9a-f]{16}, rwx$")
        run.send(b"\x01v\x01l\x01z\x01h")
        run.wait_for(r"^nestor:   q  end the run now, with the report$")
        run.send(b"last line\n")
        run.wait_for(r"^L1> l1test: echo: last line$")
        run.send(b"\x01q")
        b = run.finish()
    finally:
        run.kill()

    # Keys act on Nestor's side only: L1 never sees them (nor the address typed after Ctrl-A e).
    assert [l for l in b.l1_lines() if l.startswith("l1test: echo: ") and "FIFO" not in l and "ready" not in l
            and "VMX" not in l] == [
        "l1test: echo: typed before L1 opened its receiver",
        "l1test: echo: second line",
        "l1test: echo: \\x01 after one Ctrl-A",
        "l1test: echo: last line",
    ], b
    # Ctrl-A s: the table per reason and level, and the machine-readable line.
    b.expect(r"^nestor: exit statistics: \d+ L1 exits handled by L0$")
    b.expect(r"^nestor:   L1->L0 I/O instruction\s+[1-9]\d*$")
    assert any(STATS_LINE.match(l) and " 30=" in l for l in b.lines), b  # 30: I/O instruction
    b.expect(r"^nestor: stats v1 cpu=0 tsc=\d+ level=l2l0$")
    # Ctrl-A r: L1's registers; it is in 32-bit protected mode with 4 MiB pages (CR3 = its page directory).
    b.expect(r"^L1> l1test: echo: in VMX operation, vmcs 0x[0-9a-f]+ current \(GUEST_RIP 0x12345678\)$")
    b.expect(r"^nestor: regs: L1 \(vmcs01\) on L1 CPU 0, after exit \d+ \(.+\)$")
    b.expect(r"^nestor: regs:   cs   sel=0008 base=0000000000000000 limit=ffffffff ar=0c09b$")
    b.expect(r"^nestor: regs:   cr0=0000000080000031 cr3=0000000000[0-9a-f]{3}000 cr4=0000000000002010 ")
    # Ctrl-A e: the prompt, the address echoed, EPT01's 4K leaf for l1test's first page, no EPT02.
    b.expect(r"^nestor: ept: guest-physical address \(hex, Enter\): 0x100000$")
    b.expect(r"^nestor: ept: no EPT02 \(L1 has not run an L2 with EPT\)$")
    # Ctrl-A v: L1's current vmcs12 with field names; no L2 has run, so no vmcs02.
    vmcs = b.expect(r"^nestor: vmcs: L1 CPU 0, vmcs12 at 0x([0-9a-f]+) \(clear\)$").group(1)
    b.expect(r"^L1> l1test: echo: in VMX operation, vmcs 0x%s current" % vmcs)
    b.expect(r"^nestor: vmcs:   field\s+enc\s+vmcs12\s+vmcs02 \(not built\)$")
    b.expect(r"^nestor: vmcs:   GUEST_RIP\s+00681e\s+12345678\s+-$")
    b.expect(r"^nestor: vmcs:   GUEST_RSP\s+00681c\s+cafe000\s+-$")
    b.expect(r"^nestor: vmcs:   VPID\s+000000\s+0\s+-$")
    # Ctrl-A l, an unknown key, Ctrl-A h.
    b.expect(r"^nestor: log level now debug$")
    b.expect(r"^nestor: console: Ctrl-A z is not a command \(Ctrl-A h lists them\)$")
    b.expect(r"^nestor: console keys: Ctrl-A then$")
    # Ctrl-A q: the run ends with the usual report and its own status.
    b.expect(r"^nestor: L1 stopped: Ctrl-A q typed on the console$")
    b.expect(r"^nestor: image checksum ok ")
    assert b.status() == STATUS_CONSOLE_QUIT

    # stats=1: the lines came every second too, with the TSC frequency; nestor_stat.py turns them into rates.
    b.expect(r"^nestor: stats=1: machine-readable exit statistics every 1 s \(TSC \d+ Hz, measured\)$")
    assert sum(1 for l in b.lines if STATS_LINE.match(l)) >= 3, b
    table = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "nestor_stat.py"), "--once",
                            os.path.join(run.workdir, "serial.txt")], stdout=subprocess.PIPE, text=True,
                           check=True).stdout
    rows = {tuple(l.split()[:-3]): l.split()[-3:] for l in table.splitlines()[1:]}
    assert rows[("L1->L0", "preemption", "timer")][0] == "0", table  # on CPU 0
    assert int(rows[("L1->L0", "preemption", "timer")][1]) > 0, table
    assert rows[("L1->L0", "preemption", "timer")][2] != "-", table  # a rate between the last two sets
