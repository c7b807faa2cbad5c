//! The Ayubi API server: the only crate that knows actix.
//!
//! Owns configuration ([`config`]), start-up ([`startup`]), the HTTP contract's
//! cross-cutting parts (problem+json errors in [`error`], extractors, idempotency and
//! middleware in [`http`]), the routes of every context ([`routes`]), the live-sync
//! outlets ([`sync`]) and telemetry. Domain rules live in the domain crates, the live-sync
//! policy in `ayubi-sync`, credentials in `ayubi-credentials`, SQL in `ayubi-db`.

#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod error;
pub mod healthcheck;
pub mod http;
pub mod openapi;
pub mod ops_metrics;
pub mod routes;
pub mod startup;
pub mod state;
pub mod sync;
pub mod telemetry;
pub mod views;
