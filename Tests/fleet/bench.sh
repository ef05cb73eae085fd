#!/usr/bin/env bash
# Fleet benchmark (not a test): FLEET_N simulated gateways (each its own `rlt-gateway run` process)
# on an edge mosquitto bridged to an ops mosquitto; FLEET_RUNNING of them in a session (telemetry
# every second). On ops: the fleet exporter (`rlt-fleet exporter`) scraped every second by Debian's
# prometheus, and `rlt-fleet watch` refreshing every second in tmux. Over FLEET_WINDOW seconds it
# records the exporter's scrape time (Prometheus' own scrape_duration_seconds and 200 client-side
# GETs), its CPU and memory, and the watch view's cost per refresh. Prints a Markdown table for
# BENCHMARKS.md. Uses the rlt-fleet beside RLT_BIN (or RLT_FLEET_BIN):
#   RLT_BIN=.build/release/rlt-gateway bash Tests/fleet/bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source Tests/fleet/lib.sh

n=${FLEET_N:-50} running=${FLEET_RUNNING:-10} window=${FLEET_WINDOW:-60}
bin="${RLT_BIN:-.build/release/rlt-gateway}"
fleet_bin="$(fleet_program "$bin")"
[ -x "$bin" ] && [ -x "$fleet_bin" ] ||
    { echo "build first: swift build -c release --product rlt-gateway && swift build -c release --product rlt-fleet"; exit 1; }
begin_run rlt-fleet-bench

edge=$(free_port) ops=$(free_port) http=$(free_port) prom=$(free_port)
start_broker ops "$ops"
sed "s/^address .*/address 127.0.0.1:$ops/" deploy/mosquitto/bridge.conf >"$work/bridge.conf"
start_broker edge "$edge" "$work/bridge.conf"
edge_pid=${pids[1]} ops_pid=${pids[0]}
"$fleet_bin" exporter --url "mqtt://127.0.0.1:$ops" --port "$http" 2>"$work/exporter.log" &
exporter_pid=$!
pids+=($exporter_pid)
wait_for 20 curl -sf "http://127.0.0.1:$http/metrics"

echo "starting $n gateways" >&2
gateway_pids=()
for i in $(seq -w 1 "$n"); do
    start_gateway "panel-$i" "$edge" "ward-$((10#$i % 5))"
    gateway_pids+=("${pids[-1]}")
    sleep 0.05
done
all_online() { curl -sf "http://127.0.0.1:$http/metrics" | grep -qx "rlt_fleet_panels{link=\"online\"} $n"; }
wait_for 120 all_online || { echo "not all $n gateways came online" >&2; exit 1; }
echo "all $n online; starting $running sessions" >&2
for i in $(seq -w 1 "$running"); do
    "$bin" session start --url "mqtt://127.0.0.1:$ops" --device "panel-$(printf %02d $((10#$i)))" --duration 120s >/dev/null
done
start_prometheus "$prom" "127.0.0.1:$http" 1s
tmux -L "$tmux_socket" new-session -d -s watch -x 160 -y $((n + 6)) "$fleet_bin watch --url mqtt://127.0.0.1:$ops --interval 1"
sleep 3
watch_pid=$(pgrep -P "$(tmux -L "$tmux_socket" list-panes -t watch -F '#{pane_pid}')" -f 'rlt-fleet watch' || tmux -L "$tmux_socket" list-panes -t watch -F '#{pane_pid}')

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
sum_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(ticks "$p"))); done; echo $t; }
sum_rss() { local t=0 p; for p in "$@"; do t=$((t + $(rss_kb "$p"))); done; echo $t; }

messages() { curl -sf "http://127.0.0.1:$http/metrics" | awk '$1 == "rlt_exporter_messages_total" {print $2}'; }
e0=$(ticks "$exporter_pid") w0=$(ticks "$watch_pid") g0=$(sum_ticks "${gateway_pids[@]}") b0=$(sum_ticks "$edge_pid" "$ops_pid")
m0=$(messages)
sleep "$window"
e1=$(ticks "$exporter_pid") w1=$(ticks "$watch_pid") g1=$(sum_ticks "${gateway_pids[@]}") b1=$(sum_ticks "$edge_pid" "$ops_pid")
m1=$(messages)
hz=$(getconf CLK_TCK)

# Client-side: 200 sequential GETs of /metrics.
for _ in $(seq 200); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$http/metrics"; done >"$work/get-times"
page_bytes=$(curl -s "http://127.0.0.1:$http/metrics" | wc -c)
page_series=$(curl -s "http://127.0.0.1:$http/metrics" | grep -vc '^#')
q() { curl -sf --get "http://127.0.0.1:$prom/api/v1/query" --data-urlencode "query=$1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "nan")'; }
scrape_avg=$(q "avg_over_time(scrape_duration_seconds{job=\"rlt-fleet\"}[${window}s])")
scrape_max=$(q "max_over_time(scrape_duration_seconds{job=\"rlt-fleet\"}[${window}s])")
scrape_count=$(q "count_over_time(scrape_duration_seconds{job=\"rlt-fleet\"}[${window}s])")
online=$(q 'sum(rlt_fleet_panels{link="online"})')
running_now=$(q 'count(rlt_panel_state{state="running"} == 1)')
header=$(tmux -L "$tmux_socket" capture-pane -p -t watch | head -n 2)
rows=$(tmux -L "$tmux_socket" capture-pane -p -t watch | grep -c '^panel-' || true)
built_us=$(echo "$header" | sed -n 's/.*(built in \([0-9]*\) µs).*/\1/p')

python3 - "$work/get-times" <<PY
import statistics, sys
times = sorted(float(x) * 1000 for x in open(sys.argv[1]))
p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
hz, window = $hz, $window
cpu = lambda a, b: (b - a) / hz
print(f"""
| fleet of {$n} gateways ({$running} in a session), bridged edge → ops, window {window} s | value |
| --- | --- |
| panels online / running (Prometheus) | {float("$online"):.0f} / {float("$running_now"):.0f} |
| MQTT messages into the exporter | {($m1 - $m0) / window:.1f} /s |
| /metrics page | {$page_bytes} bytes, {$page_series} samples |
| scrape time, Prometheus scrape_duration_seconds (1 s interval, {float("$scrape_count"):.0f} scrapes) | avg {float("$scrape_avg")*1000:.2f} ms, max {float("$scrape_max")*1000:.2f} ms |
| scrape time, 200 sequential curl GETs | p50 {p(0.5):.2f} ms, p95 {p(0.95):.2f} ms, max {times[-1]:.2f} ms |
| exporter CPU during the window (MQTT intake + 1 scrape/s) | {cpu($e0, $e1) / window * 100:.2f} % of one core |
| exporter memory | RSS {$(rss_kb "$exporter_pid")/1024:.1f} MiB, peak {$(hwm_kb "$exporter_pid")/1024:.1f} MiB |
| fleet watch, 1 refresh/s in tmux ({$rows} rows on screen) | {cpu($w0, $w1) / window * 1000:.2f} ms CPU per refresh (incl. MQTT intake); table built in {"$built_us"} µs |
| fleet watch memory | RSS {$(rss_kb "$watch_pid")/1024:.1f} MiB |
| the {$n} gateways together | CPU {cpu($g0, $g1) / window * 100:.1f} % of one core, RSS {$(sum_rss "${gateway_pids[@]}")/1024:.0f} MiB ({$(sum_rss "${gateway_pids[@]}")/1024/$n:.1f} MiB each) |
| both mosquitto brokers | CPU {cpu($b0, $b1) / window * 100:.2f} % of one core |
""")
PY
