//! The benchmark app: one stack holding `copies` repetitions of the retail-forecast cost
//! unit, built with the public constructs as a user would. Each unit is exactly 12
//! resources: the data bucket (the plan's lifecycle rules and Intelligent-Tiering
//! archive), three log groups (7 days), the ECR repository with its lifecycle policy, an
//! SNS topic, a monthly budget filtered by the Project tag alerting at 80 %/100 % to an
//! e-mail and the topic, a node role with the three EKS worker policies, a Spot node
//! group, a scheduler role allowed `eks:UpdateNodegroupConfig` on that node group, and
//! the stop/start schedules.

#![warn(missing_docs)]

use frugal_cfn::sns::topic::Topic;
use frugal_constructs::{
    Alert, AlertKind, Budget, BudgetProps, KeepRule, LogGroupName, OfficeHours, PrefixTier,
    PrunedRepo, PrunedRepoProps, RetainedLogGroup, RetainedLogGroupProps, RetentionDays, Scaling,
    Scheduler, SchedulerProps, SpotNodeGroup, SpotNodeGroupProps, StorageClass, TieredBucket,
    TieredBucketProps, TimeOfDay, Transition,
};
use frugal_core::{App, Parameter, ParameterType, Scope, Violations};

/// The stack's name.
pub const STACK: &str = "FrugalBench";
/// Resources per copy.
pub const RESOURCES_PER_COPY: usize = 12;

/// The benchmark app with `copies` units in one stack.
pub fn app(copies: usize) -> Result<App, Violations> {
    let mut app = App::new("frugal-bench");
    app.set_tag("Project", "FrugalBench");
    app.require_tags(["Project"]);
    frugal_constructs::rules::add_rule_pack(&mut app);
    let mut stack = app.new_stack(STACK);
    // A benchmark measures synthesis at 12,000 resources; such a stack is never deployed,
    // so CloudFormation's 500-resource limit is lifted here and nowhere else.
    stack.waive_resource_limit("benchmark only: measures synthesis at scale, never deployed");
    let cluster = stack.add_parameter(
        "ClusterName",
        Parameter::new(ParameterType::String, "EKS cluster"),
    );
    let subnets = stack.add_parameter(
        "SubnetIds",
        Parameter::new(
            ParameterType::Aws("List<AWS::EC2::Subnet::Id>".into()),
            "Node subnets",
        ),
    );
    for copy in 1..=copies {
        let mut root = stack.root();
        let mut unit = root.child(&format!("Unit{copy}"));
        add_unit(
            &mut unit,
            copy,
            || cluster.as_string(),
            || subnets.as_list(),
        )?;
    }
    app.add_stack(stack);
    Ok(app)
}

fn add_unit(
    unit: &mut Scope<'_>,
    copy: usize,
    cluster: impl Fn() -> frugal_core::Expr<String>,
    subnets: impl Fn() -> frugal_core::Expr<Vec<frugal_core::Expr<String>>>,
) -> Result<(), Violations> {
    let cold = || {
        [
            Transition {
                class: StorageClass::GlacierIr,
                after_days: 90,
            },
            Transition {
                class: StorageClass::DeepArchive,
                after_days: 180,
            },
        ]
    };
    TieredBucket::new(
        unit,
        "DataBucket",
        TieredBucketProps::new(format!("frugal-bench-data-{copy}"))
            .tier(PrefixTier::intelligent_tiering("raw/", 30).with_archive(90, 180))
            .tier(PrefixTier::intelligent_tiering("silver/", 30))
            .tier(PrefixTier::transitions("artifacts/", cold()))
            .tier(PrefixTier::transitions("logs/", cold()))
            .expire_tagged("tmp/", "temporary", "true", 7),
    )?;
    for (id, what) in [
        ("ClusterLogs", "cluster"),
        ("ApiLogs", "api"),
        ("TrainingLogs", "training"),
    ] {
        RetainedLogGroup::new(
            unit,
            id,
            RetainedLogGroupProps::new(
                LogGroupName::custom(format!("/frugal-bench/{copy}/{what}")),
                RetentionDays::OneWeek,
            ),
        )?;
    }
    PrunedRepo::new(
        unit,
        "ImageRepo",
        PrunedRepoProps::new(
            format!("frugal-bench-{copy}"),
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
    )?;
    let topic = unit.add_resource("AlertTopic", Topic::default());
    let mut budget = BudgetProps::new(100.0, vec!["bench@example.com".into()]);
    budget.alerts = vec![
        Alert {
            kind: AlertKind::Actual,
            threshold_percent: 80.0,
        },
        Alert {
            kind: AlertKind::Actual,
            threshold_percent: 100.0,
        },
    ];
    budget.sns_topic = false;
    budget.existing_topic_arn = Some(topic.ref_());
    Budget::new(unit, "Budget", budget)?;
    let nodes = SpotNodeGroup::new(
        unit,
        "Nodes",
        SpotNodeGroupProps::new(
            cluster(),
            format!("frugal-bench-nodes-{copy}"),
            subnets(),
            &["t3.medium", "t3a.medium", "t2.medium"],
            Scaling {
                min: 2,
                desired: 2,
                max: 5,
            },
        ),
    )?;
    let mut scheduler = SchedulerProps::new(
        OfficeHours::workdays("UTC", TimeOfDay::new(7, 0), TimeOfDay::new(19, 0)),
        vec![nodes],
    );
    scheduler.dead_letter_queue = false;
    scheduler.schedule_group = false;
    Scheduler::new(unit, "OffHours", scheduler)?;
    Ok(())
}

/// Changes exactly one property of every resource of `template` (its first scalar, depth
/// first, in document order: strings get `-changed`, numbers `+ 1`, booleans flip), so
/// the diff benchmark has one property change per resource. Returns how many resources
/// changed.
pub fn change_every_resource(template: &mut serde_json::Value) -> usize {
    let Some(resources) = template
        .get_mut("Resources")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return 0;
    };
    resources
        .values_mut()
        .map(|r| change_first_scalar(&mut r["Properties"]))
        .filter(|changed| *changed)
        .count()
}

fn change_first_scalar(v: &mut serde_json::Value) -> bool {
    use serde_json::Value as Json;
    match v {
        Json::String(s) => {
            s.push_str("-changed");
            true
        }
        Json::Number(n) => {
            *v = Json::from(n.as_i64().map_or(1, |i| i + 1));
            true
        }
        Json::Bool(b) => {
            *b = !*b;
            true
        }
        Json::Array(items) => items.iter_mut().any(change_first_scalar),
        // A map whose first entry is an intrinsic (`Ref`, `Fn::…`) is left whole.
        Json::Object(map) => {
            !map.keys()
                .next()
                .is_some_and(|k| k == "Ref" || k.starts_with("Fn::"))
                && map.values_mut().any(change_first_scalar)
        }
        Json::Null => false,
    }
}
