//! Reading one tree of the repository through git objects: a file by path
//! (following in-tree symbolic links, refusing ones that leave the tree)
//! and a bounded list of the tree's files. Nothing here touches the work
//! tree or runs git: the model can only ever see committed objects.

use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};

use crate::paths::{normalise, resolve_link};

/// Symbolic links followed before giving up.
const MAX_LINK_DEPTH: usize = 8;
const SYMLINK_MODE: i32 = 0o120000;

/// A file read from a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeFile {
    /// The path of the file itself, after following links.
    pub path: String,
    pub bytes: Vec<u8>,
}

impl TreeFile {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn is_binary(&self) -> bool {
        self.bytes.iter().take(8000).any(|&byte| byte == 0)
    }
}

/// Read `path` from the tree `tree`, following links inside the tree.
pub fn read(repo: &Repository, tree: Oid, path: &str) -> Result<TreeFile, String> {
    let tree = repo
        .find_tree(tree)
        .map_err(|error| format!("the tree cannot be read: {}", error.message()))?;
    let mut wanted = normalise(path)?;
    for _ in 0..MAX_LINK_DEPTH {
        let entry = tree
            .get_path(std::path::Path::new(&wanted))
            .map_err(|_| format!("there is no file {wanted:?} in the tree"))?;
        match entry.kind() {
            Some(ObjectType::Blob) => {
                let blob = repo
                    .find_blob(entry.id())
                    .map_err(|error| format!("{wanted}: {}", error.message()))?;
                if entry.filemode() == SYMLINK_MODE {
                    let target = String::from_utf8_lossy(blob.content()).into_owned();
                    wanted = resolve_link(&wanted, &target)?;
                    continue;
                }
                return Ok(TreeFile {
                    path: wanted,
                    bytes: blob.content().to_vec(),
                });
            }
            Some(ObjectType::Tree) => {
                return Err(format!(
                    "{wanted:?} is a directory; give a file, or use grep with this path"
                ))
            }
            _ => return Err(format!("{wanted:?} is a submodule, not a file")),
        }
    }
    Err(format!("{path:?}: too many symbolic links"))
}

/// Read a file, refusing binaries and files over `max_bytes`.
pub fn read_text(
    repo: &Repository,
    tree: Oid,
    path: &str,
    max_bytes: usize,
) -> Result<(String, String), String> {
    let file = read(repo, tree, path)?;
    if file.is_binary() {
        return Err(format!("{} is a binary file", file.path));
    }
    if file.bytes.len() > max_bytes {
        return Err(format!(
            "{} is {} bytes, more than the {max_bytes} a tool may read at once",
            file.path,
            file.bytes.len()
        ));
    }
    Ok((file.path.clone(), file.text()))
}

/// A regular file of a tree: its path, blob id and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub path: String,
    pub blob: Oid,
}

/// Regular files of `tree` under `prefix` (a directory or file path, or
/// everything when `None`) for which `keep` holds, at most `limit`.
/// Returns the files and whether the limit cut the listing short.
pub fn list(
    repo: &Repository,
    tree: Oid,
    prefix: Option<&str>,
    keep: &dyn Fn(&str) -> bool,
    limit: usize,
) -> Result<(Vec<Listed>, bool), String> {
    let tree = repo
        .find_tree(tree)
        .map_err(|error| format!("the tree cannot be read: {}", error.message()))?;
    let prefix = prefix.map(normalise).transpose()?;
    let mut files = Vec::new();
    let mut truncated = false;
    let walked = tree.walk(TreeWalkMode::PreOrder, |root, entry| {
        let Some(name) = entry.name() else {
            return TreeWalkResult::Skip;
        };
        let path = format!("{root}{name}");
        if let Some(prefix) = &prefix {
            let inside = path == *prefix || path.starts_with(&format!("{prefix}/"));
            let above = prefix.starts_with(&format!("{path}/"));
            if !inside && !above {
                return TreeWalkResult::Skip;
            }
        }
        if entry.kind() == Some(ObjectType::Blob) && entry.filemode() != SYMLINK_MODE {
            let inside = prefix
                .as_ref()
                .is_none_or(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")));
            if inside && keep(&path) {
                if files.len() >= limit {
                    truncated = true;
                    return TreeWalkResult::Abort;
                }
                files.push(Listed {
                    path,
                    blob: entry.id(),
                });
            }
        }
        TreeWalkResult::Ok
    });
    if let Err(error) = walked {
        if error.code() != git2::ErrorCode::User {
            return Err(format!("walking the tree failed: {}", error.message()));
        }
    }
    Ok((files, truncated))
}
