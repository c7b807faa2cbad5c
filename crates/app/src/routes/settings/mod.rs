//! `/api/v1/settings`: settings (validated known keys, free-form frontend keys), the
//! profile, the theme, and goals (the same store as `/sport/goals`).

pub mod goals;
pub mod profile;
pub mod theme;
pub mod values;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the settings routes.
pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/settings")
            .service(values::get)
            .service(values::put)
            .service(theme::get)
            .service(goals::put)
            .service(profile::get)
            .service(profile::put),
    );
}
