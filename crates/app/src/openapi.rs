//! The OpenAPI document's fixed parts; paths and schemas are collected from the routes.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Title, version, tags and the bearer scheme.
#[derive(OpenApi)]
#[openapi(
    info(title = "Ayubi API", description = "The self-hosted backend of the Ayubi life dashboard. Errors are application/problem+json (RFC 9457)."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts, sessions and personal access tokens"),
        (name = "backup", description = "Export, import, stored backups and their schedule"),
        (name = "operations", description = "Health, readiness, metrics"),
        (name = "games", description = "Steam and FACEIT stats of the linked accounts, cached"),
        (name = "finance", description = "Categories, entries in exact money, monthly summaries"),
        (name = "habits", description = "Habits, completions, skips and streaks"),
        (name = "journal", description = "Journal entries and full-text search"),
        (name = "sport", description = "Water, food, workouts, goals and daily stats"),
        (name = "sync", description = "The change log of the user's data"),
        (name = "travel", description = "Wishlist, visited countries and their stats"),
        (name = "settings", description = "Settings, profile, theme and goals"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or personal access token")
                    .build(),
            ),
        );
    }
}
