#!/bin/sh
# Starts Home Assistant inside the newest stage's Debian root (run.sh install_root):
#
#   hass-in-root.sh ROOT WORK [hass arguments...]
#
# In a private mount namespace: /proc, a tmpfs on the root's /tmp, and the test's work dir WORK
# (a host /tmp dir, holding HA's config and log) bound at the same path inside the root, so every
# path the test passes means the same file on both sides. The mounts die with HA; the cached root
# keeps none. Network: the caller's namespace (chroot changes only the file system), so HA meets
# the host's mosquitto and gateway on the same loopback. Every exec keeps the pid: the caller's
# child is HA itself (its sockets, its process group).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 ROOT WORK [hass arguments...]" >&2; exit 2; }
exec unshare --mount --propagation private -- sh -c '
    set -e
    root=$1 work=$2
    shift 2
    mount -t proc proc "$root/proc"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    mkdir -p "$root$work"
    mount --bind "$work" "$root$work"
    exec chroot "$root" env -i PATH=/opt/ha-venv/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
        /opt/ha-venv/bin/hass "$@"' sh "$@"
