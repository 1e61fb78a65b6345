"""Nestor's GDB stub for L1 on COM2 (issue 10 item 3), driven by Debian's gdb in batch mode.

Bochs' COM2 is a TCP server on 127.0.0.1 (Bochs waits for the client before it starts the machine);
gdb connects, Nestor stops L1 before its first instruction, and the session below runs against
l1test's `gdb` mode (tests/guests/l1test/tests_gdb.c, an ELF32 kernel with symbols: the stub offers
the i386 target description).
"""
import os
import re
import shutil
import socket
import subprocess
import threading

import pytest

from conftest import BUILD, L1_MB1, Boot, nestor_run

GDB = shutil.which("gdb")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_session(name, gdb_commands, l1_args="test=gdb", timeout=240):
    """Boots l1test under Nestor with gdb=com2 and runs gdb's commands against it. Returns (Boot, gdb output)."""
    os.makedirs(BUILD, exist_ok=True)
    iso = os.path.join(BUILD, name + ".iso")
    nestor_run.build_iso(iso, l1=L1_MB1, l1_args=l1_args, nestor_args="loglevel=info gdb=com2")
    port = free_port()
    result = {}

    def bochs():
        result["r"] = nestor_run.run_bochs(iso, os.path.join(BUILD, name), timeout=timeout, com2_port=port)

    t = threading.Thread(target=bochs)
    t.start()
    cmd = [GDB, "-nx", "-q", "-batch", "-ex", "set pagination off", "-ex", "set confirm off",
           "-ex", "set remotetimeout 60", "-ex", "file " + L1_MB1]
    # Bochs opens its port a moment after it starts: retry the connection until it listens.
    cmd += ["-ex", "target remote 127.0.0.1:%d" % port]
    for c in gdb_commands:
        cmd += ["-ex", c]
    out = ""
    for attempt in range(30):
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        out = p.stdout
        if "Connection refused" not in out:
            break
        threading.Event().wait(0.5)
    t.join(timeout)
    assert "r" in result, "bochs did not end\n" + out
    b = Boot(name, result["r"])
    assert not b.result.timed_out, "bochs did not end within %d s\n--- gdb ---\n%s\n%s" % (timeout, out, b)
    return b, out


@pytest.mark.skipif(GDB is None, reason="gdb is not installed (tools/deps.sh installs it)")
def test_gdb_break_read_step_set_register_continue():
    b, out = run_session("gdb-session", [
        "break gdb_work",
        "break *gdb_report",
        "continue",
        "print/x gdb_counter",
        # The same variable through L1's page tables: only the alias at 0x40000000 maps it there.
        "print/x *(unsigned int *)(0x40000000 + (unsigned int)&gdb_counter)",
        "set var gdb_counter = 0x2000",
        "print/x $pc",
        "stepi",
        "print/x $pc",
        "continue",
        "print/x $eax",
        "set $eax = 0x77",
        "print/x $cr0",
        "continue",
    ])
    ctx = "--- gdb ---\n%s\n%s" % (out, b)
    assert re.search(r"^0x0010000c in _start \(\)$", out, re.M), "gdb did not see L1 stopped at its entry\n" + ctx
    assert re.search(r"Breakpoint 1, (0x[0-9a-f]+ in )?gdb_work \(", out), ctx
    # Variable, and the same word through the alias mapping.
    assert re.search(r"^\$1 = 0x1000$", out, re.M), ctx
    assert re.search(r"^\$2 = 0x1000$", out, re.M), ctx
    pcs = re.findall(r"^\$[34] = (0x[0-9a-f]+)$", out, re.M)
    assert len(pcs) == 2 and int(pcs[1], 16) > int(pcs[0], 16), "stepi did not move the PC\n" + ctx
    assert re.search(r"Breakpoint 2, (0x[0-9a-f]+ in )?gdb_report \(", out), ctx
    # gdb_work returned (0x2000 + 0x234) * 3: the memory write reached L1 before the call.
    assert re.search(r"^\$5 = 0x669c$", out, re.M), ctx
    assert re.search(r"^\$6 = 0x80000011$", out, re.M), "CR0 should show PG, ET and PE as L1 set them\n" + ctx
    assert re.search(r"\[Inferior 1 \(Remote target\) exited with code 052\]", out), ctx
    # L1's own transcript shows the register and the memory the debugger changed.
    b.expect(r"^nestor: gdb: stub on COM2 \(port 0x2f8, i386 registers\)")
    b.expect(r"^nestor: gdb: L1 stopped \(breakpoint\) at rip 0x")
    b.expect(r"^nestor: gdb: L1 stopped \(single step\) at rip 0x")
    assert "l1test: gdb report value=0x77 counter=0x2234" in b.l1_lines(), ctx
    assert "l1test: gdb done counter=0x2234" in b.l1_lines(), ctx
    assert b.status() == 0x2a, ctx
