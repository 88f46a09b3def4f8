//! The bug database on both backends: promotion, fingerprint dedup across
//! reviews, series and versions, triage with history, listing.

mod common;

use common::builders::{finding, outcome, review, series};
use common::TestDb;
use sashiko_store::{
    subsystem_from_path, BugFilter, BugId, BugState, FindingId, Promotion, ReviewStatus,
    StateChange, Store, Table,
};

async fn review_with(
    store: &Store,
    series_key: &str,
    version: u32,
    status: ReviewStatus,
    findings: Vec<sashiko_store::NewFinding>,
) -> Vec<FindingId> {
    let version_id = store
        .upsert_series_version(&series(series_key, version, 2))
        .await
        .expect("series");
    let id = store
        .start_review(&review(version_id))
        .await
        .expect("start");
    store
        .finish_review_with_ids(id, &outcome(status, findings))
        .await
        .expect("finish")
        .findings
}

async fn the_same_series_reviewed_twice_opens_one_bug(db: &TestDb) {
    let store = &db.store;
    let findings = || {
        vec![
            finding("mm/slub.c", 100, true, "fp-old-leak"),
            finding("mm/slub.c", 5, false, "fp-new"),
        ]
    };
    let first = review_with(store, "s", 1, ReviewStatus::Finished, findings()).await;
    let second = review_with(store, "s", 1, ReviewStatus::Finished, findings()).await;
    assert_eq!(
        store.count(Table::Bugs).await.expect("count"),
        1,
        "only the pre-existing finding is a bug"
    );
    let bug = store
        .finding_bug(first[0])
        .await
        .expect("bug")
        .expect("linked");
    assert_eq!(store.finding_bug(second[0]).await.expect("bug"), Some(bug));
    // A finding the patch introduces is not a bug until confirmed.
    assert_eq!(store.finding_bug(first[1]).await.expect("bug"), None);
    let stored = store.bug(bug).await.expect("read").expect("exists");
    assert_eq!(
        (stored.state, stored.subsystem.as_str(), stored.preexisting),
        (BugState::Open, "mm", true)
    );
    let history = store.bug_history(bug).await.expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(
        (
            history[0].from_state.as_deref(),
            history[0].to_state.as_str()
        ),
        (None, "open")
    );
}

async fn a_v2_finding_links_to_the_v1_bug(db: &TestDb) {
    let store = &db.store;
    let v1 = review_with(
        store,
        "s",
        1,
        ReviewStatus::Finished,
        vec![finding("fs/ext4/inode.c", 7, false, "fp-race")],
    )
    .await;
    let promotion = Promotion {
        subsystem: Some("EXT4 FILE SYSTEM".to_string()),
        actor: "maintainer@example.org".to_string(),
        reason: "real race, reproduced".to_string(),
    };
    let bug = store
        .promote_finding(v1[0], &promotion)
        .await
        .expect("promote");
    let stored = store.bug(bug).await.expect("read").expect("exists");
    assert_eq!(
        (stored.state, stored.subsystem.as_str()),
        (BugState::Confirmed, "EXT4 FILE SYSTEM")
    );
    // v2 of the series, and another series entirely, report the same problem.
    let v2 = review_with(
        store,
        "s",
        2,
        ReviewStatus::Finished,
        vec![finding("fs/ext4/inode.c", 9, false, "fp-race")],
    )
    .await;
    let elsewhere = review_with(
        store,
        "t",
        1,
        ReviewStatus::Partial,
        vec![finding("fs/ext4/inode.c", 9, true, "fp-race")],
    )
    .await;
    assert_eq!(store.finding_bug(v2[0]).await.expect("bug"), Some(bug));
    assert_eq!(
        store.finding_bug(elsewhere[0]).await.expect("bug"),
        Some(bug)
    );
    assert_eq!(store.count(Table::Bugs).await.expect("count"), 1);
    // Promoting the v2 finding again is idempotent.
    assert_eq!(
        store
            .promote_finding(v2[0], &promotion)
            .await
            .expect("promote again"),
        bug
    );
    assert_eq!(store.bug_history(bug).await.expect("history").len(), 1);
}

async fn confirming_an_open_bug_records_the_change(db: &TestDb) {
    let store = &db.store;
    let found = review_with(
        store,
        "s",
        1,
        ReviewStatus::Finished,
        vec![
            finding("drivers/net/e1000/main.c", 3, true, "fp-e1000"),
            finding("drivers/net/e1000/main.c", 4, false, "fp-e1000"),
        ],
    )
    .await;
    let bug = store
        .finding_bug(found[0])
        .await
        .expect("bug")
        .expect("opened");
    assert_eq!(
        store
            .bug(bug)
            .await
            .expect("read")
            .expect("exists")
            .subsystem,
        "drivers/net"
    );
    let promotion = Promotion {
        subsystem: None,
        actor: "reviewer@example.org".to_string(),
        reason: "agreed on list".to_string(),
    };
    assert_eq!(
        store
            .promote_finding(found[1], &promotion)
            .await
            .expect("promote"),
        bug
    );
    let history = store.bug_history(bug).await.expect("history");
    let changes: Vec<_> = history
        .iter()
        .map(|entry| {
            (
                entry.from_state.clone(),
                entry.to_state.clone(),
                entry.actor.clone(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (None, "open".to_string(), "sashiko".to_string()),
            (
                Some("open".to_string()),
                "confirmed".to_string(),
                "reviewer@example.org".to_string()
            ),
        ]
    );
}

async fn untrusted_reviews_open_no_bugs(db: &TestDb) {
    let store = &db.store;
    for status in [ReviewStatus::Failed, ReviewStatus::Compromised] {
        let found = review_with(
            store,
            "s",
            1,
            status,
            vec![finding("mm/a.c", 1, true, "fp-untrusted")],
        )
        .await;
        assert_eq!(
            store.finding_bug(found[0]).await.expect("bug"),
            None,
            "{status:?}"
        );
    }
    assert_eq!(store.count(Table::Bugs).await.expect("count"), 0);
}

async fn triage_changes_state_with_history(db: &TestDb) {
    let store = &db.store;
    let found = review_with(
        store,
        "s",
        1,
        ReviewStatus::Finished,
        vec![
            finding("mm/a.c", 1, true, "fp-1"),
            finding("mm/b.c", 1, true, "fp-2"),
        ],
    )
    .await;
    let first = store
        .finding_bug(found[0])
        .await
        .expect("bug")
        .expect("opened");
    let second = store
        .finding_bug(found[1])
        .await
        .expect("bug")
        .expect("opened");
    let change = |to, reason: &str, duplicate_of| StateChange {
        to,
        actor: "maint@example.org".to_string(),
        reason: reason.to_string(),
        duplicate_of,
    };
    let steps = [
        (BugState::Confirmed, "seen it"),
        (BugState::Fixed, "fixed by commit abc"),
        (BugState::Open, "regressed"),
    ];
    for (to, reason) in steps {
        store
            .set_bug_state(first, &change(to, reason, None))
            .await
            .expect("set state");
        assert_eq!(
            store.bug(first).await.expect("read").expect("exists").state,
            to
        );
    }
    let history = store.bug_history(first).await.expect("history");
    assert_eq!(history.len(), 4);
    assert_eq!(history[2].reason, "fixed by commit abc");
    assert_eq!(
        (
            history[3].from_state.as_deref(),
            history[3].to_state.as_str()
        ),
        (Some("fixed"), "open")
    );
    // Setting the same state again records nothing.
    store
        .set_bug_state(first, &change(BugState::Open, "again", None))
        .await
        .expect("no-op");
    assert_eq!(store.bug_history(first).await.expect("history").len(), 4);

    store
        .set_bug_state(
            second,
            &change(BugState::Duplicate, "same as first", Some(first)),
        )
        .await
        .expect("dup");
    assert_eq!(
        store
            .bug(second)
            .await
            .expect("read")
            .expect("exists")
            .duplicate_of,
        Some(first.0)
    );
    let refused = [
        (
            second,
            change(BugState::Duplicate, "no target", None),
            "duplicate_of",
        ),
        (second, change(BugState::Invalid, "  ", None), "reason"),
        (
            BugId(999_999),
            change(BugState::Invalid, "gone", None),
            "999999",
        ),
        (
            first,
            change(BugState::Duplicate, "itself", Some(first)),
            "itself",
        ),
    ];
    for (bug, change, mentions) in refused {
        let error = store
            .set_bug_state(bug, &change)
            .await
            .expect_err("refused");
        assert!(error.to_string().contains(mentions), "{change:?}: {error}");
    }
}

async fn listing_filters_and_pages(db: &TestDb) {
    let store = &db.store;
    let mut findings = Vec::new();
    for index in 0..7 {
        findings.push(finding(
            &format!("mm/f{index}.c"),
            1,
            true,
            &format!("mm-{index}"),
        ));
    }
    for index in 0..3 {
        findings.push(finding(
            &format!("kernel/f{index}.c"),
            1,
            true,
            &format!("kernel-{index}"),
        ));
    }
    review_with(store, "s", 1, ReviewStatus::Finished, findings).await;
    let all_mm = store
        .list_bugs(&BugFilter {
            subsystem: Some("mm".to_string()),
            state: Some(BugState::Open),
            ..BugFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(all_mm.bugs.len(), 7);
    assert!(all_mm.bugs.iter().all(|bug| bug.subsystem == "mm"));
    let mut seen = Vec::new();
    let mut before_id = None;
    loop {
        let page = store
            .list_bugs(&BugFilter {
                subsystem: Some("mm".to_string()),
                state: None,
                before_id,
                limit: 3,
            })
            .await
            .expect("page");
        assert!(page.bugs.len() <= 3);
        seen.extend(page.bugs.iter().map(|bug| bug.id));
        match page.next_before {
            Some(next) => before_id = Some(next),
            None => break,
        }
    }
    let expected: Vec<i64> = all_mm.bugs.iter().map(|bug| bug.id).collect();
    assert_eq!(seen, expected, "pages cover the list once, newest first");
    let fixed = store
        .list_bugs(&BugFilter {
            state: Some(BugState::Fixed),
            ..BugFilter::default()
        })
        .await
        .expect("list");
    assert!(fixed.bugs.is_empty());
    let everything = store.list_bugs(&BugFilter::default()).await.expect("list");
    assert_eq!(everything.bugs.len(), 10);
}

both_backends! {
    reviewed_twice => crate::the_same_series_reviewed_twice_opens_one_bug;
    v2_links_to_v1 => crate::a_v2_finding_links_to_the_v1_bug;
    confirm_open => crate::confirming_an_open_bug_records_the_change;
    untrusted => crate::untrusted_reviews_open_no_bugs;
    triage => crate::triage_changes_state_with_history;
    listing => crate::listing_filters_and_pages;
}

#[test]
fn subsystems_derived_from_paths() {
    let cases = [
        ("mm/slub.c", "mm"),
        ("drivers/net/ethernet/intel/e1000/main.c", "drivers/net"),
        ("fs/ext4/inode.c", "fs/ext4"),
        ("kernel/sched/core.c", "kernel"),
        ("./arch/x86/kernel/cpu.c", "arch/x86"),
        ("Makefile", "(top level)"),
    ];
    for (path, expected) in cases {
        assert_eq!(subsystem_from_path(path), expected, "{path}");
    }
    for state in BugState::ALL {
        assert_eq!(state.as_str().parse::<BugState>().expect("parse"), state);
    }
    assert!("wontfix".parse::<BugState>().is_err());
}

#[tokio::test]
async fn listing_one_subsystem_uses_the_subsystem_state_index() {
    for backend in [
        sashiko_store::BackendKind::Sqlite,
        sashiko_store::BackendKind::Postgres,
    ] {
        let db = TestDb::new(backend).await;
        common::seed_bugs(&db, 20_000, 50).await;
        let filter = BugFilter {
            subsystem: Some("subsystem-7".to_string()),
            state: Some(BugState::Open),
            ..BugFilter::default()
        };
        let plan = db.store.explain_list_bugs(&filter).await.expect("explain");
        assert!(
            plan.contains("bugs_subsystem_state"),
            "{backend:?} plan: {plan}"
        );
        let page = db.store.list_bugs(&filter).await.expect("list");
        assert_eq!(page.bugs.len(), 50);
        assert!(page
            .bugs
            .iter()
            .all(|bug| bug.subsystem == "subsystem-7" && bug.state == BugState::Open));
        assert!(
            page.bugs.windows(2).all(|pair| pair[0].id > pair[1].id),
            "newest first"
        );
    }
}
