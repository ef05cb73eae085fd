#!/bin/bash
# Builds the gzip'd cpio initramfs the qemu GPIO test guest boots from.
#
# usage: make-initramfs.sh -o OUT.cpio.gz [--module GPIO_SIM_KO] [--binary PATH]...
#                          [--guest-cmd CMD] [--guest-timeout SECS]
#                          [--sysroot DIR --tools-root DIR --configfs CONFIGFS_KO]
#
# Contents: static busybox with its applet symlinks (so /bin/sh is in the archive itself), /init
# (guest-init.sh), configfs.ko from the kernel package, gpio-sim.ko (built by build-gpio-sim.sh when
# --module is not given), the libgpiod v1 tools, and every --binary at /rlt/bin/<name>. Each
# dynamically linked file brings the libraries `ldd` lists, and the loader, at the same paths as on
# the host. --guest-cmd is stored in /rlt/guest-cmd and run by /init after its own checks (see
# README.md for the environment it gets).
#
# For another architecture (arm64.sh: an arm64 guest on this amd64 machine) --sysroot names the
# target's root (unpacked Debian packages): busybox comes from DIR/usr/bin/busybox and libraries
# are found by reading each file's ELF NEEDED entries and program interpreter (readelf) in DIR
# instead of asking the host's `ldd`; --tools-root is an unpacked root holding the libgpiod v1 tools
# (usr/bin/gpio*) and their library; --configfs and --module must then be given (no host kernel).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"

out=""
module=""
binaries=()
guest_cmd=""
guest_timeout=60
sysroot=""
tools_root=""
configfs=""
while [ $# -gt 0 ]; do
    case "$1" in
        -o) out="$2"; shift 2 ;;
        --module) module="$2"; shift 2 ;;
        --binary) binaries+=("$2"); shift 2 ;;
        --guest-cmd) guest_cmd="$2"; shift 2 ;;
        --guest-timeout) guest_timeout="$2"; shift 2 ;;
        --sysroot) sysroot="$2"; shift 2 ;;
        --tools-root) tools_root="$2"; shift 2 ;;
        --configfs) configfs="$2"; shift 2 ;;
        *) die "make-initramfs.sh: unknown argument '$1' (expected -o, --module, --binary, --guest-cmd, --guest-timeout, --sysroot, --tools-root, --configfs)" ;;
    esac
done
[ -n "$out" ] || die "make-initramfs.sh: -o OUT.cpio.gz is required"

if [ -n "$sysroot" ]; then
    [ -n "$module" ] && [ -n "$configfs" ] && [ -n "$tools_root" ] ||
        die "make-initramfs.sh: --sysroot needs --module, --configfs and --tools-root"
    busybox="$sysroot/usr/bin/busybox"
    [ -x "$busybox" ] || die "$busybox missing (unpack busybox-static for the target)"
    tools_dir="$tools_root/usr/bin"
else
    abi="$(kernel_abi)"
    modules="/lib/modules/$abi-amd64"
    [ -n "$module" ] || module="$("$here/build-gpio-sim.sh")"
    busybox=/bin/busybox
    [ -x "$busybox" ] || die "$busybox missing (install busybox-static)"
    tools_dir=""
fi
[ -f "$module" ] || die "gpio-sim module '$module' not found"

target_multiarch=""
if [ -n "$sysroot" ]; then
    target_multiarch="$(find "$sysroot/usr/lib" -maxdepth 1 -name '*-linux-gnu*' -printf '%f\n' | head -n1)"
    [ -n "$target_multiarch" ] || die "no usr/lib/<multiarch> directory in $sysroot"
fi
root="$(mktemp -d "${TMPDIR:-/tmp}/rlt-initramfs.XXXXXX")"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/modules,dev,proc,sys,tmp,run,rlt/bin}

# copy_target_libs FILE: the target's libraries FILE needs (NEEDED entries, recursively) and its
# program interpreter, from --sysroot / --tools-root, at the paths the target's loader searches.
copy_target_libs() {
    local file="$1" interp name dir found
    # A script is no ELF file: nothing to bring.
    interp="$({ readelf -l "$file" 2>/dev/null || true; } | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')"
    if [ -n "$interp" ] && ! [ -e "$root/$interp" ]; then
        mkdir -p "$(dirname "$root/$interp")"
        cp -L "$sysroot/usr/lib/$(basename "$interp")" "$root/$interp" 2>/dev/null || cp -L "$sysroot/$interp" "$root/$interp" ||
            die "program interpreter $interp of $file not in $sysroot"
    fi
    { readelf -d "$file" 2>/dev/null || true; } | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | while read -r name; do
        [ "$name" != "$(basename "${interp:-/}")" ] || continue
        [ -e "$root/usr/lib/$target_multiarch/$name" ] && continue
        found=""
        for dir in "$sysroot/usr/lib/$target_multiarch" "$sysroot/lib/$target_multiarch" \
            "$tools_root/usr/lib/$target_multiarch" "$tools_root/lib/$target_multiarch"; do
            if [ -e "$dir/$name" ]; then found="$dir/$name"; break; fi
        done
        [ -n "$found" ] || die "$name (needed by $file) not found in $sysroot or $tools_root"
        mkdir -p "$root/usr/lib/$target_multiarch"
        cp -L "$found" "$root/usr/lib/$target_multiarch/$name"
        copy_target_libs "$found"
    done
}

# copy_elf SRC DEST: copies a program and the shared libraries (and loader) it needs, preserving
# the libraries' host paths so the loader's default search finds them.
copy_elf() {
    local src="$1" dest="$2" lib
    mkdir -p "$(dirname "$root/$dest")"
    cp -L "$src" "$root/$dest"
    chmod 755 "$root/$dest"
    if [ -n "$sysroot" ]; then
        copy_target_libs "$src"
        return
    fi
    # ldd lines: "libx.so => /path (addr)", "/lib64/ld-linux-x86-64.so.2 (addr)", "linux-vdso.so.1 (addr)"
    { ldd "$src" 2>/dev/null || true; } | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' \
        | while read -r lib; do
            if ! [ -e "$root/$lib" ]; then
                mkdir -p "$(dirname "$root/$lib")"
                cp -L "$lib" "$root/$lib"
            fi
        done
}

# busybox and its applets; real directories, not the host's merged-/usr symlinks. busybox-static
# needs no libraries; a dynamic busybox would bring its own through copy_elf.
copy_elf "$busybox" /bin/busybox
busybox_list="$busybox"
# A target busybox cannot run here; the host's (same Debian package) lists the same applets.
[ -z "$sysroot" ] || busybox_list=/bin/busybox
"$busybox_list" --list-full | while read -r applet; do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
[ -L "$root/bin/sh" ] || die "busybox provides no sh applet"

for tool in gpiodetect gpioinfo gpioget gpioset gpiomon gpiofind; do
    if [ -n "$tools_dir" ]; then
        path="$tools_dir/$tool"
        [ -x "$path" ] || die "$path missing (unpack the target's gpiod 1.6 package into $tools_root)"
    else
        path="$(command -v "$tool")" || die "$tool missing (install gpiod)"
    fi
    copy_elf "$path" "/usr/bin/$tool"
done
for bin in "${binaries[@]}"; do
    [ -f "$bin" ] || die "--binary '$bin' not found"
    copy_elf "$bin" "/rlt/bin/$(basename "$bin")"
done

[ -n "$configfs" ] || configfs="$(find "$modules/kernel/fs/configfs" -name 'configfs.ko*' | head -n1)"
[ -n "$configfs" ] || die "configfs.ko not found under $modules (install linux-image-$abi-amd64)"
case "$configfs" in
    *.ko) cp "$configfs" "$root/lib/modules/configfs.ko" ;;
    *.ko.xz) xz -dc "$configfs" > "$root/lib/modules/configfs.ko" ;;
    *.ko.zst) zstd -qdc "$configfs" > "$root/lib/modules/configfs.ko" ;;
    *.ko.gz) gzip -dc "$configfs" > "$root/lib/modules/configfs.ko" ;;
    *) die "unexpected module file $configfs" ;;
esac
cp "$module" "$root/lib/modules/gpio-sim.ko"

install -m 755 "$here/guest-init.sh" "$root/init"
if [ -n "$guest_cmd" ]; then
    printf '%s\n' "$guest_cmd" > "$root/rlt/guest-cmd"
    printf '%s\n' "$guest_timeout" > "$root/rlt/guest-timeout"
fi
# The kernel opens /dev/console before /init runs; the node needs root, /init copes without it.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet --owner=0:0 | gzip -6) > "$out.tmp"
mv "$out.tmp" "$out"
log "initramfs $out ($(du -h "$out" | cut -f1))"
printf '%s\n' "$out"
