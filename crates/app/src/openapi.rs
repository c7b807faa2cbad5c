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
        "The request is well-formed but invalid; `errors` names each field (an \
         Idempotency-Key already used with another request, on this route or another, names \
         `Idempotency-Key`)",
        |op| op.body || op.query || op.idempotent,
    ),
    ("503", "The database is unavailable; retry later", |_| true),
    (
        "507",
        "The database is full: nothing was written (reads still work)",
        |op| op.writes,
    ),
];

/// Contains a character Rust's `str::trim` keeps (Unicode `White_Space` spelled out,
/// since regex engines disagree on `\s`): the schema of "not blank" for fields the domain
/// trims.
pub const NOT_BLANK: &str =
    "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

/// (status, description, whether the operation can give it).
type Common = (&'static str, &'static str, fn(&Op) -> bool);

/// What an operation takes, for deciding which [`COMMON`] answers it can give.
struct Op {
    writes: bool,
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

/// A unique, stable name for an operation: its method and path, e.g. `get_sport_water`,
/// `delete_habits_by_id_completions_by_date` (`/api/v1/` left out).
fn operation_id(method: &str, path: &str) -> String {
    let words: Vec<String> = path
        .trim_start_matches("/api/v1")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(param) => format!("by_{param}"),
                None => s.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            },
        )
        .collect();
    format!("{method}_{}", words.join("_"))
}

/// `additionalProperties: false` on every object schema that lists properties and says
/// nothing of others, at any depth (the variants of a tagged enum too).
/// Not the parts of an `allOf` (each would refuse the others' properties), nor a component
/// some `allOf` refers to.
fn closed_objects(schemas: &mut serde_json::Value) {
    use serde_json::Value;
    fn composed(v: &Value, refs: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(parts) = map.get("allOf").and_then(Value::as_array) {
                    refs.extend(
                        parts
                            .iter()
                            .filter_map(|p| p["$ref"].as_str())
                            .filter_map(|r| r.rsplit('/').next())
                            .map(str::to_owned),
                    );
                }
                map.values().for_each(|v| composed(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| composed(v, refs)),
            _ => {}
        }
    }
    fn close(v: &mut Value, this_one: bool) {
        match v {
            Value::Object(map) => {
                if this_one
                    && map.contains_key("properties")
                    && !map.contains_key("additionalProperties")
                {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                for (key, child) in map.iter_mut() {
                    match (key.as_str(), child) {
                        ("allOf", Value::Array(parts)) => {
                            parts.iter_mut().for_each(|p| close(p, false));
                        }
                        (_, child) => close(child, true),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| close(i, true)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    composed(schemas, &mut refs);
    if let Some(map) = schemas.as_object_mut() {
        for (name, schema) in map.iter_mut() {
            close(schema, !refs.contains(name));
        }
    }
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
    // Every request type refuses unknown fields (`deny_unknown_fields`); responses carry
    // only what their types declare. Say so wherever an object lists its properties.
    if let Some(schemas) = doc.get_mut("components").and_then(|c| c.get_mut("schemas")) {
        closed_objects(schemas);
    }
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
            // utoipa takes the handler's name (`list`, `create`), which many modules share;
            // generators (openapi-typescript, the TS client) need one name per operation.
            op["operationId"] = json!(operation_id(method, path));
            let params: Vec<&Value> = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let param_in = |place: &str| params.iter().any(|p| p["in"] == place);
            let shape = Op {
                writes: method != "get",
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
            if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                for p in params.iter_mut().filter(|p| p["name"] == "Idempotency-Key") {
                    p["schema"] = json!({"type": "string", "pattern": "^[!-~]{1,255}$"});
                }
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

/// Schemas of values whose valid set is a list the domain holds (time zones, currencies,
/// countries), for `#[schema(schema_with = …)]`: the document then lists exactly what is
/// accepted, and a client (or Schemathesis) need not guess.
pub mod values {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{Object, RefOr, Schema};

    fn one_of(description: &str, values: Vec<String>) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
            .enum_values(Some(values))
            .build()
    }

    /// An IANA time zone name.
    #[must_use]
    pub fn timezone() -> Object {
        one_of(
            "An IANA time zone name (Europe/Berlin)",
            ayubi_kernel::TimeZone::names().map(str::to_owned).collect(),
        )
    }

    /// An ISO 4217 currency code, upper case.
    #[must_use]
    pub fn currency() -> Object {
        one_of(
            "An ISO 4217 currency code (EUR)",
            ayubi_finance::Currency::codes()
                .map(str::to_owned)
                .collect(),
        )
    }

    /// An ISO 3166-1 alpha-3 country code, upper case (lower case is accepted too).
    #[must_use]
    pub fn country() -> Object {
        let mut codes: Vec<String> = ayubi_travel::catalog::all()
            .map(|c| c.iso3.clone())
            .collect();
        codes.sort();
        one_of("An ISO 3166-1 alpha-3 country code (JPN)", codes)
    }

    /// `schema` or null: for optional fields given a `schema_with`.
    #[must_use]
    pub fn nullable(schema: Object) -> RefOr<Schema> {
        utoipa::openapi::schema::OneOfBuilder::new()
            .item(schema)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    }

    /// Days of the week, at least one.
    #[must_use]
    pub fn weekdays() -> utoipa::openapi::Array {
        let day = one_of(
            "mon … sun",
            ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .map(str::to_owned)
                .to_vec(),
        );
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(day)
            .min_items(Some(1))
            .build()
    }

    /// A journal entry's tags: at most 20, each 1–50 characters and not blank.
    #[must_use]
    pub fn tags() -> RefOr<Schema> {
        let tag = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(50))
            .pattern(Some(super::NOT_BLANK));
        let tags = utoipa::openapi::schema::ArrayBuilder::new()
            .items(tag)
            .max_items(Some(20))
            .build();
        utoipa::openapi::schema::OneOfBuilder::new()
            .item(tags)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    }

    /// `PUT /settings`: the known keys with their values (each also `null`: back to the
    /// default), any other key matching `^[a-z][a-z0-9_.]{0,99}$` with any JSON value of
    /// at most 4096 bytes.
    #[must_use]
    pub fn settings_patch() -> RefOr<Schema> {
        let choice = |values: &[&str]| one_of("", values.iter().map(|v| (*v).to_owned()).collect());
        // Any tag in IANA's registry, which no pattern states.
        let language = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A BCP 47 language tag (en, pt-BR)"));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Each key set to its value; null deletes a free-form key and returns a known \
                 one to its default",
            ))
            .property("currency", nullable(currency()))
            .property("timezone", nullable(timezone()))
            .property("language", nullable(language.build()))
            .property("week_start", nullable(choice(&["monday", "sunday"])))
            .property("units", nullable(choice(&["metric", "imperial"])))
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[a-z][a-z0-9_.]{0,99}$")),
            ))
            .into()
    }

    /// An optional time zone.
    #[must_use]
    pub fn timezone_or_null() -> RefOr<Schema> {
        nullable(timezone())
    }

    /// An optional currency.
    #[must_use]
    pub fn currency_or_null() -> RefOr<Schema> {
        nullable(currency())
    }
}
