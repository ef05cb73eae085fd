#!/bin/bash
# Runs a command against libgpiod 2 (Debian 13's libgpiod-dev and libgpiod3) on a Debian 12 machine, whose own
# libgpiod is 1.6: the way to build and test the project's libgpiod v2 backend here.
#
# usage: Tests/qemu/gpiod2.sh COMMAND [ARG]...
#        Tests/qemu/gpiod2.sh --libdir      prints the directory holding libgpiod.so.3
# e.g.   bash Tests/qemu/gpiod2.sh swift build -c release --product rlt-gpio-selftest --static-swift-stdlib \
#            --scratch-path .build-gpiod2
#        bash Tests/qemu/gpiod2.sh swift test --scratch-path .build-gpiod2 --filter GPIOTests
#
# The first run downloads the two packages with apt-get from the suite's index (a private sources list, lists
# and cache under the cache directory: the machine's apt configuration is not touched, and no root is needed),
# unpacks them with dpkg-deb and writes a libgpiod.pc whose prefix is the unpacked tree; later runs reuse it.
# COMMAND then runs with PKG_CONFIG_PATH finding that libgpiod.pc first, so Package.swift selects the v2
# backend and CGPIOD compiles against the v2 header. For `swift build` and `swift test` the linker also gets
# an rpath to the unpacked libgpiod.so.3, so the binary runs without installing anything (and the qemu test's
# initramfs builder, which copies what `ldd` resolves, brings that library along). Use a scratch path of its own
# (`.build-gpiod2…`): a build directory shared with the v1 build would flip between the two.
#
# Trixie's libgpiod3 2.2.1 needs glibc symbols up to 2.33 only, so it loads on Debian 12's glibc 2.36.
#
# environment: RLT_GPIOD2_CACHE (default /var/tmp/rlt-gpiod2), RLT_GPIOD2_SUITE (default trixie),
#   RLT_GPIOD2_MIRROR (default: the archive URI this machine's apt uses for its own release).
set -euo pipefail

cache="${RLT_GPIOD2_CACHE:-/var/tmp/rlt-gpiod2}"
suite="${RLT_GPIOD2_SUITE:-trixie}"
arch="$(dpkg --print-architecture)"
multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)"
tree="$cache/$suite-$arch"
libdir="$tree/root/usr/lib/$multiarch"

# lib.sh's helpers (debian_mirror: the archive this machine already installs from, so no host is
# written into the project), with this script's own log prefix.
# shellcheck source=Tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
log() { printf '[gpiod2] %s\n' "$*" >&2; }
die() { printf '[gpiod2] error: %s\n' "$*" >&2; exit 1; }

fetch() {
    local uri keyring work apt_opts
    uri="$(RLT_DEBIAN_MIRROR="${RLT_GPIOD2_MIRROR:-${RLT_DEBIAN_MIRROR:-}}" debian_mirror)"
    [ -n "$uri" ] || die "no Debian archive found in apt's sources (set RLT_GPIOD2_MIRROR)"
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -r "$keyring" ] || die "$keyring missing (install debian-archive-keyring)"
    mkdir -p "$cache"
    work="$(mktemp -d "$tree.tmp.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/debs" "$work/root" "$work/pkgconfig"
    printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$uri" "$suite" > "$work/apt/sources.list"
    apt_opts=(-q -o "Dir::Etc::sourcelist=$work/apt/sources.list" -o Dir::Etc::sourceparts=-
        -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -o "Dir::State::status=/dev/null"
        -o "APT::Architecture=$arch" -o APT::Sandbox::User=root)
    log "downloading libgpiod-dev and libgpiod3 from $suite ($uri) into $tree"
    apt-get "${apt_opts[@]}" update >&2 || die "apt-get update of $suite failed"
    (cd "$work/debs" && apt-get "${apt_opts[@]}" download libgpiod-dev libgpiod3 >&2) ||
        die "apt-get download libgpiod-dev libgpiod3 from $suite failed"
    for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
    local pc="$work/root/usr/lib/$multiarch/pkgconfig/libgpiod.pc"
    [ -f "$pc" ] || die "libgpiod-dev from $suite has no $multiarch/pkgconfig/libgpiod.pc"
    # The packaged prefix is /usr; the unpacked tree moves to $tree at the end, so point there.
    sed "s|^prefix=.*|prefix=$tree/root/usr|" "$pc" > "$work/pkgconfig/libgpiod.pc"
    (cd "$work/debs" && ls) > "$work/packages.txt"
    rm -rf "$work/apt"
    rm -rf "$tree"
    mv -T "$work" "$tree"
    trap - EXIT
}

[ -f "$tree/pkgconfig/libgpiod.pc" ] || fetch
export PKG_CONFIG_PATH="$tree/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
version="$(pkg-config --modversion libgpiod)" || die "pkg-config cannot read $tree/pkgconfig/libgpiod.pc"
case "$version" in
    2.*) ;;
    *) die "$tree holds libgpiod $version, not 2.x (remove it to download again)" ;;
esac
[ -e "$libdir/libgpiod.so.3" ] || die "$libdir/libgpiod.so.3 missing (remove $tree to download again)"

if [ "${1:-}" = --libdir ]; then
    printf '%s\n' "$libdir"
    exit 0
fi
[ $# -gt 0 ] || die "usage: gpiod2.sh COMMAND [ARG]... | --libdir"
log "libgpiod $version from $(tr '\n' ' ' < "$tree/packages.txt")"
if [ "$1" = swift ] && { [ "${2:-}" = build ] || [ "${2:-}" = test ]; }; then
    exec "$@" -Xlinker -rpath -Xlinker "$libdir"
fi
exec "$@"
