//! `cargo xtask`: Frugal's command layer. Each command is a thin shell over the crates;
//! commands that talk to AWS run the `frugal` binary of `frugal-deploy` so that
//! synthesizing never compiles the AWS SDK.

mod bench;
mod cost;
mod synth;
mod test;
mod venv;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Frugal: cost-optimized AWS infrastructure as typed Rust constructs"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Synthesize the retail-forecast app into cfn-out/.
    Synth {
        /// Exit non-zero when cfn-out/ differs from a fresh synthesis (writes nothing).
        #[arg(long)]
        check: bool,
        /// Output directory.
        #[arg(long, default_value = "cfn-out")]
        out: PathBuf,
    },
    /// Run every check and test: fmt, clippy, cargo test, synth --check, cfn-lint, actionlint.
    Test,
    /// Monthly cost before and after the cost controls, computed from the synthesized app.
    Cost(cost::CostArgs),
    /// Regenerate the typed CloudFormation resources from crates/frugal-cfn/schemas.
    Codegen,
    /// Time synthesis and diff at scale (release build, whole process, peak memory).
    Bench(bench::BenchArgs),
    /// Synthesize, then deploy stacks through CloudFormation change sets.
    Deploy {
        /// Arguments for `frugal deploy` (see `cargo xtask deploy -- --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Synthesize, then diff the templates against the deployed stacks.
    Diff {
        /// Arguments for `frugal diff`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Synthesize, then delete stacks in reverse dependency order.
    Destroy {
        /// Arguments for `frugal destroy`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Synthesize, then check the deployed app against it, one row per check (`--gone`:
    /// after a teardown, list what of it still exists).
    Verify {
        /// Arguments for `frugal-ops verify` (see `cargo xtask verify -- --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Synthesize, then start a SageMaker managed spot training job with the app's image,
    /// bucket, role and tags.
    Train {
        /// Arguments for `frugal-ops train` (see `cargo xtask train -- --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let root = workspace_root()?;
    std::env::set_current_dir(&root).context("entering the workspace root")?;
    match cli.command {
        Cmd::Synth { check, out } => synth::run(&root.join(out), check),
        Cmd::Test => test::run(&root),
        Cmd::Cost(args) => cost::run(args),
        Cmd::Bench(args) => bench::run(&root, args),
        Cmd::Codegen => {
            let n = frugal_codegen::run(&root).context("generating resource types")?;
            println!("generated {n} files into crates/frugal-cfn/src/generated");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Deploy { args } => aws_command(&root, &FRUGAL, "deploy", &args),
        Cmd::Diff { args } => aws_command(&root, &FRUGAL, "diff", &args),
        Cmd::Destroy { args } => aws_command(&root, &FRUGAL, "destroy", &args),
        Cmd::Verify { args } => aws_command(&root, &FRUGAL_OPS, "verify", &args),
        Cmd::Train { args } => aws_command(&root, &FRUGAL_OPS, "train", &args),
    }
}

/// A binary that talks to AWS, built on first use with `cargo run`: running it as its
/// own process keeps the AWS SDK out of synthesis.
struct AwsBinary {
    package: &'static str,
    bin: &'static str,
}

/// `frugal` of `frugal-deploy`: deploy, diff, destroy.
const FRUGAL: AwsBinary = AwsBinary {
    package: "frugal-deploy",
    bin: "frugal",
};

/// `frugal-ops` of `frugal-ops`: verify, train.
const FRUGAL_OPS: AwsBinary = AwsBinary {
    package: "frugal-ops",
    bin: "frugal-ops",
};

/// Synthesizes, then runs `binary command args`.
fn aws_command(
    root: &Path,
    binary: &AwsBinary,
    command: &str,
    args: &[String],
) -> Result<ExitCode> {
    let synthesized = synth::run(&root.join("cfn-out"), false)?;
    if synthesized != ExitCode::SUCCESS {
        return Ok(synthesized);
    }
    let status = Command::new(cargo())
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "--package",
            binary.package,
            "--bin",
            binary.bin,
            "--",
            command,
        ])
        .args(args)
        .status()
        .with_context(|| format!("running the {} binary", binary.bin))?;
    Ok(exit_code(status))
}

/// The cargo that runs this xtask.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Maps a child's exit status to ours.
pub(crate) fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        None => ExitCode::FAILURE,
    }
}

fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match manifest_dir.parent() {
        Some(root) if root.join("Cargo.toml").exists() => Ok(root.to_path_buf()),
        _ => bail!(
            "cannot find the workspace root above {}",
            manifest_dir.display()
        ),
    }
}
