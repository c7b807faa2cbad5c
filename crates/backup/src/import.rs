//! An uploaded document, checked row by row with each context's own rules before
//! anything is written.

use crate::document::{Document, FORMAT, VERSION};
use crate::error::{BackupError, Result};
use ayubi_finance::{CategoryFields, Currency, EntryFields, Kind, Money};
use ayubi_habits::{HabitFields, Schedule};
use ayubi_settings::{ProfilePatch, SettingChange};
use ayubi_sport::{Goals, NewFood, NewWater, NewWorkout};
use ayubi_travel::NewVisit;
use ayubi_travel::catalog::Country;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// How an import meets existing data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Add what is missing; keep everything there. Importing twice adds nothing.
    Merge,
    /// Each table the document holds replaces the user's rows of that table (finance and
    /// habits as a whole, since their rows point at each other); tables the document
    /// lacks are untouched.
    Replace,
}

impl Mode {
    /// Parses `merge` / `replace`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "merge" => Some(Self::Merge),
            "replace" => Some(Self::Replace),
            _ => None,
        }
    }
}

/// Counts by table: rows created, rows already there (merge), rows removed (replace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The mode used.
    pub mode: Mode,
    /// Whether it was a dry run (nothing written).
    pub dry_run: bool,
    /// Rows created.
    pub created: BTreeMap<&'static str, u64>,
    /// Rows skipped because they were already there.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Rows removed by `replace`.
    pub deleted: BTreeMap<&'static str, u64>,
}

impl Outcome {
    /// An outcome with every table the import holds at zero.
    #[must_use]
    pub fn for_tables(mode: Mode, dry_run: bool, tables: &[&'static str]) -> Self {
        let zero: BTreeMap<_, _> = tables.iter().map(|t| (*t, 0)).collect();
        Self {
            mode,
            dry_run,
            created: zero.clone(),
            skipped: zero.clone(),
            deleted: if mode == Mode::Replace {
                zero
            } else {
                BTreeMap::new()
            },
        }
    }

    /// Counts created and skipped rows of `table` from a merge decision.
    pub fn count(&mut self, table: &'static str, fresh: &[bool]) {
        let made = fresh.iter().filter(|f| **f).count() as u64;
        *self.created.entry(table).or_default() += made;
        *self.skipped.entry(table).or_default() += fresh.len() as u64 - made;
    }
}

/// When a row was made and last changed, as the document says (`None`: now).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stamps {
    /// Created.
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Stamps {
    fn made(created_at: Option<DateTime<Utc>>) -> Self {
        Self {
            created_at,
            updated_at: None,
        }
    }
}

/// A row and its stamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped<T> {
    /// The checked row.
    pub row: T,
    /// Its stamps.
    pub stamps: Stamps,
}

/// A habit and its days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HabitImport {
    /// The habit.
    pub fields: HabitFields,
    /// Its stamps.
    pub stamps: Stamps,
    /// Completed days.
    pub completions: BTreeSet<NaiveDate>,
    /// Skipped days.
    pub skips: BTreeSet<NaiveDate>,
}

/// A finance entry; `category` indexes [`FinanceImport::categories`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryImport {
    /// The fields (`category_id` unset: the adapter resolves `category`).
    pub fields: EntryFields,
    /// The category, by position in the document.
    pub category: Option<usize>,
    /// Its stamps.
    pub stamps: Stamps,
}

/// The finance section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinanceImport {
    /// Categories.
    pub categories: Vec<Stamped<CategoryFields>>,
    /// Entries.
    pub entries: Vec<EntryImport>,
}

/// A checked document: every row passed its context's rules. `None` = not in the
/// document (left alone).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Import {
    /// Profile fields (every field `Some`).
    pub profile: Option<ProfilePatch>,
    /// Stored settings: key and canonical JSON value.
    pub settings: Option<Vec<(String, Value)>>,
    /// Goals; `Some(None)`: the defaults.
    pub goals: Option<Option<Stamped<Goals>>>,
    /// Water logs.
    pub water: Option<Vec<Stamped<NewWater>>>,
    /// Meals.
    pub food: Option<Vec<Stamped<NewFood>>>,
    /// Workouts.
    pub workouts: Option<Vec<Stamped<NewWorkout>>>,
    /// Visited countries.
    pub visited: Option<Vec<Stamped<NewVisit>>>,
    /// Wishlist.
    pub wishlist: Option<Vec<Stamped<&'static Country>>>,
    /// Habits.
    pub habits: Option<Vec<HabitImport>>,
    /// Finance (categories and entries together).
    pub finance: Option<FinanceImport>,
    /// Journal entries.
    pub journal: Option<Vec<Stamped<ayubi_journal::EntryFields>>>,
}

/// At most this many faults are reported; the document is refused either way.
const MAX_ERRORS: usize = 100;

#[derive(Default)]
struct Faults(Vec<(String, String)>);

impl Faults {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if self.0.len() < MAX_ERRORS {
            self.0.push((path.into(), message.into()));
        }
    }

    /// Keeps an `Ok` value; records an `Err` (a context's `Invalid { field, message }`,
    /// shown through `Display` as `field: message`) under `path.field`.
    fn take<T, E: std::fmt::Display>(
        &mut self,
        path: &str,
        r: std::result::Result<T, E>,
    ) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                let text = e.to_string();
                match text.split_once(": ") {
                    Some((field, message)) => self.add(format!("{path}.{field}"), message),
                    None => self.add(path, text),
                }
                None
            }
        }
    }
}

impl Import {
    /// The table names this import touches, for the outcome's counts.
    #[must_use]
    pub fn tables(&self) -> Vec<&'static str> {
        let mut t = Vec::new();
        let mut add = |present: bool, names: &[&'static str]| {
            if present {
                t.extend_from_slice(names);
            }
        };
        add(self.profile.is_some(), &["profile"]);
        add(self.settings.is_some(), &["settings"]);
        add(self.goals.is_some(), &["goals"]);
        add(self.water.is_some(), &["water"]);
        add(self.food.is_some(), &["food"]);
        add(self.workouts.is_some(), &["workouts"]);
        add(self.visited.is_some(), &["visited"]);
        add(self.wishlist.is_some(), &["wishlist"]);
        add(
            self.habits.is_some(),
            &["habits", "habit_completions", "habit_skips"],
        );
        add(
            self.finance.is_some(),
            &["finance_categories", "finance_entries"],
        );
        add(self.journal.is_some(), &["journal"]);
        t
    }

    /// Checks a parsed document.
    ///
    /// # Errors
    /// [`BackupError::Invalid`] listing each bad path (up to 100).
    pub fn parse(doc: Document) -> Result<Self> {
        let mut f = Faults::default();
        if doc.format != FORMAT {
            f.add("format", format!("must be \"{FORMAT}\""));
        }
        if doc.version == 0 || doc.version > VERSION {
            f.add(
                "version",
                format!("must be between 1 and {VERSION} (this server's newest)"),
            );
        }
        let mut import = Self::default();
        let mut settings_zone = None;
        if let Some(settings) = doc.settings {
            import.settings = parse_settings(settings, &mut settings_zone, &mut f);
        }
        if let Some(p) = doc.profile {
            let tz = p.timezone.or(settings_zone.take());
            import.profile = f.take(
                "profile",
                ProfilePatch::parse(
                    Some(p.display_name),
                    Some(tz),
                    Some(p.steam_id),
                    Some(p.faceit_nickname),
                )
                .map_err(|e| match e {
                    ayubi_settings::SettingsError::Invalid(v) => v
                        .first()
                        .map(|(k, m)| format!("{k}: {m}"))
                        .unwrap_or_default(),
                    other => other.to_string(),
                }),
            );
        } else if let Some(tz) = settings_zone {
            // A settings-only document (the web app's) may carry the time zone there.
            import.profile = f.take(
                "settings",
                ProfilePatch::parse(None, Some(Some(tz)), None, None).map_err(|_| {
                    "timezone: must be an IANA time zone name such as Europe/Berlin".to_owned()
                }),
            );
        }
        if let Some(sport) = doc.sport {
            if let Some(goals) = sport.goals {
                import.goals = Some(goals.and_then(|g| {
                    f.take(
                        "sport.goals",
                        Goals::new(g.water_ml_per_day, g.kcal_per_day),
                    )
                    .map(|row| Stamped {
                        row,
                        stamps: Stamps {
                            created_at: None,
                            updated_at: g.updated_at,
                        },
                    })
                }));
            }
            import.water = sport.water.map(|rows| {
                each(&mut f, "sport.water", rows, |w| {
                    Ok::<_, ayubi_sport::SportError>(Stamped {
                        row: NewWater::new(w.date, w.ml)?,
                        stamps: Stamps::made(w.created_at),
                    })
                })
            });
            import.food = sport.food.map(|rows| {
                each(&mut f, "sport.food", rows, |r| {
                    Ok::<_, ayubi_sport::SportError>(Stamped {
                        row: NewFood::new(r.date, &r.name, r.kcal, r.protein, r.carbs, r.fat)?,
                        stamps: Stamps::made(r.created_at),
                    })
                })
            });
            import.workouts = sport.workouts.map(|rows| {
                each(&mut f, "sport.workouts", rows, |r| {
                    Ok::<_, ayubi_sport::SportError>(Stamped {
                        row: NewWorkout::new(r.date, &r.name, r.duration_min, r.kcal_burned)?,
                        stamps: Stamps::made(r.created_at),
                    })
                })
            });
        }
        if let Some(travel) = doc.travel {
            import.visited = travel.visited.map(|rows| {
                let v = each(&mut f, "travel.visited", rows, |r| {
                    Ok::<_, ayubi_travel::TravelError>(Stamped {
                        row: NewVisit::new(&r.country_iso3, r.visit_date, r.notes)?,
                        stamps: Stamps::made(r.created_at),
                    })
                });
                once_each(
                    &mut f,
                    "travel.visited",
                    v.iter().map(|s| &s.row.country().iso3),
                );
                v
            });
            import.wishlist = travel.wishlist.map(|rows| {
                let v = each(&mut f, "travel.wishlist", rows, |r| {
                    Ok::<_, ayubi_travel::TravelError>(Stamped {
                        row: ayubi_travel::parse_country(&r.country_iso3)?,
                        stamps: Stamps::made(r.added_at),
                    })
                });
                once_each(&mut f, "travel.wishlist", v.iter().map(|s| &s.row.iso3));
                v
            });
        }
        if let Some(habits) = doc.habits {
            import.habits = Some(each(&mut f, "habits", habits, |h| {
                let schedule = match &h.schedule {
                    None => Schedule::Daily,
                    Some(s) => Schedule::parse(&s.kind, s.days.as_deref(), s.times)?,
                };
                Ok::<_, ayubi_habits::HabitError>(HabitImport {
                    fields: HabitFields::new(&h.name, h.description, schedule, h.archived)?,
                    stamps: Stamps {
                        created_at: h.created_at,
                        updated_at: h.updated_at,
                    },
                    completions: h.completions.into_iter().collect(),
                    skips: h.skips.into_iter().collect(),
                })
            }));
        }
        if let Some(finance) = doc.finance {
            import.finance = Some(parse_finance(finance, &mut f));
        }
        if let Some(journal) = doc.journal {
            import.journal = Some(each(&mut f, "journal", journal, |j| {
                Ok::<_, ayubi_journal::JournalError>(Stamped {
                    row: ayubi_journal::EntryFields::new(
                        j.title, j.content, j.date, j.mood, j.tags,
                    )?,
                    stamps: Stamps {
                        created_at: j.created_at,
                        updated_at: j.updated_at,
                    },
                })
            }));
        }
        if f.0.is_empty() {
            Ok(import)
        } else {
            Err(BackupError::Invalid(f.0))
        }
    }
}

/// Parses each row of a list; faults are recorded as `path[i].field`.
fn each<R, T, E: std::fmt::Display>(
    f: &mut Faults,
    path: &str,
    rows: Vec<R>,
    mut parse: impl FnMut(R) -> std::result::Result<T, E>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.into_iter().enumerate() {
        if let Some(v) = f.take(&format!("{path}[{i}]"), parse(r)) {
            out.push(v);
        }
    }
    out
}

/// A country may be on each travel list once.
fn once_each<'a>(f: &mut Faults, path: &str, codes: impl Iterator<Item = &'a String>) {
    let mut seen = HashSet::new();
    for (i, code) in codes.enumerate() {
        if !seen.insert(code) {
            f.add(
                format!("{path}[{i}].country_iso3"),
                format!("{code} is listed twice"),
            );
        }
    }
}

fn parse_settings(
    settings: BTreeMap<String, Value>,
    zone: &mut Option<String>,
    f: &mut Faults,
) -> Option<Vec<(String, Value)>> {
    if settings.len() > ayubi_settings::MAX_KEYS {
        f.add(
            "settings",
            format!("at most {} keys", ayubi_settings::MAX_KEYS),
        );
        return None;
    }
    match ayubi_settings::parse_changes(settings.clone()) {
        Ok(changes) => Some(
            changes
                .into_iter()
                .filter_map(|c| match c {
                    SettingChange::Set { key, value } => Some((key, value)),
                    SettingChange::Timezone(tz) => {
                        *zone = tz.map(|t| t.name().to_owned());
                        None
                    }
                    // `null` in a backup means "not set": nothing to store.
                    SettingChange::Remove { .. } => None,
                })
                .collect(),
        ),
        Err(ayubi_settings::SettingsError::Invalid(errors)) => {
            for (key, message) in errors {
                f.add(format!("settings.{key}"), message);
            }
            None
        }
        Err(e) => {
            f.add("settings", e.to_string());
            None
        }
    }
}

fn parse_finance(finance: crate::document::FinanceSection, f: &mut Faults) -> FinanceImport {
    let mut out = FinanceImport::default();
    let mut by_id: HashMap<i64, usize> = HashMap::new();
    let mut names = HashSet::new();
    for (i, c) in finance
        .categories
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let path = format!("finance.categories[{i}]");
        let Some(fields) = f.take(&path, CategoryFields::new(&c.name, &c.kind)) else {
            continue;
        };
        if !names.insert((fields.kind(), fields.name().to_owned())) {
            f.add(format!("{path}.name"), "listed twice for this kind");
        }
        if let Some(id) = c.id
            && by_id.insert(id, out.categories.len()).is_some()
        {
            f.add(format!("{path}.id"), "listed twice");
        }
        out.categories.push(Stamped {
            row: fields,
            stamps: Stamps {
                created_at: c.created_at,
                updated_at: c.updated_at,
            },
        });
    }
    for (i, e) in finance.entries.unwrap_or_default().into_iter().enumerate() {
        let path = format!("finance.entries[{i}]");
        let fields = (|| {
            EntryFields::new(
                Kind::parse("kind", &e.kind)?,
                Money::parse(e.amount)?,
                Currency::parse(&e.currency)?,
                None,
                e.date,
                e.note.clone(),
            )
        })();
        let Some(fields) = f.take(&path, fields) else {
            continue;
        };
        let category = match e.category_id {
            None => None,
            Some(id) => match by_id.get(&id) {
                Some(&at) if out.categories[at].row.kind() == fields.kind() => Some(at),
                Some(_) => {
                    f.add(
                        format!("{path}.category_id"),
                        "must be a category of the same kind",
                    );
                    None
                }
                None => {
                    f.add(
                        format!("{path}.category_id"),
                        "no category with this id in finance.categories",
                    );
                    None
                }
            },
        };
        out.entries.push(EntryImport {
            fields,
            category,
            stamps: Stamps {
                created_at: e.created_at,
                updated_at: e.updated_at,
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> Result<Import> {
        Import::parse(serde_json::from_value(v).unwrap())
    }

    fn faults(v: serde_json::Value) -> Vec<(String, String)> {
        match parse(v) {
            Err(BackupError::Invalid(f)) => f,
            other => panic!("expected faults, got {other:?}"),
        }
    }

    #[test]
    fn a_bad_row_is_named_by_its_path() {
        let mut entries: Vec<_> = (0..1043)
            .map(|_| serde_json::json!({"kind": "expense", "amount": 1.5, "currency": "EUR", "date": "2026-11-01"}))
            .collect();
        entries[1042]["amount"] = serde_json::json!(1.234);
        let f = faults(serde_json::json!({
            "format": "ayubi-backup", "version": 1,
            "finance": {"entries": entries},
            "sport": {"water": [{"date": "2026-11-01", "ml": 0}]}
        }));
        assert_eq!(
            f,
            [
                (
                    "sport.water[0].ml".to_owned(),
                    "must be between 1 and 10000".to_owned()
                ),
                (
                    "finance.entries[1042].amount".to_owned(),
                    "must have at most 2 fraction digits".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn format_version_references_and_duplicates_are_checked() {
        let f = faults(serde_json::json!({
            "format": "other", "version": 2,
            "travel": {"visited": [{"country_iso3": "JPN"}, {"country_iso3": "jpn"}]},
            "finance": {
                "categories": [{"id": 1, "name": "Food", "kind": "expense"}],
                "entries": [
                    {"kind": "income", "amount": 1, "currency": "EUR", "date": "2026-11-01", "category_id": 1},
                    {"kind": "expense", "amount": 1, "currency": "EUR", "date": "2026-11-01", "category_id": 9}
                ]
            },
            "settings": {"currency": "XXX1"}
        }));
        let paths: Vec<_> = f.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "format",
                "version",
                "settings.currency",
                "travel.visited[1].country_iso3",
                "finance.entries[0].category_id",
                "finance.entries[1].category_id"
            ]
        );
    }

    #[test]
    fn a_partial_document_holds_only_its_sections() {
        let i = parse(serde_json::json!({
            "format": "ayubi-backup", "version": 1,
            "sport": {"water": [{"date": "2026-11-01", "ml": 250}]},
            "travel": {"wishlist": [{"country_iso3": "PRT"}]}
        }))
        .unwrap();
        assert_eq!(i.tables(), ["water", "wishlist"]);
        assert!(i.goals.is_none() && i.food.is_none() && i.profile.is_none());
    }
}
