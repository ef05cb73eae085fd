#!/usr/bin/env bash
# Home Assistant MQTT discovery against real Home Assistant cores (issues 6 and 15).
#
#   bash Tests/homeassistant/run.sh [oldest|newest|both]     (default: both)
#
# oldest: the oldest HA the README claims (requirements.txt, 2025.4.4) in a cached venv on the
#         host's Python 3.13.
# newest: today's HA (requirements-newest.txt, 2026.11.0), which needs Python 3.14: Debian forky's
#         python3.14 in a Debian root this script makes with debootstrap and caches outside the
#         clone, HA in a venv inside that root, run there with chroot. Debian 12's libc is too old
#         for forky's packages, hence a root and not a venv on the host.
# Each stage: builds the gateway (debug, once), then test_ha_discovery.py starts a private
# mosquitto, a headless Home Assistant bound to 127.0.0.1 and the simulated gateway, and drives the
# panel through HA's REST and websocket APIs. The test itself (and mosquitto, and the gateway) run on
# the host with the oldest venv's Python: it needs only aiohttp and paho-mqtt. Ends with
# "N passed, N failed" over all stages; exits non-zero on any failure.
#
# Environment: RLT_HA_CACHE (default /var/tmp/rlt-ha) holds the venv and the root; RLT_HA_PYTHON
# picks the host interpreter (default: pyenv's 3.13, else python3.13 on PATH); RLT_HA_MIRROR the
# Debian mirror for the root; RLT_HA_GATEWAY skips the build and uses that rlt-gateway binary;
# RLT_HA_KEEP_WORK=1 keeps each stage's work dir (HA's config and log, the gateways' logs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# Debian installs mosquitto and debootstrap in /usr/sbin, which is not on a non-root user's PATH.
export PATH="$PATH:/usr/sbin:/sbin"
which_stages=${1:-both}
case "$which_stages" in
    oldest) stages=(oldest) ;;
    newest) stages=(newest) ;;
    both) stages=(oldest newest) ;;
    *) echo "usage: $0 [oldest|newest|both]" >&2; exit 2 ;;
esac
cache=${RLT_HA_CACHE:-/var/tmp/rlt-ha}
mirror=${RLT_HA_MIRROR:-http://deb.debian.org/debian}
started=$(date +%s)

elapsed() { echo "$(( $(date +%s) - $1 )) s"; }
pinned() { sed -n "s/^$2==//p" "$1"; }

requirements="$here/requirements.txt"
ha_version=$(pinned "$requirements" homeassistant)
venv="$cache/venv-$ha_version"

newest_requirements="$here/requirements-newest.txt"
newest_version=$(pinned "$newest_requirements" homeassistant)
ha_root="$cache/forky-root"
# The root's Debian side: forky's python3.14 and what the seven-odd sdists without a cp314 wheel
# (pymicro-vad, pyspeex-noise, ...) need to build.
root_suite=forky
root_packages=(ca-certificates python3.14 python3.14-venv python3.14-dev g++)

find_python() {
    if [ -n "${RLT_HA_PYTHON:-}" ]; then echo "$RLT_HA_PYTHON"; return; fi
    for candidate in /root/.pyenv/versions/3.13.*/bin/python3.13 "$(command -v python3.13 || true)"; do
        if [ -x "$candidate" ]; then echo "$candidate"; return; fi
    done
    echo "no Python 3.13 found: set RLT_HA_PYTHON to a python3.13 (Home Assistant $ha_version needs 3.13)" >&2
    return 1
}

# The venv is keyed by the HA version and checked against the requirements file's hash, so editing
# requirements.txt rebuilds it; a venv cannot be moved, hence the fixed path outside the clone.
install_venv() {
    local want python t0
    want=$(sha256sum "$requirements" | cut -d' ' -f1)
    if [ -f "$venv/.rlt-requirements.sha256" ] && [ "$(cat "$venv/.rlt-requirements.sha256")" = "$want" ]; then
        echo "== Home Assistant $ha_version: cached venv $venv"
        return
    fi
    python=$(find_python)
    echo "== Home Assistant $ha_version: installing into $venv with $python (cold: several minutes)"
    t0=$(date +%s)
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # uv (a pinned HA dependency anyway) downloads in parallel: much faster than pip here.
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$(grep '^uv==' "$requirements")"
    # Exact pins: wheels where the pinned version has one for 3.13; the few that have none
    # (ciso8601, lru-dict, pymicro-vad, pyspeex-noise, ...) are built from source (gcc, g++).
    "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" -r "$requirements"
    "$venv/bin/python" -m pip check --disable-pip-version-check
    echo "$want" > "$venv/.rlt-requirements.sha256"
    echo "== venv installed in $(elapsed "$t0") ($(du -sh "$venv" | cut -f1))"
}

# Runs a command inside a Debian root with a clean environment, in a private mount namespace whose
# /proc mount dies with the command: the cached root never keeps a mount (and can be removed).
# SSL_CERT_FILE: the host's trust store, copied in, is the one that reaches PyPI from this machine.
in_root() {
    local dir=$1; shift
    unshare --mount --propagation private -- sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$dir" \
        env -i PATH=/opt/ha-venv/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        SSL_CERT_FILE=/etc/ssl/certs/rlt-host-ca.crt DEBIAN_FRONTEND=noninteractive "$@"
}

# Refuses to delete a directory anything is mounted under (rm -rf would follow into the mount).
remove_root() {
    if awk -v d="$1" '$2 == d || index($2, d "/") == 1 { found = 1 } END { exit !found }' /proc/mounts; then
        echo "== $1 has mounts under it; not removing it (umount them first)" >&2
        return 1
    fi
    rm -rf --one-file-system "$1"
}

# The newest HA's root: debootstrap forky + python3.14, HA's venv at /opt/ha-venv inside it. Keyed
# by the hash of requirements-newest.txt and the root's Debian side, stored in the root once it is
# complete; built beside the cached one and renamed into place, so an interrupted build never
# looks complete. A venv inside a root moves with the root (its paths are the root's).
install_root() {
    local want build t0 script
    want=$( { cat "$newest_requirements"; echo "$root_suite ${root_packages[*]}"; } | sha256sum | cut -d' ' -f1)
    if [ -f "$ha_root/.rlt-requirements.sha256" ] && [ "$(cat "$ha_root/.rlt-requirements.sha256")" = "$want" ]; then
        echo "== Home Assistant $newest_version: cached root $ha_root"
        return
    fi
    echo "== Home Assistant $newest_version: making a Debian $root_suite root in $ha_root (cold: a few minutes)"
    t0=$(date +%s)
    if ! command -v debootstrap >/dev/null; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    fi
    # Debian 12's debootstrap has no script for forky; sid's is the one for every later suite.
    script=/usr/share/debootstrap/scripts/$root_suite
    [ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
    build="$ha_root.build"
    remove_root "$build"
    if ! debootstrap --variant=minbase --include="$(IFS=,; echo "${root_packages[*]}")" \
        "$root_suite" "$build" "$mirror" "$script" > "$cache/debootstrap.log" 2>&1; then
        tail -n 20 "$cache/debootstrap.log"
        echo "== debootstrap failed (log: $cache/debootstrap.log)" >&2
        return 1
    fi
    echo "== root made in $(elapsed "$t0")"
    # The host's CA bundle when it has one (a proxy's CA may be in it), else the root's own.
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        cp /etc/ssl/certs/ca-certificates.crt "$build/etc/ssl/certs/rlt-host-ca.crt"
    else
        cp "$build/etc/ssl/certs/ca-certificates.crt" "$build/etc/ssl/certs/rlt-host-ca.crt"
    fi
    cp "$newest_requirements" "$build/tmp/requirements.txt"
    in_root "$build" python3.14 -m venv /opt/ha-venv
    in_root "$build" pip install --quiet --disable-pip-version-check "$(grep '^uv==' "$newest_requirements")"
    in_root "$build" uv pip install --quiet --python /opt/ha-venv/bin/python -r /tmp/requirements.txt
    in_root "$build" python -m pip check --disable-pip-version-check
    in_root "$build" apt-get clean
    # uv's download cache (the venv's files are hard links into it, so this frees little) is of no
    # use to a later install, which makes a new root.
    rm -rf "$build/tmp/requirements.txt" "$build/root/.cache"
    echo "$want" > "$build/.rlt-requirements.sha256"
    remove_root "$ha_root"
    mv "$build" "$ha_root"
    echo "== root and venv installed in $(elapsed "$t0") ($(du -sh --one-file-system "$ha_root" | cut -f1))"
}

mkdir -p "$cache"
exec 9> "$cache/.lock"
flock 9   # two runs at once would both rebuild the venv or the root
# The oldest venv's python runs the test for every stage.
install_venv
for stage in "${stages[@]}"; do
    if [ "$stage" = newest ]; then install_root; fi
done
flock -u 9

if [ -n "${RLT_HA_GATEWAY:-}" ]; then
    gateway=$RLT_HA_GATEWAY
else
    echo "== swift build --product rlt-gateway"
    t0=$(date +%s)
    (cd "$root" && swift build --product rlt-gateway 2>&1 | tail -n 1)
    gateway="$(cd "$root" && swift build --show-bin-path)/rlt-gateway"
    echo "== gateway built in $(elapsed "$t0")"
fi

works=()
test_pid=""
# Whatever happens, end every process the test started (it records their process groups in
# <work>/pgids) and remove the temp dirs; the venv and the root stay cached.
cleanup() {
    if [ -n "$test_pid" ] && kill -0 "$test_pid" 2>/dev/null; then
        kill -TERM "$test_pid" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$test_pid" 2>/dev/null || break; sleep 0.5; done
    fi
    local work
    for work in "${works[@]}"; do
        if [ -f "$work/pgids" ]; then
            while read -r pgid; do
                [ -n "$pgid" ] && kill -KILL -- "-$pgid" 2>/dev/null || true
            done < "$work/pgids"
        fi
        if [ "${RLT_HA_KEEP_WORK:-0}" = 1 ]; then echo "== kept $work"; else rm -rf "$work"; fi
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A private network namespace whose only interface is lo: nothing HA opens (it always starts an
# mDNS resolver on UDP 5353) can reach or be reached from the machine's network. lo gets multicast
# and a multicast route so that resolver can start (without them HA's analytics set-up fails with
# ENODEV). unshare execs, so $test_pid is the test's python itself. HA in the root shares it: chroot
# changes the file system only, so HA, mosquitto and the gateway meet on the same loopback.
isolate=(unshare --net -- sh -c \
    'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "$@"' sh)
if ! "${isolate[@]}" true 2>/dev/null; then
    echo "== WARNING: unshare --net is not permitted here; running without a private network namespace"
    isolate=()
fi

status=0
passed=0
failed=0
for stage in "${stages[@]}"; do
    work=$(mktemp -d /tmp/rlt-ha.XXXXXX)
    works+=("$work")
    if [ "$stage" = oldest ]; then
        version=$ha_version
        hass=("$venv/bin/hass")
    else
        version=$newest_version
        hass=("$here/hass-in-root.sh" "$ha_root" "$work")
    fi
    echo "== Home Assistant $version ($stage) discovery test (work dir $work)"
    t0=$(date +%s)
    stage_status=0
    "${isolate[@]}" "$venv/bin/python" "$here/test_ha_discovery.py" --hass "${hass[@]}" --gateway "$gateway" \
        --config "$root/config/demo.yaml" --work "$work" --expect-version "$version" &
    test_pid=$!
    wait "$test_pid" || stage_status=$?
    test_pid=""
    if [ "$stage_status" -ne 0 ]; then
        echo "== Home Assistant $version log (last 60 lines)"
        tail -n 60 "$work/ha.log" 2>/dev/null || true
    fi
    # The test's own count, or one failure if it died before counting.
    summary=$(cat "$work/summary" 2>/dev/null || true)
    case "$summary" in
        *" passed, "*" failed") ;;
        *) summary="0 passed, 1 failed" ;;
    esac
    read -r p _ f _ <<< "$summary"
    passed=$(( passed + p )); failed=$(( failed + f ))
    if [ "$stage_status" -ne 0 ] || [ "$f" -ne 0 ]; then status=1; fi
    echo "== Home Assistant $version ($stage): $summary; test ran in $(elapsed "$t0")"
done
echo "== whole script $(elapsed "$started")"
# The closing line CI reads: every stage's checks together.
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit "$status"
