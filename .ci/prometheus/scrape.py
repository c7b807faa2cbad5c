"""A real Prometheus scrapes the release binary (#20: it could not decode a scrape).

Usage: python3 .ci/prometheus/scrape.py BINARY

Runs a private Prometheus (Debian's package; CI installs it) on 127.0.0.1 with its own
config and data directory, scraping the binary every second, and asks Prometheus's HTTP
API until the target is `up` with no scrape error and `ayubi_http_requests_total` has
samples. Bounded: a minute at most, loopback only. Exits 1 otherwise, printing why and
the tail of Prometheus's log.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "faults"))
import load  # noqa: E402

DEADLINE_SECS = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(prom, expr):
    url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, _, body = load.request("GET", url, timeout=5)
    if status != 200:
        return []
    return json.loads(body)["data"]["result"]


def main():
    binary = sys.argv[1]
    prometheus = shutil.which("prometheus")
    if not prometheus:
        raise SystemExit("prometheus is not installed (apt-get install --no-install-recommends prometheus)")
    work = tempfile.mkdtemp()
    url, _ = load.database("", work)
    app_port, prom_port = free_port(), free_port()
    server_log = open(os.path.join(work, "server.log"), "w")
    server, base = load.serve(binary, load.server_env(url, app_port, work), server_log)
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n"
            "  - job_name: ayubi\n"
            "    metrics_path: /metrics\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{app_port}']\n"
        )
    prom_log_path = os.path.join(work, "prometheus.log")
    prom_log = open(prom_log_path, "w")
    prom = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={os.path.join(work, 'tsdb')}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            "--log.level=info",
        ],
        stdout=prom_log,
        stderr=prom_log,
    )
    prom_base = f"http://127.0.0.1:{prom_port}"
    figures, failures = {}, []
    try:
        start = time.monotonic()
        ok = False
        while time.monotonic() - start < DEADLINE_SECS:
            # Traffic for the counter to count (a scrape is itself a request, too).
            load.request("GET", base + "/healthz", timeout=2)
            try:
                up = query(prom_base, 'up{job="ayubi"}')
                requests = query(prom_base, 'ayubi_http_requests_total{job="ayubi"}')
                status, _, body = load.request("GET", prom_base + "/api/v1/targets", timeout=5)
                targets = json.loads(body)["data"]["activeTargets"] if status == 200 else []
            except Exception as e:  # Prometheus still starting
                figures["last_error"] = repr(e)
                time.sleep(0.5)
                continue
            figures = {
                "up": [r["value"][1] for r in up],
                "ayubi_http_requests_total series": len(requests),
                "target": [
                    {"health": t.get("health"), "lastError": t.get("lastError")} for t in targets
                ],
            }
            if (
                up
                and all(r["value"][1] == "1" for r in up)
                and requests
                and targets
                and all(t.get("health") == "up" and not t.get("lastError") for t in targets)
            ):
                ok = True
                figures["seconds"] = round(time.monotonic() - start, 1)
                break
            time.sleep(0.5)
        if not ok:
            failures.append(f"no healthy scrape within {DEADLINE_SECS}s: {figures}")
    finally:
        prom.terminate()
        server.terminate()
        try:
            prom.wait(10)
            server.wait(40)
        except subprocess.TimeoutExpired:
            prom.kill()
            server.kill()
    if failures:
        with open(prom_log_path) as f:
            print("".join(f.readlines()[-20:]), file=sys.stderr)
    load.verdict(figures, failures)


if __name__ == "__main__":
    main()
