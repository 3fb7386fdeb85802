//! The published table, checked: its "before" column reproduced from its own
//! assumptions, and its "after" column set beside what the configuration gives, with
//! the reason for every difference.

use serde::Serialize;

use crate::catalog::trim;
use crate::estimate::{qty, Component, Controls, Estimator};
use crate::report::{join, Report};

/// One row of the published table, checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanCheckRow {
    /// Component.
    pub component: String,
    /// The table's own label.
    pub label: String,
    /// Published before.
    pub plan_before: f64,
    /// Before computed from the table's own assumptions.
    pub reproduced_before: Option<f64>,
    /// Whether the two agree to the cent.
    pub before_matches: bool,
    /// Before as configured (the table's assumptions the configuration contradicts
    /// dropped).
    pub configured_before: Option<f64>,
    /// Published after.
    pub plan_after: f64,
    /// After as configured.
    pub configured_after: Option<f64>,
    /// Why the "after" figures differ (empty when they agree to the cent).
    pub reason: String,
}

/// A component the published table leaves out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MissingComponent {
    /// Component.
    pub component: String,
    /// Before as configured (`None`: a line is unknown).
    pub configured_before: Option<f64>,
    /// After as configured (`None`: a line is unknown).
    pub configured_after: Option<f64>,
    /// Why it is on the bill.
    pub reason: String,
}

/// The published table, checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanCheck {
    /// Where the table is from.
    pub source: String,
    /// Rows.
    pub rows: Vec<PlanCheckRow>,
    /// Components on the bill the table leaves out.
    pub missing: Vec<MissingComponent>,
    /// Published total before.
    pub plan_total_before: f64,
    /// Reproduced total before (the table's components).
    pub reproduced_total_before: f64,
    /// Every row and the total reproduced to the cent.
    pub before_reproduced: bool,
    /// Published total after.
    pub plan_total_after: f64,
    /// The table's components before, as configured.
    pub configured_total_before: f64,
    /// The table's components after, as configured.
    pub configured_total_after: f64,
    /// Published saving, percent.
    pub plan_saving_pct: f64,
    /// Whole bill before, as configured (missing components included).
    pub configured_bill_before: f64,
    /// Whole bill after, as configured.
    pub configured_bill_after: f64,
}

fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

/// Checks the usage file's published table against the app, if it has one.
pub fn check(e: &Estimator, report: &Report) -> Option<PlanCheck> {
    let table = e.usage.plan.as_ref()?;
    if table.env != e.inventory.env {
        return None;
    }
    // The table's own assumptions, where the configuration says otherwise.
    let mut assumed = e.clone();
    for (name, nodes) in &table.assumptions.nodes {
        match assumed
            .env_usage
            .node_groups
            .iter_mut()
            .find(|n| n.name == *name)
        {
            Some(n) => n.nodes = Some(*nodes),
            None => assumed
                .env_usage
                .node_groups
                .push(crate::usage::NodeGroupUsage {
                    name: name.clone(),
                    nodes: Some(*nodes),
                    root_volume_type: None,
                }),
        }
    }
    let reproduced = join(assumed.items(&Controls::none()), Vec::new());
    let sum = |c: Component| -> Option<f64> {
        let lines: Vec<_> = reproduced.iter().filter(|l| l.component == c).collect();
        lines.iter().map(|l| l.before_usd()).sum()
    };
    let totals = report.components();
    let total = |c: Component| totals.iter().find(|t| t.component == c);

    let mut rows = Vec::new();
    for row in &table.rows {
        let c = Component::from_name(&row.component);
        let reproduced_before = c.and_then(sum);
        let configured = c.and_then(total);
        let configured_after = configured.filter(|t| t.unknown == 0).map(|t| t.after);
        let agrees = configured_after.is_some_and(|a| cents(a) == cents(row.after));
        rows.push(PlanCheckRow {
            component: row.component.clone(),
            label: row.label.clone(),
            plan_before: row.before,
            before_matches: reproduced_before.is_some_and(|b| cents(b) == cents(row.before)),
            reproduced_before,
            configured_before: configured.filter(|t| t.unknown == 0).map(|t| t.before),
            plan_after: row.after,
            configured_after,
            reason: if agrees {
                String::new()
            } else {
                reason(e, report, c, row)
            },
        });
    }
    let listed: Vec<Option<Component>> = table
        .rows
        .iter()
        .map(|r| Component::from_name(&r.component))
        .collect();
    let missing = totals
        .iter()
        .filter(|t| {
            !listed.contains(&Some(t.component))
                && (t.before > 0.0 || t.after > 0.0 || t.unknown > 0)
        })
        .map(|t| MissingComponent {
            component: t.component.name().to_owned(),
            configured_before: (t.unknown == 0).then_some(t.before),
            configured_after: (t.unknown == 0).then_some(t.after),
            reason: missing_reason(e, t.component, t.unknown),
        })
        .collect();
    let reproduced_total_before: f64 = rows.iter().filter_map(|r| r.reproduced_before).sum();
    Some(PlanCheck {
        source: table.source.clone(),
        before_reproduced: rows.iter().all(|r| r.before_matches)
            && cents(reproduced_total_before) == cents(table.total_before),
        configured_total_before: rows.iter().filter_map(|r| r.configured_before).sum(),
        configured_total_after: rows.iter().filter_map(|r| r.configured_after).sum(),
        rows,
        missing,
        plan_total_before: table.total_before,
        reproduced_total_before,
        plan_total_after: table.total_after,
        plan_saving_pct: table.saving_pct,
        configured_bill_before: report.total_before,
        configured_bill_after: report.total_after,
    })
}

fn reason(
    e: &Estimator,
    report: &Report,
    c: Option<Component>,
    row: &crate::usage::PlanRow,
) -> String {
    let h = trim(e.hours_per_month);
    let assumptions = e
        .usage
        .plan
        .as_ref()
        .map(|t| t.assumptions.clone())
        .unwrap_or_default();
    let plan_hours = assumptions
        .after_hours
        .map_or("fewer".to_owned(), |x| format!("~{}", trim(x)));
    let basis = row
        .after_basis
        .as_deref()
        .map(|b| format!(" (the plan: {b})"))
        .unwrap_or_default();
    let lines = |c: Component| report.lines.iter().filter(move |l| l.component == c);
    match c {
        Some(Component::EksNodeGroup) => {
            let mut parts = Vec::new();
            for g in &e.inventory.node_groups {
                if let Some(n) = assumptions.nodes.get(&g.name) {
                    parts.push(format!(
                        "the plan prices {} node; the group keeps {} (DesiredSize {}, MinSize {})",
                        qty(*n),
                        g.desired,
                        g.desired,
                        g.min
                    ));
                }
                match e.inventory.node_group_hours(&g.name) {
                    Some(s) => parts.push(format!(
                        "the plan assumes {plan_hours} h a month; the schedule runs {} h a week ({} → {}, {}) = {} h of {h}",
                        trim(s.hours.hours_per_week()),
                        s.start,
                        s.stop,
                        s.hours.time_zone,
                        qty(s.hours_per_month(e.hours_per_month))
                    )),
                    None => parts.push(format!("nothing stops {}: it runs {h} h", g.name)),
                }
            }
            format!("{}{basis}", parts.join("; "))
        }
        Some(Component::CloudWatchLogs) => {
            let ingestion: f64 = lines(Component::CloudWatchLogs)
                .filter(|l| l.resource.ends_with("· ingestion"))
                .filter_map(|l| l.after_usd())
                .sum();
            let storage: f64 = lines(Component::CloudWatchLogs)
                .filter(|l| l.resource.ends_with("· storage"))
                .filter_map(|l| l.after_usd())
                .sum();
            format!(
                "retention bounds storage (after: {storage:.2}), not ingestion: ingestion still costs {ingestion:.2}, \
                 the same as before{basis}"
            )
        }
        Some(Component::LoadBalancer) => format!(
            "the plan prices {plan_hours} h after, but nothing in the plan or the app stops the load balancer \
             (a Kubernetes Service owns it): it bills all {h} h{basis}"
        ),
        Some(Component::Ecr) => {
            let kept: Vec<String> = lines(Component::Ecr)
                .flat_map(|l| l.after.terms.iter().map(|t| format!("{}: {}", l.resource, t.what)))
                .collect();
            format!("the rules keep {}{basis}", kept.join("; "))
        }
        Some(Component::S3) => {
            let ages: Vec<String> = e
                .env_usage
                .s3
                .iter()
                .map(|u| {
                    let age = match (&u.age_bands, u.uniform_age_days) {
                        (_, Some(d)) => format!("over {} d", qty(d)),
                        (Some(b), None) => format!("{} bands", b.len()),
                        _ => "new".to_owned(),
                    };
                    format!("{} {} GB {age}", u.prefix, qty(u.gb))
                })
                .collect();
            format!(
                "the plan states no object ages; with this profile's ({}) the lifecycle rules give the S3 lines above{basis}",
                ages.join(", ")
            )
        }
        _ => format!("the configuration gives a different figure{basis}"),
    }
}

fn missing_reason(e: &Estimator, c: Component, unknown: usize) -> String {
    let h = trim(e.hours_per_month);
    let text = match c {
        Component::EksControlPlane => {
            format!("the plan's table leaves out the cluster the node group joins: it bills {h} h whether nodes run or not")
        }
        Component::EksNodeVolumes => {
            "the plan's table leaves out the nodes' root volumes".to_owned()
        }
        Component::SageMakerEndpoint => {
            "the plan stops an endpoint at night but its table has no SageMaker line".to_owned()
        }
        Component::SageMakerTraining => "the plan's table has no training line".to_owned(),
        _ => "not in the plan's table".to_owned(),
    };
    if unknown > 0 {
        format!("{text} ({unknown} line(s) unknown: the profile gives no usage)")
    } else {
        text
    }
}
