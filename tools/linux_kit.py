#!/usr/bin/env python3
"""Linux as L1: fetch Debian's cloud kernel and busybox-static (cached, never installed on the
host), and build an initramfs that loads KVM and runs tests/guests/kvmtest.

  linux_kit.py fetch              download and unpack into the cache (~/.cache/nestor or $NESTOR_CACHE)
  linux_kit.py build [--out DIR]  vmlinuz + initramfs.cpio into DIR (default build/linux)

Nothing large is committed: the packages come from the Debian archive through apt.
"""
import argparse
import glob
import os
import shutil
import stat
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("NESTOR_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "nestor"))
KERNEL_META = "linux-image-cloud-amd64"
INIT = os.path.join(ROOT, "tests", "linux", "init")
KVMTEST = os.path.join(ROOT, "build", "tests", "kvmtest")
PFBENCH = os.path.join(ROOT, "build", "bench", "pfbench.elf")
GHV = os.path.join(ROOT, "build", "tests", "ghv.elf")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


def kernel_package():
    out = sh(["apt-cache", "depends", KERNEL_META])
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends: linux-image-"):
            return line.split()[1]
    raise SystemExit("linux_kit: cannot resolve %s (run apt-get update)" % KERNEL_META)


def download(pkg, dest):
    debs = glob.glob(os.path.join(dest, pkg + "_*.deb"))
    if debs:
        return debs[0]
    for attempt in range(2):
        try:
            subprocess.run(["apt-get", "download", pkg], cwd=dest, check=True, stdout=subprocess.DEVNULL)
            break
        except subprocess.CalledProcessError:
            if attempt:
                raise
            subprocess.run(["apt-get", "update", "-qq"], check=True)
    return glob.glob(os.path.join(dest, pkg + "_*.deb"))[0]


def fetch():
    os.makedirs(CACHE, exist_ok=True)
    try:
        pkg = kernel_package()
    except subprocess.CalledProcessError:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        pkg = kernel_package()
    root = os.path.join(CACHE, pkg)
    if not os.path.isdir(os.path.join(root, "boot")):
        deb = download(pkg, CACHE)
        sh(["dpkg-deb", "-x", deb, root])
    bb = os.path.join(CACHE, "busybox-static")
    if not os.path.exists(os.path.join(bb, "bin", "busybox")):
        deb = download("busybox-static", CACHE)
        sh(["dpkg-deb", "-x", deb, bb])
    return root, os.path.join(bb, "bin", "busybox")


def cpio_newc(entries, path):
    """entries: (name, mode, data or None for directories). Writes an uncompressed newc archive."""
    out = bytearray()
    ino = 1
    for name, mode, data in entries + [("TRAILER!!!", 0, b"")]:
        data = data or b""
        nameb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nameb), 0))
        out += hdr.encode() + nameb
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
        ino += 1
    with open(path, "wb") as f:
        f.write(out)


def build(out_dir):
    root, busybox = fetch()
    os.makedirs(out_dir, exist_ok=True)
    vmlinuz = glob.glob(os.path.join(root, "boot", "vmlinuz-*"))[0]
    shutil.copy(vmlinuz, os.path.join(out_dir, "vmlinuz"))
    mods = {}
    for name in ("irqbypass.ko", "kvm.ko", "kvm-intel.ko"):
        src = glob.glob(os.path.join(root, "lib", "modules", "*", "kernel", "**", name), recursive=True)[0]
        dst = os.path.join(out_dir, name)
        # Debug info and the appended signature only slow insmod down under Bochs (~4 s).
        sh(["objcopy", "--strip-debug", src, dst])
        mods[name] = open(dst, "rb").read()
    if not os.path.exists(KVMTEST):
        raise SystemExit("linux_kit: %s is missing (make build/tests/kvmtest)" % KVMTEST)
    d, x, f = stat.S_IFDIR | 0o755, stat.S_IFREG | 0o755, stat.S_IFREG | 0o644
    entries = [("bin", d, None), ("dev", d, None), ("proc", d, None), ("sys", d, None), ("lib", d, None),
               ("bin/busybox", x, open(busybox, "rb").read()), ("init", x, open(INIT, "rb").read()),
               ("kvmtest", x, open(KVMTEST, "rb").read())]
    entries += [("lib/" + n, f, data) for n, data in mods.items()]
    if os.path.exists(PFBENCH):  # for `make bench-kvm`: pfbench as KVM's guest
        entries.append(("pfbench.elf", f, open(PFBENCH, "rb").read()))
    if os.path.exists(GHV):  # for tests/boot/test_turtles.py: ghv as KVM's guest (mb2=ghv.elf,...)
        entries.append(("ghv.elf", f, open(GHV, "rb").read()))
    cpio_newc(entries, os.path.join(out_dir, "initramfs.cpio"))
    return os.path.join(out_dir, "vmlinuz"), os.path.join(out_dir, "initramfs.cpio")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["fetch", "build"])
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "linux"))
    a = ap.parse_args()
    if a.what == "fetch":
        print("\n".join(fetch()))
    else:
        print("\n".join(build(a.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
