#!/usr/bin/env bash
# The Debian package's unit under a real systemd: a fresh Debian 12 root booted under qemu.
#
#   bash Tests/deb/systemd-boot.sh [--deb PATH] [--keep]
#
# Builds the amd64 package with deploy/deb/build.sh (or takes --deb). Makes a Debian 12 root with
# systemd as init (Tests/lib/debian-root.sh: debootstrap --variant=minbase, cached; then systemd,
# systemd-sysv, udev, dbus, mosquitto, mosquitto-clients, the package's dependencies and the kernel
# Tests/qemu builds gpio-sim for, whose initramfs-tools makes the initrd; this prepared root is cached
# in /var/tmp/rlt-systemd-cache). Each run copies it, adds the package, gpio-sim.ko
# (Tests/qemu/build-gpio-sim.sh), the guest's checks and two units (rlt-test-gpio-sim.service makes a
# gpio-sim chip through configfs before udev settles; rlt-test.service runs the checks after
# multi-user.target), makes an ext4 disk with `mke2fs -d` and boots it under qemu-system-x86_64 (TCG)
# with the console on serial. The guest installs the package with `apt install ./…deb` (offline: its
# dependencies are in the root already), configures it as deploy/deb/README.md says and checks the
# unit (Tests/deb/guest-systemd-checks.sh), then powers off.
#
# Needs root. Prints the guest's checks, then "N passed, N failed"; exits non-zero on any failure, on
# a missing closing line or when qemu outlives RLT_SYSTEMD_TIMEOUT (default 900 s).
{
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
[ "$(id -u)" -eq 0 ] || exec sudo --preserve-env=RLT_SYSTEMD_CACHE,RLT_SYSTEMD_TIMEOUT,RLT_SYSTEMD_STOPPOST_S,RLT_FRESH_CACHE bash "$0" "$@"
export PATH="$PATH:/usr/sbin:/sbin"

deb="" keep=0 built_out="" release=bookworm
while [ $# -gt 0 ]; do
    case "$1" in
        --deb) deb="$(realpath "${2:?--deb needs a path}")"; shift ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "systemd-test: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
# Tests/qemu/lib.sh: kernel_abi, now and since; its log and die are replaced by this script's.
. "$repo/Tests/qemu/lib.sh"
log() { echo "systemd-test: $*"; }
die() { echo "systemd-test: $*" >&2; exit 1; }
t_start=$(now)
cache=${RLT_SYSTEMD_CACHE:-/var/tmp/rlt-systemd-cache}
mkdir -p "$cache"
command -v qemu-system-x86_64 >/dev/null || apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null

# --- the package -----------------------------------------------------------------------------------
if [ -z "$deb" ]; then
    out=$(mktemp -d /var/tmp/rlt-systemd-deb.XXXXXX)
    built_out=$out
    t0=$(now)
    bash "$repo/deploy/deb/build.sh" --arch amd64 --out "$out" || die "deploy/deb/build.sh failed"
    deb=$(ls "$out"/rlt-gateway_*_amd64.deb)
    log "package built in $(since "$t0") s: $deb"
fi
[ -f "$deb" ] || die "no package at $deb"

# --- the kernel and gpio-sim -----------------------------------------------------------------------
# The guest runs the Debian 12 kernel Tests/qemu builds gpio-sim for (same ABI), installed in the root
# itself so its own initramfs-tools makes the initrd and its modules (configfs, virtio, ext4) match.
abi=$(kernel_abi)
[ -n "$abi" ] || die "no kernel ABI (Tests/qemu/lib.sh kernel_abi; install linux-image-amd64)"
t0=$(now)
module=$(bash "$repo/Tests/qemu/build-gpio-sim.sh") || die "Tests/qemu/build-gpio-sim.sh failed"
t_module=$(since "$t0")

# --- the prepared root (cached) --------------------------------------------------------------------
. "$repo/Tests/lib/debian-root.sh"
mirror=$(debian_root_mirror)
security=$(debian_root_security_mirror)
packages="systemd systemd-sysv udev dbus kmod procps mosquitto mosquitto-clients initramfs-tools linux-image-$abi-amd64"
# The package's own dependencies, so the guest's `apt install ./…deb` needs no network.
packages="$packages $(dpkg-deb -f "$deb" Depends | sed -e 's/([^)]*)//g' -e 's/,/ /g')"
key=$(printf '%s\n' "$release" "$packages" "$(sed -n '/^prepare_root()/,/^}/p' "$0")" | sha256sum | cut -c1-12)
prepared="$cache/$release-root-$key"
work="" mounted=()
cleanup() {
    local status=$?
    for (( i=${#mounted[@]}-1; i>=0; i-- )); do
        umount -R "${mounted[$i]}" 2>/dev/null || umount -R -l "${mounted[$i]}" 2>/dev/null || true
    done
    if [ -n "$work" ] && [ -d "$work" ]; then
        if grep -q " $work" /proc/mounts; then echo "systemd-test: mounts left under $work; not removing it" >&2
        elif [ "$keep" = 1 ]; then echo "systemd-test: kept $work (root/, disk.img, console.log)"
        else rm -rf --one-file-system "$work"; fi
    fi
    [ -n "$built_out" ] && [ "$keep" = 0 ] && rm -rf "$built_out"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

prepare_root() { # prepare_root DIR: a Debian root that boots with systemd, with $packages installed
    local dir=$1 tarball
    tarball=$(debian_root_tarball "$release" "${RLT_FRESH_CACHE:-/var/tmp/rlt-fresh}" "$mirror" minbase)
    mkdir -p "$dir" && chmod 0755 "$dir"
    tar -C "$dir" -xzf "$tarball"
    mkdir -p "$dir/proc" "$dir/dev"
    mount -t proc proc "$dir/proc"; mounted+=("$dir/proc")
    mount --rbind /dev "$dir/dev"; mount --make-rslave "$dir/dev"; mounted+=("$dir/dev")
    debian_root_apt "$dir" "$release" "$mirror"
    # The kernel gpio-sim is built for comes from the security archive, as on this machine.
    [ -z "$security" ] || echo "deb $security $release-security main" >>"$dir/etc/apt/sources.list"
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"; chmod +x "$dir/usr/sbin/policy-rc.d"
    # shellcheck disable=SC2086
    chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
        sh -c "apt-get update -qq && apt-get install -y -q --no-install-recommends $packages" >"$cache/prepare.log" 2>&1 ||
        { tail -n 30 "$cache/prepare.log"; die "could not install the root's packages (log: $cache/prepare.log)"; }
    [ -f "$dir/boot/vmlinuz-$abi-amd64" ] && [ -f "$dir/boot/initrd.img-$abi-amd64" ] ||
        die "the root has no kernel or initrd for $abi-amd64 (log: $cache/prepare.log)"
    umount -R "$dir/dev" || umount -R -l "$dir/dev"; umount "$dir/proc"; mounted=()
    rm -f "$dir/usr/sbin/policy-rc.d"
    chroot "$dir" apt-get clean
    echo rlt-systemd-test >"$dir/etc/hostname"
    printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$dir/etc/fstab"
    # Nothing but the test on the console; no timer that would run apt or fstrim during it.
    for unit in serial-getty@ttyS0.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
                e2scrub_all.timer fstrim.timer; do
        ln -sf /dev/null "$dir/etc/systemd/system/$unit"
    done
}
if [ ! -d "$prepared" ]; then
    t0=$(now)
    log "preparing the $release root with systemd ($prepared)"
    prepare_root "$prepared.tmp.$$"
    mv -T "$prepared.tmp.$$" "$prepared"
    log "root prepared in $(since "$t0") s"
fi

# --- this run's root and disk ----------------------------------------------------------------------
t0=$(now)
work=$(mktemp -d "$cache/run.XXXXXX")
root="$work/root"
cp -a "$prepared" "$root"
mkdir -p "$root/lib/modules/$abi-amd64/updates" "$root/root/rlt-test"
cp "$module" "$root/lib/modules/$abi-amd64/updates/gpio-sim.ko"
chroot "$root" depmod -a "$abi-amd64"
cp "$deb" "$root/root/rlt-test/"
cp "$repo/Tests/deb/guest-systemd-checks.sh" "$root/root/rlt-test/checks.sh"
cp "$repo/deploy/mosquitto/acl.example" "$root/root/rlt-test/acl"
echo "${RLT_SYSTEMD_STOPPOST_S:-5}" >"$root/root/rlt-test/stoppost-limit"
cp "$repo/Tests/deb/guest/rlt-test-gpio-sim.service" "$repo/Tests/deb/guest/rlt-test.service" "$root/etc/systemd/system/"
cp "$repo/Tests/deb/guest/rlt-test-gpio-sim.sh" "$root/root/rlt-test/gpio-sim.sh"
chmod +x "$root/root/rlt-test/"*.sh
mkdir -p "$root/etc/systemd/system/multi-user.target.wants" "$root/etc/systemd/system/sysinit.target.wants"
ln -s ../rlt-test.service "$root/etc/systemd/system/multi-user.target.wants/rlt-test.service"
ln -s ../rlt-test-gpio-sim.service "$root/etc/systemd/system/sysinit.target.wants/rlt-test-gpio-sim.service"
cp "$root/boot/vmlinuz-$abi-amd64" "$root/boot/initrd.img-$abi-amd64" "$work/"
size_mb=$(( $(du -sm "$root" | cut -f1) + 512 ))
mke2fs -q -t ext4 -L rltroot -d "$root" "$work/disk.img" "${size_mb}M" || die "mke2fs -d failed"
[ "$keep" = 1 ] || rm -rf --one-file-system "$root"
t_disk=$(since "$t0")

# --- boot ------------------------------------------------------------------------------------------
limit=${RLT_SYSTEMD_TIMEOUT:-900}
console="$work/console.log"
log "booting Debian 12 ($abi-amd64) with systemd under qemu (TCG, ${size_mb} MB disk, timeout ${limit} s)"
t0=$(now)
set +e
# TCG only (KVM hangs on these machines). No NIC: the guest's broker is on loopback.
timeout --kill-after=10 "$limit" qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 1536 -smp 2 \
    -kernel "$work/vmlinuz-$abi-amd64" -initrd "$work/initrd.img-$abi-amd64" \
    -append "root=/dev/vda rw console=ttyS0 panic=-1 loglevel=4 systemd.show_status=auto" \
    -drive "file=$work/disk.img,format=raw,if=virtio" \
    -display none -serial "file:$console" -monitor none -no-reboot -nic none </dev/null
qemu_rc=$?
set -e
t_boot=$(since "$t0")
cp "$console" "$cache/console-last.log"

# The checks' lines are the ones rlt-test.service prints with its prefix.
output=$(tr -d '\r' <"$console" | sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | sed -n 's/^.*rlt-test: //p')
printf '%s\n' "$output" | grep -vE '^[0-9]+ passed, [0-9]+ failed$' || true
closing=$(printf '%s\n' "$output" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1 || true)
log "timing: gpio-sim ${t_module} s, disk ${t_disk} s, boot + checks + poweroff ${t_boot} s, total $(since "$t_start") s"
if [ -z "$closing" ]; then
    if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then log "qemu timed out after ${limit} s; last console lines:"
    else log "the guest printed no closing line (qemu exit $qemu_rc); last console lines:"; fi
    tr -d '\r' <"$console" | tail -n 40 >&2
    echo "systemd-test: 0 passed, 1 failed"
    exit 1
fi
echo "systemd-test: $closing"
[[ "$closing" =~ ^([0-9]+)\ passed,\ 0\ failed$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]
exit
}
