//! What the benchmarks share: the release server as a child process, and registration.
#![allow(dead_code)]

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The benchmarked server.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `target/release/ayubi` on a SQLite file in `dir` (with Redis when given),
    /// plus any `extra` environment; waits until it listens.
    pub fn start(
        redis: Option<&str>,
        dir: &std::path::Path,
        extra: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let bin = exe
            .parent()
            .and_then(|p| p.parent())
            .context("locating target/release")?
            .join("ayubi");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut cmd = Command::new(&bin);
        cmd.current_dir(root)
            .env("AYUBI_ENV", "development")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/bench.db?mode=rwc", dir.display()),
            )
            .env(
                "JWT_SECRET_KEY",
                "bench-secret-bench-secret-bench-secret-0123",
            )
            .env("PORT", "0")
            .env("NO_COLOR", "1")
            .env("AYUBI__TELEMETRY__LOG_FILTER", "warn,ayubi=info")
            .env("AYUBI__AUTH__REGISTER_PER_HOUR", "1000000")
            .env("REDIS_URL", redis.unwrap_or(""))
            .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {} (build it first)", bin.display()))?;
        let stdout = child.stdout.take().context("stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = tx.send(port.parse::<u16>().unwrap_or(0));
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(60))
            .context("server did not start")?;
        Ok(Self { child, port })
    }

    /// Resident set size in bytes, from /proc.
    pub fn rss(&self) -> anyhow::Result<u64> {
        rss_of(self.child.id())
    }
}

/// Resident set size of a process in bytes, from /proc.
pub fn rss_of(pid: u32) -> anyhow::Result<u64> {
    status_bytes(pid, "VmRSS:")
}

/// The anonymous part of the resident set (heap, stacks: what the process itself holds),
/// as against file-backed pages (the binary's code mapped from the page cache, shared
/// and reclaimable).
pub fn rss_anon_of(pid: u32) -> anyhow::Result<u64> {
    status_bytes(pid, "RssAnon:")
}

fn status_bytes(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .with_context(|| field.to_owned())?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kb * 1024)
}

/// A tag for [`register`] no earlier run used (seconds since the epoch, even): a
/// PostgreSQL database outlives the run, and its accounts with it. `tag + 1` is free too.
pub fn run_tag() -> usize {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    usize::try_from(secs).unwrap_or_default() * 2
}

/// Imports a backup document for `token`'s account; the import's answer.
pub async fn import(
    http: &reqwest::Client,
    port: u16,
    token: &str,
    document: Vec<u8>,
) -> anyhow::Result<Value> {
    let res = http
        .post(format!("http://127.0.0.1:{port}/api/v1/backup/import"))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(document)
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("import: {} {}", res.status(), res.text().await?);
    }
    Ok(res.json().await?)
}

pub async fn register(
    http: &reqwest::Client,
    port: u16,
    users: usize,
    tag: usize,
) -> anyhow::Result<Vec<String>> {
    let tokens = futures_util::stream::iter(0..users)
        .map(|i| {
            let http = http.clone();
            async move {
                let res = http
                    .post(format!("http://127.0.0.1:{port}/api/v1/auth/register"))
                    .json(&json!({
                        "email": format!("bench{tag}-{i}@example.com"),
                        "password": "correct horse battery staple",
                    }))
                    .send()
                    .await?;
                if !res.status().is_success() {
                    bail!("register: {}", res.status());
                }
                let body: Value = res.json().await?;
                Ok(body["access_token"]
                    .as_str()
                    .context("access_token")?
                    .to_owned())
            }
        })
        .buffered(8)
        .collect::<Vec<anyhow::Result<String>>>()
        .await;
    tokens.into_iter().collect()
}
