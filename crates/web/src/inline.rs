//! The `inline_review` text of the b4 API: for one patch, each finding
//! quotes the lines of the diff it is about ("> " prefixed, as in a mail
//! reply) followed by the comment. Pure: diff text and findings in, text
//! out; it must never invent lines that are not in the diff.

/// What one comment needs.
pub struct InlineFinding<'a> {
    pub file: &'a str,
    pub line_start: i64,
    pub line_end: i64,
    pub severity: &'a str,
    pub problem: &'a str,
    pub preexisting: bool,
}

/// Lines of `diff` in `file` whose new-side line number is within
/// `first..=last` (context and added lines), or removed lines right there.
fn quoted_lines<'d>(diff: &'d str, file: &str, first: i64, last: i64) -> Vec<&'d str> {
    let mut current_file = "";
    let mut new_line = 0_i64;
    let mut in_hunk = false;
    let mut quoted = Vec::new();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            current_file = path.trim().trim_start_matches("b/");
            in_hunk = false;
            continue;
        }
        if line.starts_with("--- ") || line.starts_with("diff --git ") {
            in_hunk = false;
            continue;
        }
        if let Some(header) = line.strip_prefix("@@ ") {
            new_line = header
                .split_whitespace()
                .find_map(|part| part.strip_prefix('+'))
                .and_then(|range| range.split(',').next())
                .and_then(|start| start.parse().ok())
                .unwrap_or(0);
            in_hunk = true;
            continue;
        }
        if !in_hunk || current_file != file {
            continue;
        }
        match line.chars().next() {
            Some('-') if (first..=last + 1).contains(&new_line) => quoted.push(line),
            Some('+') | Some(' ') | None => {
                if (first..=last).contains(&new_line) {
                    quoted.push(line);
                }
                new_line += 1;
            }
            _ => {}
        }
    }
    quoted
}

/// The inline review of one patch; empty when it has no findings.
pub fn render(subject: &str, diff: &str, findings: &[InlineFinding<'_>]) -> String {
    if findings.is_empty() {
        return String::new();
    }
    let mut out = format!("> {subject}\n");
    for finding in findings {
        out.push('\n');
        let first = finding.line_start.saturating_sub(2).max(1);
        let lines = quoted_lines(
            diff,
            finding.file,
            first,
            finding.line_end.max(finding.line_start),
        );
        if lines.is_empty() {
            out.push_str(&format!("> {}:{}\n", finding.file, finding.line_start));
        } else {
            out.push_str(&format!("> {}\n", finding.file));
            for line in lines.iter().take(12) {
                out.push_str("> ");
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push('\n');
        let origin = if finding.preexisting {
            ", pre-existing"
        } else {
            ""
        };
        out.push_str(&format!(
            "[{}{origin}] {}\n",
            finding.severity,
            finding.problem.trim()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -10,4 +10,5 @@ int f(void)\n int a;\n-int b;\n+int b = 0;\n+kfree(p);\n return a;\n }\n";

    #[test]
    fn quotes_the_lines_a_finding_is_about() {
        let cases: [(i64, i64, &[&str]); 3] = [
            (12, 12, &["+kfree(p);"]),
            (11, 12, &["-int b;", "+int b = 0;", "+kfree(p);"]),
            (40, 41, &[]),
        ];
        for (first, last, expected) in cases {
            assert_eq!(
                quoted_lines(DIFF, "mm/a.c", first, last),
                expected,
                "{first}-{last}"
            );
        }
        assert!(quoted_lines(DIFF, "mm/b.c", 10, 14).is_empty());
    }

    #[test]
    fn renders_comments_after_quotes() {
        let text = render(
            "mm: fix",
            DIFF,
            &[InlineFinding {
                file: "mm/a.c",
                line_start: 12,
                line_end: 12,
                severity: "high",
                problem: "double free",
                preexisting: false,
            }],
        );
        assert!(text.starts_with("> mm: fix\n"));
        assert!(text.contains("> +kfree(p);\n"));
        assert!(text.ends_with("[high] double free\n"));
        assert_eq!(render("x", DIFF, &[]), "");
    }
}
