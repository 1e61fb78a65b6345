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
grub-mkrescue -o "$out" --locales= --fonts= --themes= \
    --install-modules="normal multiboot2 multiboot iso9660 biosdisk boot" "$dir" >/dev/null 2>&1 || {
    echo "mkiso: grub-mkrescue failed" >&2; grub-mkrescue -o "$out" "$dir"; exit 1; }
