//! The real retail-forecast app on a local emulator: synthesized in-process, every dev
//! stack deployed through the deploy engine, redeployed without changes, destroyed with
//! `--purge-data`; the service APIs confirm what exists after the deploy, what is gone
//! after the destroy and what is retained (`DeletionPolicy: Retain`).

mod common;

use common::*;
use frugal_deploy::{DestroyOptions, StackOutcome};
use frugal_moto::Moto;
use frugal_ops::expect::{self, AppView};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_app_deploys_redeploys_and_destroys_on_the_emulator() {
    let moto = Moto::start();
    let out = Out::synth("app");
    let assembly = out.assembly();
    let app = AppView::from_assembly(&assembly, "dev").expect("dev");
    let stacks = dev_stacks(&assembly);
    assert_eq!(stacks.len(), 3, "{stacks:?}");

    let first = deploy(&moto, &assembly, &stacks).await;
    assert_eq!(first.len(), stacks.len(), "{first:?}");
    for (name, outcome) in &first {
        assert!(
            matches!(outcome, StackOutcome::Deployed { status } if status == "CREATE_COMPLETE"),
            "{name}: {outcome:?}"
        );
    }

    let c = clients(&moto);
    let deployed = deployed(&c, &app).await;
    // The data bucket, with its tags.
    let bucket = expect::buckets(&app)[0].name.clone().expect("bucket name");
    let data = deployed
        .iter()
        .find(|d| d.name.ends_with("-Data"))
        .expect("data");
    assert_eq!(data.outputs["DataBucketName"], bucket);
    let tags =
        c.s3.get_bucket_tagging()
            .bucket(&bucket)
            .send()
            .await
            .expect("bucket tags");
    assert!(tags
        .tag_set()
        .iter()
        .any(|t| t.key() == "Project" && t.value() == retail_forecast::PROJECT));
    // The image repository and the URI output pointing at it.
    let repo = expect::repositories(&app)[0].name.clone();
    let repos = c
        .ecr
        .describe_repositories()
        .repository_names(&repo)
        .send()
        .await
        .expect("repository");
    assert_eq!(
        repos.repositories()[0].repository_uri(),
        Some(data.outputs["ImageRepositoryUri"].as_str())
    );
    // Log groups with their retention.
    for l in expect::log_groups(&app)
        .iter()
        .filter(|l| matches!(l.owner, expect::LogOwner::Stack(_)))
    {
        let groups = c
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&l.name)
            .send()
            .await
            .expect("log groups");
        let g = groups
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(l.name.as_str()))
            .unwrap_or_else(|| panic!("log group {} missing", l.name));
        assert_eq!(g.retention_in_days(), Some(l.retention_days as i32));
    }
    // Every IAM role, the training role among them (its ARN is an output).
    let roles: Vec<String> = deployed
        .iter()
        .flat_map(|d| d.resources.iter())
        .filter(|r| r.resource_type == "AWS::IAM::Role")
        .filter_map(|r| r.physical_id.clone())
        .collect();
    assert!(roles.len() >= 5, "{roles:?}");
    for r in &roles {
        let role = c.iam.get_role().role_name(r).send().await.expect("role");
        assert!(role.role().is_some());
    }
    let training = physical(&deployed, "TrainingRole");
    assert_eq!(data.outputs["TrainingRoleArn"], role_arn(training));
    let trust = c
        .iam
        .get_role()
        .role_name(training)
        .send()
        .await
        .expect("training role")
        .role()
        .and_then(|r| r.assume_role_policy_document().map(str::to_owned))
        .unwrap_or_default();
    let trust = urlencoding_decode(&trust);
    assert!(trust.contains("sagemaker.amazonaws.com"), "{trust}");
    // The schedules' dead-letter queue.
    let queue = physical(&deployed, "OffHoursDeadLetterQueue").to_owned();
    let queue_url = queue.replace("https://sqs.us-east-1.amazonaws.com", &moto.localhost_url());
    c.sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .send()
        .await
        .expect("queue exists");

    // Redeploying the same synthesis changes nothing.
    let second = deploy(&moto, &assembly, &stacks).await;
    for (name, outcome) in &second {
        assert_eq!(outcome, &StackOutcome::NoChanges, "{name}");
    }

    // Destroy, emptying what is deleted.
    destroy(&moto, &assembly, &stacks, true).await;
    for s in &stacks {
        let d = frugal_ops::deployed::describe(&c, s)
            .await
            .expect("describe");
        assert!(!d.exists(), "{s} still exists");
    }
    for r in &roles {
        assert!(
            c.iam.get_role().role_name(r).send().await.is_err(),
            "role {r} still exists"
        );
    }
    assert!(
        c.sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .send()
            .await
            .is_err(),
        "the dead-letter queue still exists"
    );
    // Retained: the data, the images, the API's logs.
    assert!(
        c.s3.head_bucket().bucket(&bucket).send().await.is_ok(),
        "bucket retained"
    );
    assert!(
        c.ecr
            .describe_repositories()
            .repository_names(&repo)
            .send()
            .await
            .is_ok(),
        "repository retained"
    );
    let api = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/retail-forecast/api")
        .send()
        .await
        .expect("log groups");
    assert_eq!(api.log_groups().len(), 1, "API log group retained");
}

/// The teardown workflow's sequence: every dev stack but the one with the alert topic is
/// destroyed with `--purge-data --delete-retained`, so the data goes too, and then
/// `verify --gone` (keeping that stack) finds nothing left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teardown_deletes_the_data_too_and_leaves_only_the_alert_stack() {
    let moto = Moto::start();
    let out = Out::synth("teardown");
    let assembly = out.assembly();
    let app = AppView::from_assembly(&assembly, "dev").expect("dev");
    let stacks = dev_stacks(&assembly);
    deploy(&moto, &assembly, &stacks).await;
    let c = clients(&moto);
    let bucket = expect::buckets(&app)[0].name.clone().expect("bucket name");
    let repo = expect::repositories(&app)[0].name.clone();
    let api_logs = "/aws/retail-forecast/api";
    c.s3.put_object()
        .bucket(&bucket)
        .key("raw/sales.csv")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            b"store,units\n1,2\n",
        ))
        .send()
        .await
        .expect("PutObject");
    c.ecr
        .put_image()
        .repository_name(&repo)
        .image_manifest(frugal_moto::IMAGE_MANIFEST)
        .image_tag("v1")
        .send()
        .await
        .expect("PutImage");

    let guardrails = stacks
        .iter()
        .find(|s| s.ends_with("-Guardrails"))
        .cloned()
        .expect("guardrails stack");
    let doomed: Vec<String> = stacks
        .iter()
        .filter(|s| **s != guardrails)
        .cloned()
        .collect();
    // A dry run lists the retained data as purged, and deletes nothing.
    let printed = destroy_with(
        &moto,
        &assembly,
        DestroyOptions {
            stacks: doomed.clone(),
            purge_data: true,
            delete_retained: true,
            dry_run: true,
            ..Default::default()
        },
    )
    .await;
    assert!(
        printed.contains("  purge   AWS::S3::Bucket DataBucket"),
        "{printed}"
    );
    assert!(
        c.s3.head_bucket().bucket(&bucket).send().await.is_ok(),
        "dry run"
    );
    // Someone deleted the API's log group by hand already: that is no failure.
    c.logs
        .delete_log_group()
        .log_group_name(api_logs)
        .send()
        .await
        .expect("DeleteLogGroup");
    let printed = destroy_with(
        &moto,
        &assembly,
        DestroyOptions {
            stacks: doomed,
            purge_data: true,
            delete_retained: true,
            ..Default::default()
        },
    )
    .await;
    assert!(
        printed.contains(&format!(
            "deleted retained bucket {bucket} (1 object versions)"
        )),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("deleted retained repository {repo} (1 images)")),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("deleted retained log group {api_logs}")),
        "{printed}"
    );
    assert!(c.s3.head_bucket().bucket(&bucket).send().await.is_err());
    assert!(c
        .ecr
        .describe_repositories()
        .repository_names(&repo)
        .send()
        .await
        .is_err());
    let logs = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(api_logs)
        .send()
        .await
        .expect("log groups");
    assert!(logs.log_groups().is_empty(), "{logs:?}");

    let gone = frugal_ops::gone(
        &c,
        &assembly,
        &frugal_ops::GoneOptions {
            env: "dev".into(),
            keep: vec![guardrails.clone()],
            keep_retained: false,
        },
    )
    .await
    .expect("gone runs");
    assert!(gone.passed(), "{}", gone.to_table());
    assert!(
        gone.checks
            .iter()
            .any(|ch| ch.id == "gone.stack" && ch.resource == guardrails && ch.passed()),
        "{}",
        gone.to_table()
    );
}

/// Percent-decoding (IAM returns policy documents URL-encoded).
fn urlencoding_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
