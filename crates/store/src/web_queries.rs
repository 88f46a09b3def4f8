//! The generic row readers behind the store's typed web queries
//! ([`crate::web`]): [`Store::web_typed`] binds [`SqlParam`]s, substitutes
//! the backend's clock for `{now}` and hands each row to a decoder that
//! reads its columns by position into typed values. They are crate-private;
//! other crates get typed methods.
//!
//! [`Store::web_rows`], which decodes each row into a JSON object keyed by
//! column name, remains public for tests that check what was stored and
//! for the callers outside `crates/web` whose SQL is still to move into the
//! store; the web crate must never use it. This module must never be used
//! to change bugs or their history (that goes through
//! [`Store::set_bug_state`], which writes the history row) and never holds
//! a connection beyond one call.

use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::{Column, Row, TypeInfo};

use crate::error::QueryContext;
use crate::{on_pool, Store, StoreError};

/// One bound parameter of a web query.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlParam {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A floating-point number.
    Float(f64),
}

macro_rules! bind_all {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                SqlParam::Text(text) => query.bind(text.clone()),
                SqlParam::Int(number) => query.bind(*number),
                SqlParam::Bool(flag) => query.bind(*flag),
                SqlParam::Float(number) => query.bind(*number),
            };
        }
        query
    }};
}

/// Decodes one column of `row` into JSON, trying the types the schema uses:
/// integers, floats, text, booleans and JSON documents. NULL becomes null.
fn column_value<R>(row: &R, index: usize) -> Result<Value, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Json<Value>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    // Decode by the column's declared type first: a failed try_get builds
    // an error, which costs more than the decode on pages of many rows.
    let declared = row.columns()[index].type_info().name().to_ascii_uppercase();
    match declared.as_str() {
        "TEXT" | "VARCHAR" => {
            if let Ok(text) = row.try_get::<Option<String>, _>(index) {
                return Ok(text.map_or(Value::Null, Value::from));
            }
        }
        "BOOL" | "BOOLEAN" => {
            if let Ok(flag) = row.try_get::<Option<bool>, _>(index) {
                return Ok(flag.map_or(Value::Null, Value::from));
            }
        }
        _ => {}
    }
    if let Ok(number) = row.try_get::<Option<i64>, _>(index) {
        return Ok(number.map_or(Value::Null, Value::from));
    }
    if let Ok(number) = row.try_get::<Option<f64>, _>(index) {
        return Ok(number.map_or(Value::Null, Value::from));
    }
    if let Ok(text) = row.try_get::<Option<String>, _>(index) {
        return Ok(text.map_or(Value::Null, Value::from));
    }
    if let Ok(flag) = row.try_get::<Option<bool>, _>(index) {
        return Ok(flag.map_or(Value::Null, Value::from));
    }
    row.try_get::<Option<Json<Value>>, _>(index)
        .map(|document| document.map_or(Value::Null, |Json(value)| value))
}

fn row_to_map<R>(row: &R) -> Result<Map<String, Value>, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Json<Value>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut map = Map::new();
    for (index, column) in row.columns().iter().enumerate() {
        map.insert(column.name().to_string(), column_value(row, index)?);
    }
    Ok(map)
}

/// A column of a [`WebRow`] that is missing or not of the type asked for.
#[derive(Debug)]
pub(crate) struct ColumnError(sqlx::Error);

impl std::fmt::Display for ColumnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ColumnError {}

impl ColumnError {
    /// A JSON column whose document is not of the expected shape.
    pub(crate) fn decode(error: serde_json::Error) -> ColumnError {
        ColumnError(sqlx::Error::Decode(Box::new(error)))
    }
}

/// One row of a typed web query ([`Store::web_typed`]), its columns read
/// by position in the caller's SELECT list.
pub(crate) enum WebRow<'r> {
    /// A SQLite row.
    Sqlite(&'r sqlx::sqlite::SqliteRow),
    /// A PostgreSQL row.
    Postgres(&'r sqlx::postgres::PgRow),
}

macro_rules! get_column {
    ($row:expr, $index:expr, $type:ty) => {
        match $row {
            WebRow::Sqlite(row) => row.try_get::<$type, _>($index),
            WebRow::Postgres(row) => row.try_get::<$type, _>($index),
        }
        .map_err(ColumnError)
    };
}

impl<'r> WebRow<'r> {
    /// An integer column (NULL is an error).
    pub fn int(&self, index: usize) -> Result<i64, ColumnError> {
        get_column!(self, index, i64)
    }

    /// An integer column that may be NULL.
    pub fn int_or_null(&self, index: usize) -> Result<Option<i64>, ColumnError> {
        get_column!(self, index, Option<i64>)
    }

    /// A text column (NULL is an error), borrowed from the row.
    pub fn text(&self, index: usize) -> Result<&'r str, ColumnError> {
        get_column!(self, index, &'r str)
    }

    /// A text column that may be NULL.
    pub fn text_or_null(&self, index: usize) -> Result<Option<&'r str>, ColumnError> {
        get_column!(self, index, Option<&'r str>)
    }

    /// A binary column (BLOB on SQLite, BYTEA on PostgreSQL), borrowed.
    pub fn bytes(&self, index: usize) -> Result<&'r [u8], ColumnError> {
        get_column!(self, index, &'r [u8])
    }

    /// A boolean column (SQLite stores 0 or 1).
    pub fn flag(&self, index: usize) -> Result<bool, ColumnError> {
        get_column!(self, index, bool)
    }

    /// A floating-point column that may be NULL.
    pub fn float_or_null(&self, index: usize) -> Result<Option<f64>, ColumnError> {
        get_column!(self, index, Option<f64>)
    }

    /// A JSON column (a document on PostgreSQL, text on SQLite); NULL
    /// becomes null.
    pub fn json(&self, index: usize) -> Result<Value, ColumnError> {
        match self {
            WebRow::Sqlite(row) => {
                let text = row.try_get::<Option<&str>, _>(index).map_err(ColumnError)?;
                match text {
                    None => Ok(Value::Null),
                    Some(text) => serde_json::from_str(text)
                        .map_err(|error| ColumnError(sqlx::Error::Decode(Box::new(error)))),
                }
            }
            WebRow::Postgres(row) => row
                .try_get::<Option<Json<Value>>, _>(index)
                .map(|document| document.map_or(Value::Null, |Json(value)| value))
                .map_err(ColumnError),
        }
    }
}

/// Refuses a text parameter holding a NUL byte, which PostgreSQL's TEXT
/// cannot hold (its error would be a failed query): bad input, named by
/// the query it was for, on both backends alike.
fn refuse_nul(what: &str, params: &[SqlParam]) -> Result<(), StoreError> {
    let holds_nul = |param: &SqlParam| matches!(param, SqlParam::Text(text) if text.contains('\0'));
    if params.iter().any(holds_nul) {
        return Err(StoreError::Invalid(format!(
            "{what}: a text value holds a NUL byte, which no stored text can"
        )));
    }
    Ok(())
}

impl Store {
    /// `sql` with `{now}` replaced, copied only when it has one.
    fn web_sql<'s>(&self, sql: &'s str) -> std::borrow::Cow<'s, str> {
        if sql.contains("{now}") {
            std::borrow::Cow::Owned(self.sql(sql))
        } else {
            std::borrow::Cow::Borrowed(sql)
        }
    }

    /// Runs a read query for the web view and hands each row to `decode`,
    /// which reads the columns it selected by position. Cheaper than
    /// [`Store::web_rows`] for pages of many rows. `{now}` and parameters
    /// as there; `what` names the query in errors.
    pub(crate) async fn web_typed<T>(
        &self,
        what: &str,
        sql: &str,
        params: &[SqlParam],
        decode: impl Fn(&WebRow<'_>) -> Result<T, ColumnError>,
    ) -> Result<Vec<T>, StoreError> {
        refuse_nul(what, params)?;
        let sql = self.web_sql(sql);
        let sql = sql.as_ref();
        let context = || format!("{what} (web query)");
        let decoded = match &self.backend {
            crate::Backend::Sqlite(pool) => {
                let rows = bind_all!(sqlx::query(sql), params)
                    .fetch_all(pool)
                    .await
                    .context(context)?;
                rows.iter()
                    .map(|row| decode(&WebRow::Sqlite(row)))
                    .collect::<Result<Vec<T>, ColumnError>>()
            }
            crate::Backend::Postgres(pool) => {
                let rows = bind_all!(sqlx::query(sql), params)
                    .fetch_all(pool)
                    .await
                    .context(context)?;
                rows.iter()
                    .map(|row| decode(&WebRow::Postgres(row)))
                    .collect::<Result<Vec<T>, ColumnError>>()
            }
        };
        decoded.map_err(|ColumnError(source)| StoreError::Query {
            what: context(),
            source,
        })
    }

    /// Runs a read query for the web view and returns its rows as JSON
    /// objects keyed by column name. `{now}` in `sql` becomes the backend's
    /// clock in milliseconds; parameters are `$1`, `$2`, ... in order.
    /// `what` names the query in errors.
    pub async fn web_rows(
        &self,
        what: &str,
        sql: &str,
        params: &[SqlParam],
    ) -> Result<Vec<Map<String, Value>>, StoreError> {
        refuse_nul(what, params)?;
        let sql = self.web_sql(sql);
        let sql = sql.as_ref();
        let context = || format!("{what} (web query)");
        on_pool!(self, pool => {
            let rows = bind_all!(sqlx::query(sql), params).fetch_all(pool).await.context(context)?;
            rows.iter().map(row_to_map).collect::<Result<Vec<_>, _>>().context(context)
        })
    }

    /// Runs a write statement of the web view's own tables (accounts and
    /// sessions) and returns the number of rows it changed.
    pub(crate) async fn web_execute(
        &self,
        what: &str,
        sql: &str,
        params: &[SqlParam],
    ) -> Result<u64, StoreError> {
        refuse_nul(what, params)?;
        let sql = self.sql(sql);
        let context = || format!("{what} (web statement)");
        on_pool!(self, pool => {
            bind_all!(sqlx::query(&sql), params)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
                .context(context)
        })
    }
}
