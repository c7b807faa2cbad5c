//! `just bench`: requests per second and latency of the hot endpoints, under wrk.
//!
//! Starts the release `ayubi` binary on a fresh SQLite file (or PostgreSQL with
//! `--database URL`, Redis with `--redis URL`), registers a user and imports a year of
//! data in every module through `POST /backup/import` (3 glasses of water, 3 meals and
//! a workout every other day, 5 habits done most days, 3 finance entries a day, a journal
//! entry a day, 30 visited countries, 20 on the wishlist). It then restarts the server on
//! that database to time start-to-ready (spawn → first 200 from `/readyz`) and read the
//! idle RSS, and runs `wrk --latency` (64 connections, 2 threads: the load shares the
//! server's cores, as the targets in #9 assume) against each endpoint, with the view
//! cache on and then off. Prints one table per setting.
//!
//! Usage: `load_bench [--database postgres://…] [--redis redis://…] [--duration 10]
//! [--connections 64] [--cache on|off|both] [--only water] [--runs 1]`. Needs `wrk`
//! (`apt-get install wrk`). With `--runs N` each endpoint is measured N times and the table
//! shows the median run, with the range of rps across runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use anyhow::{Context, bail};
use chrono::{Duration as Days, NaiveDate, Utc};
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{Server, register};

/// A year of one person's dashboard, ending today.
fn year(today: NaiveDate) -> Value {
    let days: Vec<NaiveDate> = (0..365).map(|i| today - Days::days(364 - i)).collect();
    let water: Vec<Value> = days
        .iter()
        .flat_map(|d| (0..3).map(move |i| json!({"date": d, "ml": 250 + 50 * i})))
        .collect();
    let food: Vec<Value> = days
        .iter()
        .flat_map(|d| {
            (0..3).map(move |i| {
                json!({"date": d, "name": format!("meal {i}"), "kcal": 500 + 100 * i,
                       "protein": 25.0, "carbs": 60.0, "fat": 15.0})
            })
        })
        .collect();
    let workouts: Vec<Value> = days
        .iter()
        .step_by(2)
        .map(|d| json!({"date": d, "name": "run", "duration_min": 40, "kcal_burned": 400}))
        .collect();
    let habits: Vec<Value> = (0..5)
        .map(|h| {
            let done: Vec<&NaiveDate> = days
                .iter()
                .enumerate()
                .filter(|(i, _)| (i + h) % 7 != 0)
                .map(|(_, d)| d)
                .collect();
            json!({"name": format!("habit {h}"), "completions": done})
        })
        .collect();
    let categories = json!([
        {"id": 1, "name": "Food", "kind": "expense"},
        {"id": 2, "name": "Rent", "kind": "expense"},
        {"id": 3, "name": "Salary", "kind": "income"}
    ]);
    let entries: Vec<Value> = days
        .iter()
        .enumerate()
        .flat_map(|(i, d)| {
            [
                json!({"kind": "expense", "amount": 12.5, "currency": "EUR", "category_id": 1, "date": d, "note": "lunch"}),
                json!({"kind": "expense", "amount": 4.2, "currency": "EUR", "category_id": null, "date": d, "note": "coffee"}),
                if i % 30 == 0 {
                    json!({"kind": "income", "amount": 3000, "currency": "EUR", "category_id": 3, "date": d, "note": null})
                } else {
                    json!({"kind": "expense", "amount": 30, "currency": "EUR", "category_id": 2, "date": d, "note": null})
                },
            ]
        })
        .collect();
    let journal: Vec<Value> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({"title": format!("day {i}"), "date": d, "mood": 1 + i % 5, "tags": ["walk"],
                   "content": format!("Entry {i}: a quiet day of reading, a long walk by the river and dinner with friends. ")})
        })
        .collect();
    let countries = [
        "FRA", "DEU", "ITA", "ESP", "PRT", "NLD", "BEL", "AUT", "CHE", "POL", "CZE", "HUN", "GRC",
        "TUR", "JPN", "KOR", "CHN", "THA", "VNM", "IND", "USA", "CAN", "MEX", "BRA", "ARG", "CHL",
        "PER", "AUS", "NZL", "ZAF", "EGY", "MAR", "KEN", "NOR", "SWE", "FIN", "DNK", "ISL", "IRL",
        "GBR", "EST", "LVA", "LTU", "SVK", "SVN", "HRV", "SRB", "ROU", "BGR", "GEO",
    ];
    let visited: Vec<Value> = countries[..30]
        .iter()
        .map(|c| json!({"country_iso3": c, "visit_date": days[0], "notes": null}))
        .collect();
    let wishlist: Vec<Value> = countries[30..]
        .iter()
        .map(|c| json!({"country_iso3": c}))
        .collect();
    json!({
        "format": "ayubi-backup", "version": 1,
        "sport": {"water": water, "food": food, "workouts": workouts},
        "travel": {"visited": visited, "wishlist": wishlist},
        "habits": habits,
        "finance": {"categories": categories, "entries": entries},
        "journal": journal
    })
}

/// What wrk measured.
struct Run {
    /// Requests answered in the run.
    requests: u64,
    rps: f64,
    p50: String,
    p99: String,
    errors: String,
}

/// What one endpoint's load is: its name in the table, path, and a POST body.
struct Endpoint {
    name: &'static str,
    path: String,
    post: Option<&'static str>,
    /// Every request carries its own `Idempotency-Key` (so the write saves a response too).
    keyed: bool,
}

fn wrk(
    url: &str,
    token: &str,
    load: &Endpoint,
    secs: u64,
    connections: u32,
    dir: &std::path::Path,
) -> anyhow::Result<Run> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{secs}s"),
        "--latency",
    ])
    .args(["-H", &format!("Authorization: Bearer {token}")]);
    if let Some(body) = load.post {
        let script = dir.join("post.lua");
        let mut lua = format!(
            "wrk.method = \"POST\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        );
        if load.keyed {
            // A key no earlier run used: the run's start, wrk's thread, the request's number.
            let run = Utc::now().timestamp_nanos_opt().unwrap_or_default();
            lua.push_str(&format!(
                "local threads = 0\n\
                 function setup(thread) threads = threads + 1; thread:set(\"tid\", threads) end\n\
                 local n = 0\n\
                 function request()\n  n = n + 1\n  \
                 wrk.headers[\"Idempotency-Key\"] = string.format(\"{run}-%d-%d\", tid, n)\n  \
                 return wrk.format()\nend\n"
            ));
        }
        std::fs::write(&script, lua)?;
        cmd.arg("-s").arg(script);
    }
    let out = cmd
        .arg(url)
        .output()
        .context("running wrk (apt-get install wrk)")?;
    if !out.status.success() {
        bail!("wrk: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_owned()))
            .unwrap_or_default()
    };
    let errors = text
        .lines()
        .filter(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    // "  123456 requests in 10.00s, 12.34MB read"
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or(0);
    Ok(Run {
        requests,
        rps: field("Requests/sec:").parse().unwrap_or(0.0),
        p50: field("50%"),
        p99: field("99%"),
        errors,
    })
}

/// Every command Redis has run so far (the sum of `calls=` in `INFO commandstats`), or
/// `None` without Redis or `redis-cli`.
fn redis_calls(url: Option<&str>) -> Option<u64> {
    let out = Command::new("redis-cli")
        .args(["-u", url?, "INFO", "commandstats"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .filter(|l| l.starts_with("cmdstat_"))
            .filter_map(|l| {
                l.split("calls=")
                    .nth(1)?
                    .split(',')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum(),
    )
}

/// Spawn → first 200 from `/readyz`.
fn start_timed(
    dir: &std::path::Path,
    env: &[(&str, String)],
) -> anyhow::Result<(Server, Duration)> {
    let t = Instant::now();
    let server = Server::start(None, dir, env)?;
    let url = format!("http://127.0.0.1:{}/readyz", server.port);
    loop {
        let ok = Command::new("curl")
            .args(["-sf", "-o", "/dev/null", &url])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok((server, t.elapsed()));
        }
        if t.elapsed() > Duration::from_secs(30) {
            bail!("not ready after 30 s");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut database, mut redis, mut secs, mut connections, mut cache) = (
        None::<String>,
        None::<String>,
        10u64,
        64u32,
        "both".to_owned(),
    );
    // `--only water`: just the endpoints whose name contains it (for profiling one).
    let mut only = String::new();
    // `--runs 3`: each endpoint measured 3 times; the table shows the median run and the
    // range.
    let mut rounds = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().context("every flag takes a value")?;
        match flag.as_str() {
            "--database" => database = Some(value),
            "--redis" => redis = Some(value),
            "--duration" => secs = value.parse()?,
            "--connections" => connections = value.parse()?,
            "--cache" => cache = value,
            "--only" => only = value,
            "--runs" => rounds = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    let dir = tempfile::tempdir()?;
    let mut env = vec![
        ("AYUBI__AUTH__ACCESS_TOKEN_TTL_SECS", "86400".to_owned()),
        (
            "AYUBI__BACKUP__MAX_IMPORT_BYTES",
            (64 * 1024 * 1024).to_string(),
        ),
    ];
    if let Some(url) = &database {
        env.push(("DATABASE_URL", url.clone()));
    }
    if let Some(url) = &redis {
        env.push(("REDIS_URL", url.clone()));
    }
    let backend = if database.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let today = Utc::now().date_naive();

    let run = support::run_tag();
    // Seed through the API, then restart on the seeded database.
    let http = reqwest::Client::new();
    let token = {
        let server = Server::start(None, dir.path(), &env)?;
        let token = register(&http, server.port, 1, run).await?.remove(0);
        let t = Instant::now();
        let outcome = support::import(
            &http,
            server.port,
            &token,
            serde_json::to_vec(&year(today))?,
        )
        .await?;
        eprintln!(
            "seeded a year in {:.1} s: {outcome}",
            t.elapsed().as_secs_f64()
        );
        token
    };
    // Writes go to a second account: a run of POSTs adds tens of thousands of glasses to
    // "today", which would distort every read after it.
    let writer = {
        let server = Server::start(None, dir.path(), &env)?;
        register(&http, server.port, 1, run + 1).await?.remove(0)
    };

    let month = today.format("%Y-%m").to_string();
    let from = today - Days::days(29);
    let get = |name, path: String| Endpoint {
        name,
        path,
        post: None,
        keyed: false,
    };
    let water = |name, keyed| Endpoint {
        name,
        path: "/api/v1/sport/water".into(),
        post: Some(r#"{"ml": 250}"#),
        keyed,
    };
    let endpoints = [
        get("GET /healthz (ceiling)", "/healthz".into()),
        get("GET /sport/stats", "/api/v1/sport/stats".into()),
        get(
            "GET /sport/water (30 days, 90 rows)",
            format!("/api/v1/sport/water?from={from}&to={today}"),
        ),
        water("POST /sport/water", false),
        water("POST /sport/water with Idempotency-Key", true),
        get("GET /habits/stats", "/api/v1/habits/stats".into()),
        get(
            "GET /finance/summary",
            format!("/api/v1/finance/summary?month={month}"),
        ),
        get("GET /journal?q=", "/api/v1/journal?q=river".into()),
    ];
    let settings: Vec<bool> = match cache.as_str() {
        "on" => vec![true],
        "off" => vec![false],
        _ => vec![true, false],
    };
    // Endpoints that answered anything but 2xx, or nothing: their numbers mean nothing.
    let mut failed = Vec::new();
    for on in settings {
        let mut env = env.clone();
        env.push(("AYUBI__CACHE__ENABLED", on.to_string()));
        let (server, ready) = start_timed(dir.path(), &env)?;
        let idle = server.rss()?;
        let anon = support::rss_anon_of(server.child.id())?;
        println!(
            "\n### {backend}{}, view cache {} — start to ready {} ms, idle RSS {:.1} MiB \
             ({:.1} MiB anonymous)\n",
            if redis.is_some() { " + Redis" } else { "" },
            if on { "on" } else { "off" },
            ready.as_millis(),
            idle as f64 / 1048576.0,
            anon as f64 / 1048576.0
        );
        eprintln!("server pid {}", server.child.id());
        println!(
            "| endpoint | rps | p50 | p99 | Redis commands per request | errors |\n\
             |---|---:|---:|---:|---:|---|"
        );
        for load in endpoints.iter().filter(|e| e.name.contains(&only)) {
            let url = format!("http://127.0.0.1:{}{}", server.port, load.path);
            let who = if load.post.is_some() { &writer } else { &token };
            // Warm up: caches, connections, the page cache.
            wrk(&url, who, load, 2, connections, dir.path())?;
            let before = redis_calls(redis.as_deref());
            let mut runs = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                runs.push(wrk(&url, who, load, secs, connections, dir.path())?);
            }
            let requests: u64 = runs.iter().map(|r| r.requests).sum();
            // Background traffic (the subscription's pings, hints) is in the count too:
            // a few commands a second, against thousands of requests.
            let per_request = match (before, redis_calls(redis.as_deref())) {
                (Some(a), Some(b)) if requests > 0 => {
                    format!("{:.2}", b.saturating_sub(a) as f64 / requests as f64)
                }
                _ => "–".to_owned(),
            };
            let errors: Vec<String> = runs
                .iter()
                .map(|r| r.errors.clone())
                .filter(|e| !e.is_empty())
                .collect();
            // The median run by rps (its latencies with it), and the range across runs:
            // on a shared machine one run can be half another minutes apart.
            runs.sort_by(|a, b| a.rps.total_cmp(&b.rps));
            let (Some(low), Some(high)) = (runs.first(), runs.last()) else {
                bail!("no run of {}", load.name);
            };
            let r = &runs[runs.len() / 2];
            let rps = if runs.len() > 1 {
                format!("{:.0} ({:.0}–{:.0})", r.rps, low.rps, high.rps)
            } else {
                format!("{:.0}", r.rps)
            };
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                load.name,
                rps,
                r.p50,
                r.p99,
                per_request,
                errors.join("; ")
            );
            if !errors.is_empty() || low.rps == 0.0 {
                failed.push(load.name);
            }
        }
        println!(
            "\nRSS after the runs: {:.1} MiB",
            server.rss()? as f64 / 1048576.0
        );
    }
    if !failed.is_empty() {
        bail!("failing requests under load: {failed:?}");
    }
    Ok(())
}
