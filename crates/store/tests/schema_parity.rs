//! The SQLite and PostgreSQL migrations must give the same schema: the same
//! tables, columns (name, kind of type, nullability, primary key) and
//! indexes (name, table, columns and their order, uniqueness, partiality).
//! Column types are compared by kind, since JSON is TEXT in SQLite and
//! JSONB in PostgreSQL.

mod common;

use std::collections::BTreeSet;

use common::TestDb;
use sashiko_store::BackendKind;
use sqlx::Connection;

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Column {
    table: String,
    name: String,
    kind: &'static str,
    not_null: bool,
    primary_key: bool,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Index {
    /// None for indexes that back a UNIQUE constraint (their names differ by backend).
    name: Option<String>,
    table: String,
    columns: Vec<String>,
    unique: bool,
    partial: bool,
}

fn kind_of(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => "integer",
        "text" | "jsonb" => "text",
        "blob" | "bytea" => "bytes",
        "boolean" => "boolean",
        "real" | "double precision" => "real",
        _ => "UNKNOWN",
    }
}

async fn sqlite_schema(url: &str) -> (BTreeSet<Column>, BTreeSet<Index>) {
    let mut connection = sqlx::SqliteConnection::connect(url)
        .await
        .expect("connect to SQLite");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .expect("list tables");
    let mut columns = BTreeSet::new();
    let mut indexes = BTreeSet::new();
    for table in tables {
        let rows: Vec<(String, String, bool, i64)> =
            sqlx::query_as("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1)")
                .bind(&table)
                .fetch_all(&mut connection)
                .await
                .expect("table info");
        for (name, declared, not_null, pk) in rows {
            columns.insert(Column {
                table: table.clone(),
                name,
                kind: kind_of(&declared),
                not_null: not_null || pk > 0,
                primary_key: pk > 0,
            });
        }
        let index_rows: Vec<(String, bool, String, bool)> =
            sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
                .bind(&table)
                .fetch_all(&mut connection)
                .await
                .expect("index list");
        for (name, unique, origin, partial) in index_rows {
            if origin == "pk" {
                continue;
            }
            let key_columns: Vec<(String, bool)> = sqlx::query_as(
                "SELECT name, \"desc\" FROM pragma_index_xinfo($1) WHERE key = 1 ORDER BY seqno",
            )
            .bind(&name)
            .fetch_all(&mut connection)
            .await
            .expect("index columns");
            indexes.insert(Index {
                name: (origin == "c").then_some(name),
                table: table.clone(),
                columns: key_columns
                    .into_iter()
                    .map(|(column, desc)| {
                        if desc {
                            format!("{column} DESC")
                        } else {
                            column
                        }
                    })
                    .collect(),
                unique,
                partial,
            });
        }
    }
    (columns, indexes)
}

async fn postgres_schema(url: &str) -> (BTreeSet<Column>, BTreeSet<Index>) {
    let mut connection = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL");
    let rows: Vec<(String, String, String, String, bool)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable::text, \
                EXISTS (SELECT 1 FROM information_schema.table_constraints t \
                        JOIN information_schema.key_column_usage k \
                          ON k.constraint_name = t.constraint_name AND k.table_schema = t.table_schema \
                        WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema \
                          AND t.table_name = c.table_name AND k.column_name = c.column_name) \
         FROM information_schema.columns c \
         WHERE c.table_schema = current_schema() AND c.table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .expect("list columns");
    let columns = rows
        .into_iter()
        .map(|(table, name, declared, nullable, primary_key)| Column {
            table,
            name,
            kind: kind_of(&declared),
            not_null: nullable == "NO",
            primary_key,
        })
        .collect();
    let index_rows: Vec<(String, String, bool, bool, bool, Vec<String>)> = sqlx::query_as(
        "SELECT i.relname::text, t.relname::text, x.indisunique, x.indpred IS NOT NULL, \
                EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid), \
                ARRAY(SELECT pg_get_indexdef(x.indexrelid, n, true) || \
                             CASE WHEN (x.indoption[n - 1] & 1) = 1 THEN ' DESC' ELSE '' END \
                      FROM generate_series(1, x.indnkeyatts) AS n ORDER BY n) \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace s ON s.oid = t.relnamespace \
         WHERE s.nspname = current_schema() AND NOT x.indisprimary AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .expect("list indexes");
    let indexes = index_rows
        .into_iter()
        .map(
            |(name, table, unique, partial, constraint, columns)| Index {
                name: (!constraint).then_some(name),
                table,
                // A column in byte order on PostgreSQL is SQLite's default
                // (BINARY) order, which SQLite does not spell out.
                columns: columns
                    .into_iter()
                    .map(|column| column.replace(" COLLATE \"C\"", ""))
                    .collect(),
                unique,
                partial,
            },
        )
        .collect();
    (columns, indexes)
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_give_the_same_schema() {
    let sqlite = TestDb::new(BackendKind::Sqlite).await;
    let postgres = TestDb::new(BackendKind::Postgres).await;
    let (sqlite_columns, sqlite_indexes) = sqlite_schema(&sqlite.url).await;
    let (postgres_columns, postgres_indexes) = postgres_schema(&postgres.url).await;

    assert!(
        sqlite_columns.len() > 50,
        "introspection found the schema: {} columns",
        sqlite_columns.len()
    );
    assert!(
        sqlite_indexes.len() > 10,
        "introspection found the indexes: {}",
        sqlite_indexes.len()
    );
    for column in sqlite_columns.iter().chain(&postgres_columns) {
        assert_ne!(column.kind, "UNKNOWN", "column type not mapped: {column:?}");
    }
    let only_sqlite: Vec<_> = sqlite_columns.difference(&postgres_columns).collect();
    let only_postgres: Vec<_> = postgres_columns.difference(&sqlite_columns).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "columns differ\nonly in SQLite: {only_sqlite:#?}\nonly in PostgreSQL: {only_postgres:#?}"
    );
    let only_sqlite: Vec<_> = sqlite_indexes.difference(&postgres_indexes).collect();
    let only_postgres: Vec<_> = postgres_indexes.difference(&sqlite_indexes).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "indexes differ\nonly in SQLite: {only_sqlite:#?}\nonly in PostgreSQL: {only_postgres:#?}"
    );
}
