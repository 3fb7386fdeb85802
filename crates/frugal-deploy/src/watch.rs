//! Following a stack operation: event lines, progress, failures, settling.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_cloudformation::Client;

use crate::cfn;
use crate::console::{Cancel, Console, Progress};
use crate::error::{DeployError, Result};
use crate::events::{format_event, StackEvent};
use crate::poll::{Backoff, PollConfig};
use crate::state::is_settled;

/// How a watched operation ended.
#[derive(Clone, Debug)]
pub(crate) struct Watched {
    /// The settled status (`DELETE_COMPLETE` when the stack is gone).
    pub status: String,
    /// Every event seen, oldest first.
    pub events: Vec<StackEvent>,
}

/// What to watch.
pub(crate) struct Watch<'a> {
    pub cfn: &'a Client,
    /// Stack name, or id (ARN: still answers after deletion).
    pub stack: &'a str,
    /// Shown in lines.
    pub name: &'a str,
    /// Newest event before the operation (None: show all).
    pub since: Option<String>,
    pub paths: &'a BTreeMap<String, String>,
    pub console: &'a Console,
    pub progress: &'a Progress,
    pub cancel: &'a Cancel,
    pub poll: PollConfig,
    /// What to say when Ctrl-C stops the wait.
    pub interrupted: String,
}

impl Watch<'_> {
    fn show(&self, events: &[StackEvent], seen: &mut Vec<StackEvent>) {
        for e in events {
            self.console
                .line(format!("{} | {}", self.name, format_event(e, self.paths)));
            if e.is_stack() {
                self.progress.message(&e.status);
            } else if e.status.ends_with("_COMPLETE") || e.status.ends_with("_SKIPPED") {
                self.progress.inc();
            }
            seen.push(e.clone());
        }
    }

    /// Polls events and status until the stack settles.
    pub async fn run(self) -> Result<Watched> {
        let start = Instant::now();
        let mut backoff = Backoff::new(self.poll);
        let mut since = self.since.clone();
        let mut seen = Vec::new();
        loop {
            let new = cfn::events_since(self.cfn, self.stack, since.as_deref(), 20).await?;
            if let Some(last) = new.last() {
                since = Some(last.id.clone());
                backoff.activity();
                self.show(&new, &mut seen);
            }
            let status = cfn::describe_stack(self.cfn, self.stack)
                .await?
                .map(|i| i.status)
                .unwrap_or_else(|| "DELETE_COMPLETE".to_owned());
            self.progress.message(&status);
            if is_settled(&status) {
                let rest = cfn::events_since(self.cfn, self.stack, since.as_deref(), 20).await?;
                self.show(&rest, &mut seen);
                return Ok(Watched {
                    status,
                    events: seen,
                });
            }
            if start.elapsed() > self.poll.timeout {
                return Err(DeployError::Timeout {
                    stack: self.name.to_owned(),
                    status,
                    seconds: self.poll.timeout.as_secs(),
                });
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff.next_delay()) => {}
                _ = self.cancel.cancelled() => return Err(DeployError::Interrupted(self.interrupted.clone())),
            }
        }
    }
}
