//! The rows of a subsystem's bug table, written straight into a string:
//! the list is the hot page and the template engine cost most of its time
//! (a JSON value per cell, then the loop). The output is byte for byte what
//! the template loop it replaced wrote (the test below renders both), and
//! every value goes through [`escape_into`], which escapes exactly as the
//! templates' autoescaping does. `subsystem.html` inserts the result with
//! `safe`; this module must never write a value unescaped.

use std::fmt::Write as _;

use sashiko_store::web::ListedBug;

use crate::format::{write_age, write_timestamp};

/// Appends `text` escaped as tera's autoescaping escapes (`&`, `<`, `>`,
/// `"`, `'` and `/`).
pub fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(position) = rest.find(['&', '<', '>', '"', '\'', '/']) {
        out.push_str(&rest[..position]);
        let (special, after) = rest[position..].split_at(1);
        out.push_str(match special {
            "&" => "&amp;",
            "<" => "&lt;",
            ">" => "&gt;",
            "\"" => "&quot;",
            "'" => "&#x27;",
            _ => "&#x2F;",
        });
        rest = after;
    }
    out.push_str(rest);
}

/// The `<tbody>` content for `bugs` (a row saying nothing matches when
/// there are none), with ages relative to `now_ms`.
pub fn rows(bugs: &[ListedBug], now_ms: i64) -> String {
    let mut out = String::with_capacity(64 + bugs.len() * 600);
    if bugs.is_empty() {
        out.push_str(
            "\n<tr><td colspan=\"8\" class=\"muted\">No bugs match these filters.</td></tr>\n",
        );
        return out;
    }
    for bug in bugs {
        let id = bug.id;
        out.push_str("\n<tr class=\"bug-row\" data-severity=\"");
        escape_into(&mut out, &bug.severity);
        out.push_str("\" data-state=\"");
        escape_into(&mut out, &bug.state);
        let _ = write!(
            out,
            "\">\n<td class=\"num\"><a href=\"/bug/{id}\">{id}</a></td>\n<td><span class=\"sev sev-"
        );
        escape_into(&mut out, &bug.severity);
        out.push_str("\">");
        escape_into(&mut out, &bug.severity);
        out.push_str("</span></td>\n<td><span class=\"state\">");
        escape_into(&mut out, &bug.state);
        let _ = write!(out, "</span></td>\n<td><a href=\"/bug/{id}\">");
        escape_into(&mut out, &bug.title);
        out.push_str("</a></td>\n<td class=\"mono\">");
        escape_into(&mut out, &bug.file);
        let _ = write!(out, ":{}</td>\n<td>", bug.line_start);
        out.push_str(if bug.preexisting { "yes" } else { "no" });
        out.push_str("</td>\n<td>");
        write_timestamp(&mut out, bug.updated_at);
        out.push_str("</td>\n<td>");
        write_age(&mut out, bug.created_at, now_ms);
        out.push_str("</td>\n</tr>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{age, timestamp};

    /// The template loop this module replaced, verbatim.
    const TEMPLATE_LOOP: &str = r#"{% for bug in bugs %}
<tr class="bug-row" data-severity="{{ bug.severity }}" data-state="{{ bug.state }}">
<td class="num"><a href="/bug/{{ bug.id }}">{{ bug.id }}</a></td>
<td><span class="sev sev-{{ bug.severity }}">{{ bug.severity }}</span></td>
<td><span class="state">{{ bug.state }}</span></td>
<td><a href="/bug/{{ bug.id }}">{{ bug.title }}</a></td>
<td class="mono">{{ bug.file }}:{{ bug.line_start }}</td>
<td>{% if bug.preexisting %}yes{% else %}no{% endif %}</td>
<td>{{ bug.updated }}</td>
<td>{{ bug.age }}</td>
</tr>
{% else %}
<tr><td colspan="8" class="muted">No bugs match these filters.</td></tr>
{% endfor %}"#;

    fn bug(id: i64, title: &str, file: &str, preexisting: bool, created_at: i64) -> ListedBug {
        ListedBug {
            id,
            state: if id % 2 == 0 { "open" } else { "confirmed" }.to_string(),
            severity: ["critical", "high", "medium", "low"][(id % 4) as usize].to_string(),
            title: title.to_string(),
            file: file.to_string(),
            line_start: id * 7,
            preexisting,
            created_at,
            updated_at: created_at + 3_600_000,
        }
    }

    fn check(bugs: &[ListedBug]) {
        let now = 1_764_806_400_000;
        let mut tera = tera::Tera::default();
        tera.add_raw_template("loop.html", TEMPLATE_LOOP)
            .expect("the old loop compiles");
        tera.autoescape_on(vec![".html"]);
        let values: Vec<serde_json::Value> = bugs
            .iter()
            .map(|bug| {
                serde_json::json!({"id": bug.id, "state": bug.state, "severity": bug.severity,
                    "title": bug.title, "file": bug.file, "line_start": bug.line_start,
                    "preexisting": bug.preexisting, "updated": timestamp(bug.updated_at),
                    "age": age(bug.created_at, now)})
            })
            .collect();
        let mut context = tera::Context::new();
        context.insert("bugs", &values);
        let expected = tera.render("loop.html", &context).expect("render");
        assert_eq!(rows(bugs, now), expected);
    }

    #[test]
    fn rows_are_what_the_template_wrote() {
        check(&[]);
        check(&[bug(
            1,
            "a lock is not released",
            "mm/slab.c",
            true,
            1_700_000_000_000,
        )]);
        check(&[
            bug(
                2,
                "<script>alert('x')</script> & \"quoted\"",
                "drivers/net/a&b.c",
                false,
                0,
            ),
            bug(
                3,
                "ünïcode — text/with/slashes",
                "fs/ext4/inode.c",
                true,
                1_764_806_399_000,
            ),
            bug(4, "", "", false, 1_764_000_000_000),
            bug(5, "x".repeat(300).as_str(), "lib/x.c", true, -5),
        ]);
    }

    #[test]
    fn escapes_like_the_templates() {
        let cases = [
            ("plain", "plain"),
            ("a/b", "a&#x2F;b"),
            ("<b>&'\"", "&lt;b&gt;&amp;&#x27;&quot;"),
            ("ünï/", "ünï&#x2F;"),
        ];
        for (input, expected) in cases {
            let mut out = String::new();
            escape_into(&mut out, input);
            assert_eq!(out, expected, "{input:?}");
        }
    }
}
