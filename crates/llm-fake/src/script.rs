//! What the fake server answers: per-stage and per-tool FIFO queues of
//! [`FakeAnswer`]s, a default per stage and a global default. Built in code
//! or loaded from a TOML or JSON file.
//!
//! Only data and selection live here; rendering answers in a wire format is
//! the protocol modules' job. This module must never do network IO.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A protocol-neutral error the fake renders in each provider's real shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FakeErrorKind {
    /// 429 with the provider's rate-limit body.
    RateLimit,
    /// 429 (OpenAI `insufficient_quota`, Gemini daily quota) or 400
    /// (Anthropic credit balance): retrying cannot help.
    QuotaExhausted,
    /// 529 for Anthropic, 503 for the others.
    Overloaded,
    /// 500.
    Server,
    /// 400 with the provider's invalid-request body.
    BadRequest,
}

/// One scripted answer.
#[derive(Clone, Debug, PartialEq)]
pub enum FakeAnswer {
    /// The JSON value as answer text.
    Json(Value),
    Text(String),
    /// A raw HTTP answer.
    Status {
        code: u16,
        headers: BTreeMap<String, String>,
        body: String,
    },
    /// A provider-shaped error; `retry_after` becomes the provider's hint
    /// (`retry-after` header, Gemini `RetryInfo`).
    Error {
        kind: FakeErrorKind,
        retry_after: Option<Duration>,
    },
    /// Waits, then answers.
    Delay(Duration, Box<FakeAnswer>),
    /// One tool call; `id: None` lets the fake make one up.
    ToolCall {
        id: Option<String>,
        name: String,
        input: Value,
    },
    /// Text cut off at the output limit (stop reason "length"/"max_tokens").
    Truncated(String),
}

impl FakeAnswer {
    pub fn json(value: Value) -> Self {
        FakeAnswer::Json(value)
    }
    pub fn text(text: impl Into<String>) -> Self {
        FakeAnswer::Text(text.into())
    }
    pub fn status(code: u16, body: impl Into<String>) -> Self {
        FakeAnswer::Status {
            code,
            headers: BTreeMap::new(),
            body: body.into(),
        }
    }
    /// A raw status with one header, e.g. `("retry-after", "2")`.
    pub fn status_with_header(code: u16, name: &str, value: &str, body: impl Into<String>) -> Self {
        FakeAnswer::Status {
            code,
            headers: BTreeMap::from([(name.to_string(), value.to_string())]),
            body: body.into(),
        }
    }
    pub fn error(kind: FakeErrorKind) -> Self {
        FakeAnswer::Error {
            kind,
            retry_after: None,
        }
    }
    pub fn rate_limited(retry_after: Duration) -> Self {
        FakeAnswer::Error {
            kind: FakeErrorKind::RateLimit,
            retry_after: Some(retry_after),
        }
    }
    pub fn tool_call(name: impl Into<String>, input: Value) -> Self {
        FakeAnswer::ToolCall {
            id: None,
            name: name.into(),
            input,
        }
    }
    pub fn delayed(self, delay: Duration) -> Self {
        FakeAnswer::Delay(delay, Box::new(self))
    }
}

/// The file form of an answer: `{json = ...}`, `{text = "..."}`,
/// `{status = {code, headers, body}}`, `{error = {kind, retry_after_ms}}`,
/// `{delay = {ms, then = {...}}}`, `{tool_call = {id, name, input}}`,
/// `{truncated = "..."}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum AnswerRepr {
    Json(Value),
    Text(String),
    Status {
        code: u16,
        #[serde(default)]
        headers: BTreeMap<String, String>,
        #[serde(default)]
        body: String,
    },
    Error {
        kind: FakeErrorKind,
        #[serde(default)]
        retry_after_ms: Option<u64>,
    },
    Delay {
        ms: u64,
        then: Box<AnswerRepr>,
    },
    ToolCall {
        #[serde(default)]
        id: Option<String>,
        name: String,
        #[serde(default)]
        input: Value,
    },
    Truncated(String),
}

impl From<AnswerRepr> for FakeAnswer {
    fn from(repr: AnswerRepr) -> Self {
        match repr {
            AnswerRepr::Json(value) => FakeAnswer::Json(value),
            AnswerRepr::Text(text) => FakeAnswer::Text(text),
            AnswerRepr::Status {
                code,
                headers,
                body,
            } => FakeAnswer::Status {
                code,
                headers,
                body,
            },
            AnswerRepr::Error {
                kind,
                retry_after_ms,
            } => FakeAnswer::Error {
                kind,
                retry_after: retry_after_ms.map(Duration::from_millis),
            },
            AnswerRepr::Delay { ms, then } => {
                FakeAnswer::Delay(Duration::from_millis(ms), Box::new((*then).into()))
            }
            AnswerRepr::ToolCall { id, name, input } => FakeAnswer::ToolCall { id, name, input },
            AnswerRepr::Truncated(text) => FakeAnswer::Truncated(text),
        }
    }
}

impl From<FakeAnswer> for AnswerRepr {
    fn from(answer: FakeAnswer) -> Self {
        match answer {
            FakeAnswer::Json(value) => AnswerRepr::Json(value),
            FakeAnswer::Text(text) => AnswerRepr::Text(text),
            FakeAnswer::Status {
                code,
                headers,
                body,
            } => AnswerRepr::Status {
                code,
                headers,
                body,
            },
            FakeAnswer::Error { kind, retry_after } => AnswerRepr::Error {
                kind,
                retry_after_ms: retry_after.map(|wait| wait.as_millis() as u64),
            },
            FakeAnswer::Delay(wait, then) => AnswerRepr::Delay {
                ms: wait.as_millis() as u64,
                then: Box::new((*then).into()),
            },
            FakeAnswer::ToolCall { id, name, input } => AnswerRepr::ToolCall { id, name, input },
            FakeAnswer::Truncated(text) => AnswerRepr::Truncated(text),
        }
    }
}

impl Serialize for FakeAnswer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        AnswerRepr::from(self.clone()).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for FakeAnswer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(AnswerRepr::deserialize(deserializer)?.into())
    }
}

/// Answers for one stage (or one tool): a queue consumed first, then a
/// default repeated forever.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerQueue {
    #[serde(default)]
    pub queue: VecDeque<FakeAnswer>,
    #[serde(default)]
    pub default: Option<FakeAnswer>,
}

impl AnswerQueue {
    fn next(&mut self) -> Option<FakeAnswer> {
        self.queue.pop_front().or_else(|| self.default.clone())
    }
}

/// The whole script of a fake server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FakeScript {
    /// Answers by stage (the `x-sashiko-stage` header).
    #[serde(default)]
    pub stages: BTreeMap<String, AnswerQueue>,
    /// Answers by tool: used when the request's last message carries the
    /// result of a call to that tool and the queue has something.
    #[serde(default)]
    pub tools: BTreeMap<String, AnswerQueue>,
    /// Used when neither the tool nor the stage has an answer.
    #[serde(default)]
    pub default: Option<FakeAnswer>,
    /// Answers by stage for requests that offer the model no tools (such
    /// as the final answer after a stopped tool loop); when a stage has
    /// one, it wins over the stage's own queue for such requests.
    #[serde(default)]
    pub without_tools: BTreeMap<String, AnswerQueue>,
}

/// Errors loading a script file.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("cannot read fake script {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("fake script {path} is not valid {format}: {detail}")]
    Parse {
        path: String,
        format: &'static str,
        detail: String,
    },
}

impl FakeScript {
    pub fn new() -> Self {
        FakeScript::default()
    }

    /// Appends an answer to the queue of `stage`.
    pub fn push(mut self, stage: &str, answer: FakeAnswer) -> Self {
        self.stages
            .entry(stage.to_string())
            .or_default()
            .queue
            .push_back(answer);
        self
    }

    /// The answer for `stage` once its queue is empty.
    pub fn stage_default(mut self, stage: &str, answer: FakeAnswer) -> Self {
        self.stages.entry(stage.to_string()).or_default().default = Some(answer);
        self
    }

    /// Appends an answer for requests that carry a result of `tool`.
    pub fn push_after_tool(mut self, tool: &str, answer: FakeAnswer) -> Self {
        self.tools
            .entry(tool.to_string())
            .or_default()
            .queue
            .push_back(answer);
        self
    }

    pub fn tool_default(mut self, tool: &str, answer: FakeAnswer) -> Self {
        self.tools.entry(tool.to_string()).or_default().default = Some(answer);
        self
    }

    /// The answer of `stage` to requests that offer no tools.
    pub fn without_tools_default(mut self, stage: &str, answer: FakeAnswer) -> Self {
        self.without_tools
            .entry(stage.to_string())
            .or_default()
            .default = Some(answer);
        self
    }

    pub fn default_answer(mut self, answer: FakeAnswer) -> Self {
        self.default = Some(answer);
        self
    }

    /// Loads a script; `.json` files are JSON, anything else TOML.
    pub fn from_path(path: &Path) -> Result<Self, ScriptError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ScriptError::Read {
            path: path.display().to_string(),
            cause,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        if is_json {
            serde_json::from_str(&text).map_err(|error| ScriptError::Parse {
                path: path.display().to_string(),
                format: "JSON",
                detail: error.to_string(),
            })
        } else {
            toml::from_str(&text).map_err(|error| ScriptError::Parse {
                path: path.display().to_string(),
                format: "TOML",
                detail: error.to_string(),
            })
        }
    }

    /// The next answer for a request of `stage` whose last message carries
    /// results of `tool_results` (tool names).
    pub fn next_answer(&mut self, stage: &str, tool_results: &[String]) -> Option<FakeAnswer> {
        self.next_answer_for(stage, tool_results, true)
    }

    /// [`FakeScript::next_answer`] for a request that does or does not
    /// offer tools.
    pub fn next_answer_for(
        &mut self,
        stage: &str,
        tool_results: &[String],
        offers_tools: bool,
    ) -> Option<FakeAnswer> {
        if !offers_tools {
            if let Some(answer) = self
                .without_tools
                .get_mut(stage)
                .and_then(AnswerQueue::next)
            {
                return Some(answer);
            }
        }
        for tool in tool_results {
            if let Some(answer) = self.tools.get_mut(tool).and_then(AnswerQueue::next) {
                return Some(answer);
            }
        }
        self.stages
            .get_mut(stage)
            .and_then(AnswerQueue::next)
            .or_else(|| self.default.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selection_order() {
        let mut script = FakeScript::new()
            .push("resource", FakeAnswer::text("first"))
            .push("resource", FakeAnswer::text("second"))
            .stage_default("resource", FakeAnswer::text("again"))
            .push_after_tool("read_file", FakeAnswer::text("after tool"))
            .default_answer(FakeAnswer::text("global"));
        let cases = [
            ("resource", vec![], "first"),
            ("resource", vec!["read_file".to_string()], "after tool"),
            ("resource", vec!["read_file".to_string()], "second"),
            ("resource", vec![], "again"),
            ("resource", vec![], "again"),
            ("style", vec![], "global"),
        ];
        for (stage, tools, expected) in cases {
            assert_eq!(
                script.next_answer(stage, &tools),
                Some(FakeAnswer::text(expected))
            );
        }
        assert_eq!(FakeScript::new().next_answer("x", &[]), None);
        // A stage's answer for requests offering no tools wins only there.
        let mut script = FakeScript::new()
            .stage_default("locking", FakeAnswer::text("call a tool"))
            .without_tools_default("locking", FakeAnswer::text("final"));
        let cases = [
            (true, "call a tool"),
            (false, "final"),
            (true, "call a tool"),
        ];
        for (offers_tools, expected) in cases {
            assert_eq!(
                script.next_answer_for("locking", &[], offers_tools),
                Some(FakeAnswer::text(expected))
            );
        }
    }

    #[test]
    fn toml_and_json_forms_load_the_same_script() {
        let toml_text = r#"
default = { json = { findings = [] } }
[stages.resource]
queue = [
  { error = { kind = "rate_limit", retry_after_ms = 2000 } },
  { status = { code = 500, body = "boom" } },
  { delay = { ms = 10, then = { truncated = "{\"findings\": [" } } },
  { tool_call = { name = "read_file", input = { path = "a.c" } } },
]
default = { text = "hello" }
"#;
        let from_toml: FakeScript = toml::from_str(toml_text).expect("TOML script");
        let json_text = serde_json::to_string(&from_toml).expect("serialise");
        let from_json: FakeScript = serde_json::from_str(&json_text).expect("JSON script");
        assert_eq!(from_toml, from_json);
        let queue = &from_toml.stages["resource"].queue;
        assert_eq!(queue[0], FakeAnswer::rate_limited(Duration::from_secs(2)));
        assert_eq!(queue[1], FakeAnswer::status(500, "boom"));
        assert_eq!(
            queue[2],
            FakeAnswer::Truncated("{\"findings\": [".into()).delayed(Duration::from_millis(10))
        );
        assert_eq!(
            queue[3],
            FakeAnswer::tool_call("read_file", json!({"path": "a.c"}))
        );
        assert_eq!(
            from_toml.default,
            Some(FakeAnswer::json(json!({"findings": []})))
        );
        let unknown = toml::from_str::<FakeScript>("[stages.x]\nqueue = [{ jsno = 1 }]\n");
        assert!(unknown.is_err());
    }
}
