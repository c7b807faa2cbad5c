//! Finance with a long history: 20,000 entries for one user on SQLite, then a month's list
//! and the monthly summary through the repository, timed. `just bench-finance`.
//!
//! Target (issue 5): each under 20 ms. The run prints p50/p95/max over 200 calls and exits
//! non-zero if a p95 misses the target.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ayubi_db::{Database, DbConfig, SqlFinanceStore};
use ayubi_finance::ports::FinanceStore;
use ayubi_finance::{Currency, EntryFilter};
use ayubi_kernel::{DateRange, UserId};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use std::time::{Duration, Instant};

const ENTRIES: usize = 20_000;
const RUNS: usize = 200;
const TARGET: Duration = Duration::from_millis(20);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()));
    let cfg = DbConfig {
        max_connections: 4,
        acquire_timeout: Duration::from_secs(10),
        test_before_acquire: false,
        ..DbConfig::new(url.clone())
    };
    let db = Database::connect(&cfg).await.unwrap();
    db.migrate_up().await.unwrap();
    let raw = sea_orm::Database::connect(&url).await.unwrap();
    let backend = raw.get_database_backend();
    let ph = |n: usize| {
        if backend == DatabaseBackend::Postgres {
            format!("${n}")
        } else {
            "?".into()
        }
    };
    raw.execute_unprepared(
        "INSERT INTO users (email, password_hash, created_at, updated_at) \
         VALUES ('bench@example.com', 'x', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')",
    )
    .await
    .unwrap();
    let user: i64 = raw
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT id FROM users WHERE email = 'bench@example.com'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    for (i, (name, kind)) in [
        ("Food", "expense"),
        ("Rent", "expense"),
        ("Fun", "expense"),
        ("Salary", "income"),
    ]
    .iter()
    .enumerate()
    {
        let sql = format!(
            "INSERT INTO finance_categories (id, user_id, name, kind, created_at, updated_at) VALUES ({}, {}, {}, {}, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')",
            ph(1),
            ph(2),
            ph(3),
            ph(4)
        );
        raw.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                (i as i64 + 1).into(),
                user.into(),
                (*name).into(),
                (*kind).into(),
            ],
        ))
        .await
        .unwrap();
    }
    // 20,000 entries over two years (~27 a day), in one transaction.
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let t0 = Instant::now();
    raw.execute_unprepared("BEGIN").await.unwrap();
    for chunk in (0..ENTRIES).collect::<Vec<_>>().chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| {
                let date = start + chrono::Duration::days((i * 730 / ENTRIES) as i64);
                let cat = i % 4 + 1;
                let kind = if cat == 4 { "income" } else { "expense" };
                format!(
                    "({user}, '{kind}', {}, 'EUR', {cat}, '{date}', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')",
                    100 + (i * 37) % 50_000
                )
            })
            .collect();
        raw.execute_unprepared(&format!(
            "INSERT INTO finance_entries (user_id, kind, amount_minor, currency, category_id, date, created_at, updated_at) VALUES {}",
            values.join(",")
        ))
        .await
        .unwrap();
    }
    raw.execute_unprepared("COMMIT").await.unwrap();
    raw.execute_unprepared("ANALYZE").await.unwrap();
    println!("seeded {ENTRIES} entries in {:?} ({url})", t0.elapsed());

    let store = SqlFinanceStore::new(db.clone());
    let user = UserId::new(user);
    let month =
        DateRange::new("2026-03-01".parse().unwrap(), "2026-03-31".parse().unwrap()).unwrap();
    let filter = EntryFilter {
        from: Some(month.from()),
        to: Some(month.to()),
        ..EntryFilter::default()
    };
    let eur = Currency::from_trusted("EUR".into());
    let n = store.entries(user, filter, 1000).await.unwrap().len();
    println!("a month holds {n} entries");

    let mut failed = false;
    for what in ["month list (all entries, limit 1000)", "month summary"] {
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            if what.starts_with("month list") {
                std::hint::black_box(store.entries(user, filter, 1000).await.unwrap());
            } else {
                std::hint::black_box(store.totals(user, month, &eur).await.unwrap());
            }
            times.push(t.elapsed());
        }
        times.sort();
        let p95 = percentile(&times, 0.95);
        println!(
            "{what:40} p50 {:>8.2?}  p95 {:>8.2?}  max {:>8.2?}  {}",
            percentile(&times, 0.5),
            p95,
            times[times.len() - 1],
            if p95 < TARGET {
                "ok (< 20 ms)"
            } else {
                "MISSES 20 ms"
            }
        );
        failed |= p95 >= TARGET;
    }
    if failed {
        std::process::exit(1);
    }
}
