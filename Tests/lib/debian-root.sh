# Fresh Debian roots for the package tests (Tests/deb/run.sh, Tests/deb/systemd-boot.sh); sourced, never run.
# shellcheck shell=bash
# The caller defines log MESSAGE and die MESSAGE, and runs as root.

# debian_root_mirror: the Debian archive this machine's apt uses (its first source that is not the
# security archive), so no host is written into the project.
debian_root_mirror() {
    local mirror
    mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1 || true)
    [ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n 1 || true)
    [ -n "$mirror" ] || die "no Debian mirror in this machine's apt sources"
    printf '%s\n' "$mirror"
}

# debian_root_security_mirror: this machine's security archive (empty if it uses none).
debian_root_security_mirror() {
    { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
      grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}'; } | grep security | head -n 1 || true
}

# debian_root_tarball RELEASE CACHE MIRROR [WANT] [ARCH]: prints the path of a gzip'd tarball of a fresh
# RELEASE root for ARCH (default amd64). For bookworm amd64 that is the fresh-machine check's cached
# tarball (CACHE/bookworm-base-*.tgz) when there is one, unless WANT is `minbase`; otherwise
# `debootstrap --variant=minbase` from MIRROR, made once and cached as CACHE/deb-RELEASE-minbase.tgz
# (CACHE/deb-RELEASE-ARCH-minbase.tgz for another architecture; call debian_root_foreign ARCH first).
debian_root_tarball() {
    local release=$1 cache=$2 mirror=$3 want=${4:-} arch=${5:-amd64} tarball="" build t0 name
    mkdir -p "$cache"
    if [ "$release" = bookworm ] && [ "$arch" = amd64 ] && [ "$want" != minbase ]; then
        tarball=$(ls -t "$cache"/bookworm-base-*.tgz 2>/dev/null | head -n 1 || true)
    fi
    if [ -z "$tarball" ]; then
        name=$release
        [ "$arch" = amd64 ] || name="$release-$arch"
        tarball="$cache/deb-$name-minbase.tgz"
        if [ ! -f "$tarball" ]; then
            command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
            build="$cache/deb-debootstrap.$$"
            t0=$(date +%s)
            log "debootstrap --arch $arch --variant=minbase $release (from this machine's mirror)" >&2
            debootstrap --arch "$arch" --variant=minbase "$release" "$build" "$mirror" >"$cache/deb-debootstrap-$name.log" 2>&1 ||
                { tail -n 20 "$cache/deb-debootstrap-$name.log" >&2; rm -rf --one-file-system "$build"; die "debootstrap failed"; }
            chroot "$build" apt-get clean
            tar -C "$build" -czf "$tarball.$$.tmp" . && mv "$tarball.$$.tmp" "$tarball"
            rm -rf --one-file-system "$build"
            log "root cached in $(( $(date +%s) - t0 )) s: $tarball" >&2
        fi
    fi
    printf '%s\n' "$tarball"
}

# debian_root_foreign ARCH: lets this amd64 machine run ARCH's programs, in a chroot too (arm64 only):
# qemu-aarch64-static registered with binfmt_misc from Debian's own entry, whose F flag opens the
# interpreter at registration, so it works inside a root that has no qemu.
debian_root_foreign() {
    case "$1" in
        amd64) return 0 ;;
        arm64) ;;
        *) die "no emulation set up for '$1'" ;;
    esac
    command -v qemu-aarch64-static >/dev/null || apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
        die "no binfmt_misc: an arm64 root cannot run here"
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register ||
        die "could not register qemu-aarch64 with binfmt_misc"
    grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
        die "qemu-aarch64 is registered without the F flag: it cannot run in a chroot"
}

# debian_root_apt ROOT RELEASE MIRROR: the root's apt reads MIRROR's RELEASE main only (plus this
# machine's registry settings, if any) and resolves names as this machine does.
debian_root_apt() {
    local root=$1 release=$2 mirror=$3 f
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
    echo "deb $mirror $release main" >"$root/etc/apt/sources.list"
    for f in /etc/apt/apt.conf.d/99artifact-registry; do [ -f "$f" ] && cp "$f" "$root/etc/apt/apt.conf.d/"; done
    return 0
}
