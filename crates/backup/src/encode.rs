//! Writes the document row by row, so an export never holds more than one row in memory.
//!
//! The storage adapter hands rows over in document order (profile, settings, goals,
//! water, food, workouts, visited, wishlist, habits, categories, entries, journal); the
//! encoder opens and closes sections as the table changes and writes every table, empty
//! ones included, so an export always has every section.

use crate::document::{FORMAT, Row, VERSION};
use chrono::{DateTime, SecondsFormat, Utc};
use std::io::Write;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    One(&'static str),
    Many,
}

/// (section, key inside the section, what it holds), in document order.
const TABLES: [(&str, Option<&str>, Kind); 12] = [
    ("profile", None, Kind::One("{}")),
    ("settings", None, Kind::One("{}")),
    ("sport", Some("goals"), Kind::One("null")),
    ("sport", Some("water"), Kind::Many),
    ("sport", Some("food"), Kind::Many),
    ("sport", Some("workouts"), Kind::Many),
    ("travel", Some("visited"), Kind::Many),
    ("travel", Some("wishlist"), Kind::Many),
    ("habits", None, Kind::Many),
    ("finance", Some("categories"), Kind::Many),
    ("finance", Some("entries"), Kind::Many),
    ("journal", None, Kind::Many),
];

impl Row {
    fn table(&self) -> usize {
        match self {
            Self::Profile(_) => 0,
            Self::Settings(_) => 1,
            Self::Goals(_) => 2,
            Self::Water(_) => 3,
            Self::Food(_) => 4,
            Self::Workout(_) => 5,
            Self::Visit(_) => 6,
            Self::Wish(_) => 7,
            Self::Habit(_) => 8,
            Self::Category(_) => 9,
            Self::Entry(_) => 10,
            Self::Journal(_) => 11,
        }
    }

    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match self {
            Self::Profile(r) => serde_json::to_writer(out, r),
            Self::Settings(r) => serde_json::to_writer(out, r),
            Self::Goals(r) => serde_json::to_writer(out, r),
            Self::Water(r) => serde_json::to_writer(out, r),
            Self::Food(r) => serde_json::to_writer(out, r),
            Self::Workout(r) => serde_json::to_writer(out, r),
            Self::Visit(r) => serde_json::to_writer(out, r),
            Self::Wish(r) => serde_json::to_writer(out, r),
            Self::Habit(r) => serde_json::to_writer(out, r),
            Self::Category(r) => serde_json::to_writer(out, r),
            Self::Entry(r) => serde_json::to_writer(out, r),
            Self::Journal(r) => serde_json::to_writer(out, r),
        }
    }
}

/// A row arrived after a later table had started: the adapter broke document order.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// Rows out of document order.
    #[error("backup rows out of document order")]
    Order,
    /// A value could not be serialised (a float that is not finite).
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// The streaming writer. Call [`Encoder::start`], [`Encoder::push`] for each row, then
/// [`Encoder::finish`]; each appends to the buffer it is given, which the caller drains.
#[derive(Debug)]
pub struct Encoder {
    next: usize,
    open: Option<usize>,
    rows_in_open: usize,
}

impl Encoder {
    /// Writes the header (`format`, `version`, `exported_at`).
    pub fn start(exported_at: DateTime<Utc>, out: &mut Vec<u8>) -> Self {
        let _ = write!(
            out,
            r#"{{"format":"{FORMAT}","version":{VERSION},"exported_at":"{}""#,
            exported_at.to_rfc3339_opts(SecondsFormat::Micros, true)
        );
        Self {
            next: 0,
            open: None,
            rows_in_open: 0,
        }
    }

    /// Appends one row.
    ///
    /// # Errors
    /// [`EncodeError::Order`] when the row's table comes before one already written.
    pub fn push(&mut self, row: &Row, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let t = row.table();
        if self.open == Some(t) {
            out.push(b',');
            self.rows_in_open += 1;
            return Ok(row.write(out)?);
        }
        if t < self.next {
            return Err(EncodeError::Order);
        }
        self.close_open(out);
        self.skip_to(t, out);
        open_table(t, out);
        self.next = t + 1;
        match TABLES[t].2 {
            Kind::One(_) => row.write(out)?,
            Kind::Many => {
                out.push(b'[');
                row.write(out)?;
                self.open = Some(t);
                self.rows_in_open = 1;
            }
        }
        Ok(())
    }

    /// Closes the document, writing any table that had no rows as empty.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.close_open(out);
        self.skip_to(TABLES.len(), out);
        if TABLES[TABLES.len() - 1].1.is_some() {
            out.push(b'}');
        }
        out.push(b'}');
    }

    fn close_open(&mut self, out: &mut Vec<u8>) {
        if self.open.take().is_some() {
            out.push(b']');
        }
    }

    fn skip_to(&mut self, t: usize, out: &mut Vec<u8>) {
        while self.next < t {
            open_table(self.next, out);
            match TABLES[self.next].2 {
                Kind::One(empty) => out.extend_from_slice(empty.as_bytes()),
                Kind::Many => out.extend_from_slice(b"[]"),
            }
            self.next += 1;
        }
    }
}

/// Writes what comes before table `i`'s value: closing the previous section when the
/// section changes, the section's key, and the table's key inside it.
fn open_table(i: usize, out: &mut Vec<u8>) {
    let (section, key, _) = TABLES[i];
    let new_section = i == 0 || TABLES[i - 1].0 != section;
    if new_section {
        if i > 0 && TABLES[i - 1].1.is_some() {
            out.push(b'}');
        }
        let _ = write!(out, r#","{section}":"#);
        if key.is_some() {
            out.push(b'{');
        }
    } else {
        out.push(b',');
    }
    if let Some(k) = key {
        let _ = write!(out, r#""{k}":"#);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::*;
    use chrono::NaiveDate;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn encode(rows: &[Row]) -> serde_json::Value {
        let mut out = Vec::new();
        let mut enc = Encoder::start(DateTime::UNIX_EPOCH, &mut out);
        for r in rows {
            enc.push(r, &mut out).unwrap();
        }
        enc.finish(&mut out);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn an_empty_export_has_every_section() {
        let doc = encode(&[]);
        assert_eq!(
            doc,
            serde_json::json!({
                "format": "ayubi-backup", "version": 1,
                "exported_at": "1970-01-01T00:00:00.000000Z",
                "profile": {}, "settings": {},
                "sport": {"goals": null, "water": [], "food": [], "workouts": []},
                "travel": {"visited": [], "wishlist": []},
                "habits": [],
                "finance": {"categories": [], "entries": []},
                "journal": []
            })
        );
    }

    #[test]
    fn rows_land_in_their_sections_and_parse_back() {
        let water = |ml| {
            Row::Water(WaterRow {
                id: Some(ml),
                date: day(1),
                ml,
                created_at: None,
            })
        };
        let journal = Row::Journal(JournalRow {
            id: Some(1),
            title: None,
            content: "x".into(),
            date: day(2),
            mood: Some(3),
            tags: vec!["a".into()],
            created_at: None,
            updated_at: None,
        });
        let bytes = {
            let mut out = Vec::new();
            let mut enc = Encoder::start(DateTime::UNIX_EPOCH, &mut out);
            for r in [water(250), water(300), journal] {
                enc.push(&r, &mut out).unwrap();
            }
            enc.finish(&mut out);
            out
        };
        let doc: Document = serde_json::from_slice(&bytes).unwrap();
        let sport = doc.sport.unwrap();
        assert_eq!(
            sport
                .water
                .unwrap()
                .iter()
                .map(|w| w.ml)
                .collect::<Vec<_>>(),
            [250, 300]
        );
        assert_eq!(sport.goals, Some(None));
        assert_eq!(doc.journal.unwrap()[0].mood, Some(3));
        assert_eq!(doc.habits, Some(vec![]));
    }

    #[test]
    fn out_of_order_rows_are_refused() {
        let mut out = Vec::new();
        let mut enc = Encoder::start(DateTime::UNIX_EPOCH, &mut out);
        enc.push(&Row::Settings(Default::default()), &mut out)
            .unwrap();
        assert!(matches!(
            enc.push(&Row::Profile(ProfileRow::default()), &mut out),
            Err(EncodeError::Order)
        ));
    }
}
