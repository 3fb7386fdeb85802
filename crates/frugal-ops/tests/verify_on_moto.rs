//! `verify` and `verify --gone` against a local emulator: the real retail-forecast app is
//! synthesized, its dev stacks deployed through the deploy engine, and what moto's
//! CloudFormation skips or drops is put in place through the service APIs with the
//! synthesized values. Every check passes; then each thing is broken in turn and exactly
//! its check must fail. After a teardown, `--gone` lists the leftovers until they are
//! cleaned.
//!
//! Two reads moto cannot serve are replayed with `aws-smithy-mocks` on top of the emulator
//! (unmatched calls pass through to moto): S3 Intelligent-Tiering configurations (moto
//! accepts them and stores nothing) and Cost Explorer's cost allocation tags (moto answers
//! 500). The plain-moto run shows those two failing for that reason only.

mod common;

use std::collections::BTreeSet;

use aws_sdk_costexplorer::operation::list_cost_allocation_tags::ListCostAllocationTagsOutput;
use aws_sdk_costexplorer::types::{
    CostAllocationTag, CostAllocationTagStatus, CostAllocationTagType,
};
use aws_sdk_s3::operation::list_bucket_intelligent_tiering_configurations::ListBucketIntelligentTieringConfigurationsOutput;
use aws_sdk_s3::types::{
    IntelligentTieringAccessTier, IntelligentTieringConfiguration, IntelligentTieringFilter,
    IntelligentTieringStatus, Tiering,
};
use aws_smithy_mocks::{mock, MockResponseInterceptor, Rule, RuleMode};
use common::*;
use frugal_moto::Moto;
use frugal_ops::expect::{self, AppView, TieringConfig};
use frugal_ops::{GoneOptions, OpsClients, Report, VerifyOptions};

const ENV: &str = "dev";

/// The checks moto alone cannot pass (see the module docs).
const MOTO_GAPS: &[&str] = &["bucket.intelligent-tiering", "cost-allocation-tag"];

fn failures(report: &Report) -> Vec<(String, String)> {
    report
        .failures()
        .map(|c| (c.id.clone(), c.resource.clone()))
        .collect()
}

/// Asserts that exactly the checks `id` on a resource containing `resource` failed.
fn assert_fails_only(report: &Report, id: &str, resource: &str, detail: &str) {
    let failed: Vec<_> = report.failures().collect();
    assert!(
        !failed.is_empty()
            && failed
                .iter()
                .all(|c| c.id == id && c.resource.contains(resource)),
        "expected only {id} on {resource} to fail, got:\n{}",
        report.to_table()
    );
    assert!(
        failed.iter().any(|c| c.detail.contains(detail)),
        "no failure of {id} says `{detail}`:\n{}",
        report.to_table()
    );
}

fn tiering_output(configs: &[TieringConfig]) -> ListBucketIntelligentTieringConfigurationsOutput {
    let mut out = ListBucketIntelligentTieringConfigurationsOutput::builder().is_truncated(false);
    for c in configs {
        let mut cfg = IntelligentTieringConfiguration::builder()
            .id(&c.id)
            .status(IntelligentTieringStatus::from(c.status.as_str()))
            .filter(
                IntelligentTieringFilter::builder()
                    .prefix(&c.prefix)
                    .build(),
            );
        for (tier, days) in &c.tierings {
            cfg = cfg.tierings(
                Tiering::builder()
                    .days(*days as i32)
                    .access_tier(IntelligentTieringAccessTier::from(tier.as_str()))
                    .build()
                    .expect("tiering"),
            );
        }
        out = out.intelligent_tiering_configuration_list(cfg.build().expect("configuration"));
    }
    out.build()
}

fn cost_tags_output(status: &'static str) -> ListCostAllocationTagsOutput {
    ListCostAllocationTagsOutput::builder()
        .cost_allocation_tags(
            CostAllocationTag::builder()
                .tag_key("Project")
                .r#type(CostAllocationTagType::UserDefined)
                .status(CostAllocationTagStatus::from(status))
                .build()
                .expect("tag"),
        )
        .build()
}

/// Clients on moto whose S3 Intelligent-Tiering and Cost Explorer reads are replayed
/// (`tiering`: the configurations S3 answers; `cost_tag`: the Project tag's status).
fn replayed_clients(
    moto: &Moto,
    tiering: Vec<TieringConfig>,
    cost_tag: &'static str,
) -> OpsClients {
    let conf = sdk_config(moto);
    let mut clients = OpsClients::from_config(&conf);
    let tiering_rule: Rule =
        mock!(aws_sdk_s3::Client::list_bucket_intelligent_tiering_configurations)
            .then_output(move || tiering_output(&tiering));
    let s3 = aws_sdk_s3::config::Builder::from(&conf)
        .force_path_style(true)
        .interceptor(
            MockResponseInterceptor::new()
                .rule_mode(RuleMode::MatchAny)
                .with_rule(&tiering_rule)
                .allow_passthrough(),
        )
        .build();
    clients.s3 = aws_sdk_s3::Client::from_conf(s3);
    let ce_rule: Rule = mock!(aws_sdk_costexplorer::Client::list_cost_allocation_tags)
        .then_output(move || cost_tags_output(cost_tag));
    let ce = aws_sdk_costexplorer::config::Builder::from(&conf)
        .interceptor(
            MockResponseInterceptor::new()
                .rule_mode(RuleMode::MatchAny)
                .with_rule(&ce_rule),
        )
        .build();
    clients.ce = aws_sdk_costexplorer::Client::from_conf(ce);
    clients
}

async fn run(clients: &OpsClients, assembly: &frugal_deploy::Assembly) -> Report {
    frugal_ops::verify(clients, assembly, &VerifyOptions { env: ENV.into() })
        .await
        .expect("verify runs")
}

async fn update_schedule(
    clients: &OpsClients,
    name: &str,
    state: Option<&str>,
    timezone: Option<&str>,
) {
    use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState};
    let s = clients
        .scheduler
        .get_schedule()
        .name(name)
        .group_name(SCHEDULE_GROUP)
        .send()
        .await
        .expect("GetSchedule");
    clients
        .scheduler
        .update_schedule()
        .name(name)
        .group_name(SCHEDULE_GROUP)
        .schedule_expression(s.schedule_expression().expect("expression"))
        .schedule_expression_timezone(
            timezone.unwrap_or(s.schedule_expression_timezone().unwrap_or("UTC")),
        )
        .state(ScheduleState::from(
            state.unwrap_or(s.state().map(|x| x.as_str()).unwrap_or("ENABLED")),
        ))
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .expect("window"),
        )
        .target(s.target().expect("target").clone())
        .send()
        .await
        .expect("UpdateSchedule");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_then_each_broken_thing_fails_and_gone_lists_leftovers() {
    let moto = Moto::start();
    let out = Out::synth("verify");
    let assembly = out.assembly();
    let app = AppView::from_assembly(&assembly, ENV).expect("dev");
    let stacks = dev_stacks(&assembly);
    deploy(&moto, &assembly, &stacks).await;
    let plain = clients(&moto);
    apply_what_moto_skips(&moto, &plain, &app).await;

    let bucket = expect::buckets(&app)[0].clone();
    let bucket_name = bucket.name.clone().expect("bucket name");
    let tiering = bucket.tiering.clone();
    let clients = replayed_clients(&moto, tiering.clone(), "Active");

    // Everything as synthesized.
    let report = run(&clients, &assembly).await;
    assert!(report.passed(), "{}", report.to_table());
    let ids: BTreeSet<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    for id in [
        "stack",
        "nodegroup.capacity",
        "nodegroup.instance-types",
        "bucket.lifecycle",
        "bucket.intelligent-tiering",
        "logs.retention",
        "logs.unbounded",
        "ecr.lifecycle",
        "schedule",
        "tags",
        "budget",
        "budget.filter",
        "budget.notifications",
        "cost-allocation-tag",
    ] {
        assert!(ids.contains(id), "no {id} check:\n{}", report.to_table());
    }
    assert_eq!(
        report.with_id("schedule").count(),
        expect::schedules(&app).len()
    );
    assert_eq!(
        report.with_id("logs.retention").count(),
        expect::log_groups(&app).len()
    );
    let capacity = report
        .with_id("nodegroup.capacity")
        .next()
        .expect("capacity row");
    assert_eq!(capacity.detail, "SPOT");
    println!("{}", report.to_table());

    // Plain moto: only the two reads it cannot serve fail.
    let gaps = run(&plain, &assembly).await;
    let failed: BTreeSet<String> = gaps.failures().map(|c| c.id.clone()).collect();
    assert_eq!(
        failed,
        MOTO_GAPS.iter().map(|s| (*s).to_owned()).collect(),
        "{}",
        gaps.to_table()
    );

    // The CLI: exit 1 on the plain emulator (those two rows), the documented JSON shape.
    let cli = frugal_ops(&moto, &out, "verify", &["--env", ENV, "--format", "json"]);
    assert_eq!(
        cli.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&cli.stdout).expect("JSON on stdout");
    let checks = json["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), gaps.checks.len());
    for c in checks {
        for k in ["id", "resource", "status", "detail"] {
            assert!(c[k].is_string(), "{c}");
        }
    }

    // --- each thing broken in turn ---------------------------------------------------

    // Node group on on-demand capacity.
    delete_nodegroups(&plain, &app).await;
    let deployed = deployed(&plain, &app).await;
    create_nodegroups(&plain, &app, &deployed, Some("ON_DEMAND")).await;
    let r = run(&clients, &assembly).await;
    assert_fails_only(
        &r,
        "nodegroup.capacity",
        "retail-forecast-nodes",
        "ON_DEMAND (expected SPOT)",
    );
    delete_nodegroups(&plain, &app).await;
    create_nodegroups(&plain, &app, &deployed, None).await;

    // A lifecycle rule removed.
    let fewer: Vec<_> = bucket
        .lifecycle
        .iter()
        .filter(|r| r.id != "tier-logs")
        .cloned()
        .collect();
    put_lifecycle(&plain, &bucket_name, &fewer).await;
    let r = run(&clients, &assembly).await;
    assert_fails_only(&r, "bucket.lifecycle", &bucket_name, "missing tier-logs");
    put_lifecycle(&plain, &bucket_name, &bucket.lifecycle).await;

    // An Intelligent-Tiering configuration missing (replayed).
    let broken = replayed_clients(&moto, tiering[..1].to_vec(), "Active");
    let r = run(&broken, &assembly).await;
    assert_fails_only(
        &r,
        "bucket.intelligent-tiering",
        &bucket_name,
        "missing archive-silver",
    );

    // The cost allocation tag not activated (replayed).
    let broken = replayed_clients(&moto, tiering.clone(), "Inactive");
    let r = run(&broken, &assembly).await;
    assert_fails_only(&r, "cost-allocation-tag", "Project", "Inactive");

    // Retention changed.
    let api_logs = "/aws/retail-forecast/api";
    plain
        .logs
        .put_retention_policy()
        .log_group_name(api_logs)
        .retention_in_days(30)
        .send()
        .await
        .expect("PutRetentionPolicy");
    let r = run(&clients, &assembly).await;
    assert_fails_only(&r, "logs.retention", api_logs, "30 days (expected 7)");
    plain
        .logs
        .put_retention_policy()
        .log_group_name(api_logs)
        .retention_in_days(7)
        .send()
        .await
        .expect("PutRetentionPolicy");

    // A group EKS creates, before its daily retention schedule ran.
    let eks_logs = "/aws/eks/retail-forecast-cluster/cluster";
    plain
        .logs
        .create_log_group()
        .log_group_name(eks_logs)
        .send()
        .await
        .expect("CreateLogGroup");
    let r = run(&clients, &assembly).await;
    assert_fails_only(
        &r,
        "logs.retention",
        eks_logs,
        "never expires (expected 7 days)",
    );
    plain
        .logs
        .put_retention_policy()
        .log_group_name(eks_logs)
        .retention_in_days(7)
        .send()
        .await
        .expect("PutRetentionPolicy");

    // Another group named after the app, keeping logs forever.
    let insights = "/aws/containerinsights/retail-forecast-cluster/application";
    plain
        .logs
        .create_log_group()
        .log_group_name(insights)
        .send()
        .await
        .expect("CreateLogGroup");
    let r = run(&clients, &assembly).await;
    assert_fails_only(&r, "logs.unbounded", insights, "never expires");
    plain
        .logs
        .delete_log_group()
        .log_group_name(insights)
        .send()
        .await
        .expect("DeleteLogGroup");

    // The ECR lifecycle policy changed.
    let repo = expect::repositories(&app)[0].clone();
    let policy = repo.policy.clone().expect("policy");
    let changed = policy.replace("\"countNumber\":10", "\"countNumber\":50");
    assert_ne!(changed, policy);
    put_repository_policy(&plain, &repo.name, &changed).await;
    let r = run(&clients, &assembly).await;
    assert_fails_only(&r, "ecr.lifecycle", &repo.name, "rule 5 is");
    put_repository_policy(&plain, &repo.name, &policy).await;

    // The budget filtering on a tag value nothing carries (the plan's defect).
    delete_budgets(&plain, &app).await;
    create_budgets(&plain, &app, &deployed, Some("user:Project$RetailMLOps")).await;
    let r = run(&clients, &assembly).await;
    assert_fails_only(
        &r,
        "budget.filter",
        "MonthlyBudget",
        "expected TagKeyValue: user:Project$RetailForecast",
    );
    delete_budgets(&plain, &app).await;
    create_budgets(&plain, &app, &deployed, None).await;

    // A budget notification removed.
    {
        use aws_sdk_budgets::types::{
            ComparisonOperator, Notification, NotificationType, ThresholdType,
        };
        let b = &expect::budgets(&app)[0];
        plain
            .budgets
            .delete_notification()
            .account_id(ACCOUNT)
            .budget_name(&b.name)
            .notification(
                Notification::builder()
                    .notification_type(NotificationType::Forecasted)
                    .comparison_operator(ComparisonOperator::GreaterThan)
                    .threshold(100.0)
                    .threshold_type(ThresholdType::Percentage)
                    .build()
                    .expect("notification"),
            )
            .send()
            .await
            .expect("DeleteNotification");
        let r = run(&clients, &assembly).await;
        assert_fails_only(
            &r,
            "budget.notifications",
            &b.name,
            "missing FORECASTED greater than 100%",
        );
        delete_budgets(&plain, &app).await;
        create_budgets(&plain, &app, &deployed, None).await;
    }

    // A schedule disabled, then one in the wrong time zone.
    let stop = expect::schedules(&app)
        .into_iter()
        .find(|s| s.target_arn.ends_with("updateNodegroupConfig") && s.expression.contains("19"))
        .expect("the node group's stop schedule");
    update_schedule(&plain, &stop.logical_id, Some("DISABLED"), None).await;
    let r = run(&clients, &assembly).await;
    assert_fails_only(
        &r,
        "schedule",
        &stop.logical_id,
        "state DISABLED (expected ENABLED)",
    );
    update_schedule(
        &plain,
        &stop.logical_id,
        Some("ENABLED"),
        Some("Europe/Paris"),
    )
    .await;
    let r = run(&clients, &assembly).await;
    assert_fails_only(
        &r,
        "schedule",
        &stop.logical_id,
        "time zone Europe/Paris (expected UTC)",
    );
    update_schedule(&plain, &stop.logical_id, None, Some("UTC")).await;

    // A resource's tag removed.
    plain
        .s3
        .put_bucket_tagging()
        .bucket(&bucket_name)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("Environment")
                        .value(ENV)
                        .build()
                        .expect("tag"),
                )
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("PutBucketTagging");
    let r = run(&clients, &assembly).await;
    assert_fails_only(
        &r,
        "tags",
        "RetailForecast-dev-Data",
        "Project=RetailForecast (absent)",
    );

    // --- teardown: what is left, then nothing ------------------------------------------

    let guardrails = stacks
        .iter()
        .find(|s| s.ends_with("-Guardrails"))
        .expect("guardrails")
        .clone();
    let doomed: Vec<String> = stacks
        .iter()
        .filter(|s| **s != guardrails)
        .cloned()
        .collect();
    destroy(&moto, &assembly, &doomed, true).await;

    // What no stack owns: the endpoint the start schedule created, a volume Kubernetes made.
    let endpoint = expect::endpoint_names(&app)
        .into_iter()
        .next()
        .expect("endpoint name");
    create_endpoint(&plain, &endpoint).await;
    let (status, body) = moto.query(
        "ec2",
        &[
            ("Action", "CreateVolume"),
            ("Version", "2016-11-15"),
            ("AvailabilityZone", "us-east-1a"),
            ("Size", "20"),
            ("TagSpecification.1.ResourceType", "volume"),
            (
                "TagSpecification.1.Tag.1.Key",
                "kubernetes.io/cluster/retail-forecast-cluster",
            ),
            ("TagSpecification.1.Tag.1.Value", "owned"),
        ],
    );
    assert_eq!(status, 200, "CreateVolume: {body}");
    let volume = body
        .split("<volumeId>")
        .nth(1)
        .and_then(|s| s.split("</volumeId>").next())
        .expect("volume id")
        .to_owned();

    let options = GoneOptions {
        env: ENV.into(),
        keep: vec![guardrails.clone()],
        keep_retained: false,
    };
    let gone = frugal_ops::gone(&plain, &assembly, &options)
        .await
        .expect("gone runs");
    println!("{}", gone.to_table());
    let left = failures(&gone);
    let has = |id: &str, res: &str| left.iter().any(|(i, r)| i == id && r.contains(res));
    assert!(has("gone.bucket", &bucket_name), "{}", gone.to_table());
    assert!(has("gone.repository", &repo.name), "{}", gone.to_table());
    assert!(has("gone.log-group", api_logs), "{}", gone.to_table());
    // The cluster's own group is not the app's to delete; with a retention it ages out.
    assert!(!has("gone.log-group", eks_logs), "{}", gone.to_table());
    assert!(
        gone.checks.iter().any(|c| c.id == "gone.log-group"
            && c.resource == eks_logs
            && c.passed()
            && c.detail.contains("expire after 7 days")),
        "{}",
        gone.to_table()
    );
    // Without a retention it keeps its logs, and their bill, forever: a leftover.
    plain
        .logs
        .delete_retention_policy()
        .log_group_name(eks_logs)
        .send()
        .await
        .expect("DeleteRetentionPolicy");
    let unbounded = frugal_ops::gone(&plain, &assembly, &options)
        .await
        .expect("gone runs");
    assert!(
        failures(&unbounded)
            .iter()
            .any(|(i, r)| i == "gone.log-group" && r == eks_logs),
        "{}",
        unbounded.to_table()
    );
    assert!(
        has("gone.nodegroup", "retail-forecast-nodes"),
        "{}",
        gone.to_table()
    );
    assert!(has("gone.endpoint", &endpoint), "{}", gone.to_table());
    assert!(has("gone.kubernetes", &volume), "{}", gone.to_table());
    assert!(
        has("gone.schedule", &stop.logical_id),
        "{}",
        gone.to_table()
    );
    for s in &doomed {
        assert!(
            gone.checks
                .iter()
                .any(|c| c.id == "gone.stack" && c.resource == *s && c.passed()),
            "{}",
            gone.to_table()
        );
    }
    assert!(
        gone.checks
            .iter()
            .any(|c| c.id == "gone.stack" && c.resource == guardrails && c.passed()),
        "the kept stack passes: {}",
        gone.to_table()
    );

    // Retained data kept on purpose passes; the rest still fails.
    let kept = frugal_ops::gone(
        &plain,
        &assembly,
        &GoneOptions {
            keep_retained: true,
            ..options.clone()
        },
    )
    .await
    .expect("gone runs");
    let left_kept = failures(&kept);
    assert!(!left_kept
        .iter()
        .any(|(i, _)| i == "gone.bucket" || i == "gone.repository"));
    assert!(left_kept.iter().any(|(i, _)| i == "gone.endpoint"));

    // Clean everything up; then nothing is left.
    plain
        .s3
        .delete_bucket()
        .bucket(&bucket_name)
        .send()
        .await
        .expect("DeleteBucket");
    plain
        .ecr
        .delete_repository()
        .repository_name(&repo.name)
        .force(true)
        .send()
        .await
        .expect("DeleteRepository");
    for g in [api_logs, eks_logs] {
        plain
            .logs
            .delete_log_group()
            .log_group_name(g)
            .send()
            .await
            .expect("DeleteLogGroup");
    }
    delete_nodegroups(&plain, &app).await;
    delete_schedules(&plain, &app).await;
    plain
        .sagemaker
        .delete_endpoint()
        .endpoint_name(&endpoint)
        .send()
        .await
        .expect("DeleteEndpoint");
    let (status, body) = moto.query(
        "ec2",
        &[
            ("Action", "DeleteVolume"),
            ("Version", "2016-11-15"),
            ("VolumeId", &volume),
        ],
    );
    assert_eq!(status, 200, "DeleteVolume: {body}");
    let clean = frugal_ops::gone(&plain, &assembly, &options)
        .await
        .expect("gone runs");
    assert!(clean.passed(), "{}", clean.to_table());
}

/// Creates a SageMaker endpoint (model, config, endpoint) named `name`.
async fn create_endpoint(clients: &OpsClients, name: &str) {
    use aws_sdk_sagemaker::types::{ContainerDefinition, ProductionVariant};
    let config = format!("{name}-config");
    clients
        .sagemaker
        .create_model()
        .model_name(name)
        .execution_role_arn(role_arn("sagemaker"))
        .primary_container(
            ContainerDefinition::builder()
                .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/retail-forecast:latest")
                .build(),
        )
        .send()
        .await
        .expect("CreateModel");
    clients
        .sagemaker
        .create_endpoint_config()
        .endpoint_config_name(&config)
        .production_variants(
            ProductionVariant::builder()
                .variant_name("main")
                .model_name(name)
                .initial_instance_count(1)
                .instance_type(aws_sdk_sagemaker::types::ProductionVariantInstanceType::MlT2Medium)
                .build(),
        )
        .send()
        .await
        .expect("CreateEndpointConfig");
    clients
        .sagemaker
        .create_endpoint()
        .endpoint_name(name)
        .endpoint_config_name(&config)
        .send()
        .await
        .expect("CreateEndpoint");
}
