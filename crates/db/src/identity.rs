//! [`IdentityStore`] over SQL.

use crate::changelog::delete_owned;
use crate::entity::{invite, personal_access_token as pat, refresh_token as rt, session, user};
use crate::error::store_err;
use crate::idempotency::save_in;
use crate::pool::Database;
use ayubi_identity::ports::IdentityStore;
use ayubi_identity::*;
use ayubi_kernel::{StoreError, UserId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// Users, sessions and tokens in SQL.
#[derive(Debug, Clone)]
pub struct SqlIdentityStore {
    db: Database,
}

impl SqlIdentityStore {
    /// Wraps the pool.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn to_user(m: user::Model) -> (User, PasswordHash) {
    (
        User {
            id: UserId::new(m.id),
            email: Email::from_trusted(m.email),
            display_name: m.display_name.map(DisplayName::from_trusted),
            created_at: m.created_at,
        },
        PasswordHash::new(m.password_hash),
    )
}

fn to_invite(m: invite::Model) -> Invite {
    Invite {
        id: m.id,
        created_by: m.created_by.map(UserId::new),
        note: InviteNote::from_trusted(m.note),
        created_at: m.created_at,
        expires_at: m.expires_at,
        used_at: m.used_at,
    }
}

fn to_token(m: pat::Model) -> PersonalToken {
    PersonalToken {
        id: m.id,
        user: UserId::new(m.user_id),
        name: TokenName::from_trusted(m.name),
        created_at: m.created_at,
        expires_at: m.expires_at,
        last_used_at: m.last_used_at,
    }
}

async fn insert_session<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    s: &NewSession,
) -> Result<(), sea_orm::DbErr> {
    session::Entity::insert(session::ActiveModel {
        id: Set(s.id.0),
        user_id: Set(user.get()),
        created_at: Set(s.now),
        revoked_at: Set(None),
    })
    .exec_without_returning(c)
    .await?;
    insert_refresh(c, user, s.id, &s.refresh, s.refresh_expires_at, s.now).await
}

async fn insert_refresh<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    sid: SessionId,
    digest: &TokenDigest,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    rt::Entity::insert(rt::ActiveModel {
        session_id: Set(sid.0),
        user_id: Set(user.get()),
        digest: Set(digest.0.clone()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl IdentityStore for SqlIdentityStore {
    async fn create_user(
        &self,
        email: &Email,
        display_name: Option<&DisplayName>,
        hash: &PasswordHash,
        s: &NewSession,
        invite_digest: Option<&TokenDigest>,
    ) -> Result<User, StoreError> {
        self.db
            .transact(async |txn| {
                // The invite first: a refused code answers the same whether or not the email is
                // taken, so the sign-up form does not tell strangers who has an account.
                let claimed = match invite_digest {
                    None => None,
                    Some(digest) => {
                        let found = invite::Entity::find()
                            .filter(invite::Column::Digest.eq(digest.0.clone()))
                            .one(txn)
                            .await
                            .map_err(store_err)?
                            .ok_or(StoreError::NotFound)?;
                        // The guard makes the claim atomic: of two sign-ups racing for one code,
                        // one updates the row and the other (after the first commits) none.
                        let res = invite::Entity::update_many()
                            .col_expr(invite::Column::UsedAt, Expr::value(s.now))
                            .filter(invite::Column::Id.eq(found.id))
                            .filter(invite::Column::UsedAt.is_null())
                            .filter(invite::Column::ExpiresAt.gt(s.now))
                            .exec(txn)
                            .await
                            .map_err(store_err)?;
                        if res.rows_affected != 1 {
                            return Err(StoreError::NotFound);
                        }
                        Some(found.id)
                    }
                };
                let created = user::Entity::insert(user::ActiveModel {
                    email: Set(email.as_str().to_owned()),
                    password_hash: Set(hash.as_str().to_owned()),
                    display_name: Set(display_name.map(|d| d.as_str().to_owned())),
                    created_at: Set(s.now),
                    updated_at: Set(s.now),
                    ..Default::default()
                })
                .exec_with_returning(txn)
                .await
                .map_err(store_err)?;
                let (user, _) = to_user(created);
                if let Some(id) = claimed {
                    invite::Entity::update_many()
                        .col_expr(invite::Column::UsedBy, Expr::value(user.id.get()))
                        .filter(invite::Column::Id.eq(id))
                        .exec(txn)
                        .await
                        .map_err(store_err)?;
                }
                insert_session(txn, user.id, s).await.map_err(store_err)?;
                Ok(user)
            })
            .await
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        user::Entity::find()
            .count(self.db.conn())
            .await
            .map_err(store_err)
    }

    async fn create_invite(
        &self,
        maker: Option<UserId>,
        new: &NewInvite,
    ) -> Result<CreatedInvite, StoreError> {
        self.db
            .transact(async |txn| {
                let created = invite::Entity::insert(invite::ActiveModel {
                    digest: Set(new.digest.0.clone()),
                    note: Set(new.note.as_deref().map(str::to_owned)),
                    created_by: Set(maker.map(UserId::get)),
                    created_at: Set(new.now),
                    expires_at: Set(new.expires_at),
                    used_at: Set(None),
                    used_by: Set(None),
                    ..Default::default()
                })
                .exec_with_returning(txn)
                .await
                .map_err(store_err)?;
                let created = CreatedInvite {
                    invite: to_invite(created),
                    code: new.code.clone(),
                };
                save_in(txn, &created).await?;
                Ok(created)
            })
            .await
    }

    async fn list_invites(
        &self,
        maker: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<Invite>, StoreError> {
        let mut query = invite::Entity::find();
        if let Some(maker) = maker {
            query = query.filter(invite::Column::CreatedBy.eq(maker.get()));
        }
        Ok(query
            .order_by_desc(invite::Column::Id)
            .limit(u64::from(limit))
            .all(self.db.conn())
            .await
            .map_err(store_err)?
            .into_iter()
            .map(to_invite)
            .collect())
    }

    async fn revoke_invite(&self, maker: Option<UserId>, id: i64) -> Result<(), StoreError> {
        let mine = |q: sea_orm::DeleteMany<invite::Entity>| match maker {
            Some(m) => q.filter(invite::Column::CreatedBy.eq(m.get())),
            None => q,
        };
        let deleted = mine(invite::Entity::delete_many())
            .filter(invite::Column::Id.eq(id))
            .filter(invite::Column::UsedAt.is_null())
            .exec(self.db.conn())
            .await
            .map_err(store_err)?;
        if deleted.rows_affected == 1 {
            return Ok(());
        }
        // Nothing deleted: used (kept, 409) or not this maker's (404, like any other id).
        let mut query = invite::Entity::find_by_id(id);
        if let Some(m) = maker {
            query = query.filter(invite::Column::CreatedBy.eq(m.get()));
        }
        match query.one(self.db.conn()).await.map_err(store_err)? {
            Some(_) => Err(StoreError::Conflict("invite already used".into())),
            None => Err(StoreError::NotFound),
        }
    }

    async fn find_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<(User, PasswordHash)>, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(self.db.conn())
            .await
            .map_err(store_err)?
            .map(to_user))
    }

    async fn find_user(&self, id: UserId) -> Result<(User, PasswordHash), StoreError> {
        user::Entity::find_by_id(id.get())
            .one(self.db.conn())
            .await
            .map_err(store_err)?
            .map(to_user)
            .ok_or(StoreError::NotFound)
    }

    async fn create_session(&self, user: UserId, s: &NewSession) -> Result<(), StoreError> {
        self.db
            .transact(async |txn| {
                insert_session(txn, user, s).await.map_err(store_err)?;
                Ok(())
            })
            .await
    }

    async fn session_active(&self, user: UserId, sid: SessionId) -> Result<bool, StoreError> {
        let n = active_session(user, sid.0)
            .count(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(n == 1)
    }

    async fn find_refresh(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        let found = rt::Entity::find()
            .filter(rt::Column::Digest.eq(digest.0.clone()))
            .find_also_related(session::Entity)
            .one(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(found.map(|(t, s)| RefreshRecord {
            user: UserId::new(t.user_id),
            session: SessionId(t.session_id),
            used: t.used_at.is_some(),
            revoked: s.is_none_or(|s| s.revoked_at.is_some()),
            expires_at: t.expires_at,
        }))
    }

    async fn rotate_refresh(
        &self,
        user: UserId,
        old: &TokenDigest,
        new: &TokenDigest,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.db
            .transact(async |txn| {
                let Some(current) = rt::Entity::find()
                    .filter(rt::Column::Digest.eq(old.0.clone()))
                    .filter(rt::Column::UserId.eq(user.get()))
                    .one(txn)
                    .await
                    .map_err(store_err)?
                else {
                    return Ok(false);
                };
                // The `used_at IS NULL` guard makes the claim atomic: of two concurrent
                // exchanges, one updates a row and the other updates none.
                let claimed = rt::Entity::update_many()
                    .col_expr(rt::Column::UsedAt, Expr::value(now))
                    .filter(rt::Column::Id.eq(current.id))
                    .filter(rt::Column::UsedAt.is_null())
                    .exec(txn)
                    .await
                    .map_err(store_err)?;
                if claimed.rows_affected != 1 {
                    return Ok(false);
                }
                insert_refresh(
                    txn,
                    user,
                    SessionId(current.session_id),
                    new,
                    new_expires_at,
                    now,
                )
                .await
                .map_err(store_err)?;
                Ok(true)
            })
            .await
    }

    async fn revoke_session(
        &self,
        user: UserId,
        sid: SessionId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(now))
            .filter(session::Column::Id.eq(sid.0))
            .filter(session::Column::UserId.eq(user.get()))
            .filter(session::Column::RevokedAt.is_null())
            .exec(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn change_password(
        &self,
        user: UserId,
        hash: &PasswordHash,
        s: &NewSession,
    ) -> Result<(), StoreError> {
        self.db
            .transact(async |txn| {
                let updated = user::Entity::update_many()
                    .col_expr(user::Column::PasswordHash, Expr::value(hash.as_str()))
                    .col_expr(user::Column::UpdatedAt, Expr::value(s.now))
                    .filter(user::Column::Id.eq(user.get()))
                    .exec(txn)
                    .await
                    .map_err(store_err)?;
                if updated.rows_affected != 1 {
                    return Err(StoreError::NotFound);
                }
                session::Entity::update_many()
                    .col_expr(session::Column::RevokedAt, Expr::value(s.now))
                    .filter(session::Column::UserId.eq(user.get()))
                    .filter(session::Column::RevokedAt.is_null())
                    .exec(txn)
                    .await
                    .map_err(store_err)?;
                pat::Entity::delete_many()
                    .filter(pat::Column::UserId.eq(user.get()))
                    .exec(txn)
                    .await
                    .map_err(store_err)?;
                insert_session(txn, user, s).await.map_err(store_err)?;
                Ok(())
            })
            .await
    }

    async fn delete_user(&self, user: UserId) -> Result<(), StoreError> {
        let res = user::Entity::delete_by_id(user.get())
            .exec(self.db.conn())
            .await
            .map_err(store_err)?;
        if res.rows_affected == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn create_token(
        &self,
        user: UserId,
        t: &NewPersonalToken,
    ) -> Result<CreatedToken, StoreError> {
        self.db
            .transact(async |txn| {
                let created = pat::Entity::insert(pat::ActiveModel {
                    user_id: Set(user.get()),
                    name: Set(t.name.as_str().to_owned()),
                    digest: Set(t.digest.0.clone()),
                    created_at: Set(t.now),
                    expires_at: Set(t.expires_at),
                    last_used_at: Set(None),
                    ..Default::default()
                })
                .exec_with_returning(txn)
                .await
                .map_err(store_err)?;
                let token = CreatedToken {
                    token: to_token(created),
                    secret: t.secret.clone(),
                };
                save_in(txn, &token).await?;
                Ok(token)
            })
            .await
    }

    async fn list_tokens(
        &self,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<PersonalToken>, StoreError> {
        Ok(pat::Entity::find()
            .filter(pat::Column::UserId.eq(user.get()))
            .order_by_desc(pat::Column::Id)
            .limit(u64::from(limit))
            .all(self.db.conn())
            .await
            .map_err(store_err)?
            .into_iter()
            .map(to_token)
            .collect())
    }

    async fn delete_token(&self, user: UserId, id: i64) -> Result<(), StoreError> {
        let cols = (pat::Column::Id, pat::Column::UserId);
        match delete_owned::<pat::Entity, _>(self.db.conn(), cols, id, user).await {
            Ok(1) => Ok(()),
            Ok(_) => Err(StoreError::NotFound),
            Err(e) => Err(store_err(e)),
        }
    }

    async fn find_token(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<PersonalTokenRecord>, StoreError> {
        Ok(pat::Entity::find()
            .filter(pat::Column::Digest.eq(digest.0.clone()))
            .one(self.db.conn())
            .await
            .map_err(store_err)?
            .map(|m| PersonalTokenRecord {
                id: m.id,
                user: UserId::new(m.user_id),
                expires_at: m.expires_at,
                last_used_at: m.last_used_at,
            }))
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.db
            .transact(async |txn| {
                let tokens = rt::Entity::delete_many()
                    .filter(rt::Column::ExpiresAt.lt(now))
                    .exec(txn)
                    .await
                    .map_err(store_err)?;
                let sessions = session::Entity::delete_many()
                    .filter(
                        session::Column::Id.not_in_subquery(
                            Query::select()
                                .column(rt::Column::SessionId)
                                .from(rt::Entity)
                                .to_owned(),
                        ),
                    )
                    .exec(txn)
                    .await
                    .map_err(store_err)?;
                Ok(tokens.rows_affected + sessions.rows_affected)
            })
            .await
    }

    async fn touch_token(
        &self,
        user: UserId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        pat::Entity::update_many()
            .col_expr(pat::Column::LastUsedAt, Expr::value(now))
            .filter(pat::Column::Id.eq(id))
            .filter(pat::Column::UserId.eq(user.get()))
            .exec(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(())
    }
}

/// The check every request with an access token makes (by primary key).
pub(crate) fn active_session(user: UserId, sid: uuid::Uuid) -> sea_orm::Select<session::Entity> {
    session::Entity::find_by_id(sid)
        .filter(session::Column::UserId.eq(user.get()))
        .filter(session::Column::RevokedAt.is_null())
}
