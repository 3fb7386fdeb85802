//! The known defects of the user's plan (`shared/reference/README.md`) that concern the
//! cost constructs, one test each, rebuilt with the plan's own values: each is either
//! impossible to express or caught when the app is built or synthesized.
//! (`apps/retail-forecast/tests/plan_defects.rs` checks the same defects on the app.)

mod common;

use common::*;
use frugal_cfn::budgets::budget::{Budget as CfnBudget, BudgetData};
use frugal_constructs::rules::BUDGET_FILTER_RULE;
use frugal_constructs::{
    Budget, BudgetProps, EndpointTarget, KeepRule, LogGroupName, OfficeHours, PrefixTier,
    PrunedRepo, PrunedRepoProps, RetainedLogGroup, RetainedLogGroupProps, RetentionDays, Scaling,
    Scheduler, SchedulerProps, SpotNodeGroup, SpotNodeGroupProps, TieredBucket, TieredBucketProps,
    TimeOfDay,
};
use frugal_core::{App, Stack, Value};
use serde_json::{json, Value as Json};

/// An app tagged the way the plan tags its resources: `Project=RetailMLOps`.
fn plan_app() -> (App, Stack) {
    let mut app = app();
    app.set_tag("Project", "RetailMLOps");
    let stack = app.new_stack(STACK);
    (app, stack)
}

#[test]
fn budget_filters_on_a_tag_value_the_app_does_not_apply() {
    // The plan's budget, written by hand: caught at synth.
    let (app, mut stack) = plan_app();
    let mut data = BudgetData::new("COST", "MONTHLY");
    data.cost_filters = Some(Value::map([(
        "TagKeyValue",
        Value::List(vec!["user:Project$RetailForecastMLOps".into()]),
    )]));
    stack
        .root()
        .add_resource("PlanBudget", CfnBudget::new(data));
    let err = try_synth(app, stack).expect_err("the plan's filter watches nothing");
    assert_violation(
        &err,
        "Stack/PlanBudget",
        "Budget.CostFilters.TagKeyValue",
        &format!("[{BUDGET_FILTER_RULE}] filter \"user:Project$RetailForecastMLOps\" matches no tag the app applies"),
    );

    // The Budget construct takes no tag value at all: it reads the app's.
    let (app, mut stack) = plan_app();
    let budget = Budget::new(
        &mut stack.root(),
        "MonthlyBudget",
        BudgetProps::new(100.0, vec!["mlops-team@example.com".into()]),
    )
    .unwrap();
    assert_eq!(budget.cost_filter(), "user:Project$RetailMLOps");
    synth(app, stack);
}

#[test]
fn log_group_name_retyped_by_hand_disagrees_with_the_cluster() {
    // The name is derived from the cluster's, never typed: the plan's
    // `/aws/eks/mlops-retail-cluster/...` cannot come out of it.
    let cluster = "retail-forecast-cluster";
    let (app, mut stack) = plan_app();
    let logs = RetainedLogGroup::new(
        &mut stack.root(),
        "ClusterLogs",
        RetainedLogGroupProps::service_owned(
            LogGroupName::eks_cluster(cluster),
            RetentionDays::OneWeek,
        ),
    )
    .unwrap();
    assert_eq!(logs.name(), format!("/aws/eks/{cluster}/cluster"));
    assert!(!logs.name().contains("mlops-retail-cluster"));
    let assembly = synth(app, stack);
    let schedule = only(template(&assembly), "AWS::Scheduler::Schedule");
    let input: Json =
        serde_json::from_str(str_of(&schedule["Properties"]["Target"]["Input"], "input")).unwrap();
    assert_eq!(input["logGroupName"], format!("/aws/eks/{cluster}/cluster"));
    // The plan had 7 days in one place and 30 in another; one value is applied.
    assert_eq!(input["retentionInDays"], 7);
}

#[test]
fn ecr_rule_lists_three_tag_prefixes_in_one_rule() {
    // Written the plan's way, the prefix list is rejected…
    let (_app, mut stack) = plan_app();
    let err = PrunedRepo::new(
        &mut stack.root(),
        "ImageRepo",
        PrunedRepoProps::new(
            "retail-forecast",
            vec![
                KeepRule::Untagged { keep: 3 },
                KeepRule::TagPrefix {
                    prefix: "prod,stage,dev".into(),
                    keep: 3,
                },
                KeepRule::Any { keep: 10 },
            ],
        ),
    )
    .expect_err("three prefixes in one rule");
    assert_violation(
        &err,
        "Stack/ImageRepo",
        "rules[1].prefix",
        "is one prefix; list several prefixes as separate rules",
    );

    // …and a rule holds one prefix by type, so "keep 3 per environment" renders one
    // rule per prefix.
    let (_app, mut stack) = plan_app();
    let repo = PrunedRepo::new(
        &mut stack.root(),
        "ImageRepo",
        PrunedRepoProps::new(
            "retail-forecast",
            vec![
                KeepRule::Untagged { keep: 3 },
                KeepRule::TagPrefix {
                    prefix: "prod".into(),
                    keep: 3,
                },
                KeepRule::TagPrefix {
                    prefix: "stage".into(),
                    keep: 3,
                },
                KeepRule::TagPrefix {
                    prefix: "dev".into(),
                    keep: 3,
                },
                KeepRule::Any { keep: 10 },
            ],
        ),
    )
    .unwrap();
    let policy: Json = serde_json::from_str(repo.lifecycle_policy()).unwrap();
    let lists: Vec<&Json> = policy["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["selection"].get("tagPrefixList"))
        .collect();
    assert_eq!(
        lists,
        [&json!(["prod"]), &json!(["stage"]), &json!(["dev"])]
    );
}

#[test]
fn intelligent_tiering_archive_on_a_prefix_no_lifecycle_rule_moves_there() {
    // The plan archives `data/`, which no rule moves into Intelligent-Tiering.
    let (_app, mut stack) = plan_app();
    let err = TieredBucket::new(
        &mut stack.root(),
        "DataBucket",
        TieredBucketProps::new("retail-forecast-data-dev")
            .tier(PrefixTier::intelligent_tiering("raw/", 30))
            .tier(PrefixTier::intelligent_tiering("silver/", 30))
            .tier(
                PrefixTier::transitions("data/", [])
                    .expire_after(3650)
                    .with_archive(90, 180),
            ),
    )
    .expect_err("archive on a prefix that never reaches Intelligent-Tiering");
    assert_violation(
        &err,
        "Stack/DataBucket",
        "tiers[2].archive",
        "archive tiers only apply to objects in Intelligent-Tiering; this prefix never transitions there",
    );

    // The archive belongs to the tier, so its prefix is the lifecycle rule's.
    let (app, mut stack) = plan_app();
    TieredBucket::new(
        &mut stack.root(),
        "DataBucket",
        TieredBucketProps::new("retail-forecast-data-dev")
            .tier(PrefixTier::intelligent_tiering("raw/", 30).with_archive(90, 180))
            .tier(PrefixTier::intelligent_tiering("silver/", 30).with_archive(90, 180)),
    )
    .unwrap();
    let assembly = synth(app, stack);
    let bucket = only(template(&assembly), "AWS::S3::Bucket");
    let archived: Vec<&Json> = bucket["Properties"]["IntelligentTieringConfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["Prefix"])
        .collect();
    let moved: Vec<&Json> = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["Transitions"][0]["StorageClass"] == "INTELLIGENT_TIERING")
        .map(|r| &r["Prefix"])
        .collect();
    assert_eq!(archived, moved);
    assert_eq!(archived, [&json!("raw/"), &json!("silver/")]);
}

/// The plan's node group and off-hours schedule: 07:00–19:00 UTC.
fn plan_scheduler(scaling: Scaling) -> frugal_core::Assembly {
    let (app, mut stack) = plan_app();
    let subnets = subnets(&mut stack);
    let nodes = SpotNodeGroup::new(
        &mut stack.root(),
        "Nodes",
        SpotNodeGroupProps::new(
            "retail-forecast-cluster",
            "retail-forecast-nodes",
            subnets,
            &["t3.medium", "t3a.medium", "t2.medium"],
            scaling,
        ),
    )
    .unwrap();
    let mut props = SchedulerProps::new(
        OfficeHours::workdays("UTC", TimeOfDay::new(7, 0), TimeOfDay::new(19, 0)),
        vec![nodes],
    );
    props.endpoints.push(EndpointTarget {
        endpoint_name: "retail-forecast-dev".into(),
        endpoint_config_name: "retail-forecast-dev-config".into(),
    });
    Scheduler::new(&mut stack.root(), "OffHours", props).unwrap();
    synth(app, stack)
}

fn schedule_input(t: &Json, id: &str) -> Json {
    serde_json::from_str(str_of(
        &resource(t, id)["Properties"]["Target"]["Input"],
        "input",
    ))
    .unwrap()
}

#[test]
fn scheduler_resizes_the_auto_scaling_group_instead_of_the_eks_api() {
    let assembly = plan_scheduler(Scaling {
        min: 2,
        desired: 2,
        max: 5,
    });
    let t = template(&assembly);
    for id in [
        "OffHoursretailforecastnodesStop",
        "OffHoursretailforecastnodesStart",
    ] {
        assert_eq!(
            resource(t, id)["Properties"]["Target"]["Arn"],
            "arn:aws:scheduler:::aws-sdk:eks:updateNodegroupConfig"
        );
    }
    let text = assembly.stack(STACK).unwrap().text.to_lowercase();
    assert!(
        !text.contains("autoscaling"),
        "no Auto Scaling call or permission anywhere"
    );
}

#[test]
fn scheduler_restores_a_hard_coded_size() {
    for scaling in [
        Scaling {
            min: 2,
            desired: 2,
            max: 5,
        },
        Scaling {
            min: 1,
            desired: 4,
            max: 9,
        },
        Scaling {
            min: 0,
            desired: 1,
            max: 1,
        },
    ] {
        let assembly = plan_scheduler(scaling);
        let input = schedule_input(template(&assembly), "OffHoursretailforecastnodesStart");
        assert_eq!(
            input["scalingConfig"],
            json!({"minSize": scaling.min, "desiredSize": scaling.desired, "maxSize": scaling.max})
        );
    }
}

#[test]
fn scheduler_deletes_the_endpoint_and_never_recreates_it() {
    let assembly = plan_scheduler(Scaling {
        min: 2,
        desired: 2,
        max: 5,
    });
    let t = template(&assembly);
    let stop = resource(t, "OffHoursretailforecastdevStop");
    let start = resource(t, "OffHoursretailforecastdevStart");
    assert_eq!(
        stop["Properties"]["Target"]["Arn"],
        "arn:aws:scheduler:::aws-sdk:sagemaker:deleteEndpoint"
    );
    assert_eq!(
        start["Properties"]["Target"]["Arn"],
        "arn:aws:scheduler:::aws-sdk:sagemaker:createEndpoint"
    );
    assert_eq!(
        schedule_input(t, "OffHoursretailforecastdevStart"),
        json!({"EndpointName": "retail-forecast-dev", "EndpointConfigName": "retail-forecast-dev-config"})
    );
}

#[test]
fn scheduler_cron_runs_every_day_not_on_workdays() {
    let assembly = plan_scheduler(Scaling {
        min: 2,
        desired: 2,
        max: 5,
    });
    let schedules = resources_of_type(template(&assembly), "AWS::Scheduler::Schedule");
    assert_eq!(schedules.len(), 4);
    for (id, s) in schedules {
        let expr = str_of(&s["Properties"]["ScheduleExpression"], "expression");
        assert!(expr.ends_with(" ? * MON-FRI *)"), "{id}: {expr}");
        assert_eq!(s["Properties"]["ScheduleExpressionTimezone"], "UTC", "{id}");
    }
}

#[test]
fn scheduler_iam_role_is_never_defined() {
    let assembly = plan_scheduler(Scaling {
        min: 2,
        desired: 2,
        max: 5,
    });
    let t = template(&assembly);
    for (id, s) in resources_of_type(t, "AWS::Scheduler::Schedule") {
        let role_id = str_of(
            &s["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0],
            "role",
        );
        let role = resource(t, role_id);
        assert_eq!(role["Type"], "AWS::IAM::Role", "{id}");
        assert_eq!(
            role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
            "scheduler.amazonaws.com"
        );
    }
}

#[test]
fn scheduler_runs_on_an_unsupported_lambda_runtime() {
    // Universal targets call the APIs themselves: there is no function, no runtime.
    let assembly = plan_scheduler(Scaling {
        min: 2,
        desired: 2,
        max: 5,
    });
    let t = template(&assembly);
    assert!(resources_of_type(t, "AWS::Lambda::Function").is_empty());
    assert!(!assembly.stack(STACK).unwrap().text.contains("python"));
}

#[test]
fn node_labels_are_what_the_pod_selector_reads() {
    // Labels are declared once on the node group and read back from it, so a
    // PodDisruptionBudget built from `labels()` selects what the nodes carry.
    let (app, mut stack) = plan_app();
    let subnets = subnets(&mut stack);
    let mut props = SpotNodeGroupProps::new(
        "retail-forecast-cluster",
        "retail-forecast-nodes",
        subnets,
        &["t3.medium", "t3a.medium", "t2.medium"],
        Scaling {
            min: 2,
            desired: 2,
            max: 5,
        },
    );
    props
        .labels
        .insert("app".into(), "retail-forecast-api".into());
    let nodes = SpotNodeGroup::new(&mut stack.root(), "Nodes", props).unwrap();
    let assembly = synth(app, stack);
    let labels = &only(template(&assembly), "AWS::EKS::Nodegroup")["Properties"]["Labels"];
    let declared: serde_json::Map<String, Json> = nodes
        .labels()
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    assert_eq!(*labels, Json::Object(declared));
}

#[test]
fn node_group_spot_with_one_instance_type_or_mixed_shapes() {
    // The plan's types are interchangeable; a single type or a mixed shape is caught.
    let (_app, mut stack) = plan_app();
    let subnets = subnets(&mut stack);
    let err = SpotNodeGroup::new(
        &mut stack.root(),
        "Nodes",
        SpotNodeGroupProps::new(
            "retail-forecast-cluster",
            "retail-forecast-nodes",
            subnets,
            &["t3.medium", "m5.large"],
            Scaling {
                min: 2,
                desired: 2,
                max: 5,
            },
        ),
    )
    .expect_err("m5.large has twice the memory");
    assert_violation(
        &err,
        "Stack/Nodes",
        "instance_types[1]",
        "is not interchangeable with `t3.medium`",
    );
}
