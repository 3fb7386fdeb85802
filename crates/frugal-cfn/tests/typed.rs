//! The generated types compile into the intended API and serialize to the exact
//! CloudFormation property names.

use std::collections::BTreeMap;

use frugal_cfn::budgets::budget::{Budget, BudgetData, Expression, Spend};
use frugal_cfn::eks::nodegroup::{
    Nodegroup, NodegroupAmiType, NodegroupCapacityType, ScalingConfig, Taint, TaintEffect,
};
use frugal_cfn::iam::role::Role;
use frugal_cfn::logs::log_group::{LogGroup, LogGroupClass};
use frugal_cfn::s3::bucket::{
    Bucket, IntelligentTieringConfiguration, IntelligentTieringConfigurationStatus,
    LifecycleConfiguration, Rule, RuleStatus, Tag, Tiering, TieringAccessTier, Transition,
    TransitionStorageClass,
};
use frugal_cfn::scheduler::schedule::{
    FlexibleTimeWindow, FlexibleTimeWindowMode, Schedule, Target,
};
use frugal_cfn::{schema_of, ALL_SCHEMAS};
use frugal_core::{fns, Expr, ResourceType, TagFormat};
use serde_json::json;

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("serializes")
}

#[test]
fn s3_bucket_with_lifecycle_and_intelligent_tiering() {
    let bucket = Bucket {
        bucket_name: Some("frugal-logs".into()),
        lifecycle_configuration: Some(LifecycleConfiguration::new(vec![Rule {
            id: Some("tier".into()),
            transitions: Some(vec![Transition {
                transition_in_days: Some(0.into()),
                ..Transition::new(TransitionStorageClass::IntelligentTiering)
            }]),
            ..Rule::new(RuleStatus::Enabled)
        }])),
        intelligent_tiering_configurations: Some(vec![IntelligentTieringConfiguration::new(
            "archive",
            IntelligentTieringConfigurationStatus::Enabled,
            vec![Tiering::new(TieringAccessTier::ArchiveAccess, 90)],
        )]),
        tags: Some(vec![Tag::new("team", "data")]),
        ..Bucket::default()
    };
    let v = to_json(&bucket);
    assert_eq!(
        v["LifecycleConfiguration"]["Rules"][0]["Transitions"][0]["StorageClass"],
        "INTELLIGENT_TIERING"
    );
    assert_eq!(
        v["LifecycleConfiguration"]["Rules"][0]["Transitions"][0]["TransitionInDays"],
        0
    );
    assert_eq!(v["LifecycleConfiguration"]["Rules"][0]["Status"], "Enabled");
    assert_eq!(v["LifecycleConfiguration"]["Rules"][0]["Id"], "tier");
    assert_eq!(
        v["IntelligentTieringConfigurations"],
        json!([{"Id": "archive", "Status": "Enabled", "Tierings": [{"AccessTier": "ARCHIVE_ACCESS", "Days": 90}]}])
    );
    assert_eq!(v["Tags"], json!([{"Key": "team", "Value": "data"}]));
    assert_eq!(v["BucketName"], "frugal-logs");
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(
        keys.len(),
        4,
        "unset optional properties are omitted: {keys:?}"
    );
}

#[test]
fn eks_nodegroup_takes_required_properties_in_new() {
    let subnets: Expr<Vec<Expr<String>>> = vec!["subnet-a", "subnet-b"].into();
    let mut nodegroup = Nodegroup::new("frugal", "arn:aws:iam::123456789012:role/nodes", subnets);
    nodegroup.capacity_type = Some(NodegroupCapacityType::Spot.into());
    nodegroup.ami_type = Some(NodegroupAmiType::Al2023X86_64Standard.into());
    nodegroup.instance_types = Some(vec!["m7g.large", "m6g.large"].into());
    nodegroup.scaling_config = Some(ScalingConfig {
        min_size: Some(0.into()),
        max_size: Some(3.into()),
        desired_size: None,
    });
    nodegroup.labels = Some(BTreeMap::from([("pool".to_owned(), "spot".into())]));
    nodegroup.tags = Some(BTreeMap::from([("team".to_owned(), "ml".into())]));
    nodegroup.taints = Some(vec![Taint {
        effect: Some(TaintEffect::NoSchedule.into()),
        key: Some("spot".into()),
        value: Some("true".into()),
    }]);
    assert_eq!(
        to_json(&nodegroup),
        json!({
            "AmiType": "AL2023_x86_64_STANDARD",
            "CapacityType": "SPOT",
            "ClusterName": "frugal",
            "InstanceTypes": ["m7g.large", "m6g.large"],
            "Labels": {"pool": "spot"},
            "NodeRole": "arn:aws:iam::123456789012:role/nodes",
            "ScalingConfig": {"MaxSize": 3, "MinSize": 0},
            "Subnets": ["subnet-a", "subnet-b"],
            "Tags": {"team": "ml"},
            "Taints": [{"Effect": "NO_SCHEDULE", "Key": "spot", "Value": "true"}],
        })
    );
}

#[test]
fn list_properties_accept_intrinsics() {
    let nodegroup = Nodegroup::new("c", "r", fns::split(",", Expr::from("a,b")));
    assert_eq!(
        to_json(&nodegroup)["Subnets"],
        json!({"Fn::Split": [",", "a,b"]})
    );
}

#[test]
fn other_resource_types() {
    let mut log_group = LogGroup {
        retention_in_days: Some(14.into()),
        ..LogGroup::default()
    };
    log_group.log_group_class = Some(LogGroupClass::InfrequentAccess.into());
    assert_eq!(
        to_json(&log_group),
        json!({"LogGroupClass": "INFREQUENT_ACCESS", "RetentionInDays": 14})
    );

    let role = Role::new(json!({"Version": "2012-10-17", "Statement": []}));
    assert_eq!(
        to_json(&role),
        json!({"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}})
    );

    let schedule = Schedule::new(
        FlexibleTimeWindow::new(FlexibleTimeWindowMode::Off),
        "rate(1 day)",
        Target::new(
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            "arn:aws:iam::123456789012:role/r",
        ),
    );
    assert_eq!(
        to_json(&schedule)["FlexibleTimeWindow"],
        json!({"Mode": "OFF"})
    );
    assert_eq!(
        to_json(&schedule)["Target"]["RoleArn"],
        "arn:aws:iam::123456789012:role/r"
    );

    let mut data = BudgetData::new("COST", "MONTHLY");
    data.budget_limit = Some(Spend::new(10, "USD"));
    data.filter_expression = Some(Expression {
        not: Some(Box::new(Expression::default())),
        ..Expression::default()
    });
    assert_eq!(
        to_json(&Budget::new(data)),
        json!({"Budget": {
            "BudgetLimit": {"Amount": 10, "Unit": "USD"},
            "BudgetType": "COST",
            "FilterExpression": {"Not": {}},
            "TimeUnit": "MONTHLY",
        }})
    );
}

#[test]
fn registry_holds_the_schema_facts() {
    let bucket = schema_of("AWS::S3::Bucket").expect("bucket schema");
    assert!(std::ptr::eq(bucket, Bucket::SCHEMA));
    assert!(bucket.has_attribute("Arn"));
    assert!(bucket.has_attribute("RegionalDomainName"));
    assert!(bucket.create_only.contains(&"BucketName"));
    assert!(bucket.requires_replacement("BucketName"));
    assert!(!bucket.requires_replacement("Tags"));
    assert_eq!(bucket.tagging, TagFormat::List("Tags"));
    assert!(bucket.required.is_empty());

    let nodegroup = schema_of("AWS::EKS::Nodegroup").expect("nodegroup schema");
    assert_eq!(nodegroup.tagging, TagFormat::Map("Tags"));
    assert_eq!(nodegroup.required, ["ClusterName", "NodeRole", "Subnets"]);

    assert_eq!(
        schema_of("AWS::Budgets::Budget").expect("budget").tagging,
        TagFormat::None
    );
    assert_eq!(
        schema_of("AWS::IAM::Policy").expect("policy").tagging,
        TagFormat::None
    );
    assert_eq!(
        schema_of("AWS::Scheduler::Schedule")
            .expect("schedule")
            .tagging,
        TagFormat::None
    );
    assert_eq!(
        schema_of("AWS::SageMaker::EndpointConfig")
            .expect("endpoint config")
            .tagging,
        TagFormat::List("Tags")
    );
    assert!(schema_of("AWS::S3::Nope").is_none());

    assert_eq!(ALL_SCHEMAS.len(), 18);
    assert!(
        ALL_SCHEMAS
            .windows(2)
            .all(|w| w[0].type_name < w[1].type_name),
        "sorted for binary search"
    );
    for schema in ALL_SCHEMAS {
        assert!(std::ptr::eq(
            schema_of(schema.type_name).expect("found"),
            *schema
        ));
    }
}
