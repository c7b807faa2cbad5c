# Ayubi developer commands. Install just with `pip install rust-just`.
# The same steps CI runs live in .ci/run; `just ci` runs that script.

set dotenv-load := true

# Serve on SQLite with development settings (Ctrl-C stops the whole process group).
dev:
    AYUBI_ENV=development cargo run

# The README's test command on SQLite (the needs_redis/needs_postgres modules need servers).
test:
    cargo test --workspace -- --skip needs_redis --skip needs_postgres

# Tests against the machine's PostgreSQL and Redis.
test-pg:
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test TEST_REDIS_URL=redis://127.0.0.1:6379 cargo test --workspace

# The TypeScript client (clients/typescript) against the release binary: lint, the check
# that its types match the binary's /openapi.json, and its tests (SQLite; add the TEST_*
# variables of test-pg for PostgreSQL + Redis).
test-client:
    cargo build --release -p ayubi-app --bin ayubi
    cd clients/typescript && npm ci --no-audit --no-fund && npm run lint && npm run check-generated && npm test

# After an API change: regenerate the client's types from the release binary.
generate-client:
    cargo build --release -p ayubi-app --bin ayubi
    cd clients/typescript && npm run generate

# Formatting, clippy and the dependency-direction check.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    bash .ci/check-deps

# Migrations against the configured database: just migrate up|down|status
migrate *ARGS="up":
    cargo run -- migrate {{ARGS}}

# Release build.
build:
    cargo build --release --workspace

# Everything CI runs.
ci:
    bash .ci/run

# Load: rps, p50, p99 of the hot endpoints under wrk (64 connections), a year of data,
# view cache on and off; start-to-ready and idle RSS. ARGS e.g. --database postgres://…
# --redis redis://127.0.0.1:6379 --duration 10. Needs wrk (apt-get install wrk).
bench *ARGS:
    cargo build --release -p ayubi-app --bin ayubi --example load_bench
    target/release/examples/load_bench {{ARGS}}

# SQLite drivers without HTTP: the group-commit writer lane (with and without an
# Idempotency-Key's statements) and the 90-row list, on sqlx-sqlite and on rusqlite
# (bench/sqlite-driver, outside the workspace: CI does not build it).
bench-sqlite-driver:
    cd bench/sqlite-driver && cargo run --release

# Finance with 20,000 entries on SQLite: a month's list and summary, p50/p95 (target < 20 ms).
bench-finance:
    cargo run --release -p ayubi-db --example finance_bench

# Live sync: delivery latency p50/p99 and RSS per socket at 1,000 and 10,000 sockets
# (targets: p99 < 50 ms at 1,000; 10,000 idle sockets < 200 MB). ARGS e.g. --redis redis://127.0.0.1:6379
bench-sync *ARGS:
    cargo build --release -p ayubi-app --bin ayubi --example sync_bench
    ulimit -n 20000 && target/release/examples/sync_bench {{ARGS}}

# Backup at 200,000 rows: import time, export time and the server's extra RSS while
# exporting (target < 50 MB). ARGS e.g. --rows 50000 or --database postgres://…
bench-backup *ARGS:
    cargo build --release -p ayubi-app --bin ayubi --example backup_bench
    target/release/examples/backup_bench {{ARGS}}

# Soak: 10 minutes of mixed load (writes, reads, two live streams) on the release binary;
# fails on any error or RSS 10% above where it settled after the first minute.
# ARGS e.g. --minutes 10 --database postgres://… --redis redis://…
soak *ARGS:
    cargo build --release -p ayubi-app --bin ayubi
    python3 .ci/faults/soak.py target/release/ayubi {{ARGS}}

# Fuzzing: the backup import and every JSON body under generated hostile input (CI runs
# a fixed seed, 96 documents and 16 bodies per operation). Here CASES each, a new seed.
fuzz CASES="1000":
    PROPTEST_CASES={{CASES}} PROPTEST_RNG_SEED=$(date +%s) cargo test -p ayubi-app --test api fuzz:: -- --nocapture
