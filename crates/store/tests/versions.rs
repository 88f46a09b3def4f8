//! Earlier versions by lineage key (whatever series key each version was
//! stored under), and what became of each finding, on both backends.

mod common;

use common::builders::{finding, outcome, review, series};
use common::TestDb;
use sashiko_store::{FindingNotes, OutcomeNotes, ReviewId, ReviewStatus, Table};

fn notes(status: &str, carry: Option<&str>) -> FindingNotes {
    FindingNotes {
        status: Some(status.to_owned()),
        status_reason: (status != "reported").then(|| format!("{status} because")),
        carry: carry.map(str::to_owned),
        earlier_finding: None,
        wording: None,
    }
}

async fn earlier_versions_are_found_by_lineage(db: &TestDb) {
    let store = &db.store;
    // v1 and v2 stored under different series keys, one lineage.
    let v1 = store
        .upsert_series_version(&series("first-key", 1, 2))
        .await
        .expect("v1");
    let v2 = store
        .upsert_series_version(&series("second-key", 2, 2))
        .await
        .expect("v2");
    let other = store
        .upsert_series_version(&series("other", 1, 1))
        .await
        .expect("other");
    for (version, lineage) in [(v1, "change-id:abc"), (v2, "change-id:abc"), (other, "x")] {
        store
            .set_lineage_key(version, lineage)
            .await
            .expect("lineage");
    }
    assert_eq!(
        store
            .earlier_reviewed_version("change-id:abc", 2, v2)
            .await
            .expect("lookup"),
        None,
        "v1 has no review yet"
    );
    // A failed review of v1 does not count; a finished one does.
    let failed = store.start_review(&review(v1)).await.expect("start");
    store
        .finish_review(failed, &outcome(ReviewStatus::Failed, vec![]))
        .await
        .expect("fail");
    let reviewed = store.start_review(&review(v1)).await.expect("start");
    let stored = store
        .finish_review_noted(
            reviewed,
            &outcome(
                ReviewStatus::Finished,
                vec![finding("mm/file1.c", 1, false, "fp-open")],
            ),
            &OutcomeNotes {
                findings: vec![notes("reported", None)],
                unreported: vec![(
                    finding("mm/file2.c", 1, false, "fp-fixed-later"),
                    notes("fixed_later", None),
                )],
                earlier_review: None,
                interdiff: None,
            },
        )
        .await
        .expect("finish v1");
    assert_eq!(stored.findings.len(), 2);
    assert_eq!(
        store.count(Table::Bugs).await.expect("count"),
        0,
        "unreported findings open no bug"
    );
    let earlier = store
        .earlier_reviewed_version("change-id:abc", 2, v2)
        .await
        .expect("lookup")
        .expect("v1 found by lineage");
    assert_eq!((earlier.version, earlier.review), (1, reviewed));
    assert_eq!(earlier.patches.len(), 2);
    assert_eq!(earlier.patches[0].index, 1);
    assert!(earlier.patches[1].diff.contains("mm/file2.c"));
    let files: Vec<&str> = earlier.findings.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(files, vec!["mm/file1.c"], "only reported findings carry");
    assert_eq!(
        store
            .review_findings(reviewed)
            .await
            .expect("reported")
            .len(),
        1,
        "the bot's findings are the reported ones"
    );
    // Nothing before v1, and another lineage sees nothing.
    assert_eq!(
        store
            .earlier_reviewed_version("change-id:abc", 1, v1)
            .await
            .expect("lookup"),
        None
    );
    assert_eq!(
        store
            .earlier_reviewed_version("x", 5, v2)
            .await
            .expect("lookup"),
        None
    );

    // v2 carries v1's finding forward and records it.
    let v2_review = store.start_review(&review(v2)).await.expect("start v2");
    let mut still = notes("reported", Some("still_present"));
    still.earlier_finding = Some(stored.findings[0]);
    still.wording = Some("Does this leak?".to_owned());
    store
        .finish_review_noted(
            v2_review,
            &outcome(
                ReviewStatus::Finished,
                vec![finding("mm/file1.c", 3, false, "fp-open")],
            ),
            &OutcomeNotes {
                findings: vec![still],
                unreported: vec![],
                earlier_review: Some(reviewed),
                interdiff: None,
            },
        )
        .await
        .expect("finish v2");
    assert_eq!(
        store.earlier_review_of(v2_review).await.expect("read"),
        Some(reviewed)
    );
    assert_eq!(
        store
            .earlier_review_of(ReviewId(reviewed.0))
            .await
            .expect("read"),
        None
    );
    let noted = store.review_finding_notes(v2_review).await.expect("notes");
    assert_eq!(noted.len(), 1);
    assert_eq!(noted[0].notes.carry.as_deref(), Some("still_present"));
    assert_eq!(noted[0].notes.earlier_finding, Some(stored.findings[0]));
    assert_eq!(noted[0].notes.wording.as_deref(), Some("Does this leak?"));
    assert_eq!(noted[0].notes.status(), "reported");
    let v1_noted = store.review_finding_notes(reviewed).await.expect("notes");
    let statuses: Vec<(&str, Option<&str>)> = v1_noted
        .iter()
        .map(|f| (f.notes.status(), f.notes.status_reason.as_deref()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("reported", None),
            ("fixed_later", Some("fixed_later because"))
        ]
    );
}

both_backends! {
    earlier_by_lineage => crate::earlier_versions_are_found_by_lineage;
}
