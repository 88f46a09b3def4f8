//! The web view's counts and filtered lists against a count on `bugs`
//! itself, on both backends: the bug counts (`bug_counts` plus the
//! compacted `bug_totals`) while bugs change state between and during
//! compactions, and the age and file-prefix filters (read through their
//! covering indexes, the prefix as a byte-order range) against the same
//! filters applied in Rust to every row.

mod common;

use common::{seed_bugs, TestDb};
use sashiko_store::web::{BugListFilter, BugSort, NEEDS_ACTION};
use sashiko_store::web_queries::SqlParam;
use sashiko_store::BackendKind;

/// (subsystem, state, n) for every key with bugs, counted on `bugs`.
async fn counted_on_bugs(db: &TestDb) -> Vec<(String, String, i64)> {
    let rows = db
        .store
        .web_rows(
            "test: bugs per subsystem and state",
            "SELECT subsystem, state, COUNT(*) AS n FROM bugs GROUP BY subsystem, state \
             ORDER BY subsystem, state",
            &[],
        )
        .await
        .expect("count bugs");
    rows.iter()
        .map(|row| {
            (
                row["subsystem"].as_str().unwrap_or_default().to_string(),
                row["state"].as_str().unwrap_or_default().to_string(),
                row["n"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

/// The same, read through the web view's counts.
async fn counted_by_the_web(db: &TestDb, subsystems: &[String]) -> Vec<(String, String, i64)> {
    let mut out = Vec::new();
    for subsystem in subsystems {
        let counts = db
            .store
            .subsystem_bug_counts(subsystem)
            .await
            .expect("subsystem counts");
        for (state, n) in counts.by_state() {
            out.push((subsystem.clone(), state, n));
        }
    }
    out
}

async fn change_states(db: &TestDb, every: i64, to: &str) {
    db.store
        .web_rows(
            "test: changing bug states",
            "UPDATE bugs SET state = $1 WHERE id % $2 = 0",
            &[SqlParam::Text(to.to_string()), SqlParam::Int(every)],
        )
        .await
        .expect("change states");
}

async fn counts_stay_exact_through_compactions(db: &TestDb) {
    seed_bugs(db, 3000, 7).await;
    let subsystems: Vec<String> = (0..7).map(|k| format!("subsystem-{k}")).collect();
    assert_eq!(
        counted_by_the_web(db, &subsystems).await,
        counted_on_bugs(db).await
    );
    let store = &db.store;
    store.compact_bug_counts().await.expect("compact");
    assert_eq!(
        counted_by_the_web(db, &subsystems).await,
        counted_on_bugs(db).await,
        "after the first compaction"
    );
    // Changes and compactions at once, two compactions racing.
    let (changed, first, second) = tokio::join!(
        async {
            change_states(db, 5, "fixed").await;
            change_states(db, 7, "open").await;
        },
        store.compact_bug_counts(),
        store.compact_bug_counts(),
    );
    let () = changed;
    first.expect("compact");
    second.expect("compact");
    assert_eq!(
        counted_by_the_web(db, &subsystems).await,
        counted_on_bugs(db).await,
        "after changes during compactions"
    );
    store.compact_bug_counts().await.expect("compact");
    let expected = counted_on_bugs(db).await;
    assert_eq!(counted_by_the_web(db, &subsystems).await, expected);
    let open: i64 = store
        .open_bug_counts()
        .await
        .expect("open counts")
        .iter()
        .map(|count| count.n)
        .sum();
    let needs_action: i64 = expected
        .iter()
        .filter(|(_, state, _)| NEEDS_ACTION.contains(&state.as_str()))
        .map(|(_, _, n)| n)
        .sum();
    assert_eq!(open, needs_action);
    if store.backend() == BackendKind::Postgres {
        let left = store
            .web_rows(
                "test: rows left",
                "SELECT COUNT(*) AS n FROM bug_counts",
                &[],
            )
            .await
            .expect("count rows");
        assert_eq!(left[0]["n"], 0, "compaction empties bug_counts");
    }
}

/// One bug as the filters see it.
struct Row {
    id: i64,
    state: String,
    file: String,
    created_at: i64,
}

async fn every_bug(db: &TestDb, subsystem: &str) -> Vec<Row> {
    db.store
        .web_rows(
            "test: every bug of a subsystem",
            "SELECT id, state, file, created_at FROM bugs WHERE subsystem = $1",
            &[SqlParam::Text(subsystem.to_string())],
        )
        .await
        .expect("bugs")
        .iter()
        .map(|row| Row {
            id: row["id"].as_i64().unwrap_or(0),
            state: row["state"].as_str().unwrap_or_default().to_string(),
            file: row["file"].as_str().unwrap_or_default().to_string(),
            created_at: row["created_at"].as_i64().unwrap_or(0),
        })
        .collect()
}

async fn age_and_prefix_filters_match_every_row(db: &TestDb) {
    seed_bugs(db, 2000, 3).await;
    // Files with a multi-byte character and a LIKE wildcard in their name.
    db.store
        .web_rows(
            "test: unusual file names",
            "UPDATE bugs SET file = CASE WHEN id % 11 = 0 THEN 'dir/fïle_' || id \
             WHEN id % 13 = 0 THEN 'dir/file%' || id ELSE file END",
            &[],
        )
        .await
        .expect("rename files");
    // Ages of 0 to 59 days (and an hour), from this machine's clock, which
    // the local database shares.
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis(),
    )
    .expect("fits");
    db.store
        .web_rows(
            "test: bug ages",
            "UPDATE bugs SET created_at = $1 - (id % 60) * 86400000 - 3600000",
            &[SqlParam::Int(now_ms)],
        )
        .await
        .expect("set ages");
    let subsystem = "subsystem-1";
    let rows = every_bug(db, subsystem).await;
    let counts = db
        .store
        .subsystem_bug_counts(subsystem)
        .await
        .expect("counts");
    for (prefix, max_age_days) in [
        (None, Some(30)),
        (Some("dir/file1"), None),
        (Some("dir/file1"), Some(10)),
        (Some("dir/fï"), Some(30)),
        (Some("dir/file%"), None),
        (Some("dir/"), Some(1)),
        (Some("x"), None),
    ] {
        for states in [Vec::new(), NEEDS_ACTION.to_vec()] {
            for sort in [
                BugSort::Newest,
                BugSort::File,
                BugSort::Updated,
                BugSort::Severity,
            ] {
                let filter = BugListFilter {
                    subsystem: subsystem.to_string(),
                    states: states.clone(),
                    max_age_days,
                    file_prefix: prefix.map(str::to_string),
                    sort,
                    limit: 40,
                    ..BugListFilter::default()
                };
                let mut expected: Vec<i64> = rows
                    .iter()
                    .filter(|row| states.is_empty() || states.contains(&row.state.as_str()))
                    .filter(|row| prefix.is_none_or(|prefix| row.file.starts_with(prefix)))
                    .filter(|row| {
                        max_age_days.is_none_or(|days| row.created_at >= now_ms - days * 86_400_000)
                    })
                    .map(|row| row.id)
                    .collect();
                let total = db
                    .store
                    .bug_list_total(&counts, &filter)
                    .await
                    .expect("total");
                assert_eq!(
                    total,
                    i64::try_from(expected.len()).expect("fits"),
                    "{prefix:?} {max_age_days:?} {states:?} {sort:?}"
                );
                // Page through everything; the ids seen are the matches.
                let mut seen = Vec::new();
                let mut filter = filter;
                loop {
                    let page = db.store.bug_list_page(&filter).await.expect("page");
                    seen.extend(page.rows.iter().map(|bug| bug.id));
                    match (page.more_after, page.rows.last()) {
                        (true, Some(last)) => {
                            filter.cursor = Some(sashiko_store::web::Cursor {
                                id: last.id,
                                before: false,
                            })
                        }
                        _ => break,
                    }
                }
                seen.sort_unstable();
                expected.sort_unstable();
                assert_eq!(
                    seen, expected,
                    "{prefix:?} {max_age_days:?} {states:?} {sort:?}"
                );
            }
        }
    }
}

both_backends! {
    counts_through_compactions => crate::counts_stay_exact_through_compactions;
    age_and_prefix_filters => crate::age_and_prefix_filters_match_every_row;
}
