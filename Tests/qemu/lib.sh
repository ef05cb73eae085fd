# Shared helpers for the qemu GPIO test scripts; sourced, never run.
# shellcheck shell=bash

# Where built artefacts live between runs. Outside the git tree so a CI rerun in a fresh clone
# still finds the module it built last time on the same machine.
RLT_QEMU_CACHE="${RLT_QEMU_CACHE:-/var/tmp/rlt-qemu}"

log() { printf '[qemu-test] %s\n' "$*" >&2; }
die() { printf '[qemu-test] error: %s\n' "$*" >&2; exit 1; }

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
