"""Soak: mixed load for a long while, watching errors and the server's memory.

Usage: python3 .ci/faults/soak.py BINARY [--minutes 10] [--settle 60] [--database URL]
[--redis URL] [--spread-days 365]   (`just soak`; CI runs a short one to keep the script honest)

Load: 4 writer threads (POST /sport/water with an Idempotency-Key, dated across the
last `--spread-days` days, then a read), 2 threads of heavier reads (sport and habit
stats, journal search), 2 live clients (SSE) that must receive every acknowledged write,
each thread pausing 20 ms between requests — a busy person's devices many times over, not
a saturation test. `--spread-days 0` puts every write on today, so each stats read sums
all of them: a worst case whose per-request work grows for the whole run. RSS (VmRSS of
the server) is sampled every 5 s. Holds, or exits 1: every request 2xx; both streams open
to the end and complete; after `--settle` seconds, no sample above 110% of the RSS then.
"""

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import load  # noqa: E402

PORT = 18095


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Paced(load.Load):
    """load.Load with a pause between iterations."""

    def __init__(self, *args, pause=0.02, paths=None, spread_days=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.pause, self.paths, self.spread_days = pause, paths, spread_days

    def work(self):
        i = 0
        while self.running:
            if self.paths:
                self.one("read", "GET", self.paths[i % len(self.paths)])
                i += 1
            else:
                body = {"ml": 250}
                if self.spread_days:
                    day = datetime.date.today() - datetime.timedelta(days=i % self.spread_days)
                    body["date"] = day.isoformat()
                i += 1
                status, payload = self.one(
                    "write", "POST", "/api/v1/sport/water", body,
                    {"Idempotency-Key": str(uuid.uuid4())},
                )
                if 200 <= status < 300:
                    with self.lock:
                        self.acknowledged.append(json.loads(payload)["id"])
                self.one("read", "GET", "/api/v1/sport/water?limit=20")
            time.sleep(self.pause)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--settle", type=float, default=60)
    ap.add_argument("--database", default="")
    ap.add_argument("--redis", default="")
    ap.add_argument("--port", type=int, default=PORT)
    ap.add_argument("--rss-tolerance", type=float, default=10.0, help="percent over the settled RSS")
    ap.add_argument("--spread-days", type=int, default=365,
                    help="date the writes across this many days back (0: all today, a worst case)")
    ap.add_argument("--set", action="append", default=[], help="extra server setting, KEY=VALUE")
    a = ap.parse_args()
    work = tempfile.mkdtemp()
    url, drop = load.database(a.database, work, prefix="ayubi_soak")
    env = load.server_env(url, a.port, work)
    if a.redis:
        env["REDIS_URL"] = a.redis
    env.update(kv.split("=", 1) for kv in a.set)
    log = open(os.path.join(work, "server.log"), "w")
    server, base = load.serve(a.binary, env, log)
    token = load.register(base, "soak@example.com")
    load.request("POST", base + "/api/v1/habits", {"name": "Read"}, token)
    load.request("POST", base + "/api/v1/journal", {"content": "a quiet morning by the river"}, token)
    streams = [load.Stream(base, token) for _ in range(2)]
    for s in streams:
        s.start()
    time.sleep(0.5)
    writers = Paced(base, token, workers=4, timeout=15.0, spread_days=a.spread_days).start()
    readers = Paced(base, token, workers=2, timeout=15.0, paths=[
        "/api/v1/sport/stats", "/api/v1/habits/stats", "/api/v1/journal?q=river",
    ]).start()
    started = time.monotonic()
    samples = []  # (seconds since start, MiB)
    while time.monotonic() - started < a.minutes * 60:
        samples.append((round(time.monotonic() - started), round(rss_mib(server.pid), 1)))
        time.sleep(5)
    writers.stop()
    readers.stop()
    acknowledged = set(writers.acknowledged)
    load.await_delivery(streams, acknowledged, 15)
    final = round(rss_mib(server.pid), 1)
    ended = [s.ended() for s in streams]  # before the SIGTERM closes them with 1001
    server.terminate()
    server.wait(40)
    drop()

    settled = next((m for t, m in samples if t >= a.settle), samples[-1][1])
    after = [m for t, m in samples if t >= a.settle]
    peak = max(after, default=settled)
    records = writers.records + readers.records
    failures = []
    bad = [r for r in records if not 200 <= r[3] < 300]
    if bad:
        failures.append(f"{len(bad)} requests failed: {sorted({r[3] for r in bad})}")
    for i, s in enumerate(streams):
        if ended[i]:
            failures.append(f"stream {i} ended during the soak: {ended[i]}")
        missed = acknowledged - set(s.seen)
        if missed:
            failures.append(f"stream {i} missed {len(missed)} of {len(acknowledged)} writes")
    if peak > settled * (1 + a.rss_tolerance / 100):
        failures.append(f"RSS {peak} MiB after settling at {settled} MiB (over {a.rss_tolerance}%)")
    figures = {
        "minutes": a.minutes,
        "database": "postgresql" if a.database.startswith("postgres") else "sqlite",
        "requests": len(records),
        "statuses": load.summary(records)["statuses"],
        "p99_s": load.summary(records)["p99_s"],
        "writes": len(acknowledged),
        "rss_mib_at_settle": settled,
        "rss_mib_peak_after": peak,
        "rss_mib_final": final,
        "rss_growth_after_settle_pct": round((peak / settled - 1) * 100, 1) if settled else None,
        "rss_samples": samples[:: max(1, len(samples) // 20)],
    }
    load.verdict(figures, failures)


if __name__ == "__main__":
    main()
