//! The provider-neutral request and response model.
//!
//! Everything a caller says to a model and everything it gets back is
//! expressed here, independent of any wire format. Adapters translate these
//! values to and from JSON; this module must never know about HTTP, headers
//! or a particular provider's field names.

use std::ops::AddAssign;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who said a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    /// Results of tool calls, sent back to the model.
    Tool,
}

/// One piece of a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentBlock {
    Text(String),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    ToolResult {
        id: String,
        content: String,
        is_error: bool,
    },
    /// An opaque provider token that must be sent back unchanged with the
    /// assistant turn it came with (Gemini's `thoughtSignature`). `for_tool`
    /// names the tool-call id it belongs to, if any.
    Signature {
        for_tool: Option<String>,
        signature: String,
    },
}

/// One turn of the conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<ContentBlock>,
}

impl Message {
    pub fn user_text(text: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            content: vec![ContentBlock::Text(text.into())],
        }
    }

    pub fn assistant_text(text: impl Into<String>) -> Self {
        Message {
            role: Role::Assistant,
            content: vec![ContentBlock::Text(text.into())],
        }
    }

    /// All text blocks joined with newlines.
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self
            .content
            .iter()
            .filter_map(|block| match block {
                ContentBlock::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        parts.join("\n")
    }
}

/// A JSON schema the answer text must match.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseSchema {
    pub name: String,
    pub schema: Value,
}

/// A tool the model may call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
}

/// A provider-neutral chat request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Caller label ("resource", "verify", ...). Sent as the HTTP header
    /// `x-sashiko-stage`; never inserted into prompt text.
    pub stage: String,
    pub system: String,
    pub messages: Vec<Message>,
    /// Number of leading messages that are identical across the stages of
    /// one review; adapters put a cache breakpoint after them.
    pub shared_prefix_messages: usize,
    pub response_schema: Option<ResponseSchema>,
    pub tools: Vec<ToolSpec>,
    pub max_output_tokens: u32,
    pub temperature: Option<f32>,
    /// Text of the user message sent when a structured answer fails
    /// validation; `{error}` is replaced by the validator's message. `None`
    /// uses the built-in wording of [`crate::structured`].
    #[serde(default)]
    pub repair_instruction: Option<String>,
}

impl ChatRequest {
    pub fn new(stage: impl Into<String>, system: impl Into<String>) -> Self {
        ChatRequest {
            stage: stage.into(),
            system: system.into(),
            messages: Vec::new(),
            shared_prefix_messages: 0,
            response_schema: None,
            tools: Vec::new(),
            max_output_tokens: 4096,
            temperature: None,
            repair_instruction: None,
        }
    }

    pub fn with_user_text(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::user_text(text));
        self
    }

    pub fn with_message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    /// Marks the messages so far as the prefix shared by all stages.
    pub fn mark_shared_prefix(mut self) -> Self {
        self.shared_prefix_messages = self.messages.len();
        self
    }

    pub fn with_shared_prefix(mut self, messages: usize) -> Self {
        self.shared_prefix_messages = messages;
        self
    }

    pub fn with_schema(mut self, name: impl Into<String>, schema: Value) -> Self {
        self.response_schema = Some(ResponseSchema {
            name: name.into(),
            schema,
        });
        self
    }

    pub fn with_tool(mut self, tool: ToolSpec) -> Self {
        self.tools.push(tool);
        self
    }

    pub fn with_max_output_tokens(mut self, tokens: u32) -> Self {
        self.max_output_tokens = tokens;
        self
    }

    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }
}

/// A tool call the model asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id, or one we made up when it gave none.
    pub id: String,
    pub name: String,
    pub input: Value,
}

/// Why the model stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndTurn,
    /// Truncated at `max_output_tokens`.
    MaxTokens,
    ToolUse,
    Refusal,
    Other(String),
}

/// Token usage. `output_tokens` includes `reasoning_tokens` (reasoning is
/// billed as output); `input_tokens` excludes cached input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub requests: u64,
    /// Uncached input tokens.
    pub input_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub output_tokens: u64,
    /// Of `output_tokens`, how many were hidden reasoning.
    pub reasoning_tokens: u64,
}

impl Usage {
    /// All input tokens, cached or not.
    pub fn total_input_tokens(&self) -> u64 {
        self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
    }
    pub fn total_tokens(&self) -> u64 {
        self.total_input_tokens() + self.output_tokens
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.requests += other.requests;
        self.input_tokens += other.input_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.output_tokens += other.output_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
    }
}

impl std::ops::Add for Usage {
    type Output = Usage;
    fn add(mut self, other: Usage) -> Usage {
        self += other;
        self
    }
}

/// A provider-neutral chat response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// All answer text joined (empty when the model only called tools).
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub stop_reason: StopReason,
    pub usage: Usage,
    /// The model that answered, as the provider named it.
    pub model: String,
    /// Time spent waiting before retries for this answer.
    #[serde(default, with = "duration_ms")]
    pub retry_wait: Duration,
    /// Opaque tokens to send back with this assistant turn (Gemini
    /// `thoughtSignature`); see [`ChatResponse::assistant_message`].
    #[serde(default)]
    pub signatures: Vec<ContentBlock>,
}

impl ChatResponse {
    /// The assistant turn to append to the conversation when continuing it
    /// (text, tool calls and any signatures the provider needs back).
    pub fn assistant_message(&self) -> Message {
        let mut content = Vec::new();
        content.extend(self.signatures.iter().cloned());
        if !self.text.is_empty() {
            content.push(ContentBlock::Text(self.text.clone()));
        }
        for call in &self.tool_calls {
            content.push(ContentBlock::ToolUse {
                id: call.id.clone(),
                name: call.name.clone(),
                input: call.input.clone(),
            });
        }
        Message {
            role: Role::Assistant,
            content,
        }
    }
}

/// Serialises a `Duration` as whole milliseconds.
pub(crate) mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(deserializer)?))
    }
}
