"""A small write+read load against a running Ayubi, recording every answer.

Imported by the fault scripts in this directory. Standard library only (CI installs
nothing for it). Each worker loops: POST /sport/water (an Idempotency-Key per request, the
id kept when answered 2xx), GET /sport/water. Every answer is recorded with its start
time, latency, status, Content-Type and Retry-After; a request that gets no answer within
`timeout`, or whose connection breaks, is recorded as status 0; one whose connection is
refused (the server not listening) as -1.
"""

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid


def request(method, url, body=None, token=None, timeout=15.0, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, dict(res.headers), res.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def register(base, email, password="correct horse battery staple"):
    status, _, body = request(
        "POST", f"{base}/api/v1/auth/register", {"email": email, "password": password}
    )
    if status != 201:
        raise SystemExit(f"register: {status} {body[:200]!r}")
    return json.loads(body)["access_token"]


class Load:
    """`workers` threads of write+read against `base` until stop()."""

    def __init__(self, base, token, workers=8, timeout=15.0, read_only=None):
        """`read_only`: a path to GET in a loop instead of the write+read pair."""
        self.base, self.token, self.timeout = base, token, timeout
        self.read_only = read_only
        self.records = []  # (start, latency, kind, status, content_type, retry_after)
        self.acknowledged = []  # water ids answered 2xx
        self.unanswered = []  # (start, Idempotency-Key) of writes that got no answer
        self.lock = threading.Lock()
        self.running = True
        self.threads = [threading.Thread(target=self.work, daemon=True) for _ in range(workers)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(self.timeout + 5)

    def one(self, kind, method, path, body=None, headers=None):
        start = time.monotonic()
        try:
            status, hdrs, payload = request(
                method, self.base + path, body, self.token, self.timeout, headers
            )
        except Exception as e:  # refused (-1: never accepted), or a timeout or reset (0)
            reason = getattr(e, "reason", e)
            refused = isinstance(reason, ConnectionRefusedError)
            status, hdrs, payload = (-1 if refused else 0), {}, b""
            if not refused and os.environ.get("FAULTS_DEBUG"):
                print(f"{kind} {path}: {e!r}", file=sys.stderr)
        latency = time.monotonic() - start
        lower = {k.lower(): v for k, v in hdrs.items()}
        with self.lock:
            self.records.append(
                (start, latency, kind, status, lower.get("content-type", ""), lower.get("retry-after"))
            )
        return status, payload

    def work(self):
        while self.running and self.read_only:
            self.one("read", "GET", self.read_only)
        while self.running:
            key, started = str(uuid.uuid4()), time.monotonic()
            status, payload = self.one(
                "write",
                "POST",
                "/api/v1/sport/water",
                {"ml": 250},
                {"Idempotency-Key": key},
            )
            if 200 <= status < 300:
                with self.lock:
                    self.acknowledged.append(json.loads(payload)["id"])
            elif status == 0:
                # No answer: retrying with the key tells whether it was done.
                with self.lock:
                    self.unanswered.append((started, key))
            self.one("read", "GET", "/api/v1/sport/water?limit=5")
            if status <= 0 or status >= 500:
                time.sleep(0.05)  # a client backing off a little, not hammering


def summary(records, since=None, until=None):
    picked = [r for r in records if (since is None or r[0] >= since) and (until is None or r[0] < until)]
    statuses = {}
    for r in picked:
        statuses[r[3]] = statuses.get(r[3], 0) + 1
    latencies = sorted(r[1] for r in picked)
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0
    return {"requests": len(picked), "statuses": statuses, "max_s": round(latencies[-1], 3) if latencies else 0.0, "p99_s": round(p99, 3)}


# Shared by the fault scripts: the server, its database, a live client, the verdict.

JWT = "fault-scripts-only-fault-scripts-only-0123456789"


def database(admin, work, prefix="ayubi_fault"):
    """A PostgreSQL database of its own beside `admin` (dropped by the returned
    function), or, for an empty `admin`, a fresh SQLite file under `work`."""
    if not admin.startswith("postgres"):
        return f"sqlite://{work}/data/ayubi.db?mode=rwc", lambda: None
    import subprocess

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    drop = lambda: subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])
    return admin.rsplit("/", 1)[0] + "/" + name, drop


def server_env(url, port, work, **extra):
    """The settings every script starts the binary with; a fixed JWT key, so tokens
    outlive a restart (development would generate one per start)."""
    env = {
        "PATH": os.environ["PATH"],
        "AYUBI_ENV": "development",
        "DATABASE_URL": url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "AYUBI__BACKUP__DIR": os.path.join(work, "backups"),
        "AYUBI__TELEMETRY__LOG_FORMAT": "json",
        "JWT_SECRET_KEY": JWT,
    }
    env.update(extra)
    return env


def serve(binary, env, log):
    """Starts the binary and waits for /readyz 200; returns (process, base URL)."""
    import subprocess

    server = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{env['PORT']}"
    for _ in range(200):
        try:
            if request("GET", base + "/readyz", timeout=1)[0] == 200:
                return server, base
        except Exception:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit(f"the server on {base} did not become ready")


class Stream(threading.Thread):
    """A live client (Server-Sent Events): the water ids of the `water:added` changes it
    receives in order, the last event id, and how it ended (`close`: the server's close
    message; `error`: the stream broke)."""

    def __init__(self, base, token, last_id=None, timeout=300):
        super().__init__(daemon=True)
        self.base, self.token, self.last_id, self.timeout = base, token, last_id, timeout
        self.seen, self.close, self.error = [], None, None

    def run(self):
        req = urllib.request.Request(self.base + "/api/v1/events")
        req.add_header("Authorization", f"Bearer {self.token}")
        if self.last_id is not None:
            req.add_header("Last-Event-ID", str(self.last_id))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                event = None
                for raw in res:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("id:"):
                        self.last_id = int(line[3:].strip())
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "change":
                        change = json.loads(line[5:])
                        if change.get("event") == "water:added":
                            self.seen.append(change["id"])
                    elif line.startswith("data:") and event == "close":
                        self.close = json.loads(line[5:])
                        return
            self.error = "end of stream"
        except Exception as e:
            self.error = repr(e)

    def ended(self):
        return self.close or self.error


def await_delivery(streams, acknowledged, timeout):
    """Waits up to `timeout` seconds for every stream to have seen every id in
    `acknowledged` (deliveries trail the answers a little)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(acknowledged <= set(s.seen) for s in streams):
        time.sleep(0.2)


def verdict(figures, failures):
    """Prints the figures, then each failure; exits 1 on any."""
    print(json.dumps(figures, indent=1))
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    sys.exit(1 if failures else 0)
