//! RetainedLogGroup: accepted retentions only, name and class checks, stack-owned groups
//! kept with their retention, service-owned groups get a retention schedule instead.

mod common;

use common::*;
use frugal_constructs::{
    LogClass, LogGroupName, Ownership, RetainedLogGroup, RetainedLogGroupProps, RetentionDays,
};
use frugal_core::Violations;
use serde_json::{json, Value as Json};

const PATH: &str = "Stack/ApiLogs";

fn build(props: RetainedLogGroupProps) -> Result<RetainedLogGroup, Violations> {
    let (_app, mut stack) = app_and_stack();
    RetainedLogGroup::new(&mut stack.root(), "ApiLogs", props)
}

fn custom(name: &str) -> RetainedLogGroupProps {
    RetainedLogGroupProps::new(LogGroupName::custom(name), RetentionDays::OneWeek)
}

#[test]
fn each_invalid_input_is_rejected_naming_path_and_field() {
    let cases: Vec<(&str, RetainedLogGroupProps, &str, &str)> = vec![
        (
            "empty name",
            custom(""),
            "name",
            "must be 1 to 512 characters long",
        ),
        (
            "name of 513 characters",
            custom(&format!("/{}", "a".repeat(512))),
            "name",
            "must be 1 to 512 characters long",
        ),
        (
            "name with a space",
            custom("/demo/api logs"),
            "name",
            "contains ` `; log group names take letters, digits and . _ - / #",
        ),
        (
            "name with a colon",
            custom("/demo:api"),
            "name",
            "contains `:`",
        ),
        (
            "name with a star",
            custom("/demo/*"),
            "name",
            "contains `*`",
        ),
        (
            "service-owned group in Infrequent Access",
            RetainedLogGroupProps {
                class: LogClass::InfrequentAccess,
                ..RetainedLogGroupProps::service_owned(
                    LogGroupName::sagemaker_training_jobs(),
                    RetentionDays::OneWeek,
                )
            },
            "class",
            "the class of a service-owned log group is chosen when the service creates it",
        ),
    ];
    for (name, props, field, fragment) in cases {
        eprintln!("case: {name}");
        expect_violation(build(props), PATH, field, fragment);
    }
}

#[test]
fn valid_defaults_pass() {
    let g = build(custom("/demo/api")).expect("valid");
    assert_eq!(g.name(), "/demo/api");
    assert_eq!(g.retention(), RetentionDays::OneWeek);
    assert!(g.resource().is_some());
    let g = build(custom(&format!("/{}", "a".repeat(511)))).expect("512 characters");
    assert_eq!(g.name().len(), 512);
    let g = build(custom("/aws/lambda/demo_fn-1.2#x")).expect("every allowed character");
    assert!(g.resource().is_some());
    let svc = build(RetainedLogGroupProps::service_owned(
        LogGroupName::eks_cluster("demo"),
        RetentionDays::OneMonth,
    ))
    .expect("service-owned");
    assert!(svc.resource().is_none());
    assert_eq!(svc.name(), "/aws/eks/demo/cluster");
}

#[test]
fn retention_is_only_from_the_accepted_set() {
    let accepted = [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
        2922, 3288, 3653,
    ];
    let days: Vec<u32> = RetentionDays::ALL.iter().map(|r| r.days()).collect();
    assert_eq!(days, accepted);
    for r in RetentionDays::ALL {
        assert_eq!(RetentionDays::from_days(r.days()), Some(r));
        assert_eq!(RetentionDays::parse(r.days()), Ok(r));
    }
    for bad in [0, 2, 4, 6, 8, 10, 31, 364, 366, 730, 3650, 4000] {
        assert_eq!(RetentionDays::from_days(bad), None, "{bad}");
        let err = RetentionDays::parse(bad).expect_err("not accepted");
        assert!(
            err.starts_with(&format!(
                "{bad} days is not a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30"
            )),
            "{err}"
        );
        assert!(err.ends_with("3288, 3653)"), "{err}");
    }
}

#[test]
fn names_are_derived_from_what_they_log() {
    assert_eq!(
        LogGroupName::eks_cluster("retail").as_str(),
        "/aws/eks/retail/cluster"
    );
    assert_eq!(
        LogGroupName::sagemaker_training_jobs().as_str(),
        "/aws/sagemaker/TrainingJobs"
    );
    assert_eq!(
        LogGroupName::container_insights_application("retail").as_str(),
        "/aws/containerinsights/retail/application"
    );
    assert_eq!(LogGroupName::custom("/x").as_str(), "/x");
}

fn synth_logs(props: RetainedLogGroupProps) -> frugal_core::Assembly {
    let (app, mut stack) = app_and_stack();
    RetainedLogGroup::new(&mut stack.root(), "ApiLogs", props).expect("valid");
    synth(app, stack)
}

#[test]
fn stack_owned_group_has_its_retention_and_is_retained() {
    let assembly = synth_logs(custom("/demo/api"));
    let t = template(&assembly);
    let group = only(t, "AWS::Logs::LogGroup");
    assert_eq!(group["Properties"]["LogGroupName"], "/demo/api");
    assert_eq!(group["Properties"]["RetentionInDays"], 7);
    assert_eq!(group["Properties"]["LogGroupClass"], "STANDARD");
    assert_eq!(group["DeletionPolicy"], "Retain");
    assert_eq!(group["UpdateReplacePolicy"], "Retain");
    assert_eq!(tag(group, "Project"), Some(PROJECT));
    assert!(resources_of_type(t, "AWS::Scheduler::Schedule").is_empty());
    assert_eq!(group["Metadata"]["frugal:path"], "Stack/ApiLogs/Resource");
}

#[test]
fn infrequent_access_class_is_rendered() {
    let mut p =
        RetainedLogGroupProps::new(LogGroupName::custom("/demo/audit"), RetentionDays::OneYear);
    p.class = LogClass::InfrequentAccess;
    let assembly = synth_logs(p);
    let group = only(template(&assembly), "AWS::Logs::LogGroup");
    assert_eq!(group["Properties"]["LogGroupClass"], "INFREQUENT_ACCESS");
    assert_eq!(group["Properties"]["RetentionInDays"], 365);
}

#[test]
fn service_owned_group_gets_a_retention_schedule_and_no_log_group() {
    let props = RetainedLogGroupProps::service_owned(
        LogGroupName::eks_cluster("demo-cluster"),
        RetentionDays::TwoWeeks,
    );
    assert_eq!(props.ownership, Ownership::Service);
    let assembly = synth_logs(props);
    let t = template(&assembly);
    assert!(resources_of_type(t, "AWS::Logs::LogGroup").is_empty());

    let schedule = resource(t, "ApiLogsRetentionSchedule");
    assert_eq!(schedule["Type"], "AWS::Scheduler::Schedule");
    let p = &schedule["Properties"];
    assert_eq!(p["ScheduleExpression"], "rate(1 day)");
    assert_eq!(p["FlexibleTimeWindow"]["Mode"], "OFF");
    assert_eq!(
        p["Target"]["Arn"],
        "arn:aws:scheduler:::aws-sdk:cloudwatchlogs:putRetentionPolicy"
    );
    let input: Json = serde_json::from_str(str_of(&p["Target"]["Input"], "input")).unwrap();
    assert_eq!(
        input,
        json!({"logGroupName": "/aws/eks/demo-cluster/cluster", "retentionInDays": 14})
    );
    assert_eq!(
        p["Target"]["RoleArn"],
        json!({"Fn::GetAtt": ["ApiLogsRetentionRole", "Arn"]})
    );

    // The role may only set the retention of that one group.
    let role = resource(t, "ApiLogsRetentionRole");
    let trust = statements(&role["Properties"]["AssumeRolePolicyDocument"]);
    assert_eq!(trust.len(), 1);
    assert_eq!(trust[0]["Principal"]["Service"], "scheduler.amazonaws.com");
    assert_eq!(
        trust[0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        json!({"Ref": "AWS::AccountId"})
    );
    let policies = role["Properties"]["Policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1);
    let allowed = statements(&policies[0]["PolicyDocument"]);
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["Effect"], "Allow");
    assert_eq!(allowed[0]["Action"], "logs:PutRetentionPolicy");
    assert_eq!(
        allowed[0]["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/eks/demo-cluster/cluster"})
    );
    assert!(role["Properties"].get("ManagedPolicyArns").is_none());
}

#[test]
fn snapshot_of_a_small_log_group_stack() {
    let (app, mut stack) = app_and_stack();
    RetainedLogGroup::new(&mut stack.root(), "ApiLogs", custom("/demo/api")).unwrap();
    RetainedLogGroup::new(
        &mut stack.root(),
        "TrainingLogs",
        RetainedLogGroupProps::service_owned(
            LogGroupName::sagemaker_training_jobs(),
            RetentionDays::OneMonth,
        ),
    )
    .unwrap();
    let assembly = synth(app, stack);
    insta::assert_json_snapshot!("log_group_stack", template(&assembly));
}
