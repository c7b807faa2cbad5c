//! `/api/v1/sport`: water, food and workout logs, goals and daily stats, plus the legacy
//! `/api/v1/water` served from the same store. One resource per file.

pub mod food;
pub mod goals;
pub mod stats;
pub mod water;
pub mod workout;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the sport routes and the legacy water routes.
pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/sport")
            .service(water::create)
            .service(water::list)
            .service(water::delete)
            .service(food::create)
            .service(food::list)
            .service(food::delete)
            .service(workout::create)
            .service(workout::list)
            .service(workout::delete)
            .service(stats::get)
            .service(goals::get)
            .service(goals::put),
    )
    .service(water::legacy_create)
    .service(water::legacy_list)
    .service(water::legacy_delete);
}
