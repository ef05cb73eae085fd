#!/usr/bin/env bash
# Home Assistant MQTT discovery against a real Home Assistant core (issue 6).
#
# Installs the pinned Home Assistant (requirements.txt) into a cached venv outside the clone,
# builds the gateway (debug), then test_ha_discovery.py starts a private mosquitto, a headless
# Home Assistant bound to 127.0.0.1 and the simulated gateway, and drives the panel through HA's
# REST and websocket APIs. Ends with "N passed, N failed"; exits non-zero on any failure.
#
# Environment: RLT_HA_CACHE (default /var/tmp/rlt-ha) holds the venv; RLT_HA_PYTHON picks the
# interpreter (default: pyenv's 3.13, else python3.13 on PATH); RLT_HA_GATEWAY skips the build and
# uses that rlt-gateway binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# Debian installs mosquitto in /usr/sbin, which is not on a non-root user's PATH.
export PATH="$PATH:/usr/sbin:/sbin"
requirements="$here/requirements.txt"
ha_version=$(sed -n 's/^homeassistant==//p' "$requirements")
cache=${RLT_HA_CACHE:-/var/tmp/rlt-ha}
venv="$cache/venv-$ha_version"
started=$(date +%s)

elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

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

mkdir -p "$cache"
exec 9> "$cache/.lock"
flock 9   # two runs at once would both rebuild the venv
install_venv
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

work=$(mktemp -d /tmp/rlt-ha.XXXXXX)
test_pid=""
# Whatever happens, end every process the test started (it records their process groups in
# $work/pgids) and remove the temp dir; the venv stays cached.
cleanup() {
    if [ -n "$test_pid" ] && kill -0 "$test_pid" 2>/dev/null; then
        kill -TERM "$test_pid" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$test_pid" 2>/dev/null || break; sleep 0.5; done
    fi
    if [ -f "$work/pgids" ]; then
        while read -r pgid; do
            [ -n "$pgid" ] && kill -KILL -- "-$pgid" 2>/dev/null || true
        done < "$work/pgids"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== Home Assistant discovery test (work dir $work)"
t0=$(date +%s)
status=0
# A private network namespace whose only interface is lo: nothing HA opens (it always starts an
# mDNS resolver on UDP 5353) can reach or be reached from the machine's network. lo gets multicast
# and a multicast route so that resolver can start (without them HA's analytics set-up fails with
# ENODEV). unshare execs, so $test_pid is the test's python itself.
isolate=(unshare --net -- sh -c \
    'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "$@"' sh)
if ! "${isolate[@]}" true 2>/dev/null; then
    echo "== WARNING: unshare --net is not permitted here; running without a private network namespace"
    isolate=()
fi
"${isolate[@]}" "$venv/bin/python" "$here/test_ha_discovery.py" --hass "$venv/bin/hass" --gateway "$gateway" \
    --config "$root/config/demo.yaml" --work "$work" &
test_pid=$!
wait "$test_pid" || status=$?
test_pid=""
echo "== test ran in $(elapsed "$t0"); whole script $(elapsed "$started")"
if [ "$status" -ne 0 ]; then
    echo "== Home Assistant log (last 60 lines)"
    tail -n 60 "$work/ha.log" 2>/dev/null || true
fi
# The closing line CI reads: the test's own count, or one failure if it died before counting.
summary=$(cat "$work/summary" 2>/dev/null || true)
if [ -z "$summary" ]; then summary="0 passed, 1 failed"; status=1; fi
echo "$summary"
case "$summary" in *", 0 failed") ;; *) status=1 ;; esac
exit "$status"
