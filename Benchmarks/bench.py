#!/usr/bin/env python3
"""Benchmarks/run's driver: rlt-gateway against the floor (C echo) and the DIY peer (Python).

Prints figures and ratios; never passes or fails on speed. See BENCHMARKS.md for the method.
Run through Benchmarks/run, which builds everything first and passes the paths in the environment.
"""
import json
import os
import platform
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GATEWAY = os.environ["RLT_BENCH_GATEWAY"]
CLIENT = os.environ["RLT_BENCH_CLIENT"]
FLOOR = os.environ["RLT_BENCH_FLOOR"]
PYTHON = os.environ.get("RLT_BENCH_PYTHON", sys.executable)
ROUNDS = int(os.environ.get("RLT_BENCH_ROUNDS", "10"))
GETS_PER_ROUND = int(os.environ.get("RLT_BENCH_GETS", "400"))
INSTANCES_PER_ROUND = int(os.environ.get("RLT_BENCH_INSTANCES", "3"))
STOPS_PER_ROUND = int(os.environ.get("RLT_BENCH_STOPS", "300"))
FLOOD_RATE = int(os.environ.get("RLT_BENCH_FLOOD_RATE", "2000"))
IDLE_SECONDS = float(os.environ.get("RLT_BENCH_IDLE_S", "30"))
SESSION_SECONDS = float(os.environ.get("RLT_BENCH_SESSION_S", "20"))
THROUGHPUT_RATES = [int(r) for r in os.environ.get("RLT_BENCH_RATES", "1000,2000,4000,8000,12000,16000,24000,32000").split(",")]
SENSOR_INTERVAL_MS = 250
PAIRS_PER_INSTANCE = 9  # max_daily_sessions is 10 (hard limit); the 10th session is the safety trial

GET = '{"id":"%s","cmd":"get"}'
START = '{"id":"%s","cmd":"start","args":{"duration_s":60}}'
STOP = '{"id":"%s","cmd":"stop"}'


def log(text):
    print(text, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def summary_us(values_ns):
    values = [v / 1000 for v in values_ns]
    return {"n": len(values), "p50": percentile(values, 50), "p90": percentile(values, 90),
            "p99": percentile(values, 99), "max": max(values) if values else None}


def ratio(a, b):
    return None if a is None or not b else a / b


# ---- /proc readings ----

def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def rss_parts_mb(pid):
    """Anonymous (the process's own heap and stacks) and file-backed (mapped binary and libraries,
    clean and shared with the page cache) parts of the RSS."""
    parts = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                parts[line.split(":")[0]] = int(line.split()[1]) / 1024
    return parts.get("RssAnon"), parts.get("RssFile")


def threads(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return None


def cpu_ns(pid):
    """CPU time of every live thread, in ns (schedstat is ns-precise, unlike stat's clock ticks)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


# ---- processes ----

class Monitor:
    """One paho client that watches status and event topics for the driver."""

    def __init__(self, port):
        self.messages = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="rlt-bench-monitor")
        self.client.on_message = lambda c, u, m: self.messages.put((time.monotonic_ns(), m.topic, bytes(m.payload)))
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe("rlt/+/status", qos=1)
        subscribed.wait(5)

    def subscribe(self, topic):
        done = threading.Event()
        self.client.on_subscribe = lambda *a: done.set()
        self.client.subscribe(topic, qos=1)
        done.wait(5)

    def publish(self, topic, payload):
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def wait_for(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.messages.get(timeout=max(0.001, deadline - time.monotonic()))
            except queue.Empty:
                break
            if predicate(item):
                return item
        return None

    def drain(self):
        while not self.messages.empty():
            self.messages.get_nowait()

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


class Side:
    """A process under test with its topics."""

    def __init__(self, name, base, argv, workdir, env=None):
        self.name, self.base, self.argv, self.workdir, self.env = name, base, argv, workdir, env
        self.process = None
        self.log = None

    @property
    def cmd(self):
        return self.base + "/cmd"

    @property
    def res(self):
        return self.base + "/res"

    def start(self, monitor):
        """Starts the process; returns ms from spawn to its retained `online` at the broker."""
        self.log = open(os.path.join(self.workdir, "log.txt"), "ab")
        began = time.monotonic_ns()
        self.process = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT, env=self.env,
                                        start_new_session=True)
        seen = monitor.wait_for(lambda m: m[1] == self.base + "/status" and b"online" in m[2], 15)
        if seen is None:
            raise RuntimeError(f"{self.name} did not come online; see {self.workdir}/log.txt")
        return (seen[0] - began) / 1e6

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log:
            self.log.close()

    @property
    def pid(self):
        return self.process.pid


def gateway_side(workdir, port, device_id, ledger_on_tmpfs=False):
    """A gateway in simulation mode. GPIO files and the sensor file live on tmpfs (/dev/shm), as
    sysfs and the GPIO character device are memory-backed; the ledger lives on the disk, as it does
    on a panel, unless `ledger_on_tmpfs` (a diagnostic: what the fsync costs)."""
    os.makedirs(workdir, exist_ok=True)
    volatile = tempfile.mkdtemp(prefix=f"rlt-bench-{device_id}.", dir="/dev/shm")
    TMPFS_DIRS.append(volatile)
    sensor = os.path.join(volatile, "temp")
    with open(sensor, "w") as f:
        f.write("25000\n")
    ledger_dir = volatile if ledger_on_tmpfs else workdir
    config = os.path.join(workdir, "gateway.yaml")
    with open(config, "w") as f:
        # No interlock input: the simulated chip polls input files every 50 ms, a cost of the
        # simulator (libgpiod waits on an edge fd at no cost), which would otherwise dominate idle CPU.
        f.write(f"""# written by Benchmarks/bench.py
device: {{id: {device_id}}}
mqtt: {{url: "mqtt://127.0.0.1:{port}", keepalive_s: 10}}
gpio:
  backend: simulated
  sim_dir: {volatile}/gpio
  inputs: {{interlock: null}}
sensor: {{type: file, path: {sensor}, interval_ms: {SENSOR_INTERVAL_MS}}}
limits:
  max_session_s: 3600
  max_session_dose_j_cm2: 200
  max_daily_dose_j_cm2: 400
  max_daily_sessions: 10
  cooldown_s: 0
storage: {{path: {ledger_dir}/ledger.sqlite}}
""")
    side = Side("gateway", f"rlt/{device_id}", [GATEWAY, "run", "--config", config], workdir)
    side.sensor = sensor
    side.red_value = os.path.join(volatile, "gpio", "sim_gpio17", "value")
    return side


TMPFS_DIRS = []


# ---- measurements ----

def rtt(port, side, count, templates, scratch):
    out = os.path.join(scratch, "rtt.txt")
    subprocess.run([CLIENT, "rtt", "127.0.0.1", str(port), side.cmd, side.res, str(count), out, *templates],
                   check=False)
    rows = []
    with open(out) as f:
        for line in f:
            t, ns, ok = line.split()
            rows.append((int(t), int(ns), ok == "1"))
    return rows


def main():
    scratch = tempfile.mkdtemp(prefix="rlt-bench.")
    results = {"machine": machine(), "config": {
        "rounds": ROUNDS, "gets_per_round": GETS_PER_ROUND, "instances_per_round": INSTANCES_PER_ROUND,
        "pairs_per_instance": PAIRS_PER_INSTANCE, "stops_per_round": STOPS_PER_ROUND, "flood_rate": FLOOD_RATE,
        "sensor_interval_ms": SENSOR_INTERVAL_MS}}
    port = free_port()
    conf = os.path.join(scratch, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\npersistence false\n"
                "max_queued_messages 100000\nlog_dest none\n")
    broker = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    sides = []
    monitor = None
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        monitor = Monitor(port)
        results["binary"] = binary_sizes()

        gw = gateway_side(os.path.join(scratch, "gw"), port, "bench-gw")
        floor_dir = os.path.join(scratch, "floor")
        os.makedirs(floor_dir)
        floor = Side("floor", "rlt/bench-floor",
                     [FLOOR, "127.0.0.1", str(port), "rlt/bench-floor/cmd", "rlt/bench-floor/res",
                      "rlt/bench-floor/status"], floor_dir)
        peer_dir = os.path.join(scratch, "peer")
        os.makedirs(peer_dir)
        peer_volatile = tempfile.mkdtemp(prefix="rlt-bench-peer.", dir="/dev/shm")
        TMPFS_DIRS.append(peer_volatile)
        peer = Side("peer", "rlt/bench-peer",
                    [PYTHON, os.path.join(ROOT, "Benchmarks", "peer.py"), "127.0.0.1", str(port), "rlt/bench-peer",
                     os.path.join(peer_volatile, "led")], peer_dir)
        startup = {"gateway": [], "floor": [], "peer": []}
        startup_instances = []
        for side in (gw, floor, peer):
            startup[side.name].append(side.start(monitor))
            sides.append(side)
        time.sleep(1)

        get_ns = {"gateway": [], "floor": [], "peer": []}
        pair_ns = {s: {"start": [], "stop": []} for s in ("gateway", "floor", "peer", "gateway_tmpfs_ledger")}
        pair_failures = {"gateway": 0, "floor": 0, "peer": 0, "gateway_tmpfs_ledger": 0}
        stop_ns = {"unloaded": [], "flood": []}
        stops_lost = {"unloaded": 0, "flood": 0}
        real_stop_flood_ns = []
        flood_sent = []
        safety = []
        running_rss = []
        instance_idle_rss = []
        by_round = []
        n_instance = 0
        for round_index in range(ROUNDS):
            log(f"round {round_index + 1}/{ROUNDS}")
            this_round = {}
            for side in random.sample([gw, floor, peer], 3):
                rows = rtt(port, side, GETS_PER_ROUND, [GET], scratch)
                ok = [ns for _, ns, good in rows if ns >= 0]
                get_ns[side.name] += ok
                this_round[side.name + "_get_p50"] = percentile(ok, 50)
            # start/stop pairs: fresh gateway instances (the 24 h session count is capped at 10),
            # the floor and the peer with the same number of pairs, in shuffled order.
            for instance in range(INSTANCES_PER_ROUND):
                order = ["gateway", "floor", "peer"] + (["gateway_tmpfs_ledger"] if instance == 0 else [])
                random.shuffle(order)
                for name in order:
                    if name.startswith("gateway"):
                        n_instance += 1
                        tmpfs_ledger = name == "gateway_tmpfs_ledger"
                        eph = gateway_side(os.path.join(scratch, f"e{n_instance}"), port, f"bench-e{n_instance}",
                                           ledger_on_tmpfs=tmpfs_ledger)
                        monitor.subscribe(eph.base + "/event")
                        startup_instances.append(eph.start(monitor))
                        time.sleep(0.3)
                        instance_idle_rss.append(rss_mb(eph.pid))
                        try:
                            rows = rtt(port, eph, 2 * PAIRS_PER_INSTANCE, [START, STOP], scratch)
                            record_pairs(rows, pair_ns[name], pair_failures, name)
                            if not tmpfs_ledger:
                                safety.append(safety_trial(port, eph, monitor, scratch, running_rss))
                        finally:
                            eph.stop()
                    else:
                        side = floor if name == "floor" else peer
                        rows = rtt(port, side, 2 * PAIRS_PER_INSTANCE, [START, STOP], scratch)
                        record_pairs(rows, pair_ns[name], pair_failures, name)
            # stop: unloaded and under flood, in random order
            for mode in random.sample(["unloaded", "flood"], 2):
                flood = None
                if mode == "flood":
                    flood = subprocess.Popen([CLIENT, "flood", "127.0.0.1", str(port), gw.cmd, str(FLOOD_RATE),
                                              str(STOPS_PER_ROUND * 0.004 + 2.0)], stdout=subprocess.PIPE, text=True)
                    time.sleep(0.5)
                rows = rtt(port, gw, STOPS_PER_ROUND, [STOP], scratch)
                stop_ns[mode] += [ns for _, ns, _ in rows if ns >= 0]
                stops_lost[mode] += sum(1 for _, ns, _ in rows if ns < 0)
                if flood:
                    out, _ = flood.communicate(timeout=60)
                    flood_sent.append(json.loads(out))
            by_round.append(this_round)
            monitor.drain()

        # real stops under flood: a session runs, the flood starts, the stop must land
        log("real stops under flood")
        for _ in range(2):
            n_instance += 1
            eph = gateway_side(os.path.join(scratch, f"e{n_instance}"), port, f"bench-e{n_instance}")
            eph.start(monitor)
            try:
                for _ in range(PAIRS_PER_INSTANCE):
                    time.sleep(1.0)  # the previous flood emptied the rate bucket; stop is exempt, start is not
                    started = rtt(port, eph, 1, [START], scratch)
                    if not started or not started[0][2]:
                        log("warning: start refused before a flood; skipped")
                        continue
                    flood = subprocess.Popen([CLIENT, "flood", "127.0.0.1", str(port), eph.cmd, str(FLOOD_RATE),
                                              "1.5"], stdout=subprocess.PIPE, text=True)
                    time.sleep(0.5)
                    rows = rtt(port, eph, 1, [STOP], scratch)
                    with open(eph.red_value) as f:
                        off = f.read().strip() == "0"
                    real_stop_flood_ns += [ns for _, ns, ok in rows if ns >= 0 and ok and off]
                    stops_lost["flood"] += sum(1 for _, ns, ok in rows if ns < 0 or not off)
                    flood.communicate(timeout=30)
            finally:
                eph.stop()

        # footprint: idle, then a running session, all sides at once
        log(f"idle window {IDLE_SECONDS:.0f} s")
        monitor.drain()
        time.sleep(2)
        idle = measure_window([gw, floor, peer], IDLE_SECONDS)
        log(f"session window {SESSION_SECONDS:.0f} s")
        for side in (gw, peer):
            rows = rtt(port, side, 1, [START], scratch)
            if not rows or not rows[0][2]:
                log(f"warning: {side.name} did not start a session for the session window")
        time.sleep(1)
        session = measure_window([gw, peer], SESSION_SECONDS)
        for side in (gw, peer):
            rtt(port, side, 1, [STOP], scratch)

        log("throughput")
        throughput = {"gateway": [], "floor": [], "peer": []}
        best = {}
        for rate in THROUGHPUT_RATES:
            for side in random.sample([gw, floor, peer], 3):
                if best.get(side.name, {}).get("failed"):
                    continue
                out = subprocess.run([CLIENT, "throughput", "127.0.0.1", str(port), side.cmd, side.res, str(rate),
                                      "2", GET], capture_output=True, text=True, timeout=60).stdout
                run = json.loads(out)
                run["sustained"] = sustained(run)
                throughput[side.name].append(run)
                entry = best.setdefault(side.name, {"rate": 0})
                if run["sustained"]:
                    entry["rate"] = max(entry["rate"], rate)
                else:
                    entry["failed"] = True
                time.sleep(1)  # let the backlog drain before the next side

        startup["gateway"] += startup_instances
        results["startup_ms"] = {k: {"n": len(v), "p50": percentile(v, 50), "max": max(v)} for k, v in startup.items()}
        results["get_us"] = {k: summary_us(v) for k, v in get_ns.items()}
        results["pairs_us"] = {k: {"start": summary_us(v["start"]), "stop": summary_us(v["stop"]),
                                   "failures": pair_failures[k]} for k, v in pair_ns.items()}
        results["stop_us"] = {k: summary_us(v) for k, v in stop_ns.items()}
        results["stop_lost"] = stops_lost
        results["real_stop_under_flood_us"] = summary_us(real_stop_flood_ns)
        results["real_stop_under_flood_us"]["all"] = [ns / 1000 for ns in real_stop_flood_ns]
        micro_path = os.path.join(ROOT, "Benchmarks", "results", "micro.json")
        if os.path.exists(micro_path):
            with open(micro_path) as f:
                results["micro"] = json.load(f)
        results["flood"] = flood_sent
        results["safety"] = summarize_safety(safety)
        results["footprint"] = {"idle": idle, "session": session,
                                "gateway_instance_rss_after_start_mb": percentile(instance_idle_rss, 50),
                                "gateway_running_rss_mb": percentile(running_rss, 50)}
        results["throughput"] = {"best_sustained_per_s": {k: v["rate"] for k, v in best.items()}, "runs": throughput}
        results["rounds"] = by_round
        results["ratios"] = ratios(results)
        out_dir = os.path.join(ROOT, "Benchmarks", "results")
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "latest.json"), "w") as f:
            json.dump(results, f, indent=2)
        print_table(results)
    finally:
        for side in sides:
            side.stop()
        if monitor:
            monitor.close()
        broker.terminate()
        broker.wait(10)
        if os.environ.get("RLT_BENCH_KEEP"):
            log(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
            for directory in TMPFS_DIRS:
                shutil.rmtree(directory, ignore_errors=True)


def record_pairs(rows, into, failures, name):
    for t, ns, ok in rows:
        if ns < 0 or not ok:
            failures[name] += 1
            continue
        into["start" if t == 0 else "stop"].append(ns)


def safety_trial(port, eph, monitor, scratch, running_rss):
    """One real session, then the over-temperature value lands in the sensor file."""
    rows = rtt(port, eph, 1, [START], scratch)
    if not rows or not rows[0][2]:
        return {"error": "start refused"}
    running_rss.append(rss_mb(eph.pid))
    # Land the write at a random phase of the sensor interval.
    time.sleep(0.3 + random.random() * SENSOR_INTERVAL_MS / 1000)
    out = subprocess.run([CLIENT, "watch", eph.sensor, eph.red_value, "70000"], capture_output=True, text=True)
    written, off = (int(x) for x in out.stdout.split())
    event = monitor.wait_for(lambda m: m[1] == eph.base + "/event" and b"fault_raised" in m[2], 5)
    trial = {"write_to_line_off_ms": (off - written) / 1e6 if off > 0 else None}
    if event:
        body = json.loads(event[2])
        detected, outputs_off = body.get("detected_mono_ns"), body.get("outputs_off_mono_ns")
        if detected and outputs_off:
            trial["sample_to_off_us"] = (outputs_off - detected) / 1000
            trial["write_to_detect_ms"] = (detected - written) / 1e6
    return trial


def summarize_safety(trials):
    ok = [t for t in trials if "error" not in t]
    s2o = [t["sample_to_off_us"] for t in ok if "sample_to_off_us" in t]
    e2e = [t["write_to_line_off_ms"] for t in ok if t.get("write_to_line_off_ms") is not None]
    w2d = [t["write_to_detect_ms"] for t in ok if "write_to_detect_ms" in t]
    return {"trials": len(trials), "errors": len(trials) - len(ok),
            "sample_to_off_us": {"p50": percentile(s2o, 50), "p99": percentile(s2o, 99), "max": max(s2o, default=None)},
            "write_to_line_off_ms": {"p50": percentile(e2e, 50), "p99": percentile(e2e, 99),
                                     "max": max(e2e, default=None)},
            "write_to_detect_ms": {"p50": percentile(w2d, 50), "max": max(w2d, default=None)},
            "sensor_interval_ms": SENSOR_INTERVAL_MS}


def measure_window(sides, seconds):
    before = {s.name: cpu_ns(s.pid) for s in sides}
    rss = {s.name: [] for s in sides}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for s in sides:
            rss[s.name].append(rss_mb(s.pid))
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
    out = {}
    for s in sides:
        used = cpu_ns(s.pid) - before[s.name]
        anon, file_backed = rss_parts_mb(s.pid)
        out[s.name] = {"cpu_pct_of_core": used / (seconds * 1e9) * 100, "rss_anon_mb": anon, "rss_file_mb": file_backed,
                       "cpu_s_per_hour": used / 1e9 * 3600 / seconds,
                       "rss_mb": max(rss[s.name]), "threads": threads(s.pid)}
    return out


def sustained(run):
    """Answered without the backlog growing: the backlog in the last quarter is no larger than in
    the second quarter plus 20 ms worth of commands, and everything was answered by the end."""
    backlog = run["backlog"]
    if len(backlog) < 8 or run["answered"] < run["sent"]:
        return False
    q = len(backlog) // 4
    slack = run["rate"] * 0.02 + 10
    return max(backlog[3 * q:]) <= max(backlog[q:2 * q]) + slack and run["drain_ms"] < 200


def ratios(r):
    g, f, p = r["get_us"]["gateway"], r["get_us"]["floor"], r["get_us"]["peer"]
    pg, pf, pp = r["pairs_us"]["gateway"], r["pairs_us"]["floor"], r["pairs_us"]["peer"]
    idle = r["footprint"]["idle"]
    return {
        "get_p50_vs_floor": ratio(g["p50"], f["p50"]), "get_p99_vs_floor": ratio(g["p99"], f["p99"]),
        "get_p50_peer_over_gateway": ratio(p["p50"], g["p50"]), "get_p99_peer_over_gateway": ratio(p["p99"], g["p99"]),
        "start_p50_vs_floor": ratio(pg["start"]["p50"], pf["start"]["p50"]),
        "start_p99_vs_floor": ratio(pg["start"]["p99"], pf["start"]["p99"]),
        "stop_p50_vs_floor": ratio(pg["stop"]["p50"], pf["stop"]["p50"]),
        "stop_p99_vs_floor": ratio(pg["stop"]["p99"], pf["stop"]["p99"]),
        "start_p50_peer_over_gateway": ratio(pp["start"]["p50"], pg["start"]["p50"]),
        "start_p99_peer_over_gateway": ratio(pp["start"]["p99"], pg["start"]["p99"]),
        "stop_p50_peer_over_gateway": ratio(pp["stop"]["p50"], pg["stop"]["p50"]),
        "stop_p99_peer_over_gateway": ratio(pp["stop"]["p99"], pg["stop"]["p99"]),
        "flood_stop_p99_vs_unloaded": ratio(r["stop_us"]["flood"]["p99"], r["stop_us"]["unloaded"]["p99"]),
        "idle_rss_vs_peer": ratio(idle["gateway"]["rss_mb"], idle["peer"]["rss_mb"]),
    }


def binary_sizes():
    size = os.path.getsize(GATEWAY)
    stripped = os.path.join(tempfile.gettempdir(), f"rlt-gateway-stripped-{os.getpid()}")
    try:
        subprocess.run(["strip", "-o", stripped, GATEWAY], check=True)
        stripped_size = os.path.getsize(stripped)
    finally:
        if os.path.exists(stripped):
            os.remove(stripped)
    return {"gateway_mb": size / 1e6, "gateway_stripped_mb": stripped_size / 1e6,
            "floor_kb": os.path.getsize(FLOOR) / 1e3,
            "peer_script_kb": os.path.getsize(os.path.join(ROOT, "Benchmarks", "peer.py")) / 1e3}


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "loadavg_at_start": os.getloadavg(), "python": platform.python_version(),
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def fmt(value, digits=0):
    if value is None:
        return "-"
    return f"{value:.{digits}f}"


def print_table(r):
    g, f, p = r["get_us"]["gateway"], r["get_us"]["floor"], r["get_us"]["peer"]
    pr = r["pairs_us"]
    rt = r["ratios"]
    idle, sess = r["footprint"]["idle"], r["footprint"]["session"]
    s = r["safety"]
    lines = [
        "",
        f"rlt-gateway benchmarks  ({r['machine']['nproc']} cores, {r['machine']['cpu']}, "
        f"kernel {r['machine']['kernel']}, load {r['machine']['loadavg_at_start'][0]:.2f})",
        "",
        "round trip, µs                 gateway p50/p90/p99      floor p50/p90/p99        peer p50/p90/p99",
    ]
    for label, a, b, c in (
        ("get", g, f, p),
        ("start (real session)", pr["gateway"]["start"], pr["floor"]["start"], pr["peer"]["start"]),
        ("stop  (real session)", pr["gateway"]["stop"], pr["floor"]["stop"], pr["peer"]["stop"]),
    ):
        lines.append(f"  {label:<28} " + "   ".join(
            f"{fmt(x['p50']):>6}/{fmt(x['p90']):>6}/{fmt(x['p99']):>6} " for x in (a, b, c)) +
            f"  (n={a['n']}/{b['n']}/{c['n']})")
    diag = pr["gateway_tmpfs_ledger"]
    lines.append(f"  {'start, ledger on tmpfs (diag)':<28} {fmt(diag['start']['p50']):>6}/{fmt(diag['start']['p90']):>6}/"
                 f"{fmt(diag['start']['p99']):>6}   (n={diag['start']['n']}; no fsync: the gateway's own cost)")
    lines.append(f"  {'stop, ledger on tmpfs (diag)':<28} {fmt(diag['stop']['p50']):>6}/{fmt(diag['stop']['p90']):>6}/"
                 f"{fmt(diag['stop']['p99']):>6}")
    lines += [
        "",
        "ratios (goal)                              p50       p99",
        f"  get: gateway / floor   (≤1.3 / ≤1.5)   {fmt(rt['get_p50_vs_floor'], 2):>7}   {fmt(rt['get_p99_vs_floor'], 2):>7}",
        f"  start: gateway / floor                 {fmt(rt['start_p50_vs_floor'], 2):>7}   {fmt(rt['start_p99_vs_floor'], 2):>7}",
        f"  stop: gateway / floor                  {fmt(rt['stop_p50_vs_floor'], 2):>7}   {fmt(rt['stop_p99_vs_floor'], 2):>7}",
        f"  get: peer / gateway    (≥2)            {fmt(rt['get_p50_peer_over_gateway'], 2):>7}   {fmt(rt['get_p99_peer_over_gateway'], 2):>7}",
        f"  start: peer / gateway  (≥2)            {fmt(rt['start_p50_peer_over_gateway'], 2):>7}   {fmt(rt['start_p99_peer_over_gateway'], 2):>7}",
        f"  stop: peer / gateway   (≥2)            {fmt(rt['stop_p50_peer_over_gateway'], 2):>7}   {fmt(rt['stop_p99_peer_over_gateway'], 2):>7}",
        "",
        f"stop under flood ({r['config']['flood_rate']}/s malformed+valid), µs    p50     p99    lost",
        f"  unloaded (idempotent stop)             {fmt(r['stop_us']['unloaded']['p50']):>7} {fmt(r['stop_us']['unloaded']['p99']):>7}  {r['stop_lost']['unloaded']}",
        f"  flood    (idempotent stop)             {fmt(r['stop_us']['flood']['p50']):>7} {fmt(r['stop_us']['flood']['p99']):>7}  {r['stop_lost']['flood']}",
        f"  flood    (stop of a running session)   {fmt(r['real_stop_under_flood_us']['p50']):>7} {fmt(r['real_stop_under_flood_us']['p99']):>7}  (n={r['real_stop_under_flood_us']['n']})",
        f"  flood p99 / unloaded p99 (≤2)          {fmt(rt['flood_stop_p99_vs_unloaded'], 2):>7}",
        "",
        f"safety reaction ({s['trials']} trials, sensor interval {s['sensor_interval_ms']} ms)   p50      p99      max",
        f"  sample to output off, µs (≤1000)       {fmt(s['sample_to_off_us']['p50']):>7}  {fmt(s['sample_to_off_us']['p99']):>7}  {fmt(s['sample_to_off_us']['max']):>7}",
        f"  file write to line 0, ms (≤{s['sensor_interval_ms'] + 5})        {fmt(s['write_to_line_off_ms']['p50'], 1):>7}  {fmt(s['write_to_line_off_ms']['p99'], 1):>7}  {fmt(s['write_to_line_off_ms']['max'], 1):>7}",
        "",
        "footprint                          gateway      floor       peer",
        f"  RSS idle, MB (≤15, ≤0.6×peer)  {fmt(idle['gateway']['rss_mb'], 1):>9} {fmt(idle['floor']['rss_mb'], 1):>10} {fmt(idle['peer']['rss_mb'], 1):>10}   ratio {fmt(rt['idle_rss_vs_peer'], 2)}",
        f"    of which anonymous / file   {fmt(idle['gateway']['rss_anon_mb'], 1):>4}/{fmt(idle['gateway']['rss_file_mb'], 1):<4} "
        f"{fmt(idle['floor']['rss_anon_mb'], 1):>5}/{fmt(idle['floor']['rss_file_mb'], 1):<4} {fmt(idle['peer']['rss_anon_mb'], 1):>5}/{fmt(idle['peer']['rss_file_mb'], 1):<4}",
        f"  RSS in session, MB             {fmt(sess['gateway']['rss_mb'], 1):>9} {'':>10} {fmt(sess['peer']['rss_mb'], 1):>10}",
        f"  CPU idle, % of a core (≤0.1)   {fmt(idle['gateway']['cpu_pct_of_core'], 3):>9} {fmt(idle['floor']['cpu_pct_of_core'], 3):>10} {fmt(idle['peer']['cpu_pct_of_core'], 3):>10}",
        f"  CPU idle, s per hour           {fmt(idle['gateway']['cpu_s_per_hour'], 2):>9} {fmt(idle['floor']['cpu_s_per_hour'], 2):>10} {fmt(idle['peer']['cpu_s_per_hour'], 2):>10}",
        f"  CPU in session, s per hour     {fmt(sess['gateway']['cpu_s_per_hour'], 2):>9} {'':>10} {fmt(sess['peer']['cpu_s_per_hour'], 2):>10}",
        f"  threads                        {idle['gateway']['threads']:>9} {idle['floor']['threads']:>10} {idle['peer']['threads']:>10}",
        f"  start to retained online, ms   {fmt(r['startup_ms']['gateway']['p50'], 0):>9} {fmt(r['startup_ms']['floor']['p50'], 0):>10} {fmt(r['startup_ms']['peer']['p50'], 0):>10}",
        f"  binary (static stdlib), MB     {fmt(r['binary']['gateway_mb'], 1):>9} {fmt(r['binary']['floor_kb'] / 1000, 3):>10} {'script':>10}   stripped {fmt(r['binary']['gateway_stripped_mb'], 1)} MB",
        "",
        "throughput: highest get rate answered without the backlog growing (/s)",
        "  " + "   ".join(f"{k} {v}" for k, v in r["throughput"]["best_sustained_per_s"].items()),
        "",
    ]
    if r.get("micro"):
        lines += ["", "micro-benchmarks (release, fastest of several batches)     ns/op   allocs/op"]
        for m in r["micro"]:
            allocs = "n/a" if m["allocs_per_op"] is None else f"{m['allocs_per_op']:.1f}"
            lines.append(f"  {m['name']:<48} {m['ns_per_op']:>9.0f} {allocs:>10}")
    lines += ["", "Benchmarks/results/latest.json has every figure."]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
