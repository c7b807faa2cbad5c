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
import time

sys.path.insert(0, os.path.dirname(__file__))
import load  # noqa: E402

PORTS = (18092, 18093)


def redis_pid():
    out = subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def redis_up():
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, text=True).stdout.strip() == "PONG"


def main():
    mode, binary, admin, redis_url = sys.argv[1:5]
    work = tempfile.mkdtemp()
    url, drop = load.database(admin, work)
    servers, bases = [], []
    for port in PORTS:
        env = load.server_env(url, port, work, REDIS_URL=redis_url)
        log = open(os.path.join(work, f"server-{port}.log"), "w")
        # One after the other: each migrates (they would take turns anyway).
        server, base = load.serve(binary, env, log)
        servers.append(server)
        bases.append(base)
    token = load.register(bases[0], f"{mode}@example.com")
    streams = [load.Stream(base, token, timeout=120) for base in bases]
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
    load.await_delivery(streams, acknowledged, 20)
    caught_up = round(time.monotonic() - t_back, 3)

    failures = []
    records = writes.records + reads.records
    bad = [r for r in records if not 200 <= r[3] < 300]
    if bad:
        failures.append(f"{len(bad)} requests failed: statuses {sorted({r[3] for r in bad})}")
    if any(r != (200, "degraded") for r in readiness):
        failures.append(f"/readyz while Redis was out: {readiness}")
    for label, s in zip(("same instance", "other instance"), streams):
        lost = acknowledged - set(s.seen)
        if lost:
            failures.append(f"the stream on the {label} missed {len(lost)} of {len(acknowledged)} writes")
        if s.ended():
            failures.append(f"the stream on the {label} ended: {s.ended()}")
    for server in servers:
        server.terminate()
        server.wait(40)
    drop()
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
    load.verdict(figures, failures)


if __name__ == "__main__":
    main()
