#!/bin/bash
# arm64 builds and the arm64 real-kernel GPIO self-test, on this amd64 Debian 12 machine.
#
# usage: Tests/qemu/arm64.sh [--gateway] [--deb] [--no-boot]
#   (no flag)   cross-compiles rlt-gpio-selftest for arm64 against Debian 13's libraries (libgpiod 2.2,
#               so the v2 backend) and boots it on Debian 13's arm64 kernel with gpio-sim under
#               qemu-system-aarch64 (TCG): the same guest checks and self-test (by chip name, by label)
#               as the amd64 stage. Last line on stdout: the guest's `N passed, N failed`.
#   --gateway   also cross-compiles the release rlt-gateway (static Swift stdlib, full RELRO):
#               .build-arm64/aarch64-unknown-linux-gnu/release/rlt-gateway
#   --deb       also packages it: deploy/deb/build.sh --arch arm64 --sysroot …, then shows
#               `dpkg-deb -c` and `file` of the package's binary (implies --gateway)
#   --no-boot   builds only
# Needs root (debootstrap, chroot, bind mounts). Exits non-zero on any failure.
#
# Route (Tests/qemu/README.md, "arm64"): a cross build. The host's Swift (swift.org 6.3.1) cannot import
# the only aarch64 Swift runtime Debian has (sid's `swiftlang` 6.2.3: its Foundation ships as binary
# .swiftmodule only, which one compiler version cannot read from another), so the compiler is Debian sid's
# own amd64 `swiftlang` of exactly the same version, in a sid root (debootstrap, cached), and the target is
# a Swift SDK bundle: Debian 13 (trixie) arm64 packages unpacked into a sysroot (libc, libstdc++, libgpiod,
# libmosquitto, sqlite, busybox, base-files) plus the arm64 `swiftlang`'s runtime, static libraries,
# modules and clang resources. Building under qemu-user emulation would take hours; this takes minutes.
# The guest kernel is trixie's linux-image-arm64; its gpio-sim (off in Debian's config, like 6.1's) is built
# out of tree in the same root against trixie's arm64 headers with sid's aarch64-linux-gnu-gcc-14 (the
# kernel was built with gcc-14), as build-gpio-sim.sh does for amd64. The guest's libgpiod v1 tools (the
# harness's checks use the v1 command line) are Debian 12's arm64 `gpiod`.
#
# Everything downloaded or built is cached under $RLT_ARM64_CACHE (default /var/tmp/rlt-arm64): the
# apt lists and .debs, the sid root, the SDK bundle, the kernel pieces; the SwiftPM build directory is
# .build-arm64 in the clone. Remove the cache directory to start cold.
# environment: RLT_ARM64_CACHE, RLT_DEBIAN_MIRROR (default: this machine's archive), RLT_QEMU_TIMEOUT
#   (qemu wall-clock limit, default 300 s here), RLT_ARM64_SELFTEST (boot this arm64 binary instead of
#   building one; for showing the check failing).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
here=Tests/qemu
. "$here/lib.sh"
log() { printf '[arm64] %s\n' "$*" >&2; }
die() { printf '[arm64] error: %s\n' "$*" >&2; exit 1; }

gateway=0 deb=0 boot=1
while [ $# -gt 0 ]; do
    case "$1" in
        --gateway) gateway=1 ;;
        --deb) gateway=1; deb=1 ;;
        --no-boot) boot=0 ;;
        -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, bind mounts)"
export PATH="$PATH:/usr/sbin:/sbin"

cache="${RLT_ARM64_CACHE:-/var/tmp/rlt-arm64}"
export RLT_QEMU_CACHE="$cache/qemu"
root="$cache/sid-root"                      # amd64 build root: Debian sid with its swiftlang
bundle="$cache/sdk/debian13-arm64.artifactbundle"
sdk_name=debian13-arm64
sysroot="$bundle/$sdk_name/sysroot"
triple=aarch64-unknown-linux-gnu
multiarch=aarch64-linux-gnu
scratch=.build-arm64
bin_dir="$scratch/$triple/release"

timings=()
t_start="$(now)"

# --- host packages -----------------------------------------------------------------------------
t0="$(now)"
missing=()
for pkg in debootstrap debian-archive-keyring qemu-system-arm binutils binutils-aarch64-linux-gnu \
    busybox-static cpio gzip xz-utils file dpkg-dev; do
    installed "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
timings+=("host packages $(since "$t0")s")

# --- private apt: trixie and sid (amd64, arm64), bookworm arm64 for the guest's v1 tools ----------
mirror="$(debian_mirror)"
[ -n "$mirror" ] || die "no Debian archive found in apt's sources (set RLT_DEBIAN_MIRROR)"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
aptdir="$cache/apt"
apt_opts=(-q -o "Dir::Etc::sourcelist=$aptdir/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache" -o "Dir::State::status=/dev/null"
    -o APT::Architecture=amd64 -o APT::Architectures::=amd64 -o APT::Architectures::=arm64
    -o APT::Sandbox::User=root -o Acquire::Check-Valid-Until=false)
apt_updated=0
private_apt_update() {
    [ "$apt_updated" = 0 ] || return 0
    mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
    for suite in trixie sid bookworm; do
        printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite"
    done > "$aptdir/sources.list"
    log "apt-get update (trixie, sid, bookworm; amd64 and arm64) from $mirror"
    apt-get "${apt_opts[@]}" update >&2 || die "apt-get update of the private lists failed"
    apt_updated=1
}
# download DIR PKG...: the packages' .debs into DIR (apt-get download; PKG as apt names it: name:arch/suite).
download() {
    local dir="$1"; shift
    private_apt_update
    mkdir -p "$dir"
    (cd "$dir" && apt-get "${apt_opts[@]}" download "$@" >&2) || die "apt-get download $* failed"
}

# --- the build root: Debian sid amd64 with swiftlang ---------------------------------------------
t0="$(now)"
root_pkgs=(swiftlang libc6-dev libstdc++-15-dev pkg-config git ca-certificates
    gcc-14-aarch64-linux-gnu binutils-aarch64-linux-gnu make libelf1t64 libssl3t64 dwarves xz-utils kmod)
if ! [ -f "$root/.rlt-complete" ]; then
    ! grep -q " $root/" /proc/mounts || die "something is still mounted under $root (an interrupted run?): umount -R it first"
    rm -rf "$root"
    mkdir -p "$cache"
    # sid changes several times a day; a mirror in the middle of an update can miss packages its index
    # names ("Couldn't find these debs"), so a failed debootstrap is tried again, three times at most.
    for attempt in 1 2 3; do
        log "debootstrap --variant=minbase sid $root (attempt $attempt)"
        debootstrap --variant=minbase sid "$root" "$mirror" > "$cache/debootstrap.log" 2>&1 && break
        grep -a '^E:' "$cache/debootstrap.log" | cut -c1-300 >&2 || true
        [ "$attempt" != 3 ] || die "debootstrap sid failed three times ($cache/debootstrap.log)"
        rm -rf "$root"
        sleep 60
    done
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    # The archive may be a dated snapshot: its Release files' Valid-Until lies in the past.
    echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/99rlt-snapshot"
    log "installing in the root: ${root_pkgs[*]}"
    chroot "$root" env DEBIAN_FRONTEND=noninteractive sh -c \
        "apt-get update -q && apt-get install -y -q --no-install-recommends ${root_pkgs[*]}" \
        > "$cache/root-install.log" 2>&1 || { tail -n 20 "$cache/root-install.log" >&2; die "apt-get install in the sid root failed"; }
    touch "$root/.rlt-complete"
fi
swift_version="$(chroot "$root" dpkg-query -W -f='${Version}' swiftlang)"
timings+=("sid root $(since "$t0")s")

# --- the Swift SDK: Debian 13 arm64 sysroot + sid's arm64 Swift runtime of the same version -------
t0="$(now)"
target_pkgs=(libc6 libc6-dev libgcc-s1 libgcc-14-dev libstdc++6 libstdc++-14-dev libgpiod3 libgpiod-dev
    libmosquitto1 libmosquitto-dev libsqlite3-0 libsqlite3-dev zlib1g zlib1g-dev libssl3t64 libcjson1
    libcrypt1 libcrypt-dev libatomic1 libzstd1 busybox-static base-files)
stamp="$bundle/.complete-$swift_version"
if ! [ -f "$stamp" ]; then
    rm -rf "$bundle"
    debs="$cache/debs/sysroot"
    rm -rf "$debs"
    names=(linux-libc-dev/trixie)     # arch: all
    for pkg in "${target_pkgs[@]}"; do names+=("$pkg:arm64/trixie"); done
    log "downloading Debian 13 arm64: ${target_pkgs[*]} linux-libc-dev"
    download "$debs" "${names[@]}"
    runtime="$cache/debs/swiftlang-arm64"
    if [ "$(dpkg-deb -f "$(ls "$runtime"/swiftlang_*_arm64.deb 2>/dev/null | head -n1)" Version 2>/dev/null)" != "$swift_version" ]; then
        rm -rf "$runtime"
        log "downloading swiftlang:arm64 $swift_version (sid; the aarch64 Swift runtime, ~500 MB)"
        download "$runtime" "swiftlang:arm64=$swift_version"
    fi
    work="$(mktemp -d "$cache/sdk.tmp.XXXXXX")"
    wsys="$work/$sdk_name/sysroot"
    mkdir -p "$wsys" "$work/dpkg/info" "$work/dpkg/updates"
    status="$work/dpkg/status"
    : > "$status"
    for d in "$debs"/*.deb; do
        dpkg-deb -x "$d" "$wsys"
        # A dpkg database for this sysroot (deploy/deb/build.sh --sysroot): dpkg-shlibdeps finds a library's
        # package by its path, so the file lists name the paths under the sysroot's final location.
        pkg="$(dpkg-deb -f "$d" Package)"
        parch="$(dpkg-deb -f "$d" Architecture)"
        ma="$(dpkg-deb -f "$d" Multi-Arch)"
        key="$pkg"; [ "$ma" != same ] || key="$pkg:$parch"
        { dpkg-deb -f "$d" Package Version Architecture Multi-Arch Maintainer Description
            echo "Status: install ok installed"; echo; } >> "$status"
        dpkg-deb --fsys-tarfile "$d" | tar -t | sed -e 's#^\./#/#' -e 's#/$##' -e '/^$/d' -e "s#^#$sysroot#" > "$work/dpkg/info/$key.list"
        ctl="$(mktemp -d)"
        dpkg-deb -e "$d" "$ctl"
        for f in symbols shlibs; do [ ! -f "$ctl/$f" ] || cp "$ctl/$f" "$work/dpkg/info/$key.$f"; done
        rm -rf "$ctl"
    done
    printf 'amd64\narm64\n' > "$work/dpkg/arch"
    echo 1 > "$work/dpkg/info/format"   # multiarch file names: info/<package>:<arch>.list
    ln -s usr/lib "$wsys/lib"        # the loader's path /lib/ld-linux-aarch64.so.1 (merged /usr)
    log "unpacking the aarch64 Swift runtime from swiftlang:arm64 $swift_version"
    dpkg-deb --fsys-tarfile "$runtime"/swiftlang_*_arm64.deb | tar -x -C "$work" --wildcards \
        './usr/libexec/swift/lib/swift/*' './usr/libexec/swift/lib/swift_static/*' './usr/libexec/swift/lib/clang/*'
    # Where a Swift SDK keeps them (the resource directories' clang -> ../clang/N links keep working).
    mv "$work/usr/libexec/swift/lib/swift" "$work/usr/libexec/swift/lib/swift_static" "$work/usr/libexec/swift/lib/clang" \
        "$wsys/usr/lib/"
    rm -rf "$work/usr"
    # base-files brings an empty var/lib/dpkg; the database made above takes its place.
    rm -rf "$wsys/var/lib/dpkg"
    mkdir -p "$wsys/var/lib"
    mv "$work/dpkg" "$wsys/var/lib/dpkg"
    cat > "$work/info.json" <<EOF
{
  "schemaVersion": "1.0",
  "artifacts": {
    "$sdk_name": { "type": "swiftSDK", "version": "$swift_version", "variants": [ { "path": "$sdk_name" } ] }
  }
}
EOF
    cat > "$work/$sdk_name/swift-sdk.json" <<EOF
{
  "schemaVersion": "4.0",
  "targetTriples": {
    "$triple": {
      "sdkRootPath": "sysroot",
      "swiftResourcesPath": "sysroot/usr/lib/swift",
      "swiftStaticResourcesPath": "sysroot/usr/lib/swift_static",
      "toolsetPaths": ["toolset.json"]
    }
  }
}
EOF
    # lld comes with swiftlang; binutils' ld for aarch64 would do as well.
    printf '{ "schemaVersion": "1.0", "swiftCompiler": { "extraCLIOptions": ["-use-ld=lld"] } }\n' \
        > "$work/$sdk_name/toolset.json"
    mkdir -p "$(dirname "$bundle")"
    mv -T "$work" "$bundle"
    touch "$stamp"
fi
timings+=("SDK $(since "$t0")s")

# --- guest kernel, configfs.ko, gpio-sim.ko ------------------------------------------------------
t0="$(now)"
private_kernel() {
    private_apt_update
    # e.g. "Depends: linux-image-6.12.117+deb13-arm64 (= 6.12.117-1)"
    apt-cache "${apt_opts[@]}" show linux-image-arm64:arm64/trixie 2>/dev/null |
        sed -n 's/^Depends: linux-image-\([^ ,]*\)-arm64 .*/\1/p' | head -n1
}
kabi="${RLT_ARM64_KERNEL_ABI:-$(cat "$cache/kernel/abi" 2>/dev/null || true)}"
[ -n "$kabi" ] || kabi="$(private_kernel)"
[ -n "$kabi" ] || die "could not read the kernel ABI from trixie's linux-image-arm64"
kdir="$cache/kernel/$kabi"
script_hash="$(cat "$0" "$here/build-gpio-sim.sh" | sha256sum | cut -c1-12)"
if ! [ -f "$kdir/gpio-sim-$script_hash.ko" ]; then
    kdebs="$cache/debs/kernel-$kabi"
    if ! [ -f "$kdebs/.complete" ]; then
        rm -rf "$kdebs"
        log "downloading trixie's arm64 kernel $kabi, its headers, kbuild and linux-source-${kabi%.*}"
        download "$kdebs" "linux-image-$kabi-arm64:arm64/trixie" "linux-headers-$kabi-arm64:arm64/trixie" \
            "linux-headers-$kabi-common/trixie" "linux-kbuild-$kabi/trixie" "linux-source-${kabi%.*}/trixie"
        touch "$kdebs/.complete"
    fi
    work="$(mktemp -d "$cache/kernel.tmp.XXXXXX")"
    dpkg-deb --fsys-tarfile "$kdebs"/linux-image-*.deb | tar -x -C "$work" --wildcards './boot/vmlinuz-*' \
        "./usr/lib/modules/$kabi-arm64/kernel/fs/configfs/configfs.ko*"
    mv "$work"/boot/vmlinuz-* "$work/Image"
    mv "$work"/usr/lib/modules/*/kernel/fs/configfs/configfs.ko* "$work/"
    rm -rf "$work/boot" "$work/usr"
    grep -q 'CONFIG_GPIO_SIM=[ym]' <(dpkg-deb --fsys-tarfile "$kdebs"/linux-image-*.deb | tar -xO "./boot/config-$kabi-arm64") &&
        log "note: this kernel has CONFIG_GPIO_SIM; the out-of-tree module is built anyway"
    # Headers and kbuild go into the build root: its Makefile includes the common headers by absolute path,
    # and kbuild's host programs need a newer glibc than Debian 12's.
    for d in "$kdebs"/linux-headers-*.deb "$kdebs"/linux-kbuild-*.deb; do dpkg-deb -x "$d" "$root"; done
    # The three sources and the two edits of build-gpio-sim.sh (irq_sim linked into the module).
    src="$root/build/gpio-sim-$kabi"
    rm -rf "$src"
    mkdir -p "$src/x"
    dpkg-deb --fsys-tarfile "$kdebs"/linux-source-*.deb | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
        tar -xJ -C "$src/x" --strip-components=1 --wildcards '*/drivers/gpio/gpio-sim.c' '*/drivers/gpio/gpiolib.h' '*/kernel/irq/irq_sim.c'
    cp "$src/x/drivers/gpio/gpio-sim.c" "$src/gpio-sim-core.c"
    cp "$src/x/drivers/gpio/gpiolib.h" "$src/gpiolib.h"
    sed -e '/^EXPORT_SYMBOL_GPL(/d' \
        -e 's/handle_simple_irq(irq_to_desc(\([a-z_]*\)));/generic_handle_irq(\1);/' \
        "$src/x/kernel/irq/irq_sim.c" > "$src/irq_sim.c"
    if grep -q 'EXPORT_SYMBOL\|irq_to_desc' "$src/irq_sim.c" || ! grep -q 'generic_handle_irq(' "$src/irq_sim.c"; then
        die "kernel/irq/irq_sim.c of $kabi no longer matches the expected edits"
    fi
    printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-core.o irq_sim.o\n' > "$src/Kbuild"
    log "building gpio-sim.ko for $kabi-arm64 (aarch64-linux-gnu-gcc-14 in the sid root)"
    chroot "$root" make -s -C "/usr/src/linux-headers-$kabi-arm64" M="/build/gpio-sim-$kabi" modules >&2 ||
        die "gpio-sim module build failed"
    cp "$src/gpio-sim.ko" "$work/gpio-sim-$script_hash.ko"
    echo "$kabi" > "$work/abi"
    rm -rf "$kdir"
    mkdir -p "$cache/kernel"
    mv -T "$work" "$kdir"
    cp "$kdir/abi" "$cache/kernel/abi"
fi
configfs="$(ls "$kdir"/configfs.ko*)"
timings+=("kernel and gpio-sim $(since "$t0")s")

# --- the guest's libgpiod v1 tools (Debian 12 arm64 gpiod) ----------------------------------------
tools="$cache/guest-tools"
if ! [ -x "$tools/usr/bin/gpiodetect" ]; then
    download "$cache/debs/guest-tools" gpiod:arm64/bookworm libgpiod2:arm64/bookworm
    rm -rf "$tools.tmp"
    for d in "$cache"/debs/guest-tools/*.deb; do dpkg-deb -x "$d" "$tools.tmp"; done
    mv -T "$tools.tmp" "$tools"
fi

# --- cross build in the sid root ------------------------------------------------------------------
mounted=()
cleanup() {
    local status=$? i
    for (( i=${#mounted[@]}-1; i>=0; i-- )); do
        umount -R "${mounted[$i]}" 2>/dev/null || umount -R -l "${mounted[$i]}" 2>/dev/null || true
    done
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mnt() { local target="$1"; shift; mkdir -p "$target"; mount "$@" "$target"; mounted+=("$target"); }
mnt "$root/proc" -t proc proc
mnt "$root/dev" --rbind /dev
mount --make-rslave "$root/dev"
mnt "$root/src" --bind "$repo"
mnt "$root$cache/sdk" --bind "$cache/sdk"
# The machine's Swift package mirror, when it has one (as deploy/deb/build-in-root.sh uses it).
if [ -d /opt/swift-packages ]; then
    mnt "$root/opt/swift-packages" --bind /opt/swift-packages
    mount -o remount,bind,ro "$root/opt/swift-packages"
    printf '[url "/opt/swift-packages/"]\n\tinsteadOf = https://github.com/\n[safe]\n\tdirectory = *\n' > "$root/etc/gitconfig"
else
    printf '[safe]\n\tdirectory = *\n' > "$root/etc/gitconfig"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
# pkg-config sees only the target's .pc files (Package.swift picks the libgpiod v2 backend from them).
target_env=(PKG_CONFIG_LIBDIR="$sysroot/usr/lib/$multiarch/pkgconfig:$sysroot/usr/share/pkgconfig"
    PKG_CONFIG_SYSROOT_DIR="$sysroot" HOME=/root)
cross_build() {
    chroot "$root" env "${target_env[@]}" sh -c 'cd /src && exec nice -n 10 "$@"' sh \
        swift build -c release --static-swift-stdlib --scratch-path "$scratch" \
        --swift-sdks-path "$cache/sdk" --swift-sdk "$sdk_name" "$@"
}
mkdir -p "$scratch"
selftest="${RLT_ARM64_SELFTEST:-}"
if [ -z "$selftest" ]; then
    t0="$(now)"
    log "swift build --product rlt-gpio-selftest (Swift $swift_version, $triple, Debian 13 sysroot)"
    cross_build --product rlt-gpio-selftest > "$scratch/selftest-build.log" 2>&1 ||
        { tail -n 30 "$scratch/selftest-build.log" >&2; echo "0 passed, 1 failed (arm64 build failed)"; exit 1; }
    tail -n 1 "$scratch/selftest-build.log" >&2
    timings+=("selftest build $(since "$t0")s")
    selftest="$bin_dir/rlt-gpio-selftest"
fi
file -b "$selftest" | grep -q 'ELF 64-bit LSB.*ARM aarch64' || die "$selftest is not an arm64 binary: $(file -b "$selftest")"
needed="$(readelf -d "$selftest" | sed -n 's/.*(NEEDED).*\[\(libgpiod\.so\.[0-9]*\)\].*/\1/p')"
[ "$needed" = libgpiod.so.3 ] || die "$selftest needs '${needed:-no libgpiod}', not Debian 13's libgpiod.so.3"

if [ "$gateway" = 1 ]; then
    t0="$(now)"
    log "swift build --product rlt-gateway (full RELRO, as deploy/deb/build.sh)"
    cross_build --product rlt-gateway -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now \
        > "$scratch/gateway-build.log" 2>&1 || { tail -n 30 "$scratch/gateway-build.log" >&2; die "rlt-gateway arm64 build failed"; }
    tail -n 1 "$scratch/gateway-build.log" >&2
    timings+=("gateway build $(since "$t0")s")
    file "$bin_dir/rlt-gateway" >&2
fi
# The guest needs no debug sections (smaller initramfs, quicker boot).
guest_bin="$cache/guest/rlt-gpio-selftest"
mkdir -p "$cache/guest"
aarch64-linux-gnu-strip --strip-debug -o "$guest_bin" "$selftest"
for (( i=${#mounted[@]}-1; i>=0; i-- )); do umount -R "${mounted[$i]}" 2>/dev/null || umount -R -l "${mounted[$i]}"; done
mounted=()

if [ "$deb" = 1 ]; then
    t0="$(now)"
    bash deploy/deb/build.sh --arch arm64 --binary "$bin_dir/rlt-gateway" --sysroot "$sysroot" >&2 ||
        die "deploy/deb/build.sh --arch arm64 failed"
    pkg="$(ls -t .build/deb/rlt-gateway_*_arm64.deb | head -n1)"
    log "dpkg-deb -c $pkg"
    dpkg-deb -c "$pkg" >&2
    x="$(mktemp -d)"
    dpkg-deb -x "$pkg" "$x"
    log "file usr/bin/rlt-gateway: $(file -b "$x/usr/bin/rlt-gateway")"
    file -b "$x/usr/bin/rlt-gateway" | grep -q 'ELF 64-bit LSB.*ARM aarch64' || die "the package's binary is not arm64"
    rm -rf "$x"
    timings+=("deb $(since "$t0")s")
fi

if [ "$boot" = 0 ]; then
    log "timing: ${timings[*]}, total $(since "$t_start")s"
    exit 0
fi

# --- boot: run.sh with the arm64 kernel, target root and tools -----------------------------------
t0="$(now)"
out="$(mktemp)"
set +e
RLT_QEMU_TIMEOUT="${RLT_QEMU_TIMEOUT:-300}" bash "$here/run.sh" --arch arm64 --kernel "$kdir/Image" \
    --module "$kdir/gpio-sim-$script_hash.ko" --configfs "$configfs" --sysroot "$sysroot" --tools-root "$tools" \
    --binary "$guest_bin" --binary "$here/guest-selftest.sh" --guest-cmd guest-selftest.sh --guest-timeout 240 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
timings+=("boot+test $(since "$t0")s")
closing="$(tail -n 1 "$out")"
rm -f "$out"
log "timing: ${timings[*]}, total $(since "$t_start")s"
printf '%s\n' "$closing" | grep -Eq '^[0-9]+ passed, [0-9]+ failed$' || { echo "0 passed, 1 failed"; exit 1; }
exit "$rc"
