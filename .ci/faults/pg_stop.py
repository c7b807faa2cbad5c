"""PostgreSQL stopped under load, then started again.

Usage: python3 .ci/faults/pg_stop.py BINARY ADMIN_URL
(ADMIN_URL e.g. postgres://postgres@127.0.0.1:5432/test; the script creates and drops a
database of its own, and stops and starts the machine's PostgreSQL cluster.)

Holds, or exits 1: while PostgreSQL is down every request is answered — 503
application/problem+json with Retry-After, never another 5xx, never left hanging — and
the first 503 comes within 5 s of the stop; once PostgreSQL is back the same process
serves writes again within 10 s; every write answered 2xx is there afterwards.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import load  # noqa: E402

PORT = 18090


def cluster():
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def pg_ready():
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0


def main():
    binary, admin = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp()
    url, drop = load.database(admin, work)
    env = load.server_env(url, PORT, work)
    env.update(kv.split("=", 1) for kv in sys.argv[3:])  # extra settings, KEY=VALUE
    log = open(os.path.join(work, "server.log"), "w")
    server, base = load.serve(binary, env, log)
    failures = []
    try:
        token = load.register(base, "fault@example.com")
        run = load.Load(base, token, workers=8, timeout=15.0).start()
        time.sleep(3)
        t_stop = time.monotonic()
        subprocess.run(cluster() + ["stop", "-m", "fast"], check=True)
        time.sleep(8)
        t_start = time.monotonic()
        subprocess.run(cluster() + ["start"], check=True)
        while not pg_ready():
            time.sleep(0.1)
        t_up = time.monotonic()
        time.sleep(12)
        run.stop()
    finally:
        if not pg_ready():
            subprocess.run(cluster() + ["start"])

    records = run.records
    down = [r for r in records if t_stop <= r[0] + r[1] and r[0] < t_up]
    bad = [r for r in records if r[3] >= 500 and r[3] != 503]
    if bad:
        failures.append(f"{len(bad)} answers 5xx other than 503: {sorted({r[3] for r in bad})}")
    hung = [r for r in records if r[3] <= 0]
    if hung:
        failures.append(f"{len(hung)} requests got no answer within 15 s")
    unavailable = [r for r in records if r[3] == 503]
    if not unavailable:
        failures.append("no 503 while PostgreSQL was down")
    for r in unavailable:
        if "application/problem+json" not in r[4] or not r[5]:
            failures.append(f"a 503 without problem+json or Retry-After: {r}")
            break
    first_503 = min((r[0] + r[1] for r in unavailable), default=None)
    to_first_503 = None if first_503 is None else round(first_503 - t_stop, 3)
    if to_first_503 is not None and to_first_503 > 5:
        failures.append(f"first 503 {to_first_503} s after the stop (limit 5 s)")
    slowest_down = max((r[1] for r in down), default=0.0)
    if slowest_down > 5:
        failures.append(f"a request took {slowest_down:.1f} s while PostgreSQL was down (limit 5 s)")
    writes_back = [r for r in records if r[2] == "write" and 200 <= r[3] < 300 and r[0] >= t_up]
    recovered = None if not writes_back else round(min(r[0] + r[1] for r in writes_back) - t_up, 3)
    if recovered is None or recovered > 10:
        failures.append(f"writes not served within 10 s of PostgreSQL's return ({recovered})")
    after = [r for r in records if recovered is not None and r[0] >= t_up + recovered + 1]
    lingering = [r for r in after if not 200 <= r[3] < 300]
    if lingering:
        failures.append(f"{len(lingering)} failures after recovery: {sorted({r[3] for r in lingering})}")

    # The export holds every row (the list pages at 1000).
    status, _, body = load.request("GET", base + "/api/v1/backup/export", token=token, timeout=60)
    present = {e["id"] for e in json.loads(body)["sport"]["water"]} if status == 200 else set()
    missing = [i for i in run.acknowledged if i not in present]
    if missing:
        failures.append(f"{len(missing)} acknowledged writes missing: {missing[:10]}")

    server.terminate()
    server.wait(30)
    drop()
    figures = {
        "before": load.summary(records, until=t_stop),
        "while_down": load.summary(records, since=t_stop, until=t_up),
        "after": load.summary(records, since=t_up),
        "first_503_after_stop_s": to_first_503,
        "slowest_answer_while_down_s": round(slowest_down, 3),
        "pg_down_s": round(t_start - t_stop, 1),
        "writes_again_after_pg_up_s": recovered,
        "acknowledged_writes": len(run.acknowledged),
        "acknowledged_missing": len(missing),
    }
    if failures:
        failures.append(f"(server log: {log.name})")
    load.verdict(figures, failures)


if __name__ == "__main__":
    main()
