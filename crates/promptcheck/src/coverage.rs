//! Guide coverage: which subsystem guides a review would give each series
//! of a list slice. Routing is the reviewer's own
//! ([`sashiko_review::route_guides`] over a parsed MAINTAINERS),
//! so a figure printed here is what a review of that series gets.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sashiko_review::maintainers::Maintainers;
use sashiko_review::route_guides;
use sashiko_review::{PromptSet, ReviewSeries};

use crate::shared::{Slice, SliceSeries};

/// How one series was routed.
#[derive(Clone, Debug)]
pub struct SeriesRouting {
    pub title: String,
    pub version: u32,
    pub files: Vec<String>,
    /// MAINTAINERS entries, most specific first.
    pub subsystems: Vec<String>,
    /// Guides that apply, most specific first.
    pub guides: Vec<String>,
}

/// The routing of every complete series of one slice.
#[derive(Clone, Debug)]
pub struct SliceCoverage {
    pub slice: Slice,
    pub series: Vec<SeriesRouting>,
    /// Complete series left out because a patch has no diff.
    pub without_diff: usize,
}

impl SliceCoverage {
    /// Series that get at least one guide.
    pub fn covered(&self) -> usize {
        self.series
            .iter()
            .filter(|series| !series.guides.is_empty())
            .count()
    }

    /// Covered series in percent (100 for a slice without series).
    pub fn percent(&self) -> f64 {
        if self.series.is_empty() {
            return 100.0;
        }
        self.covered() as f64 * 100.0 / self.series.len() as f64
    }

    /// How many series each guide applies to.
    pub fn guide_counts(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for series in &self.series {
            for guide in &series.guides {
                *counts.entry(guide.as_str()).or_insert(0) += 1;
            }
        }
        counts
    }

    pub fn uncovered(&self) -> impl Iterator<Item = &SeriesRouting> {
        self.series.iter().filter(|series| series.guides.is_empty())
    }
}

/// Route every series of `slice` as a review would.
pub fn route_slice(
    prompts: &PromptSet,
    maintainers: &Maintainers,
    slice: Slice,
    series: &SliceSeries,
) -> SliceCoverage {
    SliceCoverage {
        slice,
        series: series
            .series
            .iter()
            .map(|one| route_series(prompts, maintainers, one))
            .collect(),
        without_diff: series.without_diff.len(),
    }
}

pub fn route_series(
    prompts: &PromptSet,
    maintainers: &Maintainers,
    series: &ReviewSeries,
) -> SeriesRouting {
    let routing = route_guides(prompts, series, Some(maintainers));
    SeriesRouting {
        title: series.title.clone(),
        version: series.version,
        files: sashiko_review::context::series_files(series)
            .into_iter()
            .collect(),
        subsystems: routing.subsystems,
        guides: routing
            .guides
            .iter()
            .map(|guide| guide.name.clone())
            .collect(),
    }
}

/// The coverage table, the guides per slice and the uncovered series.
pub fn render(coverages: &[SliceCoverage]) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "| slice | complete series | with a guide | coverage | target | left out (no diff) |"
    );
    let _ = writeln!(text, "|---|---:|---:|---:|---|---:|");
    for coverage in coverages {
        let _ = writeln!(
            text,
            "| {} | {} | {} | {:.1}% | {} | {} |",
            coverage.slice.name,
            coverage.series.len(),
            coverage.covered(),
            coverage.percent(),
            if coverage.slice.target {
                ">= 90%"
            } else {
                "none"
            },
            coverage.without_diff
        );
    }
    let _ = writeln!(text, "\nSeries per guide:\n");
    for coverage in coverages {
        let counts: Vec<String> = coverage
            .guide_counts()
            .into_iter()
            .map(|(guide, count)| format!("{guide} {count}"))
            .collect();
        let _ = writeln!(text, "- {}: {}", coverage.slice.name, counts.join(", "));
    }
    let _ = writeln!(text, "\nSeries without a guide:\n");
    for coverage in coverages {
        for series in coverage.uncovered() {
            let _ = writeln!(
                text,
                "- {}: v{} {:?}: {} (entries: {})",
                coverage.slice.name,
                series.version,
                series.title,
                summarize_files(&series.files),
                series
                    .subsystems
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    }
    text
}

/// At most four files, then how many more.
fn summarize_files(files: &[String]) -> String {
    let mut shown: Vec<&str> = files.iter().take(4).map(String::as_str).collect();
    let more = files.len().saturating_sub(shown.len());
    let more_text = format!("+{more} more");
    if more > 0 {
        shown.push(&more_text);
    }
    shown.join(", ")
}
