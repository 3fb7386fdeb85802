//! # frugal-deploy
//!
//! The deploy engine: deploys a synthesized Frugal app (`cfn-out/manifest.json` and its
//! templates) to CloudFormation through change sets, diffs it against what is deployed,
//! and destroys it. The `frugal` binary is a thin command line over [`deploy()`],
//! [`diff()`] and [`destroy()`]; other Rust infrastructure apps call them directly.
//!
//! The decisions are plain functions with unit tests: approval over change-set changes
//! ([`plan`]), template diffs with per-property paths and replacement marks
//! ([`template_diff`]), IAM broadening ([`iam`]), root causes from stack events
//! ([`events`]), stack-state classification ([`state`]) and the poll schedule ([`poll`]).
//! The AWS calls around them are thin ([`aws`], [`cfn`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), frugal_deploy::DeployError> {
//! use frugal_deploy::{Assembly, AwsOptions, Cancel, Console, DeployOptions, Session};
//! let assembly = Assembly::load(std::path::Path::new("cfn-out"))?;
//! let session = Session::connect(&AwsOptions::default()).await;
//! let options = DeployOptions { all: true, yes: true, ..Default::default() };
//! let report = frugal_deploy::deploy(&session, &assembly, &options, &Console::detect(), &Cancel::new()).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod assembly;
pub mod aws;
pub mod cfn;
#[cfg(feature = "cli")]
pub mod cli;
pub mod console;
pub mod deploy;
pub mod destroy;
pub mod diff;
pub mod error;
pub mod events;
pub mod plan;
pub mod poll;
pub mod staging;
pub mod state;
mod watch;

/// Template analysis without AWS calls, from `frugal-diff`.
pub use frugal_diff::{iam, template, template_diff};

pub use assembly::{Assembly, StackArtifact};
pub use aws::{AwsOptions, Clients, Session};
pub use console::{Cancel, Console};
pub use deploy::{deploy, DeployOptions, DeployReport, StackOutcome};
pub use destroy::{destroy, DestroyOptions, DestroyOutcome, DestroyReport};
pub use diff::{diff, DiffOptions, DiffReport};
pub use error::DeployError;
pub use plan::ApprovalLevel;
pub use poll::PollConfig;
pub use template::{is_stateful, STATEFUL_TYPES};

pub use frugal_diff::schema_of;
