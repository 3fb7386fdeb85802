//! Prices an [`Inventory`] under a [`Usage`] with some cost controls on: one [`Item`] per
//! billable thing, each a sum of [`Term`]s that name their quantity and price.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use frugal_core::Assembly;
use serde::Serialize;

use crate::catalog::{trim, Catalog, PriceRef, Unit};
use crate::ecr;
use crate::error::CostError;
use crate::inventory::{Inventory, LogOwner, Purpose};
use crate::s3::{self, Tier};
use crate::usage::{EnvUsage, Usage};

/// A cost control the app configures. "Before" is the app with all of them off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Lever {
    /// Node groups on Spot capacity (`CapacityType: SPOT`).
    Spot,
    /// Node groups and endpoints stopped outside office hours (the Scheduler).
    OffHours,
    /// Bucket lifecycle rules: transitions and expirations.
    S3Lifecycle,
    /// Intelligent-Tiering archive configurations.
    S3ArchiveTiers,
    /// Log group retention (`RetentionInDays` and the retention schedules).
    LogRetention,
    /// The Infrequent Access log class.
    LogClass,
    /// ECR lifecycle policies.
    ImagePruning,
    /// Managed spot training.
    TrainingSpot,
}

impl Lever {
    /// Every lever.
    pub const ALL: [Lever; 8] = [
        Lever::Spot,
        Lever::OffHours,
        Lever::S3Lifecycle,
        Lever::S3ArchiveTiers,
        Lever::LogRetention,
        Lever::LogClass,
        Lever::ImagePruning,
        Lever::TrainingSpot,
    ];

    /// Short name for tables.
    pub fn label(self) -> &'static str {
        match self {
            Lever::Spot => "Spot",
            Lever::OffHours => "off-hours schedule",
            Lever::S3Lifecycle => "lifecycle rules",
            Lever::S3ArchiveTiers => "archive tiers",
            Lever::LogRetention => "retention",
            Lever::LogClass => "Infrequent Access class",
            Lever::ImagePruning => "image pruning",
            Lever::TrainingSpot => "managed spot training",
        }
    }
}

impl fmt::Display for Lever {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Which levers are on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controls(BTreeSet<Lever>);

impl Controls {
    /// Every lever on: the app as configured ("after").
    pub fn all() -> Controls {
        Controls(Lever::ALL.into_iter().collect())
    }

    /// Every lever off ("before").
    pub fn none() -> Controls {
        Controls(BTreeSet::new())
    }

    /// These controls with `lever` off.
    pub fn without(mut self, lever: Lever) -> Controls {
        self.0.remove(&lever);
        self
    }

    /// Whether `lever` is on.
    pub fn on(&self, lever: Lever) -> bool {
        self.0.contains(&lever)
    }
}

/// A component of the bill: one bar of the chart, one row of the plan's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    /// EC2 instances of EKS node groups.
    EksNodeGroup,
    /// EBS root volumes of the nodes.
    EksNodeVolumes,
    /// The EKS cluster the node groups join.
    EksControlPlane,
    /// S3 storage, transitions and monitoring.
    S3,
    /// CloudWatch Logs ingestion and storage.
    CloudWatchLogs,
    /// Load balancers in front of the API.
    LoadBalancer,
    /// ECR image storage.
    Ecr,
    /// SageMaker training jobs.
    SageMakerTraining,
    /// SageMaker real-time endpoints.
    SageMakerEndpoint,
    /// EventBridge Scheduler invocations.
    Scheduler,
    /// AWS Budgets.
    Budgets,
}

impl Component {
    /// Every component, in report order.
    pub const ALL: [Component; 11] = [
        Component::EksNodeGroup,
        Component::EksNodeVolumes,
        Component::EksControlPlane,
        Component::S3,
        Component::CloudWatchLogs,
        Component::LoadBalancer,
        Component::Ecr,
        Component::SageMakerTraining,
        Component::SageMakerEndpoint,
        Component::Scheduler,
        Component::Budgets,
    ];

    /// The report's name for the component.
    pub fn name(self) -> &'static str {
        match self {
            Component::EksNodeGroup => "EKS node group",
            Component::EksNodeVolumes => "EKS node volumes",
            Component::EksControlPlane => "EKS control plane",
            Component::S3 => "S3",
            Component::CloudWatchLogs => "CloudWatch Logs",
            Component::LoadBalancer => "Load balancer",
            Component::Ecr => "ECR",
            Component::SageMakerTraining => "SageMaker training",
            Component::SageMakerEndpoint => "SageMaker endpoint",
            Component::Scheduler => "EventBridge Scheduler",
            Component::Budgets => "AWS Budgets",
        }
    }

    /// The component named `name`.
    pub fn from_name(name: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Component {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One priced quantity: `quantity / unit divisor × price × (1 − discount)`, less any
/// free quantity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Term {
    /// How the quantity was reached, e.g. `2 nodes × 260.71 h`.
    pub what: String,
    /// The quantity, in the price's unit (before any free quantity).
    pub quantity: f64,
    /// The price.
    pub price: PriceRef,
    /// A discount off the price (Spot).
    pub discount: Option<PriceRef>,
}

impl Term {
    fn new(what: impl Into<String>, quantity: f64, price: PriceRef) -> Term {
        Term {
            what: what.into(),
            quantity,
            price,
            discount: None,
        }
    }

    /// The quantity billed: past the free quantity a month.
    pub fn billed_quantity(&self) -> f64 {
        (self.quantity - self.price.free_per_month.unwrap_or(0.0)).max(0.0)
    }

    /// USD a month; `None` when a price is unknown.
    pub fn usd(&self) -> Option<f64> {
        let price = self.price.price?;
        let factor = match &self.discount {
            Some(d) => 1.0 - d.price?,
            None => 1.0,
        };
        Some(self.billed_quantity() / self.price.unit.divisor() * price * factor)
    }

    /// `2 nodes × 730 h = 1460 hour × 0.0416 $/hour [ec2/t3.medium@us-east-1, A]`.
    pub fn describe(&self) -> String {
        let unit = self.price.unit;
        let mut s = format!(
            "{} = {} {}",
            self.what,
            qty(self.quantity),
            quantity_unit(unit)
        );
        if let Some(free) = self.price.free_per_month {
            let free = if free >= 1e6 {
                format!("{} M", qty(free / 1e6))
            } else {
                qty(free)
            };
            s.push_str(&format!(" (first {free} free a month)"));
        }
        s.push_str(&format!(" × {}", self.price.describe()));
        if let Some(d) = &self.discount {
            s.push_str(&format!(" × (1 − {})", d.describe()));
        }
        s
    }
}

fn quantity_unit(unit: Unit) -> &'static str {
    match unit {
        Unit::Hour => "h",
        Unit::GbMonth => "GB-month",
        Unit::Gb => "GB",
        Unit::ThousandObjectMonths => "object-months",
        Unit::ThousandRequests => "requests",
        Unit::MillionInvocations => "invocations",
        Unit::BudgetDay => "budget-days",
        Unit::LcuHour => "LCU-h",
        Unit::Fraction => "",
    }
}

/// A quantity for reading: whole numbers bare, others to two decimals.
pub fn qty(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round())
    } else if x.abs() >= 100.0 {
        format!("{x:.2}")
    } else {
        trim((x * 10_000.0).round() / 10_000.0)
    }
}

/// What one line costs in one evaluation.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Amount {
    /// The priced terms (none: nothing to pay).
    pub terms: Vec<Term>,
    /// Why the amount is unknown although its prices may be known (missing usage).
    pub unknown: Option<String>,
}

impl Amount {
    /// Nothing to pay.
    pub fn zero() -> Amount {
        Amount::default()
    }

    fn of(terms: Vec<Term>) -> Amount {
        Amount {
            terms,
            unknown: None,
        }
    }

    /// USD a month; `None` when unknown.
    pub fn usd(&self) -> Option<f64> {
        if self.unknown.is_some() {
            return None;
        }
        self.terms.iter().map(Term::usd).sum()
    }

    /// The derivation, one term per line.
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = self.terms.iter().map(Term::describe).collect();
        if let Some(why) = &self.unknown {
            out.push(format!("unknown: {why}"));
        }
        if out.is_empty() {
            out.push("nothing".to_owned());
        }
        out
    }
}

/// One billable thing in one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Component.
    pub component: Component,
    /// What it is, as the app names it.
    pub resource: String,
    /// What it costs.
    pub amount: Amount,
    /// The levers that change it.
    pub levers: Vec<Lever>,
    /// Why no lever changes it, when none does.
    pub no_lever: Option<String>,
    /// What the reader should know.
    pub notes: Vec<String>,
}

/// Prices one environment of a synthesized app under a usage file.
#[derive(Clone, Debug)]
pub struct Estimator {
    /// What the templates contain.
    pub inventory: Inventory,
    /// The usage file.
    pub usage: Usage,
    /// The usage file's name (or `plan`).
    pub usage_name: String,
    /// The environment's usage.
    pub env_usage: EnvUsage,
    /// The price catalog.
    pub catalog: Catalog,
    /// Region the prices are looked up in.
    pub region: String,
    /// Hours in a month.
    pub hours_per_month: f64,
    /// Price overrides (the usage file's, and its spot discount).
    pub overrides: BTreeMap<String, f64>,
    /// Usage entries that name nothing in the app.
    pub warnings: Vec<String>,
}

/// Per-prefix quantities of one S3 line, and the prefixes whose object count is unknown.
type Parts = (Vec<(String, f64)>, Vec<String>);

const SPOT_DISCOUNT: &str = "ec2/spot-discount";
const TRAINING_SPOT_DISCOUNT: &str = "sagemaker/spot-discount";

impl Estimator {
    /// Prices `env` of `assembly` under `usage` (named `usage_name` in reports), in
    /// `region` when given, else the stacks' region, else the usage file's.
    pub fn new(
        assembly: &Assembly,
        env: &str,
        usage: &Usage,
        usage_name: &str,
        catalog: &Catalog,
        region: Option<&str>,
    ) -> Result<Estimator, CostError> {
        let inventory = Inventory::from_assembly(assembly, env)?;
        Estimator::from_inventory(inventory, usage, usage_name, catalog, region)
    }

    /// Prices an inventory.
    pub fn from_inventory(
        inventory: Inventory,
        usage: &Usage,
        usage_name: &str,
        catalog: &Catalog,
        region: Option<&str>,
    ) -> Result<Estimator, CostError> {
        let env_usage = usage.env(&inventory.env, usage_name)?.clone();
        let region = region
            .map(str::to_owned)
            .or_else(|| inventory.region.clone())
            .unwrap_or_else(|| usage.region.clone());
        let mut overrides = usage.prices.clone();
        if let Some(d) = usage.spot_discount {
            overrides.insert(SPOT_DISCOUNT.to_owned(), d);
        }
        let mut e = Estimator {
            hours_per_month: usage.hours_per_month.unwrap_or(catalog.hours_per_month),
            inventory,
            usage: usage.clone(),
            usage_name: usage_name.to_owned(),
            env_usage,
            catalog: catalog.clone(),
            region,
            overrides,
            warnings: Vec::new(),
        };
        e.warnings = e.dangling_usage();
        Ok(e)
    }

    fn price(&self, id: &str, unit: Unit) -> PriceRef {
        self.catalog.price(id, &self.region, unit, &self.overrides)
    }

    fn spot_discount(&self) -> PriceRef {
        self.price(SPOT_DISCOUNT, Unit::Fraction)
    }

    fn training_spot_discount(&self) -> PriceRef {
        match self.usage.training_spot_discount {
            Some(d) => {
                let overrides = BTreeMap::from([(TRAINING_SPOT_DISCOUNT.to_owned(), d)]);
                self.catalog.price(
                    TRAINING_SPOT_DISCOUNT,
                    &self.region,
                    Unit::Fraction,
                    &overrides,
                )
            }
            None => self.spot_discount(),
        }
    }

    /// Usage entries naming resources the environment does not have.
    fn dangling_usage(&self) -> Vec<String> {
        let inv = &self.inventory;
        let mut out = Vec::new();
        let mut missing = |what: &str, name: &str| {
            out.push(format!(
                "usage names {what} `{name}`, which env {} does not have: not priced",
                inv.env
            ));
        };
        for n in &self.env_usage.node_groups {
            if !inv.node_groups.iter().any(|g| g.name == n.name) {
                missing("node group", &n.name);
            }
        }
        for c in &self.env_usage.clusters {
            if !inv.clusters().contains(&c.name) {
                missing("cluster", &c.name);
            }
        }
        for s in &self.env_usage.s3 {
            if !inv.buckets.iter().any(|b| b.name == s.bucket) {
                missing("bucket", &s.bucket);
            }
        }
        for l in &self.env_usage.logs {
            if !inv.log_groups.iter().any(|g| g.name == l.group) {
                missing("log group", &l.group);
            }
        }
        for r in &self.env_usage.ecr {
            if !inv.repositories.iter().any(|x| x.name == r.repository) {
                missing("repository", &r.repository);
            }
        }
        out
    }

    /// Every item with `controls` on.
    pub fn items(&self, controls: &Controls) -> Vec<Item> {
        let mut items = Vec::new();
        self.node_groups(controls, &mut items);
        self.control_planes(&mut items);
        self.buckets(controls, &mut items);
        self.logs(controls, &mut items);
        self.load_balancers(&mut items);
        self.repositories(controls, &mut items);
        self.training(controls, &mut items);
        self.endpoints(controls, &mut items);
        self.scheduler(controls, &mut items);
        self.budgets(&mut items);
        items
    }

    fn node_groups(&self, controls: &Controls, items: &mut Vec<Item>) {
        let h = self.hours_per_month;
        for g in &self.inventory.node_groups {
            let usage = self.env_usage.node_groups.iter().find(|u| u.name == g.name);
            let nodes = usage.and_then(|u| u.nodes).unwrap_or(f64::from(g.desired));
            let instance = g
                .instance_types
                .first()
                .cloned()
                .unwrap_or_else(|| "t3.medium".to_owned());
            let schedule = self.inventory.node_group_hours(&g.name);
            let (hours, mut notes) = match (&schedule, controls.on(Lever::OffHours)) {
                (Some(s), true) => {
                    let hm = s.hours_per_month(h);
                    (
                        hm,
                        vec![format!(
                            "off-hours schedule {} × {}/168 = {} h of {}",
                            s.describe(),
                            trim(h),
                            qty(hm),
                            trim(h)
                        )],
                    )
                }
                _ => (h, Vec::new()),
            };
            let spot = g.spot && controls.on(Lever::Spot);
            let mut term = Term::new(
                format!(
                    "{} nodes × {} h{}",
                    qty(nodes),
                    qty(hours),
                    if spot { " on Spot" } else { " on-demand" }
                ),
                nodes * hours,
                self.price(&format!("ec2/{instance}"), Unit::Hour),
            );
            if spot {
                term.discount = Some(self.spot_discount());
            }
            if g.instance_types.len() > 1 {
                let prices: Vec<String> = g
                    .instance_types
                    .iter()
                    .map(|t| {
                        let p = self.price(&format!("ec2/{t}"), Unit::Hour).price;
                        format!("{t} {}", p.map_or("unknown".to_owned(), trim))
                    })
                    .collect();
                notes.push(format!(
                    "EKS picks among {} $/h on-demand; priced at the first listed, {instance}",
                    prices.join(", ")
                ));
            }
            if nodes < f64::from(g.min) || nodes > f64::from(g.max) {
                notes.push(format!(
                    "usage sets {} nodes, outside the group's MinSize {} to MaxSize {}",
                    qty(nodes),
                    g.min,
                    g.max
                ));
            }
            let mut levers = Vec::new();
            if g.spot {
                levers.push(Lever::Spot);
            }
            if schedule.is_some() {
                levers.push(Lever::OffHours);
            }
            items.push(Item {
                component: Component::EksNodeGroup,
                resource: format!("{}: {} × {instance}", g.name, qty(nodes)),
                amount: Amount::of(vec![term]),
                no_lever: levers
                    .is_empty()
                    .then(|| "on-demand and always on".to_owned()),
                levers: levers.clone(),
                notes,
            });

            let volume = usage
                .and_then(|u| u.root_volume_type.clone())
                .unwrap_or_else(|| "gp2".to_owned());
            let gb_months = nodes * g.disk_gb * hours / h;
            items.push(Item {
                component: Component::EksNodeVolumes,
                resource: format!(
                    "{}: {} × {} GB {volume}",
                    g.name,
                    qty(nodes),
                    qty(g.disk_gb)
                ),
                amount: Amount::of(vec![Term::new(
                    format!(
                        "{} nodes × {} GB × {} h / {} h",
                        qty(nodes),
                        qty(g.disk_gb),
                        qty(hours),
                        trim(h)
                    ),
                    gb_months,
                    self.price(&format!("ebs/{volume}"), Unit::GbMonth),
                )]),
                levers: levers
                    .into_iter()
                    .filter(|l| *l == Lever::OffHours)
                    .collect(),
                no_lever: schedule
                    .is_none()
                    .then(|| "volumes live as long as the nodes".to_owned()),
                notes: vec![
                    "root volumes are deleted with the nodes when the group scales to zero"
                        .to_owned(),
                ],
            });
        }
    }

    fn control_planes(&self, items: &mut Vec<Item>) {
        let h = self.hours_per_month;
        for cluster in self.inventory.clusters() {
            let extended = self
                .env_usage
                .clusters
                .iter()
                .any(|c| c.name == cluster && c.extended_support);
            let id = if extended {
                "eks/cluster-extended-support"
            } else {
                "eks/cluster"
            };
            items.push(Item {
                component: Component::EksControlPlane,
                resource: format!("{cluster}{}", if extended { " (extended support)" } else { "" }),
                amount: Amount::of(vec![Term::new(format!("1 cluster × {} h", trim(h)), h, self.price(id, Unit::Hour))]),
                levers: Vec::new(),
                no_lever: Some("bills every hour the cluster exists".to_owned()),
                notes: vec![if self.inventory.created_clusters.contains(&cluster) {
                    "the stacks create the cluster".to_owned()
                } else {
                    "the app does not create the cluster, but its node groups join it: it is on the bill".to_owned()
                }],
            });
        }
    }

    fn buckets(&self, controls: &Controls, items: &mut Vec<Item>) {
        let days = self.hours_per_month / 24.0;
        for b in &self.inventory.buckets {
            let usages: Vec<_> = self
                .env_usage
                .s3
                .iter()
                .filter(|u| u.bucket == b.name)
                .collect();
            let mut levers = Vec::new();
            if !b.rules.is_empty() {
                levers.push(Lever::S3Lifecycle);
            }
            if !b.archive.is_empty() {
                levers.push(Lever::S3ArchiveTiers);
            }
            let no_lever = levers.is_empty().then(|| "no lifecycle rules".to_owned());
            let line = |resource: String, amount: Amount, notes: Vec<String>| Item {
                component: Component::S3,
                resource: format!("{} · {resource}", b.name),
                amount,
                levers: levers.clone(),
                no_lever: no_lever.clone(),
                notes,
            };
            if usages.is_empty() {
                items.push(line(
                    Tier::Standard.to_string(),
                    Amount::of(vec![Term::new(
                        "no usage given: 0 GB",
                        0.0,
                        self.price("s3/standard", Unit::GbMonth),
                    )]),
                    vec![format!(
                        "add [[envs.{}.s3]] entries for bucket {}",
                        self.inventory.env, b.name
                    )],
                ));
                continue;
            }
            let rules = if controls.on(Lever::S3Lifecycle) {
                b.rules.as_slice()
            } else {
                &[]
            };
            let archive = if controls.on(Lever::S3ArchiveTiers) {
                b.archive.as_slice()
            } else {
                &[]
            };
            let mut tiers: BTreeMap<Tier, Vec<(String, f64)>> = BTreeMap::new();
            let mut transitions: BTreeMap<s3::TargetClass, Parts> = BTreeMap::new();
            let mut monitored: Parts = (Vec::new(), Vec::new());
            let mut applied = Vec::new();
            for u in &usages {
                // Validated when the usage file was read.
                let Ok(profile) = u.age_profile() else {
                    continue;
                };
                let p = s3::place(u, &profile, rules, archive, days);
                for (tier, gb) in &p.gb {
                    tiers
                        .entry(*tier)
                        .or_default()
                        .push((u.prefix.clone(), *gb));
                }
                for (class, n) in &p.transitions {
                    transitions
                        .entry(*class)
                        .or_default()
                        .0
                        .push((u.prefix.clone(), *n));
                }
                let it = p.gb.keys().any(|t| t.is_intelligent_tiering());
                if it {
                    monitored.0.push((u.prefix.clone(), p.monitored_objects));
                }
                let transitioned: Vec<s3::TargetClass> = rules
                    .iter()
                    .filter(|r| r.applies_to(u))
                    .flat_map(|r| r.transitions.iter().map(|t| t.0))
                    .collect();
                if u.objects.is_none() {
                    for class in transitioned {
                        transitions
                            .entry(class)
                            .or_default()
                            .1
                            .push(u.prefix.clone());
                    }
                    if it {
                        monitored.1.push(u.prefix.clone());
                    }
                }
                if !p.applied.is_empty() {
                    applied.push(format!("{} ← {}", u.prefix, p.applied.join(", ")));
                }
            }
            let sum = |parts: &[(String, f64)], unit: &str| -> (String, f64) {
                let total = parts.iter().map(|p| p.1).sum();
                let mut what = parts
                    .iter()
                    .map(|(p, x)| format!("{p} {}", qty(*x)))
                    .collect::<Vec<_>>()
                    .join(" + ");
                if what.is_empty() {
                    what.push('0');
                }
                (format!("{what} {unit}"), total)
            };
            // The Standard line is in both evaluations: it carries the rules that applied.
            let mut notes = if applied.is_empty() {
                Vec::new()
            } else {
                vec![format!("rules: {}", applied.join("; "))]
            };
            tiers.entry(Tier::Standard).or_default();
            for (tier, parts) in &tiers {
                let (what, total) = sum(parts, "GB");
                items.push(line(
                    tier.to_string(),
                    Amount::of(vec![Term::new(
                        what,
                        total,
                        self.price(tier.catalog_id(), Unit::GbMonth),
                    )]),
                    std::mem::take(&mut notes),
                ));
            }
            for (class, (parts, unknown)) in &transitions {
                let (what, total) = sum(parts, "objects");
                let mut amount = Amount::of(vec![Term::new(
                    format!("{what} a month"),
                    total,
                    self.price(class.transition_id(), Unit::ThousandRequests),
                )]);
                if !unknown.is_empty() {
                    amount.unknown = Some(format!("no object count for {}", unknown.join(", ")));
                }
                items.push(line(
                    format!("transitions to {}", class.as_str()),
                    amount,
                    Vec::new(),
                ));
            }
            if !monitored.0.is_empty() {
                let (what, total) = sum(&monitored.0, "objects");
                let mut amount = Amount::of(vec![Term::new(
                    what,
                    total,
                    self.price("s3/it-monitoring", Unit::ThousandObjectMonths),
                )]);
                if !monitored.1.is_empty() {
                    amount.unknown =
                        Some(format!("no object count for {}", monitored.1.join(", ")));
                }
                items.push(line(
                    "Intelligent-Tiering monitoring".to_owned(),
                    amount,
                    vec![
                        "objects over 128 KB are monitored; the usage's objects are assumed larger"
                            .to_owned(),
                    ],
                ));
            }
        }
    }

    fn logs(&self, controls: &Controls, items: &mut Vec<Item>) {
        let days_per_month = self.hours_per_month / 24.0;
        for g in &self.inventory.log_groups {
            let usage = self.env_usage.logs.iter().find(|u| u.group == g.name);
            let ia = g.infrequent_access && controls.on(Lever::LogClass);
            let class = if ia { "infrequent" } else { "standard" };
            let owner = match g.owner {
                LogOwner::Stack => "created by the stack",
                LogOwner::Service => "created by the AWS service; the app schedules its retention",
            };
            let Some(u) = usage else {
                items.push(Item {
                    component: Component::CloudWatchLogs,
                    resource: format!("{} · ingestion", g.name),
                    amount: Amount::of(vec![Term::new(
                        "no usage given: 0 GB",
                        0.0,
                        self.price(&format!("logs/ingest-{class}"), Unit::Gb),
                    )]),
                    levers: Vec::new(),
                    no_lever: Some("no usage".to_owned()),
                    notes: vec![owner.to_owned()],
                });
                continue;
            };
            items.push(Item {
                component: Component::CloudWatchLogs,
                resource: format!("{} · ingestion", g.name),
                amount: Amount::of(vec![Term::new(
                    format!("{} GB a month", qty(u.ingested_gb_per_month)),
                    u.ingested_gb_per_month,
                    self.price(&format!("logs/ingest-{class}"), Unit::Gb),
                )]),
                levers: if g.infrequent_access {
                    vec![Lever::LogClass]
                } else {
                    Vec::new()
                },
                no_lever: (!g.infrequent_access)
                    .then(|| "retention cuts storage, not ingestion".to_owned()),
                notes: vec![
                    owner.to_owned(),
                    "only logging less, or the Infrequent Access class, lowers ingestion"
                        .to_owned(),
                ],
            });
            let retention = g
                .retention_days
                .filter(|_| controls.on(Lever::LogRetention));
            let kept = retention.map_or(u.history_days, |r| f64::from(r).min(u.history_days));
            let kept_text = match retention {
                Some(r) => format!("min({r} d retention, {} d of history)", qty(u.history_days)),
                None => format!("{} d of history, never expiring", qty(u.history_days)),
            };
            let stored = u.ingested_gb_per_month * u.stored_per_ingested * kept / days_per_month;
            items.push(Item {
                component: Component::CloudWatchLogs,
                resource: format!("{} · storage", g.name),
                amount: Amount::of(vec![Term::new(
                    format!(
                        "{} GB a month × {} stored/ingested × {kept_text} / {} d",
                        qty(u.ingested_gb_per_month),
                        qty(u.stored_per_ingested),
                        qty(days_per_month)
                    ),
                    stored,
                    self.price(&format!("logs/storage-{class}"), Unit::GbMonth),
                )]),
                levers: if g.retention_days.is_some() {
                    vec![Lever::LogRetention]
                } else {
                    Vec::new()
                },
                no_lever: g
                    .retention_days
                    .is_none()
                    .then(|| "never expires".to_owned()),
                notes: Vec::new(),
            });
        }
    }

    fn load_balancers(&self, items: &mut Vec<Item>) {
        let h = self.hours_per_month;
        for lb in &self.env_usage.load_balancers {
            let prefix = lb.kind.catalog_prefix();
            let mut terms = vec![Term::new(
                format!("1 × {} h", trim(h)),
                h,
                self.price(&format!("{prefix}-hour"), Unit::Hour),
            )];
            if lb.lcu > 0.0 {
                terms.push(Term::new(
                    format!("{} LCU × {} h", qty(lb.lcu), trim(h)),
                    lb.lcu * h,
                    self.price(&format!("{prefix}-lcu"), Unit::LcuHour),
                ));
            }
            items.push(Item {
                component: Component::LoadBalancer,
                resource: format!("{} ({})", lb.name, lb.kind.label()),
                amount: Amount::of(terms),
                levers: Vec::new(),
                no_lever: Some("nothing stops it off-hours".to_owned()),
                notes: vec!["created by a Kubernetes Service or Ingress, outside the stacks; from the usage file".to_owned()],
            });
        }
    }

    fn repositories(&self, controls: &Controls, items: &mut Vec<Item>) {
        for r in &self.inventory.repositories {
            let price = self.price("ecr/storage", Unit::GbMonth);
            let Some(u) = self.env_usage.ecr.iter().find(|u| u.repository == r.name) else {
                items.push(Item {
                    component: Component::Ecr,
                    resource: r.name.clone(),
                    amount: Amount::of(vec![Term::new("no usage given: 0 images", 0.0, price)]),
                    levers: Vec::new(),
                    no_lever: Some("no usage".to_owned()),
                    notes: Vec::new(),
                });
                continue;
            };
            let all = ecr::kept(&[], u);
            let (images, what, notes) = match (&r.policy, controls.on(Lever::ImagePruning)) {
                (Some(rules), true) => {
                    let k = ecr::kept(rules, u);
                    let mut notes =
                        vec!["a `tagStatus: any` rule is counted as an upper bound".to_owned()];
                    if !k.unmodeled.is_empty() {
                        notes.push(format!(
                            "rules {:?} (sinceImagePushed) are not modeled: they keep all",
                            k.unmodeled
                        ));
                    }
                    (
                        k.images,
                        format!("{} of {} images kept", k.images, all.total),
                        notes,
                    )
                }
                _ => (
                    all.total,
                    format!("{} images, none expired", all.total),
                    Vec::new(),
                ),
            };
            items.push(Item {
                component: Component::Ecr,
                resource: r.name.clone(),
                amount: Amount::of(vec![Term::new(
                    format!("{what} × {} GB", qty(u.image_gb)),
                    images as f64 * u.image_gb,
                    price,
                )]),
                levers: if r.policy.is_some() {
                    vec![Lever::ImagePruning]
                } else {
                    Vec::new()
                },
                no_lever: r.policy.is_none().then(|| "no lifecycle policy".to_owned()),
                notes,
            });
        }
    }

    fn training(&self, controls: &Controls, items: &mut Vec<Item>) {
        for t in &self.env_usage.training {
            let hours = t.jobs_per_month * t.hours_per_job * f64::from(t.instances);
            let spot = t.managed_spot && controls.on(Lever::TrainingSpot);
            let mut term = Term::new(
                format!(
                    "{} jobs × {} h × {} instance{}{}",
                    qty(t.jobs_per_month),
                    qty(t.hours_per_job),
                    t.instances,
                    if t.instances == 1 { "" } else { "s" },
                    if spot {
                        " on managed spot"
                    } else {
                        " on-demand"
                    }
                ),
                hours,
                self.price(
                    &format!("sagemaker/training/{}", t.instance_type),
                    Unit::Hour,
                ),
            );
            let mut notes = vec![
                "jobs are not in the stacks; their usage comes from the usage file".to_owned(),
            ];
            if spot {
                term.discount = Some(self.training_spot_discount());
                if self.usage.training_spot_discount.is_none() {
                    notes.push(
                        "managed spot is priced with the node groups' Spot discount (AWS: up to 90 %); \
                         set training_spot_discount to change it"
                            .to_owned(),
                    );
                }
            }
            let levers = if t.managed_spot {
                vec![Lever::TrainingSpot]
            } else {
                Vec::new()
            };
            items.push(Item {
                component: Component::SageMakerTraining,
                resource: format!("{}: {} × {}", t.name, t.instances, t.instance_type),
                amount: Amount::of(vec![term]),
                levers: levers.clone(),
                no_lever: levers.is_empty().then(|| "on-demand training".to_owned()),
                notes,
            });
            if let Some(gb) = t.volume_gb {
                items.push(Item {
                    component: Component::SageMakerTraining,
                    resource: format!("{} · volumes", t.name),
                    amount: Amount::of(vec![Term::new(
                        format!(
                            "{} GB × {} instance-h / {} h",
                            qty(gb),
                            qty(hours),
                            trim(self.hours_per_month)
                        ),
                        gb * hours / self.hours_per_month,
                        self.price("sagemaker/ml-storage", Unit::GbMonth),
                    )]),
                    levers: Vec::new(),
                    no_lever: Some("billed while jobs run".to_owned()),
                    notes: Vec::new(),
                });
            }
        }
    }

    fn endpoints(&self, controls: &Controls, items: &mut Vec<Item>) {
        let h = self.hours_per_month;
        let mut names = self.inventory.endpoint_names();
        names.extend(self.env_usage.endpoints.iter().map(|e| e.name.clone()));
        names.sort();
        names.dedup();
        for name in names {
            let from_usage = self.env_usage.endpoints.iter().find(|e| e.name == name);
            let from_config = self
                .inventory
                .endpoints
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, config)| {
                    self.inventory
                        .endpoint_configs
                        .iter()
                        .find(|c| c.name == *config)
                });
            let shape = from_usage
                .map(|u| (u.instance_type.clone(), u.instances))
                .or_else(|| from_config.map(|c| (c.instance_type.clone(), c.instances)));
            let schedule = self.inventory.endpoint_hours(&name);
            let (hours, notes) = match (&schedule, controls.on(Lever::OffHours)) {
                (Some(s), true) => {
                    let hm = s.hours_per_month(h);
                    (
                        hm,
                        vec![format!(
                            "off-hours schedule {} × {}/168 = {} h of {}",
                            s.describe(),
                            trim(h),
                            qty(hm),
                            trim(h)
                        )],
                    )
                }
                _ => (h, Vec::new()),
            };
            let levers = if schedule.is_some() {
                vec![Lever::OffHours]
            } else {
                Vec::new()
            };
            let no_lever = levers.is_empty().then(|| "always on".to_owned());
            let Some((instance_type, instances)) = shape else {
                items.push(Item {
                    component: Component::SageMakerEndpoint,
                    resource: name.clone(),
                    amount: Amount {
                        terms: Vec::new(),
                        unknown: Some(format!(
                            "the endpoint config is not in the stacks; give its instance type in [[envs.{}.endpoints]]",
                            self.inventory.env
                        )),
                    },
                    levers,
                    no_lever,
                    notes,
                });
                continue;
            };
            items.push(Item {
                component: Component::SageMakerEndpoint,
                resource: format!("{name}: {instances} × {instance_type}"),
                amount: Amount::of(vec![Term::new(
                    format!("{instances} × {} h", qty(hours)),
                    f64::from(instances) * hours,
                    self.price(&format!("sagemaker/hosting/{instance_type}"), Unit::Hour),
                )]),
                levers,
                no_lever,
                notes,
            });
        }
    }

    fn scheduler(&self, controls: &Controls, items: &mut Vec<Item>) {
        if self.inventory.schedules.is_empty() {
            return;
        }
        let mut count = 0usize;
        let mut invocations = 0.0;
        let mut uncountable = Vec::new();
        for s in &self.inventory.schedules {
            let active = match &s.purpose {
                Purpose::NodeGroupStart(_)
                | Purpose::NodeGroupStop(_)
                | Purpose::EndpointStart(_)
                | Purpose::EndpointStop(_) => controls.on(Lever::OffHours),
                Purpose::Retention { .. } => controls.on(Lever::LogRetention),
                Purpose::Other(_) => true,
            };
            if !active {
                continue;
            }
            count += 1;
            match crate::inventory::invocations_per_month(&s.expression, self.hours_per_month) {
                Some(n) => invocations += n,
                None => uncountable.push(s.expression.clone()),
            }
        }
        let mut amount = Amount::of(vec![Term::new(
            format!("{count} schedules"),
            invocations,
            self.price("scheduler/invocations", Unit::MillionInvocations),
        )]);
        if !uncountable.is_empty() {
            amount.unknown = Some(format!(
                "cannot count invocations of {}",
                uncountable.join(", ")
            ));
        }
        items.push(Item {
            component: Component::Scheduler,
            resource: "schedule invocations".to_owned(),
            amount,
            levers: Vec::new(),
            no_lever: Some("the levers' own schedules, in the free tier".to_owned()),
            notes: Vec::new(),
        });
    }

    fn budgets(&self, items: &mut Vec<Item>) {
        let days = self.hours_per_month / 24.0;
        for b in &self.inventory.budgets {
            items.push(Item {
                component: Component::Budgets,
                resource: b.name.clone(),
                amount: Amount::of(vec![Term::new(
                    format!("1 budget × {} days", qty(days)),
                    days,
                    self.price("budgets/budget", Unit::BudgetDay),
                )]),
                levers: Vec::new(),
                no_lever: Some("alerts only".to_owned()),
                notes: Vec::new(),
            });
        }
        if self.inventory.budget_actions > 0 {
            let n = self.inventory.budget_actions as f64;
            items.push(Item {
                component: Component::Budgets,
                resource: "action-enabled budgets".to_owned(),
                amount: Amount::of(vec![Term::new(
                    format!("{} budgets × {} days", qty(n), qty(days)),
                    n * days,
                    self.price("budgets/action-budget", Unit::BudgetDay),
                )]),
                levers: Vec::new(),
                no_lever: Some("guardrail".to_owned()),
                notes: Vec::new(),
            });
        }
    }
}
