//! Budget: every validation, the cost filter derived from the app's tags, the three
//! default alerts, and the alert topic only AWS Budgets of this account may publish to.

mod common;

use common::*;
use frugal_constructs::{is_email, Alert, AlertKind, Budget, BudgetProps};
use frugal_core::Violations;
use serde_json::{json, Value as Json};

const PATH: &str = "Stack/MonthlyBudget";

fn props() -> BudgetProps {
    BudgetProps::new(100.0, vec!["team@example.com".into()])
}

fn build(change: impl FnOnce(&mut BudgetProps)) -> Result<Budget, Violations> {
    let (_app, mut stack) = app_and_stack();
    let mut p = props();
    change(&mut p);
    Budget::new(&mut stack.root(), "MonthlyBudget", p)
}

fn alert(kind: AlertKind, threshold_percent: f64) -> Alert {
    Alert {
        kind,
        threshold_percent,
    }
}

type Case = (
    &'static str,
    fn(&mut BudgetProps),
    &'static str,
    &'static str,
);

#[test]
fn each_invalid_input_is_rejected_naming_path_and_field() {
    let cases: &[Case] = &[
        (
            "filter on a tag the stack lacks",
            |p| p.filter_tag = "CostCenter".into(),
            "filter_tag",
            "the stack carries no `CostCenter` tag, so the budget would watch nothing",
        ),
        (
            "zero limit",
            |p| p.monthly_limit_usd = 0.0,
            "monthly_limit_usd",
            "must be a positive amount, not 0",
        ),
        (
            "negative limit",
            |p| p.monthly_limit_usd = -5.0,
            "monthly_limit_usd",
            "must be a positive amount, not -5",
        ),
        (
            "NaN limit",
            |p| p.monthly_limit_usd = f64::NAN,
            "monthly_limit_usd",
            "must be a positive amount, not NaN",
        ),
        (
            "infinite limit",
            |p| p.monthly_limit_usd = f64::INFINITY,
            "monthly_limit_usd",
            "must be a positive amount, not inf",
        ),
        (
            "no alerts",
            |p| p.alerts.clear(),
            "alerts",
            "a budget without alerts tells nobody",
        ),
        (
            "six alerts",
            |p| {
                p.alerts = [50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
                    .into_iter()
                    .map(|t| alert(AlertKind::Actual, t))
                    .collect()
            },
            "alerts",
            "AWS Budgets allows 5 notifications per budget, not 6",
        ),
        (
            "threshold 0",
            |p| p.alerts[0].threshold_percent = 0.0,
            "alerts[0].threshold_percent",
            "must be above 0 and at most 100, not 0",
        ),
        (
            "negative threshold",
            |p| p.alerts[1].threshold_percent = -10.0,
            "alerts[1].threshold_percent",
            "must be above 0 and at most 100, not -10",
        ),
        (
            "threshold above 100",
            |p| p.alerts[2].threshold_percent = 120.0,
            "alerts[2].threshold_percent",
            "must be above 0 and at most 100, not 120",
        ),
        (
            "NaN threshold",
            |p| p.alerts[0].threshold_percent = f64::NAN,
            "alerts[0].threshold_percent",
            "not NaN",
        ),
        (
            "the same alert twice",
            |p| p.alerts.push(alert(AlertKind::Actual, 80.0)),
            "alerts[3]",
            "the same alert twice",
        ),
        (
            "a new topic and an existing one",
            |p| p.existing_topic_arn = Some("arn:aws:sns:eu-west-1:123456789012:alerts".into()),
            "existing_topic_arn",
            "either create a topic (sns_topic) or use an existing one, not both",
        ),
        (
            "no subscriber at all",
            |p| {
                p.emails.clear();
                p.sns_topic = false;
            },
            "emails",
            "alerts need a subscriber: an e-mail address or the SNS topic",
        ),
        (
            "eleven e-mail subscribers",
            |p| p.emails = (0..11).map(|i| format!("u{i}@example.com")).collect(),
            "emails",
            "AWS Budgets allows 10 e-mail subscribers per notification, not 11",
        ),
        (
            "address without @",
            |p| p.emails = vec!["team.example.com".into()],
            "emails[0]",
            "`team.example.com` is not an e-mail address",
        ),
        (
            "address without a dotted domain",
            |p| p.emails.push("team@localhost".into()),
            "emails[1]",
            "`team@localhost` is not an e-mail address",
        ),
        (
            "address with a space",
            |p| p.emails.push("te am@example.com".into()),
            "emails[1]",
            "is not an e-mail address",
        ),
        (
            "address with two @",
            |p| p.emails.push("a@b@example.com".into()),
            "emails[1]",
            "is not an e-mail address",
        ),
    ];
    for (name, change, field, fragment) in cases {
        eprintln!("case: {name}");
        expect_violation(build(change), PATH, field, fragment);
    }
}

#[test]
fn valid_defaults_pass() {
    let b = build(|_| {}).expect("valid defaults");
    assert_eq!(b.cost_filter(), format!("user:Project${PROJECT}"));
    assert!(b.topic_arn().is_some());
    build(|p| p.emails.clear()).expect("the SNS topic alone is a subscriber");
    build(|p| p.sns_topic = false).expect("e-mail alone");
    build(|p| {
        p.emails.clear();
        p.sns_topic = false;
        p.existing_topic_arn = Some("arn:aws:sns:eu-west-1:123456789012:alerts".into());
    })
    .expect("an existing topic alone is a subscriber");
    build(|p| p.emails = (0..10).map(|i| format!("u{i}@example.com")).collect())
        .expect("10 addresses");
    build(|p| {
        p.alerts = [20.0, 40.0, 60.0, 80.0, 100.0]
            .into_iter()
            .map(|t| alert(AlertKind::Forecasted, t))
            .collect()
    })
    .expect("five alerts, threshold 100");
    build(|p| p.monthly_limit_usd = 0.01).expect("a cent");
}

#[test]
fn email_syntax() {
    for ok in [
        "a@b.co",
        "first.last+tag@example.com",
        "ops@sub.example-mail.org",
    ] {
        assert!(is_email(ok), "{ok}");
    }
    for bad in [
        "",
        "@example.com",
        "team@",
        "team@example",
        "team@.com",
        "team@example..com",
        "team@exa mple.com",
        "team@exa_mple.com",
        "a@b@example.com",
        &format!("{}@example.com", "l".repeat(65)),
        &format!("a@{}.com", "d".repeat(250)),
    ] {
        assert!(!is_email(bad), "{bad}");
    }
}

fn synth_budget(
    app: frugal_core::App,
    mut stack: frugal_core::Stack,
    p: BudgetProps,
) -> frugal_core::Assembly {
    Budget::new(&mut stack.root(), "MonthlyBudget", p).expect("valid");
    synth(app, stack)
}

#[test]
fn cost_filter_is_the_apps_own_tag_value() {
    let mut app = app();
    app.set_tag("Project", "RetailMLOps");
    let mut stack = app.new_stack(STACK);
    let budget = Budget::new(&mut stack.root(), "MonthlyBudget", props()).unwrap();
    assert_eq!(budget.cost_filter(), "user:Project$RetailMLOps");
    let assembly = synth(app, stack);
    let b = only(template(&assembly), "AWS::Budgets::Budget");
    assert_eq!(
        b["Properties"]["Budget"]["CostFilters"],
        json!({"TagKeyValue": ["user:Project$RetailMLOps"]})
    );
    // The filter names exactly the tag every resource of the stack carries.
    let topic = only(template(&assembly), "AWS::SNS::Topic");
    assert_eq!(tag(topic, "Project"), Some("RetailMLOps"));
}

#[test]
fn a_stack_tag_can_scope_the_budget() {
    let (app, mut stack) = app_and_stack();
    stack.set_tag("CostCenter", "ml-42");
    let mut p = props();
    p.filter_tag = "CostCenter".into();
    let budget = Budget::new(&mut stack.root(), "MonthlyBudget", p).unwrap();
    assert_eq!(budget.cost_filter(), "user:CostCenter$ml-42");
    synth(app, stack);
}

#[test]
fn three_default_notifications_to_email_and_topic() {
    let (app, stack) = app_and_stack();
    let assembly = synth_budget(app, stack, props());
    let t = template(&assembly);
    let b = &only(t, "AWS::Budgets::Budget")["Properties"];
    assert_eq!(b["Budget"]["BudgetType"], "COST");
    assert_eq!(b["Budget"]["TimeUnit"], "MONTHLY");
    assert_eq!(b["Budget"]["BudgetName"], "Stack-MonthlyBudget");
    assert_eq!(
        b["Budget"]["BudgetLimit"],
        json!({"Amount": {"Ref": "MonthlyBudgetLimitUsd"}, "Unit": "USD"})
    );
    let notifications = b["NotificationsWithSubscribers"].as_array().unwrap();
    let kinds: Vec<(&str, f64)> = notifications
        .iter()
        .map(|n| {
            assert_eq!(n["Notification"]["ComparisonOperator"], "GREATER_THAN");
            assert_eq!(n["Notification"]["ThresholdType"], "PERCENTAGE");
            (
                str_of(&n["Notification"]["NotificationType"], "type"),
                n["Notification"]["Threshold"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("ACTUAL", 80.0), ("ACTUAL", 100.0), ("FORECASTED", 100.0)]
    );
    for n in notifications {
        assert_eq!(
            n["Subscribers"],
            json!([
                {"Address": {"Ref": "MonthlyBudgetEmail1"}, "SubscriptionType": "EMAIL"},
                {"Address": {"Ref": "MonthlyBudgetTopic"}, "SubscriptionType": "SNS"},
            ])
        );
    }
    // Limit and addresses are parameters with the app's values recorded for deploy.
    let params = &t["Parameters"];
    assert_eq!(params["MonthlyBudgetLimitUsd"]["Type"], "Number");
    assert_eq!(params["MonthlyBudgetLimitUsd"]["MinValue"], 1);
    assert_eq!(params["MonthlyBudgetEmail1"]["Type"], "String");
    let recorded = &assembly.manifest.stacks[0].parameters;
    assert_eq!(
        recorded.get("MonthlyBudgetLimitUsd").map(String::as_str),
        Some("100")
    );
    assert_eq!(
        recorded.get("MonthlyBudgetEmail1").map(String::as_str),
        Some("team@example.com")
    );
    assert_eq!(
        t["Outputs"]["MonthlyBudgetTopicArn"]["Value"],
        json!({"Ref": "MonthlyBudgetTopic"})
    );
}

#[test]
fn only_aws_budgets_of_this_account_may_publish_to_the_topic() {
    let (app, stack) = app_and_stack();
    let assembly = synth_budget(app, stack, props());
    let t = template(&assembly);
    let policy = only(t, "AWS::SNS::TopicPolicy");
    assert_eq!(
        policy["Properties"]["Topics"],
        json!([{"Ref": "MonthlyBudgetTopic"}])
    );
    let stmts = statements(&policy["Properties"]["PolicyDocument"]);
    assert_eq!(stmts.len(), 1);
    let s = stmts[0];
    assert_eq!(s["Effect"], "Allow");
    assert_eq!(s["Principal"], json!({"Service": "budgets.amazonaws.com"}));
    assert_eq!(s["Action"], "SNS:Publish");
    assert_eq!(s["Resource"], json!({"Ref": "MonthlyBudgetTopic"}));
    assert_eq!(
        s["Condition"]["StringEquals"],
        json!({"aws:SourceAccount": {"Ref": "AWS::AccountId"}})
    );
    assert_eq!(
        s["Condition"]["ArnLike"],
        json!({"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:budgets::${AWS::AccountId}:*"}})
    );
}

#[test]
fn without_topic_only_email_subscribers_remain() {
    let (app, stack) = app_and_stack();
    let mut p = props();
    p.sns_topic = false;
    p.alerts = vec![alert(AlertKind::Forecasted, 90.0)];
    p.monthly_limit_usd = 12.5;
    let assembly = synth_budget(app, stack, p);
    let t = template(&assembly);
    assert!(resources_of_type(t, "AWS::SNS::Topic").is_empty());
    assert!(resources_of_type(t, "AWS::SNS::TopicPolicy").is_empty());
    assert!(t.get("Outputs").is_none());
    let b = &only(t, "AWS::Budgets::Budget")["Properties"];
    let n = b["NotificationsWithSubscribers"].as_array().unwrap();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0]["Notification"]["NotificationType"], "FORECASTED");
    assert_eq!(n[0]["Notification"]["Threshold"], 90);
    assert_eq!(
        n[0]["Subscribers"],
        json!([{"Address": {"Ref": "MonthlyBudgetEmail1"}, "SubscriptionType": "EMAIL"}])
    );
    assert_eq!(
        assembly.manifest.stacks[0]
            .parameters
            .get("MonthlyBudgetLimitUsd")
            .map(String::as_str),
        Some("12.5")
    );
}

#[test]
fn an_existing_topic_is_alerted_instead_of_a_new_one() {
    let (app, stack) = app_and_stack();
    let mut p = props();
    p.sns_topic = false;
    p.existing_topic_arn = Some("arn:aws:sns:eu-west-1:123456789012:alerts".into());
    let assembly = synth_budget(app, stack, p);
    let t = template(&assembly);
    assert!(resources_of_type(t, "AWS::SNS::Topic").is_empty());
    assert!(resources_of_type(t, "AWS::SNS::TopicPolicy").is_empty());
    assert!(t.get("Outputs").is_none());
    let b = &only(t, "AWS::Budgets::Budget")["Properties"];
    for n in b["NotificationsWithSubscribers"].as_array().unwrap() {
        assert_eq!(
            n["Subscribers"],
            json!([
                {"Address": {"Ref": "MonthlyBudgetEmail1"}, "SubscriptionType": "EMAIL"},
                {"Address": "arn:aws:sns:eu-west-1:123456789012:alerts", "SubscriptionType": "SNS"},
            ])
        );
    }
}

#[test]
fn the_budget_carries_the_apps_tags() {
    let (app, mut stack) = app_and_stack();
    stack.set_tag("Environment", "dev");
    let assembly = synth_budget(app, stack, props());
    let b = only(template(&assembly), "AWS::Budgets::Budget");
    let tags: Vec<(&str, &str)> = b["Properties"]["ResourceTags"]
        .as_array()
        .expect("ResourceTags")
        .iter()
        .map(|t| (str_of(&t["Key"], "key"), str_of(&t["Value"], "value")))
        .collect();
    assert_eq!(tags, [("Environment", "dev"), ("Project", PROJECT)]);
}

#[test]
fn snapshot_of_a_small_budget_stack() {
    let (app, stack) = app_and_stack();
    let assembly = synth_budget(app, stack, props());
    let t: &Json = template(&assembly);
    insta::assert_json_snapshot!("budget_stack", t);
}
