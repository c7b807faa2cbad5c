//! The hint other instances receive over the bus: a committed change (with its message
//! when small) or a revocation, tagged with the sending instance so it can skip its own.
//! Wire form: `c <instance> <user> <seq>\n<message or nothing>` or `r <instance> <user>`.

use ayubi_kernel::UserId;
use std::sync::Arc;

/// The bus channel the hints of deployment `id` travel on: namespaced, because
/// deployments sharing a bus must not wake each other's sockets (user ids repeat).
#[must_use]
pub fn channel(deployment: &str) -> String {
    format!("ayubi:sync:{deployment}")
}

/// A message on the bus.
#[derive(Debug, Clone, PartialEq)]
pub enum Hint {
    /// A change committed on another instance.
    Change {
        /// Whose.
        user: UserId,
        /// Its `seq`.
        seq: i64,
        /// The change message; `None` when too large to carry (read it from the log).
        text: Option<Arc<str>>,
    },
    /// Credentials of `user` were revoked.
    Revoked {
        /// Whose.
        user: UserId,
    },
}

impl Hint {
    /// The wire form, sent by `instance`.
    #[must_use]
    pub fn encode(&self, instance: &str) -> Vec<u8> {
        match self {
            Self::Change { user, seq, text } => {
                let body = text.as_deref().unwrap_or_default();
                format!("c {instance} {user} {seq}\n{body}").into_bytes()
            }
            Self::Revoked { user } => format!("r {instance} {user}").into_bytes(),
        }
    }

    /// The sending instance and the hint; `None` for anything malformed.
    #[must_use]
    pub fn decode(payload: &[u8]) -> Option<(String, Self)> {
        let text = std::str::from_utf8(payload).ok()?;
        let (head, body) = text.split_once('\n').unwrap_or((text, ""));
        let mut parts = head.split(' ');
        let kind = parts.next()?;
        let instance = parts.next()?.to_owned();
        let user = UserId::new(parts.next()?.parse().ok()?);
        let hint = match kind {
            "c" => Self::Change {
                user,
                seq: parts.next()?.parse().ok()?,
                text: (!body.is_empty()).then(|| Arc::from(body)),
            },
            "r" => Self::Revoked { user },
            _ => return None,
        };
        parts.next().is_none().then_some((instance, hint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_round_trip() {
        let hints = [
            Hint::Change {
                user: UserId::new(7),
                seq: 42,
                text: Some(Arc::from("{\"type\":\"change\",\"data\":\"a\\nb\"}")),
            },
            Hint::Change {
                user: UserId::new(7),
                seq: 43,
                text: None,
            },
            Hint::Revoked {
                user: UserId::new(9),
            },
        ];
        for hint in hints {
            let decoded = Hint::decode(&hint.encode("abc"));
            assert_eq!(decoded, Some(("abc".to_owned(), hint)));
        }
        assert_eq!(Hint::decode(b"x abc 1"), None);
        assert_eq!(Hint::decode(b"c abc notanumber 1\n"), None);
        assert_eq!(Hint::decode(b"r abc 1 extra"), None);
        assert_eq!(Hint::decode(&[0xff, 0xfe]), None);
    }
}
