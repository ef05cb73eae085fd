#!/bin/bash
# Builds the kernel's gpio-sim driver out of tree for Debian 12's own kernel, which ships without it
# (CONFIG_GPIO_SIM and CONFIG_IRQ_SIM are off, but GPIOLIB and the v1 character device are built in).
#
# Three files come from the linux-source-6.1 tarball: drivers/gpio/gpio-sim.c, drivers/gpio/gpiolib.h
# and kernel/irq/irq_sim.c. irq_sim.c is linked into the same module, because the kernel has no
# irq_sim to link against; for that its EXPORT_SYMBOL_GPL lines go (a module must not export symbols
# it also defines privately), and handle_simple_irq(irq_to_desc(n)) becomes generic_handle_irq(n),
# because irq_to_desc is not exported to modules.
#
# Prints the path of the built gpio-sim.ko on stdout. Output is cached under
# $RLT_QEMU_CACHE/gpio-sim/<abi>-<source version>-<hash of this script>/, so a rerun is instant and a
# change to this script or a new kernel ABI builds afresh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"

abi="$(kernel_abi)"
[ -n "$abi" ] || die "could not read the kernel ABI from linux-image-amd64's dependency"
kbuild="/lib/modules/$abi-amd64/build"
[ -d "$kbuild" ] || kbuild="/usr/src/linux-headers-$abi-amd64"
[ -f "$kbuild/Makefile" ] || die "no kernel headers for $abi-amd64 (install linux-headers-$abi-amd64)"

src_tar=/usr/src/linux-source-6.1.tar.xz
[ -f "$src_tar" ] || die "$src_tar missing (install linux-source-6.1)"
src_version="$(dpkg-query -W -f='${Version}' linux-source-6.1)"
hdr_version="$(dpkg-query -W -f='${Version}' "linux-headers-$abi-amd64" 2>/dev/null || true)"
if [ -n "$hdr_version" ] && [ "$hdr_version" != "$src_version" ]; then
    log "warning: linux-source-6.1 is $src_version but linux-headers-$abi-amd64 is $hdr_version"
fi

script_hash="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)"
out="$RLT_QEMU_CACHE/gpio-sim/$abi-$src_version-$script_hash"
if [ -f "$out/gpio-sim.ko" ]; then
    log "gpio-sim.ko cached: $out/gpio-sim.ko"
    printf '%s\n' "$out/gpio-sim.ko"
    exit 0
fi

# Extract only the three members; tar still has to decompress the whole 130 MB archive (~10 s), so
# the extracted files are cached per source version.
srcdir="$RLT_QEMU_CACHE/linux-source/$src_version"
members=(drivers/gpio/gpio-sim.c drivers/gpio/gpiolib.h kernel/irq/irq_sim.c)
# Work happens in fresh temporary directories renamed into place at the end, so an interrupted or
# concurrent run never leaves a half-built cache entry behind.
if ! [ -f "$srcdir/.complete" ]; then
    log "extracting ${members[*]} from $src_tar"
    mkdir -p "$(dirname "$srcdir")"
    tmp="$(mktemp -d "$srcdir.tmp.XXXXXX")"
    tar -xJf "$src_tar" -C "$tmp" --strip-components=1 "${members[@]/#/linux-source-6.1/}"
    touch "$tmp/.complete"
    mv -T "$tmp" "$srcdir" 2>/dev/null || rm -rf "$tmp"
fi

mkdir -p "$(dirname "$out")"
work="$(mktemp -d "$out.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Kbuild cannot make gpio-sim.ko from several objects when one source is itself gpio-sim.c.
cp "$srcdir/drivers/gpio/gpio-sim.c" "$work/gpio-sim-core.c"
cp "$srcdir/drivers/gpio/gpiolib.h" "$work/gpiolib.h"
sed -e '/^EXPORT_SYMBOL_GPL(/d' \
    -e 's/handle_simple_irq(irq_to_desc(\([a-z_]*\)));/generic_handle_irq(\1);/' \
    "$srcdir/kernel/irq/irq_sim.c" > "$work/irq_sim.c"
# Fail loudly if a future source no longer matches the edits, rather than build a broken module.
if grep -q 'EXPORT_SYMBOL\|irq_to_desc' "$work/irq_sim.c" || ! grep -q 'generic_handle_irq(' "$work/irq_sim.c"; then
    die "kernel/irq/irq_sim.c from linux-source $src_version no longer matches the expected edits"
fi
cat > "$work/Kbuild" <<'KBUILD'
obj-m := gpio-sim.o
gpio-sim-y := gpio-sim-core.o irq_sim.o
KBUILD

log "building gpio-sim.ko against $kbuild"
make -s -C "$kbuild" M="$work" modules >&2
[ -f "$work/gpio-sim.ko" ] || die "module build produced no gpio-sim.ko"
mv -T "$work" "$out" 2>/dev/null || log "another run built $out first; using it"
printf '%s\n' "$out/gpio-sim.ko"
