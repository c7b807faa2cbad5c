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

/// The answers every operation can give besides its own, added where an operation does
/// not list them: (status, description, when it applies).
const COMMON: &[Common] = &[
    (
        "400",
        "Malformed request: a body that is not JSON, a query or path parameter of the wrong \
         type, a malformed Idempotency-Key",
        |_| true,
    ),
    (
        "401",
        "Missing, malformed, expired or revoked credentials",
        |op| op.secured,
    ),
    ("404", "No such resource (or not the caller's)", |op| {
        op.path_params
    }),
    (
        "409",
        "The Idempotency-Key is held by a request still running",
        |op| op.idempotent,
    ),
    ("413", "The body is larger than the server accepts", |op| {
        op.body
    }),
    ("415", "The body is not application/json", |op| op.body),
    (
        "422",
        "The request is well-formed but invalid; `errors` names each field",
        |op| op.body || op.query,
    ),
    ("503", "The database is unavailable; retry later", |_| true),
];

/// (status, description, whether the operation can give it).
type Common = (&'static str, &'static str, fn(&Op) -> bool);

/// What an operation takes, for deciding which [`COMMON`] answers it can give.
struct Op {
    secured: bool,
    path_params: bool,
    idempotent: bool,
    body: bool,
    query: bool,
}

/// The document as served: every error answer is `application/problem+json` with the
/// `Problem` schema (utoipa writes `application/json` for any body), every `/api`
/// operation lists the errors all operations share ([`COMMON`]), and a body whose schema
/// requires nothing is optional — so a client, or a contract tester such as
/// Schemathesis, can rely on the document for every status the server sends. JSON out
/// (utoipa cannot read back all the schemas it writes).
#[must_use]
pub fn finish(api: &utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut doc = serde_json::to_value(api).unwrap_or_default();
    complete(&mut doc);
    doc
}

fn complete(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let problem =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    // Bodies whose schema requires no field: `ApiJson` reads a bare request as `{}`.
    let optional_bodies: Vec<String> = doc["components"]["schemas"]
        .as_object()
        .map(|schemas| {
            schemas
                .iter()
                .filter(|(_, s)| s["required"].as_array().is_none_or(Vec::is_empty))
                .map(|(name, _)| format!("#/components/schemas/{name}"))
                .collect()
        })
        .unwrap_or_default();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let api = path.starts_with("/api/");
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let params: Vec<&Value> = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let param_in = |place: &str| params.iter().any(|p| p["in"] == place);
            let shape = Op {
                secured: op
                    .get("security")
                    .and_then(Value::as_array)
                    .is_some_and(|s| !s.is_empty()),
                path_params: param_in("path"),
                idempotent: params.iter().any(|p| p["name"] == "Idempotency-Key"),
                body: op.get("requestBody").is_some(),
                query: param_in("query"),
            };
            if let Some(body) = op.get_mut("requestBody")
                && let Some(reference) =
                    body["content"]["application/json"]["schema"]["$ref"].as_str()
                && optional_bodies.iter().any(|b| b == reference)
            {
                body["required"] = json!(false);
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for (code, response) in responses.iter_mut() {
                if code.as_str() >= "400"
                    && let Some(content) = response.get_mut("content")
                {
                    *content = problem.clone();
                }
            }
            if !api {
                continue;
            }
            for (code, description, applies) in COMMON {
                if applies(&shape) && !responses.contains_key(*code) {
                    responses.insert(
                        (*code).to_owned(),
                        json!({"description": description, "content": problem}),
                    );
                }
            }
        }
    }
}
