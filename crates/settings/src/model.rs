//! Settings, their rules, and the profile.

use crate::error::{Result, SettingsError};
use ayubi_identity::DisplayName;
use ayubi_kernel::TimeZone;
use serde_json::Value;
use std::collections::BTreeMap;

/// Stored keys a user may have (known ones included).
pub const MAX_KEYS: usize = 200;
/// Largest serialized value of a free-form key.
pub const MAX_VALUE_BYTES: usize = 4096;

/// The settings the server knows and validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// IANA time zone (stored on the profile).
    Timezone,
    /// ISO 4217 currency code.
    Currency,
    /// BCP 47 language tag.
    Language,
    /// `monday` or `sunday`.
    WeekStart,
    /// `metric` or `imperial`.
    Units,
}

impl Known {
    /// All known settings.
    pub const ALL: [Self; 5] = [
        Self::Timezone,
        Self::Currency,
        Self::Language,
        Self::WeekStart,
        Self::Units,
    ];

    /// The key.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Timezone => "timezone",
            Self::Currency => "currency",
            Self::Language => "language",
            Self::WeekStart => "week_start",
            Self::Units => "units",
        }
    }

    /// The value when unset.
    #[must_use]
    pub fn default_value(self) -> &'static str {
        match self {
            Self::Timezone => "UTC",
            Self::Currency => "EUR",
            Self::Language => "en",
            Self::WeekStart => "monday",
            Self::Units => "metric",
        }
    }

    fn of(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    /// Validates a value, returning its canonical form.
    fn parse(self, value: &Value) -> std::result::Result<String, String> {
        let s = value
            .as_str()
            .ok_or_else(|| "must be a string".to_owned())?;
        match self {
            Self::Timezone => TimeZone::parse(s)
                .map(|tz| tz.name().to_owned())
                .map_err(|e| e.to_string()),
            Self::Currency => iso_currency::Currency::from_code(&s.to_ascii_uppercase())
                .map(|c| c.code().to_owned())
                .ok_or_else(|| "must be an ISO 4217 currency code such as EUR".to_owned()),
            Self::Language => language_tags::LanguageTag::parse(s)
                .ok()
                .filter(|t| t.is_valid())
                .map(|t| t.to_string())
                .ok_or_else(|| "must be a BCP 47 language tag such as en or pt-BR".to_owned()),
            Self::WeekStart => match s {
                "monday" | "sunday" => Ok(s.to_owned()),
                _ => Err("must be monday or sunday".to_owned()),
            },
            Self::Units => match s {
                "metric" | "imperial" => Ok(s.to_owned()),
                _ => Err("must be metric or imperial".to_owned()),
            },
        }
    }
}

fn valid_free_key(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= 100
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
}

/// One change of a `PUT /settings`.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingChange {
    /// Sets the time zone (`None`: back to UTC).
    Timezone(Option<TimeZone>),
    /// Stores a key (known or free-form) with its JSON value.
    Set {
        /// The key.
        key: String,
        /// The value.
        value: Value,
    },
    /// Removes a stored key (a known key returns to its default).
    Remove {
        /// The key.
        key: String,
    },
}

/// Parses a `PUT /settings` body: every key checked, every breach reported, nothing
/// applied unless all pass.
///
/// # Errors
/// `Invalid` listing each bad key.
pub fn parse_changes(patch: BTreeMap<String, Value>) -> Result<Vec<SettingChange>> {
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    for (key, value) in patch {
        match (Known::of(&key), value) {
            (Some(Known::Timezone), Value::Null) => changes.push(SettingChange::Timezone(None)),
            (Some(Known::Timezone), v) => match Known::Timezone.parse(&v) {
                Ok(name) => changes.push(SettingChange::Timezone(TimeZone::parse(&name).ok())),
                Err(e) => errors.push((key, e)),
            },
            (Some(_), Value::Null) => changes.push(SettingChange::Remove { key }),
            (Some(known), v) => match known.parse(&v) {
                Ok(canonical) => changes.push(SettingChange::Set {
                    key,
                    value: Value::String(canonical),
                }),
                Err(e) => errors.push((key, e)),
            },
            (None, _) if !valid_free_key(&key) => {
                errors.push((key, "keys must match ^[a-z][a-z0-9_.]{0,99}$".to_owned()))
            }
            (None, Value::Null) => changes.push(SettingChange::Remove { key }),
            (None, v) => {
                if v.to_string().len() > MAX_VALUE_BYTES {
                    errors.push((
                        key,
                        format!("the value must be at most {MAX_VALUE_BYTES} bytes of JSON"),
                    ));
                } else {
                    changes.push(SettingChange::Set { key, value: v });
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(SettingsError::Invalid(errors))
    }
}

/// A user's settings as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The profile's time zone.
    pub timezone: TimeZone,
    /// Stored keys (known and free-form).
    pub stored: BTreeMap<String, Value>,
}

impl Settings {
    /// Every setting, defaults filled in.
    #[must_use]
    pub fn effective(&self) -> BTreeMap<String, Value> {
        let mut all: BTreeMap<String, Value> = Known::ALL
            .iter()
            .map(|k| {
                (
                    k.key().to_owned(),
                    Value::String(k.default_value().to_owned()),
                )
            })
            .collect();
        all.extend(self.stored.clone());
        all.insert(
            "timezone".into(),
            Value::String(self.timezone.name().to_owned()),
        );
        all
    }
}

/// The profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Login email (read-only here).
    pub email: String,
    /// Name to show.
    pub display_name: Option<String>,
    /// Time zone.
    pub timezone: TimeZone,
    /// SteamID64.
    pub steam_id: Option<String>,
    /// FACEIT nickname.
    pub faceit_nickname: Option<String>,
}

/// A partial profile update: `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfilePatch {
    display_name: Option<Option<String>>,
    timezone: Option<TimeZone>,
    steam_id: Option<Option<String>>,
    faceit_nickname: Option<Option<String>>,
}

impl ProfilePatch {
    /// Parses the fields a client sent.
    ///
    /// # Errors
    /// `Invalid` naming each bad field.
    pub fn parse(
        display_name: Option<Option<String>>,
        timezone: Option<Option<String>>,
        steam_id: Option<Option<String>>,
        faceit_nickname: Option<Option<String>>,
    ) -> Result<Self> {
        let mut errors = Vec::new();
        let mut patch = Self::default();
        match display_name {
            Some(Some(raw)) => match DisplayName::parse(&raw) {
                Ok(d) => patch.display_name = Some(Some(d.as_str().to_owned())),
                Err(_) => errors.push((
                    "display_name".to_owned(),
                    "must be between 1 and 100 characters".to_owned(),
                )),
            },
            other => patch.display_name = other.map(|_| None),
        }
        match timezone {
            Some(Some(raw)) => match TimeZone::parse(&raw) {
                Ok(tz) => patch.timezone = Some(tz),
                Err(e) => errors.push(("timezone".to_owned(), e.to_string())),
            },
            Some(None) => patch.timezone = Some(TimeZone::UTC),
            None => {}
        }
        match steam_id {
            Some(Some(raw)) => {
                let s = raw.trim();
                if s.len() == 17 && s.bytes().all(|b| b.is_ascii_digit()) {
                    patch.steam_id = Some(Some(s.to_owned()));
                } else {
                    errors.push((
                        "steam_id".to_owned(),
                        "must be a SteamID64 (17 digits)".to_owned(),
                    ));
                }
            }
            other => patch.steam_id = other.map(|_| None),
        }
        match faceit_nickname {
            Some(Some(raw)) => {
                let s = raw.trim();
                let ok = (2..=32).contains(&s.chars().count())
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if ok {
                    patch.faceit_nickname = Some(Some(s.to_owned()));
                } else {
                    errors.push((
                        "faceit_nickname".to_owned(),
                        "must be 2–32 letters, digits, _ or -".to_owned(),
                    ));
                }
            }
            other => patch.faceit_nickname = other.map(|_| None),
        }
        if errors.is_empty() {
            Ok(patch)
        } else {
            Err(SettingsError::Invalid(errors))
        }
    }

    /// Display name: `None` untouched, `Some(None)` cleared.
    #[must_use]
    pub fn display_name(&self) -> Option<Option<&str>> {
        self.display_name.as_ref().map(Option::as_deref)
    }

    /// Time zone (UTC when the client cleared it).
    #[must_use]
    pub fn timezone(&self) -> Option<TimeZone> {
        self.timezone
    }

    /// SteamID64: `None` untouched, `Some(None)` unlinked.
    #[must_use]
    pub fn steam_id(&self) -> Option<Option<&str>> {
        self.steam_id.as_ref().map(Option::as_deref)
    }

    /// FACEIT nickname: `None` untouched, `Some(None)` unlinked.
    #[must_use]
    pub fn faceit_nickname(&self) -> Option<Option<&str>> {
        self.faceit_nickname.as_ref().map(Option::as_deref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn known_keys_are_validated_and_canonicalised() {
        let ok = parse_changes(patch(
            json!({"currency": "usd", "language": "pt-BR", "week_start": "sunday",
                                              "units": "imperial", "timezone": "Asia/Tokyo"}),
        ))
        .unwrap();
        assert!(ok.contains(&SettingChange::Set {
            key: "currency".into(),
            value: json!("USD")
        }));
        assert!(ok.contains(&SettingChange::Timezone(TimeZone::parse("Asia/Tokyo").ok())));
        let Err(SettingsError::Invalid(errs)) = parse_changes(patch(json!({
            "currency": "EURO", "language": "not a tag!", "week_start": "friday", "units": 5,
            "timezone": "Mars/Base", "Bad-Key": 1, "ok.key": "x".repeat(5000)
        }))) else {
            panic!("should fail")
        };
        let keys: Vec<_> = errs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "Bad-Key",
                "currency",
                "language",
                "ok.key",
                "timezone",
                "units",
                "week_start"
            ]
        );
    }

    #[test]
    fn free_keys_follow_the_pattern() {
        assert!(valid_free_key("a"));
        assert!(valid_free_key("dashboard.layout_v2"));
        assert!(valid_free_key(&format!("a{}", "b".repeat(99))));
        assert!(!valid_free_key(&format!("a{}", "b".repeat(100))));
        for bad in ["", "1a", "_a", "A", "a-b", "a b", "é"] {
            assert!(!valid_free_key(bad), "{bad}");
        }
    }

    #[test]
    fn effective_settings_fill_defaults() {
        let s = Settings {
            timezone: TimeZone::UTC,
            stored: patch(json!({"units": "imperial", "x": [1]})),
        };
        let all = s.effective();
        assert_eq!(all["currency"], "EUR");
        assert_eq!(all["units"], "imperial");
        assert_eq!(all["timezone"], "UTC");
        assert_eq!(all["x"], json!([1]));
    }
}
