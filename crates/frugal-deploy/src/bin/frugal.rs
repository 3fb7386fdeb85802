//! `frugal`: deploy, diff and destroy a synthesized Frugal app (`cfn-out/`).

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use frugal_deploy::cli::CommonArgs as Common;
use frugal_deploy::{
    ApprovalLevel, Cancel, Console, DeployError, DeployOptions, DestroyOptions, DiffOptions,
    Session,
};

/// Deploy, diff and destroy a synthesized Frugal app on AWS CloudFormation.
#[derive(Parser, Debug)]
#[command(name = "frugal", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Approval {
    Never,
    Broadening,
    AnyChange,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Deploy stacks through change sets, in dependency order.
    Deploy {
        /// Stacks to deploy.
        stacks: Vec<String>,
        /// Deploy every stack of the app.
        #[arg(long, conflicts_with = "stacks")]
        all: bool,
        /// When to ask before executing a change set.
        #[arg(long, value_enum, default_value = "broadening")]
        require_approval: Approval,
        /// Answer yes to approval questions (CI).
        #[arg(long)]
        yes: bool,
        /// Create and show the change sets, but do not execute them.
        #[arg(long)]
        no_execute: bool,
        /// Delete and recreate a stack whose creation failed (ROLLBACK_COMPLETE).
        #[arg(long)]
        replace_failed: bool,
        /// Wait for a stack busy in another operation, then deploy.
        #[arg(long)]
        wait: bool,
        /// Bucket for templates over 51,200 bytes (default frugal-staging-ACCOUNT-REGION).
        #[arg(long)]
        staging_bucket: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Compare the synthesized templates with the deployed ones (exit 1 when they differ).
    Diff {
        /// Stacks to compare (default: all).
        stacks: Vec<String>,
        /// Also ask CloudFormation for its change set (created, shown, deleted).
        #[arg(long)]
        change_set: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Delete stacks in reverse dependency order.
    Destroy {
        /// Stacks to destroy.
        stacks: Vec<String>,
        /// Destroy every stack of the app.
        #[arg(long, conflicts_with = "stacks")]
        all: bool,
        /// Do not ask for the stack name.
        #[arg(long)]
        yes: bool,
        /// Only list what would be deleted and retained.
        #[arg(long)]
        dry_run: bool,
        /// Empty buckets (all object versions) and repositories first (non-prod only).
        #[arg(long)]
        purge_data: bool,
        /// With --purge-data: also delete the buckets, repositories and log groups the
        /// template retains, once the stack is gone (a teardown that keeps no data).
        #[arg(long, requires = "purge_data")]
        delete_retained: bool,
        /// Destroy protected (prod) stacks too.
        #[arg(long)]
        force_protected: bool,
        #[command(flatten)]
        common: Common,
    },
}

async fn session(common: &Common) -> Session {
    Session::connect(&common.aws_options()).await
}

/// Exit code for an error: 130 for Ctrl-C, 2 for diff's "could not compare", 1 otherwise.
fn fail(e: &anyhow::Error, code: u8) -> ExitCode {
    match e.downcast_ref::<DeployError>() {
        Some(DeployError::Interrupted(_)) => {
            eprintln!("{e}");
            ExitCode::from(130)
        }
        Some(d) if d.is_credentials() => {
            eprintln!("error: {d}");
            ExitCode::from(code)
        }
        _ => {
            eprintln!("error: {e:#}");
            ExitCode::from(code)
        }
    }
}

async fn run(cli: Cli, console: Console, cancel: Cancel) -> ExitCode {
    match cli.command {
        Command::Deploy {
            stacks,
            all,
            require_approval,
            yes,
            no_execute,
            replace_failed,
            wait,
            staging_bucket,
            common,
        } => {
            let result = async {
                let assembly = common.load()?;
                let options = DeployOptions {
                    stacks,
                    all,
                    approval: match require_approval {
                        Approval::Never => ApprovalLevel::Never,
                        Approval::Broadening => ApprovalLevel::Broadening,
                        Approval::AnyChange => ApprovalLevel::AnyChange,
                    },
                    yes,
                    execute: !no_execute,
                    replace_failed,
                    wait_busy: wait,
                    staging_bucket,
                    ..Default::default()
                };
                let session = session(&common).await;
                Ok::<_, anyhow::Error>(
                    frugal_deploy::deploy(&session, &assembly, &options, &console, &cancel).await?,
                )
            }
            .await;
            match result {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => fail(&e, 1),
            }
        }
        Command::Diff {
            stacks,
            change_set,
            common,
        } => {
            let result = async {
                let assembly = common.load()?;
                let options = DiffOptions {
                    stacks,
                    change_set,
                    ..Default::default()
                };
                let session = session(&common).await;
                Ok::<_, anyhow::Error>(
                    frugal_deploy::diff(&session, &assembly, &options, &console, &cancel).await?,
                )
            }
            .await;
            match result {
                Ok(report) if report.has_differences() => ExitCode::from(1),
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => fail(&e, 2),
            }
        }
        Command::Destroy {
            stacks,
            all,
            yes,
            dry_run,
            purge_data,
            delete_retained,
            force_protected,
            common,
        } => {
            let result = async {
                let assembly = common.load()?;
                let options = DestroyOptions {
                    stacks,
                    all,
                    yes,
                    dry_run,
                    purge_data,
                    delete_retained,
                    force_protected,
                    ..Default::default()
                };
                let session = session(&common).await;
                Ok::<_, anyhow::Error>(
                    frugal_deploy::destroy(&session, &assembly, &options, &console, &cancel)
                        .await?,
                )
            }
            .await;
            match result {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => fail(&e, 1),
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async {
        let cancel = Cancel::new();
        cancel.on_ctrl_c();
        run(cli, Console::detect(), cancel).await
    });
    // A prompt may still block a thread on stdin; do not wait for it.
    runtime.shutdown_background();
    code
}
