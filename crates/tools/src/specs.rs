//! The tool descriptions offered to the model (names, what they do, JSON
//! schemas of their arguments). Our own words; data only.

use serde_json::json;

use sashiko_llm_core::ToolSpec;

use crate::repo_tools::tree_property;

/// Every repository tool, in the order offered.
pub fn all() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "read_file".into(),
            description: "Read lines of a file of the reviewed tree, numbered. Cite these numbers for problems in code the patch does not change.".into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "path from the top of the tree, e.g. drivers/net/foo.c"},
                    "start_line": {"type": "integer", "minimum": 1},
                    "end_line": {"type": "integer", "minimum": 1},
                    "tree": tree_property(),
                },
                "required": ["path"],
                "additionalProperties": false,
            }),
        },
        ToolSpec {
            name: "grep".into(),
            description: "Search the files of the reviewed tree for a regular expression (Rust regex syntax); returns path:line: text for each match.".into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "pattern": {"type": "string"},
                    "path": {"type": "string", "description": "a directory or file to search below (default: the whole tree)"},
                    "tree": tree_property(),
                },
                "required": ["pattern"],
                "additionalProperties": false,
            }),
        },
        ToolSpec {
            name: "git_log".into(),
            description: "Commits up to the review's baseline, newest first, optionally only those changing a path.".into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "max_count": {"type": "integer", "minimum": 1, "maximum": 30},
                },
                "additionalProperties": false,
            }),
        },
        ToolSpec {
            name: "git_show".into(),
            description: "The message and diff of one commit at or before the review's baseline (rev: a commit id or \"baseline\"), optionally limited to a path.".into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "rev": {"type": "string"},
                    "path": {"type": "string"},
                },
                "required": ["rev"],
                "additionalProperties": false,
            }),
        },
        ToolSpec {
            name: "git_blame".into(),
            description: "Which commit last changed each line of a file in the baseline tree.".into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "start_line": {"type": "integer", "minimum": 1},
                    "end_line": {"type": "integer", "minimum": 1},
                },
                "required": ["path", "start_line", "end_line"],
                "additionalProperties": false,
            }),
        },
    ]
}

/// The names of every tool.
pub fn names() -> Vec<String> {
    all().into_iter().map(|spec| spec.name).collect()
}
