//! The mail outbox and reply feedback on both backends.

mod common;

use std::time::Duration;

use common::builders::{finding, outcome, review, series};
use common::TestDb;
use sashiko_store::{
    MailQueued, NewFeedback, NewMail, QueueConfig, ReviewStatus, StageFeedback, Table, Verdict,
};

fn mail(key: &str) -> NewMail {
    NewMail {
        idempotency_key: key.to_string(),
        review_id: None,
        recipients: vec![
            "author@example.org".to_string(),
            "list@example.org".to_string(),
        ],
        subject: format!("Re: [PATCH] {key}"),
        in_reply_to: Some(format!("{key}@example.org")),
        body: format!("Subject: Re: [PATCH] {key}\r\n\r\nLooks wrong.\r\n").into_bytes(),
        max_attempts: 2,
    }
}

async fn mail_is_queued_once_and_sent_once(db: &TestDb) {
    let store = &db.store;
    let MailQueued::Added(first) = store.outbox_enqueue(&mail("a")).await.expect("queue") else {
        panic!("first enqueue adds");
    };
    assert_eq!(
        store.outbox_enqueue(&mail("a")).await.expect("queue"),
        MailQueued::Existing(first)
    );
    store.outbox_enqueue(&mail("b")).await.expect("queue");
    let claimed = store.outbox_claim_due(10).await.expect("claim");
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0].recipients, mail("a").recipients);
    assert_eq!(claimed[0].body, mail("a").body);
    assert!(
        store.outbox_claim_due(10).await.expect("claim").is_empty(),
        "sending mail is not claimed again"
    );
    store.outbox_mark_sent(&claimed[0]).await.expect("sent");
    assert!(
        store.outbox_mark_sent(&claimed[0]).await.is_err(),
        "sent once"
    );
    let (state, attempts, _) = store
        .outbox_state(first)
        .await
        .expect("state")
        .expect("exists");
    assert_eq!((state.as_str(), attempts), ("sent", 1));

    let retry_now = QueueConfig {
        retry_base: Duration::ZERO,
        ..QueueConfig::default()
    };
    let state = store
        .outbox_mark_failed(&claimed[1], "421 try later", false, &retry_now)
        .await
        .expect("fail");
    assert_eq!(state, "queued");
    let again = store.outbox_claim_due(10).await.expect("claim");
    assert_eq!((again.len(), again[0].attempt), (1, 2));
    let state = store
        .outbox_mark_failed(&again[0], "421 try later", false, &retry_now)
        .await
        .expect("fail");
    assert_eq!(state, "dead", "out of attempts");
    assert_eq!(store.count(Table::Outbox).await.expect("count"), 2);
}

async fn stale_sending_mail_is_requeued_with_a_warning(db: &TestDb) {
    let store = &db.store;
    let MailQueued::Added(id) = store.outbox_enqueue(&mail("c")).await.expect("queue") else {
        panic!("adds");
    };
    store.outbox_claim_due(1).await.expect("claim");
    assert_eq!(
        store
            .outbox_recover_stale(Duration::from_secs(3600))
            .await
            .expect("recover"),
        0
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        store
            .outbox_recover_stale(Duration::from_millis(10))
            .await
            .expect("recover"),
        1
    );
    let (state, _, error) = store
        .outbox_state(id)
        .await
        .expect("state")
        .expect("exists");
    assert_eq!(state, "queued");
    assert!(
        error.unwrap_or_default().contains("may have accepted"),
        "warns about a possible duplicate"
    );
}

async fn feedback_is_idempotent_and_summarised_by_stage(db: &TestDb) {
    let store = &db.store;
    let version = store
        .upsert_series_version(&series("s", 1, 1))
        .await
        .expect("series");
    let review_id = store.start_review(&review(version)).await.expect("start");
    let mut locking = finding("mm/a.c", 1, false, "fp-lock");
    locking.stage = "locking".to_string();
    let findings = vec![finding("mm/a.c", 5, false, "fp-leak"), locking];
    let stored = store
        .finish_review_with_ids(review_id, &outcome(ReviewStatus::Finished, findings))
        .await
        .expect("finish");
    let replies = [
        ("r1@example.org", 0, Verdict::Agree),
        ("r2@example.org", 0, Verdict::Fixed),
        ("r3@example.org", 1, Verdict::Disagree),
        ("r1@example.org", 1, Verdict::Disagree), // the same reply again: ignored
    ];
    let mut recorded = Vec::new();
    for (message_id, finding_index, verdict) in replies {
        recorded.push(
            store
                .record_feedback(&NewFeedback {
                    message_id,
                    review_id: Some(review_id),
                    finding_id: Some(stored.findings[finding_index]),
                    bug_id: None,
                    author: "author@example.org",
                    verdict,
                    body: "quoted reply",
                })
                .await
                .expect("record"),
        );
    }
    assert_eq!(recorded, [true, true, true, false]);
    let summary = store.feedback_by_stage().await.expect("summary");
    let expected = [
        StageFeedback {
            stage: "locking".to_string(),
            agree: 0,
            disagree: 1,
            fixed: 0,
        },
        StageFeedback {
            stage: "resource".to_string(),
            agree: 1,
            disagree: 0,
            fixed: 1,
        },
    ];
    assert_eq!(summary, expected);
}

both_backends! {
    outbox_once => crate::mail_is_queued_once_and_sent_once;
    outbox_stale => crate::stale_sending_mail_is_requeued_with_a_warning;
    feedback => crate::feedback_is_idempotent_and_summarised_by_stage;
}
