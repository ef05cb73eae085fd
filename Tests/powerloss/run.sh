#!/bin/bash
# The power-loss check (issue 16): the real daemon runs sessions in the qemu guest with its ledger on an
# ext4 disk whose every write and flush the host logs; afterwards every prefix of those writes (every
# crash point) is recovered and opened as the daemon does at boot, and must hold at least the light the
# lines delivered before that cut. See Tests/powerloss/README.md.
#
# usage: Tests/powerloss/run.sh [--quick] [--existing-ledger] [--break-barrier] [--gateway BIN --check BIN] [--keep]
#   --quick          of the writes between two flushes only the prefixes, not every subset
#   --existing-ledger  the disk starts with a ledger the real code created (on the host), so the run
#                    covers a panel in service and not the daemon's first creation of its ledger
#   --break-barrier  mount the ledger's ext4 with barrier=0 (no flushes): the check must fail
#   --gateway/--check  use these binaries instead of building them (scratch path .build-qemu, shared with the v1 self-test)
#   --keep           keep the disk log and the base image in the work directory
# environment: RLT_POWERLOSS_CACHE (default /var/tmp/rlt-powerloss), RLT_POWERLOSS_TOLERANCE_MS (default 100),
#   RLT_QEMU_TIMEOUT (default here 300 s). Last line on stdout: `powerloss: N crash points, N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
here=Tests/powerloss
. Tests/qemu/lib.sh
log() { printf '[powerloss] %s\n' "$*" >&2; }

quick=""
break_barrier=0
existing=0
gateway=""
check=""
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1; shift ;;
        --break-barrier) break_barrier=1; shift ;;
        --existing-ledger) existing=1; shift ;;
        --gateway) gateway="${2:?--gateway needs a path}"; shift 2 ;;
        --check) check="${2:?--check needs a path}"; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (expected --quick, --existing-ledger, --break-barrier, --gateway, --check, --keep)" ;;
    esac
done
t_start="$(now)"
cache="${RLT_POWERLOSS_CACHE:-/var/tmp/rlt-powerloss}"
mkdir -p "$cache"
work="$(mktemp -d "$cache/run.XXXXXX")"
cleanup() { [ "$keep" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

# --- builds ---------------------------------------------------------------------------------------
t0="$(now)"
if [ -z "$gateway" ] || [ -z "$check" ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
    # The v1 self-test's scratch path and flags (Tests/qemu/selftest.sh): the modules it built already
    # are not compiled a second time, which a cold CI machine would otherwise pay for.
    scratch=.build-qemu
    for product in rlt-gateway rlt-powerloss-check; do
        env -u PKG_CONFIG_PATH swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product" \
            > "$work/build-$product.log" 2>&1 ||
            { tail -n 30 "$work/build-$product.log" >&2; die "building $product failed"; }
    done
    gateway="$scratch/release/rlt-gateway"
    check="$scratch/release/rlt-powerloss-check"
fi
# Unstripped, the static daemon is over 100 MB: too much for the guest's RAM-backed initramfs.
strip -o "$work/rlt-gateway" "$gateway"
gcc -O2 -Wall -o "$work/linewatch" "$here/linewatch.c"
t_build="$(since "$t0")"

# --- guest files: kernel modules for virtio and ext4, the config, the mount options ----------------
abi="$(kernel_abi)"
modules="/lib/modules/$abi-amd64/kernel"
files=()
for m in drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_pci_legacy_dev \
    drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci drivers/block/virtio_blk lib/crc16 fs/mbcache \
    fs/jbd2/jbd2 crypto/crc32c_generic fs/ext4/ext4; do
    [ -f "$modules/$m.ko" ] || die "$modules/$m.ko missing (linux-image-$abi-amd64)"
    files+=(--binary "$modules/$m.ko")
done
cp "$here/powerloss-gateway.yaml" "$work/powerloss-gateway.yaml"
files+=(--binary "$work/powerloss-gateway.yaml")
if [ "$break_barrier" = 1 ]; then
    echo barrier=0 > "$work/powerloss-mount-options"
    files+=(--binary "$work/powerloss-mount-options")
    log "--break-barrier: the guest mounts the ledger's ext4 with barrier=0 (no flushes); this run must fail"
fi
for tool in mosquitto mosquitto_sub; do
    path="$(command -v "$tool")" || die "$tool missing (install mosquitto and mosquitto-clients)"
    files+=(--binary "$path")
done

# --- the disk: a fresh 32 MiB ext4 with an empty /ledger (or one holding a new ledger) --------------
seed="$work/seed"
mkdir -p "$seed/ledger"
if [ "$existing" = 1 ]; then
    "$check" --create "$seed/ledger" || die "rlt-powerloss-check could not create a ledger"
    log "--existing-ledger: the disk starts with $(ls "$seed/ledger") made by the real code"
fi
mke2fs -q -t ext4 -E lazy_itable_init=0,lazy_journal_init=0 -d "$seed" -F "$work/base.img" 32M
rm -rf "$seed"

# --- the guest run, every write, flush and line report logged -------------------------------------
t0="$(now)"
export RLT_QEMU_LOG="$work/console.log" RLT_QEMU_TIMEOUT="${RLT_QEMU_TIMEOUT:-300}"
set +e
python3 "$here/powerloss.py" serve --image "$work/base.img" --nbd "$work/nbd.sock" --lines "$work/lines.sock" \
    --log "$work/disk.log" -- \
    bash Tests/qemu/run.sh --binary "$work/rlt-gateway" --binary "$work/linewatch" --binary "$here/guest-powerloss.sh" \
    "${files[@]}" --guest-cmd guest-powerloss.sh --guest-timeout 240 \
    --qemu-arg -blockdev \
    --qemu-arg "driver=nbd,node-name=ledger,server.type=unix,server.path=$work/nbd.sock,export=ledger" \
    --qemu-arg -device --qemu-arg virtio-blk-pci,drive=ledger,write-cache=on \
    --qemu-arg -serial --qemu-arg stdio \
    --qemu-arg -chardev --qemu-arg "socket,id=lines,path=$work/lines.sock" \
    --qemu-arg -device --qemu-arg isa-serial,chardev=lines,index=1 >&2
guest_rc=$?
set -e
t_guest="$(since "$t0")"
if [ "$guest_rc" != 0 ]; then
    log "the guest run failed (exit $guest_rc); console: $RLT_QEMU_LOG"
    keep=1
    echo "powerloss: 0 crash points, 0 passed, 1 failed"
    exit 1
fi

# --- every crash point --------------------------------------------------------------------------
t0="$(now)"
set +e
python3 "$here/powerloss.py" replay --image "$work/base.img" --log "$work/disk.log" --check "$check" \
    --workdir "$work" ${quick:+--prefixes-only} --tolerance-ms "${RLT_POWERLOSS_TOLERANCE_MS:-100}" > "$work/replay.out"
rc=$?
set -e
t_replay="$(since "$t0")"
grep -v '^powerloss:' "$work/replay.out" || true
log "timing: build ${t_build}s, guest ${t_guest}s, replay ${t_replay}s, total $(since "$t_start")s"
[ "$keep" = 0 ] || log "kept $work"
tail -n 1 "$work/replay.out"
exit "$rc"
