//! HTTP tests against the real app, spawned in-process on port 0 with a fresh database per
//! test: SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set, Redis when
//! `TEST_REDIS_URL` is set. One binary for the crate, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod backup;
mod backup_gen;
mod binary;
mod browser;
mod contract;
mod deploy;
mod encodings;
mod fake_s3;
mod faults;
mod finance;
mod fuzz;
mod games;
mod habits;
mod helpers;
mod housekeeping;
mod idempotency;
mod journal;
mod live;
mod ops;
mod plans;
mod security;
mod settings;
mod signup;
mod sport;
mod sync;
mod tls;
mod tokens;
mod travel;
mod views;
