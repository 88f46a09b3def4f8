//! Generic read and write helpers for the web view (`crates/web`).
//!
//! The web pages need many small, page-shaped queries (counts by subsystem
//! and severity, filtered and sorted bug lists, a series with its reviews).
//! Rather than one store method per page, the web crate writes its own SQL
//! against the documented schema and runs it through these helpers, which
//! bind [`SqlParam`]s, substitute the backend's clock for `{now}` and decode
//! each row into a JSON object keyed by column name. This module must never
//! be used to change bugs or their history (that goes through
//! [`Store::set_bug_state`], which writes the history row) and never holds a
//! connection beyond one call.

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

impl Store {
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
        let sql = self.sql(sql);
        let context = || format!("{what} (web query)");
        on_pool!(self, pool => {
            let rows = bind_all!(sqlx::query(&sql), params).fetch_all(pool).await.context(context)?;
            rows.iter().map(row_to_map).collect::<Result<Vec<_>, _>>().context(context)
        })
    }

    /// Runs a write statement of the web view's own tables (accounts and
    /// sessions) and returns the number of rows it changed.
    pub async fn web_execute(
        &self,
        what: &str,
        sql: &str,
        params: &[SqlParam],
    ) -> Result<u64, StoreError> {
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
