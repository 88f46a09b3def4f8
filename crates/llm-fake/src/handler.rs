//! HTTP handlers of the fake: record the request, pick the scripted
//! answer, and render it in the protocol's shape. They must never answer
//! from anything but the script.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::{
    anthropic, gemini, lock, openai, FakeAnswer, FakeErrorKind, FakeProtocol, FakeState,
    RecordedRequest, Reply,
};
use sashiko_llm_core::STAGE_HEADER;

pub(super) async fn openai(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle::<openai::OpenAi>(state, "/v1/chat/completions".into(), headers, body, None).await
}

pub(super) async fn anthropic(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle::<anthropic::Anthropic>(state, "/v1/messages".into(), headers, body, None).await
}

pub(super) async fn gemini(
    State(state): State<Arc<FakeState>>,
    Path(model_action): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v1beta/models/{model_action}");
    let Some(model) = model_action.strip_suffix(":generateContent") else {
        let (status, extra, body) = gemini::Gemini::error(
            FakeErrorKind::BadRequest,
            None,
            &format!("the fake serves only :generateContent, not {model_action}"),
        );
        return respond(status, extra, body.to_string());
    };
    let model = model.to_string();
    handle::<gemini::Gemini>(state, path, headers, body, Some(model)).await
}

fn respond(status: u16, headers: Vec<(String, String)>, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    // Scripted headers come last so a script can override the content type.
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

async fn handle<P: FakeProtocol>(
    state: Arc<FakeState>,
    path: String,
    headers: HeaderMap,
    body: Bytes,
    model_from_path: Option<String>,
) -> Response {
    let stage = headers
        .get(STAGE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_string();
    let recorded_headers = headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
        })
        .collect();
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    lock(&state.requests).push(RecordedRequest {
        protocol: P::KIND,
        path,
        stage: stage.clone(),
        headers: recorded_headers,
        body: json.clone().unwrap_or(Value::Null),
    });
    let Some(json) = json else {
        let (status, extra, body) = P::error(
            FakeErrorKind::BadRequest,
            None,
            "the request body is not JSON",
        );
        return respond(status, extra, body.to_string());
    };
    let facts = P::facts(&json, model_from_path.as_deref());
    if let Some(problem) = &facts.problem {
        let (status, extra, body) = P::error(FakeErrorKind::BadRequest, None, problem);
        return respond(status, extra, body.to_string());
    }
    let offers_tools = crate::tools::offers_tools(P::KIND, &json);
    let answer = lock(&state.script).next_answer_for(&stage, &facts.tool_results, offers_tools);
    let Some(mut answer) = answer else {
        let message = format!("the fake LLM has no answer scripted for stage {stage:?}");
        let (status, extra, body) = P::error(FakeErrorKind::BadRequest, None, &message);
        return respond(status, extra, body.to_string());
    };
    while let FakeAnswer::Delay(wait, inner) = answer {
        tokio::time::sleep(wait).await;
        answer = *inner;
    }
    let id = state.next_id();
    let reply = match answer {
        FakeAnswer::Status {
            code,
            headers,
            body,
        } => return respond(code, headers.into_iter().collect(), body),
        FakeAnswer::Error { kind, retry_after } => {
            let (status, extra, body) = P::error(kind, retry_after, "scripted error");
            return respond(status, extra, body.to_string());
        }
        FakeAnswer::Delay(..) => unreachable!("delays were unwrapped above"),
        FakeAnswer::Json(value) => Reply::Text {
            text: value.to_string(),
            truncated: false,
        },
        FakeAnswer::Text(text) => Reply::Text {
            text,
            truncated: false,
        },
        FakeAnswer::Truncated(text) => Reply::Text {
            text,
            truncated: true,
        },
        FakeAnswer::ToolCall {
            id: call_id,
            name,
            input,
        } => Reply::ToolCall {
            id: call_id.unwrap_or_else(|| format!("call_fake_{id}")),
            name,
            input,
        },
    };
    let reply = match (reply, &facts.forced_tool) {
        (
            Reply::Text {
                text,
                truncated: false,
            },
            Some(name),
        ) => match serde_json::from_str::<Value>(&text) {
            Ok(input @ Value::Object(_)) => Reply::ToolCall {
                id: format!("toolu_fake_{id}"),
                name: name.clone(),
                input,
            },
            _ => Reply::Text {
                text,
                truncated: false,
            },
        },
        (reply, _) => reply,
    };
    let mut usage = state.input_usage(&facts);
    usage.output = reply.output_tokens();
    let body = P::render(&reply, usage, &facts.model, id);
    respond(200, Vec::new(), body.to_string())
}
