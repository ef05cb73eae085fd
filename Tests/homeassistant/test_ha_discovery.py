"""The gateway's Home Assistant discovery, checked by a real Home Assistant core.

Started by run.sh with the venv's python (it uses the venv's aiohttp and paho-mqtt). Starts a
private mosquitto, a headless Home Assistant bound to 127.0.0.1 (onboarded and given the MQTT
integration through its REST API) and the simulated gateway, then checks through HA's REST and
websocket APIs that every entity of the discovery document exists under one device with the right
initial state, that HA's buttons and numbers drive the panel, and that the gateway's last will makes
the entities unavailable. Every check prints PASS/FAIL; the last line is "N passed, N failed".
Every process started is ended on exit (their process groups are also listed in <work>/pgids for
run.sh's trap), whatever happened.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import shutil
import threading
import time
import zoneinfo
from datetime import timedelta
from datetime import datetime
from pathlib import Path

import aiohttp
import paho.mqtt.client as mqtt

DEVICE_ID = "ha-panel"
DEVICE_NAME = "HA Panel"
NODE_ID = f"rlt_{DEVICE_ID}"
BASE = f"rlt/{DEVICE_ID}"
SOFTWARE_VERSION = "0.1.0"
MANUFACTURER = "RLT test works"
REPO = Path(__file__).resolve().parents[2]
BLUEPRINTS = REPO / "deploy" / "homeassistant" / "blueprints" / "automation" / "rlt-gateway"
# A second panel that requires signed commands (commands.signing), without discovery: HA reaches it
# only through docs/SECURITY.md's recipe (a shell_command signing, a script publishing).
SIGNED_ID = "ha-signed"
SIGNING_KEY = "3c" * 32
HA_TIME_ZONE = "Europe/Berlin"
EVENT_TYPES = {
    "session_started", "paused", "resumed", "completed", "aborted", "fault_raised", "fault_cleared",
    "command_rejected", "temperature_warning",
}

# (platform, object id, friendly name, entity category, enabled): what the discovery document must
# create for the demo panel (no PWM, so no Intensity; interlock and indicator wired).
EXPECTED = [
    ("button", "start", "Start", None, True),
    ("button", "pause", "Pause", None, True),
    ("button", "resume", "Resume", None, True),
    ("button", "stop", "Stop", None, True),
    ("button", "ack", "Acknowledge fault", None, True),
    ("button", "identify", "Identify", None, True),
    ("select", "channels", "Channels", None, True),
    ("number", "duration", "Duration", None, True),
    ("number", "dose_target", "Dose target", None, True),
    ("sensor", "state", "State", None, True),
    ("sensor", "temperature", "Temperature", None, True),
    ("sensor", "elapsed", "Elapsed", None, True),
    ("sensor", "remaining", "Remaining", None, True),
    ("sensor", "ends_at", "Session ends at", None, True),
    ("sensor", "session_dose", "Session dose", None, True),
    ("sensor", "dose_24h", "24 h dose", None, True),
    ("sensor", "sessions_24h", "Sessions in 24 h", None, True),
    ("sensor", "lifetime_dose", "Lifetime dose", None, True),
    ("sensor", "lifetime_on_time", "LED on-time", None, True),
    ("binary_sensor", "emitting", "Emitting", None, True),
    ("binary_sensor", "fault", "Fault", None, True),
    ("binary_sensor", "interlock", "Interlock", None, True),
    ("event", "event", "Event", None, True),
    ("sensor", "software_version", "Software version", "diagnostic", True),
    ("sensor", "started", "Started", "diagnostic", True),
    ("sensor", "reconnects", "MQTT reconnects", "diagnostic", False),
    ("sensor", "dropped_messages", "Dropped messages", "diagnostic", False),
]
# (object id: domain, device class, unit, state class) as HA registers them: checked per entity.
CLASSES = {
    "temperature": ("sensor", "temperature", "°C", "measurement"),
    "elapsed": ("sensor", "duration", "s", None),
    "remaining": ("sensor", "duration", "s", None),
    "ends_at": ("sensor", "timestamp", None, None),
    "session_dose": ("sensor", None, "J/cm²", "total_increasing"),
    "dose_24h": ("sensor", None, "J/cm²", "measurement"),
    "sessions_24h": ("sensor", None, None, "measurement"),
    "lifetime_dose": ("sensor", None, "J/cm²", "total_increasing"),
    "lifetime_on_time": ("sensor", "duration", "s", "total_increasing"),
    "started": ("sensor", "timestamp", None, None),
    "state": ("sensor", "enum", None, None),
    "emitting": ("binary_sensor", "light", None, None),
    "fault": ("binary_sensor", "problem", None, None),
    "interlock": ("binary_sensor", "safety", None, None),
    "duration": ("number", None, "min", None),
    "dose_target": ("number", None, "J/cm²", None),
}

# HA log lines that mean the discovery document or a template is wrong: an error or warning of HA's
# MQTT, entity platform or template code, or any error or warning that names the gateway's ids,
# topics or origin (a deprecation notice about a discovery option names the entity and the origin).
BAD_LOG = re.compile(
    r"(ERROR|WARNING).*(homeassistant\.components\.(mqtt|sensor|number|select|button|binary_sensor|event)"
    r"|homeassistant\.helpers\.(template|entity)|rlt_ha|rlt-gateway|rlt/ha-panel)"
)


def entity_id(platform: str, node_id: str, object_id: str) -> str:
    """The entity id the discovery document asks for: `<platform>.<node id>_<object id>`, HA-slugged."""
    return f"{platform}.{re.sub(r'[^a-z0-9]+', '_', f'{node_id}_{object_id}'.lower()).strip('_')}"


class Checks:
    """PASS/FAIL lines and their counts."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, ok: bool, detail: object = "") -> bool:
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}", flush=True)
        return ok


class Processes:
    """Children, each in its own process group, ended together on exit."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.children: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], log: Path) -> subprocess.Popen:
        with open(log, "ab") as out:
            child = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        with open(self.work / "pgids", "a") as pgids:
            pgids.write(f"{child.pid}\n")
        self.children[name] = child
        return child

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        child = self.children.pop(name, None)
        if child is None:
            return
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            pass
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

    def stop_all(self) -> None:
        for name in reversed(list(self.children)):  # HA and the gateway before their broker
            self.kill(name, signal.SIGTERM)


class Observer:
    """An MQTT client that keeps the last message of every topic it sees."""

    def __init__(self, port: int) -> None:
        self.last: dict[str, bytes] = {}
        self.seen: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="rlt-ha-test-observer")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise RuntimeError("the test's MQTT observer could not subscribe within 10 s")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        client.subscribe([("homeassistant/#", 1), (f"{BASE}/#", 1), (f"rlt/{SIGNED_ID}/#", 1)])
        self.subscribed.set()

    def _on_message(self, client, userdata, message) -> None:
        with self.lock:
            self.last[message.topic] = message.payload
            self.seen.append((message.topic, message.payload))

    def json(self, topic: str):
        with self.lock:
            payload = self.last.get(topic)
        return json.loads(payload) if payload else None

    def retained_under(self, pattern: str) -> list[str]:
        """Topics matching `pattern` whose last message is not empty (what the broker keeps for them)."""
        with self.lock:
            return sorted(t for t, p in self.last.items() if p and mqtt.topic_matches_sub(pattern, t))

    def saw(self, topic: str, payload: bytes) -> bool:
        with self.lock:
            return (topic, payload) in self.seen

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(pid: int) -> set[str]:
    """Local addresses of every TCP and UDP socket the process listens on (ss -ltnp / -lunp)."""
    found = set()
    for flags in ("-Hltnp", "-Hlunp"):
        out = subprocess.run(["ss", flags], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if f"pid={pid}," in line:
                found.add(("tcp " if "t" in flags else "udp ") + line.split()[3])
    return found


def only_loopback_interfaces() -> bool:
    """True inside a network namespace whose only interface is lo (run.sh's `unshare --net`)."""
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False).stdout
    return [line.split(":")[1].strip() for line in out.splitlines()] == ["lo"]


async def wait_for(what, timeout: float, interval: float = 0.5):
    """Polls `what` (sync or async) until it returns something truthy; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if asyncio.iscoroutine(value):
            value = await value
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(interval)


class HomeAssistant:
    """REST and websocket access to the test's Home Assistant."""

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session = session
        self.url = f"http://127.0.0.1:{port}"
        self.token = ""

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    async def reachable(self) -> bool:
        try:
            async with self.session.get(f"{self.url}/api/onboarding") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    async def onboard(self) -> None:
        client_id = f"{self.url}/"
        user = {
            "client_id": client_id, "name": "Test", "username": "test", "password": "rlt-test-pass", "language": "en"
        }
        async with self.session.post(f"{self.url}/api/onboarding/users", json=user) as response:
            body = await response.json()
            if response.status != 200:
                raise RuntimeError(f"onboarding user: HTTP {response.status} {body}")
        form = {"grant_type": "authorization_code", "code": body["auth_code"], "client_id": client_id}
        async with self.session.post(f"{self.url}/auth/token", data=form) as response:
            tokens = await response.json()
            if response.status != 200:
                raise RuntimeError(f"token: HTTP {response.status} {tokens}")
        self.token = tokens["access_token"]

    async def get(self, path: str):
        async with self.session.get(f"{self.url}{path}", headers=self.headers) as response:
            return response.status, await response.json()

    async def post(self, path: str, body: dict):
        async with self.session.post(f"{self.url}{path}", headers=self.headers, json=body) as response:
            text = await response.text()
            try:
                return response.status, (json.loads(text) if text else None)
            except ValueError:
                return response.status, text

    async def add_mqtt(self, broker_port: int) -> dict:
        status, flow = await self.post("/api/config/config_entries/flow", {"handler": "mqtt"})
        if status != 200 or flow.get("type") != "form":
            raise RuntimeError(f"MQTT config flow: HTTP {status} {flow}")
        broker = {"broker": "127.0.0.1", "port": broker_port}
        # Newer HA (2026.11 here) asks for the TLS and transport settings in a required, collapsed
        # "other_settings" section whose required keys have no default over REST: plain TCP, no
        # certificates. Older HA (2025.4) has no such section and refuses unknown keys.
        if any(field.get("name") == "other_settings" for field in flow.get("data_schema", [])):
            broker["other_settings"] = {"set_client_cert": False, "set_ca_cert": "off", "transport": "tcp"}
        status, result = await self.post(f"/api/config/config_entries/flow/{flow['flow_id']}", broker)
        if status != 200 or result.get("type") != "create_entry":
            raise RuntimeError(f"MQTT broker step: HTTP {status} {result}")
        return result

    async def state(self, entity_id: str):
        status, body = await self.get(f"/api/states/{entity_id}")
        return body if status == 200 else None

    async def websocket(self, *requests: dict) -> list:
        """Sends requests over one authenticated websocket; returns each result."""
        async with self.session.ws_connect(f"{self.url}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self.token})
            auth = await ws.receive_json()
            if auth.get("type") != "auth_ok":
                raise RuntimeError(f"websocket auth: {auth}")
            results = []
            for number, request in enumerate(requests, start=1):
                await ws.send_json({"id": number, **request})
                reply = await ws.receive_json()
                if not reply.get("success"):
                    raise RuntimeError(f"websocket {request}: {reply}")
                results.append(reply["result"])
            return results


def signing_recipe(config_dir: Path) -> str:
    """docs/SECURITY.md's Home Assistant recipe as written there (its YAML block under "Signed commands
    from Home Assistant"), with HA OS's `/config/` replaced by this HA's config directory: the test runs
    the documented recipe, not a copy that could drift from it."""
    text = (REPO / "docs" / "SECURITY.md").read_text()
    section = text.split("### Signed commands from Home Assistant", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    if block is None:
        raise RuntimeError("docs/SECURITY.md: no yaml block under 'Signed commands from Home Assistant'")
    return block.group(1).replace("/config/", f"{config_dir}/")


def write_ha_config(config_dir: Path, http_port: int) -> None:
    config_dir.mkdir()
    # The signing recipe's files: the signer and the panel's key (private, as the recipe says).
    shutil.copy(REPO / "deploy" / "homeassistant" / "sign-command.py", config_dir / "sign-command.py")
    key = config_dir / "rlt-command.key"
    key.write_text(SIGNING_KEY + "\n")
    key.chmod(0o600)
    # The repository's blueprints, imported as a user would: copied under blueprints/automation/.
    shutil.copytree(BLUEPRINTS, config_dir / "blueprints" / "automation" / "rlt-gateway")
    (config_dir / "automations.yaml").write_text("[]\n")
    (config_dir / "configuration.yaml").write_text(
        "homeassistant:\n"
        "  name: RLT test\n"
        "  latitude: 52.52\n"
        "  longitude: 13.405\n"
        "  elevation: 34\n"
        "  unit_system: metric\n"
        f"  time_zone: {HA_TIME_ZONE}\n"
        "  country: DE\n"
        "  currency: EUR\n"
        "  language: en\n"
        "http:\n"
        "  server_host: 127.0.0.1\n"
        f"  server_port: {http_port}\n"
        "api:\n"
        "auth:\n"
        "onboarding:\n"
        "config:\n"
        "automation: !include automations.yaml\n"
        "logger:\n"
        "  default: warning\n"
        "  logs:\n"
        "    homeassistant.components.mqtt: info\n"
        + signing_recipe(config_dir)
    )


class Run:
    def __init__(self, args) -> None:
        self.args = args
        self.work = Path(args.work)
        self.checks = Checks()
        self.processes = Processes(self.work)
        self.broker_port = free_port()
        self.http_port = free_port()
        self.sim_dir = self.work / "gpio"
        self.addresses: set[str] = set()
        self.ha_pid = 0
        self.observer: Observer | None = None

    # -- processes -----------------------------------------------------------------------------

    def start_broker(self) -> None:
        config = self.work / "mosquitto.conf"
        config.write_text(
            f"listener {self.broker_port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\npersistence false\n"
        )
        self.processes.start("mosquitto", ["mosquitto", "-c", str(config)], self.work / "mosquitto.log")

    def start_gateway(self, device_id: str = DEVICE_ID, device_name: str = DEVICE_NAME, mode: str = "device",
                      extra: list[str] | None = None) -> None:
        """The panel of the test (device-based discovery), or a second one using per-entity discovery."""
        a = self.args
        suffix = "" if device_id == DEVICE_ID else f"-{device_id}"
        # demo.yaml's wiring is fail-safe: an unconnected line reads the interlock open and the stop
        # button pressed, so the simulated contacts are set (interlock closed, button released) first.
        for line in (23, 24):
            contact = Path(f"{self.sim_dir}{suffix}") / f"sim_gpio{line}"
            contact.mkdir(parents=True, exist_ok=True)
            (contact / "pull").write_text("pull-up\n")
        argv = [
            a.gateway, "run", "--config", a.config,
            "--set", f"mqtt.url=mqtt://127.0.0.1:{self.broker_port}",
            "--set", f"gpio.sim_dir={self.sim_dir}{suffix}",
            "--set", f"storage.path={self.work / f'ledger{suffix}.sqlite'}",
            "--set", f"device.id={device_id}",
            "--set", f"device.name={device_name}",
            "--set", f"mqtt.discovery.mode={mode}",
            "--set", "presets.duration_s=20",
            "--set", "limits.cooldown_s=2",
            "--set", f"device.manufacturer={MANUFACTURER}",
            *(extra or []),
        ]  # fmt: skip
        self.processes.start(f"gateway{suffix}", argv, self.work / f"gateway{suffix}.log")

    async def watch_listeners(self) -> None:
        """Samples HA's listening sockets for the whole run (recovery mode would listen on 0.0.0.0)."""
        while True:
            if self.ha_pid:
                self.addresses |= listening_addresses(self.ha_pid)
            await asyncio.sleep(1)

    # -- helpers -------------------------------------------------------------------------------

    def gpio(self, line: int) -> str:
        try:
            return (self.sim_dir / f"sim_gpio{line}" / "value").read_text().strip()
        except OSError as error:
            return f"unreadable ({error})"

    def retained_state(self) -> dict:
        return self.observer.json(f"{BASE}/state") or {}

    async def states(self, ha: HomeAssistant, entity_ids: dict) -> dict:
        return {key: (await ha.state(entity)) or {} for key, entity in entity_ids.items()}

    # -- the test ------------------------------------------------------------------------------

    async def main(self) -> None:
        c = self.checks
        self.start_broker()
        if not c.check("mosquitto listens", await wait_for(lambda: self._port_open(self.broker_port), 10)):
            return
        self.observer = Observer(self.broker_port)

        config_dir = self.work / "ha-config"
        write_ha_config(config_dir, self.http_port)
        started = time.monotonic()
        hass = self.processes.start(
            "hass",
            [*self.args.hass, "-c", str(config_dir), "--skip-pip", "--log-file", str(self.work / "ha.log")],
            self.work / "ha.stdout",
        )
        self.ha_pid = hass.pid
        watcher = asyncio.create_task(self.watch_listeners())
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                ha = HomeAssistant(session, self.http_port)
                up = await wait_for(ha.reachable, 240, 1)
                if not c.check("Home Assistant serves HTTP", up, f"not within 240 s (exit {hass.poll()})"):
                    return
                print(f"     Home Assistant up after {time.monotonic() - started:.1f} s", flush=True)
                await ha.onboard()
                _, config = await ha.get("/api/config")
                c.check(f"Home Assistant {config.get('version')} is not in recovery mode",
                        not config.get("recovery_mode") and not config.get("safe_mode"), config)
                c.check(f"Home Assistant is the pinned {self.args.expect_version}",
                        config.get("version") == self.args.expect_version, config.get("version"))
                await ha.add_mqtt(self.broker_port)
                birth = await wait_for(lambda: self.observer.saw("homeassistant/status", b"online"), 60)
                if not c.check("HA's MQTT integration connects (birth message)", birth, "no 'online' within 60 s"):
                    return
                print(f"     MQTT connected after {time.monotonic() - started:.1f} s", flush=True)
                await self.drive(ha)
        finally:
            watcher.cancel()
            self.finish_checks()

    def finish_checks(self) -> None:
        c = self.checks
        tcp = sorted(a for a in self.addresses if a.startswith("tcp "))
        udp = sorted(a for a in self.addresses if a.startswith("udp "))
        c.check("HA listened (TCP) on 127.0.0.1 only (ss -ltnp, sampled every second)",
                bool(tcp) and all(a.startswith("tcp 127.0.0.1:") for a in tcp), tcp or "no listening socket seen")
        # HA's aiohttp helper always opens an mDNS resolver (UDP 5353 on every non-loopback
        # interface); run.sh runs the test in a network namespace whose only interface is lo.
        c.check("HA's UDP sockets (mDNS) can reach loopback only", not udp or only_loopback_interfaces(), udp)
        try:
            log = (self.work / "ha.log").read_text(errors="replace").splitlines()
        except OSError:
            log = []
        for line in [line for line in log if re.search(r" (ERROR|WARNING) \(", line)][:15]:
            print(f"     HA log: {line[:200]}", flush=True)
        bad = [line for line in log if BAD_LOG.search(line)]
        c.check("HA logged no MQTT, entity or template error or warning", not bad, "\n  " + "\n  ".join(bad[:20]))
        if "recovery mode" in "\n".join(log).lower():
            c.check("HA never entered recovery mode", False, "its log mentions recovery mode")

    @staticmethod
    def _port_open(port: int) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    async def all_registered(self, ha: HomeAssistant, unique_ids: set) -> bool:
        """Waits (up to 60 s) until HA's entity registry holds every one of `unique_ids`."""

        async def registered():
            by_unique, _ = await self.registry(ha)
            return unique_ids <= set(by_unique)

        return await wait_for(registered, 60, 1)

    async def registry(self, ha: HomeAssistant):
        entities, devices = await ha.websocket(
            {"type": "config/entity_registry/list"}, {"type": "config/device_registry/list"}
        )
        by_unique = {e["unique_id"]: e for e in entities if e.get("platform") == "mqtt"}
        return by_unique, devices

    async def per_entity_mode(self, ha: HomeAssistant) -> None:
        """A second panel publishing one discovery message per entity (HA before 2024.11) gets the same entities."""
        c = self.checks
        device_id = "ha-panel-e"
        self.start_gateway(device_id, "HA Panel E", mode="entity")
        wanted = {f"rlt_{device_id}_{object_id}" for _, object_id, _, _, _ in EXPECTED}
        registered = await self.all_registered(ha, wanted)
        by_unique, _ = await self.registry(ha)
        c.check(f"per-entity discovery: all {len(EXPECTED)} entities are registered", registered,
                sorted(wanted - set(by_unique)))
        devices = {by_unique[u]["device_id"] for u in wanted if u in by_unique}
        c.check("per-entity discovery: every entity belongs to one device", len(devices) == 1, devices)
        names = {by_unique[u].get("original_name") for u in wanted if u in by_unique}
        c.check("per-entity discovery: the same names", names == {name for _, _, name, _, _ in EXPECTED}, names)
        wrong = {
            u: by_unique[u]["entity_id"] for platform, object_id, _, _, _ in EXPECTED
            if (u := f"rlt_{device_id}_{object_id}") in by_unique
            and by_unique[u]["entity_id"] != entity_id(platform, f"rlt_{device_id}", object_id)
        }
        c.check("per-entity discovery: entity ids follow the device id (rlt_ha_panel_e_*)", not wrong, wrong)
        state_id = (by_unique.get(f"rlt_{device_id}_state") or {}).get("entity_id", "sensor.none")
        idle = await wait_for(lambda: self._state_is(ha, state_id, "idle"), 20)
        c.check("per-entity discovery: State is idle", idle, (await ha.state(state_id) or {}).get("state"))
        # The panel loses its interlock input: after a restart HA has no Interlock entity for it.
        self.processes.kill(f"gateway-{device_id}", signal.SIGTERM)
        await self.restart_without_interlock(ha, "per-entity discovery", device_id, "HA Panel E", "entity", wanted)
        self.processes.kill(f"gateway-{device_id}", signal.SIGTERM)
        # The same panel switches to device discovery: HA's migration keeps every entity's registry
        # entry (same registry id, same entity id), and the per-entity configs leave the broker.
        before, _ = await self.registry(ha)
        self.start_gateway(device_id, "HA Panel E", mode="device")

        async def migrated():
            by_unique, _ = await self.registry(ha)
            return wanted <= set(by_unique) and not self.observer.retained_under(f"homeassistant/+/rlt_{device_id}/+/config")

        ok = await wait_for(migrated, 30, 1)
        after, _ = await self.registry(ha)
        # HA's own account of the migration (this HA restores a deleted entity's registry entry
        # anyway, so only its log tells a migration from a removal and re-creation).
        try:
            log = (self.work / "ha.log").read_text(errors="replace")
        except OSError:
            log = ""
        migrated_ids = set(re.findall(
            rf"Migration to MQTT device discovery schema started for entity (\S+\.rlt_{device_id.replace('-', '_')}_\w+)",
            log))
        # Disabled entities (the diagnostics counters) have no entity object in HA to log it.
        expected_ids = {entity_id(platform, f"rlt_{device_id}", object_id)
                        for platform, object_id, _, _, enabled in EXPECTED if enabled and object_id != "interlock"}
        c.check("per-entity → device discovery: HA logged a migration for every enabled entity that lives on",
                migrated_ids == expected_ids,
                {"not migrated": sorted(expected_ids - migrated_ids), "unexpected": sorted(migrated_ids - expected_ids)})
        changed = {u: (before[u]["id"], after.get(u, {}).get("id")) for u in wanted
                   if u in before and before[u]["id"] != after.get(u, {}).get("id")}
        c.check("per-entity → device discovery: every entity migrated in place (same registry entries), "
                "per-entity configs cleared", ok and not changed,
                {"changed": changed, "missing": sorted(wanted - set(after)),
                 "left": self.observer.retained_under(f"homeassistant/+/rlt_{device_id}/+/config")})
        self.processes.kill(f"gateway-{device_id}", signal.SIGTERM)

    async def drive(self, ha: HomeAssistant) -> None:
        c = self.checks
        self.start_gateway()
        wanted = {f"{NODE_ID}_{object_id}" for _, object_id, _, _, _ in EXPECTED}
        registered = await self.all_registered(ha, wanted)
        by_unique, devices = await self.registry(ha)
        c.check(f"all {len(EXPECTED)} entities are registered", registered, sorted(wanted - set(by_unique)))
        ids = {}
        all_ids = {}
        for platform, object_id, name, category, enabled in EXPECTED:
            entry = by_unique.get(f"{NODE_ID}_{object_id}")
            if entry is None:
                continue
            all_ids[object_id] = entry["entity_id"]
            if enabled:
                ids[object_id] = entry["entity_id"]
            disabled_by = None if enabled else "integration"
            c.check(f"{object_id}: {platform} named '{name}'" + ("" if enabled else ", disabled by default"),
                    entry["entity_id"].startswith(f"{platform}.") and entry.get("original_name") == name
                    and entry.get("entity_category") == category and entry.get("disabled_by") == disabled_by,
                    {k: entry.get(k) for k in ("entity_id", "original_name", "entity_category", "disabled_by")})
        wrong = {
            object_id: all_ids[object_id] for platform, object_id, _, _, _ in EXPECTED
            if object_id in all_ids and all_ids[object_id] != entity_id(platform, NODE_ID, object_id)
        }
        c.check("entity ids follow the device id (default_entity_id / object_id: rlt_ha_panel_*)", not wrong, wrong)
        device_ids = {by_unique[u]["device_id"] for u in wanted if u in by_unique}
        c.check("every entity belongs to one device", len(device_ids) == 1, device_ids)
        device = next((d for d in devices if d["id"] in device_ids), {})
        c.check("the device is the panel",
                ["mqtt", NODE_ID] in device.get("identifiers", []) and device.get("name") == DEVICE_NAME
                and device.get("sw_version") == SOFTWARE_VERSION and device.get("manufacturer") == MANUFACTURER,
                device)
        extra = [
            e["entity_id"] for e in by_unique.values() if e["device_id"] in device_ids and e["unique_id"] not in wanted
        ]
        c.check("the device has no entity the test does not know", not extra, extra)
        if len(all_ids) != len(EXPECTED):
            return

        # Initial states: retained state arrives right after discovery; telemetry within 5 s.
        async def initial():
            s = await self.states(ha, ids)
            return s if s["state"].get("state") == "idle" and _is_number(s["temperature"].get("state")) else None

        s = await wait_for(initial, 30) or await self.states(ha, ids)
        value = {key: s[key].get("state") for key in ids}
        c.check("State is idle", value["state"] == "idle", value["state"])
        c.check("Emitting is off", value["emitting"] == "off", value["emitting"])
        c.check("Interlock (safety) is off: closed", value["interlock"] == "off", value["interlock"])
        c.check("Fault is off, with an empty faults attribute",
                value["fault"] == "off" and s["fault"].get("attributes", {}).get("faults") == [], s["fault"])
        c.check("Temperature is a number in °C",
                _is_number(value["temperature"]) and s["temperature"]["attributes"].get("unit_of_measurement") == "°C",
                s["temperature"])
        c.check("Software version is the gateway's", value["software_version"] == SOFTWARE_VERSION,
                value["software_version"])
        started_at = _timestamp(value["started"])
        c.check("Started is a timestamp within the last 5 minutes",
                started_at is not None and time.time() - 300 < started_at <= time.time() + 2, value["started"])
        c.check("Session ends at is unknown while idle", value["ends_at"] == "unknown", value["ends_at"])
        for key, (domain, device_class, unit, state_class) in CLASSES.items():
            attributes = s[key].get("attributes", {})
            shown = (ids[key].split(".")[0], attributes.get("device_class"), attributes.get("unit_of_measurement"),
                     attributes.get("state_class"))
            c.check(f"{key}: domain, device class, unit and state class", shown == (domain, device_class, unit,
                    state_class), shown)
        c.check("Event offers every event type of the contract",
                set(s["event"].get("attributes", {}).get("event_types", [])) == EVENT_TYPES,
                s["event"].get("attributes"))
        c.check("Channels shows the preset", value["channels"] == "both", value["channels"])
        c.check("Duration shows the 20 s preset as 0.3 min", _float(value["duration"]) == 0.3, value["duration"])
        attributes = s["duration"].get("attributes", {})
        c.check("Duration offers 0.1 to 2 min (max_session_s 120)",
                (attributes.get("min"), attributes.get("max")) == (0.1, 2.0), attributes)
        c.check("Dose target shows 0: no target", _float(value["dose_target"]) == 0, value["dose_target"])
        c.check("Sessions in 24 h is 0", _float(value["sessions_24h"]) == 0, value["sessions_24h"])
        c.check("Elapsed and Remaining are 0 s",
                _float(value["elapsed"]) == 0 and _float(value["remaining"]) == 0,
                (value["elapsed"], value["remaining"]))
        c.check("no entity is unavailable", "unavailable" not in value.values(), value)

        # A refusal is an HA event with its code: Resume while idle is refused E_STATE, and HA's button
        # sends no id, so the answer is a command_rejected event.
        await self.press(ha, ids["resume"])
        refused = await wait_for(lambda: self._event_is(ha, ids, "command_rejected", code="E_STATE"), 10)
        event = (await ha.state(ids["event"]) or {}).get("attributes", {})
        c.check("Resume while idle: the Event entity fires command_rejected with code E_STATE and a message",
                refused and bool(event.get("message")) and event.get("cmd") == "resume", event)

        # Start from HA: the session runs and the red line of the simulated chip goes high.
        await self.press(ha, ids["start"])
        running = await wait_for(lambda: self._ha_state(ha, ids, "state", "running"), 15)
        c.check("Start in HA: State becomes running", running, (await ha.state(ids["state"]) or {}).get("state"))
        emitting = await wait_for(lambda: self._ha_state(ha, ids, "emitting", "on"), 15)
        c.check("Start in HA: Emitting becomes on", emitting, (await ha.state(ids["emitting"]) or {}).get("state"))
        c.check("Start in HA: the simulated chip's line 17 (red) is high", self.gpio(17) == "1", self.gpio(17))
        c.check("Start in HA: the gateway runs the 20 s preset", self.retained_state().get("planned_s") == 20,
                self.retained_state().get("planned_s"))
        c.check("Start in HA: the Event entity fires session_started",
                await wait_for(lambda: self._event_is(ha, ids, "session_started"), 10),
                (await ha.state(ids["event"]) or {}).get("attributes"))
        ends = await wait_for(lambda: self._ends_within(ha, ids, 5, 25), 10)
        c.check("Start in HA: Session ends at lies 5–25 s ahead (20 s session)", ends,
                (await ha.state(ids["ends_at"]) or {}).get("state"))

        # Stop from HA.
        await self.press(ha, ids["stop"])
        stopped = await wait_for(lambda: self._ha_state(ha, ids, "emitting", "off"), 15)
        c.check("Stop in HA: Emitting becomes off", stopped, (await ha.state(ids["emitting"]) or {}).get("state"))
        c.check("Stop in HA: line 17 is low", self.gpio(17) == "0", self.gpio(17))
        idle = await wait_for(lambda: self._ha_state(ha, ids, "state", "idle"), 20)
        c.check("after the cooldown State is idle again", idle, (await ha.state(ids["state"]) or {}).get("state"))
        c.check("24 h dose counts the session's dose",
                await wait_for(lambda: self._ha_above(ha, ids, "dose_24h", 0), 10),
                (await ha.state(ids["dose_24h"]) or {}).get("state"))
        c.check("Sessions in 24 h counts the session",
                await wait_for(lambda: self._ha_value(ha, ids, "sessions_24h", 1.0), 10),
                (await ha.state(ids["sessions_24h"]) or {}).get("state"))
        # The ledger's lifetime totals (state's `lifetime`, added in 0.2) count the stopped session.
        c.check("Lifetime dose counts the session's dose",
                await wait_for(lambda: self._ha_above(ha, ids, "lifetime_dose", 0), 10),
                (await ha.state(ids["lifetime_dose"]) or {}).get("state"))
        c.check("LED on-time counts the session's emitting time",
                await wait_for(lambda: self._ha_above(ha, ids, "lifetime_on_time", 0), 10),
                (await ha.state(ids["lifetime_on_time"]) or {}).get("state"))

        # Duration from HA changes the next session.
        await ha.post("/api/services/number/set_value", {"entity_id": ids["duration"], "value": 1})
        preset = await wait_for(lambda: self.retained_state().get("presets", {}).get("duration_s") == 60, 10)
        c.check("Duration 1 min in HA: the gateway's preset is 60 s", preset, self.retained_state().get("presets"))
        c.check("Duration 1 min in HA: HA shows 1.0",
                await wait_for(lambda: self._ha_value(ha, ids, "duration", 1.0), 10),
                (await ha.state(ids["duration"]) or {}).get("state"))
        await self.press(ha, ids["start"])
        planned = await wait_for(lambda: self.retained_state().get("planned_s") == 60, 15)
        c.check("the next session from HA is planned for 60 s", planned, self.retained_state().get("planned_s"))
        remaining = await wait_for(lambda: self._ha_above(ha, ids, "remaining", 40), 10)
        c.check("HA's Remaining shows the longer session", remaining,
                (await ha.state(ids["remaining"]) or {}).get("state"))
        # Live progress: while the session runs, Remaining and Session dose move at least every 2 s
        # (they read the per-second telemetry). Sampled for 8 s through HA's REST API.
        changes = {"remaining": [], "session_dose": []}
        last = {}
        started = time.monotonic()
        while time.monotonic() - started < 8:
            for key in changes:
                shown = (await ha.state(ids[key]) or {}).get("state")
                if shown != last.get(key):
                    changes[key].append(time.monotonic())
                    last[key] = shown
            await asyncio.sleep(0.2)
        gaps = {key: max((b - a for a, b in zip(t, t[1:])), default=None) for key, t in changes.items()}
        counts = {key: len(t) for key, t in changes.items()}
        c.check("live progress: Remaining and Session dose change at least every 2 s during a session",
                all(g is not None and g <= 2.0 and counts[k] >= 4 for k, g in gaps.items()), (gaps, counts))
        await self.press(ha, ids["stop"])
        c.check("Stop in HA stops the 60 s session",
                await wait_for(lambda: self.retained_state().get("emitting") is False and self.gpio(17) == "0", 15),
                self.retained_state())
        await wait_for(lambda: self._ha_state(ha, ids, "state", "idle"), 20)

        # The other presets from HA, one at a time.
        for name, service, data, key, preset in [
            ("Channels red", "select/select_option", {"entity_id": ids["channels"], "option": "red"},
             "channels", "red"),
            ("Dose target 2.5", "number/set_value", {"entity_id": ids["dose_target"], "value": 2.5}, "dose_j_cm2", 2.5),
            ("Dose target 0 (clears it)", "number/set_value", {"entity_id": ids["dose_target"], "value": 0},
             "dose_j_cm2", None),
        ]:  # fmt: skip
            status, body = await ha.post(f"/api/services/{service}", data)
            done = status == 200 and await wait_for(
                lambda: self.retained_state().get("presets", {}).get(key, "absent") == preset, 10)
            c.check(f"{name} in HA sets the gateway's preset", done,
                    f"HTTP {status} {body}; presets {self.retained_state().get('presets')}; "
                    f"last response {self.observer.json(f'{BASE}/res')}")

        await self.blueprints(ha, ids)
        await self.signed_commands(ha)

        # The gateway dies: its last will makes every entity unavailable; a restart brings them back.
        self.processes.kill("gateway", signal.SIGKILL)

        async def all_unavailable():
            s = await self.states(ha, ids)
            return all(v.get("state") == "unavailable" for v in s.values())

        gone = await wait_for(all_unavailable, 40, 1)
        c.check("gateway killed (-9): every entity becomes unavailable", gone,
                {k: v.get("state") for k, v in (await self.states(ha, ids)).items()})
        self.start_gateway()

        async def all_back():
            s = await self.states(ha, ids)
            return all(v.get("state") not in (None, "unavailable") for v in s.values())

        back = await wait_for(all_back, 40, 1)
        after = await self.states(ha, ids)
        c.check("gateway restarted: every entity is available again", back,
                {k: v.get("state") for k, v in after.items()})
        c.check("after the restart State is a known state",
                after["state"].get("state") in ("idle", "fault"), after["state"].get("state"))

        # The panel loses its interlock input: after a restart HA has no Interlock entity for it.
        self.processes.kill("gateway", signal.SIGTERM)
        await self.restart_without_interlock(ha, "device discovery", DEVICE_ID, DEVICE_NAME, "device", wanted)

        await self.per_entity_mode(ha)

    async def blueprints(self, ha: HomeAssistant, ids: dict) -> None:
        """Each shipped blueprint, used by an automation, triggers and does what it says."""
        c = self.checks
        tracker = "device_tracker.rlt_test_phone"
        await ha.post(f"/api/states/{tracker}", {"state": "home"})
        now = datetime.now(zoneinfo.ZoneInfo(HA_TIME_ZONE))
        busy_at = (now + timedelta(seconds=25)).strftime("%H:%M:%S")
        idle_at = (now + timedelta(seconds=45)).strftime("%H:%M:%S")

        def scheduled(at: str) -> dict:
            return {"path": "rlt-gateway/scheduled_session.yaml", "input": {
                "start_button": ids["start"], "panel_state": ids["state"], "panel_event": ids["event"], "at": at}}

        automations = [
            {"id": "rlt_notify", "alias": "RLT notify",
             "use_blueprint": {"path": "rlt-gateway/notify_on_fault_or_refusal.yaml",
                               "input": {"panel_event": ids["event"]}}},
            {"id": "rlt_leaving", "alias": "RLT leaving",
             "use_blueprint": {"path": "rlt-gateway/stop_when_leaving.yaml",
                               "input": {"who": tracker, "stop_button": ids["stop"]}}},
            {"id": "rlt_sched_busy", "alias": "RLT sched busy", "use_blueprint": scheduled(busy_at)},
            {"id": "rlt_sched_idle", "alias": "RLT sched idle", "use_blueprint": scheduled(idle_at)},
        ]
        (self.work / "ha-config" / "automations.yaml").write_text(json.dumps(automations, indent=1) + "\n")
        status, body = await ha.post("/api/services/automation/reload", {})
        names = ["automation.rlt_notify", "automation.rlt_leaving", "automation.rlt_sched_busy",
                 "automation.rlt_sched_idle"]

        async def loaded():
            return all([((await ha.state(n)) or {}).get("state") == "on" for n in names])

        c.check("blueprints: the three blueprints load into four automations (all on)",
                status == 200 and await wait_for(loaded, 20), {n: ((await ha.state(n)) or {}).get("state") for n in names})

        # Notify on fault or refusal: Resume while idle is refused; a notification names E_STATE.
        await self.press(ha, ids["resume"])
        c.check("blueprint notify_on_fault_or_refusal: a refusal (Resume while idle) notifies with its code",
                await wait_for(lambda: self._notification(ha, "E_STATE"), 15), await self._notifications(ha))

        # Stop when leaving: a session runs; the phone leaves home; the session stops.
        await self.press(ha, ids["start"])
        c.check("blueprint stop_when_leaving: a session runs first",
                await wait_for(lambda: self.gpio(17) == "1", 15), self.retained_state().get("state"))
        await ha.post(f"/api/states/{tracker}", {"state": "not_home"})
        c.check("blueprint stop_when_leaving: leaving home stops it (line 17 low, session aborted)",
                await wait_for(lambda: self.gpio(17) == "0" and self.retained_state().get("state") != "running", 15),
                self.retained_state().get("state"))
        await wait_for(lambda: self._ha_state(ha, ids, "state", "idle"), 20)

        # Scheduled session, busy: a session runs at the scheduled time, so Start is not pressed and
        # the notification says why.
        await self.press(ha, ids["start"])
        await wait_for(lambda: self.gpio(17) == "1", 15)
        session = self.retained_state().get("session_id")
        notified = await wait_for(lambda: self._notification(ha, "not idle"), 60)
        c.check("blueprint scheduled_session: at its time with the panel running, it does not press Start "
                "and notifies why", notified and self.retained_state().get("session_id") == session,
                (await self._notifications(ha), self.retained_state().get("session_id"), session))
        await self.press(ha, ids["stop"])
        await wait_for(lambda: self._ha_state(ha, ids, "state", "idle"), 20)

        # Scheduled session, idle: at its time the panel starts a session with its presets.
        started = await wait_for(lambda: self.gpio(17) == "1" and self.retained_state().get("state") == "running", 60)
        c.check("blueprint scheduled_session: at its time with the panel idle, a session starts", started,
                self.retained_state().get("state"))
        await self.press(ha, ids["stop"])
        await wait_for(lambda: self.gpio(17) == "0", 15)
        await wait_for(lambda: self._ha_state(ha, ids, "state", "idle"), 20)

    async def signed_commands(self, ha: HomeAssistant) -> None:
        """docs/SECURITY.md's recipe in this HA: a panel that requires signatures refuses HA's unsigned
        start (E_UNSIGNED, dark) and acts on the start and stop the recipe's script signs."""
        c = self.checks
        key = self.work / "panel-command.key"
        key.write_text(SIGNING_KEY + "\n")
        key.chmod(0o600)
        self.start_gateway(SIGNED_ID, "HA Signed Panel", extra=[
            "--set", f"commands.signing.key_file={key}", "--set", "mqtt.discovery.enabled=false"])
        base = f"rlt/{SIGNED_ID}"
        line = Path(f"{self.sim_dir}-{SIGNED_ID}") / "sim_gpio17" / "value"

        def lit() -> str:
            try:
                return line.read_text().strip()
            except OSError:
                return "unreadable"

        def response() -> dict:
            return self.observer.json(f"{base}/res") or {}

        async def answer_to(post) -> tuple:
            """Posts to HA and waits for the panel's next response (a new id on its res topic)."""
            before = response().get("id")
            status, body = await post
            answered = status == 200 and await wait_for(lambda: response().get("id") not in (None, before), 20)
            return answered, (status, body)

        online = await wait_for(lambda: b"online" in (self.observer.last.get(f"{base}/status") or b""), 30)
        if not c.check("signed: a panel requiring signatures comes online", online,
                       self.observer.last.get(f"{base}/status")):
            return
        unsigned = {"id": "ha-unsigned-1", "cmd": "start", "args": {"duration_s": 60},
                    "ts": int(time.time() * 1000), "ttl_ms": 10000}
        answered, http = await answer_to(ha.post(
            "/api/services/mqtt/publish", {"topic": f"{base}/cmd", "payload": json.dumps(unsigned), "qos": 1}))
        c.check("signed: HA's unsigned start is refused E_UNSIGNED and the line stays low",
                answered and response().get("code") == "E_UNSIGNED" and lit() == "0", (http, response(), lit()))

        for cmd, args, level in (("start", {"duration_s": 60}, "1"), ("stop", None, "0")):
            data = {"device": SIGNED_ID, "cmd": cmd, **({"args": args} if args else {})}
            answered, http = await answer_to(ha.post("/api/services/script/rlt_signed_command", data))
            acted = answered and response().get("cmd") == cmd and await wait_for(lambda: lit() == level, 10)
            c.check(f"signed: the recipe's script signs a {cmd} that acts (ok, line 17 {level})",
                    acted and response().get("ok") is True, (http, response(), lit()))
        self.processes.kill(f"gateway-{SIGNED_ID}", signal.SIGTERM)

    async def _notifications(self, ha) -> list:
        (result,) = await ha.websocket({"type": "persistent_notification/get"})
        return [f"{n.get('title')}: {n.get('message')}" for n in result]

    async def _notification(self, ha, text: str) -> bool:
        return any(text in n for n in await self._notifications(ha))

    async def restart_without_interlock(self, ha, label, device_id, name, mode, wanted) -> None:
        """Restarts a panel with `gpio.inputs.interlock` unset: its Interlock entity must leave HA's
        registry (discovery removes it), while every other entity stays."""
        c = self.checks
        gone = f"rlt_{device_id}_interlock"
        self.start_gateway(device_id, name, mode=mode, extra=["--set", "gpio.inputs.interlock=null"])

        async def removed():
            by_unique, _ = await self.registry(ha)
            return gone not in by_unique and (wanted - {gone}) <= set(by_unique)

        ok = await wait_for(removed, 30, 1)
        by_unique, _ = await self.registry(ha)
        c.check(f"{label}: restarted without an interlock input, HA drops Interlock and keeps the rest", ok,
                {"interlock registered": gone in by_unique, "missing": sorted((wanted - {gone}) - set(by_unique))})

    async def _event_is(self, ha, ids, event_type, code=None) -> bool:
        attributes = ((await ha.state(ids["event"])) or {}).get("attributes", {})
        return attributes.get("event_type") == event_type and (code is None or attributes.get("code") == code)

    async def _ends_within(self, ha, ids, low: float, high: float) -> bool:
        at = _timestamp(((await ha.state(ids["ends_at"])) or {}).get("state"))
        return at is not None and low <= at - time.time() <= high

    async def press(self, ha: HomeAssistant, entity_id: str) -> None:
        status, body = await ha.post("/api/services/button/press", {"entity_id": entity_id})
        if status != 200:
            self.checks.check(f"press {entity_id}", False, f"HTTP {status} {body}")

    async def _ha_state(self, ha, ids, key, wanted) -> bool:
        return await self._state_is(ha, ids[key], wanted)

    async def _state_is(self, ha, entity_id, wanted) -> bool:
        return ((await ha.state(entity_id)) or {}).get("state") == wanted

    async def _ha_value(self, ha, ids, key, wanted: float) -> bool:
        return _float(((await ha.state(ids[key])) or {}).get("state")) == wanted

    async def _ha_above(self, ha, ids, key, bound: float) -> bool:
        value = _float(((await ha.state(ids[key])) or {}).get("state"))
        return value is not None and value > bound


def _float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _timestamp(text):
    """An HA timestamp state (ISO 8601 with offset) as unix seconds, or None."""
    try:
        return datetime.fromisoformat(text).timestamp()
    except (TypeError, ValueError):
        return None


def _is_number(text) -> bool:
    return _float(text) is not None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hass", required=True, nargs="+",
                        help="the command that starts hass (the venv's hass, or hass-in-root.sh ROOT WORK)")
    parser.add_argument("--expect-version", required=True, help="the Home Assistant version the stage pins")
    parser.add_argument("--gateway", required=True, help="the rlt-gateway binary")
    parser.add_argument("--config", required=True, help="config/demo.yaml")
    parser.add_argument("--work", required=True, help="an empty temp dir (run.sh removes it)")
    args = parser.parse_args()

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    run = Run(args)
    try:
        asyncio.run(run.main())
    except SystemExit:
        run.checks.check("the test ran to its end", False, "interrupted")
    except Exception as error:  # a step that could not go on: counted, then cleaned up
        run.checks.check("the test ran to its end", False, f"{type(error).__name__}: {error}")
    finally:
        if run.observer:
            run.observer.stop()
        run.processes.stop_all()
    summary = f"{run.checks.passed} passed, {run.checks.failed} failed"
    (Path(args.work) / "summary").write_text(summary + "\n")
    print(summary, flush=True)
    return 0 if run.checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
