//! `/api/v1/travel`: the wishlist, visited countries and stats. Countries are ISO 3166-1
//! alpha-3 codes, case-insensitive on input, upper-case on output.

pub mod stats;
pub mod visited;
pub mod wishlist;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the travel routes.
pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/travel")
            .service(wishlist::list)
            .service(wishlist::add)
            .service(wishlist::remove)
            .service(visited::list)
            .service(visited::add)
            .service(visited::remove)
            .service(stats::get),
    );
}
