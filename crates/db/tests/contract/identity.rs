//! `IdentityStore` (`SqlIdentityStore`): one account per email, a refresh token is
//! exchanged once (a second use fails, the family can be revoked), personal access tokens
//! are found by digest and owned, deleting a user takes what they own.

use crate::harness::{TestDb, now};
use ayubi_db::{Representations, SqlIdentityStore};
use ayubi_identity::ports::IdentityStore;
use ayubi_identity::{
    Email, NewPersonalToken, NewSession, PasswordHash, SessionId, TokenDigest, TokenName,
};
use ayubi_kernel::StoreError;
use chrono::Duration;

fn session(refresh: &[u8]) -> NewSession {
    NewSession {
        id: SessionId(uuid::Uuid::new_v4()),
        refresh: TokenDigest(refresh.to_vec()),
        refresh_expires_at: now() + Duration::days(30),
        now: now(),
    }
}

fn hash() -> PasswordHash {
    PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into())
}

#[tokio::test]
async fn one_account_per_email_and_a_refresh_token_is_exchanged_once() {
    let t = TestDb::new(Representations::new()).await;
    let store = SqlIdentityStore::new(t.db.clone());
    let email = Email::parse("Ada@Example.com").unwrap();
    let first = session(b"r1");
    let user = store
        .create_user(&email, None, &hash(), &first, None)
        .await
        .unwrap();
    let err = store
        .create_user(
            &Email::parse("ada@example.com").unwrap(),
            None,
            &hash(),
            &session(b"r9"),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.count_users().await.unwrap(), 1);
    let (found, _) = store.find_by_email(&email).await.unwrap().unwrap();
    assert_eq!(found.id, user.id);
    assert!(store.session_active(user.id, first.id).await.unwrap());

    let r1 = TokenDigest(b"r1".to_vec());
    let r2 = TokenDigest(b"r2".to_vec());
    let later = now() + Duration::minutes(5);
    assert!(
        store
            .rotate_refresh(user.id, &r1, &r2, later + Duration::days(30), later)
            .await
            .unwrap()
    );
    // The old one again: not exchanged a second time.
    let r3 = TokenDigest(b"r3".to_vec());
    assert!(
        !store
            .rotate_refresh(user.id, &r1, &r3, later + Duration::days(30), later)
            .await
            .unwrap()
    );
    let record = store.find_refresh(&r1).await.unwrap().unwrap();
    assert!(record.used);
    store
        .revoke_session(user.id, first.id, later)
        .await
        .unwrap();
    assert!(!store.session_active(user.id, first.id).await.unwrap());
    assert!(store.find_refresh(&r2).await.unwrap().unwrap().revoked);
}

#[tokio::test]
async fn personal_tokens_are_found_by_digest_owned_and_go_with_their_user() {
    let t = TestDb::new(Representations::new()).await;
    let store = SqlIdentityStore::new(t.db.clone());
    let mk = |email: &str, r: &'static [u8]| {
        let store = &store;
        let email = Email::parse(email).unwrap();
        async move {
            store
                .create_user(&email, None, &hash(), &session(r), None)
                .await
                .unwrap()
        }
    };
    let (a, b) = (
        mk("a@example.com", b"ra").await,
        mk("b@example.com", b"rb").await,
    );
    let created = store
        .create_token(
            a.id,
            &NewPersonalToken {
                name: TokenName::parse("script").unwrap(),
                secret: "ayubi_pat_secret".into(),
                digest: TokenDigest(b"pat".to_vec()),
                now: now(),
                expires_at: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(created.secret, "ayubi_pat_secret", "returned, never stored");
    let record = store
        .find_token(&TokenDigest(b"pat".to_vec()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.user, a.id);
    assert_eq!(store.list_tokens(a.id, 100).await.unwrap().len(), 1);
    assert!(store.list_tokens(b.id, 100).await.unwrap().is_empty());
    let err = store
        .delete_token(b.id, created.token.id)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");

    store.delete_user(a.id).await.unwrap();
    assert!(
        store
            .find_token(&TokenDigest(b"pat".to_vec()))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_refresh(&TokenDigest(b"ra".to_vec()))
            .await
            .unwrap()
            .is_none()
    );
    let err = store.find_user(a.id).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    assert_eq!(store.count_users().await.unwrap(), 1);
}
