# Ayubi developer commands. Install just with `pip install rust-just`.
# The same steps CI runs live in .ci/run; `just ci` runs that script.

set dotenv-load := true

# Serve on SQLite with development settings (Ctrl-C stops the whole process group).
dev:
    AYUBI_ENV=development cargo run

# The README's test command: SQLite, plus PostgreSQL/Redis when TEST_* variables are set.
test:
    cargo test --workspace

# Tests against the machine's PostgreSQL and Redis.
test-pg:
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test TEST_REDIS_URL=redis://127.0.0.1:6379 cargo test --workspace

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

# Finance with 20,000 entries on SQLite: a month's list and summary, p50/p95 (target < 20 ms).
bench-finance:
    cargo run --release -p ayubi-db --example finance_bench
