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

# debian_root_tarball RELEASE CACHE MIRROR [minbase]: prints the path of a gzip'd tarball of a fresh
# RELEASE root. For bookworm that is the fresh-machine check's cached tarball (CACHE/bookworm-base-*.tgz)
# when there is one, unless the fourth argument is `minbase`; otherwise `debootstrap --variant=minbase`
# from MIRROR, made once and cached as CACHE/deb-RELEASE-minbase.tgz.
debian_root_tarball() {
    local release=$1 cache=$2 mirror=$3 want=${4:-} tarball="" build t0
    mkdir -p "$cache"
    if [ "$release" = bookworm ] && [ "$want" != minbase ]; then
        tarball=$(ls -t "$cache"/bookworm-base-*.tgz 2>/dev/null | head -n 1 || true)
    fi
    if [ -z "$tarball" ]; then
        tarball="$cache/deb-$release-minbase.tgz"
        if [ ! -f "$tarball" ]; then
            command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
            build="$cache/deb-debootstrap.$$"
            t0=$(date +%s)
            log "debootstrap --variant=minbase $release (from this machine's mirror)" >&2
            debootstrap --variant=minbase "$release" "$build" "$mirror" >"$cache/deb-debootstrap-$release.log" 2>&1 ||
                { tail -n 20 "$cache/deb-debootstrap-$release.log" >&2; rm -rf --one-file-system "$build"; die "debootstrap failed"; }
            chroot "$build" apt-get clean
            tar -C "$build" -czf "$tarball.$$.tmp" . && mv "$tarball.$$.tmp" "$tarball"
            rm -rf --one-file-system "$build"
            log "root cached in $(( $(date +%s) - t0 )) s: $tarball" >&2
        fi
    fi
    printf '%s\n' "$tarball"
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
