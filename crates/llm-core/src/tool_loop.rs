//! The tool-calling loop: send, run the tools the model asked for, send the
//! results back, until the model answers or a budget runs out.
//!
//! Budgets: turns, tokens (reported usage plus the estimate of the next
//! request) and wall time (tokio's clock). A call the model already made
//! with the same input gets an error result pointing at the earlier one;
//! repeating it past `max_repeated_calls` ends the loop. Unknown tool names
//! get an error result listing the real ones. Tools are the caller's: this
//! module must never execute anything itself.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::error::LlmError;
use crate::tokens;
use crate::types::{ChatRequest, ChatResponse, ContentBlock, Message, Role, Usage};
use crate::LlmClient;

/// Limits of one tool loop.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolBudget {
    /// Model requests at most.
    pub max_turns: u32,
    /// Input plus output tokens over all turns.
    pub max_tokens: u64,
    pub max_wall_time: Duration,
    /// How often the very same call (name and input) may be answered
    /// before the loop is ended as stuck.
    pub max_repeated_calls: u32,
}

impl Default for ToolBudget {
    fn default() -> Self {
        ToolBudget {
            max_turns: 12,
            max_tokens: 200_000,
            max_wall_time: Duration::from_secs(600),
            max_repeated_calls: 2,
        }
    }
}

/// Lines of a file that a tool showed the model, so that findings citing
/// them can be told from findings citing nothing the model saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLines {
    pub file: String,
    /// Which tree the lines come from (e.g. `post-patch`, `baseline`).
    pub tree: String,
    /// 1-based, inclusive.
    pub start: u32,
    pub end: u32,
}

/// What one tool call returned: the text for the model and the file lines
/// it contains.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolOutput {
    pub text: String,
    pub sources: Vec<SourceLines>,
}

/// Runs the tools a model asks for. Errors become error results the model
/// sees; they do not end the loop.
#[async_trait::async_trait]
pub trait ToolExecutor: Send + Sync {
    async fn call(&self, name: &str, input: &Value) -> Result<String, String>;

    /// Like [`ToolExecutor::call`], also saying which file lines the text
    /// shows. The default shows none.
    async fn call_with_sources(&self, name: &str, input: &Value) -> Result<ToolOutput, String> {
        self.call(name, input).await.map(|text| ToolOutput {
            text,
            sources: Vec::new(),
        })
    }
}

/// Why a loop ended before the model gave a final answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoopStop {
    Turns,
    Tokens,
    WallTime,
    /// The model kept making the same call.
    RepeatedCall {
        name: String,
    },
}

/// The result of a tool loop.
#[derive(Clone, Debug)]
pub struct ToolLoopOutcome {
    /// The last response received (the final answer unless `stopped`).
    pub last: Option<ChatResponse>,
    /// The whole conversation, for a final structured request if stopped.
    pub messages: Vec<Message>,
    pub usage: Usage,
    pub turns: u32,
    pub tool_calls: u32,
    /// Calls to tools that do not exist.
    pub unknown_tool_calls: u32,
    pub stopped: Option<LoopStop>,
    /// File lines the successful calls showed the model.
    pub sources: Vec<SourceLines>,
    /// The text of every tool result, in order (`name`, text, is_error).
    pub results: Vec<(String, String, bool)>,
}

fn call_key(name: &str, input: &Value) -> String {
    format!("{name}\u{0}{input}")
}

/// Runs `request` with its tools through `executor` within `budget`.
pub async fn run_tool_loop(
    client: &dyn LlmClient,
    request: &ChatRequest,
    executor: &dyn ToolExecutor,
    budget: &ToolBudget,
) -> Result<ToolLoopOutcome, LlmError> {
    let started = Instant::now();
    let mut request = request.clone();
    let mut outcome = ToolLoopOutcome {
        last: None,
        messages: Vec::new(),
        usage: Usage::default(),
        turns: 0,
        tool_calls: 0,
        unknown_tool_calls: 0,
        stopped: None,
        sources: Vec::new(),
        results: Vec::new(),
    };
    let mut seen_calls: HashMap<String, u32> = HashMap::new();
    let known: Vec<&str> = request
        .tools
        .iter()
        .map(|tool| tool.name.as_str())
        .collect();
    let known: Vec<String> = known.into_iter().map(str::to_string).collect();
    loop {
        if outcome.turns >= budget.max_turns {
            outcome.stopped = Some(LoopStop::Turns);
            break;
        }
        let next_estimate = tokens::calibrated_count(client.provider(), client.model(), &request)
            + u64::from(request.max_output_tokens);
        if outcome.usage.total_tokens() + next_estimate > budget.max_tokens {
            outcome.stopped = Some(LoopStop::Tokens);
            break;
        }
        let Some(remaining) = budget.max_wall_time.checked_sub(started.elapsed()) else {
            outcome.stopped = Some(LoopStop::WallTime);
            break;
        };
        let response = match tokio::time::timeout(remaining, client.chat(&request)).await {
            Ok(response) => response?,
            Err(_) => {
                outcome.stopped = Some(LoopStop::WallTime);
                break;
            }
        };
        outcome.turns += 1;
        outcome.usage += response.usage;
        if response.tool_calls.is_empty() {
            outcome.last = Some(response);
            break;
        }
        request.messages.push(response.assistant_message());
        let mut results = Vec::new();
        let mut stuck = None;
        for call in &response.tool_calls {
            outcome.tool_calls += 1;
            let count = seen_calls
                .entry(call_key(&call.name, &call.input))
                .or_insert(0);
            *count += 1;
            let (content, is_error) = if !known.contains(&call.name) {
                outcome.unknown_tool_calls += 1;
                (
                    format!(
                        "there is no tool named {:?}; available tools: {}",
                        call.name,
                        known.join(", ")
                    ),
                    true,
                )
            } else if *count > budget.max_repeated_calls {
                stuck = Some(call.name.clone());
                (
                    "this exact call was already made; its result is above".to_string(),
                    true,
                )
            } else if *count > 1 {
                (
                    "this exact call was already made; its result is above; do not repeat it"
                        .to_string(),
                    true,
                )
            } else {
                match executor.call_with_sources(&call.name, &call.input).await {
                    Ok(output) => {
                        outcome.sources.extend(output.sources);
                        (output.text, false)
                    }
                    Err(error) => (error, true),
                }
            };
            outcome
                .results
                .push((call.name.clone(), content.clone(), is_error));
            results.push(ContentBlock::ToolResult {
                id: call.id.clone(),
                content,
                is_error,
            });
        }
        request.messages.push(Message {
            role: Role::Tool,
            content: results,
        });
        outcome.last = Some(response);
        if let Some(name) = stuck {
            outcome.stopped = Some(LoopStop::RepeatedCall { name });
            break;
        }
    }
    outcome.messages = request.messages;
    Ok(outcome)
}
