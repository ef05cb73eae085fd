#!/usr/bin/env python3
"""The power-loss check's host side: a logging NBD disk, the line log, and the crash-point replay.

    powerloss.py serve --image BASE.img --nbd SOCK --lines SOCK --log OUT.log -- COMMAND...
    powerloss.py replay --image BASE.img --log OUT.log --check rlt-powerloss-check [--prefixes-only] [--tolerance-ms MS]

`serve` is an NBD server (newstyle, simple replies) for one qemu client, holding BASE.img in memory, and
a reader of the guest's second serial port. It stamps every write, flush and line report with the host's
monotonic clock in one thread, so the log is one total order, and runs COMMAND (the qemu boot) until it
exits. `replay` rebuilds every disk a cut could have left (every crash point: see `crash_states`), recovers
it in user space (`e2fsck -fy` replays the ext4 journal, `debugfs rdump` copies the ledger out), opens
each ledger as the daemon does at boot (`rlt-powerloss-check`), and judges it against the light the
guest's lines delivered before that crash could have happened. Its last line on stdout is
`powerloss: N crash points, N passed, N failed`.

The crash model (docs/DESIGN.md, "Power loss"; README.md): the disk has a volatile write cache. After a
cut at time T it holds every write a flush (or a FUA write) had made durable before T, and of the writes
after the last such flush any subset. Such a disk is what a cut could leave at any moment until that
epoch's flush completed; the light counted against it is all light the host saw switched on before then.
Light is counted from the host's receipt of the "on" report: the guest switches a line on only after the
ledger's fsync returned, so that report is causally after the flush that made the session durable (see
README.md for what this does not catch).
"""

import argparse
import os
import re
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPLY_MAGIC = 0x3E889045565A9
REQUEST_MAGIC = 0x25609513
SIMPLE_REPLY_MAGIC = 0x67446698
OPT_EXPORT_NAME, OPT_ABORT, OPT_GO = 1, 2, 7
REP_ACK, REP_INFO, REP_ERR_UNSUP = 1, 3, (1 << 31) + 1
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_WRITE_ZEROES = 0, 1, 2, 3, 6
CMD_FLAG_FUA = 1
# HAS_FLAGS | SEND_FLUSH | SEND_FUA | SEND_WRITE_ZEROES: the guest sees a disk with a volatile cache.
TRANSMISSION_FLAGS = 1 | 4 | 8 | 64


def log(message):
    print(f"[powerloss] {message}", file=sys.stderr, flush=True)


def now_ns():
    return time.monotonic_ns()


def recv_exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("peer closed")
        data += chunk
    return bytes(data)


class Log:
    """The one ordered record: `W t offset length fua` + data, `F t`, `L t text`."""

    def __init__(self, path):
        self.file = open(path, "wb")
        self.writes = 0
        self.flushes = 0
        self.lines = 0

    def write(self, offset, data, fua, t):
        self.file.write(struct.pack("<cQQIB", b"W", t, offset, len(data), 1 if fua else 0) + data)
        self.writes += 1

    def flush(self, t):
        self.file.write(struct.pack("<cQ", b"F", t))
        self.flushes += 1

    def line(self, text, t):
        raw = text.encode()
        self.file.write(struct.pack("<cQI", b"L", t, len(raw)) + raw)
        self.lines += 1

    def close(self):
        self.file.close()


def read_log(path):
    events = []
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i < len(data):
        kind = data[i : i + 1]
        if kind == b"W":
            _, t, offset, length, fua = struct.unpack_from("<cQQIB", data, i)
            i += struct.calcsize("<cQQIB")
            events.append(("W", t, offset, data[i : i + length], bool(fua)))
            i += length
        elif kind == b"F":
            _, t = struct.unpack_from("<cQ", data, i)
            i += struct.calcsize("<cQ")
            events.append(("F", t))
        elif kind == b"L":
            _, t, length = struct.unpack_from("<cQI", data, i)
            i += struct.calcsize("<cQI")
            events.append(("L", t, data[i : i + length].decode()))
            i += length
        else:
            raise ValueError(f"log {path}: bad record at byte {i}")
    return events


class NBDConnection:
    """One qemu client: the handshake, then requests served in the order they arrive."""

    def __init__(self, sock, disk, record):
        self.sock = sock
        self.disk = disk
        self.record = record

    def handshake(self):
        s = self.sock
        s.sendall(struct.pack(">QQH", NBDMAGIC, IHAVEOPT, 1 | 2))  # FIXED_NEWSTYLE | NO_ZEROES
        (client_flags,) = struct.unpack(">I", recv_exact(s, 4))
        no_zeroes = bool(client_flags & 2)
        while True:
            magic, option, length = struct.unpack(">QII", recv_exact(s, 16))
            if magic != IHAVEOPT:
                raise ValueError("bad option magic")
            payload = recv_exact(s, length)
            if option == OPT_EXPORT_NAME:
                s.sendall(struct.pack(">QH", len(self.disk), TRANSMISSION_FLAGS) + (b"" if no_zeroes else bytes(124)))
                return
            if option == OPT_GO:
                info = struct.pack(">HQH", 0, len(self.disk), TRANSMISSION_FLAGS)
                s.sendall(struct.pack(">QIII", REPLY_MAGIC, option, REP_INFO, len(info)) + info)
                s.sendall(struct.pack(">QIII", REPLY_MAGIC, option, REP_ACK, 0))
                return
            if option == OPT_ABORT:
                raise EOFError("client aborted")
            # Structured replies, meta contexts, lists: not offered; qemu falls back to simple replies.
            s.sendall(struct.pack(">QIII", REPLY_MAGIC, option, REP_ERR_UNSUP, 0))

    def serve_one(self):
        """Serves one request; returns False at NBD_CMD_DISC."""
        s = self.sock
        magic, flags, kind, handle, offset, length = struct.unpack(">IHHQQI", recv_exact(s, 28))
        if magic != REQUEST_MAGIC:
            raise ValueError("bad request magic")
        fua = bool(flags & CMD_FLAG_FUA)
        reply = struct.pack(">IIQ", SIMPLE_REPLY_MAGIC, 0, handle)
        if kind == CMD_READ:
            s.sendall(reply + bytes(self.disk[offset : offset + length]))
        elif kind in (CMD_WRITE, CMD_WRITE_ZEROES):
            data = recv_exact(s, length) if kind == CMD_WRITE else bytes(length)
            self.disk[offset : offset + length] = data
            t = now_ns()
            s.sendall(reply)
            # A FUA write is durable when answered: stamped after the reply, like a flush.
            self.record.write(offset, data, fua, now_ns() if fua else t)
        elif kind == CMD_FLUSH:
            s.sendall(reply)
            # Stamped after the reply: until the guest hears it, the cut may still lose the writes.
            self.record.flush(now_ns())
        elif kind == CMD_DISC:
            return False
        else:
            s.sendall(struct.pack(">IIQ", SIMPLE_REPLY_MAGIC, 22, handle))  # EINVAL
        return True


def serve(args):
    with open(args.image, "rb") as f:
        disk = bytearray(f.read())
    record = Log(args.log)
    listeners = {}
    for path in (args.nbd, args.lines):
        if os.path.exists(path):
            os.unlink(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)
        listeners[path] = listener
    command = args.command[1:] if args.command and args.command[0] == "--" else args.command
    child = subprocess.Popen(command)
    selector = selectors.DefaultSelector()
    selector.register(listeners[args.nbd], selectors.EVENT_READ, "nbd-listen")
    selector.register(listeners[args.lines], selectors.EVENT_READ, "lines-listen")
    nbd = None
    line_buffer = b""
    # One thread serves both sockets: the log's order is the order this loop saw them in.
    while child.poll() is None:
        for key, _ in selector.select(timeout=0.2):
            what = key.data
            if what == "nbd-listen":
                conn, _ = key.fileobj.accept()
                nbd = NBDConnection(conn, disk, record)
                nbd.handshake()
                selector.register(conn, selectors.EVENT_READ, "nbd")
            elif what == "lines-listen":
                conn, _ = key.fileobj.accept()
                selector.register(conn, selectors.EVENT_READ, "lines")
            elif what == "nbd":
                try:
                    if not nbd.serve_one():
                        selector.unregister(key.fileobj)
                except EOFError:
                    selector.unregister(key.fileobj)
            elif what == "lines":
                chunk = key.fileobj.recv(4096)
                t = now_ns()
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                line_buffer += chunk
                while b"\n" in line_buffer:
                    raw, line_buffer = line_buffer.split(b"\n", 1)
                    text = raw.decode(errors="replace").strip("\r\x00 ")
                    if text:
                        record.line(text, t)
    record.line("end", now_ns())
    record.close()
    log(f"disk log {args.log}: {record.writes} writes, {record.flushes} flushes, {record.lines} line reports")
    return child.returncode


# --- replay -------------------------------------------------------------------------------------


def light_intervals(events, irradiance):
    """Per continuous stretch of light: (on_ns, off_ns or None, mW/cm² while on by channel)."""
    intervals = []
    current = None
    end = None
    for event in events:
        if event[0] != "L":
            continue
        t, text = event[1], event[2]
        if text == "end":
            end = t
            continue
        parts = text.split()
        if len(parts) != 5 or parts[0] != "L":
            continue
        red, nir = parts[2] == "1", parts[3] == "1"
        power = (irradiance["red"] if red else 0.0) + (irradiance["nir"] if nir else 0.0)
        if power > 0 and current is None:
            current = [t, None, [(t, power)]]
        elif current is not None:
            current[2].append((t, power))
            if power == 0:
                current[1] = t
                intervals.append(current)
                current = None
    if current is not None:
        intervals.append(current)
    return intervals, end


def light_before(interval, t, end):
    """J/cm² of one stretch of light delivered before host time t (mW/cm² × s / 1000)."""
    on, off, steps = interval
    if on >= t:
        return 0.0
    dose = 0.0
    for (t0, power), nxt in zip(steps, steps[1:] + [(off if off is not None else end, 0.0)]):
        t1 = min(nxt[0], t)
        if t1 > t0:
            dose += power * (t1 - t0) / 1e9 / 1000
        if nxt[0] >= t:
            break
    return dose


def crash_states(events, prefixes_only):
    """Every disk a cut could leave: (label, [write event indices applied], latest cut time or None, time
    since which it holds at least every earlier epoch or None).

    The writes fall into epochs, each ended by a flush or a FUA write. A cut before an epoch's end
    completed leaves every earlier epoch and any subset of this epoch's writes (the cache may write
    them back in any order); the whole epoch is the next epoch's empty subset. With `prefixes_only`,
    only the epoch's prefixes (the order the guest sent them in), as dm-log-writes replays do. An
    epoch of more than 10 writes gets its prefixes only (2^10 images is where exhaustive stops).
    """
    epochs = []
    current = []
    for k, e in enumerate(events):
        if e[0] == "W":
            current.append(k)
            if e[4]:
                epochs.append((current, e[1]))
                current = []
        elif e[0] == "F" and current:
            epochs.append((current, e[1]))
            current = []
    if current:
        epochs.append((current, None))
    states = []
    done = []
    since = None
    for n, (writes, durable) in enumerate(epochs):
        if prefixes_only or len(writes) > 10:
            masks = [(1 << j) - 1 for j in range(len(writes))]
        else:
            masks = range((1 << len(writes)) - 1)
        for mask in masks:
            chosen = [w for j, w in enumerate(writes) if mask >> j & 1]
            label = f"epoch {n + 1}/{len(epochs)} ({len(writes)} writes) with {len(chosen)}"
            states.append((label, done + chosen, durable, since))
        done = done + writes
        since = durable
    states.append(("all writes", done, None, since))
    return sum(1 for e in events if e[0] == "W"), len(epochs), states


def recover(image_bytes, workdir, index):
    """Writes the crash image, replays its journal, copies the ledger out; returns (dir, fsck rc)."""
    image = os.path.join(workdir, f"disk-{index}.img")
    out = os.path.join(workdir, f"ledger-{index}")
    with open(image, "wb") as f:
        f.write(image_bytes)
    fsck = subprocess.run(["e2fsck", "-fy", image], capture_output=True, text=True)
    os.makedirs(out, exist_ok=True)
    if fsck.returncode < 4:
        subprocess.run(["debugfs", "-R", f"rdump /ledger {out}", image], capture_output=True, text=True)
    os.unlink(image)
    # rdump writes DIR/ledger/<files>; the checker opens DIR/ledger.sqlite.
    return (os.path.join(out, "ledger") if os.path.isdir(os.path.join(out, "ledger")) else out), fsck.returncode


def replay(args):
    t_start = time.monotonic()
    events = read_log(args.log)
    with open(args.image, "rb") as f:
        base_image = f.read()
    disk = bytearray(base_image)
    irradiance = {"red": args.red_mw, "nir": args.nir_mw}
    intervals, end = light_intervals(events, irradiance)
    writes, epochs, states = crash_states(events, args.prefixes_only)
    flushes = sum(1 for e in events if e[0] == "F")
    log(f"{writes} writes in {epochs} epochs ({flushes} flushes), {len(intervals)} stretches of light; "
        f"{len(states)} crash points to try")
    workdir = tempfile.mkdtemp(prefix="replay-", dir=args.workdir)
    # Each state shares its earlier epochs with the one before: apply the common part once.
    jobs = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        base_done = []
        for i, (label, applied, t, _) in enumerate(states):
            common = 0
            while common < len(base_done) and common < len(applied) and base_done[common] == applied[common]:
                common += 1
            if common < len(base_done):
                disk = bytearray(base_image)
                common = 0
            for k in applied[common:]:
                _, _, offset, data, _ = events[k]
                disk[offset : offset + len(data)] = data
            base_done = list(applied)
            jobs.append((i, label, t, pool.submit(recover, bytes(disk), workdir, i)))
        recovered = [(i, label, t, job.result()) for i, label, t, job in jobs]
    t_recovered = time.monotonic()
    checker = subprocess.run([args.check] + [r[0] for _, _, _, r in recovered], capture_output=True, text=True)
    verdicts = {}
    for line in checker.stdout.splitlines():
        parts = line.split("\t")
        verdicts[parts[0]] = parts[1:]
    tolerance = args.tolerance_ms / 1000 * (args.red_mw + args.nir_mw) / 1000
    passed = failed = 0
    kinds = {}
    worst = None  # smallest (booked - delivered) over crash points with light
    lit = 0
    durable_at = {}  # session k -> when a flush had made it durable (the earliest such moment seen)
    for i, label, t, (directory, fsck_rc) in recovered:
        since = states[i][3]
        limit = t if t is not None else end
        problems = []
        verdict = verdicts.get(directory)
        if fsck_rc >= 4:
            problems.append(f"e2fsck exit {fsck_rc}")
        if verdict is None:
            problems.append("checker printed nothing")
        elif verdict[0] != "ok":
            problems.append("ledger does not open: " + " ".join(verdict[1:]))
        else:
            sessions = []
            for field in verdict[1:]:
                sid, reason, dose, ceiling, emitting = field.split("|")
                sessions.append((sid, reason, float(dose)))
            sessions.reverse()  # oldest first, as the light
            # A disk holding no write of its epoch shows what the flushes before it made durable.
            if since is not None and (" with 0" in label or label == "all writes"):
                for k in range(len(sessions)):
                    durable_at[k] = min(durable_at.get(k, since), since)
            delivered = [light_before(iv, limit, end) for iv in intervals]
            delivered = [d for d in delivered if d > 0]
            if delivered:
                lit += 1
            for k, light in enumerate(delivered):
                if k >= len(sessions):
                    problems.append(f"light {light:.4f} J/cm² of stretch {k + 1} but no session {k + 1} in the ledger")
                    continue
                sid, reason, dose = sessions[k]
                margin = dose - light
                if worst is None or margin < worst[0]:
                    worst = (margin, i, sid, reason)
                if dose + tolerance < light:
                    problems.append(f"session {sid} ({reason}) booked {dose:.4f} < light {light:.4f} J/cm²")
        if problems:
            failed += 1
            for problem in problems:
                kind = re.sub(r"\S*ledger\.sqlite ", "", problem).split(";")[0]
                kind = "light without its session" if "no session" in kind else re.sub(r"[0-9.]+", "N", kind)
                kinds[kind] = kinds.get(kind, 0) + 1
            if failed <= 20:
                cut = "end of run" if t is None else f"{(t - events[0][1]) / 1e9:.3f} s"
                print(f"not ok - crash point {i}, {label} (cut before {cut}): " + "; ".join(problems))
        else:
            passed += 1
    subprocess.run(["rm", "-rf", workdir])
    # How long after its session became durable each stretch's "on" report arrived: the report's
    # latency is at most this, so light switched on earlier than its session's flush by more than it
    # is caught (README.md, "The crash model").
    gaps = [(iv[0] - durable_at[k]) / 1e6 for k, iv in enumerate(intervals) if k in durable_at]
    if gaps:
        log("on reports after their session's flush: " + ", ".join(f"{g:.1f} ms" for g in gaps))
    for kind, count in sorted(kinds.items(), key=lambda item: -item[1]):
        log(f"failed: {count} × {kind}")
    if worst is not None:
        log(f"smallest margin booked - delivered: {worst[0]:+.4f} J/cm² at crash point {worst[1]} "
            f"(session {worst[2]}, {worst[3]}); tolerance {tolerance:.4f} J/cm² ({args.tolerance_ms} ms of light)")
    log(f"{lit} crash points with light delivered; replay {t_recovered - t_start:.1f} s recovery, "
        f"{time.monotonic() - t_recovered:.1f} s ledger checks")
    print(f"powerloss: {len(states)} crash points, {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--image", required=True)
    s.add_argument("--nbd", required=True)
    s.add_argument("--lines", required=True)
    s.add_argument("--log", required=True)
    s.add_argument("command", nargs=argparse.REMAINDER)
    r = sub.add_parser("replay")
    r.add_argument("--image", required=True)
    r.add_argument("--log", required=True)
    r.add_argument("--check", required=True)
    r.add_argument("--workdir", default=None)
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--prefixes-only", action="store_true", help="each epoch's prefixes, not all its subsets")
    r.add_argument("--tolerance-ms", type=float, default=0.0)
    r.add_argument("--red-mw", type=float, default=50.0)
    r.add_argument("--nir-mw", type=float, default=40.0)
    args = parser.parse_args()
    sys.exit(serve(args) if args.mode == "serve" else replay(args))


if __name__ == "__main__":
    main()
