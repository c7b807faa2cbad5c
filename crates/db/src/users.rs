//! Accounts without identity: what a service that links a context but not `ayubi-identity`
//! needs to own rows (every user-owned table references `users`).

use crate::entity::user;
use crate::error::store_err;
use crate::pool::Database;
use ayubi_kernel::{StoreError, TimeZone, UserId};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait};

/// A password hash no password matches (it is not a PHC string), so an account made
/// here cannot log in to the app until a password is set through identity.
const NO_PASSWORD: &str = "!";

/// Creates accounts with no password.
#[derive(Debug, Clone)]
pub struct SqlAccounts {
    db: Database,
}

impl SqlAccounts {
    /// Over `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// A new account for `email` in `zone` ("today" for its logs), created at `now`.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the email is taken; [`StoreError::Unavailable`].
    pub async fn create(
        &self,
        email: &str,
        zone: TimeZone,
        now: DateTime<Utc>,
    ) -> Result<UserId, StoreError> {
        let row = user::Entity::insert(user::ActiveModel {
            email: Set(email.to_owned()),
            password_hash: Set(NO_PASSWORD.to_owned()),
            timezone: Set(zone.name().to_owned()),
            last_seq: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(self.db.conn())
        .await
        .map_err(store_err)?;
        Ok(UserId::new(row.last_insert_id))
    }
}
