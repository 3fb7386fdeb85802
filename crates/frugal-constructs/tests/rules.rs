//! The rule pack: each rule fails synth on a violating resource built directly from
//! `frugal_cfn` types, names the construct path, field and rule, and passes once the
//! resource acknowledges the rule with a reason (which synth then reports).

mod common;

use common::*;
use frugal_cfn::budgets::budget::{Budget as CfnBudget, BudgetData};
use frugal_cfn::ecr::repository::Repository;
use frugal_cfn::eks::nodegroup::{Nodegroup, NodegroupCapacityType};
use frugal_cfn::iam::managed_policy::ManagedPolicy;
use frugal_cfn::iam::role::{Policy, Role};
use frugal_cfn::logs::log_group::LogGroup;
use frugal_cfn::s3::bucket::{
    AbortIncompleteMultipartUpload, Bucket, LifecycleConfiguration, Rule, RuleStatus, TagFilter,
};
use frugal_cfn::sns::topic::Topic;
use frugal_cfn::sns::topic_policy::TopicPolicy;
use frugal_constructs::rules::{
    BUCKET_LIFECYCLE_RULE, BUDGET_FILTER_RULE, IAM_ADMIN_RULE, LOG_RETENTION_RULE,
    REPO_LIFECYCLE_RULE,
};
use frugal_constructs::SPOT_RULE;
use frugal_core::{App, ResourceHandle, Scope, Value};
use serde_json::json;

const REASON: &str = "accepted on purpose for this test";

/// Synthesizes a stack holding what `add` declares; it must fail with
/// `path: field: [rule] …fragment…`. Then the same stack with the resource
/// acknowledging `rule` must pass and report the acknowledgement.
#[track_caller]
fn fails_then_passes_when_acknowledged(
    add: impl Fn(&mut Scope<'_>) -> ResourceHandle,
    path: &str,
    field: &str,
    rule: &str,
    fragment: &str,
) {
    let (app, mut stack) = app_and_stack();
    add(&mut stack.root());
    let err = try_synth(app, stack).expect_err("the rule must fail synthesis");
    assert_violation(&err, path, field, &format!("[{rule}] "));
    assert_violation(&err, path, field, fragment);
    assert_violation(
        &err,
        path,
        field,
        "(acknowledge with a reason to accept it)",
    );

    // Acknowledging another rule does not help.
    let (app, mut stack) = app_and_stack();
    let handle = add(&mut stack.root());
    stack
        .root()
        .acknowledge(&handle, "FRUGAL-SOMETHING-ELSE", REASON);
    let err = try_synth(app, stack).expect_err("only the rule's own acknowledgement counts");
    assert_violation(&err, path, field, fragment);

    let (app, mut stack) = app_and_stack();
    let handle = add(&mut stack.root());
    stack.root().acknowledge(&handle, rule, REASON);
    let assembly = synth(app, stack);
    let acks: Vec<_> = assembly
        .acknowledged
        .iter()
        .filter(|a| a.rule == rule)
        .collect();
    assert_eq!(acks.len(), 1, "{:?}", assembly.acknowledged);
    assert_eq!(acks[0].path, path);
    assert_eq!(acks[0].reason, REASON);
    assert!(acks[0].message.contains(fragment), "{:?}", acks[0]);
    let resource = template(&assembly)["Resources"]
        .as_object()
        .unwrap()
        .values()
        .find(|r| r["Metadata"]["frugal:path"] == path)
        .expect("the resource");
    assert_eq!(
        resource["Metadata"]["frugal:acknowledgements"],
        json!([{"rule": rule, "reason": REASON}])
    );
}

fn admin_document() -> Value {
    Value::from(json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
        ],
    }))
}

fn trust() -> Value {
    Value::from(json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }))
}

fn nodegroup(capacity: Option<NodegroupCapacityType>) -> Nodegroup {
    let mut g = Nodegroup::new(
        "demo-cluster",
        "arn:aws:iam::123456789012:role/nodes",
        vec!["subnet-1", "subnet-2"],
    );
    g.capacity_type = capacity.map(Into::into);
    g
}

fn budget_filtered_on(filter: Option<&str>) -> CfnBudget {
    let mut data = BudgetData::new("COST", "MONTHLY");
    data.cost_filters = filter.map(|f| Value::map([("TagKeyValue", Value::List(vec![f.into()]))]));
    CfnBudget::new(data)
}

#[test]
fn log_group_without_retention() {
    fails_then_passes_when_acknowledged(
        |s| {
            s.add_resource(
                "Logs",
                LogGroup {
                    log_group_name: Some("/demo/forever".into()),
                    ..Default::default()
                },
            )
        },
        "Stack/Logs",
        "RetentionInDays",
        LOG_RETENTION_RULE,
        "log group keeps events forever",
    );
}

#[test]
fn bucket_without_lifecycle() {
    fails_then_passes_when_acknowledged(
        |s| s.add_resource("Data", Bucket::default()),
        "Stack/Data",
        "LifecycleConfiguration",
        BUCKET_LIFECYCLE_RULE,
        "bucket has no lifecycle rules",
    );
}

#[test]
fn bucket_whose_upload_abort_is_not_bucket_wide() {
    fails_then_passes_when_acknowledged(
        |s| {
            let mut abort = Rule::new(RuleStatus::Enabled);
            abort.prefix = Some("uploads/".into());
            abort.abort_incomplete_multipart_upload = Some(AbortIncompleteMultipartUpload::new(7));
            let mut tagged = Rule::new(RuleStatus::Enabled);
            tagged.tag_filters = Some(vec![TagFilter::new("temporary", "true")]);
            tagged.abort_incomplete_multipart_upload = Some(AbortIncompleteMultipartUpload::new(7));
            let mut expire = Rule::new(RuleStatus::Enabled);
            expire.expiration_in_days = Some(30.into());
            s.add_resource(
                "Data",
                Bucket {
                    lifecycle_configuration: Some(LifecycleConfiguration::new(vec![
                        abort, tagged, expire,
                    ])),
                    ..Default::default()
                },
            )
        },
        "Stack/Data",
        "LifecycleConfiguration",
        BUCKET_LIFECYCLE_RULE,
        "no bucket-wide rule aborts incomplete multipart uploads",
    );
}

#[test]
fn repository_without_lifecycle_policy() {
    fails_then_passes_when_acknowledged(
        |s| {
            s.add_resource(
                "Images",
                Repository {
                    repository_name: Some("demo".into()),
                    ..Default::default()
                },
            )
        },
        "Stack/Images",
        "LifecyclePolicy",
        REPO_LIFECYCLE_RULE,
        "repository keeps every image forever",
    );
}

#[test]
fn on_demand_node_group() {
    fails_then_passes_when_acknowledged(
        |s| s.add_resource("Nodes", nodegroup(Some(NodegroupCapacityType::OnDemand))),
        "Stack/Nodes",
        "CapacityType",
        SPOT_RULE,
        "node group is not on Spot capacity",
    );
}

#[test]
fn node_group_without_capacity_type_is_on_demand() {
    fails_then_passes_when_acknowledged(
        |s| s.add_resource("Nodes", nodegroup(None)),
        "Stack/Nodes",
        "CapacityType",
        SPOT_RULE,
        "node group is not on Spot capacity",
    );
}

#[test]
fn budget_filtering_on_another_tag_value() {
    fails_then_passes_when_acknowledged(
        |s| s.add_resource("Budget", budget_filtered_on(Some("user:Project$SomethingElse"))),
        "Stack/Budget",
        "Budget.CostFilters.TagKeyValue",
        BUDGET_FILTER_RULE,
        "filter \"user:Project$SomethingElse\" matches no tag the app applies, so the budget watches nothing",
    );
}

#[test]
fn budget_filtering_on_a_tag_key_the_app_lacks() {
    fails_then_passes_when_acknowledged(
        |s| {
            s.add_resource(
                "Budget",
                budget_filtered_on(Some(&format!("user:Team${PROJECT}"))),
            )
        },
        "Stack/Budget",
        "Budget.CostFilters.TagKeyValue",
        BUDGET_FILTER_RULE,
        "matches no tag the app applies",
    );
}

#[test]
fn budget_filter_without_user_prefix() {
    fails_then_passes_when_acknowledged(
        |s| {
            s.add_resource(
                "Budget",
                budget_filtered_on(Some(&format!("Project${PROJECT}"))),
            )
        },
        "Stack/Budget",
        "Budget.CostFilters.TagKeyValue",
        BUDGET_FILTER_RULE,
        "matches no tag the app applies",
    );
}

#[test]
fn budget_without_tag_filter() {
    fails_then_passes_when_acknowledged(
        |s| s.add_resource("Budget", budget_filtered_on(None)),
        "Stack/Budget",
        "Budget.CostFilters",
        BUDGET_FILTER_RULE,
        "budget is not scoped by a tag of the app",
    );
}

#[test]
fn budget_filtering_on_the_apps_tag_passes() {
    let (app, mut stack) = app_and_stack();
    stack.root().add_resource(
        "Budget",
        budget_filtered_on(Some(&format!("user:Project${PROJECT}"))),
    );
    let assembly = synth(app, stack);
    assert!(assembly.acknowledged.is_empty());
}

#[test]
fn role_allowing_everything_on_everything() {
    fails_then_passes_when_acknowledged(
        |s| {
            let mut role = Role::new(trust());
            role.policies = Some(vec![Policy::new(admin_document(), "admin")]);
            s.add_resource("Admin", role)
        },
        "Stack/Admin",
        "Policies.PolicyDocument",
        IAM_ADMIN_RULE,
        "a statement allows every action (`*`) on every resource (`*`)",
    );
}

#[test]
fn role_with_a_single_statement_object_and_action_lists() {
    fails_then_passes_when_acknowledged(
        |s| {
            let doc = Value::from(json!({
                "Version": "2012-10-17",
                "Statement": {"Effect": "Allow", "Action": ["s3:*", "*"], "Resource": ["arn:aws:s3:::b", "*"]},
            }));
            let mut role = Role::new(trust());
            role.policies = Some(vec![Policy::new(doc, "admin")]);
            s.add_resource("Admin", role)
        },
        "Stack/Admin",
        "Policies.PolicyDocument",
        IAM_ADMIN_RULE,
        "allows every action",
    );
}

#[test]
fn managed_policy_allowing_everything() {
    fails_then_passes_when_acknowledged(
        |s| s.add_resource("AdminPolicy", ManagedPolicy::new(admin_document())),
        "Stack/AdminPolicy",
        "PolicyDocument",
        IAM_ADMIN_RULE,
        "allows every action",
    );
}

#[test]
fn topic_policy_allowing_everything() {
    fails_then_passes_when_acknowledged(
        |s| {
            let topic = s.add_resource("Topic", Topic::default());
            s.add_resource(
                "TopicPolicy",
                TopicPolicy::new(admin_document(), vec![topic.ref_()]),
            )
        },
        "Stack/TopicPolicy",
        "PolicyDocument",
        IAM_ADMIN_RULE,
        "allows every action",
    );
}

#[test]
fn narrower_statements_pass_the_admin_rule() {
    let (app, mut stack) = app_and_stack();
    let doc = Value::from(json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
        ],
    }));
    let mut role = Role::new(trust());
    role.policies = Some(vec![Policy::new(doc, "scoped")]);
    stack.root().add_resource("Scoped", role);
    let assembly = synth(app, stack);
    assert!(assembly.acknowledged.is_empty());
}

#[test]
fn several_findings_are_reported_together() {
    let (app, mut stack) = app_and_stack();
    let mut root = stack.root();
    root.add_resource("Logs", LogGroup::default());
    root.add_resource("Data", Bucket::default());
    root.add_resource("Nodes", nodegroup(Some(NodegroupCapacityType::OnDemand)));
    let err = try_synth(app, stack).expect_err("three findings");
    assert_violation(&err, "Stack/Logs", "RetentionInDays", LOG_RETENTION_RULE);
    assert_violation(
        &err,
        "Stack/Data",
        "LifecycleConfiguration",
        BUCKET_LIFECYCLE_RULE,
    );
    assert_violation(&err, "Stack/Nodes", "CapacityType", SPOT_RULE);
    assert_eq!(err.iter().count(), 3, "{err}");
}

#[test]
fn without_the_pack_nothing_is_checked() {
    let mut app = App::new("bare");
    app.set_tag("Project", PROJECT);
    let mut stack = app.new_stack(STACK);
    stack.root().add_resource("Logs", LogGroup::default());
    stack.root().add_resource("Data", Bucket::default());
    let assembly = try_synth(app, stack).expect("no rules, no findings");
    assert!(assembly.acknowledged.is_empty());
}

#[test]
fn every_construct_passes_the_pack_without_acknowledgements() {
    use frugal_constructs::*;
    let (app, mut stack) = app_and_stack();
    let subnets = subnets(&mut stack);
    let nodes = SpotNodeGroup::new(
        &mut stack.root(),
        "Nodes",
        SpotNodeGroupProps::new(
            "demo-cluster",
            "demo-nodes",
            subnets,
            &["t3.medium", "t3a.medium"],
            Scaling {
                min: 1,
                desired: 1,
                max: 2,
            },
        ),
    )
    .unwrap();
    TieredBucket::new(
        &mut stack.root(),
        "DataBucket",
        TieredBucketProps::new("demo-data-dev")
            .tier(PrefixTier::intelligent_tiering("raw/", 30).with_archive(90, 180)),
    )
    .unwrap();
    RetainedLogGroup::new(
        &mut stack.root(),
        "ApiLogs",
        RetainedLogGroupProps::new(LogGroupName::custom("/demo/api"), RetentionDays::OneWeek),
    )
    .unwrap();
    RetainedLogGroup::new(
        &mut stack.root(),
        "ClusterLogs",
        RetainedLogGroupProps::service_owned(
            LogGroupName::eks_cluster("demo-cluster"),
            RetentionDays::OneWeek,
        ),
    )
    .unwrap();
    PrunedRepo::new(
        &mut stack.root(),
        "Images",
        PrunedRepoProps::new("demo", vec![KeepRule::Any { keep: 10 }]),
    )
    .unwrap();
    Budget::new(
        &mut stack.root(),
        "MonthlyBudget",
        BudgetProps::new(50.0, vec!["team@example.com".into()]),
    )
    .unwrap();
    Scheduler::new(
        &mut stack.root(),
        "OffHours",
        SchedulerProps::new(
            OfficeHours::workdays("UTC", TimeOfDay::new(7, 0), TimeOfDay::new(19, 0)),
            vec![nodes],
        ),
    )
    .unwrap();
    let assembly = synth(app, stack);
    assert!(
        assembly.acknowledged.is_empty(),
        "{:?}",
        assembly.acknowledged
    );
}

#[test]
fn a_tiered_bucket_that_keeps_uploads_forever_must_say_why() {
    use frugal_constructs::{TieredBucket, TieredBucketProps};
    let mut props = TieredBucketProps::new("demo-data-dev");
    props.abort_incomplete_uploads_after_days = None;
    let (app, mut stack) = app_and_stack();
    TieredBucket::new(&mut stack.root(), "DataBucket", props.clone()).unwrap();
    let err = try_synth(app, stack).expect_err("no lifecycle at all");
    assert_violation(
        &err,
        "Stack/DataBucket/Resource",
        "LifecycleConfiguration",
        BUCKET_LIFECYCLE_RULE,
    );

    let (app, mut stack) = app_and_stack();
    let bucket = TieredBucket::new(&mut stack.root(), "DataBucket", props).unwrap();
    stack.root().acknowledge(
        bucket.resource(),
        BUCKET_LIFECYCLE_RULE,
        "uploads are resumed for weeks",
    );
    let assembly = synth(app, stack);
    assert_eq!(assembly.acknowledged.len(), 1);
    assert_eq!(assembly.acknowledged[0].path, "Stack/DataBucket/Resource");
    assert_eq!(
        assembly.acknowledged[0].reason,
        "uploads are resumed for weeks"
    );
}
