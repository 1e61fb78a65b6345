#!/bin/sh
# Installs the Debian packages Nestor's build, demo and tests need, if any is missing.
set -e
# grub-pc-bin and grub-efi-amd64-bin: the ISO boots both by legacy BIOS and by UEFI; ovmf: UEFI firmware for QEMU;
# gdb: the client of Nestor's GDB stub (make run-gdb, tests/boot/test_gdb.py);
# clang, llvm, libclang-rt-dev: the fuzz targets (libFuzzer) and `make coverage` (llvm-profdata, llvm-cov).
PKGS="gcc make binutils grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools bochs bochs-term bochsbios vgabios \
      qemu-system-x86 ovmf libcmocka-dev python3 python3-pytest gdb clang llvm libclang-rt-dev"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
