//! # frugal-ops
//!
//! Operations on a deployed Frugal app, driven by what was synthesized (`cfn-out/`):
//!
//! - [`verify()`]: checks the deployed environment against the synthesized one through the
//!   service APIs — node group capacity and instance types, bucket lifecycle and
//!   Intelligent-Tiering, log retention (service-created groups included), ECR lifecycle
//!   policy, schedules, tags on every stack resource, the budget (filter on a tag the
//!   resources really carry, notifications) and the cost allocation tag it needs;
//! - [`gone()`]: after a teardown, lists what of the environment still exists, including
//!   what no stack owns (endpoints, Kubernetes volumes and load balancers, retained data);
//! - [`train`]: starts a SageMaker managed spot training job with the app's image, bucket,
//!   role and tags, checkpointed, and reports the spot saving.
//!
//! Names, tags and sizes come from the manifest, the templates and the stacks' outputs,
//! never retyped. The decisions are plain functions ([`expect`], [`train::plan_training`],
//! the `*_check` functions of [`verify`]) with unit tests; the AWS calls around them are
//! thin. The `frugal-ops` binary is a command line over them.
//!
//! ```no_run
//! # async fn run() -> Result<(), frugal_ops::OpsError> {
//! use frugal_ops::{OpsClients, VerifyOptions};
//! let assembly = frugal_deploy::Assembly::load(std::path::Path::new("cfn-out"))?;
//! let clients = OpsClients::connect(&frugal_deploy::AwsOptions::default()).await;
//! let report = frugal_ops::verify(&clients, &assembly, &VerifyOptions { env: "dev".into() }).await?;
//! println!("{}", report.to_table());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod clients;
pub mod deployed;
pub mod error;
pub mod expect;
pub mod gone;
pub mod report;
pub mod train;
pub mod verify;

pub use clients::OpsClients;
pub use error::OpsError;
pub use gone::{gone, GoneOptions};
pub use report::{Check, Report, Status};
pub use train::{TrainOptions, TrainingPlan};
pub use verify::{verify, VerifyOptions};
