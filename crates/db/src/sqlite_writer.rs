//! SQLite's group-commit writer on rusqlite: the statements of a write batch run on a
//! connection of the writer's own, on the thread of the task whose turn it is.
//!
//! sqlx-sqlite runs each connection on a thread of its own and hands every statement and
//! every row to it and back over channels: 18 context switches per small write, measured
//! in `docs/benchmarks.md`, and the writer lane's ceiling was 7–9k writes a second where
//! the same statements on rusqlite do 74–96k. So the lane's writes go to a rusqlite
//! connection instead, through sea-orm's proxy connection: the repositories keep writing
//! with sea-orm, and only this module speaks SQLite's C API. Reads stay on sqlx's pool.
//!
//! A statement of a member runs inline: members run one at a time (the lane's queue), the
//! connection's mutex is never contended, and a statement costs microseconds. `BEGIN
//! IMMEDIATE` (which may wait for another process's lock in the busy handler) and
//! `COMMIT` (the WAL append, sometimes a checkpoint) run on the blocking pool instead, so
//! a wait or an fsync never stalls the async workers.
//!
//! Values are bound as sqlx-sqlite binds them (dates as `%F`, instants as RFC 3339 with
//! `+00:00`, UUIDs as 16-byte blobs, JSON as text), so rows written here and rows written
//! through sqlx read the same. Rows come back as sea-orm's proxy rows, whose values must
//! be of the Rust type's own variant; the type is known from the column's declared type
//! (the schema's `date_text`, `timestamp_with_timezone_text`…), and for `integer`, which
//! SQLite declares for `i32` and `i64` alike, from the entities' `i32` columns by name.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{OpenFlags, ToSql};
use sea_orm::sea_query::ColumnType;
use sea_orm::sqlx::error::{DatabaseError, ErrorKind};
use sea_orm::{
    DatabaseConnection, DbBackend, DbErr, ProxyDatabaseTrait, ProxyExecResult, ProxyRow,
    RuntimeErr, Statement, Value,
};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::config::DbConfig;

/// The writer's connection, behind sea-orm's proxy.
pub(crate) struct Writer {
    conn: Arc<Mutex<rusqlite::Connection>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

/// Opens the writer's connection to the file of `cfg.url` with the pool's settings, as a
/// sea-orm connection whose statements run on it.
///
/// # Errors
/// An in-memory URL (the writer's connection would open a database of its own), or the
/// file cannot be opened.
pub(crate) async fn connect(cfg: &DbConfig) -> Result<DatabaseConnection, DbErr> {
    let conn = open(cfg)?;
    let writer = Writer {
        conn: Arc::new(Mutex::new(conn)),
    };
    sea_orm::Database::connect_proxy(DbBackend::Sqlite, Arc::new(Box::new(writer))).await
}

/// The file and the open mode of a `sqlite:` URL, as sqlx reads them (`mode=ro|rw|rwc`).
fn target(url: &str) -> Result<(&str, OpenFlags), DbErr> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mode = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("mode="))
        .unwrap_or("rw");
    if path.is_empty() || path.starts_with(":memory:") || mode == "memory" {
        return Err(DbErr::Custom(
            "an in-memory SQLite database cannot be shared by the writer's connection: \
             use a file (sqlite://data/ayubi.db?mode=rwc)"
                .into(),
        ));
    }
    let base = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let flags = match mode {
        "ro" => base | OpenFlags::SQLITE_OPEN_READ_ONLY,
        "rwc" => base | OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        _ => base | OpenFlags::SQLITE_OPEN_READ_WRITE,
    };
    Ok((path, flags))
}

fn open(cfg: &DbConfig) -> Result<rusqlite::Connection, DbErr> {
    let (path, flags) = target(&cfg.url)?;
    let conn = rusqlite::Connection::open_with_flags(path, flags).map_err(db_err)?;
    conn.busy_timeout(cfg.sqlite_busy_timeout).map_err(db_err)?;
    let synchronous = if cfg.sqlite_synchronous_full {
        "FULL"
    } else {
        "NORMAL"
    };
    // The pool's settings (`pool.rs`), on this connection too: the journal mode is the
    // file's (the pool set WAL), the rest is per connection.
    let mut pragmas = format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
         PRAGMA foreign_keys = ON; PRAGMA cache_size = -{}; PRAGMA temp_store = memory;",
        cfg.sqlite_cache_size_kib
    );
    if cfg.sqlite_max_page_count > 0 {
        pragmas.push_str(&format!(
            " PRAGMA max_page_count = {};",
            cfg.sqlite_max_page_count
        ));
    }
    if cfg.sqlite_heap_limit_kib > 0 {
        pragmas.push_str(&format!(
            " PRAGMA soft_heap_limit = {};",
            cfg.sqlite_heap_limit_kib.saturating_mul(1024)
        ));
    }
    conn.execute_batch(&pragmas).map_err(db_err)?;
    conn.set_prepared_statement_cache_capacity(cfg.statement_cache_capacity.max(16));
    Ok(conn)
}

impl Writer {
    fn lock(&self) -> MutexGuard<'_, rusqlite::Connection> {
        // A panic mid-statement leaves nothing half-done in the connection that SQLite
        // does not undo itself; the batch's own bookkeeping rolls it back.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `BEGIN` and `COMMIT`: on the blocking pool (see the module's doc).
    async fn off_thread(&self, sql: String) -> Result<ProxyExecResult, DbErr> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            exec(&conn, &sql, &[])
        })
        .await
        .map_err(|e| DbErr::Custom(format!("the SQLite writer's task: {e}")))?
    }
}

#[async_trait::async_trait]
impl ProxyDatabaseTrait for Writer {
    async fn query(&self, statement: Statement) -> Result<Vec<ProxyRow>, DbErr> {
        // A long write (a backup's import) is many statements without a real await:
        // give the worker back now and then.
        tokio::task::coop::consume_budget().await;
        query(&self.lock(), statement)
    }

    async fn execute(&self, statement: Statement) -> Result<ProxyExecResult, DbErr> {
        let values = statement.values.map(|v| v.0).unwrap_or_default();
        let head = statement.sql.trim_start();
        if values.is_empty()
            && (starts_with_word(head, "BEGIN") || starts_with_word(head, "COMMIT"))
        {
            return self.off_thread(statement.sql).await;
        }
        tokio::task::coop::consume_budget().await;
        exec(&self.lock(), &statement.sql, &values)
    }

    /// A transaction dropped open (its request cancelled before the batch could end it):
    /// SQLite's transaction is rolled back so the connection is fresh for the next batch.
    fn start_rollback(&self) {
        let conn = self.lock();
        if !conn.is_autocommit()
            && let Err(e) = conn.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %e, "rolling back the SQLite writer's transaction");
        }
    }
}

/// Connections for short reads that are hot enough to skip sea-orm and sqlx (a page of
/// the water list): the statement runs on the thread of the task that asks, on the first
/// connection free, with no pool acquire and no hand-off to a driver thread and back,
/// and the caller reads the rows in place. One connection per core, so each of the HTTP
/// server's worker threads finds one free; a reader beyond that waits on a mutex for a
/// statement's time. Read-only (`query_only`).
pub(crate) struct Readers {
    conns: Vec<Mutex<rusqlite::Connection>>,
    next: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("connections", &self.conns.len())
            .finish_non_exhaustive()
    }
}

impl Readers {
    /// Opens `n` reading connections to the file of `cfg.url`.
    ///
    /// # Errors
    /// As [`connect`].
    pub(crate) fn open(cfg: &DbConfig, n: usize) -> Result<Self, DbErr> {
        let conns = (0..n.max(1))
            .map(|_| {
                let conn = open(cfg)?;
                conn.execute_batch("PRAGMA query_only = ON")
                    .map_err(db_err)?;
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>, DbErr>>()?;
        Ok(Self {
            conns,
            next: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// Runs `read` on a free connection (short: it holds a worker thread meanwhile).
    ///
    /// # Errors
    /// `read`'s.
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbErr> {
        for c in &self.conns {
            match c.try_lock() {
                Ok(conn) => return read(&conn).map_err(db_err),
                Err(std::sync::TryLockError::Poisoned(p)) => {
                    return read(&p.into_inner()).map_err(db_err);
                }
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
        }
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.conns.len();
        let conn = self.conns[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        read(&conn).map_err(db_err)
    }
}

fn starts_with_word(sql: &str, word: &str) -> bool {
    sql.get(..word.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(word))
}

/// The rows `statement` returns, as sea-orm's proxy rows.
fn query(conn: &rusqlite::Connection, statement: Statement) -> Result<Vec<ProxyRow>, DbErr> {
    let values = statement.values.map(|v| v.0).unwrap_or_default();
    let mut rows = Vec::new();
    run(conn, &statement.sql, &values, |stmt, kinds| {
        let names: Vec<String> = stmt.column_names().iter().map(|&n| n.to_owned()).collect();
        let mut found = stmt.raw_query();
        while let Some(row) = found.next().map_err(db_err)? {
            let mut values = BTreeMap::new();
            for (i, (name, kind)) in names.iter().zip(kinds).enumerate() {
                let v = row.get_ref(i).map_err(db_err)?;
                values.insert(name.clone(), decode(*kind, v, name)?);
            }
            rows.push(ProxyRow::new(values));
        }
        Ok(())
    })?;
    Ok(rows)
}

/// Runs the statements of `sql` to their end (rows they return are dropped): the rows
/// they changed, and the last rowid inserted.
fn exec(
    conn: &rusqlite::Connection,
    sql: &str,
    values: &[Value],
) -> Result<ProxyExecResult, DbErr> {
    let mut changed = 0;
    run(conn, sql, values, |stmt, _| {
        let mut found = stmt.raw_query();
        while found.next().map_err(db_err)?.is_some() {}
        changed += conn.changes();
        Ok(())
    })?;
    Ok(ProxyExecResult {
        last_insert_id: u64::try_from(conn.last_insert_rowid()).unwrap_or(0),
        rows_affected: changed,
    })
}

/// Runs each statement of `sql` (one, or several `;`-separated, as the change log's
/// closing statements are) with its share of `values`, in order, calling `each` with the
/// bound statement and its columns' kinds.
fn run(
    conn: &rusqlite::Connection,
    sql: &str,
    values: &[Value],
    mut each: impl FnMut(&mut rusqlite::CachedStatement<'_>, &[Kind]) -> Result<(), DbErr>,
) -> Result<(), DbErr> {
    let mut next = 0;
    for piece in split(sql) {
        let mut stmt = conn.prepare_cached(piece).map_err(db_err)?;
        let wanted = stmt.parameter_count();
        let Some(mine) = values.get(next..next + wanted) else {
            return Err(DbErr::Custom(format!(
                "{} values for a statement of {wanted} parameters and more: {piece}",
                values.len()
            )));
        };
        next += wanted;
        for (i, v) in mine.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, Arg(v)).map_err(db_err)?;
        }
        let kinds: Vec<Kind> = stmt
            .columns()
            .iter()
            .map(|c| Kind::of(c.decl_type(), c.name()))
            .collect();
        each(&mut stmt, &kinds)?;
    }
    if next != values.len() {
        return Err(DbErr::Custom(format!(
            "{} values for statements of {next} parameters: {sql}",
            values.len()
        )));
    }
    Ok(())
}

/// The statements of `sql`: split at each `;` outside quotes, empty ones left out.
fn split(sql: &str) -> impl Iterator<Item = &str> {
    let mut pieces = Vec::new();
    if sql.contains(';') {
        let mut quote = None;
        let mut start = 0;
        for (i, ch) in sql.char_indices() {
            match (quote, ch) {
                (None, '\'' | '"' | '`') => quote = Some(ch),
                (Some(q), c) if c == q => quote = None,
                (None, ';') => {
                    pieces.push(&sql[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        pieces.push(&sql[start..]);
    } else {
        pieces.push(sql);
    }
    pieces.into_iter().map(str::trim).filter(|p| !p.is_empty())
}

/// A sea-orm value bound as sqlx-sqlite binds it (`sea-query-sqlx`'s SQLite arguments).
struct Arg<'a>(&'a Value);

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as Owned;
        let null = ToSqlOutput::Owned(Owned::Null);
        let int = |i: Option<i64>| i.map_or(ToSqlOutput::Owned(Owned::Null), |i| i.into());
        Ok(match self.0 {
            Value::Bool(b) => int(b.map(i64::from)),
            Value::TinyInt(i) => int(i.map(i64::from)),
            Value::SmallInt(i) => int(i.map(i64::from)),
            Value::Int(i) => int(i.map(i64::from)),
            Value::BigInt(i) => int(*i),
            Value::TinyUnsigned(i) => int(i.map(i64::from)),
            Value::SmallUnsigned(i) => int(i.map(i64::from)),
            Value::Unsigned(i) => int(i.map(i64::from)),
            Value::BigUnsigned(i) => match i {
                Some(i) => i64::try_from(*i)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
                    .into(),
                None => null,
            },
            Value::Float(f) => f.map_or(null, |f| f64::from(f).into()),
            Value::Double(f) => f.map_or(null, Into::into),
            Value::String(s) => s.as_deref().map_or(null, |s| {
                ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
            }),
            Value::Char(c) => c.map_or(null, |c| c.to_string().into()),
            Value::Bytes(b) => b
                .as_deref()
                .map_or(null, |b| ToSqlOutput::Borrowed(ValueRef::Blob(b))),
            Value::Json(j) => match j {
                Some(j) => serde_json::to_string(j)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
                    .into(),
                None => null,
            },
            Value::ChronoDate(d) => d.map_or(null, |d| d.format("%F").to_string().into()),
            Value::ChronoTime(t) => t.map_or(null, |t| t.format("%T%.f").to_string().into()),
            Value::ChronoDateTime(t) => t.map_or(null, |t| t.format("%F %T%.f").to_string().into()),
            Value::ChronoDateTimeUtc(t) => t.map_or(null, |t| rfc3339(&t).into()),
            Value::ChronoDateTimeLocal(t) => t.map_or(null, |t| rfc3339(&t).into()),
            Value::ChronoDateTimeWithTimeZone(t) => t.map_or(null, |t| rfc3339(&t).into()),
            Value::Uuid(u) => u.map_or(null, |u| u.as_bytes().to_vec().into()),
            Value::Enum(e) => match e {
                sea_orm::sea_query::OptionEnum::Some(v) => v.value.to_string().into(),
                sea_orm::sea_query::OptionEnum::None(_) => null,
            },
            #[allow(unreachable_patterns)]
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    format!("no SQLite binding for {other:?}").into(),
                ));
            }
        })
    }
}

/// sqlx-sqlite's text of an instant.
fn rfc3339<Tz: TimeZone>(t: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The Rust type a result column decodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    I8,
    I16,
    I32,
    I64,
    Bool,
    Double,
    Text,
    Bytes,
    Json,
    Uuid,
    Date,
    DateTime,
    DateTimeUtc,
    /// An expression: its value's own storage class.
    Dynamic,
}

impl Kind {
    /// From the column's declared type (the schema's, as sea-query writes it for SQLite)
    /// and, for `integer`, its name.
    fn of(decl: Option<&str>, name: &str) -> Self {
        let Some(decl) = decl else {
            return Self::Dynamic;
        };
        let decl = decl.to_ascii_lowercase();
        let base = decl.split('(').next().unwrap_or_default().trim();
        match base {
            "integer" | "int" | "bigint" => {
                if i32_columns().contains(name) {
                    Self::I32
                } else {
                    Self::I64
                }
            }
            "smallint" => Self::I16,
            "tinyint" => Self::I8,
            "boolean" => Self::Bool,
            "float" | "double" | "real" | "real_decimal" | "real_money" => Self::Double,
            "text" | "varchar" | "char" | "enum_text" | "string" => Self::Text,
            "blob" | "varbinary_blob" | "binary" => Self::Bytes,
            "json_text" | "jsonb_text" | "json" => Self::Json,
            "uuid_text" => Self::Uuid,
            "date_text" => Self::Date,
            "datetime_text" | "timestamp_text" => Self::DateTime,
            "timestamp_with_timezone_text" => Self::DateTimeUtc,
            _ => Self::Dynamic,
        }
    }

    /// The kind a column of `ty` must decode to (what [`Kind::of`] is checked against).
    #[cfg(test)]
    fn expected(ty: &ColumnType) -> Self {
        match ty {
            ColumnType::TinyInteger => Self::I8,
            ColumnType::SmallInteger => Self::I16,
            ColumnType::Integer => Self::I32,
            ColumnType::BigInteger => Self::I64,
            ColumnType::Boolean => Self::Bool,
            ColumnType::Float | ColumnType::Double => Self::Double,
            ColumnType::Char(_) | ColumnType::String(_) | ColumnType::Text => Self::Text,
            ColumnType::Binary(_) | ColumnType::VarBinary(_) | ColumnType::Blob => Self::Bytes,
            ColumnType::Json | ColumnType::JsonBinary => Self::Json,
            ColumnType::Uuid => Self::Uuid,
            ColumnType::Date => Self::Date,
            ColumnType::DateTime | ColumnType::Timestamp => Self::DateTime,
            ColumnType::TimestampWithTimeZone => Self::DateTimeUtc,
            _ => Self::Dynamic,
        }
    }
}

/// The entities' `i32` columns, by name: SQLite declares `integer` for them and for
/// `i64`s alike. A name is never both (a test checks every entity).
fn i32_columns() -> &'static HashSet<&'static str> {
    static COLUMNS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    COLUMNS.get_or_init(|| {
        entity_columns()
            .into_iter()
            .filter(|(_, _, ty)| matches!(ty, ColumnType::Integer))
            .map(|(_, name, _)| name)
            .collect()
    })
}

/// Every entity's columns: `(table, column, type)`.
fn entity_columns() -> Vec<(String, &'static str, ColumnType)> {
    use crate::entity::*;
    use sea_orm::{ColumnTrait, EntityTrait, IdenStatic, Iterable};
    fn of<E: EntityTrait>(out: &mut Vec<(String, &'static str, ColumnType)>) {
        let table = E::default().table_name().to_owned();
        for c in E::Column::iter() {
            out.push((table.clone(), c.as_str(), c.def().get_column_type().clone()));
        }
    }
    let mut out = Vec::new();
    of::<change_log::Entity>(&mut out);
    of::<idempotency_key::Entity>(&mut out);
    of::<user::Entity>(&mut out);
    #[cfg(feature = "backup")]
    {
        of::<backup::Entity>(&mut out);
        of::<backup_schedule::Entity>(&mut out);
    }
    #[cfg(feature = "finance")]
    {
        of::<finance_category::Entity>(&mut out);
        of::<finance_entry::Entity>(&mut out);
    }
    #[cfg(feature = "games")]
    of::<game_stats_cache::Entity>(&mut out);
    #[cfg(feature = "habits")]
    {
        of::<habit::Entity>(&mut out);
        of::<habit_completion::Entity>(&mut out);
        of::<habit_skip::Entity>(&mut out);
    }
    #[cfg(feature = "identity")]
    {
        of::<invite::Entity>(&mut out);
        of::<personal_access_token::Entity>(&mut out);
        of::<refresh_token::Entity>(&mut out);
        of::<session::Entity>(&mut out);
    }
    #[cfg(feature = "journal")]
    of::<journal_entry::Entity>(&mut out);
    #[cfg(feature = "sport")]
    {
        of::<sport_food::Entity>(&mut out);
        of::<sport_goals::Entity>(&mut out);
        of::<sport_water::Entity>(&mut out);
        of::<sport_workout::Entity>(&mut out);
    }
    #[cfg(feature = "travel")]
    {
        of::<travel_visited::Entity>(&mut out);
        of::<travel_wishlist::Entity>(&mut out);
    }
    #[cfg(feature = "settings")]
    of::<user_setting::Entity>(&mut out);
    out
}

/// One result value as the variant its Rust type takes from a proxy row.
fn decode(kind: Kind, v: ValueRef<'_>, column: &str) -> Result<Value, DbErr> {
    let wrong = || {
        DbErr::Type(format!(
            "column {column}: a {:?} value where {kind:?} was expected",
            v.data_type()
        ))
    };
    if let ValueRef::Null = v {
        return Ok(match kind {
            Kind::I8 => Value::TinyInt(None),
            Kind::I16 => Value::SmallInt(None),
            Kind::I32 => Value::Int(None),
            Kind::I64 => Value::BigInt(None),
            Kind::Bool => Value::Bool(None),
            Kind::Double => Value::Double(None),
            Kind::Bytes => Value::Bytes(None),
            Kind::Json => Value::Json(None),
            Kind::Uuid => Value::Uuid(None),
            Kind::Date => Value::ChronoDate(None),
            Kind::DateTime => Value::ChronoDateTime(None),
            Kind::DateTimeUtc => Value::ChronoDateTimeUtc(None),
            Kind::Text | Kind::Dynamic => Value::String(None),
        });
    }
    let text = || v.as_str().map_err(|_| wrong());
    Ok(match (kind, v) {
        (Kind::I8, ValueRef::Integer(i)) => Value::TinyInt(Some(narrow(i, column)?)),
        (Kind::I16, ValueRef::Integer(i)) => Value::SmallInt(Some(narrow(i, column)?)),
        (Kind::I32, ValueRef::Integer(i)) => Value::Int(Some(narrow(i, column)?)),
        (Kind::I64 | Kind::Dynamic, ValueRef::Integer(i)) => Value::BigInt(Some(i)),
        (Kind::Bool, ValueRef::Integer(i)) => Value::Bool(Some(i != 0)),
        #[allow(clippy::cast_precision_loss)]
        (Kind::Double, ValueRef::Integer(i)) => Value::Double(Some(i as f64)),
        (Kind::Double | Kind::Dynamic, ValueRef::Real(f)) => Value::Double(Some(f)),
        (Kind::Text | Kind::Dynamic, ValueRef::Text(_)) => Value::String(Some(text()?.to_owned())),
        (Kind::Bytes | Kind::Dynamic, ValueRef::Blob(b)) => Value::Bytes(Some(b.to_vec())),
        (Kind::Bytes, ValueRef::Text(t)) => Value::Bytes(Some(t.to_vec())),
        (Kind::Json, ValueRef::Text(t)) => Value::Json(Some(Box::new(
            serde_json::from_slice(t).map_err(|e| DbErr::Type(format!("column {column}: {e}")))?,
        ))),
        (Kind::Uuid, ValueRef::Blob(b)) => Value::Uuid(Some(
            uuid::Uuid::from_slice(b).map_err(|e| DbErr::Type(format!("column {column}: {e}")))?,
        )),
        (Kind::Uuid, ValueRef::Text(_)) => Value::Uuid(Some(
            uuid::Uuid::parse_str(text()?)
                .map_err(|e| DbErr::Type(format!("column {column}: {e}")))?,
        )),
        (Kind::Date, ValueRef::Text(_)) => Value::ChronoDate(Some(
            NaiveDate::parse_from_str(text()?, "%F")
                .map_err(|e| DbErr::Type(format!("column {column}: {e}")))?,
        )),
        (Kind::DateTime, ValueRef::Text(_)) => {
            Value::ChronoDateTime(Some(instant(text()?).ok_or_else(wrong)?.naive_local()))
        }
        (Kind::DateTimeUtc, ValueRef::Text(_)) => Value::ChronoDateTimeUtc(Some(
            instant(text()?).ok_or_else(wrong)?.with_timezone(&Utc),
        )),
        _ => return Err(wrong()),
    })
}

fn narrow<T: TryFrom<i64>>(i: i64, column: &str) -> Result<T, DbErr> {
    T::try_from(i).map_err(|_| DbErr::Type(format!("column {column}: {i} out of range")))
}

/// An instant as sqlx-sqlite reads one from text: RFC 3339 (how instants are written),
/// else SQLite's own forms (`CURRENT_TIMESTAMP`'s `YYYY-MM-DD HH:MM:SS`, in UTC).
fn instant(text: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    const FORMATS: [&str; 6] = [
        "%F %T%.f",
        "%F %R",
        "%FT%T%.f",
        "%FT%R",
        "%F %T%.f%:z",
        "%FT%T%.f%:z",
    ];
    FORMATS.iter().find_map(|f| {
        DateTime::parse_from_str(text, f).ok().or_else(|| {
            NaiveDateTime::parse_from_str(text, f)
                .ok()
                .map(|t| t.and_utc().fixed_offset())
        })
    })
}

/// A SQLite error as sqlx reports one (`store_err` reads its code and kind), so the
/// writer's errors are told apart as the pool's are: `SQLITE_FULL` is "no room left", a
/// constraint a conflict.
#[derive(Debug)]
pub(crate) struct SqliteWriteError {
    code: i32,
    message: String,
}

impl std::fmt::Display for SqliteWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteWriteError {}

impl DatabaseError for SqliteWriteError {
    fn message(&self) -> &str {
        &self.message
    }

    /// The extended result code, as sqlx-sqlite's `code()` gives it.
    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        // The extended codes sqlx-sqlite maps the same way.
        match self.code {
            1555 | 2067 => ErrorKind::UniqueViolation,
            787 => ErrorKind::ForeignKeyViolation,
            1299 => ErrorKind::NotNullViolation,
            275 => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// A rusqlite error as sea-orm's error of a failed query.
fn db_err(e: rusqlite::Error) -> DbErr {
    match e {
        rusqlite::Error::SqliteFailure(f, message) => {
            let err = SqliteWriteError {
                code: f.extended_code,
                message: message.unwrap_or_else(|| f.to_string()),
            };
            DbErr::Query(RuntimeErr::SqlxError(Arc::new(
                sea_orm::sqlx::Error::Database(Box::new(err)),
            )))
        }
        other => DbErr::Query(RuntimeErr::Internal(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::collections::HashMap;

    /// Every entity column decodes to its own type: SQLite's declared type (as sea-query
    /// writes the schema) and the name registry agree with the entity.
    #[test]
    fn every_entity_column_decodes_to_its_own_type() {
        let mut checked = 0;
        for (table, name, ty) in entity_columns() {
            let sql = sea_orm::sea_query::Table::create()
                .table(sea_orm::sea_query::Alias::new("t"))
                .col(sea_orm::sea_query::ColumnDef::new_with_type(
                    sea_orm::sea_query::Alias::new("c"),
                    ty.clone(),
                ))
                .to_string(sea_orm::sea_query::SqliteQueryBuilder);
            // `CREATE TABLE "t" ( "c" <decl> )`
            let decl = sql
                .split("\"c\" ")
                .nth(1)
                .and_then(|rest| rest.strip_suffix(" )"))
                .unwrap();
            assert_eq!(
                Kind::of(Some(decl), name),
                Kind::expected(&ty),
                "{table}.{name} ({ty:?}, declared {decl})"
            );
            checked += 1;
        }
        assert!(checked > 100, "only {checked} columns");
    }

    /// `integer` is told apart by name, so no name may be an `i32` in one entity and an
    /// `i64` in another.
    #[test]
    fn no_column_name_is_both_an_i32_and_an_i64() {
        let mut seen: HashMap<&str, Vec<String>> = HashMap::new();
        for (table, name, ty) in entity_columns() {
            if matches!(ty, ColumnType::Integer | ColumnType::BigInteger) {
                seen.entry(name)
                    .or_default()
                    .push(format!("{table}: {ty:?}"));
            }
        }
        for (name, uses) in seen {
            let i32s = uses
                .iter()
                .filter(|u| u.ends_with("Integer") && !u.ends_with("BigInteger"))
                .count();
            assert!(i32s == 0 || i32s == uses.len(), "{name}: {uses:?}");
        }
    }

    #[test]
    fn statements_split_at_semicolons_outside_quotes() {
        let pieces: Vec<&str> =
            split("INSERT INTO t VALUES ('a;b', \"c;\"); ; RELEASE w; SAVEPOINT w").collect();
        assert_eq!(
            pieces,
            [
                "INSERT INTO t VALUES ('a;b', \"c;\")",
                "RELEASE w",
                "SAVEPOINT w"
            ]
        );
        assert_eq!(split("SELECT 1").collect::<Vec<_>>(), ["SELECT 1"]);
    }

    #[test]
    fn memory_urls_are_refused_and_modes_are_read() {
        assert!(target("sqlite::memory:").is_err());
        assert!(target("sqlite://file.db?mode=memory").is_err());
        let (path, flags) = target("sqlite://data/a.db?mode=rwc").unwrap();
        assert_eq!(path, "data/a.db");
        assert!(flags.contains(OpenFlags::SQLITE_OPEN_CREATE));
        let (_, flags) = target("sqlite:a.db?mode=ro").unwrap();
        assert!(flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY));
    }

    /// What sqlx-sqlite stores and what this writer stores are the same bytes, and each
    /// reads the other's.
    #[tokio::test]
    async fn values_round_trip_between_sqlx_and_the_writer() {
        use sea_orm::ConnectionTrait;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/w.db?mode=rwc", dir.path().display());
        let pool = sea_orm::Database::connect(&url).await.unwrap();
        pool.execute_unprepared(
            "CREATE TABLE t (src text, d date_text, at timestamp_with_timezone_text, \
             u uuid_text, j json_text, b boolean, n integer, ml integer, s smallint, \
             bytes blob, f double, note text)",
        )
        .await
        .unwrap();
        let writer = connect(&crate::config::DbConfig::new(url)).await.unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 20, 56, 7).unwrap()
            + chrono::Duration::microseconds(123_456);
        let values = |src: &str| -> Vec<Value> {
            vec![
                src.into(),
                NaiveDate::from_ymd_opt(2026, 12, 7).unwrap().into(),
                at.into(),
                uuid::Uuid::from_u128(0x1234_5678_9abc).into(),
                serde_json::json!({"a": [1, "x"]}).into(),
                true.into(),
                9_007_199_254_740_993_i64.into(),
                250_i32.into(),
                3_i16.into(),
                vec![0_u8, 255, 7].into(),
                1.5_f64.into(),
                Option::<String>::None.into(),
            ]
        };
        let insert = "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        pool.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            insert,
            values("sqlx"),
        ))
        .await
        .unwrap();
        writer
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                insert,
                values("writer"),
            ))
            .await
            .unwrap();
        // The stored bytes.
        let stored = pool
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT src, d || '|' || at || '|' || hex(u) || '|' || j || '|' || b || '|' \
                 || n || '|' || ml || '|' || s || '|' || hex(bytes) || '|' || f || '|' \
                 || ifnull(note, 'null') AS v FROM t ORDER BY src",
            ))
            .await
            .unwrap();
        let texts: Vec<String> = stored.iter().map(|r| r.try_get("", "v").unwrap()).collect();
        assert_eq!(texts.len(), 2);
        assert_eq!(
            texts[0], texts[1],
            "sqlx and the writer store different bytes"
        );
        assert!(texts[0].starts_with("2026-12-07|2026-12-07T20:56:07.123456+00:00|"));
        // Read back through the writer as the entities' types.
        let rows = writer
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT * FROM t ORDER BY src",
            ))
            .await
            .unwrap();
        for r in &rows {
            assert_eq!(
                r.try_get::<NaiveDate>("", "d").unwrap(),
                NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
            );
            assert_eq!(r.try_get::<DateTime<Utc>>("", "at").unwrap(), at);
            assert_eq!(
                r.try_get::<uuid::Uuid>("", "u").unwrap(),
                uuid::Uuid::from_u128(0x1234_5678_9abc)
            );
            assert_eq!(
                r.try_get::<serde_json::Value>("", "j").unwrap(),
                serde_json::json!({"a": [1, "x"]})
            );
            assert!(r.try_get::<bool>("", "b").unwrap());
            assert_eq!(r.try_get::<i64>("", "n").unwrap(), 9_007_199_254_740_993);
            assert_eq!(r.try_get::<i32>("", "ml").unwrap(), 250);
            assert_eq!(r.try_get::<i16>("", "s").unwrap(), 3);
            assert_eq!(r.try_get::<Vec<u8>>("", "bytes").unwrap(), vec![0, 255, 7]);
            assert!((r.try_get::<f64>("", "f").unwrap() - 1.5).abs() < f64::EPSILON);
            assert_eq!(r.try_get::<Option<String>>("", "note").unwrap(), None);
        }
    }

    /// Constraint failures and a full file come back as sqlx's do: `store_err` tells a
    /// conflict and "no room left" apart from any other failure.
    #[tokio::test]
    async fn errors_keep_their_kinds() {
        use ayubi_kernel::StoreError;
        use sea_orm::ConnectionTrait;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/w.db?mode=rwc", dir.path().display());
        let mut cfg = crate::config::DbConfig::new(url);
        let writer = connect(&cfg).await.unwrap();
        writer
            .execute_unprepared(
                "CREATE TABLE p (id integer PRIMARY KEY); \
                 CREATE TABLE c (p integer REFERENCES p (id), v text UNIQUE); \
                 INSERT INTO p VALUES (1)",
            )
            .await
            .unwrap();
        let insert = |p: i64, v: &str| {
            Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO c VALUES (?, ?)",
                vec![p.into(), v.into()],
            )
        };
        writer.execute_raw(insert(1, "a")).await.unwrap();
        let dup = writer.execute_raw(insert(1, "a")).await.unwrap_err();
        assert!(
            matches!(crate::error::store_err(dup), StoreError::Conflict(m) if m.contains("c.v")),
        );
        let orphan = writer.execute_raw(insert(2, "b")).await.unwrap_err();
        assert!(matches!(
            crate::error::store_err(orphan),
            StoreError::Conflict(_)
        ));
        // A quota the file is already at: the next page is refused.
        let pages: i64 = writer
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA page_count",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "page_count")
            .unwrap();
        cfg.sqlite_max_page_count = u64::try_from(pages).unwrap();
        let full = connect(&cfg).await.unwrap();
        let big = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO c VALUES (1, ?)",
            vec!["x".repeat(100_000).into()],
        );
        let e = full.execute_raw(big).await.unwrap_err();
        assert!(
            matches!(crate::error::store_err(e), StoreError::Full(_)),
            "not Full"
        );
    }
}
