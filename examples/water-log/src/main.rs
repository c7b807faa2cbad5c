//! A small service outside the app: opens (or creates) a SQLite file, applies Ayubi's
//! migrations, logs water through `ayubi-sport` and its adapter, and prints today's stats
//! and the change-log entries it wrote — the same entries the app's live sync delivers.
//!
//! ```text
//! cargo run -p ayubi-example-water-log -- [path/to/file.db] [ml]
//! ```
//!
//! It links no web framework and no other context: `cargo tree -p ayubi-example-water-log`
//! shows sport, the kernel, sync's log port, and sea-orm with the SQLite driver only.

use ayubi_db::{
    Database, DbConfig, Representations, SqlAccounts, SqlChangeLog, SqlSportStore, SqlTimeZones,
};
use ayubi_kernel::{Clock, SystemClock, TimeZone};
use ayubi_sport::service::{Stats, StatsQuery};
use ayubi_sport::{AddWater, SportService, WaterEntry};
use ayubi_sync::ChangeLog;
use std::process::ExitCode;
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("water-log: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "water-log.db".to_owned());
    let ml: i64 = args.next().map_or(Ok(250), |a| a.parse())?;

    // How an entry appears in the change log (the app registers its REST bodies).
    let representations = Representations::new().with(|w: &WaterEntry| {
        serde_json::json!({ "id": w.id, "date": w.date, "ml": w.ml, "created_at": w.created_at })
    });
    let db = Database::connect(&DbConfig::new(format!("sqlite:{path}?mode=rwc")))
        .await?
        .with_representations(representations);
    db.migrate_up().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let user = SqlAccounts::new(db.clone())
        .create(
            &format!(
                "water-log-{}@example.invalid",
                clock.now().timestamp_micros()
            ),
            TimeZone::parse("UTC")?,
            clock.now(),
        )
        .await?;

    let sport = SportService::new(
        Arc::new(SqlSportStore::new(db.clone())),
        Arc::new(SqlTimeZones::new(db.clone())),
        clock,
    );
    let entry = sport.add_water(user, AddWater::new(None, ml)?).await?;
    sport.add_water(user, AddWater::new(None, 330)?).await?;
    println!(
        "logged {} ml on {} (entry {})",
        entry.ml, entry.date, entry.id
    );

    match sport.stats(user, StatsQuery::default()).await? {
        Stats::Day(day) => println!(
            "today {}: water {} of {} ml",
            day.date, day.totals.water_ml, day.goals.water_ml_per_day
        ),
        Stats::Range(days) => println!("{} days", days.len()),
    }

    let page = SqlChangeLog::new(db.clone()).since(user, 0, 100).await?;
    for change in &page.changes {
        println!(
            "change {} {} {} {}",
            change.seq, change.event, change.entity, change.data
        );
    }
    db.close().await?;
    Ok(())
}
