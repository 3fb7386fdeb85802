//! `train`: a SageMaker training job the way the plan intends it, with its defects fixed.
//!
//! - Managed spot training is on unless `on_demand` says otherwise (the plan's
//!   `--use-spot type=bool` was always true).
//! - MaxWait must be at least MaxRuntime (SageMaker rejects less; the plan's 3900 ≥ 3600).
//! - Spot jobs checkpoint to `<TrainingCheckpointUri><job>/` unless the caller acknowledges
//!   that an interrupted job restarts from zero.
//! - Image, data, output, role and tags come from the deployed app: the repository URI,
//!   the train, output and checkpoint locations in the data bucket and the role ARN are
//!   stack outputs (the app writes the prefixes once, for its role's policy and for these);
//!   the tags are the stack's tags in the manifest.
//!
//! [`plan_training`] decides everything (pure, unit-tested); [`start_training`] sends it.

use std::time::Duration;

use aws_sdk_sagemaker::types::{
    AlgorithmSpecification, Channel, CheckpointConfig, DataSource, OutputDataConfig,
    ResourceConfig, S3DataDistribution, S3DataSource, S3DataType, StoppingCondition, Tag,
    TrainingInputMode, TrainingInstanceType, TrainingJobStatus,
};
use frugal_deploy::Assembly;
use serde::Serialize;

use crate::clients::OpsClients;
use crate::deployed::{describe_all, output};
use crate::error::{aws, OpsError, Result};
use crate::expect::AppView;

/// Output of the data stack: the data bucket's name.
pub const BUCKET_OUTPUT: &str = "DataBucketName";
/// Output of the data stack: the train channel's `s3://` location.
pub const TRAIN_DATA_OUTPUT: &str = "TrainingDataUri";
/// Output of the data stack: where models are written.
pub const TRAIN_OUTPUT_OUTPUT: &str = "TrainingOutputUri";
/// Output of the data stack: where spot jobs checkpoint (a folder per job below it).
pub const CHECKPOINT_OUTPUT: &str = "TrainingCheckpointUri";
/// Output of the data stack: the image repository's URI.
pub const REPOSITORY_OUTPUT: &str = "ImageRepositoryUri";
/// Output of the data stack: the SageMaker execution role's ARN.
pub const ROLE_OUTPUT: &str = "TrainingRoleArn";

/// SageMaker's longest MaxRuntime / MaxWait: 28 days.
pub const MAX_SECONDS: u32 = 28 * 24 * 3600;

/// What the caller asks for; [`TrainOptions::default`] is the plan's job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainOptions {
    /// Environment whose stacks provide bucket, image, role and tags.
    pub env: String,
    /// Job name (default `<app>-<env>-<UTC timestamp>`).
    pub job_name: Option<String>,
    /// Image tag in the app's repository.
    pub image_tag: String,
    /// Instance type (plan: `ml.m5.large`).
    pub instance_type: String,
    /// Volume size in GB (plan: 10).
    pub volume_gb: u32,
    /// MaxRuntimeInSeconds (plan: 3600).
    pub max_runtime_secs: u32,
    /// MaxWaitTimeInSeconds for spot (plan: 3900); `None` takes the default.
    pub max_wait_secs: Option<u32>,
    /// Run on on-demand capacity: the explicit opt-out of managed spot training.
    pub on_demand: bool,
    /// Checkpoint location (default `<TrainingCheckpointUri><job>/`).
    pub checkpoint_s3_uri: Option<String>,
    /// No checkpoints: the caller accepts that an interrupted spot job restarts from zero.
    pub restart_from_zero: bool,
    /// Train channel (default: the app's `TrainingDataUri`).
    pub train_s3_uri: Option<String>,
    /// Model output (default: the app's `TrainingOutputUri`).
    pub output_s3_uri: Option<String>,
}

/// The plan's MaxWait for spot jobs.
pub const DEFAULT_MAX_WAIT_SECS: u32 = 3900;

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            env: "dev".into(),
            job_name: None,
            image_tag: "latest".into(),
            instance_type: "ml.m5.large".into(),
            volume_gb: 10,
            max_runtime_secs: 3600,
            max_wait_secs: None,
            on_demand: false,
            checkpoint_s3_uri: None,
            restart_from_zero: false,
            train_s3_uri: None,
            output_s3_uri: None,
        }
    }
}

/// What the deployed app provides to a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppFacts {
    /// App name (job names start with it).
    pub app: String,
    /// Environment.
    pub env: String,
    /// Data bucket name.
    pub bucket: String,
    /// Train channel (`TrainingDataUri`).
    pub train_s3_uri: String,
    /// Model output (`TrainingOutputUri`).
    pub output_s3_uri: String,
    /// Checkpoint root (`TrainingCheckpointUri`).
    pub checkpoint_s3_uri: String,
    /// Image repository URI.
    pub repository_uri: String,
    /// Execution role ARN.
    pub role_arn: String,
    /// Tags for the job (the data stack's tags).
    pub tags: Vec<(String, String)>,
}

/// A training job, decided and checked, ready to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrainingPlan {
    /// Job name.
    pub job_name: String,
    /// Training image (`<repository>:<tag>`).
    pub image: String,
    /// Execution role.
    pub role_arn: String,
    /// Train channel.
    pub train_s3_uri: String,
    /// Output path.
    pub output_s3_uri: String,
    /// Checkpoint location, if any.
    pub checkpoint_s3_uri: Option<String>,
    /// Instance type.
    pub instance_type: String,
    /// Volume size in GB.
    pub volume_gb: u32,
    /// MaxRuntimeInSeconds.
    pub max_runtime_secs: u32,
    /// MaxWaitTimeInSeconds (spot only).
    pub max_wait_secs: Option<u32>,
    /// Managed spot training.
    pub spot: bool,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// Whether `name` is a valid SageMaker job name: 1–63 of `[a-zA-Z0-9-]`, starting and
/// ending alphanumeric, no `--`... (SageMaker's pattern `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`).
pub fn is_job_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// `YYYYMMDD-HHMMSS` in UTC for `unix` seconds.
pub fn utc_stamp(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or(0);
    let secs = unix % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Decides the job from the options and the app, refusing what the plan's rules forbid.
/// `now` (unix seconds) names the job when the options do not.
pub fn plan_training(options: &TrainOptions, facts: &AppFacts, now: u64) -> Result<TrainingPlan> {
    let invalid = |m: String| Err(OpsError::Invalid(m));
    let job_name = match &options.job_name {
        Some(n) => n.clone(),
        None => format!("{}-{}-{}", facts.app, facts.env, utc_stamp(now)),
    };
    if !is_job_name(&job_name) {
        return invalid(format!(
            "job name `{job_name}`: 1 to 63 letters, digits and hyphens, starting and ending with a letter or digit"
        ));
    }
    if !options.instance_type.starts_with("ml.") {
        return invalid(format!(
            "instance type `{}` is not a SageMaker type (they start with `ml.`, e.g. ml.m5.large)",
            options.instance_type
        ));
    }
    if !(1..=16_384).contains(&options.volume_gb) {
        return invalid(format!(
            "volume {} GB: SageMaker takes 1 to 16384 GB",
            options.volume_gb
        ));
    }
    if !(1..=MAX_SECONDS).contains(&options.max_runtime_secs) {
        return invalid(format!(
            "max runtime {} s: SageMaker takes 1 to {MAX_SECONDS} s",
            options.max_runtime_secs
        ));
    }
    let spot = !options.on_demand;
    let max_wait_secs = if spot {
        let wait = options
            .max_wait_secs
            .unwrap_or(DEFAULT_MAX_WAIT_SECS.max(options.max_runtime_secs));
        if wait < options.max_runtime_secs {
            return invalid(format!(
                "max wait {wait} s is shorter than max runtime {} s: a spot job waits for capacity and runs within MaxWait, so MaxWait must be at least MaxRuntime",
                options.max_runtime_secs
            ));
        }
        if wait > MAX_SECONDS {
            return invalid(format!(
                "max wait {wait} s: SageMaker takes at most {MAX_SECONDS} s"
            ));
        }
        Some(wait)
    } else {
        if options.max_wait_secs.is_some() {
            return invalid(
                "--max-wait applies to managed spot training only; drop it or drop --on-demand"
                    .into(),
            );
        }
        None
    };
    if options.restart_from_zero && options.checkpoint_s3_uri.is_some() {
        return invalid(
            "--restart-from-zero turns checkpoints off; it contradicts --checkpoint-s3-uri".into(),
        );
    }
    let s3_uri = |what: &str, uri: &str| {
        if uri.len() > 5 && uri.starts_with("s3://") {
            Ok(uri.to_owned())
        } else {
            Err(OpsError::Invalid(format!(
                "{what} `{uri}` is not an s3:// URI"
            )))
        }
    };
    let checkpoint_s3_uri = match (&options.checkpoint_s3_uri, spot, options.restart_from_zero) {
        (Some(uri), _, _) => Some(s3_uri("checkpoint location", uri)?),
        (None, true, false) => Some(format!(
            "{}/{job_name}/",
            facts.checkpoint_s3_uri.trim_end_matches('/')
        )),
        (None, true, true) | (None, false, _) => None,
    };
    let train_s3_uri = s3_uri(
        "train channel",
        options
            .train_s3_uri
            .as_deref()
            .unwrap_or(&facts.train_s3_uri),
    )?;
    let output_s3_uri = s3_uri(
        "output location",
        options
            .output_s3_uri
            .as_deref()
            .unwrap_or(&facts.output_s3_uri),
    )?;
    Ok(TrainingPlan {
        image: format!("{}:{}", facts.repository_uri, options.image_tag),
        role_arn: facts.role_arn.clone(),
        train_s3_uri,
        output_s3_uri,
        checkpoint_s3_uri,
        instance_type: options.instance_type.clone(),
        volume_gb: options.volume_gb,
        max_runtime_secs: options.max_runtime_secs,
        max_wait_secs,
        spot,
        tags: facts.tags.clone(),
        job_name,
    })
}

/// The share saved by spot capacity as SageMaker reports it: `1 − billable / training`
/// seconds (`None` until both are known and training time is positive).
pub fn spot_saving(billable_secs: Option<i32>, training_secs: Option<i32>) -> Option<f64> {
    match (billable_secs, training_secs) {
        (Some(b), Some(t)) if t > 0 && b >= 0 => Some(1.0 - f64::from(b) / f64::from(t)),
        _ => None,
    }
}

/// Reads bucket, training locations, repository, role and tags of `env` from the synthesized and deployed app.
pub async fn app_facts(clients: &OpsClients, assembly: &Assembly, env: &str) -> Result<AppFacts> {
    let app = AppView::from_assembly(assembly, env)?;
    let deployed = describe_all(clients, &app).await?;
    let bucket = output(&app, &deployed, BUCKET_OUTPUT)?.to_owned();
    let repository_uri = output(&app, &deployed, REPOSITORY_OUTPUT)?.to_owned();
    let role_arn = output(&app, &deployed, ROLE_OUTPUT)?.to_owned();
    let train_s3_uri = output(&app, &deployed, TRAIN_DATA_OUTPUT)?.to_owned();
    let output_s3_uri = output(&app, &deployed, TRAIN_OUTPUT_OUTPUT)?.to_owned();
    let checkpoint_s3_uri = output(&app, &deployed, CHECKPOINT_OUTPUT)?.to_owned();
    let tags = app
        .stack_with_output(BUCKET_OUTPUT)
        .map(|s| {
            s.manifest
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(AppFacts {
        app: app.app,
        env: app.env,
        bucket,
        train_s3_uri,
        output_s3_uri,
        checkpoint_s3_uri,
        repository_uri,
        role_arn,
        tags,
    })
}

/// Sends the job; returns its ARN.
pub async fn start_training(clients: &OpsClients, plan: &TrainingPlan) -> Result<String> {
    let channel = Channel::builder()
        .channel_name("train")
        .data_source(
            DataSource::builder()
                .s3_data_source(
                    S3DataSource::builder()
                        .s3_data_type(S3DataType::S3Prefix)
                        .s3_uri(&plan.train_s3_uri)
                        .s3_data_distribution_type(S3DataDistribution::FullyReplicated)
                        .build(),
                )
                .build(),
        )
        .build();
    let mut req = clients
        .sagemaker
        .create_training_job()
        .training_job_name(&plan.job_name)
        .algorithm_specification(
            AlgorithmSpecification::builder()
                .training_image(&plan.image)
                .training_input_mode(TrainingInputMode::File)
                .build(),
        )
        .role_arn(&plan.role_arn)
        .input_data_config(channel)
        .output_data_config(
            OutputDataConfig::builder()
                .s3_output_path(&plan.output_s3_uri)
                .build(),
        )
        .resource_config(
            ResourceConfig::builder()
                .instance_type(TrainingInstanceType::from(plan.instance_type.as_str()))
                .instance_count(1)
                .volume_size_in_gb(i32::try_from(plan.volume_gb).unwrap_or(i32::MAX))
                .build(),
        )
        .stopping_condition(
            StoppingCondition::builder()
                .max_runtime_in_seconds(i32::try_from(plan.max_runtime_secs).unwrap_or(i32::MAX))
                .set_max_wait_time_in_seconds(
                    plan.max_wait_secs
                        .map(|w| i32::try_from(w).unwrap_or(i32::MAX)),
                )
                .build(),
        )
        .enable_managed_spot_training(plan.spot);
    if let Some(uri) = &plan.checkpoint_s3_uri {
        req = req.checkpoint_config(CheckpointConfig::builder().s3_uri(uri).build());
    }
    for (k, v) in &plan.tags {
        req = req.tags(Tag::builder().key(k).value(v).build());
    }
    let out = req.send().await.map_err(|e| aws("CreateTrainingJob", e))?;
    Ok(out.training_job_arn().unwrap_or_default().to_owned())
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainingOutcome {
    /// Job name.
    pub job_name: String,
    /// `Completed`, `Failed` or `Stopped`.
    pub status: String,
    /// Seconds SageMaker bills.
    pub billable_secs: Option<i32>,
    /// Seconds the job trained.
    pub training_secs: Option<i32>,
    /// `1 − billable / training`, when both are known.
    pub spot_saving: Option<f64>,
    /// Where the model went.
    pub model_artifacts: Option<String>,
}

/// Follows the job until it ends, calling `progress` with each new status line; returns
/// how it ended (an error when it failed or was stopped).
pub async fn wait_training(
    clients: &OpsClients,
    job_name: &str,
    poll: Duration,
    mut progress: impl FnMut(&str),
) -> Result<TrainingOutcome> {
    let mut last = String::new();
    loop {
        let d = clients
            .sagemaker
            .describe_training_job()
            .training_job_name(job_name)
            .send()
            .await
            .map_err(|e| aws("DescribeTrainingJob", e))?;
        let status = d
            .training_job_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        let secondary = d
            .secondary_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        let line = format!("{status} ({secondary})");
        if line != last {
            progress(&line);
            last = line;
        }
        match d.training_job_status() {
            Some(TrainingJobStatus::Completed) => {
                return Ok(TrainingOutcome {
                    job_name: job_name.to_owned(),
                    status,
                    billable_secs: d.billable_time_in_seconds(),
                    training_secs: d.training_time_in_seconds(),
                    spot_saving: spot_saving(
                        d.billable_time_in_seconds(),
                        d.training_time_in_seconds(),
                    ),
                    model_artifacts: d
                        .model_artifacts()
                        .and_then(|m| m.s3_model_artifacts())
                        .map(str::to_owned),
                })
            }
            Some(TrainingJobStatus::Failed | TrainingJobStatus::Stopped) => {
                return Err(OpsError::TrainingFailed {
                    job: job_name.to_owned(),
                    status,
                    reason: d.failure_reason().map(str::to_owned),
                })
            }
            _ => tokio::time::sleep(poll).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> AppFacts {
        AppFacts {
            app: "shop".into(),
            env: "dev".into(),
            bucket: "shop-data-dev".into(),
            train_s3_uri: "s3://shop-data-dev/train/".into(),
            output_s3_uri: "s3://shop-data-dev/output/".into(),
            checkpoint_s3_uri: "s3://shop-data-dev/checkpoints/".into(),
            repository_uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop".into(),
            role_arn: "arn:aws:iam::123456789012:role/train".into(),
            tags: vec![("Project".into(), "Shop".into())],
        }
    }

    const NOW: u64 = 1_764_792_000; // 2025-12-03 20:00:00 UTC

    #[test]
    fn the_default_is_the_plans_job_on_spot_with_checkpoints() {
        let p = plan_training(&TrainOptions::default(), &facts(), NOW).unwrap();
        assert_eq!(p.job_name, "shop-dev-20251203-200000");
        assert!(p.spot);
        assert_eq!(p.max_runtime_secs, 3600);
        assert_eq!(p.max_wait_secs, Some(3900));
        assert_eq!(p.instance_type, "ml.m5.large");
        assert_eq!(p.volume_gb, 10);
        assert_eq!(p.train_s3_uri, "s3://shop-data-dev/train/");
        assert_eq!(p.output_s3_uri, "s3://shop-data-dev/output/");
        assert_eq!(
            p.checkpoint_s3_uri.as_deref(),
            Some("s3://shop-data-dev/checkpoints/shop-dev-20251203-200000/")
        );
        assert_eq!(
            p.image,
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:latest"
        );
        assert_eq!(p.tags, facts().tags);
    }

    #[test]
    fn max_wait_must_cover_max_runtime() {
        let o = TrainOptions {
            max_runtime_secs: 7200,
            max_wait_secs: Some(3900),
            ..Default::default()
        };
        let e = plan_training(&o, &facts(), NOW).unwrap_err().to_string();
        assert!(
            e.contains("max wait 3900 s is shorter than max runtime 7200 s"),
            "{e}"
        );
        // Without an explicit wait, a longer runtime raises the default wait with it.
        let o = TrainOptions {
            max_runtime_secs: 7200,
            ..Default::default()
        };
        assert_eq!(
            plan_training(&o, &facts(), NOW).unwrap().max_wait_secs,
            Some(7200)
        );
        let o = TrainOptions {
            max_wait_secs: Some(3600),
            ..Default::default()
        };
        assert_eq!(
            plan_training(&o, &facts(), NOW).unwrap().max_wait_secs,
            Some(3600)
        );
    }

    #[test]
    fn on_demand_is_explicit_and_has_no_wait_or_checkpoints() {
        let o = TrainOptions {
            on_demand: true,
            ..Default::default()
        };
        let p = plan_training(&o, &facts(), NOW).unwrap();
        assert!(!p.spot);
        assert_eq!(p.max_wait_secs, None);
        assert_eq!(p.checkpoint_s3_uri, None);
        let o = TrainOptions {
            on_demand: true,
            max_wait_secs: Some(3900),
            ..Default::default()
        };
        assert!(plan_training(&o, &facts(), NOW).is_err());
    }

    #[test]
    fn spot_without_checkpoints_needs_the_acknowledgement() {
        let o = TrainOptions {
            restart_from_zero: true,
            ..Default::default()
        };
        assert_eq!(
            plan_training(&o, &facts(), NOW).unwrap().checkpoint_s3_uri,
            None
        );
        let o = TrainOptions {
            restart_from_zero: true,
            checkpoint_s3_uri: Some("s3://x/y".into()),
            ..Default::default()
        };
        assert!(plan_training(&o, &facts(), NOW).is_err());
        let o = TrainOptions {
            checkpoint_s3_uri: Some("/tmp/ck".into()),
            ..Default::default()
        };
        assert!(plan_training(&o, &facts(), NOW).is_err());
    }

    #[test]
    fn data_locations_default_to_the_apps_and_can_be_overridden() {
        let o = TrainOptions {
            train_s3_uri: Some("s3://shop-data-dev/train/2026-11/".into()),
            ..Default::default()
        };
        let p = plan_training(&o, &facts(), NOW).unwrap();
        assert_eq!(p.train_s3_uri, "s3://shop-data-dev/train/2026-11/");
        assert_eq!(p.output_s3_uri, "s3://shop-data-dev/output/");
        let o = TrainOptions {
            output_s3_uri: Some("shop-data-dev/output".into()),
            ..Default::default()
        };
        let e = plan_training(&o, &facts(), NOW).unwrap_err().to_string();
        assert!(e.contains("output location `shop-data-dev/output`"), "{e}");
    }

    #[test]
    fn names_types_and_sizes_are_checked() {
        for bad in [
            TrainOptions {
                job_name: Some("bad_name".into()),
                ..Default::default()
            },
            TrainOptions {
                instance_type: "m5.large".into(),
                ..Default::default()
            },
            TrainOptions {
                volume_gb: 0,
                ..Default::default()
            },
            TrainOptions {
                max_runtime_secs: 0,
                ..Default::default()
            },
        ] {
            assert!(plan_training(&bad, &facts(), NOW).is_err(), "{bad:?}");
        }
        assert!(is_job_name("a"));
        assert!(is_job_name("retail-forecast-dev-20251203-200000"));
        assert!(!is_job_name("-a"));
        assert!(!is_job_name(&"a".repeat(64)));
    }

    #[test]
    fn spot_saving_is_one_minus_billable_over_training() {
        assert_eq!(spot_saving(Some(300), Some(1000)), Some(0.7));
        assert_eq!(spot_saving(Some(1000), Some(1000)), Some(0.0));
        assert_eq!(spot_saving(None, Some(1000)), None);
        assert_eq!(spot_saving(Some(0), Some(0)), None);
    }

    #[test]
    fn utc_stamps_are_calendar_dates() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
        assert_eq!(utc_stamp(NOW + 3661), "20251203-210101");
    }
}
