"""Redis frozen (SIGSTOP) or stopped under load, with two instances and live clients.

Usage: python3 .ci/faults/redis_down.py freeze|stop BINARY ADMIN_URL REDIS_URL
(a PostgreSQL database of its own is created and dropped; the machine's Redis is frozen
and thawed, or shut down and started again, on 127.0.0.1:6379)

Holds, or exits 1: every request succeeds throughout; /readyz on both instances says
`degraded` while Redis is out; a live client (Server-Sent Events) on each instance keeps
its stream, and both — the one beside the writes and the one on the other instance —
receive every acknowledged write, catching up from the change log.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import load  # noqa: E402

PORTS = (18092, 18093)


class Stream(threading.Thread):
    """An SSE client: the water ids of the `water:added` changes it receives."""

    def __init__(self, base, token):
        super().__init__(daemon=True)
        self.base, self.token = base, token
        self.seen, self.closed_by_server, self.error = set(), False, None

    def run(self):
        req = urllib.request.Request(self.base + "/api/v1/events")
        req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=120) as res:
                event = None
                for raw in res:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "change":
                        change = json.loads(line[5:])
                        if change.get("event") == "water:added":
                            self.seen.add(change["id"])
                    elif line.startswith("data:") and event == "close":
                        self.closed_by_server = True
                        return
        except Exception as e:  # the stream ended under us
            self.error = repr(e)


def redis_pid():
    out = subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def redis_up():
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, text=True).stdout.strip() == "PONG"


def main():
    mode, binary, admin, redis_url = sys.argv[1:5]
    name = f"ayubi_fault_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    url = admin.rsplit("/", 1)[0] + "/" + name
    work = tempfile.mkdtemp()
    servers, bases = [], []
    for port in PORTS:
        env = {
            "PATH": os.environ["PATH"],
            "AYUBI_ENV": "development",
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "AYUBI__BACKUP__DIR": os.path.join(work, "backups"),
            "AYUBI__TELEMETRY__LOG_FORMAT": "json",
            "JWT_SECRET_KEY": "fault-scripts-only-fault-scripts-only-0123456789",
        }
        log = open(os.path.join(work, f"server-{port}.log"), "w")
        servers.append(subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log))
        bases.append(f"http://127.0.0.1:{port}")
    for base in bases:
        for _ in range(200):
            try:
                if load.request("GET", base + "/readyz", timeout=1)[0] == 200:
                    break
            except Exception:
                pass
            time.sleep(0.05)
    token = load.register(bases[0], f"{mode}@example.com")
    streams = [Stream(base, token) for base in bases]
    for s in streams:
        s.start()
    time.sleep(0.5)
    writes = load.Load(bases[0], token, workers=4, timeout=15.0).start()
    reads = load.Load(bases[1], token, workers=2, timeout=15.0, read_only="/api/v1/sport/stats").start()
    time.sleep(3)
    pid = redis_pid()
    t_out = time.monotonic()
    readiness = []
    try:
        if mode == "freeze":
            os.kill(pid, signal.SIGSTOP)
        else:
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True)
        time.sleep(2)
        for base in bases:
            status, _, body = load.request("GET", base + "/readyz", timeout=10)
            readiness.append((status, json.loads(body).get("status")))
        time.sleep(6)
    finally:
        t_back = time.monotonic()
        if mode == "freeze":
            os.kill(pid, signal.SIGCONT)
        elif not redis_up():
            subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
                            "--save", "", "--appendonly", "no"], check=True)
        while not redis_up():
            time.sleep(0.1)
    time.sleep(4)
    writes.stop()
    reads.stop()
    acknowledged = set(writes.acknowledged)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(acknowledged <= s.seen for s in streams):
        time.sleep(0.2)
    caught_up = round(time.monotonic() - t_back, 3)

    failures = []
    records = writes.records + reads.records
    bad = [r for r in records if not 200 <= r[3] < 300]
    if bad:
        failures.append(f"{len(bad)} requests failed: statuses {sorted({r[3] for r in bad})}")
    if any(r != (200, "degraded") for r in readiness):
        failures.append(f"/readyz while Redis was out: {readiness}")
    for label, s in zip(("same instance", "other instance"), streams):
        lost = acknowledged - s.seen
        if lost:
            failures.append(f"the stream on the {label} missed {len(lost)} of {len(acknowledged)} writes")
        if s.closed_by_server or s.error:
            failures.append(f"the stream on the {label} ended: {s.error or 'closed by the server'}")
    for server in servers:
        server.terminate()
        server.wait(40)
    subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])
    figures = {
        "mode": mode,
        "redis_out_s": round(t_back - t_out, 1),
        "readyz_while_out": readiness,
        "before": load.summary(records, until=t_out),
        "while_out": load.summary(records, since=t_out, until=t_back),
        "after": load.summary(records, since=t_back),
        "acknowledged_writes": len(acknowledged),
        "streams_caught_up_after_redis_back_s": caught_up,
    }
    print(json.dumps(figures, indent=1))
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
