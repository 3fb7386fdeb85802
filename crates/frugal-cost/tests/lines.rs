//! Line items against values computed by hand from the price catalog
//! (crates/frugal-cost/data/prices.toml, us-east-1), on small hand-written templates.

use frugal_core::Manifest;
use frugal_cost::{Catalog, Component, Controls, Estimator, Inventory, Lever, Report, Usage};
use serde_json::{json, Value as Json};

/// A one-stack app tagged `Environment=dev` with `resources`.
fn inventory(resources: Json) -> Inventory {
    let manifest: Manifest = serde_json::from_value(json!({
        "version": 1, "app": "t", "tags": {},
        "stacks": [{"name": "T-dev", "template": "T-dev.template.json", "tags": {"Environment": "dev"},
                    "parameters": {}, "dependencies": [], "resource_count": 1, "sha256": ""}],
        "files": []
    }))
    .expect("manifest");
    let template = json!({"Resources": resources});
    Inventory::from_templates(&manifest, "dev", |_| Some(&template)).expect("inventory")
}

fn report(resources: Json, usage: &str) -> Report {
    let usage = Usage::from_toml(usage, "test.toml").expect("usage");
    let catalog = Catalog::builtin().expect("catalog");
    let e = Estimator::from_inventory(inventory(resources), &usage, "test.toml", &catalog, None)
        .expect("estimator");
    Report::build(&e)
}

fn close(actual: Option<f64>, expected: f64) {
    let a = actual.expect("a known amount");
    assert!((a - expected).abs() < 1e-9, "{a} != {expected}");
}

fn node_group(capacity: &str) -> Json {
    json!({"Type": "AWS::EKS::Nodegroup", "Properties": {
        "ClusterName": "c", "NodegroupName": "ng", "CapacityType": capacity,
        "InstanceTypes": ["t3.medium", "t3a.medium"], "DiskSize": 20,
        "ScalingConfig": {"MinSize": 2, "DesiredSize": 2, "MaxSize": 5}
    }})
}

fn schedule(id: &str, expression: &str, action: &str, input: Json) -> (String, Json) {
    (
        id.to_owned(),
        json!({"Type": "AWS::Scheduler::Schedule", "Properties": {
            "ScheduleExpression": expression, "ScheduleExpressionTimezone": "Europe/Berlin",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": format!("arn:aws:scheduler:::aws-sdk:{action}"), "RoleArn": "r",
                       "Input": input.to_string()}
        }}),
    )
}

#[test]
fn two_t3_medium_on_demand_for_730_hours() {
    let r = report(json!({"Nodes": node_group("ON_DEMAND")}), "[envs.dev]\n");
    let line = r
        .line(Component::EksNodeGroup, "ng")
        .expect("node group line");
    // 2 nodes × 730 h × 0.0416 $/h = 60.736, before and after (nothing to switch off).
    close(line.before_usd(), 60.736);
    close(line.after_usd(), 60.736);
    assert!(line.levers.is_empty());
    // Root volumes: 2 × 20 GB gp2 × 0.10 $/GB-month = 4.00.
    close(
        r.line(Component::EksNodeVolumes, "ng")
            .expect("volumes")
            .after_usd(),
        4.0,
    );
    // The cluster they join: 730 h × 0.10 $/h = 73.00, although no stack creates it.
    close(
        r.line(Component::EksControlPlane, "c")
            .expect("control plane")
            .after_usd(),
        73.0,
    );
}

#[test]
fn spot_and_office_hours_come_from_the_template() {
    let mut resources = serde_json::Map::new();
    resources.insert("Nodes".into(), node_group("SPOT"));
    let ng = |desired: u32| json!({"clusterName": "c", "nodegroupName": "ng", "scalingConfig": {"desiredSize": desired}});
    for (id, s) in [
        schedule(
            "Start",
            "cron(30 8 ? * MON-FRI *)",
            "eks:updateNodegroupConfig",
            ng(2),
        ),
        schedule(
            "Stop",
            "cron(30 18 ? * MON-FRI *)",
            "eks:updateNodegroupConfig",
            ng(0),
        ),
        schedule(
            "EpStart",
            "cron(30 8 ? * MON-FRI *)",
            "sagemaker:createEndpoint",
            json!({"EndpointName": "ep"}),
        ),
        schedule(
            "EpStop",
            "cron(30 18 ? * MON-FRI *)",
            "sagemaker:deleteEndpoint",
            json!({"EndpointName": "ep"}),
        ),
    ] {
        resources.insert(id, s);
    }
    let usage =
        "[envs.dev]\n[[envs.dev.endpoints]]\nname = \"ep\"\ninstance_type = \"ml.m5.large\"\n";
    let r = report(Json::Object(resources), usage);

    // 08:30-18:30 Berlin on 5 days = 50 h a week; × 730/168 = 217.2619… h a month.
    let hours = 50.0 * 730.0 / 168.0;
    let line = r.line(Component::EksNodeGroup, "ng").expect("node group");
    close(line.before_usd(), 2.0 * 730.0 * 0.0416);
    // Spot: on-demand × (1 − 0.70).
    close(line.after_usd(), 2.0 * hours * 0.0416 * 0.30);
    assert_eq!(line.levers, vec![Lever::Spot, Lever::OffHours]);
    // Volumes exist while nodes do: 2 × 20 GB × 0.10 × hours/730.
    close(
        r.line(Component::EksNodeVolumes, "ng")
            .expect("volumes")
            .after_usd(),
        4.0 * hours / 730.0,
    );
    // The endpoint: 1 × ml.m5.large × 0.115 $/h, 730 h before, the schedule's hours after.
    let ep = r
        .line(Component::SageMakerEndpoint, "ep")
        .expect("endpoint");
    close(ep.before_usd(), 730.0 * 0.115);
    close(ep.after_usd(), hours * 0.115);
    // 4 schedules × 5 a week × 730/168 = 86.9 invocations, inside the 14 M free.
    close(
        r.line(Component::Scheduler, "schedule")
            .expect("scheduler")
            .after_usd(),
        0.0,
    );
}

#[test]
fn one_hundred_gb_in_standard() {
    let bucket = json!({"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "b"}});
    let usage = "[[envs.dev.s3]]\nbucket = \"b\"\nprefix = \"data/\"\ngb = 100\nobjects = 1000\nuniform_age_days = 365\n";
    let r = report(json!({"Bucket": bucket}), usage);
    // 100 GB × 0.023 $/GB-month = 2.30, before and after: no lifecycle rule.
    let line = r.line(Component::S3, "b · STANDARD").expect("standard");
    close(line.before_usd(), 2.30);
    close(line.after_usd(), 2.30);
    assert_eq!(
        r.lines
            .iter()
            .filter(|l| l.component == Component::S3)
            .count(),
        1
    );
}

#[test]
fn lifecycle_moves_gb_and_bills_transitions_and_monitoring() {
    let bucket = json!({"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "b",
        "LifecycleConfiguration": {"Rules": [{"Id": "it", "Prefix": "raw/", "Status": "Enabled",
            "Transitions": [{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30}]}]}}});
    // 365 GB, 36,500 objects, written evenly over 365 days: 1 GB and 100 objects per day.
    let usage = "[[envs.dev.s3]]\nbucket = \"b\"\nprefix = \"raw/\"\ngb = 365\nobjects = 36500\nuniform_age_days = 365\n";
    let r = report(json!({"Bucket": bucket}), usage);
    let after = |resource: &str| r.line(Component::S3, resource).and_then(|l| l.after_usd());
    // Standard: 0-30 d = 30 GB × 0.023 = 0.69 (before: 365 × 0.023 = 8.395).
    close(after("b · STANDARD"), 30.0 * 0.023);
    close(
        r.line(Component::S3, "b · STANDARD")
            .and_then(|l| l.before_usd()),
        365.0 * 0.023,
    );
    // IT Frequent 30-60 d: 30 GB × 0.023; Infrequent 60-120 d: 60 GB × 0.0125;
    // Archive Instant from 120 d: 245 GB × 0.004.
    close(after("b · INTELLIGENT_TIERING Frequent"), 30.0 * 0.023);
    close(after("b · INTELLIGENT_TIERING Infrequent"), 60.0 * 0.0125);
    close(
        after("b · INTELLIGENT_TIERING Archive Instant"),
        245.0 * 0.004,
    );
    // 100 objects a day cross 30 days: 100 × 730/24 a month × 0.01 $/1000.
    close(
        after("b · transitions to INTELLIGENT_TIERING"),
        100.0 * 730.0 / 24.0 / 1000.0 * 0.01,
    );
    // Monitoring: 33,500 objects older than 30 d × 0.0025 $/1000.
    close(
        after("b · Intelligent-Tiering monitoring"),
        33_500.0 / 1000.0 * 0.0025,
    );
}

#[test]
fn five_gb_of_logs_ingested_and_stored() {
    let group = json!({"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/app", "RetentionInDays": 30}});
    let usage =
        "[[envs.dev.logs]]\ngroup = \"/app\"\ningested_gb_per_month = 5\nhistory_days = 365\n";
    let r = report(json!({"Logs": group}), usage);
    // Ingestion: 5 GB × 0.50 $/GB = 2.50, before and after: retention does not change it.
    let ingestion = r
        .line(Component::CloudWatchLogs, "/app · ingestion")
        .expect("ingestion");
    close(ingestion.before_usd(), 2.50);
    close(ingestion.after_usd(), 2.50);
    assert!(ingestion.levers.is_empty());
    // Storage before: never expiring, a year of history = 5 GB × 365 d / (730/24 d) = 60 GB
    // × 0.03 = 1.80. After: 30 days kept = 5 × 30 / 30.4167 = 4.9315 GB × 0.03.
    let storage = r
        .line(Component::CloudWatchLogs, "/app · storage")
        .expect("storage");
    close(storage.before_usd(), 60.0 * 0.03);
    close(storage.after_usd(), 5.0 * 30.0 * 24.0 / 730.0 * 0.03);
    assert_eq!(storage.levers, vec![Lever::LogRetention]);
}

#[test]
fn ecr_pruning_and_budgets() {
    let policy = json!({"rules": [
        {"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 3},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10},
         "action": {"type": "expire"}}]});
    let resources = json!({
        "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "r",
                 "LifecyclePolicy": {"LifecyclePolicyText": policy.to_string()}}},
        "Budget": {"Type": "AWS::Budgets::Budget", "Properties": {"Budget": {"BudgetName": "monthly"}}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Odd": {"Type": "AWS::EC2::NatGateway", "Properties": {}}
    });
    let usage = "[[envs.dev.ecr]]\nrepository = \"r\"\nimage_gb = 0.5\nuntagged = 30\ntagged = { \"v\" = 20 }\n";
    let r = report(resources, usage);
    // Before: 50 images × 0.5 GB × 0.10 = 2.50. After: 3 untagged + 10 others = 13 × 0.5 × 0.10.
    let repo = r.line(Component::Ecr, "r").expect("repository");
    close(repo.before_usd(), 2.50);
    close(repo.after_usd(), 13.0 * 0.5 * 0.10);
    // A budget without actions is free.
    close(
        r.line(Component::Budgets, "monthly")
            .expect("budget")
            .after_usd(),
        0.0,
    );
    // Unpriced resources are listed, each with its reason; an unknown type says so.
    let odd = r
        .unpriced
        .iter()
        .find(|u| u.resource_type == "AWS::EC2::NatGateway")
        .expect("listed");
    assert!(odd.reason.contains("not modeled"));
    assert_eq!(r.unpriced.len(), 3);
}

#[test]
fn unknown_prices_stay_unknown_and_totals_exclude_them() {
    let resources = json!({
        "Nodes": node_group("SPOT"),
        "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "r"}}
    });
    let usage = "region = \"ap-southeast-1\"\n[[envs.dev.ecr]]\nrepository = \"r\"\nimage_gb = 1\nuntagged = 4\n";
    let r = report(resources, usage);
    // t3.medium in ap-southeast-1 is in the catalog (0.0528, B): 2 × 730 × 0.0528.
    close(
        r.line(Component::EksNodeGroup, "ng")
            .expect("nodes")
            .before_usd(),
        2.0 * 730.0 * 0.0528,
    );
    // ECR storage there is not: unknown, not a guess, and left out of the totals.
    let repo = r.line(Component::Ecr, "r").expect("repository");
    assert_eq!(repo.before_usd(), None);
    assert!(r.unknown.iter().any(|u| u.starts_with("ECR · r")));
    let known: f64 = r.lines.iter().filter_map(|l| l.before_usd()).sum();
    close(Some(r.total_before), known);
    // gp2 volumes there: unknown too.
    assert_eq!(
        r.line(Component::EksNodeVolumes, "ng")
            .expect("volumes")
            .before_usd(),
        None
    );
}

#[test]
fn usage_names_resources_by_their_names_and_flags_strays() {
    let usage = "[[envs.dev.s3]]\nbucket = \"nope\"\nprefix = \"x/\"\ngb = 1\n";
    let r = report(json!({"Nodes": node_group("SPOT")}), usage);
    assert!(
        r.warnings.iter().any(|w| w.contains("bucket `nope`")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn controls_off_is_before_and_all_on_is_after() {
    let usage = Usage::from_toml("[envs.dev]\n", "t").expect("usage");
    let catalog = Catalog::builtin().expect("catalog");
    let e = Estimator::from_inventory(
        inventory(json!({"Nodes": node_group("SPOT")})),
        &usage,
        "t",
        &catalog,
        None,
    )
    .expect("estimator");
    let usd = |c: &Controls| -> f64 { e.items(c).iter().filter_map(|i| i.amount.usd()).sum() };
    let r = Report::build(&e);
    close(Some(r.total_before), usd(&Controls::none()));
    close(Some(r.total_after), usd(&Controls::all()));
    close(
        Some(usd(&Controls::all().without(Lever::Spot))),
        r.total_before,
    );
}
