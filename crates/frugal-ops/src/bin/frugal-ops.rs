//! `frugal-ops`: verify a deployed Frugal app against `cfn-out/`, check it is gone after a
//! teardown, and start SageMaker managed spot training with the app's resources.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use frugal_deploy::cli::CommonArgs as Common;
use frugal_ops::train::{self, TrainOptions};
use frugal_ops::{GoneOptions, OpsClients, OpsError, VerifyOptions};

/// Verify a deployed Frugal app, and run its SageMaker training jobs.
#[derive(Parser, Debug)]
#[command(name = "frugal-ops", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the deployed environment against the synthesized app (exit 1 when a check fails).
    Verify {
        /// Environment (the Environment tag of its stacks).
        #[arg(long, default_value = "dev")]
        env: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// After a teardown: list what of the environment still exists instead.
        #[arg(long)]
        gone: bool,
        /// With --gone: a stack left standing on purpose (repeatable), e.g. the budget stack.
        #[arg(long, requires = "gone")]
        keep: Vec<String>,
        /// With --gone: resources retained by DeletionPolicy (data) pass instead of failing.
        #[arg(long, requires = "gone")]
        keep_retained: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Start a SageMaker training job: managed spot, checkpointed, with the app's image,
    /// bucket, role and tags.
    Train {
        /// Environment whose stacks provide bucket, image, role and tags.
        #[arg(long, default_value = "dev")]
        env: String,
        /// Job name (default: APP-ENV-YYYYMMDD-HHMMSS, UTC).
        #[arg(long)]
        job_name: Option<String>,
        /// Image tag in the app's repository.
        #[arg(long, default_value = "latest")]
        image_tag: String,
        /// Instance type.
        #[arg(long, default_value = "ml.m5.large")]
        instance_type: String,
        /// Training volume in GB.
        #[arg(long, default_value_t = 10)]
        volume_gb: u32,
        /// MaxRuntimeInSeconds.
        #[arg(long, default_value_t = 3600)]
        max_runtime: u32,
        /// MaxWaitTimeInSeconds, at least MaxRuntime (spot only; default 3900).
        #[arg(long)]
        max_wait: Option<u32>,
        /// Run on on-demand capacity instead of managed spot training.
        #[arg(long)]
        on_demand: bool,
        /// Checkpoint location (default: the app's TrainingCheckpointUri + JOB/).
        #[arg(long)]
        checkpoint_s3_uri: Option<String>,
        /// No checkpoints: accept that an interrupted spot job restarts from zero.
        #[arg(long)]
        restart_from_zero: bool,
        /// Train channel (default: the app's TrainingDataUri output).
        #[arg(long)]
        train_s3_uri: Option<String>,
        /// Model output (default: the app's TrainingOutputUri output).
        #[arg(long)]
        output_s3_uri: Option<String>,
        /// Follow the job until it ends and print the spot saving SageMaker reports.
        #[arg(long)]
        wait: bool,
        /// Seconds between status reads with --wait.
        #[arg(long, default_value_t = 30, hide = true)]
        poll_seconds: u64,
        /// Print the job that would be started, start nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        common: Common,
    },
}

async fn clients(common: &Common) -> OpsClients {
    OpsClients::connect(&common.aws_options()).await
}

fn fail(e: &anyhow::Error, code: u8) -> ExitCode {
    match e.downcast_ref::<OpsError>() {
        Some(o) if o.is_credentials() => eprintln!("error: {o}"),
        _ => eprintln!("error: {e:#}"),
    }
    ExitCode::from(code)
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Verify {
            env,
            format,
            gone,
            keep,
            keep_retained,
            common,
        } => {
            let result = async {
                let assembly = common.load()?;
                let clients = clients(&common).await;
                let report = if gone {
                    frugal_ops::gone(
                        &clients,
                        &assembly,
                        &GoneOptions {
                            env,
                            keep,
                            keep_retained,
                        },
                    )
                    .await?
                } else {
                    frugal_ops::verify(&clients, &assembly, &VerifyOptions { env }).await?
                };
                Ok::<_, anyhow::Error>(report)
            }
            .await;
            match result {
                Ok(report) => {
                    match format {
                        Format::Table => print!("{}", report.to_table()),
                        Format::Json => println!("{}", report.to_json()),
                    }
                    if report.passed() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                // 2: could not check at all (as `frugal diff`).
                Err(e) => fail(&e, 2),
            }
        }
        Command::Train {
            env,
            job_name,
            image_tag,
            instance_type,
            volume_gb,
            max_runtime,
            max_wait,
            on_demand,
            checkpoint_s3_uri,
            restart_from_zero,
            train_s3_uri,
            output_s3_uri,
            wait,
            poll_seconds,
            dry_run,
            common,
        } => {
            let options = TrainOptions {
                env,
                job_name,
                image_tag,
                instance_type,
                volume_gb,
                max_runtime_secs: max_runtime,
                max_wait_secs: max_wait,
                on_demand,
                checkpoint_s3_uri,
                restart_from_zero,
                train_s3_uri,
                output_s3_uri,
            };
            let result = async {
                let assembly = common.load()?;
                let clients = clients(&common).await;
                let facts = train::app_facts(&clients, &assembly, &options.env).await?;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                let plan = train::plan_training(&options, &facts, now)?;
                print_plan(&plan);
                if dry_run {
                    println!("dry run: nothing started");
                    return Ok(());
                }
                let arn = train::start_training(&clients, &plan).await?;
                println!("started {arn}");
                if wait {
                    let outcome = train::wait_training(
                        &clients,
                        &plan.job_name,
                        Duration::from_secs(poll_seconds.max(1)),
                        |line| println!("  {line}"),
                    )
                    .await?;
                    if let Some(m) = &outcome.model_artifacts {
                        println!("model: {m}");
                    }
                    match (outcome.spot_saving, outcome.billable_secs, outcome.training_secs) {
                        (Some(s), Some(b), Some(t)) => println!(
                            "spot saving: {:.1} % (billable {b} s of {t} s trained)",
                            s * 100.0
                        ),
                        _ => println!(
                            "spot saving: not reported (SageMaker gave no billable and training seconds)"
                        ),
                    }
                }
                Ok::<_, anyhow::Error>(())
            }
            .await;
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e, 1),
            }
        }
    }
}

fn print_plan(p: &train::TrainingPlan) {
    println!("training job {}", p.job_name);
    println!(
        "  capacity    {}",
        if p.spot { "managed spot" } else { "on-demand" }
    );
    println!("  instance    {} with {} GB", p.instance_type, p.volume_gb);
    match p.max_wait_secs {
        Some(w) => println!(
            "  stopping    MaxRuntime {} s, MaxWait {w} s",
            p.max_runtime_secs
        ),
        None => println!("  stopping    MaxRuntime {} s", p.max_runtime_secs),
    }
    println!("  image       {}", p.image);
    println!("  train       {}", p.train_s3_uri);
    println!("  output      {}", p.output_s3_uri);
    match &p.checkpoint_s3_uri {
        Some(c) => println!("  checkpoints {c}"),
        None if p.spot => println!("  checkpoints none: an interrupted job restarts from zero"),
        None => println!("  checkpoints none"),
    }
    println!("  role        {}", p.role_arn);
    println!(
        "  tags        {}",
        p.tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
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
    runtime.block_on(run(cli))
}
