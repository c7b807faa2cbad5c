//! `just bench-sync`: live-sync delivery latency and memory per socket.
//!
//! Starts the release `ayubi` binary on a fresh SQLite file (with `--redis URL`, also on
//! Redis, so every change also goes through pub/sub), registers `sockets / 10` users, opens
//! ten sockets per user (the default per-user limit), lets them idle and reads the
//! server's RSS, then writes journal entries at a fixed rate, round-robin over the users.
//! Each entry's title carries its send time, so a socket that receives the change knows
//! the end-to-end latency: HTTP request → database commit → fan-out → socket. Reports
//! p50/p99/max and any change that never arrived.
//!
//! Usage: `sync_bench [--sockets 1000,10000] [--rate 100] [--seconds 10] [--redis URL]
//! [--instances 2]` (two instances: writes go to one, sockets are held by the other).
//! Needs a file-descriptor limit above the socket count (`ulimit -n 20000`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Server, register};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const PER_USER: usize = 10;

struct Args {
    sockets: Vec<usize>,
    rate: u64,
    seconds: u64,
    redis: Option<String>,
    instances: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        sockets: vec![1000, 10_000],
        rate: 100,
        seconds: 10,
        redis: None,
        instances: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sockets" => {
                a.sockets = value.split(',').map(str::parse).collect::<Result<_, _>>()?;
            }
            "--rate" => a.rate = value.parse()?,
            "--seconds" => a.seconds = value.parse()?,
            "--redis" => a.redis = Some(value),
            "--instances" => a.instances = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

/// Opens a socket and spawns its reader, which reports each change's latency.
async fn open(
    port: u16,
    token: &str,
    base: Instant,
    latencies: mpsc::UnboundedSender<u64>,
    opened: Arc<AtomicUsize>,
) -> anyhow::Result<()> {
    let mut req = format!("ws://127.0.0.1:{port}/api/v1/ws/sync?since=0").into_client_request()?;
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!("bearer, {token}").parse()?,
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
    opened.fetch_add(1, Ordering::Relaxed);
    tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Text(text) = msg else { continue };
            let now = base.elapsed().as_micros() as u64;
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if let Some(sent) = v["data"]["title"]
                .as_str()
                .and_then(|t| t.strip_prefix("t:"))
                .and_then(|t| t.parse::<u64>().ok())
            {
                let _ = latencies.send(now.saturating_sub(sent));
            }
        }
    });
    Ok(())
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn run(sockets: usize, a: &Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(a.redis.as_deref(), dir.path(), &[])?;
    // With two instances (they share the database and Redis) the writer talks to the
    // first and the sockets to the second, so every change crosses instances.
    let writer = if a.instances > 1 {
        Some(Server::start(a.redis.as_deref(), dir.path(), &[])?)
    } else {
        None
    };
    let port = server.port;
    let write_port = writer.as_ref().map_or(port, |w| w.port);
    let http = reqwest::Client::new();
    let users = sockets.div_ceil(PER_USER);
    let t = Instant::now();
    let tokens = register(&http, port, users, sockets).await?;
    eprintln!(
        "  {users} users registered in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = server.rss()?;

    let base = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
    let opened = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let results = futures_util::stream::iter(0..sockets)
        .map(|i| open(port, &tokens[i % users], base, tx.clone(), opened.clone()))
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    drop(tx);
    if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
        bail!(
            "opening sockets ({} open): {e}",
            opened.load(Ordering::Relaxed)
        );
    }
    eprintln!(
        "  {sockets} sockets open in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = server.rss()?;

    // Open-loop writer: one journal entry every 1/rate s, round-robin over the users.
    let writes = (a.rate * a.seconds) as usize;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / a.rate.max(1)));
    let mut inflight = Vec::with_capacity(writes);
    for i in 0..writes {
        tick.tick().await;
        let (http, token) = (http.clone(), tokens[i % users].clone());
        let sent = base.elapsed().as_micros() as u64;
        inflight.push(tokio::spawn(async move {
            http.post(format!("http://127.0.0.1:{write_port}/api/v1/journal"))
                .bearer_auth(token)
                .json(&json!({"title": format!("t:{sent}"), "content": "bench"}))
                .send()
                .await
                .map(|r| r.status().is_success())
        }));
    }
    let mut failed = 0;
    for w in inflight {
        if !matches!(w.await, Ok(Ok(true))) {
            failed += 1;
        }
    }
    let expected = (writes - failed) * PER_USER.min(sockets);
    let mut lat = Vec::with_capacity(expected);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while lat.len() < expected {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(l)) => lat.push(l),
            _ => break,
        }
    }
    let rss_busy = server.rss()?;
    lat.sort_unstable();
    let mb = |b: u64| b as f64 / 1_048_576.0;
    println!(
        "| {sockets} | {users} | {writes} ({failed} failed) | {} / {expected} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
        lat.len(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat.last().map_or(f64::NAN, |m| *m as f64 / 1000.0),
        mb(rss_before),
        mb(rss_idle),
        (rss_idle.saturating_sub(rss_before)) as f64 / sockets as f64 / 1024.0,
        mb(rss_busy),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    if a.instances > 1 && a.redis.is_none() {
        bail!("--instances 2 needs --redis (without it instances only poll)");
    }
    println!(
        "sync bench: {} writes/s for {} s, {PER_USER} sockets per user, {}",
        a.rate,
        a.seconds,
        match (a.instances > 1, a.redis.is_some()) {
            (true, _) => "writes through one instance, sockets on another, via Redis",
            (false, true) => "through Redis pub/sub",
            (false, false) => "in-process fan-out",
        }
    );
    println!(
        "| sockets | users | writes | delivered | p50 ms | p99 ms | max ms | RSS before MB | RSS idle MB | KB/socket | RSS after writes MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for &n in &a.sockets {
        run(n, &a).await?;
    }
    Ok(())
}
