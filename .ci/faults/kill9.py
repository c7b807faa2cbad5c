"""kill -9 under write load, then a restart on the same database.

Usage: python3 .ci/faults/kill9.py BINARY [DATABASE_URL]
(no URL: a fresh SQLite file; a PostgreSQL URL: a database of its own is created beside
it and dropped after)

Holds, or exits 1: after the restart, every write that was answered 2xx before the kill
is there (the client kept the ids it was given), and the restarted server serves.
"""

import json
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import load  # noqa: E402

PORT = 18091


def main():
    binary = sys.argv[1]
    admin = sys.argv[2] if len(sys.argv) > 2 else ""
    work = tempfile.mkdtemp()
    url, drop = load.database(admin, work)
    env = load.server_env(url, PORT, work)
    log = open(os.path.join(work, "server.log"), "w")
    server, base = load.serve(binary, env, log)
    token = load.register(base, "kill@example.com")
    run = load.Load(base, token, workers=8, timeout=15.0).start()
    time.sleep(3)
    server.send_signal(signal.SIGKILL)
    server.wait()
    run.stop()
    acknowledged = list(run.acknowledged)
    started = time.monotonic()
    server, base = load.serve(binary, env, log)
    restart_s = round(time.monotonic() - started, 3)
    status, _, body = load.request("GET", base + "/api/v1/backup/export", token=token, timeout=60)
    present = {e["id"] for e in json.loads(body)["sport"]["water"]} if status == 200 else set()
    missing = [i for i in acknowledged if i not in present]
    server.terminate()
    server.wait(30)
    drop()
    failures = []
    if status != 200 or missing or not acknowledged:
        failures.append(f"export {status}, {len(missing)} of {len(acknowledged)} acknowledged writes missing")
    load.verdict(
        {
            "database": "postgresql" if admin.startswith("postgres") else "sqlite",
            "acknowledged_before_kill": len(acknowledged),
            "present_after_restart": len(present),
            "missing": len(missing),
            "restart_to_ready_s": restart_s,
            "load": load.summary(run.records),
        },
        failures,
    )


if __name__ == "__main__":
    main()
