//! Usage files: how much the app is used (GB stored, logs ingested, images kept, nodes,
//! jobs…), per environment, in TOML. Resources are named by what the app names them
//! (bucket name and prefix, log group name, repository name, node group name), never by
//! logical id.
//!
//! ```toml
//! region = "us-east-1"
//! [[envs.dev.s3]]
//! bucket = "retail-forecast-data-dev"
//! prefix = "raw/"
//! gb = 40
//! objects = 4000
//! uniform_age_days = 365
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::CostError;
use crate::s3::AgeProfile;

/// The plan's profile (`--usage plan`), compiled in.
pub const PLAN_TOML: &str = include_str!("../data/plan.toml");

/// Name of the built-in plan profile.
pub const PLAN_PROFILE: &str = "plan";

/// A usage file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    /// What the profile describes, shown in reports.
    #[serde(default)]
    pub name: Option<String>,
    /// Region the prices are looked up in (a stack pinned to a region wins).
    #[serde(default = "default_region")]
    pub region: String,
    /// Hours in a month (default 730, the AWS convention).
    #[serde(default)]
    pub hours_per_month: Option<f64>,
    /// Spot discount off on-demand for node groups, 0 to 1 (default: the catalog's
    /// `ec2/spot-discount`).
    #[serde(default)]
    pub spot_discount: Option<f64>,
    /// Managed spot training discount, 0 to 1 (default: the node groups' discount).
    #[serde(default)]
    pub training_spot_discount: Option<f64>,
    /// Price overrides by catalog id (`"ec2/t3.medium" = 0.04`): reports cite them as
    /// overrides next to the catalog's price.
    #[serde(default)]
    pub prices: BTreeMap<String, f64>,
    /// Usage per environment.
    #[serde(default)]
    pub envs: BTreeMap<String, EnvUsage>,
    /// A published before/after table to check against this profile.
    #[serde(default)]
    pub plan: Option<PlanTable>,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

/// The usage of one environment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvUsage {
    /// EKS node groups, by node group name.
    #[serde(default)]
    pub node_groups: Vec<NodeGroupUsage>,
    /// EKS clusters the node groups join, by cluster name.
    #[serde(default)]
    pub clusters: Vec<ClusterUsage>,
    /// Load balancers the cluster's Services and Ingresses create (not in the stacks).
    #[serde(default)]
    pub load_balancers: Vec<LoadBalancerUsage>,
    /// Objects stored, per bucket and prefix.
    #[serde(default)]
    pub s3: Vec<PrefixUsage>,
    /// Logs ingested, per log group.
    #[serde(default)]
    pub logs: Vec<LogUsage>,
    /// Images pushed, per repository.
    #[serde(default)]
    pub ecr: Vec<RepositoryUsage>,
    /// SageMaker training jobs.
    #[serde(default)]
    pub training: Vec<TrainingUsage>,
    /// SageMaker real-time endpoints, by endpoint name.
    #[serde(default)]
    pub endpoints: Vec<EndpointUsage>,
}

/// Usage of a node group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeGroupUsage {
    /// Node group name.
    pub name: String,
    /// Nodes running while the group is up (default: the template's DesiredSize).
    #[serde(default)]
    pub nodes: Option<f64>,
    /// EBS type of the nodes' root volumes (default `gp2`, Infracost's assumption for
    /// node groups without a launch template).
    #[serde(default)]
    pub root_volume_type: Option<String>,
}

/// Usage of an EKS cluster.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterUsage {
    /// Cluster name.
    pub name: String,
    /// The cluster's Kubernetes version is in extended support ($0.60/h instead of $0.10).
    #[serde(default)]
    pub extended_support: bool,
}

/// A load balancer created outside the stacks (by a Kubernetes Service or Ingress).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerUsage {
    /// A name for the report.
    pub name: String,
    /// `application` or `network`.
    pub kind: LoadBalancerKind,
    /// Average load-balancer capacity units.
    #[serde(default)]
    pub lcu: f64,
}

/// Kinds of Elastic Load Balancing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadBalancerKind {
    /// Application Load Balancer.
    Application,
    /// Network Load Balancer.
    Network,
    /// Classic Load Balancer.
    Classic,
}

impl LoadBalancerKind {
    /// `application`, `network` or `classic`.
    pub fn label(self) -> &'static str {
        match self {
            LoadBalancerKind::Application => "application",
            LoadBalancerKind::Network => "network",
            LoadBalancerKind::Classic => "classic",
        }
    }

    /// Catalog id prefix (`elb/alb`).
    pub fn catalog_prefix(self) -> &'static str {
        match self {
            LoadBalancerKind::Application => "elb/alb",
            LoadBalancerKind::Network => "elb/nlb",
            LoadBalancerKind::Classic => "elb/clb",
        }
    }
}

/// Objects under one prefix of a bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixUsage {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix, e.g. `raw/`.
    pub prefix: String,
    /// GB the prefix holds when nothing expires (the "before" volume).
    pub gb: f64,
    /// Objects behind those GB (for transition requests and Intelligent-Tiering
    /// monitoring; assumed larger than 128 KB). Without it those lines are unknown.
    #[serde(default)]
    pub objects: Option<f64>,
    /// Data written at a steady rate over this many days (shorthand for one age band).
    #[serde(default)]
    pub uniform_age_days: Option<f64>,
    /// How the GB spread over object age, as bands of days with shares summing to 1.
    #[serde(default)]
    pub age_bands: Option<Vec<AgeBand>>,
    /// Tags every object under the prefix carries (lifecycle rules may filter on tags).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl PrefixUsage {
    /// The age profile: the bands, or one uniform band, or — with neither — all of it
    /// younger than a day (no lifecycle rule applies yet).
    pub fn age_profile(&self) -> Result<AgeProfile, String> {
        match (&self.age_bands, self.uniform_age_days) {
            (Some(_), Some(_)) => Err("set uniform_age_days or age_bands, not both".to_owned()),
            (Some(bands), None) => AgeProfile::new(bands.clone()),
            (None, Some(days)) => AgeProfile::uniform(days),
            (None, None) => AgeProfile::uniform(1.0),
        }
    }
}

/// A share of a prefix's GB whose objects are `from` to `to` days old (uniformly).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeBand {
    /// Youngest age in the band, days.
    pub from: f64,
    /// Oldest age in the band, days (exclusive).
    pub to: f64,
    /// Share of the GB in the band.
    pub share: f64,
}

/// Logs of one log group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogUsage {
    /// Log group name.
    pub group: String,
    /// GB ingested a month.
    pub ingested_gb_per_month: f64,
    /// How long the group has been collecting, in days: what never-expiring storage
    /// holds (retention keeps at most its own days).
    #[serde(default)]
    pub history_days: f64,
    /// GB stored per GB ingested (CloudWatch bills compressed bytes; 1.0, no
    /// compression, is the upper bound).
    #[serde(default = "one")]
    pub stored_per_ingested: f64,
}

fn one() -> f64 {
    1.0
}

/// Images of one repository.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositoryUsage {
    /// Repository name.
    pub repository: String,
    /// GB each image adds (its layers not shared with other images).
    pub image_gb: f64,
    /// Untagged images pushed over the repository's life.
    #[serde(default)]
    pub untagged: u32,
    /// Tagged images by tag (each image carries one tag; rules match its prefix).
    #[serde(default)]
    pub tagged: BTreeMap<String, u32>,
}

/// A SageMaker training job run repeatedly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingUsage {
    /// A name for the report.
    pub name: String,
    /// Instance type, e.g. `ml.m5.large`.
    pub instance_type: String,
    /// Instances per job.
    #[serde(default = "one_u32")]
    pub instances: u32,
    /// Jobs a month.
    pub jobs_per_month: f64,
    /// Billable hours per job.
    pub hours_per_job: f64,
    /// Managed spot training.
    #[serde(default)]
    pub managed_spot: bool,
    /// Training volume per instance, GB.
    #[serde(default)]
    pub volume_gb: Option<f64>,
}

fn one_u32() -> u32 {
    1
}

/// A SageMaker real-time endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointUsage {
    /// Endpoint name.
    pub name: String,
    /// Instance type, e.g. `ml.m5.large`.
    pub instance_type: String,
    /// Instances behind the endpoint.
    #[serde(default = "one_u32")]
    pub instances: u32,
}

/// A published before/after table (the plan's item 14) and the assumptions behind it
/// that the app's configuration contradicts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanTable {
    /// Where the table is from.
    pub source: String,
    /// The environment it describes.
    pub env: String,
    /// Rows, by component name as the report names them.
    pub rows: Vec<PlanRow>,
    /// Published totals.
    pub total_before: f64,
    /// Published totals.
    pub total_after: f64,
    /// Published saving, percent.
    pub saving_pct: f64,
    /// What the table assumed that the configuration does not say.
    #[serde(default)]
    pub assumptions: PlanAssumptions,
}

/// One published row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRow {
    /// Component, as the report names it (`EKS node group`, `S3`…).
    pub component: String,
    /// The plan's label.
    pub label: String,
    /// Published "before", USD a month.
    pub before: f64,
    /// Published "after", USD a month.
    pub after: f64,
    /// How the plan got the "after" figure, if it can be told.
    #[serde(default)]
    pub after_basis: Option<String>,
}

/// Assumptions of a published table that differ from the configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanAssumptions {
    /// Nodes per node group the table prices (by node group name).
    #[serde(default)]
    pub nodes: BTreeMap<String, f64>,
    /// Hours a month the table assumes compute runs "after".
    #[serde(default)]
    pub after_hours: Option<f64>,
}

impl Usage {
    /// Parses a usage file; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Usage, CostError> {
        let usage: Usage = toml::from_str(text).map_err(|e| CostError::Usage {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        usage.validate().map_err(|message| CostError::Usage {
            file: file.to_owned(),
            message,
        })?;
        Ok(usage)
    }

    /// The plan's built-in profile.
    pub fn plan() -> Result<Usage, CostError> {
        Usage::from_toml(PLAN_TOML, PLAN_PROFILE)
    }

    /// The usage of `env`.
    pub fn env(&self, env: &str, file: &str) -> Result<&EnvUsage, CostError> {
        self.envs
            .get(env)
            .ok_or_else(|| CostError::NoUsageForEnvironment {
                file: file.to_owned(),
                env: env.to_owned(),
                available: self.envs.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }

    fn validate(&self) -> Result<(), String> {
        let fraction = |name: &str, v: Option<f64>| match v {
            Some(x) if !(0.0..1.0).contains(&x) => {
                Err(format!("{name} must be at least 0 and below 1, got {x}"))
            }
            _ => Ok(()),
        };
        fraction("spot_discount", self.spot_discount)?;
        fraction("training_spot_discount", self.training_spot_discount)?;
        if let Some(h) = self.hours_per_month {
            if !(h > 0.0 && h <= 744.0) {
                return Err(format!("hours_per_month must be in (0, 744], got {h}"));
            }
        }
        for (id, p) in &self.prices {
            if !(p.is_finite() && *p >= 0.0) {
                return Err(format!("prices.\"{id}\" must be a non-negative number"));
            }
        }
        for (env, u) in &self.envs {
            let at = |what: &str| format!("envs.{env}.{what}");
            for s in &u.s3 {
                s.age_profile()
                    .map_err(|e| format!("{} {}{}: {e}", at("s3"), s.bucket, s.prefix))?;
                non_negative(&at("s3.gb"), s.gb)?;
                if let Some(o) = s.objects {
                    non_negative(&at("s3.objects"), o)?;
                }
            }
            for l in &u.logs {
                non_negative(&at("logs.ingested_gb_per_month"), l.ingested_gb_per_month)?;
                non_negative(&at("logs.history_days"), l.history_days)?;
                non_negative(&at("logs.stored_per_ingested"), l.stored_per_ingested)?;
            }
            for r in &u.ecr {
                non_negative(&at("ecr.image_gb"), r.image_gb)?;
            }
            for n in &u.node_groups {
                if let Some(x) = n.nodes {
                    non_negative(&at("node_groups.nodes"), x)?;
                }
            }
            for t in &u.training {
                non_negative(&at("training.jobs_per_month"), t.jobs_per_month)?;
                non_negative(&at("training.hours_per_job"), t.hours_per_job)?;
            }
            for l in &u.load_balancers {
                non_negative(&at("load_balancers.lcu"), l.lcu)?;
            }
        }
        Ok(())
    }
}

fn non_negative(field: &str, x: f64) -> Result<(), String> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(format!("{field} must be a non-negative number, got {x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_profile_parses() {
        let plan = Usage::plan().expect("plan profile");
        assert_eq!(plan.hours_per_month, Some(720.0));
        let table = plan.plan.as_ref().expect("plan table");
        assert_eq!(table.rows.len(), 5);
        let sum: f64 = table.rows.iter().map(|r| r.before).sum();
        assert!(
            (sum - table.total_before).abs() < 1e-9,
            "rows add up to the published total"
        );
        assert!(plan.env("dev", "plan").is_ok());
        assert!(matches!(
            plan.env("prod", "plan"),
            Err(CostError::NoUsageForEnvironment { .. })
        ));
    }

    #[test]
    fn bad_usage_is_rejected_with_the_field() {
        let bad = "spot_discount = 1.5\n";
        let e = Usage::from_toml(bad, "u.toml")
            .expect_err("rejected")
            .to_string();
        assert!(e.contains("spot_discount"), "{e}");
        let unknown = "[envs.dev]\nnodegroups = []\n";
        assert!(Usage::from_toml(unknown, "u.toml").is_err());
        let both = "[[envs.dev.s3]]\nbucket = \"b\"\nprefix = \"p/\"\ngb = 1\nuniform_age_days = 10\nage_bands = [{ from = 0, to = 10, share = 1.0 }]\n";
        assert!(Usage::from_toml(both, "u.toml").is_err());
        let shares = "[[envs.dev.s3]]\nbucket = \"b\"\nprefix = \"p/\"\ngb = 1\nage_bands = [{ from = 0, to = 10, share = 0.5 }]\n";
        assert!(Usage::from_toml(shares, "u.toml").is_err());
    }
}
