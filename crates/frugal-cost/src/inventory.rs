//! What the synthesized templates of one environment contain that costs money: read
//! from the same JSON that deploys, resource types and properties only.

use std::collections::BTreeMap;

use frugal_constructs::{parse_cron, OfficeHours};
use frugal_core::{Assembly, Manifest};
use serde::Serialize;
use serde_json::Value as Json;

use crate::ecr::{parse_policy, EcrRule};
use crate::error::CostError;
use crate::s3::{archive_configs, lifecycle_rules, ArchiveConfig, LifecycleRule};

/// Where a resource is: stack and logical id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Origin {
    /// Stack name.
    pub stack: String,
    /// Logical id.
    pub logical_id: String,
}

/// An `AWS::EKS::Nodegroup`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeGroup {
    /// Where it is.
    pub origin: Origin,
    /// `NodegroupName`.
    pub name: String,
    /// `ClusterName`.
    pub cluster: String,
    /// `CapacityType` is `SPOT`.
    pub spot: bool,
    /// `InstanceTypes` (the EKS default `t3.medium` when absent).
    pub instance_types: Vec<String>,
    /// `ScalingConfig.MinSize`.
    pub min: u32,
    /// `ScalingConfig.DesiredSize`.
    pub desired: u32,
    /// `ScalingConfig.MaxSize`.
    pub max: u32,
    /// `DiskSize`, GB (the EKS default 20 when absent).
    pub disk_gb: f64,
}

/// What a schedule does.
#[derive(Clone, Debug, PartialEq)]
pub enum Purpose {
    /// Scales a node group back up (`eks:updateNodegroupConfig`, desired > 0).
    NodeGroupStart(String),
    /// Scales a node group to zero.
    NodeGroupStop(String),
    /// Creates a SageMaker endpoint.
    EndpointStart(String),
    /// Deletes a SageMaker endpoint.
    EndpointStop(String),
    /// Puts a retention policy on a log group.
    Retention {
        /// Log group name.
        group: String,
        /// Retention in days.
        days: u32,
    },
    /// Anything else, by target ARN.
    Other(String),
}

/// An enabled `AWS::Scheduler::Schedule`.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Where it is.
    pub origin: Origin,
    /// `ScheduleExpression`.
    pub expression: String,
    /// `ScheduleExpressionTimezone` (UTC when absent).
    pub time_zone: String,
    /// What it does.
    pub purpose: Purpose,
}

/// Off-hours schedules of one node group or endpoint, recovered as office hours.
#[derive(Clone, Debug, PartialEq)]
pub struct OffHours {
    /// The office hours the start and stop expressions implement.
    pub hours: OfficeHours,
    /// Start expression.
    pub start: String,
    /// Stop expression.
    pub stop: String,
}

impl OffHours {
    /// Hours running in a month of `hours_per_month` hours.
    pub fn hours_per_month(&self, hours_per_month: f64) -> f64 {
        self.hours.hours_per_week() * hours_per_month / 168.0
    }

    /// `cron(0 7 ? * MON-FRI *) → cron(0 19 ? * MON-FRI *) UTC: 60 h a week`.
    pub fn describe(&self) -> String {
        format!(
            "{} → {} {}: {} h a week",
            self.start,
            self.stop,
            self.hours.time_zone,
            crate::catalog::trim(self.hours.hours_per_week())
        )
    }
}

/// An `AWS::S3::Bucket`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    /// Where it is.
    pub origin: Origin,
    /// `BucketName`.
    pub name: String,
    /// Enabled lifecycle rules.
    pub rules: Vec<LifecycleRule>,
    /// Enabled Intelligent-Tiering archive configurations.
    pub archive: Vec<ArchiveConfig>,
}

/// Who creates a log group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogOwner {
    /// An `AWS::Logs::LogGroup` of the stack.
    Stack,
    /// An AWS service; the app only schedules its retention.
    Service,
}

/// A log group: an `AWS::Logs::LogGroup`, or a service-owned group whose retention a
/// schedule puts.
#[derive(Clone, Debug, PartialEq)]
pub struct LogGroup {
    /// Where it is (the log group, or the retention schedule).
    pub origin: Origin,
    /// Log group name.
    pub name: String,
    /// Retention in days; `None` never expires.
    pub retention_days: Option<u32>,
    /// `LogGroupClass` is `INFREQUENT_ACCESS`.
    pub infrequent_access: bool,
    /// Who creates it.
    pub owner: LogOwner,
}

/// An `AWS::ECR::Repository`.
#[derive(Clone, Debug, PartialEq)]
pub struct Repository {
    /// Where it is.
    pub origin: Origin,
    /// `RepositoryName`.
    pub name: String,
    /// Lifecycle policy rules, if any.
    pub policy: Option<Vec<EcrRule>>,
}

/// An `AWS::Budgets::Budget`.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    /// Where it is.
    pub origin: Origin,
    /// `Budget.BudgetName`.
    pub name: String,
}

/// A SageMaker endpoint config's first production variant.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointConfig {
    /// `EndpointConfigName`.
    pub name: String,
    /// Instance type.
    pub instance_type: String,
    /// Instances.
    pub instances: u32,
}

/// A resource the model does not price, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unpriced {
    /// Where it is.
    pub origin: Origin,
    /// Resource type.
    pub resource_type: String,
    /// Why it has no line.
    pub reason: String,
}

/// Everything billable in one environment's stacks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inventory {
    /// App name.
    pub app: String,
    /// Environment.
    pub env: String,
    /// Stacks of the environment, in deployment order.
    pub stacks: Vec<String>,
    /// Region the stacks are pinned to, when they are.
    pub region: Option<String>,
    /// Node groups.
    pub node_groups: Vec<NodeGroup>,
    /// `AWS::EKS::Cluster`s the stacks create, by name.
    pub created_clusters: Vec<String>,
    /// Enabled schedules.
    pub schedules: Vec<Schedule>,
    /// Buckets.
    pub buckets: Vec<Bucket>,
    /// Log groups.
    pub log_groups: Vec<LogGroup>,
    /// Repositories.
    pub repositories: Vec<Repository>,
    /// Budgets.
    pub budgets: Vec<Budget>,
    /// Budget actions (action-enabled budgets cost money past the free ones).
    pub budget_actions: usize,
    /// SageMaker endpoint configs.
    pub endpoint_configs: Vec<EndpointConfig>,
    /// SageMaker endpoints the stacks create (always on), by name and config name.
    pub endpoints: Vec<(String, String)>,
    /// Resources without a line.
    pub unpriced: Vec<Unpriced>,
    /// What the reader should know (names that are not literals, unpaired schedules…).
    pub warnings: Vec<String>,
}

/// Resource types that cost nothing by themselves.
const FREE: &[&str] = &[
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::Scheduler::ScheduleGroup",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::EKS::PodIdentityAssociation",
];

fn literal(v: Option<&Json>) -> Option<String> {
    v.and_then(Json::as_str).map(str::to_owned)
}

impl Inventory {
    /// The inventory of `env` (stacks tagged `Environment=env`) in a synthesized app.
    pub fn from_assembly(assembly: &Assembly, env: &str) -> Result<Inventory, CostError> {
        Inventory::from_templates(&assembly.manifest, env, |name| {
            assembly.stack(name).map(|s| s.template())
        })
    }

    /// The inventory of `env` from a manifest and a way to get each stack's template.
    pub fn from_templates<'a>(
        manifest: &Manifest,
        env: &str,
        template: impl Fn(&str) -> Option<&'a Json>,
    ) -> Result<Inventory, CostError> {
        let stacks: Vec<_> = manifest
            .stacks
            .iter()
            .filter(|s| s.tags.get("Environment").map(String::as_str) == Some(env))
            .collect();
        if stacks.is_empty() {
            let mut envs: Vec<&str> = manifest
                .stacks
                .iter()
                .filter_map(|s| s.tags.get("Environment").map(String::as_str))
                .collect();
            envs.sort();
            envs.dedup();
            return Err(CostError::UnknownEnvironment {
                env: env.to_owned(),
                available: envs.join(", "),
            });
        }
        let mut inv = Inventory {
            app: manifest.app.clone(),
            env: env.to_owned(),
            ..Inventory::default()
        };
        let mut regions: Vec<Option<String>> = stacks.iter().map(|s| s.region.clone()).collect();
        regions.dedup();
        if let [Some(r)] = regions.as_slice() {
            inv.region = Some(r.clone());
        }
        for s in &stacks {
            inv.stacks.push(s.name.clone());
            let t = template(&s.name).ok_or_else(|| CostError::MissingTemplate(s.name.clone()))?;
            let resources = t
                .get("Resources")
                .and_then(Json::as_object)
                .ok_or_else(|| CostError::Template {
                    stack: s.name.clone(),
                    message: "no Resources object".to_owned(),
                })?;
            // Clusters first, so node groups can resolve a `Ref` to one.
            let mut clusters = BTreeMap::new();
            for (id, r) in resources
                .iter()
                .filter(|(_, r)| r.get("Type").and_then(Json::as_str) == Some("AWS::EKS::Cluster"))
            {
                let name = literal(r.pointer("/Properties/Name"))
                    .unwrap_or_else(|| format!("{}/{id}", s.name));
                inv.created_clusters.push(name.clone());
                clusters.insert(id.clone(), name);
            }
            for (id, r) in resources {
                if r.get("Type").and_then(Json::as_str) == Some("AWS::EKS::Cluster") {
                    continue;
                }
                let cluster_of = |v: Option<&Json>| -> Option<String> {
                    literal(v).or_else(|| clusters.get(v?.get("Ref")?.as_str()?).cloned())
                };
                let cluster = cluster_of(r.pointer("/Properties/ClusterName"));
                let origin = Origin {
                    stack: s.name.clone(),
                    logical_id: id.clone(),
                };
                let ty = r.get("Type").and_then(Json::as_str).unwrap_or_default();
                let empty = Json::Object(Default::default());
                let props = r.get("Properties").unwrap_or(&empty);
                inv.add(origin, ty, props, cluster)
                    .map_err(|message| CostError::Template {
                        stack: s.name.clone(),
                        message,
                    })?;
            }
        }
        inv.finish();
        Ok(inv)
    }

    fn name(&mut self, origin: &Origin, what: &str, v: Option<&Json>) -> String {
        literal(v).unwrap_or_else(|| {
            let fallback = format!("{}/{}", origin.stack, origin.logical_id);
            self.warnings.push(format!(
                "{fallback}: the {what} is not a literal, so usage cannot name it; priced as `{fallback}`"
            ));
            fallback
        })
    }

    fn add(
        &mut self,
        origin: Origin,
        ty: &str,
        props: &Json,
        cluster: Option<String>,
    ) -> Result<(), String> {
        let at = |m: String| format!("{}: {m}", origin.logical_id);
        match ty {
            "AWS::EKS::Nodegroup" => {
                let name = self.name(&origin, "node group name", props.get("NodegroupName"));
                let cluster = match cluster {
                    Some(c) => c,
                    None => self.name(&origin, "cluster name", None),
                };
                let scaling = |k: &str| props.pointer(&format!("/ScalingConfig/{k}")).and_then(Json::as_u64);
                let desired = scaling("DesiredSize").or(scaling("MinSize")).unwrap_or(1);
                let types: Vec<String> = props
                    .get("InstanceTypes")
                    .and_then(Json::as_array)
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                    .unwrap_or_else(|| vec!["t3.medium".to_owned()]);
                self.node_groups.push(NodeGroup {
                    cluster,
                    spot: props.get("CapacityType").and_then(Json::as_str) == Some("SPOT"),
                    instance_types: types,
                    min: u32::try_from(scaling("MinSize").unwrap_or(desired)).map_err(|e| at(e.to_string()))?,
                    desired: u32::try_from(desired).map_err(|e| at(e.to_string()))?,
                    max: u32::try_from(scaling("MaxSize").unwrap_or(desired)).map_err(|e| at(e.to_string()))?,
                    disk_gb: props.get("DiskSize").and_then(Json::as_f64).unwrap_or(20.0),
                    name,
                    origin,
                });
            }
            "AWS::Scheduler::Schedule" => {
                if props.get("State").and_then(Json::as_str) == Some("DISABLED") {
                    return Ok(());
                }
                let expression = literal(props.get("ScheduleExpression")).ok_or_else(|| at("no literal ScheduleExpression".into()))?;
                let arn = props.pointer("/Target/Arn").and_then(Json::as_str).unwrap_or_default().to_owned();
                let input: Json = props
                    .pointer("/Target/Input")
                    .and_then(Json::as_str)
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or(Json::Null);
                let text = |k: &str| input.get(k).and_then(Json::as_str).map(str::to_owned);
                let purpose = if arn.ends_with(":eks:updateNodegroupConfig") {
                    match (text("nodegroupName"), input.pointer("/scalingConfig/desiredSize").and_then(Json::as_u64)) {
                        (Some(n), Some(0)) => Purpose::NodeGroupStop(n),
                        (Some(n), Some(_)) => Purpose::NodeGroupStart(n),
                        _ => Purpose::Other(arn),
                    }
                } else if arn.ends_with(":sagemaker:deleteEndpoint") {
                    text("EndpointName").map_or(Purpose::Other(arn), Purpose::EndpointStop)
                } else if arn.ends_with(":sagemaker:createEndpoint") {
                    text("EndpointName").map_or(Purpose::Other(arn), Purpose::EndpointStart)
                } else if arn.ends_with(":cloudwatchlogs:putRetentionPolicy") {
                    match (text("logGroupName"), input.get("retentionInDays").and_then(Json::as_u64)) {
                        (Some(group), Some(days)) => {
                            Purpose::Retention { group, days: u32::try_from(days).map_err(|e| at(e.to_string()))? }
                        }
                        _ => Purpose::Other(arn),
                    }
                } else {
                    Purpose::Other(arn)
                };
                let time_zone = literal(props.get("ScheduleExpressionTimezone")).unwrap_or_else(|| "UTC".to_owned());
                self.schedules.push(Schedule { origin, expression, time_zone, purpose });
            }
            "AWS::S3::Bucket" => {
                let name = self.name(&origin, "bucket name", props.get("BucketName"));
                let rules = lifecycle_rules(props).map_err(at)?;
                let archive = archive_configs(props).map_err(at)?;
                self.buckets.push(Bucket { origin, name, rules, archive });
            }
            "AWS::Logs::LogGroup" => {
                let name = self.name(&origin, "log group name", props.get("LogGroupName"));
                let retention = props.get("RetentionInDays").and_then(Json::as_u64);
                self.log_groups.push(LogGroup {
                    retention_days: retention.map(u32::try_from).transpose().map_err(|e| at(e.to_string()))?,
                    infrequent_access: props.get("LogGroupClass").and_then(Json::as_str) == Some("INFREQUENT_ACCESS"),
                    owner: LogOwner::Stack,
                    name,
                    origin,
                });
            }
            "AWS::ECR::Repository" => {
                let name = self.name(&origin, "repository name", props.get("RepositoryName"));
                let policy = match props.pointer("/LifecyclePolicy/LifecyclePolicyText").and_then(Json::as_str) {
                    Some(text) => Some(parse_policy(text).map_err(at)?),
                    None => None,
                };
                self.repositories.push(Repository { origin, name, policy });
            }
            "AWS::Budgets::Budget" => {
                let name = self.name(&origin, "budget name", props.pointer("/Budget/BudgetName"));
                self.budgets.push(Budget { origin, name });
            }
            "AWS::Budgets::BudgetsAction" => self.budget_actions += 1,
            "AWS::SageMaker::EndpointConfig" => {
                let name = self.name(&origin, "endpoint config name", props.get("EndpointConfigName"));
                let variant = props.pointer("/ProductionVariants/0");
                match variant.and_then(|v| literal(v.get("InstanceType"))) {
                    Some(instance_type) => self.endpoint_configs.push(EndpointConfig {
                        name,
                        instance_type,
                        instances: variant
                            .and_then(|v| v.get("InitialInstanceCount"))
                            .and_then(Json::as_u64)
                            .map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX)),
                    }),
                    None => self.unpriced.push(Unpriced {
                        origin,
                        resource_type: ty.to_owned(),
                        reason: "serverless or non-literal variant: not modeled".to_owned(),
                    }),
                }
            }
            "AWS::SageMaker::Endpoint" => {
                let name = self.name(&origin, "endpoint name", props.get("EndpointName"));
                let config = literal(props.get("EndpointConfigName")).unwrap_or_default();
                self.endpoints.push((name, config));
            }
            "AWS::SNS::Topic" => self.unpriced.push(Unpriced {
                origin,
                resource_type: ty.to_owned(),
                reason: "billed per publish and delivery; budget alerts are a few a month, inside the SNS free tier"
                    .to_owned(),
            }),
            "AWS::SQS::Queue" => self.unpriced.push(Unpriced {
                origin,
                resource_type: ty.to_owned(),
                reason: "billed per request; a dead-letter queue sees a few, inside the first million free a month"
                    .to_owned(),
            }),
            t if FREE.contains(&t) => self.unpriced.push(Unpriced {
                origin,
                resource_type: ty.to_owned(),
                reason: "free".to_owned(),
            }),
            _ => self.unpriced.push(Unpriced {
                origin,
                resource_type: ty.to_owned(),
                reason: "not modeled by frugal-cost: its cost is missing from the totals".to_owned(),
            }),
        }
        Ok(())
    }

    /// Adds the service-owned log groups the retention schedules name.
    fn finish(&mut self) {
        let retained: Vec<(Origin, String, u32)> = self
            .schedules
            .iter()
            .filter_map(|s| match &s.purpose {
                Purpose::Retention { group, days } => {
                    Some((s.origin.clone(), group.clone(), *days))
                }
                _ => None,
            })
            .collect();
        for (origin, name, days) in retained {
            if !self.log_groups.iter().any(|g| g.name == name) {
                self.log_groups.push(LogGroup {
                    origin,
                    name,
                    retention_days: Some(days),
                    infrequent_access: false,
                    owner: LogOwner::Service,
                });
            }
        }
        for kind in [Kind::NodeGroup, Kind::Endpoint] {
            for (name, pair) in self.pairs(kind) {
                if let Err(e) = pair {
                    self.warnings
                        .push(format!("{name}: {e}; priced as always on"));
                }
            }
        }
    }

    fn pairs(&self, kind: Kind) -> BTreeMap<String, Result<OffHours, String>> {
        let mut starts: BTreeMap<&str, &Schedule> = BTreeMap::new();
        let mut stops: BTreeMap<&str, &Schedule> = BTreeMap::new();
        for s in &self.schedules {
            match (&s.purpose, kind) {
                (Purpose::NodeGroupStart(n), Kind::NodeGroup)
                | (Purpose::EndpointStart(n), Kind::Endpoint) => {
                    starts.insert(n, s);
                }
                (Purpose::NodeGroupStop(n), Kind::NodeGroup)
                | (Purpose::EndpointStop(n), Kind::Endpoint) => {
                    stops.insert(n, s);
                }
                _ => {}
            }
        }
        let mut names: Vec<&str> = starts.keys().chain(stops.keys()).copied().collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|n| {
                let pair = match (starts.get(n), stops.get(n)) {
                    (Some(start), Some(stop)) if start.time_zone == stop.time_zone => {
                        OfficeHours::from_expressions(
                            &start.time_zone,
                            &start.expression,
                            &stop.expression,
                        )
                        .map(|hours| OffHours {
                            hours,
                            start: start.expression.clone(),
                            stop: stop.expression.clone(),
                        })
                        .ok_or_else(|| {
                            format!(
                                "start `{}` and stop `{}` are not office hours Frugal can read",
                                start.expression, stop.expression
                            )
                        })
                    }
                    (Some(_), Some(_)) => {
                        Err("start and stop schedules use different time zones".to_owned())
                    }
                    (Some(_), None) => Err("a start schedule without a stop schedule".to_owned()),
                    _ => {
                        Err("a stop schedule without a start schedule: stopped for good".to_owned())
                    }
                };
                (n.to_owned(), pair)
            })
            .collect()
    }

    /// The off-hours schedules of node group `name`, if it has a readable pair.
    pub fn node_group_hours(&self, name: &str) -> Option<OffHours> {
        self.pairs(Kind::NodeGroup)
            .remove(name)
            .and_then(Result::ok)
    }

    /// The off-hours schedules of endpoint `name`, if it has a readable pair.
    pub fn endpoint_hours(&self, name: &str) -> Option<OffHours> {
        self.pairs(Kind::Endpoint).remove(name).and_then(Result::ok)
    }

    /// Endpoints the app names (in schedules or as resources), sorted.
    pub fn endpoint_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .schedules
            .iter()
            .filter_map(|s| match &s.purpose {
                Purpose::EndpointStart(n) | Purpose::EndpointStop(n) => Some(n.clone()),
                _ => None,
            })
            .chain(self.endpoints.iter().map(|(n, _)| n.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Clusters the stacks create or the node groups join, sorted.
    pub fn clusters(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .node_groups
            .iter()
            .map(|g| g.cluster.clone())
            .chain(self.created_clusters.iter().cloned())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

#[derive(Clone, Copy)]
enum Kind {
    NodeGroup,
    Endpoint,
}

/// Invocations a month of a schedule expression, in a month of `hours_per_month` hours;
/// `None` for expressions Frugal cannot count.
pub fn invocations_per_month(expression: &str, hours_per_month: f64) -> Option<f64> {
    if let Some((_, days)) = parse_cron(expression) {
        return Some(days.len() as f64 * hours_per_month / 168.0);
    }
    if expression.starts_with("at(") {
        return Some(0.0);
    }
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.split_once(' ')?;
    let n: f64 = n.parse().ok()?;
    let minutes = match unit.trim_end_matches('s') {
        "minute" => 1.0,
        "hour" => 60.0,
        "day" => 1440.0,
        _ => return None,
    };
    (n > 0.0).then(|| hours_per_month * 60.0 / (n * minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_invocations() {
        let close = |a: Option<f64>, b: f64| assert!((a.expect("countable") - b).abs() < 1e-9);
        close(
            invocations_per_month("cron(0 7 ? * MON-FRI *)", 730.0),
            5.0 * 730.0 / 168.0,
        );
        close(invocations_per_month("rate(1 day)", 730.0), 730.0 / 24.0);
        close(
            invocations_per_month("rate(30 minutes)", 730.0),
            730.0 * 2.0,
        );
        assert_eq!(invocations_per_month("cron(0 7 1 * ? *)", 730.0), None);
    }
}
