//! HTTP plumbing shared by every route: extractors, the idempotency mechanism,
//! middleware and the client-IP rate-limit key.

pub mod access_log;
pub mod allow;
pub mod auth;
pub mod client_ip;
pub mod conditional;
pub mod idempotency;
pub mod json;
pub mod limits;
pub mod middleware;
pub mod query;
pub mod view;

pub use auth::AuthUser;
pub use idempotency::{CreateRequest, Idempotency, IdempotencyKey};
pub use json::ApiJson;
pub use query::{DateQuery, ListParams, parse_limit};
pub use view::rest;
