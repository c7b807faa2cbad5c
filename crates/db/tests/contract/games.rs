//! `StatsCache` (`SqlGameStatsCache`): one fetch lease at a time across callers, saving
//! releases it and keeps every field, a waiter gets the saved copy, per user and platform.

use crate::harness::{TestDb, now};
use ayubi_db::{Representations, SqlGameStatsCache};
use ayubi_games::ports::StatsCache;
use ayubi_games::{Cached, Platform};
use chrono::Duration;
use serde_json::json;

#[tokio::test]
async fn one_lease_at_a_time_and_saving_releases_it_with_every_field() {
    let t = TestDb::new(Representations::new()).await;
    let cache = SqlGameStatsCache::new(t.db.clone());
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    let until = now() + Duration::seconds(30);
    let (one, two, three) = tokio::join!(
        cache.claim(a, Platform::Steam, "7656", now(), until),
        cache.claim(a, Platform::Steam, "7656", now(), until),
        cache.claim(a, Platform::Steam, "7656", now(), until),
    );
    let won = [one.unwrap(), two.unwrap(), three.unwrap()];
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    // Other users and platforms have leases of their own.
    assert!(
        cache
            .claim(b, Platform::Steam, "1", now(), until)
            .await
            .unwrap()
    );
    assert!(
        cache
            .claim(a, Platform::Faceit, "ada", now(), until)
            .await
            .unwrap()
    );

    let copy = Cached {
        account: "7656".into(),
        raw: Some(json!({"games": 3})),
        complete: true,
        updated_at: Some(now()),
        retry_at: Some(now() + Duration::minutes(5)),
        last_error: Some("unavailable".into()),
    };
    cache.save(a, Platform::Steam, &copy).await.unwrap();
    let got = cache
        .wait(a, Platform::Steam, std::time::Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, copy);
    assert_eq!(cache.get(a, Platform::Steam).await.unwrap(), Some(copy));
    assert!(cache.get(b, Platform::Faceit).await.unwrap().is_none());
    // Released: the next caller may fetch.
    assert!(
        cache
            .claim(a, Platform::Steam, "7656", now(), until)
            .await
            .unwrap()
    );
    // A lease older than now is over.
    let later = until + Duration::seconds(1);
    assert!(
        cache
            .claim(
                a,
                Platform::Steam,
                "7656",
                later,
                later + Duration::seconds(30)
            )
            .await
            .unwrap()
    );
}
