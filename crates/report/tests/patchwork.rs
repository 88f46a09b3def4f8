//! The patchwork checks client against a local axum stand-in that checks
//! the request shape of patchwork's REST API (1.2): patch lookup by
//! Message-ID, then `POST /api/1.2/patches/{id}/checks/` with a token and
//! a JSON body holding state, target_url, context and description.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use sashiko_report::patchwork::{
    Check, CheckState, PatchworkClient, PatchworkConfig, PatchworkError,
};
use serde_json::{json, Value};

#[derive(Clone, Default)]
struct Seen {
    checks: Arc<Mutex<Vec<(i64, Value)>>>,
}

async fn patches(Query(query): Query<std::collections::HashMap<String, String>>) -> Json<Value> {
    match query.get("msgid").map(String::as_str) {
        Some("known@example.org") => Json(json!([{"id": 1234, "msgid": "<known@example.org>"}])),
        _ => Json(json!([])),
    }
}

async fn checks(
    State(seen): State<Seen>,
    Path(patch): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Token secret-token") {
        return (StatusCode::FORBIDDEN, Json(json!({"detail": "bad token"})));
    }
    let mut keys: Vec<&str> = body
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    let state_ok = matches!(
        body["state"].as_str(),
        Some("success" | "warning" | "fail" | "pending")
    );
    if keys != ["context", "description", "state", "target_url"]
        || !state_ok
        || body["context"] != "sashiko"
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"detail": format!("bad body {body}")})),
        );
    }
    seen.checks
        .lock()
        .expect("lock")
        .push((patch, body.clone()));
    (
        StatusCode::CREATED,
        Json(json!({"id": 1, "state": body["state"]})),
    )
}

async fn stand_in() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/api/1.2/patches/", get(patches))
        .route("/api/1.2/patches/{id}/checks/", post(checks))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (format!("http://{address}"), seen)
}

fn client(url: &str, token: Option<&str>) -> PatchworkClient {
    PatchworkClient::new(PatchworkConfig {
        url: url.to_owned(),
        token: token.map(str::to_owned),
        context: "sashiko".into(),
    })
    .expect("client")
}

#[tokio::test]
async fn checks_are_posted_in_patchworks_shape() {
    let (url, seen) = stand_in().await;
    let cases = [
        (CheckState::Success, "no problems found"),
        (CheckState::Warning, "worst finding: medium"),
        (CheckState::Fail, "worst finding: high"),
    ];
    for (state, description) in cases {
        let check = Check {
            state,
            target_url: Some("https://sashiko.example/review/7".into()),
            description: description.into(),
        };
        let patch = client(&url, Some("secret-token"))
            .post_check("<known@example.org>", &check)
            .await
            .expect("posted");
        assert_eq!(patch, 1234);
    }
    let posted = seen.checks.lock().expect("lock").clone();
    let states: Vec<&str> = posted
        .iter()
        .map(|(_, body)| body["state"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(states, ["success", "warning", "fail"]);
    assert!(posted
        .iter()
        .all(|(patch, body)| *patch == 1234
            && body["target_url"] == "https://sashiko.example/review/7"));

    let check = Check {
        state: CheckState::Fail,
        target_url: None,
        description: "x".into(),
    };
    let unknown = client(&url, Some("secret-token"))
        .post_check("other@example.org", &check)
        .await;
    assert!(
        matches!(unknown, Err(PatchworkError::NoPatch { .. })),
        "{unknown:?}"
    );
    let no_token = client(&url, None)
        .post_check("known@example.org", &check)
        .await;
    assert!(
        matches!(no_token, Err(PatchworkError::NoToken { .. })),
        "{no_token:?}"
    );
    let wrong = client(&url, Some("wrong"))
        .post_check("known@example.org", &check)
        .await;
    let message = wrong.expect_err("refused").to_string();
    assert!(
        message.contains("403") && message.contains("patch 1234"),
        "{message}"
    );
}
