//! `ayubi`: serve the API, or `ayubi migrate up|down [N]|status`, or the operator's
//! `ayubi invite …` and `ayubi user create …` (see `ayubi_app::cli`).

use ayubi_app::config::Settings;
use ayubi_app::startup::Application;
use ayubi_app::telemetry;
use std::path::PathBuf;
use std::process::ExitCode;

/// jemalloc instead of glibc's allocator: with 10,000 idle sync sockets the server holds
/// 191 MB instead of 219 MB (`just bench-sync`), because glibc fragments under the
/// many small long-lived allocations connections make. mimalloc measured worse (289 MB).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const USAGE: &str = "usage: ayubi [serve] | ayubi migrate up | down [STEPS] | status | \
    ayubi healthcheck | ayubi invite create|list|revoke | ayubi user create";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config_dir =
        std::env::var_os("AYUBI_CONFIG_DIR").map_or_else(|| PathBuf::from("config"), PathBuf::from);
    let settings = match Settings::load(&config_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ayubi: configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if args == ["healthcheck"] {
        // Before logging and Sentry: a health check every few seconds must not report
        // itself anywhere but its exit code (and one line when it fails).
        return match ayubi_app::healthcheck::check(settings.server.port) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ayubi healthcheck: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if matches!(args.first().map(String::as_str), None | Some("serve")) {
        telemetry::init_logs(&settings);
    } else {
        telemetry::init_command_logs(&settings);
    }
    // Before the runtime starts, so Sentry's panic and context integrations see it.
    let _sentry = telemetry::init_sentry(&settings);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = actix_web::rt::System::new().block_on(async move {
        match args.as_slice() {
            [] | ["serve"] => serve(settings).await,
            ["migrate", rest @ ..] => migrate(settings, rest).await,
            ["invite", rest @ ..] => ayubi_app::cli::invite(&settings, rest).await,
            ["user", rest @ ..] => ayubi_app::cli::user(&settings, rest).await,
            _ => Err(anyhow::anyhow!(USAGE)),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "ayubi failed");
            eprintln!("ayubi: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let host = settings.server.host.clone();
    let app = Application::build(settings).await?;
    tracing::info!("listening on http://{host}:{}", app.port());
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(mut settings: Settings, args: &[&str]) -> anyhow::Result<()> {
    settings.database.migrate_on_start = false;
    let db = ayubi_db::Database::connect(&settings.db_config()).await?;
    match args {
        ["up"] => db.migrate_up().await?,
        ["down"] => db.migrate_down(1).await?,
        ["down", n] => {
            db.migrate_down(n.parse().map_err(|_| anyhow::anyhow!(USAGE))?)
                .await?
        }
        ["status"] => {
            for (name, applied) in db.migration_status().await? {
                println!("{} {name}", if applied { "applied" } else { "pending" });
            }
        }
        _ => anyhow::bail!(USAGE),
    }
    db.close().await?;
    Ok(())
}
