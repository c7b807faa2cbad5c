//! Raw statements where sea-orm's builder cannot say it (`RETURNING` on an update, upserts
//! with a condition): written once with `?` placeholders for both backends.

use sea_orm::{DatabaseBackend, Statement, Value};

/// A statement written with `?` placeholders, numbered `$1…` for PostgreSQL.
pub(crate) fn stmt(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}
