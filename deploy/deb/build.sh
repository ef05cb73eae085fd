#!/usr/bin/env bash
# Builds the rlt-gateway Debian package (binary package only, dpkg-deb, no debhelper).
#
#   bash deploy/deb/build.sh [--arch amd64|arm64] [--binary PATH] [--sysroot DIR] [--out DIR] [--no-lintian]
#
# Without --binary it builds the release rlt-gateway (static Swift stdlib) on this machine, for this
# machine's architecture. The package depends on the shared libraries that binary was linked
# against, as dpkg-shlibdeps finds them on this machine: built on Debian 12 it needs libgpiod2
# (libgpiod v1) and installs on Debian 12 only; a Debian 13 package must be built on Debian 13
# (deploy/deb/README.md). With --binary PATH it packages that binary instead; its architecture must
# match --arch, and its libraries must be installed here (for arm64: dpkg --add-architecture arm64
# and the :arm64 libraries), or dpkg-shlibdeps cannot compute Depends and the build stops; or
# --sysroot DIR names the target root the binary was linked against (Tests/qemu/arm64.sh's Debian 13
# arm64 sysroot, with a dpkg database of its own in DIR/var/lib/dpkg): Depends then come from its
# libraries and symbols files, and the package is for the release in DIR/etc/os-release.
#
# The packaged unit is deploy/rlt-gateway.service with /usr/local/bin replaced by /usr/bin; the
# udev rule is the one deploy/install.sh writes; the conffile is config/gateway.example.yaml.
# Output: DIR/rlt-gateway_VERSION-1_ARCH.deb (DIR defaults to .build/deb), then lintian's verdict
# (lintian is installed with apt if missing; deploy/deb/README.md explains what it still says).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
export PATH="/opt/swift/usr/bin:$PATH:/usr/sbin:/sbin"

host_arch=$(dpkg --print-architecture)
arch=$host_arch binary="" out="$repo/.build/deb" lint=1 sysroot=""
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) arch="${2:?--arch needs amd64 or arm64}"; shift ;;
        --binary) binary="${2:?--binary needs a path}"; shift ;;
        --sysroot) sysroot="${2:?--sysroot needs a directory}"; shift ;;
        --out) out="${2:?--out needs a directory}"; shift ;;
        --no-lintian) lint=0 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "deb: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
die() { echo "deb: $*" >&2; exit 1; }
case "$arch" in
    amd64) machine="x86-64" ;;
    arm64) machine="aarch64" ;;
    *) die "unsupported architecture '$arch' (amd64 or arm64)" ;;
esac

# --- the binary ------------------------------------------------------------------------------------
if [ -z "$binary" ]; then
    [ "$arch" = "$host_arch" ] ||
        die "no cross build here: build the $arch binary elsewhere and pass --binary (deploy/deb/README.md)"
    command -v swift >/dev/null || die "no swift on PATH (expected /opt/swift/usr/bin)"
    . /etc/os-release
    if [ "${VERSION_CODENAME:-}" = bookworm ]; then
        bash deploy/setup.sh >/dev/null   # Debian 12's package names
    else
        for lib in libgpiod libmosquitto sqlite3; do
            pkg-config --exists "$lib" || die "no $lib development files (Debian: libgpiod-dev libmosquitto-dev libsqlite3-dev)"
        done
    fi
    # Full RELRO (relro and BIND_NOW): the default link gives a partial one only.
    relro=(-Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now)
    echo "deb: swift build -c release --product rlt-gateway --static-swift-stdlib ${relro[*]}"
    nice -n 10 swift build -c release --product rlt-gateway --static-swift-stdlib "${relro[@]}"
    binary="$(swift build -c release --show-bin-path "${relro[@]}")/rlt-gateway"
fi
[ -f "$binary" ] || die "no binary at $binary"
file -b "$binary" | grep -q "ELF 64-bit.*$machine" ||
    die "$binary is not a $arch binary: $(file -b "$binary")"

version=$(sed -n 's/.*static let current = "\([^"]*\)".*/\1/p' Sources/Gateway/Version.swift)
[ -n "$version" ] || die "no version in Sources/Gateway/Version.swift"
debversion="$version-1"
name=rlt-gateway
maint_name=${DEB_MAINTAINER_NAME:-$(git config user.name || echo "rlt-gateway maintainers")}
maint_email=${DEB_MAINTAINER_EMAIL:-$(git config user.email || echo "root@localhost")}
# Dates and mtimes from the last commit: the same commit gives the same package.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
commit=$(git rev-parse --short HEAD)
dirty=""; git diff --quiet HEAD -- Sources Package.swift deploy config README.md || dirty=" (uncommitted changes)"

# --- the tree --------------------------------------------------------------------------------------
mkdir -p "$out"
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/tree"
umask 022
install -d "$tree/DEBIAN" "$tree/usr/bin" "$tree/lib/systemd/system" "$tree/lib/udev/rules.d" \
    "$tree/etc/rlt-gateway" "$tree/usr/share/doc/$name" "$tree/usr/share/man/man1"

strip_tool=strip
[ "$arch" = "$host_arch" ] || strip_tool=aarch64-linux-gnu-strip
command -v "$strip_tool" >/dev/null || die "no $strip_tool (binutils for $arch)"
install -m 0755 "$binary" "$tree/usr/bin/rlt-gateway"
"$strip_tool" --strip-unneeded --remove-section=.comment --remove-section=.note "$tree/usr/bin/rlt-gateway"

# The unit: one source (deploy/rlt-gateway.service, used by install.sh with /usr/local/bin).
grep -q /usr/local/bin/rlt-gateway deploy/rlt-gateway.service || die "deploy/rlt-gateway.service names no /usr/local/bin/rlt-gateway"
sed -e 's#/usr/local/bin/rlt-gateway#/usr/bin/rlt-gateway#g' \
    -e 's#^\# systemd unit for rlt-gateway\. Installed by deploy/install\.sh\.#\# systemd unit for rlt-gateway, from the rlt-gateway Debian package.#' \
    deploy/rlt-gateway.service >"$tree/lib/systemd/system/rlt-gateway.service"
! grep -q /usr/local "$tree/lib/systemd/system/rlt-gateway.service" || die "the packaged unit still names /usr/local"
chmod 0644 "$tree/lib/systemd/system/rlt-gateway.service"

# The udev rule: the one line deploy/install.sh writes.
rule=$(sed -n "s/^echo '\(SUBSYSTEM==\"gpio\".*\)' | .*60-rlt-gateway-gpio\.rules.*/\1/p" deploy/install.sh)
[ -n "$rule" ] || die "no udev rule found in deploy/install.sh"
printf '# GPIO character devices for the gpio group (rlt-gateway runs in it).\n%s\n' "$rule" \
    >"$tree/lib/udev/rules.d/60-rlt-gateway-gpio.rules"

install -m 0644 config/gateway.example.yaml "$tree/etc/rlt-gateway/gateway.yaml"
printf '/etc/rlt-gateway/gateway.yaml\n' >"$tree/DEBIAN/conffiles"

install -m 0644 README.md "$tree/usr/share/doc/$name/README.md"
install -m 0644 deploy/deb/README.md "$tree/usr/share/doc/$name/README.Debian"
install -m 0644 deploy/deb/debian/copyright "$tree/usr/share/doc/$name/copyright"
{
    printf '%s (%s) unstable; urgency=medium\n\n' "$name" "$debversion"
    printf '  * Built by deploy/deb/build.sh from commit %s%s.\n\n' "$commit" "$dirty"
    printf ' -- %s <%s>  %s\n' "$maint_name" "$maint_email" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$tree/usr/share/doc/$name/changelog.Debian.gz"
gzip -9n <deploy/deb/debian/rlt-gateway.1 >"$tree/usr/share/man/man1/rlt-gateway.1.gz"
chmod 0644 "$tree/usr/share/doc/$name/changelog.Debian.gz" "$tree/usr/share/man/man1/rlt-gateway.1.gz"

for script in postinst prerm postrm; do
    install -m 0755 "deploy/deb/debian/$script" "$tree/DEBIAN/$script"
done

# --- Depends: what the binary is linked against, as dpkg-shlibdeps maps it to packages ------------
mkdir -p "$work/src/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" >"$work/src/debian/control"
shlibdeps_opts=()
os_release=/etc/os-release
if [ -n "$sysroot" ]; then
    [ -d "$sysroot/var/lib/dpkg/info" ] || die "--sysroot $sysroot has no dpkg database (var/lib/dpkg; made by Tests/qemu/arm64.sh)"
    multiarch=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
    shlibdeps_opts=(--admindir="$sysroot/var/lib/dpkg" -l"$sysroot/usr/lib/$multiarch" -l"$sysroot/lib/$multiarch")
    os_release="$sysroot/usr/lib/os-release"
    [ -f "$os_release" ] || os_release="$sysroot/etc/os-release"
    [ -f "$os_release" ] || die "--sysroot $sysroot has no os-release (unpack its base-files)"
fi
shlibs=$(cd "$work/src" && DEB_HOST_ARCH="$arch" dpkg-shlibdeps "${shlibdeps_opts[@]}" -O -e"$tree/usr/bin/rlt-gateway" 2>"$work/shlibdeps.err") ||
    { cat "$work/shlibdeps.err" >&2; die "dpkg-shlibdeps failed (the binary's libraries must be installed here, for $arch)"; }
shlib_depends=${shlibs#shlibs:Depends=}
depends="adduser, $shlib_depends"
echo "deb: NEEDED: $(objdump -p "$tree/usr/bin/rlt-gateway" | awk '/NEEDED/ {print $2}' | tr '\n' ' ')"
echo "deb: Depends: $depends"

. "$os_release"
installed_size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
cat >"$tree/DEBIAN/control" <<EOF
Package: $name
Version: $debversion
Architecture: $arch
Maintainer: $maint_name <$maint_email>
Installed-Size: $installed_size
Depends: $depends
Recommends: udev
Suggests: mosquitto, mosquitto-clients
Section: misc
Priority: optional
Description: gateway daemon for red / near-infrared LED therapy panels
 rlt-gateway drives the LED channels, master relay, heartbeat and status LED
 of a panel through the kernel's GPIO character device (libgpiod), enforces
 the session safety rules (interlock, stop button, temperature, dose and time
 limits) and speaks MQTT to Home Assistant and to operators.
 .
 Built on ${PRETTY_NAME}: install it on that release
 (the libgpiod dependency differs between Debian 12 and Debian 13).
EOF

(cd "$tree" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
    >"$tree/DEBIAN/md5sums"
chmod 0644 "$tree/DEBIAN/control" "$tree/DEBIAN/conffiles" "$tree/DEBIAN/md5sums"
find "$tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

deb="$out/${name}_${debversion}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$tree" "$deb" >/dev/null
echo "deb: $deb ($(du -h "$deb" | cut -f1), installed $installed_size KiB), for ${PRETTY_NAME} $arch"

# --- lintian -----------------------------------------------------------------------------------
if [ "$lint" = 1 ]; then
    if ! command -v lintian >/dev/null; then
        SUDO=(); [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
        echo "deb: installing lintian"
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends lintian >/dev/null ||
            die "could not install lintian (apt-get install lintian), or run with --no-lintian"
    fi
    # Tags listed in lintian-explained are explained in deploy/deb/README.md; any other error or
    # warning fails the build. (Info tags are listed by --display-info, they do not fail.)
    echo "deb: lintian --fail-on error,warning --suppress-tags-from-file deploy/deb/lintian-explained"
    lintian --fail-on error,warning --suppress-tags-from-file deploy/deb/lintian-explained "$deb" ||
        die "lintian found problems not explained in deploy/deb/README.md"
    echo "deb: lintian: nothing beyond the tags explained in deploy/deb/README.md"
fi
