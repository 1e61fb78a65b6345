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

from conftest import BUILD, L1_MB1, L1_MB2, Boot, nestor_run

GDB = shutil.which("gdb")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_session(name, gdb_commands, l1_args="test=gdb", timeout=120):
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


class Rsp:
    """A bare remote-protocol client: what gdb sends, and what a hostile peer on COM2 could."""

    def __init__(self, port, deadline=60):
        for _ in range(int(deadline / 0.2)):
            try:
                self.s = socket.create_connection(("127.0.0.1", port), timeout=deadline)
                break
            except ConnectionRefusedError:
                threading.Event().wait(0.2)
        else:
            raise AssertionError("nothing listens on port %d" % port)
        self.buf = b""

    def raw(self, data):
        self.s.sendall(data)

    def byte(self):
        if not self.buf:
            chunk = self.s.recv(4096)
            assert chunk, "COM2 closed"
            self.buf = chunk
        c, self.buf = self.buf[:1], self.buf[1:]
        return c

    def expect_byte(self, want):
        c = self.byte()
        assert c == want, "expected %r, got %r (then %r)" % (want, c, self.buf[:80])

    def packet(self):
        """The next packet, its checksum checked and acknowledged."""
        while self.byte() != b"$":
            pass
        data = b""
        while True:
            c = self.byte()
            if c == b"#":
                break
            data += c
        csum = int(self.byte() + self.byte(), 16)
        assert csum == sum(data) % 256, "bad checksum on %r" % data
        self.raw(b"+")
        return data.decode("latin-1")

    @staticmethod
    def frame(payload):
        p = payload.encode("latin-1") if isinstance(payload, str) else payload
        return b"$" + p + b"#%02x" % (sum(p) % 256)

    def packet_noack(self, payload):
        """After QStartNoAckMode: no '+' either way."""
        self.raw(self.frame(payload))
        while self.byte() != b"$":
            pass
        data = b""
        while True:
            c = self.byte()
            if c == b"#":
                break
            data += c
        self.byte(), self.byte()
        return data.decode("latin-1")

    def cmd(self, payload, reply=True):
        self.raw(self.frame(payload))
        self.expect_byte(b"+")
        return self.packet() if reply else None


def symbol(elf, name):
    out = subprocess.run(["nm", elf], stdout=subprocess.PIPE, text=True, check=True).stdout
    m = re.search(r"^([0-9a-f]+) \w %s$" % re.escape(name), out, re.M)
    assert m, "no symbol %s in %s" % (name, elf)
    return int(m.group(1), 16)


def boot_with_client(name, l1, l1_args, session, timeout=120, modules=()):
    """Boots l1 under gdb=com2 and runs session(rsp, serial_path) against it; returns the Boot."""
    os.makedirs(BUILD, exist_ok=True)
    iso = os.path.join(BUILD, name + ".iso")
    nestor_run.build_iso(iso, l1=l1, l1_args=l1_args, modules=modules, nestor_args="loglevel=info gdb=com2")
    port = free_port()
    workdir = os.path.join(BUILD, name)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault(
        "r", nestor_run.run_bochs(iso, workdir, timeout=timeout, com2_port=port)))
    t.start()
    try:
        rsp = Rsp(port)
        session(rsp, os.path.join(workdir, "serial.txt"))
        rsp.s.close()
    finally:
        t.join(timeout)  # after a failed session Nestor still waits on COM2: Bochs' timeout ends it
    b = Boot(name, result["r"])
    assert not b.result.timed_out, "bochs did not end within %d s\n%s" % (timeout, b)
    return b


def wait_for_line(path, text, timeout=60):
    for _ in range(int(timeout / 0.2)):
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return
        threading.Event().wait(0.2)
    raise AssertionError("no %r in %s" % (text, path))


def test_gdb_hostile_input_then_ctrl_c_stops_a_spinning_l1():
    release = symbol(L1_MB1, "gdb_release")
    seen = {}

    def session(rsp, serial):
        # Hostile bytes before any debugger: noise, a bad checksum, an oversized packet, a broken one.
        rsp.raw(b"\x00\xff noise \r\n+-")
        rsp.raw(b"$g#00")
        rsp.expect_byte(b"-")
        rsp.raw(rsp.frame(b"A" * 6000))
        rsp.expect_byte(b"+")
        assert rsp.packet() == "E01"
        assert rsp.cmd("m1000,zz") == "E01"
        assert rsp.cmd("m11111111111111111,4") == "E01"
        assert rsp.cmd("Mffffffff,4:00000000") == "E0e"  # no L1 RAM there
        assert rsp.cmd("P1=00") == "E01"
        assert rsp.cmd("Z0,ffff0000,1") == "E0e"
        # Now a debugger's conversation.
        assert "PacketSize=1000" in rsp.cmd("qSupported:swbreak+")
        xml = rsp.cmd("qXfer:features:read:target.xml:0,7ff")
        assert xml.startswith(("m", "l")) and "<architecture>i386</architecture>" in xml
        assert rsp.cmd("?") == "T05"
        g = rsp.cmd("g")
        assert g[64:72] == "0c001000", g  # eip (register 8) at the Multiboot entry 0x10000c
        rsp.cmd("c", reply=False)
        wait_for_line(serial, "gdb spinning until the debugger sets gdb_release")
        threading.Event().wait(1.0)  # it spins: no exit but the preemption timer's
        rsp.raw(b"\x03")
        seen["stop"] = rsp.packet()
        assert rsp.cmd("m%x,4" % release) == "00000000"
        assert rsp.cmd("M%x,4:01000000" % release) == "OK"
        rsp.cmd("c", reply=False)
        seen["end"] = rsp.packet()

    b = boot_with_client("gdb-ctrlc", L1_MB1, "test=gdb gdb_wait=1", session)
    assert seen.get("stop") == "T02", "Ctrl-C did not stop L1: %r\n%s" % (seen, b)
    assert seen.get("end") == "W2a", "the debugger was not told L1's exit status: %r\n%s" % (seen, b)
    b.expect(r"^nestor: gdb: L1 stopped \(Ctrl-C from the debugger\) at rip 0x")
    assert "l1test: gdb released" in b.l1_lines(), str(b)
    assert b.status() == 0x2a


def test_gdb_reports_an_l1_fault_and_l1s_own_int3_is_reflected():
    seen = {}

    def session(rsp, serial):
        rsp.cmd("qSupported")
        rsp.cmd("c", reply=False)
        seen["fault"] = rsp.packet()  # l1test's int3 with a zero-limit IDT: triple fault
        seen["eip"] = rsp.cmd("p8")
        rsp.cmd("c", reply=False)
        seen["end"] = rsp.packet()

    b = boot_with_client("gdb-fault", L1_MB1, "test=triple", session)
    assert seen.get("fault") == "T0b", "%r\n%s" % (seen, b)
    assert re.fullmatch(r"[0-9a-f]{8}", seen.get("eip", "")), seen
    assert seen.get("end") == "X0b", seen
    b.expect(r"^nestor: L1 stopped: .*triple fault")
    b.expect(r"^nestor: gdb: L1 stopped \(L1 fault: the run ends when the debugger resumes\)")
    assert b.status() == 0xfe


def test_gdb_x86_64_description_for_an_elf64_l1_and_detach():
    seen = {}

    def session(rsp, serial):
        rsp.cmd("qSupported")
        rsp.cmd("QStartNoAckMode")
        rsp.ack = False
        xml = ""
        while True:  # in pieces, as gdb reads it
            r = rsp.packet_noack("qXfer:features:read:target.xml:%x,100" % len(xml))
            xml += r[1:]
            if r[0] == "l":
                break
        seen["xml"] = xml
        seen["rip"] = rsp.packet_noack("p10")
        seen["detach"] = rsp.packet_noack("D")

    b = boot_with_client("gdb-x86-64", L1_MB2, "test=hello", session)
    assert "<architecture>i386:x86-64</architecture>" in seen["xml"], seen
    assert '<reg name="rip" bitsize="64" type="code_ptr"/>' in seen["xml"]
    entry = int(b.expect(r"L1 kernel: Multiboot2? ELF64.*entry (0x[0-9a-f]+)").group(1), 16)
    assert seen["rip"] == entry.to_bytes(8, "little").hex(), seen
    assert seen["detach"] == "OK"
    b.expect(r"^nestor: gdb: debugger detached; L1 runs on")
    assert "l1test: hello from L1" in b.l1_lines()
    assert b.status() == 0x2a


def test_gdb_ctrl_c_while_l2_runs_shows_l1_and_says_so():
    from conftest import GHV
    seen = {}

    def session(rsp, serial):
        rsp.cmd("qSupported")
        rsp.cmd("c", reply=False)
        # ghv (L1) runs l1test as its L2, which spins without exits: only Nestor's preemption timer in vmcs02.
        wait_for_line(serial, "gdb spinning until the debugger sets gdb_release", timeout=120)
        threading.Event().wait(1.0)
        rsp.raw(b"\x03")
        seen["note"] = rsp.packet()
        seen["stop"] = rsp.packet()
        seen["rip"] = rsp.cmd("p10")
        seen["code"] = rsp.cmd("m%x,4" % int.from_bytes(bytes.fromhex(seen["rip"]), "little"))
        seen["write"] = rsp.cmd("P0=efbeadde00000000")
        rsp.cmd("k", reply=False)

    b = boot_with_client("gdb-l2", GHV, "test=runl2 l2mem=32", session,
                         modules=[L1_MB2 + ":test=gdb gdb_wait=1"])
    note = seen.get("note", "")
    assert note.startswith("O") and b"L2 is running" in bytes.fromhex(note[1:]), "%r\n%s" % (seen, b)
    assert seen["stop"] == "T02"
    rip = int.from_bytes(bytes.fromhex(seen["rip"]), "little")
    assert 0x100000 <= rip < 0x400000, "L1's resume RIP should be in ghv's image: %#x" % rip
    assert re.fullmatch(r"[0-9a-f]{8}", seen["code"]), seen
    assert seen["write"] == "E16", "registers must be read-only while L2 runs: %r" % seen
    b.expect(r"^nestor: gdb: L1 stopped \(Ctrl-C from the debugger\) at rip 0x[0-9a-f]+ while L2 runs")
    b.expect(r"^nestor: L1 stopped: killed by the debugger")
    b.expect(r"register write refused: L2 is running")
