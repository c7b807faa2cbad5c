//! `/api/v1/habits`: habits, their completions and skips, and streak stats.

pub mod days;
pub mod habit;
pub mod stats;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the habit routes (`/habits/stats` before `/habits/{id}`).
pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/habits")
            .service(stats::get)
            .service(habit::list)
            .service(habit::create)
            .service(habit::get)
            .service(habit::put)
            .service(habit::delete)
            .service(days::complete)
            .service(days::uncomplete)
            .service(days::completions)
            .service(days::skip)
            .service(days::unskip),
    );
}
