//! Compiles the shipped prompt set (`prompts/` at the workspace root) into
//! the binary, so an installed `sashiko` needs no source tree. Writes
//! `$OUT_DIR/embedded_prompts.rs`: one `(relative path, include_str!)`
//! pair per text file, sorted by path. Reads nothing else.

use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let prompts = manifest_dir.join("../../prompts");
    let prompts = prompts.canonicalize().unwrap_or(prompts);
    println!("cargo:rerun-if-changed={}", prompts.display());
    let mut files = Vec::new();
    collect(&prompts, &prompts, &mut files);
    files.sort();
    let mut code = String::from("/// The shipped prompt set: (path under prompts/, contents).\n");
    code.push_str("pub static FILES: &[(&str, &str)] = &[\n");
    for (relative, absolute) in &files {
        println!("cargo:rerun-if-changed={}", absolute.display());
        code.push_str(&format!(
            "    ({relative:?}, include_str!({:?})),\n",
            absolute.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("embedded_prompts.rs"), code).expect("OUT_DIR is writable");
}

/// Every prompt, schema and table under `dir` (directories are watched
/// too, so an added file rebuilds).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read the prompt directory {}", dir.display());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(root, &path, files);
            continue;
        }
        let is_text = matches!(
            path.extension().and_then(|ext| ext.to_str()),
            Some("md" | "toml" | "json" | "txt")
        );
        if !is_text {
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .expect("walked from root")
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        files.push((relative, path));
    }
}
