//! A reader for the kernel's MAINTAINERS file, enough to show who looks
//! after a subsystem: the entry's title, maintainers (M:), reviewers (R:),
//! lists (L:), status (S:), trees (T:) and file patterns (F:). Pure: it
//! parses text it is given and never reads the file itself.

use serde::Serialize;

/// One entry of MAINTAINERS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MaintainersEntry {
    /// The entry's title line, e.g. `NETWORKING DRIVERS`.
    pub title: String,
    /// `M:` lines.
    pub maintainers: Vec<String>,
    /// `R:` lines.
    pub reviewers: Vec<String>,
    /// `L:` lines.
    pub lists: Vec<String>,
    /// `S:` line.
    pub status: Option<String>,
    /// `T:` lines.
    pub trees: Vec<String>,
    /// `F:` patterns.
    pub files: Vec<String>,
}

/// All entries of one MAINTAINERS file.
#[derive(Clone, Debug, Default)]
pub struct Maintainers {
    entries: Vec<MaintainersEntry>,
}

impl Maintainers {
    /// Parses MAINTAINERS text. Lines before the first entry (the file's
    /// preamble) and unknown tags are skipped.
    pub fn parse(text: &str) -> Maintainers {
        let mut entries = Vec::new();
        let mut current: Option<MaintainersEntry> = None;
        for line in text.lines() {
            let tagged = line
                .split_once(':')
                .filter(|(tag, rest)| tag.len() == 1 && rest.starts_with(['\t', ' ']));
            match (tagged, current.as_mut()) {
                (Some((tag, value)), Some(entry)) => {
                    let value = value.trim().to_string();
                    match tag {
                        "M" => entry.maintainers.push(value),
                        "R" => entry.reviewers.push(value),
                        "L" => entry.lists.push(value),
                        "S" => entry.status = Some(value),
                        "T" => entry.trees.push(value),
                        "F" => entry.files.push(value),
                        _ => {}
                    }
                }
                (Some(_), None) => {}
                (None, _) if line.trim().is_empty() => {
                    entries.extend(current.take());
                }
                (None, _) => {
                    let title = line.trim();
                    // The preamble is indented prose; titles start in column 0.
                    if !line.starts_with([' ', '\t']) && !title.is_empty() {
                        entries.extend(current.take());
                        current = Some(MaintainersEntry {
                            title: title.to_string(),
                            ..MaintainersEntry::default()
                        });
                    }
                }
            }
        }
        entries.extend(current);
        entries.retain(|entry| !entry.maintainers.is_empty() || !entry.files.is_empty());
        Maintainers { entries }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries that describe `subsystem`: an entry titled exactly so
    /// (ignoring case), else entries whose F: patterns cover the directory
    /// `subsystem/` (the names derived from file paths), most specific
    /// first; at most `limit`.
    pub fn for_subsystem(&self, subsystem: &str, limit: usize) -> Vec<&MaintainersEntry> {
        let titled: Vec<&MaintainersEntry> = self
            .entries
            .iter()
            .filter(|entry| entry.title.eq_ignore_ascii_case(subsystem))
            .collect();
        if !titled.is_empty() {
            return titled.into_iter().take(limit).collect();
        }
        let directory = format!("{}/", subsystem.trim_end_matches('/'));
        let mut covering: Vec<(usize, &MaintainersEntry)> = self
            .entries
            .iter()
            .filter_map(|entry| {
                entry
                    .files
                    .iter()
                    .filter(|pattern| {
                        let pattern = pattern.trim_end_matches('*');
                        pattern == directory
                            || (directory.starts_with(pattern) && pattern.ends_with('/'))
                    })
                    .map(String::len)
                    .max()
                    .map(|length| (length, entry))
            })
            .collect();
        covering.sort_by_key(|(length, _)| std::cmp::Reverse(*length));
        covering
            .into_iter()
            .take(limit)
            .map(|(_, entry)| entry)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "List of maintainers\n===================\n\n\tPreamble text: with a colon\n\n\
3C59X NETWORK DRIVER\nM:\tSteffen Klassert <klassert@kernel.org>\nL:\tnetdev@vger.kernel.org\nS:\tOdd Fixes\nF:\tdrivers/net/ethernet/3com/3c59x.c\n\n\
NETWORKING DRIVERS\nM:\tJakub Kicinski <kuba@kernel.org>\nL:\tnetdev@vger.kernel.org\nS:\tMaintained\nF:\tdrivers/net/\n\n\
MEMORY MANAGEMENT\nM:\tAndrew Morton <akpm@linux-foundation.org>\nL:\tlinux-mm@kvack.org\nF:\tmm/\n";

    #[test]
    fn finds_entries_by_title_and_by_directory() {
        let maintainers = Maintainers::parse(SAMPLE);
        assert_eq!(maintainers.len(), 3);
        let cases: [(&str, &[&str]); 4] = [
            ("drivers/net", &["NETWORKING DRIVERS"]),
            ("mm", &["MEMORY MANAGEMENT"]),
            ("memory management", &["MEMORY MANAGEMENT"]),
            ("fs/ext4", &[]),
        ];
        for (subsystem, titles) in cases {
            let found: Vec<&str> = maintainers
                .for_subsystem(subsystem, 5)
                .iter()
                .map(|entry| entry.title.as_str())
                .collect();
            assert_eq!(found, titles, "{subsystem}");
        }
        let net = maintainers.for_subsystem("drivers/net", 1);
        assert_eq!(net[0].lists, ["netdev@vger.kernel.org"]);
        assert_eq!(net[0].maintainers, ["Jakub Kicinski <kuba@kernel.org>"]);
    }
}
