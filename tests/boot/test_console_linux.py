"""The interactive Linux shell of `make run-linux` (issue 10 item 1): typed through a pipe into
busybox's shell on the emulated COM1, as a user would. One Linux boot takes over three minutes
here, so this is left out of `make test`: run it with `make test-long`."""
import os
import sys

import pytest
from conftest import BUILD, ROOT
from live_console import LiveRun

sys.path.insert(0, os.path.join(ROOT, "tools"))
import linux_kit  # noqa: E402

CMDLINE = "console=ttyS0,115200 panic=-1 quiet mitigations=off nokaslr cryptomgr.notests=1 idle=halt shell=1"


@pytest.mark.long
def test_linux_shell_on_the_console():
    vmlinuz, initrd = linux_kit.build(os.path.join(BUILD, "linux"))
    run = LiveRun("console-linux", CMDLINE, l1=vmlinuz, modules=[initrd + ":initrd"], timeout=900, megs=512)
    try:
        run.send(b"echo typed-before-the-shell\n")  # waits in the UART backlog until Linux opens ttyS0
        run.wait_for(r"^L1> init: interactive shell on the console", timeout=600)
        run.wait_for(r"^L1> typed-before-the-shell$", timeout=120)
        run.send(b"cat /proc/cpuinfo\n")
        run.wait_for(r"^L1> model name\s*: ", timeout=120)
        run.wait_for(r"^L1> vmx flags\s*: .*\bept\b.*\bunrestricted_guest\b", timeout=60)  # Nestor's nested VMX
        run.send(b"/kvmtest\n")
        run.wait_for(r"^L1> kvmtest: all ok$", timeout=300)
        run.send(b"\x01q")
        b = run.finish()
    finally:
        run.kill()
    b.expect(r"^nestor: L1 stopped: Ctrl-A q typed on the console$")
    assert b.status() == 0xF9
