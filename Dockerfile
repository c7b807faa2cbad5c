# syntax=docker/dockerfile:1
# Production image, built by `docker compose up --build` and `fly deploy`.
#
# Stages: chef (the toolchain + cargo-chef) → planner (the dependency recipe, which
# changes only when Cargo.toml/Cargo.lock do) → build (dependencies cooked in their own
# layer, so a source change rebuilds only our crates; then the very command CI's release
# step runs, `cargo build --release --workspace --locked`) → runtime (Debian slim, the
# binary, its config, a non-root user).
# CI lints this file with hadolint and checks the build command matches .ci/run
# (crates/app/tests/api/deploy.rs).

# The full image: C toolchain, perl and friends for the -sys crates (SQLite, aws-lc).
FROM rust:1.95.0-bookworm AS chef
RUN cargo install cargo-chef --version 0.1.77 --locked
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --workspace --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --workspace --locked

FROM debian:bookworm-slim AS runtime
# ca-certificates: Steam, FACEIT and S3 are reached over TLS, verified against the system's
# roots. Unpinned on purpose (.hadolint.yaml): the slim image's security updates should land.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin ayubi \
    && mkdir -p /app/data \
    && chown 10001:10001 /app/data
WORKDIR /app
COPY --from=build /src/target/release/ayubi /usr/local/bin/ayubi
COPY config ./config
USER 10001:10001
ENV AYUBI_ENV=production HOST=0.0.0.0 PORT=8080
EXPOSE 8080
VOLUME ["/app/data"]
# The binary checks itself (GET /healthz on PORT): the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["ayubi", "healthcheck"]
# actix drains in-flight requests on SIGTERM (server.shutdown_timeout_secs); SIGINT is its
# forced stop.
STOPSIGNAL SIGTERM
CMD ["ayubi", "serve"]
