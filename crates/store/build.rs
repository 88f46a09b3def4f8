//! Embeds the SQL migrations of both backends into the library.
//!
//! Lists `migrations/sqlite` and `migrations/postgres` at the workspace root
//! and writes one `include_str!` per file, so the binary carries its schema
//! and needs neither the source tree nor a database at build time. It must
//! never read a database or rewrite the migration files themselves.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("../../migrations");
    let mut out = String::new();
    for backend in ["sqlite", "postgres"] {
        let dir = root.join(backend);
        println!("cargo:rerun-if-changed={}", dir.display());
        let files = list_sql_files(&dir);
        let konst = backend.to_uppercase();
        writeln!(out, "/// Migrations for {backend}: (file name, SQL).")
            .expect("writing to a String");
        writeln!(out, "pub const {konst}: &[(&str, &str)] = &[").expect("writing to a String");
        for file in files {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .expect("migration names are UTF-8");
            let path = file.canonicalize().expect("migration file exists");
            println!("cargo:rerun-if-changed={}", path.display());
            writeln!(
                out,
                "    ({name:?}, include_str!({:?})),",
                path.display().to_string()
            )
            .expect("writing to a String");
        }
        writeln!(out, "];").expect("writing to a String");
    }
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("embedded_migrations.rs"), out)
        .expect("writing embedded_migrations.rs into OUT_DIR");
}

fn list_sql_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("reading migration directory {}: {error}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    files
}
