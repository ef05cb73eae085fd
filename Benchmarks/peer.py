#!/usr/bin/env python3
"""The do-it-yourself peer: what a hobbyist would write instead of rlt-gateway.

A paho-mqtt script with start / stop / get, a duration timer and one output line kept in a file
(standing in for gpiozero's LED.on() / LED.off()). It is the reference the benchmark compares
rlt-gateway against, so it is deliberately plain: no safety rules, no sensor, no ledger, no
schema checks beyond json.loads. Do not "optimise" it: it is meant to look like the usual
forum answer.

    peer.py HOST PORT BASE_TOPIC OUTPUT_FILE
"""
import json
import sys
import threading
import time

import paho.mqtt.client as mqtt

HOST, PORT, BASE, OUTPUT = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

state = {"state": "idle", "session_start": None, "duration_s": 0}
timer = None
lock = threading.Lock()


def set_output(on):
    with open(OUTPUT, "w") as f:
        f.write("1\n" if on else "0\n")


def snapshot():
    elapsed = 0.0
    if state["session_start"] is not None:
        elapsed = time.monotonic() - state["session_start"]
    return {"state": state["state"], "elapsed_s": round(elapsed, 1), "planned_s": state["duration_s"],
            "emitting": state["state"] == "running", "ts": int(time.time() * 1000)}


def publish_state(client):
    client.publish(BASE + "/state", json.dumps(snapshot()), qos=1, retain=True)


def stop_session(client):
    global timer
    with lock:
        if timer is not None:
            timer.cancel()
            timer = None
        set_output(False)
        state["state"] = "idle"
        state["session_start"] = None
    publish_state(client)


def on_connect(client, userdata, flags, reason_code, properties):
    client.subscribe(BASE + "/cmd", qos=1)
    client.publish(BASE + "/status", json.dumps({"state": "online"}), qos=1, retain=True)
    publish_state(client)


def on_message(client, userdata, msg):
    global timer
    try:
        command = json.loads(msg.payload)
        cmd = command.get("cmd")
        reply = {"id": command.get("id"), "cmd": cmd, "ok": True}
    except Exception as error:
        client.publish(BASE + "/res", json.dumps({"ok": False, "error": str(error)}), qos=1)
        return
    if cmd == "start":
        duration = command.get("args", {}).get("duration_s", 600)
        with lock:
            if timer is not None:
                timer.cancel()
            set_output(True)
            state["state"] = "running"
            state["session_start"] = time.monotonic()
            state["duration_s"] = duration
            timer = threading.Timer(duration, stop_session, args=(client,))
            timer.start()
        publish_state(client)
    elif cmd == "stop":
        stop_session(client)
    elif cmd == "get":
        reply["data"] = snapshot()
    else:
        reply = {"id": command.get("id"), "cmd": cmd, "ok": False, "error": "unknown command"}
    client.publish(BASE + "/res", json.dumps(reply), qos=1)


set_output(False)
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="rlt-diy-peer")
client.will_set(BASE + "/status", json.dumps({"state": "offline"}), qos=1, retain=True)
client.on_connect = on_connect
client.on_message = on_message
client.connect(HOST, PORT, keepalive=10)
client.loop_start()
try:
    while True:
        time.sleep(1)
        if state["state"] == "running":
            client.publish(BASE + "/tele", json.dumps(snapshot()), qos=0)
except KeyboardInterrupt:
    pass
finally:
    set_output(False)
    client.disconnect()
    client.loop_stop()
