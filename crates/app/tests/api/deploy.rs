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

/// The README section of a host: from its `### ` heading to the next heading of any level.
fn readme_section(heading: &str) -> String {
    let readme = read("README.md");
    let start = readme
        .find(&format!("### {heading}"))
        .unwrap_or_else(|| panic!("README has no `### {heading}` section"));
    let rest = &readme[start + 4..];
    let end = rest.find("\n#").map_or(rest.len(), |i| i);
    rest[..end].to_owned()
}

#[test]
fn railway_builds_the_dockerfile_migrates_first_checks_healthz_and_drains() {
    let railway: serde_json::Value = serde_json::from_str(&read("railway.json")).unwrap();
    assert_eq!(railway["build"]["builder"], "DOCKERFILE");
    let dockerfile = railway["build"]["dockerfilePath"].as_str().unwrap();
    assert!(repo_root().join(dockerfile).is_file(), "{dockerfile}");
    let deploy = &railway["deploy"];
    assert_eq!(deploy["startCommand"], "ayubi serve");
    assert_eq!(
        deploy["preDeployCommand"],
        serde_json::json!(["ayubi migrate up"])
    );
    assert_eq!(deploy["healthcheckPath"], "/healthz");
    assert_eq!(deploy["restartPolicyType"], "ON_FAILURE");
    assert!(deploy["restartPolicyMaxRetries"].as_u64().unwrap() > 0);
    // Railway sends SIGTERM, then SIGKILL after drainingSeconds: the drain must fit.
    let draining = deploy["drainingSeconds"].as_u64().unwrap();
    let drain = production_shutdown_timeout();
    assert!(
        draining > drain,
        "Railway kills at {draining} s, before the {drain} s drain ends"
    );
    // Every watched path exists (a typo would stop deploys on changes to it).
    for pattern in railway["build"]["watchPatterns"].as_array().unwrap() {
        let path = pattern.as_str().unwrap().trim_end_matches("/**");
        assert!(repo_root().join(path).exists(), "watch pattern {path}");
    }
    // Railway's file has no place for variables: the README names them.
    let section = readme_section("Railway");
    for var in [
        "JWT_SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "CORS_ORIGINS",
    ] {
        assert!(
            section.contains(var),
            "README's Railway steps do not set {var}"
        );
    }
}

#[test]
fn render_blueprint_wires_postgres_and_key_value_generates_the_key_and_checks_healthz() {
    use yaml_rust2::{Yaml, YamlLoader};
    let docs = YamlLoader::load_from_str(&read("render.yaml")).unwrap();
    let blueprint = &docs[0];
    let services = blueprint["services"].as_vec().unwrap();
    let by_type = |t: &str| {
        services
            .iter()
            .find(|s| s["type"].as_str() == Some(t))
            .unwrap_or_else(|| panic!("no {t} service"))
    };
    let web = by_type("web");
    let kv = by_type("keyvalue");
    assert_eq!(web["runtime"].as_str(), Some("docker"));
    let dockerfile = web["dockerfilePath"].as_str().unwrap();
    assert!(repo_root().join(dockerfile).is_file(), "{dockerfile}");
    assert_eq!(web["healthCheckPath"].as_str(), Some("/healthz"));
    assert_eq!(web["preDeployCommand"].as_str(), Some("ayubi migrate up"));
    let databases = blueprint["databases"].as_vec().unwrap();
    let db_name = databases[0]["name"].as_str().unwrap();
    let env: Vec<&Yaml> = web["envVars"].as_vec().unwrap().iter().collect();
    let var = |key: &str| {
        env.iter()
            .find(|v| v["key"].as_str() == Some(key))
            .unwrap_or_else(|| panic!("render.yaml does not set {key}"))
    };
    assert_eq!(var("AYUBI_ENV")["value"].as_str(), Some("production"));
    let database = &var("DATABASE_URL")["fromDatabase"];
    assert_eq!(database["name"].as_str(), Some(db_name));
    assert_eq!(database["property"].as_str(), Some("connectionString"));
    let redis = &var("REDIS_URL")["fromService"];
    assert_eq!(redis["type"].as_str(), Some("keyvalue"));
    assert_eq!(redis["name"].as_str(), kv["name"].as_str());
    assert_eq!(redis["property"].as_str(), Some("connectionString"));
    assert_eq!(var("JWT_SECRET_KEY")["generateValue"].as_bool(), Some(true));
    // Secrets are asked for at sync time, never committed.
    for secret in ["SENTRY_DSN", "STEAM_API_KEY", "FACEIT_API_KEY"] {
        let v = var(secret);
        assert_eq!(v["sync"].as_bool(), Some(false), "{secret}");
        assert!(v["value"].is_badvalue(), "{secret} has a value in git");
    }
    // Both stores reachable only from the account's own services.
    assert_eq!(kv["ipAllowList"].as_vec().map(Vec::len), Some(0));
    assert_eq!(databases[0]["ipAllowList"].as_vec().map(Vec::len), Some(0));
    let section = readme_section("Render");
    for word in ["render.yaml", "Blueprint", "CORS_ORIGINS"] {
        assert!(
            section.contains(word),
            "README's Render section says nothing of {word}"
        );
    }
    // What a free tier does to a live-sync server is written down.
    let free = readme_section("Free tiers");
    for word in ["sleep", "socket", "backup", "Upstash", "command"] {
        assert!(
            free.contains(word),
            "README's free-tier notes say nothing of {word}"
        );
    }
}
