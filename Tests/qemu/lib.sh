# Shared helpers for the qemu GPIO test scripts; sourced, never run.
# shellcheck shell=bash

# Where built artefacts live between runs. Outside the git tree so a CI rerun in a fresh clone
# still finds the module it built last time on the same machine.
RLT_QEMU_CACHE="${RLT_QEMU_CACHE:-/var/tmp/rlt-qemu}"

log() { printf '[qemu-test] %s\n' "$*" >&2; }
die() { printf '[qemu-test] error: %s\n' "$*" >&2; exit 1; }

# Timing lines: `t=$(now)`, later "took $(since "$t") s" (seconds, one decimal).
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The kernel ABI ("6.1.0-56") is read from the installed linux-image-amd64 metapackage's dependency,
# so a Debian point release that moves the ABI needs no script change. RLT_KERNEL_ABI overrides it.
kernel_abi() {
    if [ -n "${RLT_KERNEL_ABI:-}" ]; then
        printf '%s\n' "$RLT_KERNEL_ABI"
        return
    fi
    local deps
    deps="$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null)" \
        || die "linux-image-amd64 is not installed (needed for the guest kernel)"
    # e.g. "linux-image-6.1.0-56-amd64 (= 6.1.192-2)"
    printf '%s\n' "$deps" | sed -n 's/.*linux-image-\([0-9][0-9.]*-[0-9][0-9]*\)-amd64.*/\1/p' | head -n1
}

# installed PKG: whether the Debian package is installed on this machine.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# apt_install PKG...: installs packages with apt-get (sudo when not root); RLT_QEMU_NO_INSTALL=1 forbids it.
apt_install() {
    [ "${RLT_QEMU_NO_INSTALL:-0}" != 1 ] || die "missing packages: $* (RLT_QEMU_NO_INSTALL=1)"
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || die "missing packages: $* (not root and no sudo: as root, apt-get install them)"
        sudo=(sudo)
    fi
    log "installing: $*"
    "${sudo[@]}" apt-get update -q >&2 || die "apt-get update failed; missing packages: $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
        die "apt-get install failed; missing packages: $*"
}

# debian_mirror: the Debian archive this machine's apt installs its own release from (as gpiod2.sh
# finds it), so no host is written into the project; RLT_DEBIAN_MIRROR overrides it.
debian_mirror() {
    if [ -n "${RLT_DEBIAN_MIRROR:-}" ]; then
        printf '%s\n' "$RLT_DEBIAN_MIRROR"
        return
    fi
    local codename
    codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
    # `apt-cache policy` lines: " 500 http://host/debian bookworm/main amd64 Packages"
    apt-cache policy 2>/dev/null | awk -v s="$codename/main" '$3 == s { print $2; exit }'
}
