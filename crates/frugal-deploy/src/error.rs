//! The library's error type.

use std::path::PathBuf;

use crate::events::Failure;

/// Everything deploy, diff and destroy can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A file of the synthesized app could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `manifest.json` or a template is not what synthesis writes.
    #[error("{path}: {message}")]
    Assembly {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A stack was named that the app does not have, or none was named.
    #[error("{0}")]
    Selection(String),
    /// The credentials the chain found have expired.
    #[error("AWS credentials have expired ({0}); refresh them (e.g. `aws sso login`) and run the command again")]
    ExpiredCredentials(String),
    /// No credentials could be found or loaded.
    #[error("no usable AWS credentials ({0}); set a profile with --profile or AWS_PROFILE, or export credentials")]
    NoCredentials(String),
    /// An AWS call failed.
    #[error("{operation}: {message}")]
    Aws {
        /// The API operation, e.g. `CreateChangeSet`.
        operation: &'static str,
        /// The AWS error code, when the service sent one.
        code: Option<String>,
        /// The error message.
        message: String,
    },
    /// The stack is in a state the command cannot proceed from; the message says the way out.
    #[error("stack {stack} is {status}: {way_out}")]
    StackState {
        /// The stack.
        stack: String,
        /// Its CloudFormation status.
        status: String,
        /// What to do about it.
        way_out: String,
    },
    /// CloudFormation could not create the change set.
    #[error("change set for stack {stack} failed: {reason}")]
    ChangeSetFailed {
        /// The stack.
        stack: String,
        /// CloudFormation's status reason.
        reason: String,
    },
    /// The stack operation ended in a failed or rolled-back state.
    #[error("stack {stack} failed ({status}){}", root_cause.as_ref().map(|f| format!(": {f}")).unwrap_or_default())]
    StackFailed {
        /// The stack.
        stack: String,
        /// The status it settled in.
        status: String,
        /// The first real resource failure, if any was reported.
        root_cause: Option<Box<Failure>>,
        /// Every resource failure reported during the operation, oldest first.
        failures: Vec<Failure>,
    },
    /// A change needs approval and none could be given (no terminal, no `--yes`).
    #[error("stack {stack}: these changes need approval ({}); run on a terminal or pass --yes", reasons.join("; "))]
    ApprovalRequired {
        /// The stack.
        stack: String,
        /// Why approval is needed.
        reasons: Vec<String>,
    },
    /// The user answered no.
    #[error("stack {stack}: {what} declined; nothing was changed")]
    Declined {
        /// The stack.
        stack: String,
        /// What was declined.
        what: String,
    },
    /// Destroy refused a protected stack.
    #[error("stack {stack} is protected (prod); pass --force-protected to destroy it anyway (--purge-data is never allowed on it)")]
    Protected {
        /// The stack.
        stack: String,
    },
    /// `--purge-data` (or `--delete-retained`) was asked for a protected stack.
    #[error("stack {stack} is protected: --purge-data and --delete-retained are only for non-prod stacks")]
    PurgeProtected {
        /// The stack.
        stack: String,
    },
    /// Ctrl-C: stopped waiting; the message says how to resume.
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// A stack operation did not settle within the time allowed.
    #[error("stack {stack} did not settle within {seconds} s (still {status})")]
    Timeout {
        /// The stack.
        stack: String,
        /// The last status seen.
        status: String,
        /// The time waited.
        seconds: u64,
    },
    /// Several stacks failed.
    #[error("{} stacks failed: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Multiple(Vec<DeployError>),
    /// A template staging or data purge step failed.
    #[error("{0}")]
    Other(String),
}

/// Result alias for the library.
pub type Result<T, E = DeployError> = std::result::Result<T, E>;

impl DeployError {
    /// Whether this error is about credentials (expired or missing).
    pub fn is_credentials(&self) -> bool {
        matches!(
            self,
            DeployError::ExpiredCredentials(_) | DeployError::NoCredentials(_)
        )
    }
}
