//! Coccinelle's report-mode lines (`b/mm/rmap.c:214:2-8: preceding lock on
//! line 211`) and the comparison of the baseline's reports with the end
//! state's: a report is new when the baseline had no report of the same
//! script with the same words at the line that became this one.

use super::Side;
use crate::lines::LineMap;

/// One report line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub side: Side,
    /// Path in the repository (without the scratch `a/`/`b/` prefix).
    pub file: String,
    pub line: u32,
    /// The script's words, with scratch prefixes removed from paths.
    pub message: String,
    /// The line as spatch printed it.
    pub raw: String,
}

impl Report {
    /// Lines of the same file the message names ("on line 211").
    pub fn related_lines(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let words: Vec<&str> = self.message.split_whitespace().collect();
        for pair in words.windows(2) {
            if matches!(pair[0], "line" | "lines" | "Line") {
                let number: String = pair[1].chars().take_while(char::is_ascii_digit).collect();
                if let Ok(number) = number.parse::<u32>() {
                    out.push(number);
                }
            }
        }
        out
    }

    /// The message with numbers masked, to compare across versions.
    fn shape(&self) -> String {
        let mut out = String::with_capacity(self.message.len());
        let mut in_number = false;
        for c in self.message.chars() {
            if c.is_ascii_digit() {
                if !in_number {
                    out.push('#');
                }
                in_number = true;
            } else {
                in_number = false;
                out.push(c);
            }
        }
        out
    }
}

/// Parse spatch's standard output. `files` are the scratch paths given to
/// spatch with their side and repository path. Lines that are not reports
/// on one of those files come back as `Err(line)`.
pub fn parse(stdout: &str, files: &[(String, Side, String)]) -> Vec<Result<Report, String>> {
    let mut out = Vec::new();
    for line in stdout.lines().filter(|line| !line.trim().is_empty()) {
        let found = files.iter().find_map(|(scratch, side, file)| {
            let rest = line.strip_prefix(scratch.as_str())?.strip_prefix(':')?;
            let (number, rest) = rest.split_once(':')?;
            let number: u32 = number.parse().ok()?;
            // `COL-COL: message` or `COL-LINE:COL: message`.
            let (_, message) = rest.split_once(": ")?;
            Some(Report {
                side: *side,
                file: file.clone(),
                line: number,
                message: unscratch(message.trim(), files),
                raw: unscratch(line, files),
            })
        });
        out.push(found.ok_or_else(|| line.to_owned()));
    }
    out
}

/// Replace scratch paths (`b/mm/rmap.c`) in a message by repository paths.
fn unscratch(text: &str, files: &[(String, Side, String)]) -> String {
    let mut text = text.to_owned();
    for (scratch, _, file) in files {
        text = text.replace(scratch.as_str(), file);
    }
    text
}

/// How an end-state report relates to the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// New with the series, on or next to a changed line.
    New,
    /// The baseline had it too, and it is on or next to a changed line: a
    /// pre-existing bug candidate.
    PreexistingNearChange,
    /// Away from every changed line: not about this series.
    AwayFromChange,
}

/// Classify the end-state reports of one script on one file against that
/// script's baseline reports on the same file.
pub fn classify(end: &Report, baseline: &[&Report], map: &LineMap, slack: u32) -> Verdict {
    let near = map.near_change(end.line, slack)
        || end
            .related_lines()
            .into_iter()
            .any(|line| map.is_changed(line));
    if !near {
        return Verdict::AwayFromChange;
    }
    let shape = end.shape();
    let existed = baseline.iter().any(|before| {
        before.shape() == shape
            && match map.old_to_new(before.line) {
                Some(moved) => moved == end.line,
                // The line itself was rewritten: the same report within the
                // rewritten region counts as the old one.
                None => map.near_change(end.line, 0),
            }
    });
    if existed {
        Verdict::PreexistingNearChange
    } else {
        Verdict::New
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Region;

    fn files() -> Vec<(String, Side, String)> {
        vec![
            ("a/mm/rmap.c".into(), Side::Baseline, "mm/rmap.c".into()),
            ("b/mm/rmap.c".into(), Side::EndState, "mm/rmap.c".into()),
        ]
    }

    const OUTPUT: &str = "b/mm/rmap.c:214:2-8: preceding lock on line 211
a/mm/rmap.c:2376:25-44: atomic_dec_and_test variation before object free at line 2377.
b/mm/rmap.c:2380:25-44: atomic_dec_and_test variation before object free at line 2381.
b/mm/rmap.c:12:1-14:3: ERROR: something in b/mm/rmap.c
warning: line 290: should nonseekable_open be a metavariable?
";

    #[test]
    fn report_lines_parse_with_side_file_line_and_words() {
        let parsed = parse(OUTPUT, &files());
        let ok: Vec<(Side, u32, &str)> = parsed
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|r| (r.side, r.line, r.message.as_str()))
            .collect();
        assert_eq!(
            ok,
            vec![
                (Side::EndState, 214, "preceding lock on line 211"),
                (
                    Side::Baseline,
                    2376,
                    "atomic_dec_and_test variation before object free at line 2377."
                ),
                (
                    Side::EndState,
                    2380,
                    "atomic_dec_and_test variation before object free at line 2381."
                ),
                (Side::EndState, 12, "ERROR: something in mm/rmap.c"),
            ]
        );
        assert_eq!(parsed.iter().filter(|r| r.is_err()).count(), 1);
        assert_eq!(
            parsed[0].as_ref().map(Report::related_lines).ok(),
            Some(vec![211])
        );
    }

    #[test]
    fn only_new_reports_near_the_change_are_blamed_on_it() {
        let reports: Vec<Report> = parse(OUTPUT, &files()).into_iter().flatten().collect();
        let baseline: Vec<&Report> = reports
            .iter()
            .filter(|r| r.side == Side::Baseline)
            .collect();
        // Four lines inserted after 211.
        let map = LineMap::new(vec![Region {
            old_start: 211,
            old_lines: 0,
            new_start: 212,
            new_lines: 4,
        }]);
        assert_eq!(classify(&reports[0], &baseline, &map, 3), Verdict::New);
        assert_eq!(
            classify(&reports[2], &baseline, &map, 3),
            Verdict::AwayFromChange
        );
        // The same warning next to a change, present before: pre-existing.
        let near_map = LineMap::new(vec![Region {
            old_start: 2370,
            old_lines: 0,
            new_start: 2371,
            new_lines: 4,
        }]);
        assert_eq!(
            classify(&reports[2], &baseline, &near_map, 10),
            Verdict::PreexistingNearChange
        );
    }
}
