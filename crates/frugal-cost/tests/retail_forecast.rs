//! The retail-forecast app itself: the plan's table checked to the cent, each cost
//! control raising exactly its lines when switched off, and the renderers.

use std::collections::BTreeMap;

use frugal_core::Assembly;
use frugal_cost::{
    chart, render, Catalog, Component, Controls, Estimator, Item, Lever, Report, Usage,
};

const DEFAULT_USAGE: &str = include_str!("../../../apps/retail-forecast/usage.toml");

fn assembly() -> Assembly {
    retail_forecast::app()
        .and_then(|a| a.synth())
        .expect("the app synthesizes")
}

fn estimator(env: &str, usage: &Usage, name: &str) -> Estimator {
    let catalog = Catalog::builtin().expect("catalog");
    Estimator::new(&assembly(), env, usage, name, &catalog, None).expect("estimator")
}

fn default_usage() -> Usage {
    Usage::from_toml(DEFAULT_USAGE, "apps/retail-forecast/usage.toml").expect("default usage")
}

fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

#[test]
fn the_plan_profile_reproduces_the_plans_before_column_to_the_cent() {
    let report = Report::build(&estimator("dev", &Usage::plan().expect("plan"), "plan"));
    let check = report
        .plan_check
        .as_ref()
        .expect("the plan profile has a table");
    let expected = [
        ("EKS node group", 28.80),
        ("S3", 1.15),
        ("CloudWatch Logs", 2.50),
        ("Load balancer", 19.44),
        ("ECR", 0.50),
    ];
    for (component, before) in expected {
        let row = check
            .rows
            .iter()
            .find(|r| r.component == component)
            .expect(component);
        let reproduced = row.reproduced_before.expect("known");
        assert_eq!(
            cents(reproduced),
            cents(before),
            "{component}: {reproduced} vs {before}"
        );
        assert!(row.before_matches);
    }
    assert_eq!(cents(check.reproduced_total_before), 5239);
    assert!(check.before_reproduced);
}

#[test]
fn the_plans_after_column_against_its_own_configuration() {
    let report = Report::build(&estimator("dev", &Usage::plan().expect("plan"), "plan"));
    let check = report.plan_check.as_ref().expect("table");
    let row = |c: &str| check.rows.iter().find(|r| r.component == c).expect(c);

    // Two nodes (DesiredSize 2), Mon-Fri 07:00-19:00 UTC = 60 h a week × 720/168 h in the
    // plan's 720-hour month = 257.14 h, at the plan's 0.04 $/h less 70 %:
    // 2 × 257.142857 × 0.04 × 0.30 = 6.17 — not the plan's 2.40.
    let nodes = row("EKS node group");
    assert_eq!(cents(nodes.configured_after.expect("known")), 617);
    assert!(
        nodes.reason.contains("the group keeps 2"),
        "{}",
        nodes.reason
    );
    assert!(nodes.reason.contains("~200 h"), "{}", nodes.reason);
    // One node × 720 h is the plan's; the configuration's two nodes double it.
    assert_eq!(cents(nodes.configured_before.expect("known")), 5760);

    // Nothing stops the load balancer: 720 h × 0.027 = 19.44 after too.
    let lb = row("Load balancer");
    assert_eq!(cents(lb.configured_after.expect("known")), 1944);
    assert!(
        lb.reason.contains("nothing in the plan or the app stops"),
        "{}",
        lb.reason
    );

    // Retention cuts storage, not ingestion: 5 GB × 0.50 = 2.50 after too.
    let logs = row("CloudWatch Logs");
    assert_eq!(cents(logs.configured_after.expect("known")), 250);
    assert!(logs.reason.contains("not ingestion"), "{}", logs.reason);

    // The control plane is on the bill and not in the table: 720 h × 0.10 = 72.00.
    let cp = check
        .missing
        .iter()
        .find(|m| m.component == "EKS control plane")
        .expect("missing");
    assert_eq!(cents(cp.configured_after.expect("known")), 7200);

    // S3 and ECR are computed from the lifecycle rules, not a flat percentage.
    assert!(row("S3").configured_after.expect("known") < 1.15);
    // ECR: 3 untagged + 3 dev + 3 stage + 3 prod (5 stage and 5 prod pushed) + 5 v* = 17
    // images × 0.1 GB × 0.10 = 0.17.
    assert_eq!(cents(row("ECR").configured_after.expect("known")), 17);
}

fn by_key(items: Vec<Item>) -> BTreeMap<(Component, String), (Option<f64>, Vec<Lever>)> {
    items
        .into_iter()
        .map(|i| ((i.component, i.resource), (i.amount.usd(), i.levers)))
        .collect()
}

/// With one control off, lines without that lever are unchanged, no line with it falls
/// in total, and together they rise.
fn assert_each_control_raises_exactly_its_lines(e: &Estimator, expected_levers: &[Lever]) {
    let after = by_key(e.items(&Controls::all()));
    for lever in Lever::ALL {
        let off = by_key(e.items(&Controls::all().without(lever)));
        let mut with = (0.0, 0.0);
        let mut count = 0;
        for (key, (usd, levers)) in &after {
            let (usd_off, _) = off.get(key).cloned().unwrap_or((Some(0.0), Vec::new()));
            let (a, b) = (usd.unwrap_or(0.0), usd_off.unwrap_or(0.0));
            if levers.contains(&lever) {
                with.0 += a;
                with.1 += b;
                count += 1;
            } else {
                assert!(
                    (a - b).abs() < 1e-12,
                    "{lever:?} off changed {key:?}, which it does not control: {a} → {b}"
                );
            }
        }
        // Lines only the "off" evaluation has (e.g. Archive Instant Access when the archive
        // tiers are off) belong to the lever too.
        for key in off.keys().filter(|k| !after.contains_key(*k)) {
            let (usd, levers) = &off[key];
            assert!(levers.contains(&lever), "{lever:?} off added {key:?}");
            with.1 += usd.unwrap_or(0.0);
        }
        if expected_levers.contains(&lever) {
            assert!(count > 0, "no line has {lever:?}");
            assert!(
                with.1 > with.0 + 1e-9,
                "{lever:?} off should raise its lines: {} → {}",
                with.0,
                with.1
            );
        } else {
            assert_eq!(count, 0, "{lever:?} is not configured in this env");
        }
    }
}

#[test]
fn each_control_switched_off_raises_exactly_its_lines_in_dev() {
    let e = estimator("dev", &default_usage(), "usage.toml");
    assert_each_control_raises_exactly_its_lines(
        &e,
        &[
            Lever::Spot,
            Lever::OffHours,
            Lever::S3Lifecycle,
            Lever::S3ArchiveTiers,
            Lever::LogRetention,
            Lever::ImagePruning,
            Lever::TrainingSpot,
        ],
    );
}

#[test]
fn each_control_switched_off_raises_exactly_its_lines_in_prod() {
    // Prod serves around the clock: no off-hours schedule.
    let e = estimator("prod", &default_usage(), "usage.toml");
    assert_each_control_raises_exactly_its_lines(
        &e,
        &[
            Lever::Spot,
            Lever::S3Lifecycle,
            Lever::S3ArchiveTiers,
            Lever::LogRetention,
            Lever::ImagePruning,
            Lever::TrainingSpot,
        ],
    );
}

#[test]
fn dev_report_prices_every_component_the_issue_lists() {
    let report = Report::build(&estimator("dev", &default_usage(), "usage.toml"));
    for c in [
        Component::EksNodeGroup,
        Component::EksControlPlane,
        Component::S3,
        Component::CloudWatchLogs,
        Component::LoadBalancer,
        Component::Ecr,
        Component::SageMakerTraining,
        Component::SageMakerEndpoint,
        Component::Scheduler,
        Component::Budgets,
    ] {
        assert!(report.component(c).is_some(), "no {c} line");
    }
    assert!(report.total_after < report.total_before);
    assert_eq!(report.hours_per_month, 730.0);
    // The dev node group runs the schedule's 60 h a week: 2 × 260.71 h × 0.0416 × 0.30.
    let nodes = report
        .line(Component::EksNodeGroup, "retail-forecast-nodes")
        .expect("nodes");
    assert_eq!(
        cents(nodes.after_usd().expect("known")),
        cents(2.0 * 60.0 * 730.0 / 168.0 * 0.0416 * 0.30)
    );
    // Every known line names its catalog entry.
    for l in &report.lines {
        for t in l.after.terms.iter().chain(&l.before.terms) {
            assert!(
                t.describe().contains('['),
                "{} · {}: {}",
                l.component,
                l.resource,
                t.describe()
            );
        }
    }
}

#[test]
fn json_has_the_documented_shape() {
    let report = Report::build(&estimator("dev", &default_usage(), "usage.toml"));
    let j = render::json(&report);
    assert_eq!(j["currency"], "USD");
    assert_eq!(j["hours_per_month"], 730.0);
    for key in ["total_before", "total_after", "saving_pct"] {
        assert!(j[key].is_number(), "{key}");
    }
    let line = &j["lines"][0];
    for key in ["component", "resource", "before", "after", "lever"] {
        assert!(!line[key].is_null(), "{key}");
    }
}

#[test]
fn renderers_are_deterministic_and_complete() {
    let report = Report::build(&estimator("dev", &default_usage(), "usage.toml"));
    let again = Report::build(&estimator("dev", &default_usage(), "usage.toml"));
    assert_eq!(chart::svg(&report), chart::svg(&again));
    let svg = chart::svg(&report);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    assert!(svg.contains("EKS control plane"));
    let md = render::markdown(&report);
    assert!(md.contains("| EKS node group |"));
    let table = render::table(&report);
    assert!(table.contains("TOTAL"));
    let plan = Report::build(&estimator("dev", &Usage::plan().expect("plan"), "plan"));
    assert!(render::markdown(&plan).contains("The plan's table, checked"));
    assert!(render::table(&plan).contains("reproduced from the plan's own assumptions: yes"));
}
