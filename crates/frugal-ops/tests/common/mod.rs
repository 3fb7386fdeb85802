//! Shared by the emulator tests: the real retail-forecast app synthesized in-process,
//! deployed through the real deploy engine onto a `moto_server`, and what moto's
//! CloudFormation skips or drops put in place through the service APIs, with the values
//! read from the synthesized templates.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_types::retry::RetryConfig;
use frugal_deploy::{
    ApprovalLevel, Assembly, Cancel, Console, DeployOptions, DestroyOptions, Session, StackOutcome,
};
use frugal_moto::Moto;
use frugal_ops::deployed::{describe, DeployedStack};
use frugal_ops::expect::{self, AppView};
use frugal_ops::OpsClients;

/// The account moto answers for.
pub const ACCOUNT: &str = "123456789012";

/// The synthesized app in a fresh directory, removed on drop.
pub struct Out {
    /// The directory.
    pub dir: PathBuf,
}

impl Out {
    /// Synthesizes `retail_forecast::app()` into a new directory named after `test`.
    pub fn synth(test: &str) -> Out {
        let dir = std::env::temp_dir().join(format!("frugal-ops-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let app = retail_forecast::app().unwrap_or_else(|v| panic!("the app: {v}"));
        let assembly = app.synth().unwrap_or_else(|v| panic!("synth: {v}"));
        assembly.write(&dir).expect("write the synthesized app");
        Out { dir }
    }

    /// The synthesized app as the deploy engine reads it.
    pub fn assembly(&self) -> Assembly {
        Assembly::load(&self.dir).expect("load the synthesized app")
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An SDK configuration for `moto` (through `localhost`, where moto serves staged
/// templates), without retries: moto's 500s for what it lacks come back at once.
pub fn sdk_config(moto: &Moto) -> SdkConfig {
    SdkConfig::builder()
        .endpoint_url(moto.localhost_url())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "moto",
        )))
        .behavior_version(BehaviorVersion::latest())
        .retry_config(RetryConfig::disabled())
        .build()
}

/// Runs the `frugal-ops` binary, `command args --out DIR`, against `moto` with test
/// credentials, no shared AWS files and one attempt per call.
pub fn frugal_ops(moto: &Moto, out: &Out, command: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_frugal-ops"))
        .arg(command)
        .args(args)
        .arg("--out")
        .arg(&out.dir)
        .args([
            "--endpoint-url",
            &moto.localhost_url(),
            "--region",
            "us-east-1",
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", out.dir.join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            out.dir.join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run frugal-ops")
}

/// The operations' clients on `moto`.
pub fn clients(moto: &Moto) -> OpsClients {
    OpsClients::from_config(&sdk_config(moto))
}

/// The dev stacks' names, in the app's order.
pub fn dev_stacks(assembly: &Assembly) -> Vec<String> {
    AppView::from_assembly(assembly, "dev")
        .expect("dev stacks")
        .stacks
        .iter()
        .map(|s| s.name().to_owned())
        .collect()
}

/// Deploys `stacks` through the real deploy engine, without questions.
pub async fn deploy(
    moto: &Moto,
    assembly: &Assembly,
    stacks: &[String],
) -> Vec<(String, StackOutcome)> {
    let session = Session::from_config(sdk_config(moto));
    let options = DeployOptions {
        stacks: stacks.to_vec(),
        approval: ApprovalLevel::Never,
        yes: true,
        ..Default::default()
    };
    let console = Console::capture(None);
    match frugal_deploy::deploy(&session, assembly, &options, &console, &Cancel::new()).await {
        Ok(r) => r.stacks,
        Err(e) => panic!(
            "deploy failed: {e}\n--- console\n{}\n--- moto log (tail)\n{}",
            console.captured().join("\n"),
            tail(&moto.log_text(), 60)
        ),
    }
}

/// Destroys `stacks` through the real deploy engine; `--purge-data` empties buckets and
/// repositories first.
pub async fn destroy(moto: &Moto, assembly: &Assembly, stacks: &[String], purge_data: bool) {
    destroy_with(
        moto,
        assembly,
        DestroyOptions {
            stacks: stacks.to_vec(),
            purge_data,
            ..Default::default()
        },
    )
    .await;
}

/// Destroys through the real deploy engine with `options` (without questions); returns
/// what it printed.
pub async fn destroy_with(moto: &Moto, assembly: &Assembly, options: DestroyOptions) -> String {
    let session = Session::from_config(sdk_config(moto));
    let options = DestroyOptions {
        yes: true,
        ..options
    };
    let console = Console::capture(None);
    if let Err(e) =
        frugal_deploy::destroy(&session, assembly, &options, &console, &Cancel::new()).await
    {
        panic!(
            "destroy failed: {e}\n--- console\n{}",
            console.captured().join("\n")
        );
    }
    console.captured().join("\n")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The deployed stacks of dev.
pub async fn deployed(clients: &OpsClients, app: &AppView) -> Vec<DeployedStack> {
    let mut out = Vec::new();
    for s in &app.stacks {
        out.push(describe(clients, s.name()).await.expect("describe stack"));
    }
    out
}

/// The ARN of a role from its physical id.
pub fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// The physical id of `logical` in whichever deployed stack has it.
pub fn physical<'a>(deployed: &'a [DeployedStack], logical: &str) -> &'a str {
    deployed
        .iter()
        .find_map(|d| d.physical_id(logical))
        .unwrap_or_else(|| panic!("no deployed resource {logical}"))
}

/// Group name the emulator tests give the off-hours schedule group (CloudFormation would
/// name it; moto skips it).
pub const SCHEDULE_GROUP: &str = "RetailForecast-dev-Compute-OffHoursGroup";

/// Puts in place what moto's CloudFormation skips (EKS cluster and node group, budget,
/// schedule group and schedules) or drops (bucket lifecycle, ECR lifecycle policy, SNS
/// topic tags), every value read from the synthesized templates.
pub async fn apply_what_moto_skips(moto: &Moto, clients: &OpsClients, app: &AppView) {
    let deployed = deployed(clients, app).await;
    put_bucket_lifecycles(clients, app).await;
    put_repository_policies(clients, app).await;
    tag_topics(moto, app, &deployed);
    create_nodegroups(clients, app, &deployed, None).await;
    create_budgets(clients, app, &deployed, None).await;
    create_schedules(clients, app, &deployed).await;
}

/// The S3 lifecycle configuration of `rules` (synthesized form) as the SDK sends it.
pub fn lifecycle_configuration(
    rules: &[expect::LifecycleRule],
) -> aws_sdk_s3::types::BucketLifecycleConfiguration {
    use aws_sdk_s3::types::{
        AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus,
        LifecycleExpiration, LifecycleRule, LifecycleRuleAndOperator, LifecycleRuleFilter, Tag,
        Transition, TransitionStorageClass,
    };
    let mut config = BucketLifecycleConfiguration::builder();
    for r in rules {
        let filter = if r.tags.is_empty() {
            LifecycleRuleFilter::builder().prefix(&r.prefix).build()
        } else {
            let mut and = LifecycleRuleAndOperator::builder().prefix(&r.prefix);
            for (k, v) in &r.tags {
                and = and.tags(Tag::builder().key(k).value(v).build().expect("tag"));
            }
            LifecycleRuleFilter::builder().and(and.build()).build()
        };
        let mut rule = LifecycleRule::builder()
            .id(&r.id)
            .status(ExpirationStatus::from(r.status.as_str()))
            .filter(filter);
        for (class, days) in &r.transitions {
            rule = rule.transitions(
                Transition::builder()
                    .days(*days as i32)
                    .storage_class(TransitionStorageClass::from(class.as_str()))
                    .build(),
            );
        }
        if let Some(d) = r.expiration_days {
            rule = rule.expiration(LifecycleExpiration::builder().days(d as i32).build());
        }
        if let Some(d) = r.abort_incomplete_days {
            rule = rule.abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(d as i32)
                    .build(),
            );
        }
        config = config.rules(rule.build().expect("lifecycle rule"));
    }
    config.build().expect("lifecycle configuration")
}

/// Puts `rules` on `bucket`.
pub async fn put_lifecycle(clients: &OpsClients, bucket: &str, rules: &[expect::LifecycleRule]) {
    clients
        .s3
        .put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(lifecycle_configuration(rules))
        .send()
        .await
        .expect("PutBucketLifecycleConfiguration");
}

async fn put_bucket_lifecycles(clients: &OpsClients, app: &AppView) {
    for b in expect::buckets(app) {
        let name = b.name.as_deref().expect("bucket name");
        put_lifecycle(clients, name, &b.lifecycle).await;
    }
}

/// Puts `policy` on repository `name`.
pub async fn put_repository_policy(clients: &OpsClients, name: &str, policy: &str) {
    clients
        .ecr
        .put_lifecycle_policy()
        .repository_name(name)
        .lifecycle_policy_text(policy)
        .send()
        .await
        .expect("PutLifecyclePolicy");
}

async fn put_repository_policies(clients: &OpsClients, app: &AppView) {
    for r in expect::repositories(app) {
        put_repository_policy(clients, &r.name, r.policy.as_deref().expect("policy")).await;
    }
}

fn tag_topics(moto: &Moto, app: &AppView, deployed: &[DeployedStack]) {
    for (s, d) in app.stacks.iter().zip(deployed) {
        for r in d
            .resources
            .iter()
            .filter(|r| r.resource_type == "AWS::SNS::Topic")
        {
            let arn = r.physical_id.as_deref().expect("topic arn");
            let mut params = vec![
                ("Action".to_owned(), "TagResource".to_owned()),
                ("ResourceArn".to_owned(), arn.to_owned()),
            ];
            for (i, (k, v)) in s.manifest.tags.iter().enumerate() {
                params.push((format!("Tags.member.{}.Key", i + 1), k.clone()));
                params.push((format!("Tags.member.{}.Value", i + 1), v.clone()));
            }
            let refs: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let (status, body) = moto.query("sns", &refs);
            assert_eq!(status, 200, "SNS TagResource: {body}");
        }
    }
}

/// Creates the app's EKS cluster (once) and node groups, with `capacity` overriding the
/// synthesized capacity type.
pub async fn create_nodegroups(
    clients: &OpsClients,
    app: &AppView,
    deployed: &[DeployedStack],
    capacity: Option<&str>,
) {
    use aws_sdk_eks::types::{CapacityTypes, NodegroupScalingConfig, VpcConfigRequest};
    for (s, _, r) in app.resources_of("AWS::EKS::Nodegroup") {
        let p = &r["Properties"];
        let cluster = p["ClusterName"].as_str().expect("cluster name");
        let subnets: Vec<String> = s.manifest.parameters["NodeSubnetIds"]
            .split(',')
            .map(str::to_owned)
            .collect();
        if clients
            .eks
            .describe_cluster()
            .name(cluster)
            .send()
            .await
            .is_err()
        {
            clients
                .eks
                .create_cluster()
                .name(cluster)
                .role_arn(role_arn("cluster-role"))
                .resources_vpc_config(
                    VpcConfigRequest::builder()
                        .set_subnet_ids(Some(subnets.clone()))
                        .build(),
                )
                .send()
                .await
                .expect("CreateCluster");
        }
        let scaling = &p["ScalingConfig"];
        let n = |k: &str| scaling[k].as_i64().expect("scaling") as i32;
        let mut req = clients
            .eks
            .create_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(p["NodegroupName"].as_str().expect("nodegroup name"))
            .node_role(role_arn(physical(deployed, "NodesNodeRole")))
            .set_subnets(Some(subnets))
            .capacity_type(CapacityTypes::from(
                capacity.unwrap_or(p["CapacityType"].as_str().expect("capacity")),
            ))
            .scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(n("MinSize"))
                    .max_size(n("MaxSize"))
                    .desired_size(n("DesiredSize"))
                    .build(),
            );
        for t in p["InstanceTypes"].as_array().expect("types") {
            req = req.instance_types(t.as_str().expect("type"));
        }
        for (k, v) in p["Labels"].as_object().expect("labels") {
            req = req.labels(k, v.as_str().expect("label"));
        }
        for (k, v) in p["Tags"].as_object().expect("tags") {
            req = req.tags(k, v.as_str().expect("tag"));
        }
        req.send().await.expect("CreateNodegroup");
    }
}

/// Deletes the app's node groups.
pub async fn delete_nodegroups(clients: &OpsClients, app: &AppView) {
    for n in expect::nodegroups(app) {
        clients
            .eks
            .delete_nodegroup()
            .cluster_name(&n.cluster)
            .nodegroup_name(&n.name)
            .send()
            .await
            .expect("DeleteNodegroup");
    }
}

/// Creates the app's budgets with their notifications and subscribers, `filter` replacing
/// the synthesized `TagKeyValue` filter when given.
pub async fn create_budgets(
    clients: &OpsClients,
    app: &AppView,
    deployed: &[DeployedStack],
    filter: Option<&str>,
) {
    use aws_sdk_budgets::types::{
        Budget, BudgetType, ComparisonOperator, Notification, NotificationType,
        NotificationWithSubscribers, Spend, Subscriber, SubscriptionType, ThresholdType, TimeUnit,
    };
    for (s, _, r) in app.resources_of("AWS::Budgets::Budget") {
        let b = &r["Properties"]["Budget"];
        let limit = s
            .string(b.pointer("/BudgetLimit/Amount"))
            .expect("budget limit");
        let mut budget = Budget::builder()
            .budget_name(b["BudgetName"].as_str().expect("budget name"))
            .budget_limit(
                Spend::builder()
                    .amount(limit)
                    .unit("USD")
                    .build()
                    .expect("spend"),
            )
            .time_unit(TimeUnit::from(b["TimeUnit"].as_str().expect("time unit")))
            .budget_type(BudgetType::from(b["BudgetType"].as_str().expect("type")));
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in b["CostFilters"].as_object().expect("filters") {
            filters.insert(
                k.clone(),
                v.as_array()
                    .expect("filter values")
                    .iter()
                    .map(|x| x.as_str().expect("filter value").to_owned())
                    .collect(),
            );
        }
        if let Some(f) = filter {
            filters.insert("TagKeyValue".into(), vec![f.to_owned()]);
        }
        // What the construct writes: CostFilters (deprecated in the SDK for FilterExpression).
        #[allow(deprecated)]
        {
            budget = budget.set_cost_filters(Some(filters));
        }
        let topic = deployed
            .iter()
            .find(|d| d.name == s.name())
            .and_then(|d| d.outputs.get("MonthlyBudgetTopicArn"))
            .expect("topic output")
            .clone();
        let mut req = clients
            .budgets
            .create_budget()
            .account_id(ACCOUNT)
            .budget(budget.build().expect("budget"));
        for n in r["Properties"]["NotificationsWithSubscribers"]
            .as_array()
            .expect("notifications")
        {
            let note = &n["Notification"];
            let mut with = NotificationWithSubscribers::builder().notification(
                Notification::builder()
                    .notification_type(NotificationType::from(
                        note["NotificationType"].as_str().expect("kind"),
                    ))
                    .comparison_operator(ComparisonOperator::from(
                        note["ComparisonOperator"].as_str().expect("op"),
                    ))
                    .threshold(note["Threshold"].as_f64().expect("threshold"))
                    .threshold_type(ThresholdType::from(
                        note["ThresholdType"].as_str().expect("threshold type"),
                    ))
                    .build()
                    .expect("notification"),
            );
            for sub in n["Subscribers"].as_array().expect("subscribers") {
                let kind = sub["SubscriptionType"].as_str().expect("subscription type");
                let address = if kind == "SNS" {
                    topic.clone()
                } else {
                    s.string(sub.get("Address")).expect("address")
                };
                with = with.subscribers(
                    Subscriber::builder()
                        .subscription_type(SubscriptionType::from(kind))
                        .address(address)
                        .build()
                        .expect("subscriber"),
                );
            }
            req = req.notifications_with_subscribers(with.build().expect("with subscribers"));
        }
        req.send().await.expect("CreateBudget");
    }
}

/// Deletes the app's budgets.
pub async fn delete_budgets(clients: &OpsClients, app: &AppView) {
    for b in expect::budgets(app) {
        clients
            .budgets
            .delete_budget()
            .account_id(ACCOUNT)
            .budget_name(&b.name)
            .send()
            .await
            .expect("DeleteBudget");
    }
}

/// Creates the schedule group (tagged like its stack) and every schedule of the app,
/// named by logical id.
pub async fn create_schedules(clients: &OpsClients, app: &AppView, deployed: &[DeployedStack]) {
    use aws_sdk_scheduler::types::{
        FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState, Tag, Target,
    };
    for (s, _, _) in app.resources_of("AWS::Scheduler::ScheduleGroup") {
        let mut req = clients
            .scheduler
            .create_schedule_group()
            .name(SCHEDULE_GROUP);
        for (k, v) in &s.manifest.tags {
            req = req.tags(Tag::builder().key(k).value(v).build().expect("tag"));
        }
        req.send().await.expect("CreateScheduleGroup");
    }
    for (_, id, r) in app.resources_of("AWS::Scheduler::Schedule") {
        let p = &r["Properties"];
        let role = p["Target"]["RoleArn"]["Fn::GetAtt"][0]
            .as_str()
            .expect("role of the target");
        let mut target = Target::builder()
            .arn(p["Target"]["Arn"].as_str().expect("target arn"))
            .role_arn(role_arn(physical(deployed, role)));
        if let Some(input) = p["Target"]["Input"].as_str() {
            target = target.input(input);
        }
        let mut req = clients
            .scheduler
            .create_schedule()
            .name(id)
            .schedule_expression(p["ScheduleExpression"].as_str().expect("expression"))
            .flexible_time_window(
                FlexibleTimeWindow::builder()
                    .mode(FlexibleTimeWindowMode::Off)
                    .build()
                    .expect("window"),
            )
            .target(target.build().expect("target"));
        if let Some(tz) = p["ScheduleExpressionTimezone"].as_str() {
            req = req.schedule_expression_timezone(tz);
        }
        if let Some(state) = p["State"].as_str() {
            req = req.state(ScheduleState::from(state));
        }
        if p.get("GroupName").is_some() {
            req = req.group_name(SCHEDULE_GROUP);
        }
        req.send().await.expect("CreateSchedule");
    }
}

/// Deletes every schedule of the app (and the group).
pub async fn delete_schedules(clients: &OpsClients, app: &AppView) {
    for (_, id, r) in app.resources_of("AWS::Scheduler::Schedule") {
        let mut req = clients.scheduler.delete_schedule().name(id);
        if r["Properties"].get("GroupName").is_some() {
            req = req.group_name(SCHEDULE_GROUP);
        }
        req.send().await.expect("DeleteSchedule");
    }
    if app
        .resources_of("AWS::Scheduler::ScheduleGroup")
        .next()
        .is_some()
    {
        let _ = clients
            .scheduler
            .delete_schedule_group()
            .name(SCHEDULE_GROUP)
            .send()
            .await;
    }
}
