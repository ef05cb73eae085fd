#!/usr/bin/env bash
# The demo: builds the gateway, starts a private mosquitto on a free loopback port, runs the gateway
# on its embedded default (simulated GPIO and thermal model), runs a short session with a live
# progress bar, then shuts everything down cleanly. Leaves no process behind.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian installs mosquitto in /usr/sbin, which is not on a non-root user's PATH.
export PATH="$PATH:/usr/sbin:/sbin"
bash deploy/setup.sh

echo "== building"
swift build --product rlt-gateway 2>&1 | tail -n 1
bin="$(swift build --show-bin-path)/rlt-gateway"

work="$(mktemp -d /tmp/rlt-demo.XXXXXX)"
port="$(bash deploy/free-port.sh)"
broker_pid="" gateway_pid=""
cleanup() {
    [ -n "$gateway_pid" ] && kill -TERM "$gateway_pid" 2>/dev/null && wait "$gateway_pid" 2>/dev/null || true
    [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

cat >"$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
set_tcp_nodelay true
persistence false
CONF
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
broker_pid=$!
for _ in $(seq 50); do mosquitto_pub -h 127.0.0.1 -p "$port" -t rlt/_probe -n 2>/dev/null && break; sleep 0.1; done
echo "== mosquitto on 127.0.0.1:$port"

url="mqtt://127.0.0.1:$port"
overrides=(--set "mqtt.url=$url" --set "gpio.sim_dir=$work/gpio" --set "storage.path=$work/ledger.sqlite")
"$bin" check-config config/demo.yaml "${overrides[@]}"
# The simulated contacts: interlock closed, stop button released. With fail-safe wiring an unconnected
# line reads open / pressed, so they are set before the gateway creates them at their bias.
mkdir -p "$work/gpio/sim_gpio23" "$work/gpio/sim_gpio24"
echo pull-up >"$work/gpio/sim_gpio23/pull"
echo pull-up >"$work/gpio/sim_gpio24/pull"
"$bin" run --config config/demo.yaml "${overrides[@]}" 2>"$work/gateway.log" &
gateway_pid=$!
device="$(sed -n 's/^ *id: *\([a-z0-9-]*\).*/\1/p' config/demo.yaml | head -n 1)"
status="$(mosquitto_sub -h 127.0.0.1 -p "$port" -t "rlt/$device/status" -C 1 -W 20)"
echo "== gateway online: $status"

echo "== session (simulated red + NIR LEDs; watch the line levels in $work/gpio)"
"$bin" session start --config config/demo.yaml "${overrides[@]}" --duration 15s --watch
"$bin" session status --config config/demo.yaml "${overrides[@]}"

echo "== shutting down"
kill -TERM "$gateway_pid"
wait "$gateway_pid" && echo "gateway exited 0"
gateway_pid=""
echo "retained status: $(mosquitto_sub -h 127.0.0.1 -p "$port" -t "rlt/$device/status" -C 1 -W 5)"
echo "== gateway log (last lines)"
tail -n 8 "$work/gateway.log"
echo "== demo finished"
