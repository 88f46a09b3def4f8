//! Where the shared test data is and how to read it: the five mailing-list
//! slices of `../shared/corpus/lists` and the MAINTAINERS file inside the
//! kernel tarball of `../shared/kernel` (read with `tar`, never unpacked
//! into `../shared`). Series come out of the slices through the same mbox
//! splitter, mail parser and series assembly that ingest uses.

use std::path::{Path, PathBuf};
use std::process::Command;

use sashiko_mail::{assemble, parse_message, ParsedMessage};
use sashiko_review::{ReviewPatch, ReviewSeries};

use crate::CheckError;

/// The kernel tarball and the directory every member sits in.
const KERNEL_TARBALL: &str = "kernel/linux-6.1.20-core.tar.xz";
const KERNEL_TOP: &str = "linux-6.1.20";

/// One mailing-list slice of the corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    /// Short name used in tables.
    pub name: &'static str,
    /// File under `corpus/lists/`.
    pub file: &'static str,
    /// Whether the 90% coverage target applies (the patch lists; ksummit is
    /// a discussion list with a handful of patches).
    pub target: bool,
}

/// The five slices, in the order tables print them.
pub const SLICES: [Slice; 5] = [
    Slice {
        name: "io_uring",
        file: "io-uring-28250-30749.mbox",
        target: true,
    },
    Slice {
        name: "linux-block",
        file: "linux-block-04000-06499.mbox",
        target: true,
    },
    Slice {
        name: "linux-ext4",
        file: "linux-ext4-19250-21749.mbox",
        target: true,
    },
    Slice {
        name: "linux-kbuild",
        file: "linux-kbuild-14500-16999.mbox",
        target: true,
    },
    Slice {
        name: "ksummit",
        file: "ksummit-02115-03114.mbox",
        target: false,
    },
];

/// The shared data directory (`../shared` beside the repository).
#[derive(Clone, Debug)]
pub struct SharedData {
    root: PathBuf,
}

impl SharedData {
    /// `dir` if it holds the list slices and the kernel tarball.
    pub fn at(dir: &Path) -> Option<SharedData> {
        let complete = dir.join("corpus/lists").is_dir() && dir.join(KERNEL_TARBALL).is_file();
        complete.then(|| SharedData {
            root: dir.to_path_buf(),
        })
    }

    /// `../shared` next to the repository this crate was built from.
    pub fn beside_repository() -> Option<SharedData> {
        SharedData::at(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn kernel_tarball(&self) -> PathBuf {
        self.root.join(KERNEL_TARBALL)
    }

    /// A file of the kernel tree, read from the tarball.
    pub fn kernel_file(&self, path: &str) -> Result<String, CheckError> {
        let tarball = self.kernel_tarball();
        let member = format!("{KERNEL_TOP}/{path}");
        let output = Command::new("tar")
            .arg("-xJOf")
            .arg(&tarball)
            .arg(&member)
            .output()
            .map_err(|error| CheckError::Extract {
                tarball: tarball.clone(),
                member: member.clone(),
                detail: format!("cannot run tar: {error}"),
            })?;
        if !output.status.success() {
            return Err(CheckError::Extract {
                tarball,
                member,
                detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The complete series of one slice.
    pub fn slice_series(&self, slice: &Slice) -> Result<SliceSeries, CheckError> {
        let path = self.root.join("corpus/lists").join(slice.file);
        let bytes = std::fs::read(&path).map_err(|source| CheckError::Read { path, source })?;
        Ok(complete_series(&bytes))
    }
}

/// The complete series of a slice, and how many complete series were left
/// out because a patch of theirs carries no diff the parser could find.
#[derive(Clone, Debug, Default)]
pub struct SliceSeries {
    pub series: Vec<ReviewSeries>,
    pub without_diff: Vec<String>,
}

/// Every series of an mbox whose announced patches are all present and
/// carry a diff, as the reviewer would see it.
pub fn complete_series(mbox: &[u8]) -> SliceSeries {
    let format = sashiko_ingest::mbox::detect_format(mbox);
    let split = sashiko_ingest::mbox::split(mbox, format);
    let parsed: Vec<ParsedMessage> = split
        .messages
        .iter()
        .map(|message| parse_message(&message.bytes))
        .collect();
    let assembly = assemble(&parsed);
    let mut complete = SliceSeries::default();
    for series in assembly.series.iter().filter(|series| series.is_complete()) {
        let patches: Vec<ReviewPatch> = series
            .patches()
            .map(|(number, message_id, index)| {
                let message = &parsed[index];
                ReviewPatch {
                    index: number,
                    subject: message.tags.title.clone(),
                    author: message
                        .from
                        .as_ref()
                        .map(|person| person.display())
                        .unwrap_or_default(),
                    message_id: Some(message_id.to_owned()),
                    commit_id: None,
                    commit_message: message.commit_message.clone(),
                    diff: message.diff.clone(),
                }
            })
            .collect();
        if patches.is_empty() || patches.iter().any(|patch| patch.diff.is_empty()) {
            complete.without_diff.push(series.title.clone());
            continue;
        }
        complete.series.push(ReviewSeries {
            title: series.title.clone(),
            version: series.version,
            cover_letter: series.cover_index.map(|index| parsed[index].body.clone()),
            patches,
        });
    }
    complete
}
