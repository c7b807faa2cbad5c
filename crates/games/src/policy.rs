//! The cache policy: when to serve the copy, when to ask the platform, and what an answer
//! may replace.

use crate::Platform;
use crate::model::{Cached, PlatformError};
use crate::present::present;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

/// The TTL and the back-off after trouble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// How long a copy is served without asking the platform (15 minutes by default).
    pub ttl: TimeDelta,
    /// How long after trouble nobody asks again (unless the platform's `Retry-After` says
    /// longer).
    pub backoff: TimeDelta,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            ttl: TimeDelta::minutes(15),
            backoff: TimeDelta::minutes(1),
        }
    }
}

/// What to do with a request, given the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Answer from the copy.
    Serve {
        /// Whether the copy is older than the TTL.
        stale: bool,
    },
    /// Ask the platform.
    Fetch,
    /// No copy to serve, and the platform must not be asked before `retry_at`.
    Wait {
        /// When asking is allowed again.
        retry_at: DateTime<Utc>,
    },
}

/// What an upstream answer leads to.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// The row to store (the lease released with it).
    pub save: Cached,
    /// How to answer: from `save` (`Ok(stale)`), or the platform's trouble when there is
    /// nothing to serve.
    pub answer: Result<bool, PlatformError>,
}

impl CachePolicy {
    /// Decides from the copy for the linked account (`None`: no copy, or one for an account
    /// no longer linked).
    #[must_use]
    pub fn decide(&self, cached: Option<&Cached>, now: DateTime<Utc>) -> Decision {
        let Some(c) = cached else {
            return Decision::Fetch;
        };
        let has_data = c.raw.is_some();
        if has_data && c.updated_at.is_some_and(|t| now < t + self.ttl) {
            return Decision::Serve { stale: false };
        }
        match c.retry_at {
            Some(retry_at) if now < retry_at => {
                if has_data {
                    Decision::Serve { stale: true }
                } else {
                    Decision::Wait { retry_at }
                }
            }
            _ => Decision::Fetch,
        }
    }

    /// What the platform's answer (its raw bundle, or why there is none) does to the copy.
    ///
    /// A complete answer always replaces the copy. An empty or private answer is stored
    /// only when no complete copy exists; over a complete one it is discarded, the complete
    /// copy served stale, and the platform left alone for a TTL. Trouble (including an
    /// answer that does not read) stores nothing but a `retry_at`, and the copy, if any,
    /// is served stale.
    #[must_use]
    pub fn settle(
        &self,
        platform: Platform,
        account: &str,
        cached: Option<Cached>,
        fetched: Result<Value, PlatformError>,
        now: DateTime<Utc>,
    ) -> Settled {
        let read = fetched.and_then(|raw| match present(platform, &raw) {
            Ok(r) => Ok((raw, r.complete)),
            Err(e) => Err(PlatformError::Unavailable {
                reason: e.to_string(),
                retry_after: None,
            }),
        });
        let have_complete = cached
            .as_ref()
            .is_some_and(|c| c.complete && c.raw.is_some());
        let kept = cached.unwrap_or_else(|| Cached {
            account: account.to_owned(),
            raw: None,
            complete: false,
            updated_at: None,
            retry_at: None,
            last_error: None,
        });
        match read {
            Ok((raw, complete)) if complete || !have_complete => Settled {
                save: Cached {
                    account: account.to_owned(),
                    raw: Some(raw),
                    complete,
                    updated_at: Some(now),
                    retry_at: None,
                    last_error: None,
                },
                answer: Ok(false),
            },
            Ok(_) => Settled {
                save: Cached {
                    retry_at: Some(now + self.ttl),
                    ..kept
                },
                answer: Ok(true),
            },
            Err(e) => {
                let wait = match &e {
                    PlatformError::Unavailable {
                        retry_after: Some(d),
                        ..
                    } => TimeDelta::from_std(*d)
                        .unwrap_or(self.backoff)
                        .max(self.backoff),
                    _ => self.backoff,
                };
                let last_error = Some(e.label().to_owned());
                let answer = if kept.raw.is_some() { Ok(true) } else { Err(e) };
                Settled {
                    save: Cached {
                        retry_at: Some(now + wait),
                        last_error,
                        ..kept
                    },
                    answer,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::steam_raw;
    use serde_json::json;
    use std::time::Duration;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::minutes(min)
    }

    fn raw(visibility: u8, owned: Value) -> Value {
        steam_raw(
            json!({"response": {"players": [{"steamid": "1", "personaname": "a", "communityvisibilitystate": visibility}]}}),
            owned,
        )
    }

    fn good() -> Value {
        raw(3, json!({"response": {"game_count": 0, "games": []}}))
    }

    fn copy(complete: bool, at: i64) -> Cached {
        Cached {
            account: "1".into(),
            raw: Some(if complete {
                good()
            } else {
                raw(1, json!({"response": {}}))
            }),
            complete,
            updated_at: Some(t(at)),
            retry_at: None,
            last_error: None,
        }
    }

    fn down(retry_after: Option<u64>) -> PlatformError {
        PlatformError::Unavailable {
            reason: "502".into(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn a_copy_is_served_for_the_ttl_then_refetched() {
        let p = CachePolicy::default();
        assert_eq!(p.decide(None, t(0)), Decision::Fetch);
        assert_eq!(
            p.decide(Some(&copy(true, 0)), t(14)),
            Decision::Serve { stale: false }
        );
        assert_eq!(p.decide(Some(&copy(true, 0)), t(15)), Decision::Fetch);
    }

    #[test]
    fn trouble_keeps_the_copy_and_backs_off() {
        let p = CachePolicy::default();
        let s = p.settle(
            Platform::Steam,
            "1",
            Some(copy(true, 0)),
            Err(down(None)),
            t(20),
        );
        assert_eq!(s.answer, Ok(true));
        assert_eq!(
            (s.save.raw.clone(), s.save.updated_at),
            (Some(good()), Some(t(0)))
        );
        assert_eq!(s.save.retry_at, Some(t(21)));
        assert_eq!(
            p.decide(Some(&s.save), t(20)),
            Decision::Serve { stale: true }
        );
        assert_eq!(p.decide(Some(&s.save), t(21)), Decision::Fetch);
        // Retry-After longer than the back-off wins; shorter does not.
        let long = p.settle(Platform::Steam, "1", None, Err(down(Some(600))), t(0));
        assert_eq!(
            (long.answer.is_err(), long.save.retry_at),
            (true, Some(t(10)))
        );
        assert_eq!(
            p.decide(Some(&long.save), t(5)),
            Decision::Wait { retry_at: t(10) }
        );
        let short = p.settle(Platform::Steam, "1", None, Err(down(Some(1))), t(0));
        assert_eq!(short.save.retry_at, Some(t(1)));
    }

    #[test]
    fn a_private_or_unreadable_answer_never_replaces_a_complete_copy() {
        let p = CachePolicy::default();
        let private = raw(1, json!({"response": {}}));
        let s = p.settle(
            Platform::Steam,
            "1",
            Some(copy(true, 0)),
            Ok(private.clone()),
            t(20),
        );
        assert_eq!(
            (s.answer, s.save.raw, s.save.retry_at),
            (Ok(true), Some(good()), Some(t(35)))
        );
        let s = p.settle(
            Platform::Steam,
            "1",
            Some(copy(true, 0)),
            Ok(json!("<html>")),
            t(20),
        );
        assert_eq!((s.answer, s.save.raw), (Ok(true), Some(good())));
        // With no complete copy, the private answer is the truth and is stored fresh.
        let s = p.settle(
            Platform::Steam,
            "1",
            Some(copy(false, 0)),
            Ok(private.clone()),
            t(20),
        );
        assert_eq!(
            (s.answer, s.save.raw, s.save.complete),
            (Ok(false), Some(private), false)
        );
        // A complete answer replaces anything.
        let s = p.settle(
            Platform::Steam,
            "1",
            Some(copy(false, 0)),
            Ok(good()),
            t(20),
        );
        assert_eq!(
            (s.answer, s.save.complete, s.save.updated_at),
            (Ok(false), true, Some(t(20)))
        );
    }

    #[test]
    fn an_unknown_account_without_a_copy_is_reported() {
        let p = CachePolicy::default();
        let s = p.settle(
            Platform::Steam,
            "1",
            None,
            Err(PlatformError::NotFound),
            t(0),
        );
        assert_eq!(s.answer, Err(PlatformError::NotFound));
        assert_eq!((s.save.raw, s.save.retry_at), (None, Some(t(1))));
        assert_eq!(
            s.save.last_error.as_deref(),
            Some("not_found"),
            "remembered while backing off"
        );
    }
}
