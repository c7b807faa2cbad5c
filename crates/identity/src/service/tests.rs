//! The service's rules over the in-memory fakes: sign-up modes, refresh rotation and
//! reuse, revocation on a password change.

use super::*;
use crate::testing::{ClaimTokens, CountedSecrets, MemoryIdentityStore, PlainHasher};
use crate::{InviteLifetime, InviteNote, Registration, SignUpRefused};
use ayubi_kernel::ManualClock;

fn service(registration: Registration) -> (IdentityService, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new("2026-12-07T12:00:00Z".parse().unwrap()));
    let s = IdentityService::new(
        Arc::new(MemoryIdentityStore::new()),
        Arc::new(PlainHasher),
        Arc::new(ClaimTokens {
            ttl: Duration::minutes(15),
        }),
        Arc::new(CountedSecrets::default()),
        clock.clone(),
        IdentityConfig {
            registration,
            ..IdentityConfig::default()
        },
    );
    (s, clock)
}

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn an_invite_signs_up_exactly_one_person() {
    let (s, _) = service(Registration::Invite);
    let none = s
        .register("ada@example.com", PASSWORD.into(), None, None)
        .await;
    assert!(matches!(
        none,
        Err(IdentityError::SignUpRefused(SignUpRefused::InviteRequired))
    ));
    let invite = s
        .create_invite(
            None,
            InviteLifetime::days(Some(7)).unwrap(),
            InviteNote::parse(None).unwrap(),
        )
        .await
        .unwrap();
    let (ada, _) = s
        .register("ada@example.com", PASSWORD.into(), None, Some(&invite.code))
        .await
        .unwrap();
    assert_eq!(ada.email.as_str(), "ada@example.com");
    let again = s
        .register("bob@example.com", PASSWORD.into(), None, Some(&invite.code))
        .await;
    assert!(
        matches!(again, Err(IdentityError::SignUpRefused(_))),
        "{again:?}"
    );
    let (closed, _) = service(Registration::Closed);
    let refused = closed
        .register("ada@example.com", PASSWORD.into(), None, None)
        .await;
    assert!(matches!(
        refused,
        Err(IdentityError::SignUpRefused(SignUpRefused::Closed))
    ));
}

#[tokio::test]
async fn a_refresh_token_works_once_and_its_reuse_ends_the_session() {
    let (s, _) = service(Registration::Open);
    let (_, first) = s
        .register("ada@example.com", PASSWORD.into(), None, None)
        .await
        .unwrap();
    assert!(s.authenticate(&first.access_token).await.is_ok());
    let second = s.refresh(&first.refresh_token).await.unwrap();
    // The old one again: someone copied it. Both it and the new one stop working.
    let reuse = s.refresh(&first.refresh_token).await;
    assert!(
        matches!(reuse, Err(IdentityError::Unauthenticated)),
        "{reuse:?}"
    );
    let after = s.refresh(&second.refresh_token).await;
    assert!(
        matches!(after, Err(IdentityError::Unauthenticated)),
        "{after:?}"
    );
    let access = s.authenticate(&second.access_token).await;
    assert!(
        matches!(access, Err(IdentityError::Unauthenticated)),
        "{access:?}"
    );
}

#[tokio::test]
async fn a_new_password_ends_every_other_session_and_token() {
    let (s, clock) = service(Registration::Open);
    let (ada, phone) = s
        .register("ada@example.com", PASSWORD.into(), None, None)
        .await
        .unwrap();
    let pat = s.create_token(ada.id, "script", None).await.unwrap();
    assert!(s.authenticate(&pat.secret).await.is_ok());
    clock.set(clock.now() + Duration::minutes(1));
    let (_, laptop) = s
        .change_password(ada.id, PASSWORD.into(), "another long password".into())
        .await
        .unwrap();
    for old in [&phone.access_token, &pat.secret] {
        let r = s.authenticate(old).await;
        assert!(matches!(r, Err(IdentityError::Unauthenticated)), "{r:?}");
    }
    assert!(s.authenticate(&laptop.access_token).await.is_ok());
    let wrong = s.login("ada@example.com", PASSWORD.into()).await;
    assert!(
        matches!(wrong, Err(IdentityError::InvalidCredentials)),
        "{wrong:?}"
    );
    assert!(
        s.login("ADA@example.com", "another long password".into())
            .await
            .is_ok()
    );
}
