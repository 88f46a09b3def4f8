//! The kernel-style inline reply: quote only the hunks commented on, with
//! `> `, mark gaps with `[ ... ]`, and put each comment right under the
//! line it is about. Diff lines are quoted verbatim, never rewrapped.
//! Pre-existing bugs are not part of a reply (they go to the bug database).

use sashiko_review::anchor::{diff_lines, LineKind};
use sashiko_review::{Finding, ReviewPatch};

use crate::wrap::wrap;

/// Lines of context quoted above the first line a comment is about.
const LEAD_CONTEXT: u32 = 3;
/// Most diff lines quoted above one comment.
const MAX_QUOTED: usize = 12;
/// Prose width of comments.
const WIDTH: usize = 72;

/// One comment of a reply: the finding (code decided it is reported, where
/// and how it is quoted) and, when the report stage worded it, its words.
#[derive(Clone, Copy, Debug)]
pub struct Comment<'a> {
    pub finding: &'a Finding,
    /// Checked wording from the report stage; `None`: the finder's text.
    pub wording: Option<&'a str>,
}

/// The reply body for one patch, or `None` when no finding is for it.
pub fn render_patch_reply(patch: &ReviewPatch, findings: &[&Finding]) -> Option<String> {
    let comments: Vec<Comment<'_>> = findings
        .iter()
        .map(|finding| Comment {
            finding,
            wording: None,
        })
        .collect();
    render_worded_reply(patch, &comments)
}

/// How a reply marks its comments. The list reply uses the default (plain
/// comments on the bugs the patch introduces); the web's b4 answer
/// (`inline_review`) tags each comment with its severity and comments on
/// pre-existing bugs too, quoting the same lines the same way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplyStyle {
    /// Start each comment with `[severity]` (`[severity, pre-existing]`).
    pub severity_tags: bool,
    /// Comment on pre-existing bugs too.
    pub preexisting: bool,
}

/// Like [`render_patch_reply`], with the report stage's wordings where
/// there are some.
pub fn render_worded_reply(patch: &ReviewPatch, comments: &[Comment<'_>]) -> Option<String> {
    render_styled_reply(patch, comments, ReplyStyle::default())
}

/// Like [`render_worded_reply`], marked as `style` says.
pub fn render_styled_reply(
    patch: &ReviewPatch,
    comments: &[Comment<'_>],
    style: ReplyStyle,
) -> Option<String> {
    let wording_of = |finding: &Finding| {
        comments
            .iter()
            .find(|c| std::ptr::eq(c.finding, finding))
            .and_then(|c| c.wording)
    };
    let comment = |finding: &Finding| comment(finding, wording_of(finding), style);
    let mut findings: Vec<&Finding> = comments
        .iter()
        .map(|c| c.finding)
        .filter(|finding| {
            finding.patch_index == patch.index && (style.preexisting || !finding.preexisting)
        })
        .collect();
    if findings.is_empty() {
        return None;
    }
    let lines = diff_lines(&patch.diff);
    let position = |finding: &Finding| {
        lines.iter().position(|line| {
            line.file == finding.file
                && line
                    .new_line
                    .is_some_and(|number| number >= finding.line_end)
        })
    };
    findings.sort_by_key(|finding| position(finding).unwrap_or(usize::MAX));

    let mut out = String::new();
    let mut quoted_up_to: Option<usize> = None;
    let mut current_file = "";
    let mut unplaced = Vec::new();
    for finding in findings {
        let Some(end) = position(finding) else {
            unplaced.push(finding);
            continue;
        };
        if lines[end].file != current_file {
            current_file = lines[end].file;
            if let Some(header) = lines[..end]
                .iter()
                .rev()
                .find(|l| l.text.starts_with("diff --git "))
            {
                if !out.is_empty() {
                    out.push_str("> [ ... ]\n\n");
                }
                out.push_str(&format!("> {}\n", header.text));
            }
        }
        let first_wanted = finding.line_start.saturating_sub(LEAD_CONTEXT);
        let mut start = end;
        while start > 0 {
            let previous = &lines[start - 1];
            if previous.kind == LineKind::Header && !previous.text.starts_with("@@ ") {
                break;
            }
            if previous
                .new_line
                .is_some_and(|number| number < first_wanted)
            {
                break;
            }
            start -= 1;
            if previous.text.starts_with("@@ ") {
                break;
            }
        }
        if let Some(done) = quoted_up_to {
            if end <= done {
                // Same lines as the previous comment: already quoted.
                out.push_str(&comment(finding));
                out.push('\n');
                continue;
            }
            start = start.max(done + 1);
            if start > done + 1 {
                out.push_str("> [ ... ]\n");
            }
        } else if start > 0 && lines[start - 1].kind != LineKind::Header {
            out.push_str("> [ ... ]\n");
        }
        let end = end.max(start);
        if end - start > MAX_QUOTED {
            // A finding spanning a long range: quote its hunk header, then
            // only the lines right above the one the comment is about.
            if lines[start].text.starts_with("@@ ") {
                out.push_str(&format!("> {}\n", lines[start].text));
            }
            out.push_str("> [ ... ]\n");
            start = end - MAX_QUOTED;
        }
        for line in &lines[start..=end] {
            out.push_str(format!("> {}", line.text).trim_end());
            out.push('\n');
        }
        quoted_up_to = Some(end);
        out.push('\n');
        out.push_str(&comment(finding));
        out.push('\n');
    }
    if !unplaced.is_empty() {
        if !out.is_empty() {
            out.push_str("> [ ... ]\n\n");
        }
        for finding in unplaced {
            out.push_str(&comment(finding));
            out.push('\n');
        }
    }
    Some(out)
}

fn comment(finding: &Finding, wording: Option<&str>, style: ReplyStyle) -> String {
    let mut text = String::new();
    if style.severity_tags {
        let origin = if finding.preexisting {
            ", pre-existing"
        } else {
            ""
        };
        text.push_str(&format!("[{}{origin}] ", finding.severity));
    }
    match wording {
        Some(wording) => text.push_str(wording.trim()),
        None => {
            text.push_str(finding.problem.trim());
            if let Some(suggestion) = &finding.suggestion {
                text.push_str("\n\n");
                text.push_str(suggestion.trim());
            }
        }
    }
    let mut out = wrap(&text, WIDTH);
    // The litmus test the finding speaks of, and the checker's verdict:
    // preformatted, never rewrapped.
    if let Some(block) = crate::litmus::evidence_block(finding) {
        out.push('\n');
        out.push_str(&block);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sashiko_review::Severity;

    const DIFF: &str = "diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -1,8 +1,9 @@
 int f(void)
 {
 	char *p = kmalloc(16, GFP_KERNEL);
+	if (g())
+		return -EIO;
 	use(p);
 	kfree(p);
 	return 0;
 }
";

    fn patch() -> ReviewPatch {
        ReviewPatch {
            index: 1,
            subject: "a: add check".into(),
            author: "A <a@b>".into(),
            message_id: None,
            commit_id: None,
            commit_message: String::new(),
            diff: DIFF.into(),
        }
    }

    fn finding(line: u32, preexisting: bool) -> Finding {
        Finding {
            patch_index: 1,
            file: "a.c".into(),
            line_start: line,
            line_end: line + 1,
            stage: "resource".into(),
            severity: Severity::High,
            problem: "Does this leak p when g() fails? The early return skips the kfree() below."
                .into(),
            severity_explanation: String::new(),
            preexisting,
            locations: vec![],
            evidence: vec![],
            suggestion: None,
            consensus: 1,
        }
    }

    #[test]
    fn quotes_only_the_commented_hunk_and_comments_below_it() {
        let found = finding(4, false);
        let reply = render_patch_reply(&patch(), &[&found]).expect("a reply");
        let expected = "> diff --git a/a.c b/a.c
> @@ -1,8 +1,9 @@
>  int f(void)
>  {
>  	char *p = kmalloc(16, GFP_KERNEL);
> +	if (g())
> +		return -EIO;

Does this leak p when g() fails? The early return skips the kfree()
below.

";
        assert_eq!(reply, expected);
    }

    /// Regression: two findings on the last line of a diff (a checkpatch
    /// rule and another) made the quoting index past the end and panic.
    #[test]
    fn two_findings_on_the_last_line_share_one_quote() {
        let mut first = finding(8, false);
        first.line_end = 9;
        first.line_start = 9;
        let mut second = first.clone();
        second.problem = "Second comment on the same line.".into();
        let reply = render_patch_reply(&patch(), &[&first, &second]).expect("a reply");
        assert_eq!(reply.matches(">  }").count(), 1, "{reply}");
        assert!(
            reply.ends_with("Second comment on the same line.\n\n"),
            "{reply}"
        );
    }

    #[test]
    fn preexisting_findings_are_not_in_the_reply() {
        let found = finding(4, true);
        assert!(render_patch_reply(&patch(), &[&found]).is_none());
    }

    /// The web's b4 answer: the same quoting, each comment tagged with its
    /// severity, pre-existing bugs included.
    #[test]
    fn styled_replies_tag_severities_and_keep_preexisting_bugs() {
        let style = ReplyStyle {
            severity_tags: true,
            preexisting: true,
        };
        let introduced = finding(4, false);
        let mut older = finding(7, true);
        older.severity = Severity::Medium;
        older.problem = "p is used after kfree().".into();
        let comments = [
            Comment {
                finding: &introduced,
                wording: None,
            },
            Comment {
                finding: &older,
                wording: Some("Is p used after the kfree() here?"),
            },
        ];
        let reply = render_styled_reply(&patch(), &comments, style).expect("a reply");
        assert!(
            reply.contains("> +\t\treturn -EIO;\n\n[high] Does this leak p"),
            "{reply}"
        );
        assert!(
            reply.ends_with("[medium, pre-existing] Is p used after the kfree() here?\n\n"),
            "{reply}"
        );
        assert_eq!(
            render_worded_reply(&patch(), &comments),
            render_patch_reply(&patch(), &[&introduced]),
            "the default style is the list reply"
        );
    }
}
