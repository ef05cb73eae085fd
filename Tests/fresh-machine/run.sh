#!/usr/bin/env bash
# The fresh-machine check (issue 18): every documented command works on a pristine Debian 12 that
# has only a Swift toolchain.
#
#   bash Tests/fresh-machine/run.sh [--quick] [--only STEP,...] [--ref REF] [--keep]
#
# Creates a Debian 12 root with debootstrap (minbase + swift.org's documented toolchain
# dependencies + sudo; the tarball is cached in /var/tmp/rlt-fresh), bind-mounts the Swift toolchain
# (/opt/swift) and this machine type's Swift package mirror (/opt/swift-packages, with the git
# `insteadOf` rules that make github.com URLs resolve to it) read-only, clones the committed REF
# (default HEAD; never the work tree) into it and runs, inside that root (chroot; /proc, /sys, /dev
# mounted and unmounted on exit):
#
#   demo     bash deploy/demo.sh                  as a user with sudo, /usr/sbin not on PATH
#   bench    Benchmarks/run --micro-only          as that user (release build, static Swift stdlib)
#   install  bash deploy/install.sh               as root (the release build the packages use)
#   install-fleet  bash deploy/install.sh --fleet as root (rlt-fleet's static release build)
#   tests    RLT_SKIP_QEMU=1 RLT_SKIP_HA=1 bash Tests/run.sh   as root, like CI
#
# Nothing of the project is pre-installed: each command's own set-up must install what it needs.
# --quick also sets RLT_SKIP_RELIABILITY=1 for the tests; --only runs the named steps only (e.g.
# `--only bench`; also `fleet`, `reliability`: those stages of the test command alone); --keep leaves the root in /var/tmp/rlt-fresh for inspection. Prints every step's
# exit status and wall time; exits non-zero when any step failed. Needs root (or sudo) and Debian's
# registry. What it deliberately does not cover, and why: Tests/fresh-machine/README.md.
# The whole script is one { } block: bash parses it completely before running any of it, so
# editing or checking out this file while a check runs cannot change the running check.
{
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "fresh-machine: needs root (debootstrap, chroot, mounts): run as root or with sudo" >&2; exit 1; }
    exec sudo --preserve-env=RLT_FRESH_CACHE,RLT_FRESH_MIRROR,RLT_FRESH_SWIFT,RLT_FRESH_PACKAGES bash "$0" "$@"
fi

quick=0 keep=0 ref=HEAD only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --keep) keep=1 ;;
        --ref) ref="$2"; shift ;;
        --only) only="$2"; shift ;;
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
        *) echo "fresh-machine: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
steps=(demo bench install install-fleet tests)
if [ -n "$only" ]; then
    IFS=, read -r -a steps <<<"$only"
    for s in "${steps[@]}"; do
        case "$s" in demo|bench|install|install-fleet|tests|fleet|reliability) ;;
            *) echo "fresh-machine: unknown step '$s' (demo, bench, install, install-fleet, tests, fleet, reliability)" >&2; exit 2 ;; esac
    done
fi

cache=${RLT_FRESH_CACHE:-/var/tmp/rlt-fresh}
mirror=${RLT_FRESH_MIRROR:-http://deb.debian.org/debian}
swift_dir=${RLT_FRESH_SWIFT:-/opt/swift}
packages_dir=${RLT_FRESH_PACKAGES:-/opt/swift-packages}

# swift.org's install guide, "Linux Installation via Tarball", Debian 12:
#   binutils-gold gcc git libcurl4-openssl-dev libedit-dev libicu-dev libncurses-dev libpython3-dev
#   libsqlite3-dev libxml2-dev pkg-config tzdata uuid-dev
# taken as is, except: binutils-gold is a virtual package in bookworm (binutils provides ld.gold),
# and libcurl4-openssl-dev is replaced by its runtime library libcurl4 on purpose. The toolchain
# itself needs only libcurl.so.4 (swift-build loads it: without it `swift build` stops with
# "libcurl.so.4: cannot open shared object file"); the -dev package (libcurl.so, headers) is needed
# only to link a program that uses Foundation's networking part with --static-swift-stdlib (here
# rlt-fleet, whose set-up `deploy/setup.sh --fleet` installs it; rlt-gateway links no curl). A
# machine whose Swift came another way (this machine type's /opt/swift) has libcurl4 but not the
# -dev package, so a project that needs it must install it itself, and this check must see when it
# does not.
# sudo: the check runs the demo as a user with sudo, as a new developer would.
toolchain_deps=(binutils gcc git libcurl4 libedit-dev libicu-dev libncurses-dev libpython3-dev libsqlite3-dev
    libxml2-dev pkg-config tzdata uuid-dev)
machine_extra=(sudo)

log() { echo "fresh-machine: $*"; }
die() { echo "fresh-machine: $*" >&2; exit 1; }

[ -x "$swift_dir/usr/bin/swift" ] || die "no Swift toolchain at $swift_dir (set RLT_FRESH_SWIFT)"
[ -d "$packages_dir" ] || die "no Swift package mirror at $packages_dir (set RLT_FRESH_PACKAGES)"
sha=$(git -C "$repo" rev-parse --verify "$ref^{commit}") || die "no commit '$ref' in $repo"
if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
        die "could not install debootstrap (apt-get install debootstrap)"
fi
export PATH="$PATH:/usr/sbin:/sbin"
mkdir -p "$cache"

# --- the base root, cached -----------------------------------------------------------------------
key=$(printf '%s\n' bookworm "$mirror" "${toolchain_deps[@]}" "${machine_extra[@]}" | sha256sum | cut -c1-12)
tarball="$cache/bookworm-base-$key.tgz"
t0=$(date +%s)
if [ ! -f "$tarball" ]; then
    build="$cache/debootstrap.$$"
    rm -rf "$build"
    log "debootstrap bookworm (minbase + ${toolchain_deps[*]} ${machine_extra[*]}) into $build"
    incl=$(IFS=,; echo "${toolchain_deps[*]},${machine_extra[*]}")
    debootstrap --variant=minbase --include="$incl" bookworm "$build" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
        { tail -n 20 "$cache/debootstrap.log"; rm -rf --one-file-system "$build"; die "debootstrap failed (log: $cache/debootstrap.log)"; }
    chroot "$build" apt-get clean
    tar -C "$build" -czf "$tarball.$$.tmp" . && mv "$tarball.$$.tmp" "$tarball"
    rm -rf --one-file-system "$build"
    log "base root cached: $tarball ($(( $(date +%s) - t0 )) s)"
fi

root=$(mktemp -d "$cache/root.XXXXXX")
chmod 0755 "$root"
mounted=()
cleanup() {
    local status=$?
    # Processes left inside the root (a broker, a gateway) are this check's own: end them first.
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null
    done
    sleep 0.5
    for (( i=${#mounted[@]}-1; i>=0; i-- )); do
        umount -R "${mounted[$i]}" 2>/dev/null || umount -R -l "${mounted[$i]}" 2>/dev/null || true
    done
    if grep -q " $root" /proc/mounts; then
        echo "fresh-machine: mounts left under $root; not removing it" >&2
    elif [ "$keep" = 1 ]; then
        echo "fresh-machine: root kept at $root"
    else
        rm -rf --one-file-system "$root"
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "root $root from $tarball"
tar -C "$root" -xzf "$tarball"
mnt() { # mnt TARGET ARGS...: mount and remember for the trap
    local target=$1; shift
    mkdir -p "$target"
    mount "$@" "$target"
    mounted+=("$target")
}
mnt "$root/proc" -t proc proc
mnt "$root/sys" -t sysfs sysfs
mnt "$root/dev" --rbind /dev
mount --make-rslave "$root/dev"
mnt "$root$swift_dir" --bind "$swift_dir"
mount -o remount,bind,ro "$root$swift_dir"
mnt "$root$packages_dir" --bind "$packages_dir"
mount -o remount,bind,ro "$root$packages_dir"

# The machine, as it comes: apt's sources and settings, DNS, a loopback name, git reading github.com
# from the package mirror; a user "fresh" with sudo. policy-rc.d keeps packages from starting
# services inside the chroot (on a real machine Debian would start a system mosquitto, which the
# project never uses).
cp /etc/resolv.conf "$root/etc/resolv.conf"
rm -f "$root/etc/apt/sources.list"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
for f in /etc/apt/apt.conf.d/99artifact-registry; do [ -f "$f" ] && cp "$f" "$root/etc/apt/apt.conf.d/"; done
# /etc/hosts: the host's own (the root shares its network; this machine type maps localhost to
# 127.0.0.1 only — with Debian's default "::1 localhost" line, see README, TLS by name fails).
cp /etc/hosts "$root/etc/hosts"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
cat >"$root/etc/gitconfig" <<GIT
[url "$packages_dir/"]
	insteadOf = https://github.com/
	insteadOf = git@github.com:
	insteadOf = ssh://git@github.com/
[safe]
	directory = *
GIT
chroot "$root" useradd --create-home --shell /bin/bash fresh
echo 'fresh ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/fresh"
chmod 0440 "$root/etc/sudoers.d/fresh"

clone=/home/fresh/rlt-gateway
git clone -q --no-hardlinks "$repo" "$root$clone"
git -C "$root$clone" checkout -q --detach "$sha"
git -C "$root$clone" remote remove origin
chroot "$root" chown -R fresh:fresh "$clone"
log "clean clone of $(git -C "$repo" log -1 --format='%h %s' "$sha" | cut -c1-100)"
log "machine: $(chroot "$root" sh -c '. /etc/os-release; echo "$PRETTY_NAME"'), $("$swift_dir/usr/bin/swift" --version 2>/dev/null | head -n 1)"

user_path="$swift_dir/usr/bin:/usr/local/bin:/usr/bin:/bin"          # Debian's non-root PATH + Swift
root_path="$swift_dir/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
in_root() { # in_root USER COMMAND: a login-like clean environment inside the root
    if [ "$1" = root ]; then
        chroot "$root" env -i HOME=/root USER=root LOGNAME=root PATH="$root_path" LANG=C.UTF-8 TERM=dumb \
            bash -c "cd $clone && $2"
    else
        chroot "$root" runuser -u fresh -- env -i HOME=/home/fresh USER=fresh LOGNAME=fresh PATH="$user_path" \
            LANG=C.UTF-8 TERM=dumb bash -c "cd $clone && $2"
    fi
}

tests_env="RLT_SKIP_QEMU=1 RLT_SKIP_HA=1"
[ "$quick" = 1 ] && tests_env+=" RLT_SKIP_RELIABILITY=1"
declare -A who=([demo]=fresh [bench]=fresh [install]=root [install-fleet]=root [tests]=root [fleet]=root [reliability]=root)
declare -A cmd=(
    [demo]="bash deploy/demo.sh"
    [bench]="Benchmarks/run --micro-only"
    [install]="bash deploy/install.sh"
    [install-fleet]="bash deploy/install.sh --fleet"
    [tests]="$tests_env bash Tests/run.sh"
    # Only with --only: two stages of the test command on their own (they run inside `tests` too,
    # but only when every stage before them passed).
    [fleet]="bash Tests/fleet/run.sh"
    [reliability]="bash Tests/reliability/run.sh --quick"
)
logs="$cache/logs-$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$logs"
echo "fresh-machine: not run here: the real-kernel GPIO stage (RLT_SKIP_QEMU: boots a kernel under qemu with an"
echo "  out-of-tree gpio-sim module) and the Home Assistant stage (RLT_SKIP_HA: needs Python 3.13, Debian 12 has 3.11);"
[ "$quick" = 1 ] && echo "  --quick: the reliability stage too (RLT_SKIP_RELIABILITY)."
echo "  See Tests/fresh-machine/README.md for every documented command and whether this check covers it."

results=()
failed=0
for step in "${steps[@]}"; do
    echo
    echo "=================== $step: ${cmd[$step]}   (as ${who[$step]})"
    s0=$(date +%s)
    set +e
    in_root "${who[$step]}" "${cmd[$step]}" 2>&1 | tee "$logs/$step.log"
    rc=${PIPESTATUS[0]}
    set -e
    secs=$(( $(date +%s) - s0 ))
    [ "$rc" -ne 0 ] && failed=$((failed + 1))
    results+=("$(printf '%-13s %-6s exit %-3s %4d s  %s' "$step" "$([ "$rc" = 0 ] && echo PASS || echo FAIL)" "$rc" "$secs" "${cmd[$step]}")")
    echo "=================== $step: exit $rc after $secs s"
done

echo
echo "fresh-machine summary (clean clone of ${sha:0:10}, Debian 12 root, logs in $logs):"
printf '  %s\n' "${results[@]}"
echo "fresh-machine: $(( ${#steps[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
exit
}
