//! Errors of the operations: reading the app, reaching AWS, invalid options.

use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use frugal_deploy::DeployError;

/// What can stop `verify` or `train` (a check that fails is not an error: it is a row).
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// Reading the synthesized app, or an AWS error (credentials get one clear line).
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// The environment or stack asked for is not in the app.
    #[error("{0}")]
    Selection(String),
    /// A stack the command needs is not deployed.
    #[error("stack {0} is not deployed; deploy it first (`cargo xtask deploy {0}`)")]
    NotDeployed(String),
    /// A deployed stack lacks an output the command needs.
    #[error("stack {stack} has no output {output}; deploy the current synthesis (`cargo xtask deploy {stack}`)")]
    MissingOutput {
        /// Stack name.
        stack: String,
        /// Output key.
        output: String,
    },
    /// Options that contradict each other or the plan's rules (e.g. MaxWait < MaxRuntime).
    #[error("{0}")]
    Invalid(String),
    /// A training job ended without completing.
    #[error("training job {job} ended {status}{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    TrainingFailed {
        /// Job name.
        job: String,
        /// `Failed` or `Stopped`.
        status: String,
        /// SageMaker's failure reason.
        reason: Option<String>,
    },
}

impl OpsError {
    /// Whether the error is about credentials (every further call would fail the same way).
    pub fn is_credentials(&self) -> bool {
        matches!(self, OpsError::Deploy(d) if d.is_credentials())
    }
}

/// Result with [`OpsError`].
pub type Result<T, E = OpsError> = std::result::Result<T, E>;

/// Converts an SDK error of `operation` into an [`OpsError`] (through the deploy engine's
/// classification, so expired or missing credentials read the same in every command).
/// The error types are the SDK's shared ones, whichever service crate re-exports them.
pub fn aws<E, R>(operation: &'static str, err: SdkError<E, R>) -> OpsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    OpsError::Deploy(frugal_deploy::aws::aws_error(operation, err))
}
