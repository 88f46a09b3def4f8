//! Issue 21, hole 6: failure reasons are stored with secrets redacted
//! (an LLM base URL's `user:pass`, a DSN password, an API key in a query),
//! and rows an older version stored with them are redacted by `migrate`.
//! Both backends.

mod common;

use common::builders::{outcome, review, series};
use common::TestDb;
use sashiko_store::{ReviewStatus, StoreError};

const LEAKY: &str = "stage intent: openai model m at http://llmuser:s3cret@127.0.0.1:9/v1?api_key=s3cret2: \
     request failed: error sending request for url (http://llmuser:s3cret@127.0.0.1:9/v1/chat/completions); \
     db host=db password=s3cret3";

async fn stored_error(db: &TestDb) -> String {
    let rows = db
        .store
        .web_rows("reading the error", "SELECT error FROM reviews", &[])
        .await
        .expect("rows");
    rows[0]["error"].as_str().unwrap_or_default().to_owned()
}

async fn failure_reasons_never_keep_secrets(db: &TestDb) -> Result<(), StoreError> {
    let store = &db.store;
    let version = store.upsert_series_version(&series("k", 1, 1)).await?;
    let id = store.start_review(&review(version)).await?;
    let mut failed = outcome(ReviewStatus::Failed, Vec::new());
    failed.error = Some(LEAKY.to_owned());
    store.finish_review(id, &failed).await?;
    let stored = stored_error(db).await;
    assert!(!stored.contains("s3cret"), "{stored}");
    assert!(
        stored.contains("http://llmuser:***@127.0.0.1:9/v1"),
        "{stored}"
    );

    // A row an older version wrote unredacted.
    let sql = "UPDATE reviews SET error = $1";
    store
        .web_rows(
            "planting an old unredacted error",
            &format!("{sql} RETURNING id"),
            &[sashiko_store::web_queries::SqlParam::Text(LEAKY.to_owned())],
        )
        .await?;
    assert!(stored_error(db).await.contains("s3cret"));
    assert_eq!(store.redact_stored_errors().await?, 1);
    let stored = stored_error(db).await;
    assert!(!stored.contains("s3cret"), "{stored}");
    assert_eq!(
        store.redact_stored_errors().await?,
        0,
        "nothing left to change"
    );
    Ok(())
}

async fn check(db: &TestDb) {
    failure_reasons_never_keep_secrets(db).await.expect("store");
}

both_backends! {
    failure_reasons => crate::check;
}
