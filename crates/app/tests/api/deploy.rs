//! The deployment files agree with the server they deploy: Fly's stop signal and timeout
//! with the drain, its check and port with the server's, the image's build with CI's, the
//! health checks with the binary's own. (Docker does not run here; CI also lints the
//! Dockerfile with hadolint and the compose file against the Compose schema.)

use crate::helpers::repo_root;

fn read(name: &str) -> String {
    std::fs::read_to_string(repo_root().join(name)).unwrap()
}

/// `server.shutdown_timeout_secs` in production: production.toml's, else default.toml's.
/// (Read from the files: loading the settings would need a secret in the process
/// environment, which the other tests share.)
fn production_shutdown_timeout() -> u64 {
    ["config/production.toml", "config/default.toml"]
        .iter()
        .find_map(|f| {
            let t: toml::Table = toml::from_str(&read(f)).unwrap();
            t.get("server")?.get("shutdown_timeout_secs")?.as_integer()
        })
        .and_then(|n| u64::try_from(n).ok())
        .unwrap()
}

#[test]
fn fly_stops_with_sigterm_after_the_drain_and_checks_healthz_on_the_served_port() {
    let fly: toml::Table = toml::from_str(&read("fly.toml")).unwrap();
    let drain = production_shutdown_timeout();
    assert_eq!(fly["kill_signal"].as_str(), Some("SIGTERM"));
    let kill_timeout = fly["kill_timeout"].as_integer().unwrap();
    assert!(
        u64::try_from(kill_timeout).unwrap() > drain,
        "Fly kills at {kill_timeout} s, before the {drain} s drain ends"
    );
    assert_eq!(
        fly["deploy"]["release_command"].as_str(),
        Some("ayubi migrate up")
    );
    let env = fly["env"].as_table().unwrap();
    assert_eq!(env["AYUBI_ENV"].as_str(), Some("production"));
    assert_eq!(env["HOST"].as_str(), Some("0.0.0.0"));
    let service = fly["http_service"].as_table().unwrap();
    assert_eq!(
        service["internal_port"].as_integer().map(|p| p.to_string()),
        env["PORT"].as_str().map(str::to_owned),
        "Fly routes to the port the server listens on"
    );
    let checks = service["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["path"].as_str() == Some("/healthz")),
        "{checks:?}"
    );
    // Every secret the server needs in production is named for `fly secrets set`.
    let head: String = read("fly.toml")
        .lines()
        .take_while(|l| l.starts_with('#'))
        .collect();
    for secret in ["JWT_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SENTRY_DSN"] {
        assert!(head.contains(secret), "fly.toml does not list {secret}");
    }
}

#[test]
fn the_image_builds_as_ci_does_runs_unprivileged_and_checks_itself() {
    let dockerfile = read("Dockerfile");
    let ci = read(".ci/run");
    let build = "cargo build --release --workspace --locked";
    assert!(ci.contains(build), "CI's release step changed: {build}");
    assert!(
        dockerfile.contains(&format!("RUN {build}")),
        "the image builds differently from CI"
    );
    assert!(dockerfile.contains("cargo chef cook --release --workspace --locked"));
    // The runtime stage: a numeric non-root user, the binary's own health check, and the
    // signal actix drains on.
    let runtime = dockerfile
        .split("AS runtime")
        .nth(1)
        .expect("a runtime stage");
    assert!(runtime.contains("USER 10001"), "{runtime}");
    assert!(runtime.contains(r#"CMD ["ayubi", "healthcheck"]"#));
    assert!(runtime.contains("STOPSIGNAL SIGTERM"));
    let compose = read("docker-compose.yml");
    assert!(compose.contains(r#"test: ["CMD", "ayubi", "healthcheck"]"#));
    for service in ["pg_isready", "redis-cli"] {
        assert!(compose.contains(service), "{service} health check");
    }
}
