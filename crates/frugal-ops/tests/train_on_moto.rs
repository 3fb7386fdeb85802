//! `train` against a local emulator: the real app's data stack deployed (bucket,
//! repository, training role as outputs), then jobs started through the library and the
//! `frugal-ops` binary and read back through SageMaker.

mod common;

use std::process::Output;

use common::*;
use frugal_moto::Moto;
use frugal_ops::train::{self, TrainOptions};
use frugal_ops::OpsError;

fn cli(moto: &Moto, out: &Out, args: &[&str]) -> Output {
    frugal_ops(moto, out, "train", args)
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn job_count(c: &frugal_ops::OpsClients) -> usize {
    c.sagemaker
        .list_training_jobs()
        .send()
        .await
        .expect("ListTrainingJobs")
        .training_job_summaries()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spot_training_runs_with_the_apps_resources() {
    let moto = Moto::start();
    let out = Out::synth("train");
    let assembly = out.assembly();
    let c = clients(&moto);

    // Before the data stack exists there is nothing to train with.
    let err = train::app_facts(&c, &assembly, "dev").await.unwrap_err();
    assert!(
        matches!(err, OpsError::NotDeployed(ref s) if s.ends_with("-Data")),
        "{err}"
    );

    let data: Vec<String> = dev_stacks(&assembly)
        .into_iter()
        .filter(|s| s.ends_with("-Data"))
        .collect();
    deploy(&moto, &assembly, &data).await;
    let facts = train::app_facts(&c, &assembly, "dev").await.expect("facts");
    assert_eq!(facts.bucket, retail_forecast::bucket_name("dev"));
    assert!(facts
        .repository_uri
        .ends_with(&format!("/{}", retail_forecast::NAME)));
    assert!(facts.role_arn.contains(":role/"), "{}", facts.role_arn);
    assert!(facts
        .tags
        .contains(&("Project".to_owned(), retail_forecast::PROJECT.to_owned())));

    // The library: the plan's job, on spot, checkpointed.
    let options = TrainOptions {
        job_name: Some("retail-forecast-dev-lib".into()),
        ..Default::default()
    };
    let plan = train::plan_training(&options, &facts, 0).expect("plan");
    let arn = train::start_training(&c, &plan).await.expect("start");
    let d = c
        .sagemaker
        .describe_training_job()
        .training_job_name("retail-forecast-dev-lib")
        .send()
        .await
        .expect("DescribeTrainingJob");
    assert_eq!(d.training_job_arn(), Some(arn.as_str()));
    assert_eq!(d.enable_managed_spot_training(), Some(true));
    let stop = d.stopping_condition().expect("stopping condition");
    assert_eq!(stop.max_runtime_in_seconds(), Some(3600));
    assert_eq!(stop.max_wait_time_in_seconds(), Some(3900));
    assert_eq!(
        d.checkpoint_config().and_then(|c| c.s3_uri()),
        Some("s3://retail-forecast-data-dev/checkpoints/retail-forecast-dev-lib/")
    );
    assert_eq!(d.role_arn(), Some(facts.role_arn.as_str()));
    assert_eq!(
        d.algorithm_specification().and_then(|a| a.training_image()),
        Some(format!("{}:latest", facts.repository_uri).as_str())
    );
    let channel = &d.input_data_config()[0];
    assert_eq!(channel.channel_name(), Some("train"));
    assert_eq!(
        channel
            .data_source()
            .and_then(|s| s.s3_data_source())
            .and_then(|s| s.s3_uri()),
        Some("s3://retail-forecast-data-dev/train/")
    );
    assert_eq!(
        d.output_data_config().and_then(|o| o.s3_output_path()),
        Some("s3://retail-forecast-data-dev/output/")
    );
    let resources = d.resource_config().expect("resources");
    assert_eq!(
        resources.instance_type().map(|t| t.as_str()),
        Some("ml.m5.large")
    );
    assert_eq!(resources.volume_size_in_gb(), Some(10));
    let tags = c
        .sagemaker
        .list_tags()
        .resource_arn(&arn)
        .send()
        .await
        .expect("ListTags");
    assert!(tags
        .tags()
        .iter()
        .any(|t| t.key() == Some("Project") && t.value() == Some(retail_forecast::PROJECT)));
    let outcome = train::wait_training(
        &c,
        "retail-forecast-dev-lib",
        std::time::Duration::from_millis(10),
        |_| {},
    )
    .await
    .expect("wait");
    assert_eq!(outcome.status, "Completed");

    // The command: --wait follows the job and reports the saving (moto reports no times).
    let o = cli(
        &moto,
        &out,
        &[
            "--job-name",
            "retail-forecast-dev-cli",
            "--wait",
            "--poll-seconds",
            "1",
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("capacity    managed spot"), "{t}");
    assert!(
        t.contains(
            "checkpoints s3://retail-forecast-data-dev/checkpoints/retail-forecast-dev-cli/"
        ),
        "{t}"
    );
    assert!(t.contains("Completed"), "{t}");
    assert!(t.contains("spot saving: not reported"), "{t}");

    // On-demand is the explicit opt-out: no MaxWait, no checkpoints.
    let o = cli(
        &moto,
        &out,
        &["--job-name", "retail-forecast-dev-ondemand", "--on-demand"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let d = c
        .sagemaker
        .describe_training_job()
        .training_job_name("retail-forecast-dev-ondemand")
        .send()
        .await
        .expect("DescribeTrainingJob");
    assert_ne!(d.enable_managed_spot_training(), Some(true));
    assert_eq!(
        d.stopping_condition()
            .and_then(|s| s.max_wait_time_in_seconds()),
        None
    );
    assert!(d.checkpoint_config().is_none());

    // Refusals start nothing: MaxWait below MaxRuntime; spot without checkpoints unacknowledged
    // is impossible (the location is derived), and a dry run only prints.
    let before = job_count(&c).await;
    let o = cli(
        &moto,
        &out,
        &["--max-runtime", "7200", "--max-wait", "3900"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("max wait 3900 s is shorter than max runtime 7200 s"),
        "{}",
        text(&o)
    );
    let o = cli(
        &moto,
        &out,
        &["--restart-from-zero", "--checkpoint-s3-uri", "s3://x/y"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = cli(&moto, &out, &["--restart-from-zero", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("an interrupted job restarts from zero"),
        "{}",
        text(&o)
    );
    assert_eq!(job_count(&c).await, before);
}
