#!/usr/bin/env bash
# Fleet test with real components: two mosquitto brokers bridged with deploy/mosquitto/bridge.conf
# (panels on "edge", tools on "ops"), simulated gateways (`rlt-gateway run`) on edge, the fleet
# exporter (`rlt-fleet exporter`) on ops, Debian's prometheus scraping it, `rlt-fleet stop` across
# the bridge, `rlt-fleet watch` in a real terminal (tmux), and `rlt-gateway fleet` handing over to
# rlt-fleet (or saying how to get it). Ends with "N passed, N failed"; exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/fleet/lib.sh

# prometheus (with promtool), tmux, curl and python3 come with the tests' set-up (root or sudo; stops if it cannot).
bash deploy/setup.sh --tests || exit 1

# The panels run rlt-gateway, the tools rlt-fleet (RLT_BIN / RLT_FLEET_BIN skip the build).
bin="${RLT_BIN:-}"
if [ -z "$bin" ]; then
    swift build --product rlt-gateway 2>&1 | tail -n 1
    swift build --product rlt-fleet 2>&1 | tail -n 1
    bin="$(swift build --show-bin-path)/rlt-gateway"
fi
fleet_bin="$(fleet_program "$bin")"

begin_run rlt-fleet-test

passed=0 failed=0
check() {
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"
    fi
}
# eventually SECONDS NAME COMMAND...: a check that may take a few seconds to become true.
eventually() {
    local seconds=$1 name=$2
    shift 2
    check "$name" wait_for "$seconds" "$@"
}

echo "== alert rules (promtool, from Debian's prometheus package)"
check "promtool check config: deploy/prometheus/prometheus.yml and its rules" \
    promtool check config deploy/prometheus/prometheus.yml
check "promtool test rules: an offline panel raises only RLTPanelOffline, an online faulted one RLTPanelFault" \
    promtool test rules deploy/prometheus/rlt-alerts.test.yml

edge=$(free_port) ops=$(free_port) http=$(free_port) prom=$(free_port)
echo "== brokers: edge 127.0.0.1:$edge (panels), ops 127.0.0.1:$ops (tools), bridged edge -> ops"
start_broker ops "$ops"
sed "s/^address .*/address 127.0.0.1:$ops/" deploy/mosquitto/bridge.conf >"$work/bridge.conf"
start_broker edge "$edge" "$work/bridge.conf"
eventually 15 "bridge connects edge to ops" \
    bash -c "mosquitto_sub -h 127.0.0.1 -p $ops -t rlt/_bridge/rlt-ops/state -C 1 -W 2 | grep -qx 1"

echo "== 4 simulated gateways on edge; the exporter on ops (:$http); prometheus (:$prom)"
start_gateway gw-1 "$edge" ward-a
start_gateway gw-2 "$edge" ward-a
start_gateway gw-3 "$edge" ward-b
start_gateway gw-4 "$edge" ward-b
"$fleet_bin" exporter --url "mqtt://127.0.0.1:$ops" --port "$http" 2>"$work/exporter.log" &
exporter_pid=$!
pids+=($exporter_pid)
check "exporter serves /metrics" wait_for 20 curl -sf "http://127.0.0.1:$http/metrics"
check "prometheus is ready" start_prometheus "$prom" "127.0.0.1:$http" 1s

online_all() { [ "$(prom_query "$prom" 'rlt_panel_online')" = "$(printf 'gw-1 1\ngw-2 1\ngw-3 1\ngw-4 1')" ]; }
eventually 40 "prometheus has rlt_panel_online = 1 for gw-1..gw-4 (through the bridge)" online_all

echo "== a session on gw-1, started from the ops side (command crosses the bridge inward)"
# gw-1's events, for the session's final dose and emitting time (compared with the exporter's counters).
mosquitto_sub -h 127.0.0.1 -p "$ops" -t rlt/gw-1/event >"$work/gw-1-events.jsonl" &
pids+=($!)
check "session start on gw-1 via ops" \
    "$bin" session start --url "mqtt://127.0.0.1:$ops" --device gw-1 --duration 90s --timeout 10
running_gw1() { [ "$(prom_query "$prom" 'rlt_panel_state{state="running"} == 1')" = "gw-1 1" ]; }
eventually 20 "prometheus: only gw-1 is in state running" running_gw1
dose_gw1() { prom_query "$prom" 'rlt_panel_dose_joules_per_cm2{channel="total",device="gw-1"} > 0' | grep -q '^gw-1 '; }
eventually 20 "prometheus: gw-1 dose grows above 0" dose_gw1
temps() { [ "$(prom_query "$prom" 'rlt_panel_temperature_celsius' | wc -l)" -eq 4 ]; }
check "prometheus: a temperature series per device" temps
idle_count() { [ "$(prom_query "$prom" 'count(rlt_panel_state{state="idle"} == 1)')" = "- 3" ]; }
check "prometheus: the other three are idle" idle_count

check "grafana dashboards: every query is valid PromQL, fleet panels have data" \
    python3 Tests/fleet/check-dashboards.py "http://127.0.0.1:$prom" gw-1 "http://127.0.0.1:$http/metrics"

echo "== gw-4 dies (kill -9): its last will crosses the bridge"
kill -KILL "$gw_pid_gw_4"
offline_gw4() { [ "$(prom_query "$prom" 'rlt_panel_online == 0')" = "gw-4 0" ]; }
eventually 30 "prometheus: gw-4 shows as offline (rlt_panel_online 0)" offline_gw4
kept_gw4() { prom_query "$prom" 'rlt_panel_temperature_celsius{device="gw-4"}' | grep -q '^gw-4 '; }
check "prometheus: gw-4 is marked, not dropped (its series remain)" kept_gw4
fleet_counts() { [ "$(prom_query "$prom" 'rlt_fleet_panels{link="offline"}')" = "- 1" ]; }
check "prometheus: rlt_fleet_panels{link=offline} = 1" fleet_counts

echo "== fleet watch in a real terminal (tmux)"
tmux -L "$tmux_socket" new-session -d -s watch -x 150 -y 20 "$fleet_bin watch --url mqtt://127.0.0.1:$ops --sort device"
pane() { tmux -L "$tmux_socket" capture-pane -p -t watch; }
rows_ok() {
    local screen
    screen="$(pane)"
    echo "$screen" | grep -Eq '^gw-1 +online +running +[0-9]{2}:[0-9]{2} ' &&
        echo "$screen" | grep -Eq '^gw-2 +online +idle ' &&
        echo "$screen" | grep -Eq '^gw-3 +online +idle ' &&
        echo "$screen" | grep -Eq '^gw-4 +offline ' &&
        echo "$screen" | grep -q '4 panels: 3 online, 1 offline, 1 running'
}
eventually 15 "watch shows gw-1 running, gw-2/gw-3 idle, gw-4 offline" rows_ok
pane >"$work/watch-1.txt"
sed -n '1,8p' "$work/watch-1.txt"
tmux -L "$tmux_socket" send-keys -t watch r
reversed() { pane | grep -A1 '^DEVICE' | tail -n 1 | grep -q '^gw-4 '; }
eventually 5 "watch: key r reverses the order (gw-4 first)" reversed
tmux -L "$tmux_socket" send-keys -t watch s
sorted_link() { pane | grep -q 'sort: link desc'; }
eventually 5 "watch: key s moves to the next sort column" sorted_link
tmux -L "$tmux_socket" send-keys -t watch q
quit() { ! tmux -L "$tmux_socket" has-session -t watch 2>/dev/null; }
eventually 5 "watch: key q quits" quit

json_ok() {
    "$fleet_bin" watch --url "mqtt://127.0.0.1:$ops" --json --once --settle 1.5 | python3 -c '
import json, sys
doc = json.loads(sys.stdin.readline())
panels = {p["device"]: p for p in doc["panels"]}
assert sorted(panels) == ["gw-1", "gw-2", "gw-3", "gw-4"], panels.keys()
assert panels["gw-4"]["online"] is False and panels["gw-4"]["offline_reason"] == "connection_lost"
assert panels["gw-1"]["state"] == "running" and panels["gw-1"]["remaining_s"] > 0
assert panels["gw-2"]["temperature_c"] is not None
'
}
check "watch --json --once (ops broker) lists the four panels" json_ok
single_ok() {
    "$fleet_bin" watch --url "mqtt://127.0.0.1:$edge" --json --once --settle 1.5 | python3 -c '
import json, sys
doc = json.loads(sys.stdin.readline())
assert sorted(p["device"] for p in doc["panels"]) == ["gw-1", "gw-2", "gw-3", "gw-4"]
'
}
check "single-broker topology: watch on the panels' own broker sees them too" single_ok

echo "== fleet stop across the bridge"
"$fleet_bin" stop --group ward-a --timeout 3 --url "mqtt://127.0.0.1:$ops" >"$work/stop-group.txt"
group_rc=$?
cat "$work/stop-group.txt"
check "stop --group ward-a exits 0" test "$group_rc" -eq 0
check "stop --group ward-a: gw-1 stopped its session" grep -Eq '^gw-1 +ok +cooldown +session .* stopped' "$work/stop-group.txt"
check "stop --group ward-a: gw-2 answered, gw-3 (ward-b) did not" \
    bash -c "grep -q '^gw-2 .*ok' '$work/stop-group.txt' && ! grep -q '^gw-3' '$work/stop-group.txt'"
stopped_gw1() { [ "$(prom_query "$prom" 'rlt_panel_state{state="running"} == 1')" = "" ]; }
eventually 15 "prometheus: no panel is running after the stop" stopped_gw1
completed() { prom_query "$prom" 'rlt_panel_sessions_total{event="aborted",device="gw-1"} == 1' | grep -q gw-1; }
eventually 10 "prometheus: gw-1 counts one aborted session" completed
# The delivered counters (exporter, straight from /metrics) against the aborted event's own final
# figures: gw-1's one session, counted once; the idle panels' counters exist and are 0.
delivered_matches() {
    curl -sf "http://127.0.0.1:$http/metrics" | python3 -c '
import json, sys
samples = {}
for line in sys.stdin:
    if not line.startswith("#") and line.strip():
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
ends = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ends = [e for e in ends if e.get("event") == "aborted"]
assert len(ends) == 1, ends
dose, seconds = ends[0]["dose_j_cm2"]["total"], ends[0]["elapsed_s"]
got_dose = samples["rlt_panel_dose_joules_per_cm2_total{device=\"gw-1\"}"]
got_seconds = samples["rlt_panel_emitting_seconds_total{device=\"gw-1\"}"]
assert dose > 0 and seconds > 0, (dose, seconds)
assert abs(got_dose - dose) <= 1e-6, ("dose", got_dose, dose)
assert abs(got_seconds - seconds) <= 1e-6, ("seconds", got_seconds, seconds)
for device in ("gw-2", "gw-3", "gw-4"):
    assert samples["rlt_panel_dose_joules_per_cm2_total{device=\"%s\"}" % device] == 0, device
    assert samples["rlt_panel_emitting_seconds_total{device=\"%s\"}" % device] == 0, device
' "$work/gw-1-events.jsonl"
}
eventually 10 "exporter: gw-1's dose and emitting-seconds counters equal its aborted session's (1e-6), others 0" \
    delivered_matches
delivered_in_prometheus() {
    [ "$(prom_query "$prom" 'increase(rlt_panel_dose_joules_per_cm2_total[10m]) > 0' | cut -d' ' -f1)" = "gw-1" ]
}
eventually 10 "prometheus: increase(rlt_panel_dose_joules_per_cm2_total) > 0 for gw-1 only" delivered_in_prometheus
build_info() {
    local version
    version="$("$fleet_bin" --version)"
    [ "$(prom_query "$prom" "count(rlt_panel_build_info{version=\"$version\"})")" = "- 4" ] &&
        [ "$(prom_query "$prom" "rlt_exporter_build_info{version=\"$version\"}")" = "- 1" ]
}
check "prometheus: rlt_panel_build_info for the four panels, rlt_exporter_build_info, both at $("$fleet_bin" --version)" \
    build_info
"$fleet_bin" stop --all --timeout 3 --url "mqtt://127.0.0.1:$ops" >"$work/stop-all.txt"
all_rc=$?
cat "$work/stop-all.txt"
check "stop --all: three online panels answer ok, exit 0" \
    bash -c "[ $all_rc -eq 0 ] && grep -q '^3 answered (3 ok, 0 refused), 0 silent' '$work/stop-all.txt'"
"$fleet_bin" stop --group nobody --timeout 1 --url "mqtt://127.0.0.1:$ops" >/dev/null
check "stop --group with no members exits 3" test $? -eq 3

echo "== rlt-gateway fleet: hands over to rlt-fleet, or says how to get it"
forwarded_ok() {
    "$bin" fleet watch --url "mqtt://127.0.0.1:$ops" --json --once --settle 1.5 | python3 -c '
import json, sys
assert len(json.loads(sys.stdin.readline())["panels"]) == 4'
}
check "rlt-gateway fleet watch runs rlt-fleet watch (same output)" forwarded_ok
# A copy of rlt-gateway alone in a directory, with a PATH that has no rlt-fleet.
mkdir "$work/alone" && cp "$bin" "$work/alone/rlt-gateway"
PATH=/usr/bin:/bin "$work/alone/rlt-gateway" fleet stop --all >/dev/null 2>"$work/alone/err"
alone_rc=$?
check "rlt-gateway fleet without rlt-fleet exits 127 and says how to get it" \
    bash -c "[ $alone_rc -eq 127 ] && grep -q 'deploy/install.sh --fleet' '$work/alone/err'"

exits_cleanly() {
    kill -TERM "$exporter_pid"
    for _ in $(seq 50); do kill -0 "$exporter_pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$exporter_pid" 2>/dev/null && wait "$exporter_pid"
}
check "exporter exits 0 within 5 s of SIGTERM" exits_cleanly

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
