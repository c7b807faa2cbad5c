//! Driven ports of settings.

use crate::model::*;
use ayubi_kernel::{StoreError, UserId, Write};

/// Storage of settings (`user_settings`) and the profile (on the user's row).
#[async_trait::async_trait]
pub trait SettingsStore: Send + Sync + std::fmt::Debug {
    /// The stored settings and time zone.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the user is gone; [`StoreError::Unavailable`].
    async fn settings(&self, user: UserId) -> Result<Settings, StoreError>;

    /// Applies every change in one transaction and records `write.event` with the
    /// resulting settings.
    ///
    /// # Errors
    /// MUST return [`StoreError::Conflict`] and write nothing when the user would then
    /// have more than `max_keys` stored keys; [`StoreError::Unavailable`].
    async fn apply(
        &self,
        user: UserId,
        changes: &[SettingChange],
        max_keys: usize,
        write: Write,
    ) -> Result<Settings, StoreError>;

    /// The profile.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the user is gone; [`StoreError::Unavailable`].
    async fn profile(&self, user: UserId) -> Result<Profile, StoreError>;

    /// Applies a profile patch and records `write.event` with the resulting profile.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Unavailable`].
    async fn update_profile(
        &self,
        user: UserId,
        patch: &ProfilePatch,
        write: Write,
    ) -> Result<Profile, StoreError>;
}
