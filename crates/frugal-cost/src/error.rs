//! The errors of the cost model.

use thiserror::Error;

/// Why a report could not be built.
#[derive(Debug, Error)]
pub enum CostError {
    /// The price catalog does not parse or is inconsistent.
    #[error("price catalog: {0}")]
    Catalog(String),
    /// A usage file does not parse or is inconsistent.
    #[error("usage file {file}: {message}")]
    Usage {
        /// The file (or built-in profile) name.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The app has no stack tagged with the environment.
    #[error("no stack is tagged Environment={env} (environments: {available})")]
    UnknownEnvironment {
        /// The environment asked for.
        env: String,
        /// The environments the manifest has, comma-separated.
        available: String,
    },
    /// The usage file has no usage for the environment.
    #[error("usage file {file} has no [envs.{env}] section (it has: {available})")]
    NoUsageForEnvironment {
        /// The usage file.
        file: String,
        /// The environment asked for.
        env: String,
        /// The environments the file has, comma-separated.
        available: String,
    },
    /// A template does not have the shape CloudFormation requires.
    #[error("template of stack {stack}: {message}")]
    Template {
        /// The stack.
        stack: String,
        /// What is wrong.
        message: String,
    },
    /// The manifest names a stack the assembly does not contain.
    #[error("the manifest lists stack {0} but no template was synthesized for it")]
    MissingTemplate(String),
}
