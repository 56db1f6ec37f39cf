//! The queue of injected faults: what each does, and which call it applies to next.

use serde::Deserialize;

/// What a fault does to a matching call.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with `status` (and an `ApiResult` body where Mesh would send one).
    Status,
    /// Wait `delay_ms`, then answer normally.
    Delay,
    /// Answer 200 with a truncated JSON body.
    Malformed,
    /// Send the headers, then break the connection (before the call is performed).
    Drop,
    /// Perform the call (a refresh rotates the tokens), then break the connection: the client
    /// never learns what Mesh did.
    Lose,
    /// Perform the call, then answer only after `delay_ms`: a slow Mesh whose work is already
    /// done, or, past the client's timeout, one that never answers.
    Late,
    /// Answer 200 with `content` as the answer's content instead of performing the call: figures
    /// no emulated account holds (amounts past what the app can add up, say).
    Content,
}

/// One queued fault, as posted to `/_emulator/faults`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The API path it applies to, for example `/api/v1/linktoken`.
    pub path: String,
    /// What it does.
    pub fault: FaultKind,
    /// The status for `status` faults.
    #[serde(default)]
    pub status: Option<u16>,
    /// The delay for `delay` and `late` faults.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// How many matching calls it affects (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// The answer's content for `content` faults.
    #[serde(default)]
    pub content: Option<serde_json::Value>,
}

fn one() -> u32 {
    1
}

/// Queued faults, applied first in, first out.
#[derive(Debug, Default)]
pub struct FaultQueue(Vec<Fault>);

impl FaultQueue {
    /// Queues `fault` behind the others.
    pub fn push(&mut self, fault: Fault) {
        self.0.push(fault);
    }

    /// Drops every queued fault.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The next fault for `path`, counting it off.
    pub fn take(&mut self, path: &str) -> Option<Fault> {
        let index = self.0.iter().position(|f| f.path == path)?;
        let fault = &mut self.0[index];
        fault.times -= 1;
        let taken = fault.clone();
        if fault.times == 0 {
            self.0.remove(index);
        }
        Some(taken)
    }
}
