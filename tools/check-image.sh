#!/bin/sh
# Fails the build if the multiboot2 header is not where GRUB looks (first 32 KiB, 8-byte aligned).
set -e
img="$1"
off=$(od -A d -t x4 -v -w4 "$img" | awk '$2 == "e85250d6" { print $1 + 0; exit }')
if [ -z "$off" ] || [ "$off" -ge 32768 ] || [ $((off % 8)) -ne 0 ]; then
    echo "check-image: $img has no multiboot2 header in its first 32 KiB (found at: ${off:-none})" >&2
    exit 1
fi
