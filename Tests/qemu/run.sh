#!/bin/bash
# One entry point for the real-kernel GPIO test: installs what is missing, builds gpio-sim.ko
# (cached), builds the initramfs, boots Debian 12's kernel under qemu (TCG, never KVM) inside
# `timeout`, and reports the guest's checks. Exits 0 only when the guest printed its closing line
# with no failure.
#
# usage: Tests/qemu/run.sh [--binary PATH]... [--guest-cmd CMD] [--guest-timeout SECS] [--qemu-arg ARG]...
#        Tests/qemu/run.sh --arch arm64 --kernel IMAGE --module GPIO_SIM_KO --configfs CONFIGFS_KO
#                          --sysroot DIR --tools-root DIR [--binary PATH]... [--guest-cmd CMD] ...
#   (the arm64 guest: arm64.sh prepares its kernel, module, target root and tools; qemu-system-aarch64)
#   --qemu-arg ARG (repeatable) is appended to qemu's command line as is (Tests/powerloss: a disk, a serial port).
# environment: RLT_QEMU_CACHE (default /var/tmp/rlt-qemu), RLT_QEMU_TIMEOUT (qemu wall-clock limit,
#   default 120 s), RLT_QEMU_LOG (console log, default $RLT_QEMU_CACHE/console.log),
#   RLT_QEMU_NO_INSTALL=1 (never call apt-get), RLT_KERNEL_ABI (override, e.g. 6.1.0-56).
#   RLT_QEMU_BINARIES (space-separated paths) and RLT_QEMU_GUEST_CMD act like --binary/--guest-cmd.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"

initramfs_args=()
arch=amd64
kernel=""
module=""
qemu_extra=()
for bin in ${RLT_QEMU_BINARIES:-}; do initramfs_args+=(--binary "$bin"); done
[ -z "${RLT_QEMU_GUEST_CMD:-}" ] || initramfs_args+=(--guest-cmd "$RLT_QEMU_GUEST_CMD")
while [ $# -gt 0 ]; do
    case "$1" in
        --binary|--guest-cmd|--guest-timeout)
            [ $# -ge 2 ] || die "$1 needs a value"
            initramfs_args+=("$1" "$2"); shift 2 ;;
        --sysroot|--tools-root|--configfs)
            [ $# -ge 2 ] || die "$1 needs a value"
            initramfs_args+=("$1" "$2"); shift 2 ;;
        --qemu-arg)
            [ $# -ge 2 ] || die "$1 needs a value"
            qemu_extra+=("$2"); shift 2 ;;
        --arch) arch="${2:?--arch needs amd64 or arm64}"; shift 2 ;;
        --kernel) kernel="${2:?--kernel needs a path}"; shift 2 ;;
        --module) module="${2:?--module needs a path}"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (expected --binary PATH, --guest-cmd CMD, --guest-timeout SECS, --qemu-arg ARG, --arch, --kernel, --module, --sysroot, --tools-root, --configfs)" ;;
    esac
done

t_start="$(now)"

# --- packages ------------------------------------------------------------------------------------
case "$arch" in
    amd64)
        missing=()
        while read -r pkg _; do
            case "$pkg" in ''|'#'*) continue ;; esac
            installed "$pkg" || missing+=("$pkg")
        done < "$here/requirements.txt"
        [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
        abi="$(kernel_abi)"
        [ -n "$abi" ] || die "could not read the kernel ABI from linux-image-amd64's dependency"
        # The headers metapackage can lag behind or run ahead of the image; the module must match the image.
        abi_pkgs=()
        for pkg in "linux-image-$abi-amd64" "linux-headers-$abi-amd64"; do installed "$pkg" || abi_pkgs+=("$pkg"); done
        [ ${#abi_pkgs[@]} -eq 0 ] || apt_install "${abi_pkgs[@]}"
        kernel="/boot/vmlinuz-$abi-amd64"
        qemu=(qemu-system-x86_64 -machine q35)
        console=ttyS0
        ;;
    arm64)
        # Kernel, module and target root come from arm64.sh; here only the emulator.
        [ -n "$kernel" ] && [ -n "$module" ] || die "--arch arm64 needs --kernel and --module (Tests/qemu/arm64.sh)"
        command -v qemu-system-aarch64 >/dev/null || apt_install qemu-system-arm
        # cortex-a57: a plain ARMv8.0 core, quicker under TCG than -cpu max (no pointer authentication).
        qemu=(qemu-system-aarch64 -machine virt -cpu cortex-a57)
        console=ttyAMA0
        ;;
    *) die "unknown --arch '$arch' (amd64 or arm64)" ;;
esac
[ -r "$kernel" ] || die "$kernel not readable"
t_packages="$(since "$t_start")"

# --- build ---------------------------------------------------------------------------------------
t0="$(now)"
[ -n "$module" ] || module="$("$here/build-gpio-sim.sh")"
t_module="$(since "$t0")"
t0="$(now)"
mkdir -p "$RLT_QEMU_CACHE"
initramfs="$(mktemp "$RLT_QEMU_CACHE/initramfs.XXXXXX.cpio.gz")"
trap 'rm -f "$initramfs"' EXIT
"$here/make-initramfs.sh" -o "$initramfs" --module "$module" ${initramfs_args[@]+"${initramfs_args[@]}"} >/dev/null
t_initramfs="$(since "$t0")"

# --- boot + test ---------------------------------------------------------------------------------
limit="${RLT_QEMU_TIMEOUT:-120}"
console_log="${RLT_QEMU_LOG:-$RLT_QEMU_CACHE/console.log}"
log "booting $kernel under qemu (TCG, timeout ${limit}s), console log $console_log"
t0="$(now)"
set +e
# TCG only: /dev/kvm exists on the build machines but KVM hangs there. No NIC (needs no option ROM).
timeout --kill-after=10 "$limit" "${qemu[@]}" \
    -accel tcg -m 512 -smp 1 \
    -kernel "$kernel" -initrd "$initramfs" \
    -append "console=$console quiet loglevel=3 panic=-1" \
    -nographic -monitor none -no-reboot -nic none ${qemu_extra[@]+"${qemu_extra[@]}"} \
    < /dev/null > "$console_log" 2>&1
qemu_rc=$?
set -e
t_boot="$(since "$t0")"

# Serial output has CRLF line ends and the firmware's escape sequences; keep the guest's own lines.
output="$(tr -d '\r' < "$console_log" | sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/^.*\(guest: kernel\)/\1/' \
    | sed -n '/^guest: kernel/,$p')"
closing="$(printf '%s\n' "$output" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n1 || true)"
[ -z "$output" ] || printf '%s\n' "$output" | grep -vE '^[0-9]+ passed, [0-9]+ failed$|reboot: Power down' || true

log "timing: packages ${t_packages}s, module ${t_module}s, initramfs ${t_initramfs}s, boot+test ${t_boot}s, total $(since "$t_start")s"
if [ -z "$closing" ]; then
    if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
        log "qemu timed out after ${limit}s; last console lines:"
    else
        log "guest printed no closing line (qemu exit $qemu_rc); last console lines:"
    fi
    tr -d '\r' < "$console_log" | tail -n 30 >&2
    echo "0 passed, 1 failed"
    exit 1
fi
echo "$closing"
failed="$(printf '%s\n' "$closing" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed$/\1/')"
passed="${closing%% *}"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
