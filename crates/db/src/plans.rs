//! The hot statements, built exactly as the repositories build them, for the plan test
//! (`EXPLAIN` on both databases: no full scan of a table) and for profiling.

use ayubi_kernel::{DateRange, UserId};
use chrono::NaiveDate;
use sea_orm::{DatabaseBackend, QueryTrait, Statement};

/// Every statement a hot endpoint runs, named, for user 1 around `day`.
#[must_use]
pub fn hot_statements(backend: DatabaseBackend, day: NaiveDate) -> Vec<(String, Statement)> {
    let user = UserId::new(1);
    let month =
        DateRange::new(day - chrono::Duration::days(30), day).unwrap_or(DateRange::day(day));
    let mut out: Vec<(String, Statement)> = Vec::new();
    let mut push = |what: &str, st: Statement| out.push((what.to_owned(), st));
    for (what, st) in crate::sport::indexed_statements(backend, day) {
        push(&format!("sport: {what}"), st);
    }
    for (what, st) in crate::finance::month_statements(backend, user, month) {
        push(&format!("finance: {what}"), st);
    }
    push(
        "habits: active habits",
        crate::habits::active_habits(user).build(backend),
    );
    push(
        "habits: completions",
        crate::habits::all_completions(user).build(backend),
    );
    push(
        "habits: skips",
        crate::habits::all_skips(user).build(backend),
    );
    if let Some(terms) = ayubi_journal::SearchTerms::parse("river walk") {
        let filter = ayubi_journal::Filter {
            terms: Some(terms.clone()),
            ..ayubi_journal::Filter::default()
        };
        push(
            "journal: search",
            crate::journal::search_statement(backend, user, &terms, &filter, 100),
        );
    }
    push(
        "travel: stats codes",
        crate::travel::codes_statement(backend, user),
    );
    push(
        "sync: changes since",
        crate::changelog::since_query(user, 0, 500).build(backend),
    );
    push(
        "auth: active session",
        crate::identity::active_session(user, uuid::Uuid::nil()).build(backend),
    );
    out
}
