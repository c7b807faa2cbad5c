# Production image: a static-ish release binary on Debian slim. Built by docker-compose
# and `fly deploy`.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p ayubi-app

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /app ayubi
WORKDIR /app
COPY --from=build /src/target/release/ayubi /usr/local/bin/ayubi
COPY config ./config
RUN mkdir -p /app/data && chown ayubi /app/data
USER ayubi
ENV AYUBI_ENV=production HOST=0.0.0.0 PORT=8080
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["ayubi"]
