//! `just bench-backup`: export time and memory at 200,000 rows, and import time.
//!
//! Starts the release `ayubi` binary on a fresh SQLite file (or PostgreSQL with
//! `--database URL`), registers a user and imports a generated document of `--rows` rows
//! spread over every table (water, food, workouts, habits with completions, finance,
//! journal). Then restarts the server so the export is measured from a clean process,
//! reads its idle RSS, and downloads `GET /backup/export` while sampling the server's RSS
//! every 5 ms; the figure is the peak above idle. Finally it stores one backup
//! (`POST /backup/history`, export + upload to the local object store) the same way.
//!
//! Usage: `backup_bench [--rows 200000] [--long-entries N] [--database postgres://…]`
//! (`--long-entries N` adds N journal entries of 100,000 characters, the largest rows.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::{Server, register};

fn document(rows: usize, long_entries: usize) -> Value {
    let date = |i: usize| format!("2025-{:02}-{:02}", i % 12 + 1, i % 28 + 1);
    let share = |pct: usize| rows * pct / 100;
    let water: Vec<Value> = (0..share(30))
        .map(|i| json!({"date": date(i), "ml": 100 + i % 900}))
        .collect();
    let food: Vec<Value> = (0..share(20))
        .map(|i| json!({"date": date(i), "name": format!("meal {i}"), "kcal": i % 2000, "protein": 12.5, "carbs": null, "fat": 3.1}))
        .collect();
    let workouts: Vec<Value> = (0..share(10))
        .map(|i| json!({"date": date(i), "name": "run", "duration_min": 1 + i % 120, "kcal_burned": i % 900}))
        .collect();
    // Completions are unique per habit and day: 10% of the rows over enough habits.
    let completions = share(10);
    let per_habit = 3000;
    let start = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    let habits: Vec<Value> = (0..completions.div_ceil(per_habit))
        .map(|h| {
            let n = per_habit.min(completions - h * per_habit);
            let days: Vec<String> = (0..n)
                .map(|d| (start + chrono::Duration::days(d as i64)).to_string())
                .collect();
            json!({"name": format!("habit {h}"), "completions": days})
        })
        .collect();
    let categories = json!([{"id": 1, "name": "Food", "kind": "expense"}]);
    let entries: Vec<Value> = (0..share(20))
        .map(|i| json!({"kind": "expense", "amount": (i % 10_000) as f64 / 100.0 + 0.01, "currency": "EUR", "category_id": if i % 2 == 0 { json!(1) } else { Value::Null }, "date": date(i), "note": "coffee"}))
        .collect();
    let journal: Vec<Value> = (0..rows - share(30) - share(20) - share(10) - completions - share(20))
        .map(|i| json!({"title": format!("day {i}"), "content": "A quiet day of reading and a long walk by the river. ".repeat(3), "date": date(i), "mood": 1 + i % 5, "tags": ["walk", "read"]}))
        .collect();
    // The largest rows there are: entries of 100,000 characters.
    let journal: Vec<Value> =
        journal
            .into_iter()
            .chain((0..long_entries).map(
                |i| json!({"content": format!("{i} {}", "x".repeat(99_990)), "date": date(i)}),
            ))
            .collect();
    json!({
        "format": "ayubi-backup", "version": 1,
        "sport": {"water": water, "food": food, "workouts": workouts},
        "habits": habits,
        "finance": {"categories": categories, "entries": entries},
        "journal": journal
    })
}

/// Samples the server's RSS until stopped; returns the peak.
fn sampler(server: &Server) -> (Arc<AtomicBool>, tokio::task::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let pid = server.child.id();
    let (s, p) = (stop.clone(), peak.clone());
    let handle = tokio::spawn(async move {
        while !s.load(Ordering::Relaxed) {
            if let Ok(rss) = support::rss_of(pid) {
                p.fetch_max(rss, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        p.load(Ordering::Relaxed)
    });
    (stop, handle)
}

const MB: f64 = 1024.0 * 1024.0;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut rows = 200_000;
    let mut long_entries = 0;
    let mut database: Option<String> = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rows" => rows = value.parse()?,
            "--long-entries" => long_entries = value.parse()?,
            "--database" => database = Some(value),
            other => bail!("unknown flag {other}"),
        }
    }
    let dir = tempfile::tempdir()?;
    // BENCH_KEEP=path keeps the seeded database there for profiling.
    let kept = std::env::var("BENCH_KEEP")
        .ok()
        .map(std::path::PathBuf::from);
    let dir_path = kept.clone().unwrap_or_else(|| dir.path().to_owned());
    let mut env = vec![
        (
            "AYUBI__BACKUP__DIR",
            dir_path.join("backups").display().to_string(),
        ),
        (
            "AYUBI__BACKUP__MAX_IMPORT_BYTES",
            (200 * 1024 * 1024).to_string(),
        ),
    ];
    if let Some(url) = &database {
        env.push(("DATABASE_URL", url.clone()));
    }
    let http = reqwest::Client::new();
    let doc = serde_json::to_vec(&document(rows, long_entries))?;
    let server = Server::start(None, &dir_path, &env)?;
    let token = register(&http, server.port, 1, support::run_tag())
        .await?
        .remove(0);
    let (stop, peak) = sampler(&server);
    let idle = server.rss()?;
    let t = Instant::now();
    // The answer is a few hundred bytes: reading it does not move the time.
    let outcome = support::import(&http, server.port, &token, doc.clone()).await?;
    let import_time = t.elapsed();
    let created: u64 = outcome["created"]
        .as_object()
        .context("created")?
        .values()
        .filter_map(Value::as_u64)
        .sum();
    stop.store(true, Ordering::Relaxed);
    let import_peak = peak.await?;
    drop(server);

    // A fresh process: idle RSS, then the export.
    let server = Server::start(None, &dir_path, &env)?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let base = server.rss()?;
    let (stop, peak) = sampler(&server);
    let t = Instant::now();
    let res = http
        .get(format!(
            "http://127.0.0.1:{}/api/v1/backup/export",
            server.port
        ))
        .bearer_auth(&token)
        .send()
        .await?;
    let sha = res
        .headers()
        .get("x-content-sha256")
        .context("sha header")?
        .to_str()?
        .to_owned();
    let mut body = res.bytes_stream();
    let mut size = 0usize;
    while let Some(chunk) = body.next().await {
        size += chunk?.len();
    }
    let export_time = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let export_peak = peak.await?;

    let (stop, peak) = sampler(&server);
    let t = Instant::now();
    let res = http
        .post(format!(
            "http://127.0.0.1:{}/api/v1/backup/history",
            server.port
        ))
        .bearer_auth(&token)
        .send()
        .await?;
    let store_time = t.elapsed();
    if !res.status().is_success() {
        bail!("store: {}", res.status());
    }
    stop.store(true, Ordering::Relaxed);
    let store_peak = peak.await?;
    let stored: Value = res.json().await?;
    // Same rows, a different `exported_at` of the same width: the same length.
    if stored["size_bytes"].as_u64() != Some(size as u64) || sha.len() != 64 {
        bail!("the stored backup differs from the export: {stored}");
    }

    println!(
        "backend: {}\nrows: {created} created by the import ({} MB document)",
        if database.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        doc.len() / 1_000_000
    );
    println!(
        "import: {:.2} s ({:.0} rows/s), server peak RSS {:.0} MB (idle {:.0} MB)",
        import_time.as_secs_f64(),
        created as f64 / import_time.as_secs_f64(),
        import_peak as f64 / MB,
        idle as f64 / MB
    );
    println!(
        "export: {:.2} s ({:.0} rows/s, {:.1} MB), extra RSS {:.1} MB (idle {:.0} MB, peak {:.0} MB)",
        export_time.as_secs_f64(),
        created as f64 / export_time.as_secs_f64(),
        size as f64 / 1e6,
        export_peak.saturating_sub(base) as f64 / MB,
        base as f64 / MB,
        export_peak as f64 / MB
    );
    println!(
        "stored backup (export + upload to the local store): {:.2} s, extra RSS {:.1} MB",
        store_time.as_secs_f64(),
        store_peak.saturating_sub(base) as f64 / MB
    );
    Ok(())
}
