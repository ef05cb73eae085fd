#!/usr/bin/env python3
"""Print a signed rlt-gateway command (README, "Signed commands"); Python standard library only.

Home Assistant calls it from a `shell_command` and publishes what it prints with `mqtt.publish`
(docs/SECURITY.md, "Signed commands from Home Assistant"). It rebuilds the gateway's canonical form
from the command's meaning, so any JSON layout of the published payload verifies.

    sign-command.py --key-file /config/rlt-command.key --topic rlt/panel-1/cmd \
        --args '{"duration_s": 600}' start
"""

import argparse
import hmac
import hashlib
import json
import math
import os
import sys
import time
import base64
import binascii


def canonical_json(value):
    """The gateway's canonical JSON: sorted keys, no whitespace, integers below 1e15 without a fraction,
    only '"', '\\' and control characters escaped (\\n \\r \\t, else \\u00xx), everything else UTF-8."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("numbers must be finite")
        if number == math.floor(number) and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    if isinstance(value, str):
        out = ['"']
        for ch in value:
            code = ord(ch)
            if ch == '"':
                out.append('\\"')
            elif ch == "\\":
                out.append("\\\\")
            elif ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            elif code < 0x20:
                out.append("\\u00%02x" % code)
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, dict):
        # Python compares str by code point, as the gateway does.
        return "{" + ",".join(canonical_json(k) + ":" + canonical_json(value[k]) for k in sorted(value)) + "}"
    raise ValueError("unsupported JSON value: %r" % (value,))


def read_key(path):
    """Hex first (openssl rand -hex 32), else base64; at least 32 bytes, as the gateway requires."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        try:
            key = base64.b64decode(text, validate=True)
        except binascii.Error:
            sys.exit("%s holds neither hex nor base64" % path)
    if len(key) < 32:
        sys.exit("%s holds a %d-byte key; at least 32 bytes are needed" % (path, len(key)))
    return key


def main():
    parser = argparse.ArgumentParser(description="Print a signed rlt-gateway command.")
    parser.add_argument("--key-file", required=True, help="the panel's command key (hex or base64)")
    parser.add_argument("--topic", required=True, help="the topic it will be published on, e.g. rlt/panel-1/cmd")
    parser.add_argument("--id", default=None, help="command id (default: ha-<ms>)")
    parser.add_argument("--args", default=None, help="the command's args as a JSON object")
    parser.add_argument("--ttl-ms", type=int, default=10000, help="how long it may still act (default 10000)")
    parser.add_argument("command", help="start, stop, pause, resume, ack, set, get, identify or ping")
    options = parser.parse_args()

    ts = int(time.time() * 1000)
    command_id = options.id or "ha-%d" % ts
    args = json.loads(options.args) if options.args else None
    if args is not None and not isinstance(args, dict):
        sys.exit("--args must be a JSON object")
    canonical = "\n".join(
        ["rlt-cmd-v1", options.topic, command_id, options.command, str(ts), str(options.ttl_ms),
         canonical_json(args) if args is not None else "{}"])
    sig = hmac.new(read_key(options.key_file), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
    payload = {"id": command_id, "cmd": options.command}
    if args is not None:
        payload["args"] = args
    payload.update({"ts": ts, "ttl_ms": options.ttl_ms, "sig": sig})
    sys.stdout.write(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main())
