#!/bin/sh
# Boots an ISO under QEMU with KVM (-enable-kvm -cpu host) when this host can run
# Nestor there: KVM present and the CPU's VMX passed to guests (nested=1). Otherwise
# it says why, and boots under QEMU's TCG, where Nestor shows its refusal.
iso=${1:-build/nestor.iso}
here=$(dirname "$0")
why=""
if [ ! -e /dev/kvm ]; then
    why="/dev/kvm does not exist (no KVM on this host)"
elif ! grep -qw vmx /proc/cpuinfo; then
    why="this host's CPU shows no 'vmx' flag in /proc/cpuinfo (not Intel VT-x, or nested VMX is off in the host hypervisor)"
elif [ -r /sys/module/kvm_intel/parameters/nested ] && ! grep -qE '^(Y|1)$' /sys/module/kvm_intel/parameters/nested; then
    why="kvm_intel is loaded with nested=0; reload it with 'modprobe -r kvm_intel; modprobe kvm_intel nested=1'"
elif [ ! -r /sys/module/kvm_intel/parameters/nested ]; then
    why="kvm_intel is not loaded (KVM here is not Intel VT-x), so QEMU cannot give Nestor VMX"
fi
if [ -z "$why" ]; then
    exec /usr/bin/python3 "$here/nestor_run.py" qemu --iso "$iso" --kvm --live
fi
echo "run-qemu: cannot run Nestor under QEMU+KVM here: $why."
echo "run-qemu: QEMU's TCG cannot emulate VMX, so under TCG Nestor will refuse to start (shown below)."
echo "run-qemu: use 'make run' to boot it in Bochs, which emulates VT-x with EPT."
/usr/bin/python3 "$here/nestor_run.py" qemu --iso "$iso" --live --timeout 60
