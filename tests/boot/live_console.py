"""A boot with the console connected through a pipe, as a user at a terminal: nestor_run.py --live
with its stdin a pipe the test writes to, and its output collected as it comes (tests/boot/test_console*.py)."""
import os
import re
import subprocess
import sys
import threading
import time

from conftest import BUILD, L1_MB2, ROOT, Boot, nestor_run


class LiveRun:
    """nestor_run.py --live with a pipe for stdin; the transcript is collected as it comes."""

    def __init__(self, name, l1_args, l1=L1_MB2, modules=(), nestor_args="loglevel=info", timeout=150, megs=256,
                 cpus=1):
        os.makedirs(BUILD, exist_ok=True)
        iso = os.path.join(BUILD, name + ".iso")
        nestor_run.build_iso(iso, l1=l1, l1_args=l1_args, modules=modules, nestor_args=nestor_args)
        self.name, self.workdir = name, os.path.join(BUILD, name)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tools", "nestor_run.py"), "bochs", "--iso", iso, "--live",
             "--workdir", self.workdir, "--timeout", str(timeout), "--megs", str(megs), "--cpus", str(cpus)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out, self.lock = b"", threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
            with self.lock:
                self.out += chunk

    def text(self):
        with self.lock:
            return self.out.decode("utf-8", "replace").replace("\r", "")

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait_for(self, pattern, timeout=60):
        rx = re.compile(pattern, re.M)
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = rx.search(self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.kill()
        raise AssertionError("no line matches %r\n--- %s transcript ---\n%s" % (pattern, self.name, self.text()))

    def finish(self, timeout=60):
        try:
            self.proc.wait(timeout=timeout)
        finally:
            self.kill()
        self.reader.join(5)
        return Boot(self.name, nestor_run.RunResult(self.proc.returncode, self.text(), False))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
