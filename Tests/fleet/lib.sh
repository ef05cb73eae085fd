# Shared by Tests/fleet/run.sh and Tests/fleet/bench.sh: brokers, simulated gateways, the fleet
# exporter (rlt-fleet) and Prometheus on loopback, each started in the background and recorded for
# cleanup.
# shellcheck shell=bash

fleet_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pids=()

# Debian installs mosquitto in /usr/sbin, which is not on a non-root user's PATH.
export PATH="$PATH:/usr/sbin:/sbin"
free_port() { bash "$fleet_root/deploy/free-port.sh"; }

# fleet_program GATEWAY_BINARY: the rlt-fleet to test, RLT_FLEET_BIN or the one built beside the
# gateway (`RLT_BIN=.build/release/rlt-gateway` means .build/release/rlt-fleet).
fleet_program() { echo "${RLT_FLEET_BIN:-$(dirname "$1")/rlt-fleet}"; }

# wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds.
wait_for() {
    local seconds=$1
    shift
    local end=$((SECONDS + seconds))
    while [ $SECONDS -lt $end ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    "$@" >/dev/null 2>&1
}

broker_up() { mosquitto_pub -h 127.0.0.1 -p "$1" -t rlt/_probe -n -q 0; }

# start_broker NAME PORT [EXTRA_CONF_FILE]: a private mosquitto on loopback.
start_broker() {
    local name=$1 port=$2 extra=${3:-}
    {
        echo "listener $port 127.0.0.1"
        echo "allow_anonymous true"
        echo "set_tcp_nodelay true"
        echo "persistence false"
        echo "max_queued_messages 10000"
        [ -n "$extra" ] && cat "$extra"
    } >"$work/$name.conf"
    mosquitto -c "$work/$name.conf" >"$work/$name.log" 2>&1 &
    pids+=($!)
    wait_for 10 broker_up "$port"
}

# start_gateway ID BROKER_PORT [GROUP]: one simulated gateway (`rlt-gateway run`), own sim dir and ledger.
start_gateway() {
    local id=$1 port=$2 group=${3:-}
    local args=(--config "$fleet_root/config/demo.yaml" --set "mqtt.url=mqtt://127.0.0.1:$port"
        --set "device.id=$id" --set "gpio.sim_dir=$work/gw/$id/gpio" --set "storage.path=$work/gw/$id/ledger.sqlite"
        --set "logging.level=warning")
    [ -n "$group" ] && args+=(--set "device.groups=[$group]")
    mkdir -p "$work/gw/$id"
    # demo.yaml's wiring is fail-safe (an unconnected line reads the interlock open and the stop
    # button pressed): close the simulated contacts first, as deploy/demo.sh does.
    local line
    for line in 23 24; do
        mkdir -p "$work/gw/$id/gpio/sim_gpio$line"
        echo pull-up >"$work/gw/$id/gpio/sim_gpio$line/pull"
    done
    "$bin" run "${args[@]}" >"$work/gw/$id/log" 2>&1 &
    pids+=($!)
    eval "gw_pid_${id//-/_}=$!"
}

# start_prometheus PORT TARGET INTERVAL: Debian's prometheus on loopback, scraping TARGET,
# from the shipped deploy/prometheus files with the target and interval replaced.
start_prometheus() {
    local port=$1 target=$2 interval=$3
    mkdir -p "$work/prom"
    sed -e "s/127.0.0.1:9474/$target/" -e "s/scrape_interval: 15s/scrape_interval: $interval/" \
        -e "s/scrape_timeout: 5s/scrape_timeout: $interval/" \
        "$fleet_root/deploy/prometheus/prometheus.yml" >"$work/prom/prometheus.yml"
    cp "$fleet_root/deploy/prometheus/rlt-alerts.yml" "$work/prom/"
    prometheus --config.file="$work/prom/prometheus.yml" --storage.tsdb.path="$work/prom/data" \
        --web.listen-address="127.0.0.1:$port" >"$work/prom/log" 2>&1 &
    pids+=($!)
    wait_for 30 curl -sf "http://127.0.0.1:$port/-/ready"
}

# prom_query PORT QUERY: prints "device value" per series of an instant query, sorted.
prom_query() {
    curl -sf --get "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
for r in sorted(doc["data"]["result"], key=lambda r: r["metric"].get("device", "")):
    print(r["metric"].get("device", "-"), r["value"][1])'
}

stop_all() {
    local pid
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}

# begin_run NAME: a work directory and a tmux server of this run's own ($work, $tmux_socket), both
# removed on exit together with every process started through this library.
begin_run() {
    work="$(mktemp -d "/tmp/$1.XXXXXX")"
    tmux_socket="$1-$$"
    trap end_run EXIT INT TERM
}

end_run() {
    tmux -L "$tmux_socket" kill-server 2>/dev/null || true
    stop_all
    rm -rf "$work"
}
