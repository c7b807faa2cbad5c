//! Routes, one module per context. Each exposes `config`, registering its handlers
//! through utoipa-actix-web so the OpenAPI document lists exactly the routes served.

pub mod auth;
pub mod backup;
pub mod finance;
pub mod games;
pub mod habits;
pub mod journal;
pub mod ops;
pub mod settings;
pub mod sport;
pub mod sync;
pub mod travel;
