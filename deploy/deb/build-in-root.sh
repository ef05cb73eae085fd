#!/usr/bin/env bash
# Builds the package for another Debian release in a root of that release (the binary must link
# that release's libgpiod): debootstrap, this machine's Swift toolchain and package mirror
# bind-mounted read-only as in Tests/fresh-machine/run.sh, a clone of the committed HEAD, then
# deploy/deb/build.sh inside. Root only.
#
#   bash deploy/deb/build-in-root.sh trixie [--root DIR] [--out DIR]
#
# --root reuses a root made earlier (default /var/tmp/rlt-deb-RELEASE/root, made when missing).
# Output: DIR/rlt-gateway_VERSION-1_amd64.deb (default .build/deb/RELEASE). lintian runs on this
# machine afterwards (the root has none).
{
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
[ "$(id -u)" -eq 0 ] || { echo "deb: needs root (debootstrap, chroot, mounts)" >&2; exit 1; }
export PATH="$PATH:/usr/sbin:/sbin"
release="${1:?usage: build-in-root.sh RELEASE [--root DIR] [--out DIR]}"; shift
root="/var/tmp/rlt-deb-$release/root" out="$repo/.build/deb/$release"
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root="$2"; shift ;;
        --out) out="$2"; shift ;;
        *) echo "deb: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
swift_dir=/opt/swift packages_dir=/opt/swift-packages
mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1 || true)
[ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n 1)
# The swift.org toolchain dependencies (libcurl4t64: the 64-bit time_t name since trixie; gold,
# which the Swift driver links with, is its own package since trixie: without it the driver fell
# back to ld.bfd, whose link had no GNU_RELRO segment), the project's libraries, and dpkg-dev for
# build.sh.
incl=binutils,binutils-gold,gcc,g++,git,libcurl4t64,libedit-dev,libicu-dev,libncurses-dev,libpython3-dev,libsqlite3-dev
incl+=,libxml2-dev,pkg-config,tzdata,uuid-dev,libgpiod-dev,libmosquitto-dev,ca-certificates,file,dpkg-dev
if [ ! -x "$root/usr/bin/pkg-config" ]; then
    mkdir -p "$(dirname "$root")"
    echo "deb: debootstrap --variant=minbase $release $root"
    debootstrap --variant=minbase --include="$incl" "$release" "$root" "$mirror" >"$(dirname "$root")/debootstrap.log" 2>&1 ||
        { tail -n 20 "$(dirname "$root")/debootstrap.log"; exit 1; }
fi
chroot "$root" sh -c 'command -v dpkg-shlibdeps && command -v ld.gold' >/dev/null || {
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        dpkg-dev file binutils-gold >/dev/null
}

mounted=()
cleanup() {
    local status=$?
    for (( i=${#mounted[@]}-1; i>=0; i-- )); do
        umount -R "${mounted[$i]}" 2>/dev/null || umount -R -l "${mounted[$i]}" 2>/dev/null || true
    done
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mnt() { local target=$1; shift; mkdir -p "$target"; mount "$@" "$target"; mounted+=("$target"); }
mnt "$root/proc" -t proc proc
mnt "$root/dev" --rbind /dev
mount --make-rslave "$root/dev"
mnt "$root$swift_dir" --bind "$swift_dir"; mount -o remount,bind,ro "$root$swift_dir"
mnt "$root$packages_dir" --bind "$packages_dir"; mount -o remount,bind,ro "$root$packages_dir"
cat >"$root/etc/gitconfig" <<GIT
[url "$packages_dir/"]
	insteadOf = https://github.com/
[safe]
	directory = *
GIT

src=/build/rlt-gateway
# A clone kept from an earlier run keeps its .build (incremental); the sources are the commit's.
if [ ! -d "$root$src/.git" ]; then
    mkdir -p "$root/build"
    git clone -q --no-hardlinks "$repo" "$root$src"
fi
git -C "$root$src" fetch -q "$repo" HEAD
git -C "$root$src" checkout -q --force --detach FETCH_HEAD
git -C "$root$src" clean -q -fdx -e .build
rm -rf "$root/build/out"
chroot "$root" env -i HOME=/root PATH="$swift_dir/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin" LANG=C.UTF-8 \
    DEB_MAINTAINER_NAME="$(git -C "$repo" config user.name)" DEB_MAINTAINER_EMAIL="$(git -C "$repo" config user.email)" \
    bash -c "cd $src && bash deploy/deb/build.sh --no-lintian --out /build/out"
mkdir -p "$out"
cp "$root"/build/out/rlt-gateway_*.deb "$out/"
echo "deb: $(ls "$out"/rlt-gateway_*.deb)"
exit
}
