//! Scheduler: every validation, the schedules' meaning (scale to zero through the EKS
//! API, restore the declared size, delete and recreate endpoints, time zone on every
//! schedule), the least-privilege execution role, and cron properties.

mod common;

use common::*;
use frugal_constructs::{
    cron_expression, is_time_zone, parse_cron, EndpointTarget, OfficeHours, Scaling, Scheduler,
    SchedulerProps, SpotNodeGroup, SpotNodeGroupProps, TimeOfDay, Weekday,
};
use frugal_core::{Stack, Violations};
use proptest::prelude::*;
use serde_json::{json, Value as Json};

const PATH: &str = "Stack/OffHours";

fn nodes(stack: &mut Stack, scaling: Scaling) -> SpotNodeGroup {
    let props = SpotNodeGroupProps::new(
        "demo-cluster",
        "demo-nodes",
        subnets(stack),
        &["t3.medium", "t3a.medium"],
        scaling,
    );
    SpotNodeGroup::new(&mut stack.root(), "Nodes", props).expect("valid node group")
}

fn endpoint() -> EndpointTarget {
    EndpointTarget {
        endpoint_name: "Demo-Forecast".into(),
        endpoint_config_name: "demo-forecast-config".into(),
    }
}

fn hours() -> OfficeHours {
    OfficeHours::workdays("Europe/Berlin", TimeOfDay::new(7, 0), TimeOfDay::new(19, 0))
}

const SCALING: Scaling = Scaling {
    min: 1,
    desired: 3,
    max: 7,
};

fn build(change: impl FnOnce(&mut SchedulerProps)) -> Result<Scheduler, Violations> {
    let (_app, mut stack) = app_and_stack();
    let ng = nodes(&mut stack, SCALING);
    let mut p = SchedulerProps::new(hours(), vec![ng]);
    p.endpoints.push(endpoint());
    change(&mut p);
    Scheduler::new(&mut stack.root(), "OffHours", p)
}

type Case = (
    &'static str,
    fn(&mut SchedulerProps),
    &'static str,
    &'static str,
);

#[test]
fn each_invalid_input_is_rejected_naming_path_and_field() {
    let cases: &[Case] = &[
        (
            "unknown time zone",
            |p| p.hours.time_zone = "Mars/Olympus".into(),
            "hours.time_zone",
            "`Mars/Olympus` is not an IANA time zone name",
        ),
        (
            "abbreviation instead of a zone",
            |p| p.hours.time_zone = "CET ".into(),
            "hours.time_zone",
            "is not an IANA time zone name",
        ),
        (
            "lower-case zone",
            |p| p.hours.time_zone = "europe/berlin".into(),
            "hours.time_zone",
            "is not an IANA time zone name",
        ),
        (
            "empty zone",
            |p| p.hours.time_zone.clear(),
            "hours.time_zone",
            "is not an IANA time zone name",
        ),
        (
            "no day",
            |p| p.hours.days.clear(),
            "hours.days",
            "set at least one day",
        ),
        (
            "a day twice",
            |p| p.hours.days.push(Weekday::Mon),
            "hours.days",
            "a day is listed twice",
        ),
        (
            "start at 24:00",
            |p| p.hours.start = TimeOfDay::new(24, 0),
            "hours.start",
            "24:00 is not a time of day",
        ),
        (
            "start at 07:60",
            |p| p.hours.start = TimeOfDay::new(7, 60),
            "hours.start",
            "07:60 is not a time of day",
        ),
        (
            "stop at 25:30",
            |p| p.hours.stop = TimeOfDay::new(25, 30),
            "hours.stop",
            "25:30 is not a time of day",
        ),
        (
            "start equals stop",
            |p| p.hours.stop = TimeOfDay::new(7, 0),
            "hours.stop",
            "start and stop are the same time",
        ),
        (
            "186 retries",
            |p| p.retry_attempts = 186,
            "retry_attempts",
            "takes 0 to 185",
        ),
        (
            "event age 59 s",
            |p| p.max_event_age_seconds = 59,
            "max_event_age_seconds",
            "takes 60 to 86400 seconds",
        ),
        (
            "event age 86401 s",
            |p| p.max_event_age_seconds = 86_401,
            "max_event_age_seconds",
            "takes 60 to 86400 seconds",
        ),
        (
            "empty endpoint name",
            |p| p.endpoints[0].endpoint_name.clear(),
            "endpoints[0].endpoint_name",
            "1 to 63 letters, digits and -",
        ),
        (
            "endpoint name starting with -",
            |p| p.endpoints[0].endpoint_name = "-forecast".into(),
            "endpoints[0].endpoint_name",
            "1 to 63 letters, digits and -",
        ),
        (
            "endpoint name with _",
            |p| p.endpoints[0].endpoint_name = "demo_forecast".into(),
            "endpoints[0].endpoint_name",
            "1 to 63 letters, digits and -",
        ),
        (
            "endpoint name of 64 characters",
            |p| p.endpoints[0].endpoint_name = "e".repeat(64),
            "endpoints[0].endpoint_name",
            "1 to 63 letters, digits and -",
        ),
        (
            "endpoint config name with a space",
            |p| p.endpoints[0].endpoint_config_name = "demo config".into(),
            "endpoints[0].endpoint_config_name",
            "1 to 63 letters, digits and -",
        ),
        (
            "empty endpoint config name",
            |p| p.endpoints[0].endpoint_config_name.clear(),
            "endpoints[0].endpoint_config_name",
            "1 to 63 letters, digits and -",
        ),
    ];
    for (name, change, field, fragment) in cases {
        eprintln!("case: {name}");
        expect_violation(build(change), PATH, field, fragment);
    }
}

#[test]
fn valid_defaults_pass() {
    let s = build(|_| {}).expect("valid defaults");
    assert_eq!(s.hours(), &hours());
    assert!(s.dead_letter_queue_arn().is_some());
    build(|p| {
        p.hours.time_zone = "UTC".into();
        p.retry_attempts = 185;
        p.max_event_age_seconds = 86_400;
        p.endpoints[0].endpoint_name = "e".repeat(63);
    })
    .expect("edge values");
    build(|p| {
        p.hours.time_zone = "Asia/Ho_Chi_Minh".into();
        p.hours.days = vec![Weekday::Sat];
        p.hours.start = TimeOfDay::new(22, 0);
        p.hours.stop = TimeOfDay::new(6, 30);
        p.retry_attempts = 0;
        p.max_event_age_seconds = 60;
    })
    .expect("overnight on Saturday");
}

#[test]
fn time_zones_are_iana_names() {
    for tz in [
        "UTC",
        "Etc/UTC",
        "Europe/Berlin",
        "Asia/Ho_Chi_Minh",
        "America/New_York",
    ] {
        assert!(is_time_zone(tz), "{tz}");
    }
    for tz in [
        "",
        "utc",
        "GMT+7",
        "Mars/Olympus",
        "# IANA time zone names (zones and links) from tzdata 2025b, public domain.",
    ] {
        assert!(!is_time_zone(tz), "{tz}");
    }
}

struct Built {
    assembly: frugal_core::Assembly,
}

impl Built {
    fn t(&self) -> &Json {
        template(&self.assembly)
    }

    /// The schedule at `OffHours/<group>/<id>` (logical ids drop the `-`).
    fn schedule(&self, logical_id: &str) -> &Json {
        let s = resource(self.t(), logical_id);
        assert_eq!(s["Type"], "AWS::Scheduler::Schedule");
        &s["Properties"]
    }
}

fn synth_scheduler(change: impl FnOnce(&mut SchedulerProps)) -> Built {
    let (app, mut stack) = app_and_stack();
    let ng = nodes(&mut stack, SCALING);
    let mut p = SchedulerProps::new(hours(), vec![ng]);
    p.endpoints.push(endpoint());
    change(&mut p);
    Scheduler::new(&mut stack.root(), "OffHours", p).expect("valid");
    Built {
        assembly: synth(app, stack),
    }
}

fn input(schedule: &Json) -> Json {
    serde_json::from_str(str_of(&schedule["Target"]["Input"], "input")).expect("input is JSON")
}

#[test]
fn stop_scales_the_node_group_to_zero_through_the_eks_api() {
    let b = synth_scheduler(|_| {});
    let stop = b.schedule("OffHoursdemonodesStop");
    assert_eq!(
        stop["Target"]["Arn"],
        "arn:aws:scheduler:::aws-sdk:eks:updateNodegroupConfig"
    );
    assert_eq!(
        input(stop),
        json!({
            "clusterName": "demo-cluster",
            "nodegroupName": "demo-nodes",
            "scalingConfig": {"minSize": 0, "desiredSize": 0, "maxSize": 7},
        })
    );
    assert_eq!(stop["ScheduleExpression"], "cron(0 19 ? * MON-FRI *)");
}

#[test]
fn start_restores_exactly_the_declared_size() {
    let b = synth_scheduler(|_| {});
    let start = b.schedule("OffHoursdemonodesStart");
    assert_eq!(
        start["Target"]["Arn"],
        "arn:aws:scheduler:::aws-sdk:eks:updateNodegroupConfig"
    );
    let declared = &only(b.t(), "AWS::EKS::Nodegroup")["Properties"]["ScalingConfig"];
    let restored = &input(start)["scalingConfig"];
    assert_eq!(restored["minSize"], declared["MinSize"]);
    assert_eq!(restored["desiredSize"], declared["DesiredSize"]);
    assert_eq!(restored["maxSize"], declared["MaxSize"]);
    assert_eq!(
        *restored,
        json!({"minSize": 1, "desiredSize": 3, "maxSize": 7})
    );
    assert_eq!(start["ScheduleExpression"], "cron(0 7 ? * MON-FRI *)");
    assert_eq!(
        start["Description"],
        "Restore demo-nodes to min 1 / desired 3 / max 7"
    );
}

#[test]
fn endpoints_are_deleted_at_stop_and_recreated_at_start() {
    let b = synth_scheduler(|_| {});
    let stop = b.schedule("OffHoursDemoForecastStop");
    assert_eq!(
        stop["Target"]["Arn"],
        "arn:aws:scheduler:::aws-sdk:sagemaker:deleteEndpoint"
    );
    assert_eq!(input(stop), json!({"EndpointName": "Demo-Forecast"}));
    assert_eq!(stop["ScheduleExpression"], "cron(0 19 ? * MON-FRI *)");
    let start = b.schedule("OffHoursDemoForecastStart");
    assert_eq!(
        start["Target"]["Arn"],
        "arn:aws:scheduler:::aws-sdk:sagemaker:createEndpoint"
    );
    assert_eq!(
        input(start),
        json!({"EndpointName": "Demo-Forecast", "EndpointConfigName": "demo-forecast-config"})
    );
    assert_eq!(start["ScheduleExpression"], "cron(0 7 ? * MON-FRI *)");
}

#[test]
fn every_schedule_carries_the_time_zone_group_retries_and_dead_letters() {
    let b = synth_scheduler(|p| {
        p.retry_attempts = 5;
        p.max_event_age_seconds = 900;
    });
    let schedules = resources_of_type(b.t(), "AWS::Scheduler::Schedule");
    assert_eq!(schedules.len(), 4);
    for (id, s) in schedules {
        let p = &s["Properties"];
        assert_eq!(p["ScheduleExpressionTimezone"], "Europe/Berlin", "{id}");
        assert_eq!(p["GroupName"], json!({"Ref": "OffHoursGroup"}), "{id}");
        assert_eq!(p["State"], "ENABLED", "{id}");
        assert_eq!(p["FlexibleTimeWindow"], json!({"Mode": "OFF"}), "{id}");
        assert_eq!(
            p["Target"]["RoleArn"],
            json!({"Fn::GetAtt": ["OffHoursRole", "Arn"]}),
            "{id}"
        );
        assert_eq!(
            p["Target"]["RetryPolicy"],
            json!({"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 900}),
            "{id}"
        );
        assert_eq!(
            p["Target"]["DeadLetterConfig"],
            json!({"Arn": {"Fn::GetAtt": ["OffHoursDeadLetterQueue", "Arn"]}}),
            "{id}"
        );
        // Every expression is one the office hours round-trip through.
        let expr = str_of(&p["ScheduleExpression"], "expression");
        assert!(parse_cron(expr).is_some(), "{id}: {expr}");
    }
    let queue = only(b.t(), "AWS::SQS::Queue");
    assert_eq!(queue["Properties"]["SqsManagedSseEnabled"], true);
    assert_eq!(queue["Properties"]["MessageRetentionPeriod"], 1_209_600);
    assert_eq!(
        tag(only(b.t(), "AWS::Scheduler::ScheduleGroup"), "Project"),
        Some(PROJECT)
    );
}

#[test]
fn the_execution_role_allows_exactly_what_the_schedules_call() {
    let b = synth_scheduler(|_| {});
    let role = resource(b.t(), "OffHoursRole");
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let trust = statements(&role["Properties"]["AssumeRolePolicyDocument"]);
    assert_eq!(trust.len(), 1);
    assert_eq!(
        trust[0]["Principal"],
        json!({"Service": "scheduler.amazonaws.com"})
    );
    assert_eq!(
        trust[0]["Condition"],
        json!({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}})
    );
    assert!(role["Properties"].get("ManagedPolicyArns").is_none());
    let policies = role["Properties"]["Policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1);
    let allowed = statements(&policies[0]["PolicyDocument"]);
    let summary: Vec<(Vec<&str>, Vec<&Json>)> = allowed
        .iter()
        .map(|s| {
            assert_eq!(s["Effect"], "Allow");
            assert!(s.get("Condition").is_none());
            (
                one_or_many(&s["Action"])
                    .into_iter()
                    .map(|a| a.as_str().unwrap())
                    .collect(),
                one_or_many(&s["Resource"]),
            )
        })
        .collect();
    let sagemaker_arn = |kind: &str, name: &str| json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:{kind}/{name}")});
    assert_eq!(
        summary,
        vec![
            (
                vec!["eks:UpdateNodegroupConfig"],
                // Named from the cluster and group (EKS appends an id), not read with GetAtt.
                vec![
                    &json!({"Fn::Sub": "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:nodegroup/demo-cluster/demo-nodes/*"})
                ],
            ),
            (
                vec!["sagemaker:CreateEndpoint", "sagemaker:DeleteEndpoint"],
                vec![
                    // SageMaker ARNs spell names in lower case.
                    &sagemaker_arn("endpoint", "demo-forecast"),
                    &sagemaker_arn("endpoint-config", "demo-forecast-config"),
                ],
            ),
            (
                vec!["sqs:SendMessage"],
                vec![&json!({"Fn::GetAtt": ["OffHoursDeadLetterQueue", "Arn"]})],
            ),
        ]
    );
}

#[test]
fn without_dead_letter_queue_there_is_no_queue_and_no_sqs_permission() {
    let b = synth_scheduler(|p| {
        p.dead_letter_queue = false;
        p.endpoints.clear();
    });
    assert!(resources_of_type(b.t(), "AWS::SQS::Queue").is_empty());
    let role = resource(b.t(), "OffHoursRole");
    let allowed = statements(&role["Properties"]["Policies"][0]["PolicyDocument"]);
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["Action"], "eks:UpdateNodegroupConfig");
    for (_, s) in resources_of_type(b.t(), "AWS::Scheduler::Schedule") {
        assert!(s["Properties"]["Target"].get("DeadLetterConfig").is_none());
    }
    assert_eq!(
        resources_of_type(b.t(), "AWS::Scheduler::Schedule").len(),
        2
    );
}

#[test]
fn without_a_group_of_their_own_schedules_use_the_default_group() {
    let b = synth_scheduler(|p| p.schedule_group = false);
    assert!(resources_of_type(b.t(), "AWS::Scheduler::ScheduleGroup").is_empty());
    for (id, s) in resources_of_type(b.t(), "AWS::Scheduler::Schedule") {
        assert!(s["Properties"].get("GroupName").is_none(), "{id}");
    }
    let s = build(|p| p.schedule_group = false).unwrap();
    assert_eq!(
        serde_json::to_value(s.group_name()).unwrap(),
        json!("default")
    );
}

#[test]
fn overnight_hours_stop_on_the_next_day() {
    let b = synth_scheduler(|p| {
        p.hours = OfficeHours {
            time_zone: "UTC".into(),
            days: vec![Weekday::Fri, Weekday::Sat],
            start: TimeOfDay::new(22, 0),
            stop: TimeOfDay::new(6, 15),
        };
    });
    assert_eq!(
        b.schedule("OffHoursdemonodesStart")["ScheduleExpression"],
        "cron(0 22 ? * FRI,SAT *)"
    );
    assert_eq!(
        b.schedule("OffHoursdemonodesStop")["ScheduleExpression"],
        "cron(15 6 ? * SUN,SAT *)"
    );
}

#[test]
fn cron_expressions_and_running_hours() {
    use Weekday::*;
    let at = TimeOfDay::new(7, 5);
    assert_eq!(
        cron_expression(at, &Weekday::WORKDAYS),
        "cron(5 7 ? * MON-FRI *)"
    );
    assert_eq!(cron_expression(at, &Weekday::ALL), "cron(5 7 ? * * *)");
    assert_eq!(
        cron_expression(at, &[Fri, Mon, Wed]),
        "cron(5 7 ? * MON,WED,FRI *)"
    );
    assert_eq!(cron_expression(at, &[Mon, Tue]), "cron(5 7 ? * MON,TUE *)");
    assert_eq!(
        cron_expression(at, &[Sat, Sun, Mon]),
        "cron(5 7 ? * SUN,MON,SAT *)"
    );
    assert_eq!(
        cron_expression(at, &[Sun, Mon, Tue, Thu, Fri, Sat]),
        "cron(5 7 ? * SUN-TUE,THU-SAT *)"
    );
    for bad in [
        "rate(1 day)",
        "cron(0 7 * * MON-FRI *)",
        "cron(60 7 ? * MON *)",
        "cron(0 24 ? * MON *)",
        "cron(0 7 ? * FRI-MON *)",
        "cron(0 7 ? * MON,XYZ *)",
        "cron(0 7 ? * MON)",
        "cron(0 7 ? * MON * )",
    ] {
        assert_eq!(parse_cron(bad), None, "{bad}");
    }
    let h = hours();
    assert_eq!(h.minutes_per_day(), 12 * 60);
    assert_eq!(h.hours_per_week(), 60.0);
    assert!((h.hours_per_month() - 60.0 * 730.0 / 168.0).abs() < 1e-9);
    assert!(OfficeHours::from_expressions(
        "UTC",
        "cron(0 7 ? * MON-FRI *)",
        "cron(0 19 ? * MON-THU *)"
    )
    .is_none());
    assert!(
        OfficeHours::from_expressions("UTC", "cron(0 22 ? * FRI *)", "cron(0 6 ? * FRI *)")
            .is_none()
    );
}

#[test]
fn snapshot_of_a_small_scheduler_stack() {
    let b = synth_scheduler(|_| {});
    insta::assert_json_snapshot!("scheduler_stack", b.t());
}

// ---- property tests ----------------------------------------------------------------

fn time() -> impl Strategy<Value = TimeOfDay> {
    (0u8..24, 0u8..60).prop_map(|(h, m)| TimeOfDay::new(h, m))
}

/// Any non-empty list of days, possibly repeated and in any order.
fn some_days() -> impl Strategy<Value = Vec<Weekday>> {
    proptest::collection::vec(0usize..7, 1..12)
        .prop_map(|ix| ix.into_iter().map(|i| Weekday::ALL[i]).collect())
}

/// A non-empty set of days, Sunday first.
fn day_set() -> impl Strategy<Value = Vec<Weekday>> {
    (1u8..128).prop_map(|mask| {
        Weekday::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, d)| d)
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn cron_rendering_round_trips(at in time(), days in some_days()) {
        let mut expected = days.clone();
        expected.sort();
        expected.dedup();
        prop_assert_eq!(parse_cron(&cron_expression(at, &days)), Some((at, expected)));
    }

    #[test]
    fn office_hours_are_recovered_from_their_expressions(start in time(), stop in time(), days in day_set()) {
        prop_assume!(start != stop);
        let hours = OfficeHours { time_zone: "Europe/Berlin".into(), days, start, stop };
        let recovered = OfficeHours::from_expressions("Europe/Berlin", &hours.start_expression(), &hours.stop_expression());
        prop_assert_eq!(recovered, Some(hours.clone()));
        if stop < start {
            // Overnight: the stop runs the day after each start day.
            let (_, stop_days) = parse_cron(&hours.stop_expression()).unwrap();
            let mut next: Vec<Weekday> = hours.days.iter().map(|d| d.next()).collect();
            next.sort();
            prop_assert_eq!(stop_days, next);
        }
    }

    #[test]
    fn weekly_hours_stay_within_a_week(start in time(), stop in time(), days in day_set()) {
        let hours = OfficeHours { time_zone: "UTC".into(), days, start, stop };
        let week = hours.hours_per_week();
        prop_assert!((0.0..=168.0).contains(&week), "{}", week);
        prop_assert!(hours.minutes_per_day() >= 1 && hours.minutes_per_day() <= 24 * 60);
        prop_assert!(hours.hours_per_month() <= 730.0 + 1e-9);
    }

    #[test]
    fn any_valid_office_hours_build_a_scheduler(start in time(), stop in time(), days in day_set()) {
        prop_assume!(start != stop);
        let (app, mut stack) = app_and_stack();
        let ng = nodes(&mut stack, SCALING);
        let hours = OfficeHours { time_zone: "UTC".into(), days, start, stop };
        let built = Scheduler::new(&mut stack.root(), "OffHours", SchedulerProps::new(hours, vec![ng]));
        prop_assert!(built.is_ok(), "{}", built.unwrap_err());
        prop_assert!(try_synth(app, stack).is_ok());
    }
}

#[test]
fn cluster_name_from_a_parameter_is_spliced_into_the_input_with_sub() {
    let (app, mut stack) = app_and_stack();
    let cluster = stack.add_parameter(
        "ClusterName",
        frugal_core::Parameter::new(frugal_core::ParameterType::String, "EKS cluster"),
    );
    let mut props = SpotNodeGroupProps::new(
        cluster.as_string(),
        "demo-nodes",
        subnets(&mut stack),
        &["t3.medium", "t3a.medium"],
        SCALING,
    );
    props.cluster_name = cluster.as_string();
    let ng = SpotNodeGroup::new(&mut stack.root(), "Nodes", props).expect("valid");
    Scheduler::new(
        &mut stack.root(),
        "OffHours",
        SchedulerProps::new(hours(), vec![ng]),
    )
    .expect("valid");
    let asm = synth(app, stack);
    let t = template(&asm);
    assert_eq!(
        resource(t, "Nodes")["Properties"]["ClusterName"],
        json!({"Ref": "ClusterName"})
    );
    let stop = &resource(t, "OffHoursdemonodesStop")["Properties"]["Target"]["Input"];
    let sub = &stop["Fn::Sub"];
    let text: Json = serde_json::from_str(str_of(&sub[0], "Sub template")).expect("JSON input");
    assert_eq!(text["clusterName"], "${ClusterName}");
    assert_eq!(text["scalingConfig"]["desiredSize"], 0);
    assert_eq!(sub[1]["ClusterName"], json!({"Ref": "ClusterName"}));
}
