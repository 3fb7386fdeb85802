//! Command-line pieces shared by Frugal's binaries (`frugal`, `frugal-ops`): the options
//! every command takes. Behind the `cli` feature.

use std::path::PathBuf;

use anyhow::Context;

use crate::{Assembly, AwsOptions};

/// Where the synthesized app is and how to reach AWS.
#[derive(clap::Args, Debug, Clone)]
pub struct CommonArgs {
    /// Directory holding manifest.json and the templates.
    #[arg(long, default_value = "cfn-out")]
    pub out: PathBuf,
    /// AWS profile (shared config/credentials, SSO).
    #[arg(long)]
    pub profile: Option<String>,
    /// AWS region.
    #[arg(long)]
    pub region: Option<String>,
    /// Endpoint URL for every AWS service (a local emulator).
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

impl CommonArgs {
    /// The profile, region and endpoint overrides.
    pub fn aws_options(&self) -> AwsOptions {
        AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
        }
    }

    /// Reads the synthesized app from `--out`.
    pub fn load(&self) -> anyhow::Result<Assembly> {
        Assembly::load(&self.out)
            .with_context(|| format!("reading the synthesized app in {}", self.out.display()))
    }
}
