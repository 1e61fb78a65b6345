#!/usr/bin/env python3
"""Build ISOs and boot them in Bochs (VMX) or QEMU (no VMX), capturing the serial console.

Used by `make run`, `make run-qemu` and the boot tests (tests/boot/).
  nestor_run.py bochs --iso build/nestor.iso [--live] [--cpu MODEL] [--timeout S] [--com2-port PORT]
--live (Bochs) connects the terminal to the guest's COM1 both ways: Bochs' COM1 is a TCP socket
on 127.0.0.1 (a free port, nothing listens elsewhere), the serial output goes to stdout (and to
serial.txt) and stdin is forwarded to it, from a terminal (raw mode: every key, Ctrl-C included,
goes to the guest; Ctrl-] leaves) or from a pipe (sent as it comes; at its end the run goes on).
Input is held until Nestor's first line, so the firmware and GRUB never read it.
--com2-port gives Bochs a COM2 that is a TCP server on 127.0.0.1:PORT (Nestor's gdb=com2 stub); Bochs waits
for a client (the debugger) to connect before it starts the machine.
  nestor_run.py qemu --iso build/nestor.iso [--kvm] [--uefi] [--cpus N] [--timeout S]
--uefi boots QEMU with OVMF (Debian's ovmf package) instead of SeaBIOS: the ISO through UEFI GRUB.
"""
import argparse
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BOCHSRC = """\
megs: {megs}
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
cpu: model={cpu}, count={cpus}, ips=50000000, reset_on_triple_fault=0, ignore_bad_msrs=0
pci: enabled=1, chipset=i440fx
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
display_library: term
com1: enabled=1, mode=file, dev={serial}
port_e9_hack: enabled=1
clock: sync=none, time0=946684800
log: {log}
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
mouse: enabled=0
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
"""


class RunResult:
    def __init__(self, returncode, serial, timed_out, engine_output=""):
        self.returncode = returncode
        self.serial = serial.replace("\r", "")
        self.timed_out = timed_out
        self.engine_output = engine_output

    @property
    def lines(self):
        return self.serial.splitlines()

    def __repr__(self):
        return "RunResult(rc=%r, timed_out=%r)" % (self.returncode, self.timed_out)


def build_iso(out, l1=None, l1_args="", modules=(), nestor_args="loglevel=info", nestor=None):
    """modules: iterable of 'file' or 'file:args'."""
    cmd = [os.path.join(ROOT, "tools", "mkiso.sh"), "--out", out,
           "--nestor", nestor or os.path.join(ROOT, "build", "nestor"), "--nestor-args", nestor_args]
    if l1:
        cmd += ["--l1", l1, "--l1-args", l1_args]
    for m in modules:
        cmd += ["--module", m]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return out


def _follow(path, proc, out):
    pos = 0
    while True:
        done = proc.poll() is not None
        if os.path.exists(path):
            with open(path, "rb") as f:
                f.seek(pos)
                chunk = f.read()
                pos += len(chunk)
                if chunk:
                    out.write(chunk.decode("utf-8", "replace").replace("\r", ""))
                    out.flush()
        if done:
            return
        time.sleep(0.1)


CTRL_RIGHT_BRACKET = 0x1d  # leaves a --live session from a terminal, as in telnet
INPUT_GATE = b"nestor:"    # Nestor's first line: from then on, what is typed is Nestor's to read


def free_loopback_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _connect(port, proc, limit=30.0):
    """Bochs listens once its devices are set up and waits there for this connection."""
    deadline = time.time() + limit
    while time.time() < deadline and proc.poll() is None:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=1.0)
        except OSError:
            time.sleep(0.05)
    return None


class _RawTerminal:
    """Raw mode on a terminal stdin for the session (every key to the guest), restored after."""

    def __init__(self, fd):
        self.fd, self.saved = fd, None

    def __enter__(self):
        if os.isatty(self.fd):
            import termios
            import tty
            self.saved = termios.tcgetattr(self.fd)
            tty.setraw(self.fd)
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            import termios
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)


def _session(sock, proc, serial, out, in_fd, deadline):
    """Serial output to out and serial.txt, in_fd to the guest, until Bochs ends ("ended"), the user leaves with
    Ctrl-] ("left") or the deadline passes ("timeout")."""
    held, gate_open, tty = b"", False, in_fd is not None and os.isatty(in_fd)
    sock.setblocking(False)
    with open(serial, "wb") as log:
        while True:
            if time.time() > deadline:
                return "timeout"
            fds = [sock] + ([in_fd] if in_fd is not None else [])
            ready, _, _ = select.select(fds, [], [], 0.1)
            if sock in ready:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    data = None
                if data == b"":
                    return "ended"  # Bochs closed its end: the run is over
                if data:
                    log.write(data)
                    log.flush()
                    if out is not None:
                        out.write(data.decode("utf-8", "replace"))
                        out.flush()
                    if not gate_open:
                        with open(serial, "rb") as f:
                            gate_open = INPUT_GATE in f.read()
            if in_fd is not None and in_fd in ready:
                data = os.read(in_fd, 4096)
                if not data:
                    # A pipe ended: the guest runs on. The socket stays open: older Bochs sources take a read at EOF
                    # for a received byte (2.7's behaviour there was not checked), and an open socket is safe either way.
                    in_fd = None
                elif tty and CTRL_RIGHT_BRACKET in data:
                    return "left"
                else:
                    held += data
            if held and gate_open:
                try:
                    sent = sock.send(held)
                    held = held[sent:]
                except BlockingIOError:
                    pass
            if proc.poll() is not None and not ready:
                return "ended"


def run_bochs(iso, workdir=None, cpu="corei7_skylake_x", megs=256, timeout=300, live=False, cpus=1, stdin_fd=None, com2_port=None):
    """live: the console both ways through a loopback socket (stdin_fd, default stdin, is the guest's input)."""
    workdir = os.path.abspath(workdir or tempfile.mkdtemp(prefix="nestor-bochs-"))
    os.makedirs(workdir, exist_ok=True)
    serial = os.path.join(workdir, "serial.txt")
    if os.path.exists(serial):
        os.unlink(serial)
    rc_path = os.path.join(workdir, "bochsrc")
    rc = BOCHSRC
    port = free_loopback_port() if live else None
    if live:  # the runner writes serial.txt itself, from the socket
        rc = rc.replace("com1: enabled=1, mode=file, dev={serial}",
                        "com1: enabled=1, mode=socket-server, dev=127.0.0.1:%d" % port)
    with open(rc_path, "w") as f:
        f.write(rc.format(megs=megs, cpu=cpu, cpus=cpus, iso=os.path.abspath(iso), serial=serial,
                          log=os.path.join(workdir, "bochs.log")))
        if com2_port:
            f.write("com2: enabled=1, mode=socket-server, dev=127.0.0.1:%d\n" % com2_port)
    script = os.path.join(workdir, "ci.rc")
    with open(script, "w") as f:
        f.write("c\nquit\n")
    env = dict(os.environ, TERM="dumb")
    engine_log = open(os.path.join(workdir, "bochs.out"), "wb")
    proc = subprocess.Popen(["bochs", "-q", "-f", rc_path, "-rc", script], stdin=subprocess.DEVNULL,
                            stdout=engine_log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    timed_out = False
    try:
        if live:
            sock = _connect(port, proc)
            if sock is None:
                raise RuntimeError("Bochs did not accept the COM1 connection on 127.0.0.1:%d (see %s/bochs.out)"
                                   % (port, workdir))
            in_fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
            with _RawTerminal(in_fd), sock:
                how = _session(sock, proc, serial, sys.stdout, in_fd, time.time() + timeout)
            if how == "timeout":
                raise subprocess.TimeoutExpired("bochs", timeout)
            if how == "left":
                print("\nnestor_run: left with Ctrl-]: Bochs stopped", file=sys.stderr)
                proc.kill()
        proc.wait(timeout=30 if live else timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        proc.wait()
    engine_log.close()
    text = open(serial, "rb").read().decode("utf-8", "replace") if os.path.exists(serial) else ""
    with open(os.path.join(workdir, "bochs.out"), "rb") as f:
        engine = f.read().decode("utf-8", "replace")
    return RunResult(proc.returncode, text, timed_out, engine)


# UEFI firmware for QEMU from Debian's ovmf package: code (read-only) and a template of its variable store.
OVMF_PAIRS = [("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
              ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd")]


def ovmf_files():
    """(code, vars template) of the first OVMF build installed, or None."""
    for code, varstore in OVMF_PAIRS:
        if os.path.exists(code) and os.path.exists(varstore):
            return code, varstore
    return None


def iso_boot_platforms(iso):
    """The El Torito boot images of an ISO by platform, e.g. {"BIOS", "UEFI"} (grub-mkrescue makes one per GRUB
    platform installed: grub-pc-bin gives BIOS, grub-efi-amd64-bin UEFI)."""
    out = subprocess.run(["xorriso", "-indev", iso, "-report_el_torito", "plain"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    fields = [line.split() for line in out.splitlines() if line.startswith("El Torito boot img :")]
    return {f[6] for f in fields if len(f) > 6 and f[5].isdigit()}


def run_qemu(iso, workdir=None, timeout=120, kvm=False, live=False, cpus=1, uefi=False, megs=256):
    workdir = os.path.abspath(workdir or tempfile.mkdtemp(prefix="nestor-qemu-"))
    os.makedirs(workdir, exist_ok=True)
    serial = os.path.join(workdir, "serial.txt")
    if os.path.exists(serial):
        os.unlink(serial)
    cmd = ["qemu-system-x86_64", "-machine", "pc", "-m", str(megs), "-cdrom", iso, "-boot", "d",
           "-serial", "file:" + serial, "-display", "none", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-smp", str(cpus)]
    if uefi:
        fw = ovmf_files()
        if not fw:
            raise RuntimeError("no OVMF firmware in /usr/share/OVMF: install Debian's ovmf package (tools/deps.sh)")
        varstore = os.path.join(workdir, "ovmf_vars.fd")  # OVMF writes its boot entries here: a fresh copy each run
        shutil.copyfile(fw[1], varstore)
        cmd += ["-drive", "if=pflash,format=raw,readonly=on,file=" + fw[0],
                "-drive", "if=pflash,format=raw,file=" + varstore]
    if kvm:
        cmd += ["-enable-kvm", "-cpu", "host"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    timed_out = False
    try:
        if live:
            _follow(serial, proc, sys.stdout)
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        out, _ = proc.communicate()
    text = open(serial, "rb").read().decode("utf-8", "replace") if os.path.exists(serial) else ""
    return RunResult(proc.returncode, text, timed_out, out.decode("utf-8", "replace"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("engine", choices=["bochs", "qemu"])
    ap.add_argument("--iso", default=os.path.join(ROOT, "build", "nestor.iso"))
    ap.add_argument("--cpu", default="corei7_skylake_x")
    ap.add_argument("--megs", type=int, default=256)
    ap.add_argument("--cpus", type=int, default=1, help="CPUs of the emulated machine (Bochs cpu: count=, QEMU -smp)")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--kvm", action="store_true")
    ap.add_argument("--uefi", action="store_true", help="QEMU only: boot through OVMF (UEFI) instead of SeaBIOS")
    ap.add_argument("--live", action="store_true", help="print the serial console while it runs")
    ap.add_argument("--com2-port", type=int, help="Bochs only: COM2 as a TCP server on 127.0.0.1:PORT (gdb=com2)")
    ap.add_argument("--workdir", default=os.path.join(ROOT, "build", "run"))
    a = ap.parse_args()
    if a.engine == "bochs":
        r = run_bochs(a.iso, a.workdir, cpu=a.cpu, megs=a.megs, timeout=a.timeout, live=a.live, cpus=a.cpus,
                      com2_port=a.com2_port)
    else:
        r = run_qemu(a.iso, a.workdir, timeout=a.timeout, kvm=a.kvm, live=a.live, cpus=a.cpus, uefi=a.uefi,
                     megs=a.megs)
    if not a.live:
        sys.stdout.write(r.serial)
    if r.timed_out:
        print("nestor_run: %s did not finish within %d s" % (a.engine, a.timeout), file=sys.stderr)
        return 1
    print("nestor_run: %s exited with %d; serial log in %s/serial.txt" % (a.engine, r.returncode, a.workdir),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
