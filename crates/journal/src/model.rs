//! Entries, their fields, and search terms.

use crate::error::{Result, invalid};
use chrono::{DateTime, NaiveDate, Utc};

/// A journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Id.
    pub id: i64,
    /// Optional title.
    pub title: Option<String>,
    /// The text.
    pub content: String,
    /// The day it is about.
    pub date: NaiveDate,
    /// 1–5.
    pub mood: Option<u8>,
    /// Tags, trimmed, unique, in the order given.
    pub tags: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// An entry's editable fields, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFields {
    title: Option<String>,
    content: String,
    date: NaiveDate,
    mood: Option<u8>,
    tags: Vec<String>,
}

impl EntryFields {
    /// Parses the fields.
    ///
    /// # Errors
    /// `Invalid` naming the field.
    pub fn new(
        title: Option<String>,
        content: String,
        date: NaiveDate,
        mood: Option<i64>,
        tags: Vec<String>,
    ) -> Result<Self> {
        if title.as_ref().is_some_and(|t| t.chars().count() > 200) {
            return Err(invalid("title", "must be at most 200 characters"));
        }
        let title = title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let n = content.chars().count();
        if content.trim().is_empty() || n > 100_000 {
            return Err(invalid(
                "content",
                "must be between 1 and 100000 characters",
            ));
        }
        let mood = match mood {
            None => None,
            Some(m @ 1..=5) => Some(u8::try_from(m).unwrap_or(1)),
            Some(_) => return Err(invalid("mood", "must be between 1 and 5")),
        };
        if tags.len() > 20 {
            return Err(invalid("tags", "at most 20 tags"));
        }
        let mut clean: Vec<String> = Vec::with_capacity(tags.len());
        for tag in tags {
            let t = tag.trim();
            if t.is_empty() || tag.chars().count() > 50 {
                return Err(invalid(
                    "tags",
                    "each tag must be between 1 and 50 characters",
                ));
            }
            if !clean.iter().any(|c| c == t) {
                clean.push(t.to_owned());
            }
        }
        Ok(Self {
            title,
            content,
            date,
            mood,
            tags: clean,
        })
    }

    /// ≤ 200 characters; blank became none.
    #[must_use]
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// 1–100000 characters, not blank.
    #[must_use]
    pub fn content(&self) -> &str {
        &self.content
    }

    /// The day.
    #[must_use]
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// 1–5.
    #[must_use]
    pub fn mood(&self) -> Option<u8> {
        self.mood
    }

    /// ≤ 20 tags of 1–50 characters, trimmed, unique, in the order given.
    #[must_use]
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The same fields on `day`.
    #[must_use]
    pub fn on(mut self, day: NaiveDate) -> Self {
        self.date = day;
        self
    }
}

/// The words of a search, lower-cased, letters and digits only (so nothing a client types
/// can be read as query syntax by the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms(Vec<String>);

impl SearchTerms {
    /// Splits a query into at most 10 words of at most 64 characters; `None` when it has
    /// no letter or digit at all (a search box never errors on what a person types: such
    /// a query matches nothing).
    #[must_use]
    pub fn parse(q: &str) -> Option<Self> {
        let words: Vec<String> = q
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(10)
            .map(|w| w.chars().take(64).collect::<String>().to_lowercase())
            .collect();
        (!words.is_empty()).then_some(Self(words))
    }

    /// The words.
    #[must_use]
    pub fn words(&self) -> &[String] {
        &self.0
    }
}

/// List filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub to: Option<NaiveDate>,
    /// Full-text search (results ranked by relevance).
    pub terms: Option<SearchTerms>,
    /// Only entries with this tag.
    pub tag: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_are_words_in_any_script() {
        assert_eq!(
            SearchTerms::parse("Привет, МИР!").unwrap().words(),
            ["привет", "мир"]
        );
        assert_eq!(
            SearchTerms::parse(r#"run* OR "x" -y"#).unwrap().words(),
            ["run", "or", "x", "y"]
        );
        assert!(SearchTerms::parse(" *** ").is_none());
        assert!(SearchTerms::parse("%_\\ 🙂").is_none());
    }

    #[test]
    fn fields_are_bounded() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(EntryFields::new(None, " ".into(), d, None, vec![]).is_err());
        assert!(EntryFields::new(None, "x".into(), d, Some(6), vec![]).is_err());
        assert!(EntryFields::new(None, "x".into(), d, None, vec!["t".into(); 21]).is_err());
        let f = EntryFields::new(
            Some("  ".into()),
            "x".into(),
            d,
            Some(5),
            vec![" a ".into(), "a".into()],
        )
        .unwrap();
        assert_eq!((f.title, f.tags), (None, vec!["a".to_owned()]));
    }
}
