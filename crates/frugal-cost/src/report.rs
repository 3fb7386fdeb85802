//! The before/after report: one [`Line`] per billable thing, joined from the "before"
//! evaluation (every cost control off) and the "after" one (the app as configured).

use frugal_core::Assembly;
use serde::Serialize;

use crate::catalog::{trim, Catalog};
use crate::error::CostError;
use crate::estimate::{Amount, Component, Controls, Estimator, Item, Lever};
use crate::inventory::Unpriced;
use crate::plan::{self, PlanCheck};
use crate::usage::Usage;

/// One billable thing, before and after.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    /// Component.
    pub component: Component,
    /// What it is, as the app names it.
    pub resource: String,
    /// With every cost control off.
    pub before: Amount,
    /// As configured.
    pub after: Amount,
    /// The levers that change it.
    pub levers: Vec<Lever>,
    /// The levers as text, or why none applies.
    pub lever: String,
    /// What the reader should know.
    pub notes: Vec<String>,
}

impl Line {
    /// USD a month before; `None` when unknown.
    pub fn before_usd(&self) -> Option<f64> {
        self.before.usd()
    }

    /// USD a month after; `None` when unknown.
    pub fn after_usd(&self) -> Option<f64> {
        self.after.usd()
    }
}

/// A component's lines added up.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentTotal {
    /// Component.
    pub component: Component,
    /// USD a month before (known lines).
    pub before: f64,
    /// USD a month after (known lines).
    pub after: f64,
    /// Lines whose before or after is unknown.
    pub unknown: usize,
}

/// The report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// App name.
    pub app: String,
    /// Environment.
    pub env: String,
    /// Region of the prices.
    pub region: String,
    /// Usage file (or profile) name.
    pub usage: String,
    /// Currency.
    pub currency: String,
    /// Hours in the month every monthly figure assumes.
    pub hours_per_month: f64,
    /// When the catalog's prices were gathered.
    pub catalog_gathered: String,
    /// The lines.
    pub lines: Vec<Line>,
    /// Sum of the known "before" amounts.
    pub total_before: f64,
    /// Sum of the known "after" amounts.
    pub total_after: f64,
    /// `(before − after) / before × 100`.
    pub saving_pct: Option<f64>,
    /// Lines with an unknown amount, which the totals exclude.
    pub unknown: Vec<String>,
    /// Resources without a line, and why.
    pub unpriced: Vec<Unpriced>,
    /// What the reader should know.
    pub warnings: Vec<String>,
    /// The model's assumptions, stated.
    pub assumptions: Vec<String>,
    /// The published table, checked, when the usage file has one.
    pub plan_check: Option<PlanCheck>,
}

/// Joins a "before" and an "after" evaluation into lines (by component and resource).
pub fn join(before: Vec<Item>, after: Vec<Item>) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for item in after {
        let lever = lever_text(&item.levers, item.no_lever.as_deref());
        lines.push(Line {
            component: item.component,
            resource: item.resource,
            before: Amount::zero(),
            after: item.amount,
            levers: item.levers,
            lever,
            notes: item.notes,
        });
    }
    for item in before {
        match lines
            .iter_mut()
            .find(|l| l.component == item.component && l.resource == item.resource)
        {
            Some(line) => line.before = item.amount,
            None => lines.push(Line {
                component: item.component,
                lever: lever_text(&item.levers, item.no_lever.as_deref()),
                resource: item.resource,
                before: item.amount,
                after: Amount::zero(),
                levers: item.levers,
                notes: item.notes,
            }),
        }
    }
    // Stable within a component: the after order, then lines only "before" has.
    lines.sort_by_key(|l| l.component);
    lines
}

fn lever_text(levers: &[Lever], no_lever: Option<&str>) -> String {
    if levers.is_empty() {
        format!("none: {}", no_lever.unwrap_or("nothing changes it"))
    } else {
        levers
            .iter()
            .map(|l| l.label())
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

impl Report {
    /// Synthesized app → report, in one call.
    pub fn for_assembly(
        assembly: &Assembly,
        env: &str,
        usage: &Usage,
        usage_name: &str,
        region: Option<&str>,
    ) -> Result<Report, CostError> {
        let catalog = Catalog::builtin()?;
        let estimator = Estimator::new(assembly, env, usage, usage_name, &catalog, region)?;
        Ok(Report::build(&estimator))
    }

    /// The report of an estimator: before (controls off), after (as configured), and the
    /// published table's check when the usage has one.
    pub fn build(e: &Estimator) -> Report {
        let lines = join(e.items(&Controls::none()), e.items(&Controls::all()));
        let total_before = lines.iter().filter_map(Line::before_usd).sum::<f64>();
        let total_after = lines.iter().filter_map(Line::after_usd).sum::<f64>();
        let mut unknown = Vec::new();
        for l in &lines {
            let sides: Vec<&str> = [("before", l.before_usd()), ("after", l.after_usd())]
                .into_iter()
                .filter(|(_, v)| v.is_none())
                .map(|(s, _)| s)
                .collect();
            if !sides.is_empty() {
                unknown.push(format!(
                    "{} · {} ({})",
                    l.component,
                    l.resource,
                    sides.join(", ")
                ));
            }
        }
        let mut warnings = e.inventory.warnings.clone();
        warnings.extend(e.warnings.iter().cloned());
        let mut report = Report {
            app: e.inventory.app.clone(),
            env: e.inventory.env.clone(),
            region: e.region.clone(),
            usage: match &e.usage.name {
                Some(n) => format!("{} ({n})", e.usage_name),
                None => e.usage_name.clone(),
            },
            currency: e.catalog.currency.clone(),
            hours_per_month: e.hours_per_month,
            catalog_gathered: e.catalog.gathered.clone(),
            saving_pct: (total_before > 0.0)
                .then(|| (total_before - total_after) / total_before * 100.0),
            lines,
            total_before,
            total_after,
            unknown,
            unpriced: e.inventory.unpriced.clone(),
            warnings,
            assumptions: assumptions(e),
            plan_check: None,
        };
        report.plan_check = plan::check(e, &report);
        report
    }

    /// Lines added up per component, in report order (components without lines left out).
    pub fn components(&self) -> Vec<ComponentTotal> {
        Component::ALL
            .into_iter()
            .filter_map(|c| {
                let lines: Vec<&Line> = self.lines.iter().filter(|l| l.component == c).collect();
                (!lines.is_empty()).then(|| ComponentTotal {
                    component: c,
                    before: lines.iter().filter_map(|l| l.before_usd()).sum(),
                    after: lines.iter().filter_map(|l| l.after_usd()).sum(),
                    unknown: lines
                        .iter()
                        .filter(|l| l.before_usd().is_none() || l.after_usd().is_none())
                        .count(),
                })
            })
            .collect()
    }

    /// The component's total, if it has lines.
    pub fn component(&self, c: Component) -> Option<ComponentTotal> {
        self.components().into_iter().find(|t| t.component == c)
    }

    /// The first line of `component` whose resource starts with `resource`.
    pub fn line(&self, component: Component, resource: &str) -> Option<&Line> {
        self.lines
            .iter()
            .find(|l| l.component == component && l.resource.starts_with(resource))
    }
}

fn assumptions(e: &Estimator) -> Vec<String> {
    let h = trim(e.hours_per_month);
    let mut out = vec![
        format!(
            "Monthly = {h} hours{}.",
            if e.hours_per_month == 730.0 { " (the AWS convention: 8,760 h / 12)" } else { " (set by the usage file; AWS uses 730)" }
        ),
        format!(
            "Before = the same templates with every cost control off: on-demand nodes running {h} h, endpoints always on, \
             no lifecycle rules or archive tiers, never-expiring logs in the Standard class, no image pruning, \
             on-demand training. After = the templates as synthesized."
        ),
        format!("Spot = on-demand × (1 − discount), discount {}.", e.spot_discount_ref().describe()),
        format!(
            "Prices: {} list prices for {} from the catalog gathered {}; each line cites its entry \
             (id@region, confidence A/B/C). Unknown prices stay unknown and the totals exclude them.",
            e.catalog.currency, e.region, e.catalog.gathered
        ),
    ];
    for (id, p) in &e.usage.prices {
        let catalog = e.catalog.entry(id, &e.region).and_then(|c| c.price);
        out.push(format!(
            "The usage file overrides {id} = {} (catalog: {}).",
            trim(*p),
            catalog.map_or("unknown".to_owned(), trim)
        ));
    }
    out
}

impl Estimator {
    /// The spot discount in use, as cited.
    pub fn spot_discount_ref(&self) -> crate::catalog::PriceRef {
        self.catalog.price(
            "ec2/spot-discount",
            &self.region,
            crate::catalog::Unit::Fraction,
            &self.overrides,
        )
    }
}
