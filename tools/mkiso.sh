#!/bin/sh
# Builds a GRUB ISO holding Nestor, an L1 kernel and further modules.
#   tools/mkiso.sh --out X.iso --nestor build/nestor [--nestor-args "..."]
#                  [--l1 FILE [--l1-args "..."]] [--module FILE[:ARGS]]...
# Without --l1 the ISO boots Nestor with no module (to test that error).
set -e
out= nestor= nestor_args= l1= l1_args= mods=
while [ $# -gt 0 ]; do
    case "$1" in
    --out) out=$2; shift 2 ;;
    --nestor) nestor=$2; shift 2 ;;
    --nestor-args) nestor_args=$2; shift 2 ;;
    --l1) l1=$2; shift 2 ;;
    --l1-args) l1_args=$2; shift 2 ;;
    --module) mods="$mods
$2"; shift 2 ;;
    *) echo "mkiso: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$out" ] && [ -f "$nestor" ] || { echo "mkiso: need --out and an existing --nestor" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/boot/grub" "$dir/boot/modules"
cp "$nestor" "$dir/boot/nestor"
cfg="$dir/boot/grub/grub.cfg"
{
    echo "set timeout=0"
    echo "set default=0"
    # UEFI has no text mode: without a video driver GRUB's multiboot2 loader says "no suitable video mode".
    echo 'if [ "$grub_platform" = efi ]; then insmod all_video; fi'
    echo "menuentry \"Nestor\" {"
    echo "    multiboot2 /boot/nestor $nestor_args"
} > "$cfg"
if [ -n "$l1" ]; then
    [ -f "$l1" ] || { echo "mkiso: L1 kernel $l1 not found" >&2; exit 2; }
    cp "$l1" "$dir/boot/l1"
    echo "    module2 /boot/l1 $l1_args" >> "$cfg"
    i=0
    echo "$mods" | while IFS= read -r spec; do
        [ -z "$spec" ] && continue
        file=${spec%%:*}
        args=
        case "$spec" in *:*) args=${spec#*:} ;; esac
        [ -f "$file" ] || { echo "mkiso: module $file not found" >&2; exit 2; }
        cp "$file" "$dir/boot/modules/m$i"
        echo "    module2 /boot/modules/m$i $args" >> "$cfg"
        i=$((i + 1))
    done
fi
echo "    boot" >> "$cfg"
echo "}" >> "$cfg"
mkdir -p "$(dirname "$out")"

# grub-mkrescue builds a boot image for every GRUB platform installed under
# /usr/lib/grub (grub-pc-bin: i386-pc for BIOS, grub-efi-amd64-bin: x86_64-efi
# for UEFI) and copies --install-modules into each, failing on a module one
# platform lacks (biosdisk exists only for i386-pc). So pass only the modules
# every installed platform has: each platform's own disk driver (biosdisk,
# the EFI disk) is built into its core image by grub-mkrescue anyway.
grub_lib=/usr/lib/grub
platforms=
for d in "$grub_lib"/*/; do
    [ -f "$d/moddep.lst" ] && platforms="$platforms $(basename "$d")"
done
[ -n "$platforms" ] || {
    echo "mkiso: no GRUB platform under $grub_lib: install grub-pc-bin (BIOS) and/or grub-efi-amd64-bin (UEFI)" >&2
    exit 2; }
# The partition modules: GRUB's EFI image loads them all at start and
# complains about each one missing. all_video: under UEFI GRUB's multiboot2
# loader wants a video mode (else "no suitable video mode found"); Nestor
# ignores the framebuffer, its console is the serial port.
modules=
for m in normal multiboot2 multiboot iso9660 boot biosdisk serial test all_video \
         part_acorn part_amiga part_apple part_bsd part_dfly part_dvh part_gpt part_msdos \
         part_plan part_sun part_sunpc; do
    have=yes
    for p in $platforms; do
        [ -f "$grub_lib/$p/$m.mod" ] || have=no
    done
    [ $have = yes ] && modules="$modules $m"
done
grub-mkrescue -o "$out" --locales= --fonts= --themes= \
    --install-modules="${modules# }" "$dir" >/dev/null 2>&1 || {
    echo "mkiso: grub-mkrescue failed (GRUB platforms:$platforms; modules:$modules)" >&2
    grub-mkrescue -o "$out" --locales= --fonts= --themes= --install-modules="${modules# }" "$dir"; exit 1; }
