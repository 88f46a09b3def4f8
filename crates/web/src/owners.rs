//! Who looks after a subsystem, for its page: the MAINTAINERS entries the
//! reviewer's own parser (`sashiko_review::maintainers`, the one that
//! routes patches) read, picked for a subsystem name. A bug's subsystem is
//! either an entry's title (when the review routed the finding through
//! MAINTAINERS) or a directory derived from the file's path, so an entry
//! titled so is shown, else the entries whose `F:` patterns cover that
//! directory, most specific first. Pure: it never reads the file itself.

use serde::Serialize;

use sashiko_review::maintainers::{Entry, Maintainers};

/// One entry as a subsystem page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Owners {
    pub title: String,
    pub status: Option<String>,
    pub maintainers: Vec<String>,
    pub reviewers: Vec<String>,
    pub lists: Vec<String>,
    pub trees: Vec<String>,
}

impl From<&Entry> for Owners {
    fn from(entry: &Entry) -> Self {
        Owners {
            title: entry.name.clone(),
            status: entry.status.clone(),
            maintainers: entry.maintainers.clone(),
            reviewers: entry.reviewers.clone(),
            lists: entry.lists.clone(),
            trees: entry.trees.clone(),
        }
    }
}

/// The entries describing `subsystem`, at most `limit`.
pub fn of_subsystem(maintainers: &Maintainers, subsystem: &str, limit: usize) -> Vec<Owners> {
    let titled: Vec<Owners> = maintainers
        .entries
        .iter()
        .filter(|entry| entry.name.eq_ignore_ascii_case(subsystem))
        .take(limit)
        .map(Owners::from)
        .collect();
    if !titled.is_empty() {
        return titled;
    }
    let directory = format!("{}/", subsystem.trim_end_matches('/'));
    maintainers
        .route(&[directory.as_str()], "")
        .iter()
        .filter_map(|routed| {
            maintainers
                .entries
                .iter()
                .find(|entry| entry.name == routed.name)
        })
        .take(limit)
        .map(Owners::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "List of maintainers\n===================\n\n\tPreamble text: with a colon\n\n\
3C59X NETWORK DRIVER\nM:\tSteffen Klassert <klassert@kernel.org>\nL:\tnetdev@vger.kernel.org\nS:\tOdd Fixes\nF:\tdrivers/net/ethernet/3com/3c59x.c\n\n\
NETWORKING DRIVERS\nM:\tJakub Kicinski <kuba@kernel.org>\nR:\tEric Dumazet <edumazet@google.com>\nL:\tnetdev@vger.kernel.org\nS:\tMaintained\n\
T:\tgit git://git.kernel.org/pub/scm/linux/kernel/git/netdev/net.git\nF:\tdrivers/net/\n\n\
MEMORY MANAGEMENT\nM:\tAndrew Morton <akpm@linux-foundation.org>\nL:\tlinux-mm@kvack.org\nF:\tmm/\n";

    #[test]
    fn finds_entries_by_title_and_by_directory() {
        let maintainers = Maintainers::parse(SAMPLE);
        let cases: [(&str, &[&str]); 5] = [
            ("drivers/net", &["NETWORKING DRIVERS"]),
            ("drivers/net/ethernet/3com", &["NETWORKING DRIVERS"]),
            ("mm", &["MEMORY MANAGEMENT"]),
            ("memory management", &["MEMORY MANAGEMENT"]),
            ("fs/ext4", &[]),
        ];
        for (subsystem, titles) in cases {
            let found: Vec<String> = of_subsystem(&maintainers, subsystem, 5)
                .into_iter()
                .map(|entry| entry.title)
                .collect();
            assert_eq!(found, titles, "{subsystem}");
        }
        let net = &of_subsystem(&maintainers, "drivers/net", 1)[0];
        assert_eq!(net.lists, ["netdev@vger.kernel.org"]);
        assert_eq!(net.maintainers, ["Jakub Kicinski <kuba@kernel.org>"]);
        assert_eq!(net.reviewers, ["Eric Dumazet <edumazet@google.com>"]);
        assert_eq!(net.status.as_deref(), Some("Maintained"));
        assert_eq!(
            net.trees,
            ["git git://git.kernel.org/pub/scm/linux/kernel/git/netdev/net.git"]
        );
    }
}
