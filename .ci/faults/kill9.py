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
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import load  # noqa: E402

PORT = 18091


def start(binary, env, log):
    server = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{PORT}"
    for _ in range(200):
        try:
            if load.request("GET", base + "/readyz", timeout=1)[0] == 200:
                return server, base
        except Exception:
            pass
        time.sleep(0.05)
    raise SystemExit("the server did not become ready")


def main():
    binary = sys.argv[1]
    admin = sys.argv[2] if len(sys.argv) > 2 else ""
    work = tempfile.mkdtemp()
    name = None
    if admin.startswith("postgres"):
        name = f"ayubi_fault_{uuid.uuid4().hex[:12]}"
        subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
        url = admin.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite://{work}/data/ayubi.db?mode=rwc"
    env = {
        "PATH": os.environ["PATH"],
        "AYUBI_ENV": "development",
        "DATABASE_URL": url,
        "HOST": "127.0.0.1",
        "PORT": str(PORT),
        "AYUBI__BACKUP__DIR": os.path.join(work, "backups"),
        "AYUBI__TELEMETRY__LOG_FORMAT": "json",
        # Fixed, so tokens outlive a restart (development would generate one per start).
        "JWT_SECRET_KEY": "fault-scripts-only-fault-scripts-only-0123456789",
    }
    log = open(os.path.join(work, "server.log"), "w")
    server, base = start(binary, env, log)
    token = load.register(base, "kill@example.com")
    run = load.Load(base, token, workers=8, timeout=15.0).start()
    time.sleep(3)
    server.send_signal(signal.SIGKILL)
    server.wait()
    run.stop()
    acknowledged = list(run.acknowledged)
    started = time.monotonic()
    server, base = start(binary, env, log)
    restart_s = round(time.monotonic() - started, 3)
    status, _, body = load.request("GET", base + "/api/v1/backup/export", token=token, timeout=60)
    present = {e["id"] for e in json.loads(body)["sport"]["water"]} if status == 200 else set()
    missing = [i for i in acknowledged if i not in present]
    server.terminate()
    server.wait(30)
    if name:
        subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])
    figures = {
        "database": "postgresql" if name else "sqlite",
        "acknowledged_before_kill": len(acknowledged),
        "present_after_restart": len(present),
        "missing": len(missing),
        "restart_to_ready_s": restart_s,
        "load": load.summary(run.records),
    }
    print(json.dumps(figures, indent=1))
    if status != 200 or missing or not acknowledged:
        print(f"FAIL: export {status}, {len(missing)} of {len(acknowledged)} acknowledged writes missing", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
