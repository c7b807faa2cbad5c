//! The transports of live sync: [`socket`] (WebSocket) and [`sse`] (Server-Sent Events),
//! and the metrics `ayubi_sync` reports through. Everything else — the feed, the hub, the
//! fan-out, the connection policy — is `ayubi_sync`'s. The routes are in
//! [`crate::routes::sync`].

pub mod metrics;
pub mod socket;
pub mod sse;

pub use metrics::SyncMetrics;

use ayubi_identity::{IdentityError, IdentityService};
use ayubi_kernel::UserId;
use ayubi_sync::{Checked, CredentialCheck, Fanout};
use std::sync::Arc;

/// Identity's authentication as live sync's credential check.
#[derive(Debug, Clone)]
pub struct IdentityCheck(pub IdentityService);

#[async_trait::async_trait]
impl CredentialCheck for IdentityCheck {
    async fn check(&self, token: &str) -> Checked {
        match self.0.authenticate(token).await {
            Ok(_) => Checked::Valid,
            Err(IdentityError::Unauthenticated) => Checked::Revoked,
            Err(e) => Checked::Unknown(e.to_string()),
        }
    }
}

/// Identity's revocations, announced by the fan-out (to listeners, other instances and
/// the user's connections).
#[derive(Debug, Clone)]
pub struct Announce(pub Arc<Fanout>);

impl ayubi_identity::ports::Revocations for Announce {
    fn revoked(&self, user: UserId) {
        self.0.revoked(user);
    }
}
