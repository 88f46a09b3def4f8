//! `/metrics` in the Prometheus text format: requests by method, route and
//! status (counted in memory), bugs by state and jobs by status (read from
//! the store at scrape time). It must never label by raw path (unbounded
//! cardinality): routes are the matched templates.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::{AppState, WebError};

/// Request counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
}

impl Metrics {
    /// Counts one answered request.
    pub fn count_request(&self, method: &str, route: &str, status: u16) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((method.to_string(), route.to_string(), status))
                .or_insert(0) += 1;
        }
    }

    fn snapshot(&self) -> Vec<((String, String, u16), u64)> {
        self.requests
            .lock()
            .map(|requests| {
                requests
                    .iter()
                    .map(|(key, count)| (key.clone(), *count))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub async fn metrics(State(state): State<AppState>) -> Result<Response, WebError> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP sashiko_http_requests_total HTTP requests answered."
    );
    let _ = writeln!(out, "# TYPE sashiko_http_requests_total counter");
    for ((method, route, status), count) in state.inner.metrics.snapshot() {
        let _ = writeln!(
            out,
            "sashiko_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}",
            label(&method),
            label(&route)
        );
    }
    let store = &state.inner.store;
    let by_state = store.bug_counts_by_state().await?;
    let _ = writeln!(out, "# HELP sashiko_bugs Bugs by state.");
    let _ = writeln!(out, "# TYPE sashiko_bugs gauge");
    let mut seen: BTreeMap<String, i64> = by_state.into_iter().collect();
    for bug_state in sashiko_store::BugState::ALL {
        seen.entry(bug_state.as_str().to_string()).or_insert(0);
    }
    for (name, count) in seen {
        let _ = writeln!(out, "sashiko_bugs{{state=\"{}\"}} {count}", label(&name));
    }
    let jobs = store.job_counts().await?;
    let _ = writeln!(
        out,
        "# HELP sashiko_jobs Jobs by status; queued is the queue depth."
    );
    let _ = writeln!(out, "# TYPE sashiko_jobs gauge");
    let mut queued = 0;
    for (status, count) in jobs {
        if status.as_str() == "queued" {
            queued = count;
        }
        let _ = writeln!(
            out,
            "sashiko_jobs{{status=\"{}\"}} {count}",
            status.as_str()
        );
    }
    let _ = writeln!(
        out,
        "# HELP sashiko_queue_depth Review jobs waiting to run."
    );
    let _ = writeln!(out, "# TYPE sashiko_queue_depth gauge");
    let _ = writeln!(out, "sashiko_queue_depth {queued}");
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
