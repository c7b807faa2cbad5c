//! `/api/v1/finance`: categories, entries and the monthly summary.

pub mod categories;
pub mod entries;
pub mod summary;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the finance routes.
pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/finance")
            .service(categories::list)
            .service(categories::create)
            .service(categories::put)
            .service(categories::delete)
            .service(entries::list)
            .service(entries::create)
            .service(entries::get)
            .service(entries::put)
            .service(entries::delete)
            .service(summary::get),
    );
}
