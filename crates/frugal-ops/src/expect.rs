//! What the synthesized app says should exist: expectations read from the templates and
//! the manifest (names, sizes, rules, tags), never retyped. Pure: no AWS calls.

use std::collections::{BTreeMap, BTreeSet};

use frugal_core::StackManifest;
use frugal_deploy::Assembly;
use serde_json::Value;

use crate::error::{OpsError, Result};

/// The `Environment` tag value each stack of an environment carries in the manifest.
pub const ENVIRONMENT_TAG: &str = "Environment";

/// One synthesized stack of the environment.
#[derive(Clone, Debug)]
pub struct StackView {
    /// Its manifest entry (name, tags, parameters).
    pub manifest: StackManifest,
    /// Its template.
    pub template: Value,
}

impl StackView {
    /// The stack name.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// `(logical id, resource)` of every resource of `type_name`, in template order.
    pub fn resources_of<'a>(
        &'a self,
        type_name: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.template
            .get("Resources")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(type_name))
            .map(|(id, r)| (id.as_str(), r))
    }

    /// Every resource: `(logical id, resource)`.
    pub fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.template
            .get("Resources")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(id, r)| (id.as_str(), r))
    }

    /// A string property of a resource: a literal, or a `Ref` to a parameter whose value
    /// the manifest (or the parameter's `Default`) gives.
    pub fn string(&self, value: Option<&Value>) -> Option<String> {
        match value? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Object(o) => {
                let name = o.get("Ref")?.as_str()?;
                self.manifest.parameters.get(name).cloned().or_else(|| {
                    self.template
                        .pointer(&format!("/Parameters/{name}/Default"))
                        .and_then(|d| match d {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        })
                })
            }
            _ => None,
        }
    }

    /// A literal output value of the template (`None` when it is computed).
    pub fn literal_output(&self, key: &str) -> Option<String> {
        self.template
            .pointer(&format!("/Outputs/{key}/Value"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Whether a resource is retained when its stack is deleted.
    pub fn is_retained(resource: &Value) -> bool {
        matches!(
            resource.get("DeletionPolicy").and_then(Value::as_str),
            Some("Retain" | "RetainExceptOnCreate")
        )
    }
}

/// The synthesized stacks of one environment, in dependency order.
#[derive(Clone, Debug)]
pub struct AppView {
    /// The app's name (manifest `app`), e.g. `retail-forecast`: what its resource names contain.
    pub app: String,
    /// The environment, e.g. `dev`.
    pub env: String,
    /// The environment's stacks.
    pub stacks: Vec<StackView>,
}

impl AppView {
    /// The stacks of `env` (those whose manifest tags say `Environment=<env>`).
    pub fn from_assembly(assembly: &Assembly, env: &str) -> Result<AppView> {
        let stacks: Vec<StackView> = assembly
            .stacks
            .iter()
            .filter(|s| s.manifest.tags.get(ENVIRONMENT_TAG).map(String::as_str) == Some(env))
            .map(|s| StackView {
                manifest: s.manifest.clone(),
                template: s.template.clone(),
            })
            .collect();
        if stacks.is_empty() {
            let mut envs: Vec<&str> = assembly
                .stacks
                .iter()
                .filter_map(|s| s.manifest.tags.get(ENVIRONMENT_TAG).map(String::as_str))
                .collect();
            envs.sort_unstable();
            envs.dedup();
            return Err(OpsError::Selection(format!(
                "the app has no stacks tagged {ENVIRONMENT_TAG}={env} (environments: {})",
                envs.join(", ")
            )));
        }
        Ok(AppView {
            app: assembly.manifest.app.clone(),
            env: env.to_owned(),
            stacks,
        })
    }

    /// The stack named `name`.
    pub fn stack(&self, name: &str) -> Option<&StackView> {
        self.stacks.iter().find(|s| s.name() == name)
    }

    /// `(stack, logical id, resource)` of every resource of `type_name`.
    pub fn resources_of<'a>(
        &'a self,
        type_name: &'a str,
    ) -> impl Iterator<Item = (&'a StackView, &'a str, &'a Value)> + 'a {
        self.stacks
            .iter()
            .flat_map(move |s| s.resources_of(type_name).map(move |(id, r)| (s, id, r)))
    }

    /// The stack whose template declares output `key` with a literal value, and the value.
    pub fn literal_output(&self, key: &str) -> Option<String> {
        self.stacks.iter().find_map(|s| s.literal_output(key))
    }

    /// The first stack declaring output `key`.
    pub fn stack_with_output(&self, key: &str) -> Option<&StackView> {
        self.stacks
            .iter()
            .find(|s| s.template.pointer(&format!("/Outputs/{key}")).is_some())
    }
}

fn props(resource: &Value) -> &Value {
    resource.get("Properties").unwrap_or(&Value::Null)
}

fn u32_of(v: Option<&Value>) -> Option<u32> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn str_of(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

/// Tags of a template resource: a `Tags`/`ResourceTags` list of `{Key, Value}` or a map
/// (EKS). `None` when the resource declares none.
pub fn template_tags(resource: &Value) -> Option<BTreeMap<String, String>> {
    let p = props(resource);
    let tags = p.get("Tags").or_else(|| p.get("ResourceTags"))?;
    Some(match tags {
        Value::Array(items) => items
            .iter()
            .filter_map(|t| {
                Some((
                    t.get("Key")?.as_str()?.to_owned(),
                    t.get("Value")?.as_str()?.to_owned(),
                ))
            })
            .collect(),
        Value::Object(m) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect(),
        _ => BTreeMap::new(),
    })
}

/// Tags `expected` that `found` lacks or carries with another value, as `Key=Value` (what
/// was expected) with what was found.
pub fn missing_tags(
    expected: &BTreeMap<String, String>,
    found: &BTreeMap<String, String>,
) -> Vec<String> {
    expected
        .iter()
        .filter(|(k, v)| found.get(*k) != Some(*v))
        .map(|(k, v)| match found.get(k) {
            Some(other) => format!("{k}={v} (found {k}={other})"),
            None => format!("{k}={v} (absent)"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// EKS node groups

/// A node group as synthesized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodegroupExpectation {
    /// Cluster name.
    pub cluster: String,
    /// Node group name.
    pub name: String,
    /// `SPOT` or `ON_DEMAND` (CloudFormation's default).
    pub capacity: String,
    /// Instance types, in template order.
    pub instance_types: Vec<String>,
}

impl NodegroupExpectation {
    /// `cluster/nodegroup`.
    pub fn resource(&self) -> String {
        format!("{}/{}", self.cluster, self.name)
    }
}

/// Every `AWS::EKS::Nodegroup` with a literal cluster and node group name.
pub fn nodegroups(app: &AppView) -> Vec<NodegroupExpectation> {
    app.resources_of("AWS::EKS::Nodegroup")
        .filter_map(|(s, _, r)| {
            let p = props(r);
            Some(NodegroupExpectation {
                cluster: s.string(p.get("ClusterName"))?,
                name: s.string(p.get("NodegroupName"))?,
                capacity: str_of(p.get("CapacityType")).unwrap_or_else(|| "ON_DEMAND".into()),
                instance_types: p
                    .get("InstanceTypes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect(),
            })
        })
        .collect()
}

/// The instance-types check: the same set (order does not matter to EKS).
pub fn same_instance_types(expected: &[String], found: &[String]) -> bool {
    let a: BTreeSet<&String> = expected.iter().collect();
    let b: BTreeSet<&String> = found.iter().collect();
    a == b
}

// ---------------------------------------------------------------------------------------
// S3 lifecycle and Intelligent-Tiering

/// One lifecycle rule in a form both the template and the S3 API map to.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct LifecycleRule {
    /// Rule id.
    pub id: String,
    /// `Enabled` or `Disabled`.
    pub status: String,
    /// Key prefix (empty: the whole bucket).
    pub prefix: String,
    /// Object tags the rule is limited to.
    pub tags: BTreeMap<String, String>,
    /// `(storage class, days)` transitions, sorted by days.
    pub transitions: Vec<(String, u32)>,
    /// Expiration after days.
    pub expiration_days: Option<u32>,
    /// Abort incomplete multipart uploads after days.
    pub abort_incomplete_days: Option<u32>,
    /// Noncurrent versions expire after days.
    pub noncurrent_expiration_days: Option<u32>,
    /// `(storage class, days)` noncurrent-version transitions, sorted by days.
    pub noncurrent_transitions: Vec<(String, u32)>,
}

impl LifecycleRule {
    /// Sorts the transition lists (the API does not promise an order).
    pub fn normalized(mut self) -> Self {
        self.transitions.sort_by_key(|(c, d)| (*d, c.clone()));
        self.noncurrent_transitions
            .sort_by_key(|(c, d)| (*d, c.clone()));
        self
    }

    fn describe(&self) -> String {
        let mut parts = vec![format!("{} {}", self.id, self.status)];
        if !self.prefix.is_empty() {
            parts.push(format!("prefix {}", self.prefix));
        }
        for (k, v) in &self.tags {
            parts.push(format!("tag {k}={v}"));
        }
        for (c, d) in &self.transitions {
            parts.push(format!("{c}@{d}d"));
        }
        if let Some(d) = self.expiration_days {
            parts.push(format!("expire@{d}d"));
        }
        if let Some(d) = self.abort_incomplete_days {
            parts.push(format!("abort-uploads@{d}d"));
        }
        if let Some(d) = self.noncurrent_expiration_days {
            parts.push(format!("noncurrent-expire@{d}d"));
        }
        for (c, d) in &self.noncurrent_transitions {
            parts.push(format!("noncurrent-{c}@{d}d"));
        }
        parts.join(", ")
    }
}

fn transitions(list: Option<&Value>, days_key: &str) -> Vec<(String, u32)> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| Some((str_of(t.get("StorageClass"))?, u32_of(t.get(days_key))?)))
        .collect()
}

/// The lifecycle rules of a template bucket (`LifecycleConfiguration.Rules`).
pub fn template_lifecycle(bucket: &Value) -> Vec<LifecycleRule> {
    let rules = props(bucket).pointer("/LifecycleConfiguration/Rules");
    rules
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            let mut tags: BTreeMap<String, String> = r
                .get("TagFilters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| Some((str_of(t.get("Key"))?, str_of(t.get("Value"))?)))
                .collect();
            // A single Transition / NoncurrentVersionTransition is also allowed.
            let mut trans = transitions(r.get("Transitions"), "TransitionInDays");
            if let Some(t) = r.get("Transition") {
                trans.extend(transitions(
                    Some(&Value::Array(vec![t.clone()])),
                    "TransitionInDays",
                ));
            }
            let mut nc = transitions(r.get("NoncurrentVersionTransitions"), "TransitionInDays");
            if let Some(t) = r.get("NoncurrentVersionTransition") {
                nc.extend(transitions(
                    Some(&Value::Array(vec![t.clone()])),
                    "TransitionInDays",
                ));
            }
            if let Some(obj) = r.get("TagFilter") {
                if let (Some(k), Some(v)) = (str_of(obj.get("Key")), str_of(obj.get("Value"))) {
                    tags.insert(k, v);
                }
            }
            LifecycleRule {
                id: str_of(r.get("Id")).unwrap_or_default(),
                status: str_of(r.get("Status")).unwrap_or_default(),
                prefix: str_of(r.get("Prefix")).unwrap_or_default(),
                tags,
                transitions: trans,
                expiration_days: u32_of(r.get("ExpirationInDays")),
                abort_incomplete_days: u32_of(
                    r.pointer("/AbortIncompleteMultipartUpload/DaysAfterInitiation"),
                ),
                noncurrent_expiration_days: u32_of(r.get("NoncurrentVersionExpirationInDays"))
                    .or_else(|| u32_of(r.pointer("/NoncurrentVersionExpiration/NoncurrentDays"))),
                noncurrent_transitions: nc,
            }
            .normalized()
        })
        .collect()
}

/// One Intelligent-Tiering archive configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct TieringConfig {
    /// Configuration id.
    pub id: String,
    /// `Enabled` or `Disabled`.
    pub status: String,
    /// Key prefix (empty: the whole bucket).
    pub prefix: String,
    /// Object tags it is limited to.
    pub tags: BTreeMap<String, String>,
    /// `(access tier, days)`, sorted by days.
    pub tierings: Vec<(String, u32)>,
}

impl TieringConfig {
    /// Sorts the tierings.
    pub fn normalized(mut self) -> Self {
        self.tierings.sort_by_key(|(t, d)| (*d, t.clone()));
        self
    }

    fn describe(&self) -> String {
        let mut parts = vec![format!("{} {}", self.id, self.status)];
        if !self.prefix.is_empty() {
            parts.push(format!("prefix {}", self.prefix));
        }
        for (k, v) in &self.tags {
            parts.push(format!("tag {k}={v}"));
        }
        for (t, d) in &self.tierings {
            parts.push(format!("{t}@{d}d"));
        }
        parts.join(", ")
    }
}

/// The Intelligent-Tiering configurations of a template bucket.
pub fn template_tiering(bucket: &Value) -> Vec<TieringConfig> {
    props(bucket)
        .get("IntelligentTieringConfigurations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            TieringConfig {
                id: str_of(c.get("Id")).unwrap_or_default(),
                status: str_of(c.get("Status")).unwrap_or_default(),
                prefix: str_of(c.get("Prefix")).unwrap_or_default(),
                tags: c
                    .get("TagFilters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| Some((str_of(t.get("Key"))?, str_of(t.get("Value"))?)))
                    .collect(),
                tierings: c
                    .get("Tierings")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| Some((str_of(t.get("AccessTier"))?, u32_of(t.get("Days"))?)))
                    .collect(),
            }
            .normalized()
        })
        .collect()
}

/// Items keyed by id: what is missing, extra or different in `found`. Empty: equal.
fn diff_by_id<T: PartialEq>(
    expected: &[T],
    found: &[T],
    id: impl Fn(&T) -> &str,
    describe: impl Fn(&T) -> String,
) -> Vec<String> {
    let mut out = Vec::new();
    for e in expected {
        match found.iter().find(|f| id(f) == id(e)) {
            None => out.push(format!("missing {}", describe(e))),
            Some(f) if f != e => out.push(format!(
                "{} is {} (expected {})",
                id(e),
                describe(f),
                describe(e)
            )),
            Some(_) => {}
        }
    }
    for f in found {
        if !expected.iter().any(|e| id(e) == id(f)) {
            out.push(format!("unexpected {}", describe(f)));
        }
    }
    out
}

/// Differences between synthesized and deployed lifecycle rules (empty: equal).
pub fn diff_lifecycle(expected: &[LifecycleRule], found: &[LifecycleRule]) -> Vec<String> {
    diff_by_id(expected, found, |r| &r.id, LifecycleRule::describe)
}

/// Differences between synthesized and deployed Intelligent-Tiering configurations.
pub fn diff_tiering(expected: &[TieringConfig], found: &[TieringConfig]) -> Vec<String> {
    diff_by_id(expected, found, |c| &c.id, TieringConfig::describe)
}

/// A bucket of the app as synthesized.
#[derive(Clone, Debug)]
pub struct BucketExpectation {
    /// Stack and logical id.
    pub stack: String,
    /// Logical id.
    pub logical_id: String,
    /// Bucket name (literal in the template), if any.
    pub name: Option<String>,
    /// Lifecycle rules.
    pub lifecycle: Vec<LifecycleRule>,
    /// Intelligent-Tiering configurations.
    pub tiering: Vec<TieringConfig>,
    /// Retained when its stack is deleted.
    pub retained: bool,
}

/// Every `AWS::S3::Bucket`.
pub fn buckets(app: &AppView) -> Vec<BucketExpectation> {
    app.resources_of("AWS::S3::Bucket")
        .map(|(s, id, r)| BucketExpectation {
            stack: s.name().to_owned(),
            logical_id: id.to_owned(),
            name: s.string(props(r).get("BucketName")),
            lifecycle: template_lifecycle(r),
            tiering: template_tiering(r),
            retained: StackView::is_retained(r),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// CloudWatch Logs

/// Who creates a log group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogOwner {
    /// A stack resource (`AWS::Logs::LogGroup`), logical id.
    Stack(String),
    /// An AWS service; a retention schedule (logical id) keeps its retention.
    Service(String),
}

/// A log group and the retention it must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogExpectation {
    /// Stack.
    pub stack: String,
    /// Log group name.
    pub name: String,
    /// Retention in days.
    pub retention_days: u32,
    /// Who creates it.
    pub owner: LogOwner,
    /// Retained when its stack is deleted.
    pub retained: bool,
}

/// The target ARN of a schedule keeping a service-created log group's retention.
pub const PUT_RETENTION_TARGET: &str =
    "arn:aws:scheduler:::aws-sdk:cloudwatchlogs:putRetentionPolicy";

/// Every log group of the app: `AWS::Logs::LogGroup` resources with a literal name, and
/// the groups AWS services create, whose retention a schedule keeps (its input names them).
pub fn log_groups(app: &AppView) -> Vec<LogExpectation> {
    let mut out = Vec::new();
    for s in &app.stacks {
        for (id, r) in s.resources_of("AWS::Logs::LogGroup") {
            let p = props(r);
            if let (Some(name), Some(days)) = (
                s.string(p.get("LogGroupName")),
                u32_of(p.get("RetentionInDays")),
            ) {
                out.push(LogExpectation {
                    stack: s.name().to_owned(),
                    name,
                    retention_days: days,
                    owner: LogOwner::Stack(id.to_owned()),
                    retained: StackView::is_retained(r),
                });
            }
        }
        for (id, r) in s.resources_of("AWS::Scheduler::Schedule") {
            let p = props(r);
            if p.pointer("/Target/Arn").and_then(Value::as_str) != Some(PUT_RETENTION_TARGET) {
                continue;
            }
            let Some(input) = p
                .pointer("/Target/Input")
                .and_then(Value::as_str)
                .and_then(|i| serde_json::from_str::<Value>(i).ok())
            else {
                continue;
            };
            if let (Some(name), Some(days)) = (
                str_of(input.get("logGroupName")),
                u32_of(input.get("retentionInDays")),
            ) {
                out.push(LogExpectation {
                    stack: s.name().to_owned(),
                    name,
                    retention_days: days,
                    owner: LogOwner::Service(id.to_owned()),
                    // AWS creates it; nothing deletes it with the stack.
                    retained: true,
                });
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// ECR

/// A repository and its lifecycle policy as synthesized.
#[derive(Clone, Debug, PartialEq)]
pub struct RepoExpectation {
    /// Stack.
    pub stack: String,
    /// Repository name.
    pub name: String,
    /// Lifecycle policy text, if any.
    pub policy: Option<String>,
    /// Retained when its stack is deleted.
    pub retained: bool,
}

/// Every `AWS::ECR::Repository` with a literal name.
pub fn repositories(app: &AppView) -> Vec<RepoExpectation> {
    app.resources_of("AWS::ECR::Repository")
        .filter_map(|(s, _, r)| {
            let p = props(r);
            Some(RepoExpectation {
                stack: s.name().to_owned(),
                name: s.string(p.get("RepositoryName"))?,
                policy: str_of(p.pointer("/LifecyclePolicy/LifecyclePolicyText")),
                retained: StackView::is_retained(r),
            })
        })
        .collect()
}

/// A lifecycle policy in comparable form: parsed, rules sorted by priority.
fn canonical_policy(text: &str) -> std::result::Result<Value, String> {
    let mut v: Value = serde_json::from_str(text).map_err(|e| format!("not a JSON policy: {e}"))?;
    if let Some(rules) = v.get_mut("rules").and_then(Value::as_array_mut) {
        rules.sort_by_key(|r| r.get("rulePriority").and_then(Value::as_i64));
        for r in rules.iter_mut() {
            // ECR adds an empty description; the template may leave it out.
            if r.get("description").and_then(Value::as_str) == Some("") {
                if let Some(o) = r.as_object_mut() {
                    o.remove("description");
                }
            }
        }
    }
    Ok(v)
}

/// Differences between two lifecycle policies, rule by rule (empty: equal).
pub fn diff_policy(expected: &str, found: &str) -> Vec<String> {
    let (e, f) = match (canonical_policy(expected), canonical_policy(found)) {
        (Ok(e), Ok(f)) => (e, f),
        (Err(e), _) => return vec![format!("synthesized policy: {e}")],
        (_, Err(e)) => return vec![format!("deployed policy: {e}")],
    };
    if e == f {
        return Vec::new();
    }
    let rules = |v: &Value| -> BTreeMap<i64, Value> {
        v.get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r.get("rulePriority").and_then(Value::as_i64).unwrap_or(-1),
                    r.clone(),
                )
            })
            .collect()
    };
    let (re, rf) = (rules(&e), rules(&f));
    let mut out = Vec::new();
    for (p, r) in &re {
        match rf.get(p) {
            None => out.push(format!("rule {p} missing")),
            Some(other) if other != r => out.push(format!("rule {p} is {other} (expected {r})")),
            Some(_) => {}
        }
    }
    for p in rf.keys().filter(|p| !re.contains_key(p)) {
        out.push(format!("unexpected rule {p}"));
    }
    if out.is_empty() {
        out.push("the policies differ outside their rules".into());
    }
    out
}

// ---------------------------------------------------------------------------------------
// Budgets

/// A budget notification (subscribers are not compared: reading them is a separate call).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Notification {
    /// `ACTUAL` or `FORECASTED`.
    pub kind: String,
    /// `GREATER_THAN`, …
    pub comparison: String,
    /// Threshold, as written by [`threshold_text`].
    pub threshold: String,
    /// `PERCENTAGE` (the default) or `ABSOLUTE_VALUE`.
    pub threshold_type: String,
}

impl std::fmt::Display for Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = if self.threshold_type == "PERCENTAGE" {
            "%"
        } else {
            " USD"
        };
        write!(
            f,
            "{} {} {}{unit}",
            self.kind,
            self.comparison.to_lowercase().replace('_', " "),
            self.threshold
        )
    }
}

/// A threshold as text without a needless fraction (`80`, `80.5`).
pub fn threshold_text(t: f64) -> String {
    if t.fract() == 0.0 && t.abs() < 1e15 {
        format!("{}", t as i64)
    } else {
        format!("{t}")
    }
}

/// A budget as synthesized.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetExpectation {
    /// Stack.
    pub stack: String,
    /// Budget name.
    pub name: String,
    /// Limit amount (resolved from the stack's parameters), e.g. `100`.
    pub limit: Option<String>,
    /// `MONTHLY`, …
    pub time_unit: String,
    /// Cost filters, e.g. `TagKeyValue: ["user:Project$RetailForecast"]`.
    pub cost_filters: BTreeMap<String, Vec<String>>,
    /// Notifications.
    pub notifications: BTreeSet<Notification>,
}

/// Every `AWS::Budgets::Budget` with a literal name.
pub fn budgets(app: &AppView) -> Vec<BudgetExpectation> {
    app.resources_of("AWS::Budgets::Budget")
        .filter_map(|(s, _, r)| {
            let b = props(r).get("Budget")?;
            Some(BudgetExpectation {
                stack: s.name().to_owned(),
                name: s.string(b.get("BudgetName"))?,
                limit: s.string(b.pointer("/BudgetLimit/Amount")),
                time_unit: str_of(b.get("TimeUnit")).unwrap_or_default(),
                cost_filters: b
                    .get("CostFilters")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| {
                        let mut vals: Vec<String> = v
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect();
                        vals.sort();
                        (k.clone(), vals)
                    })
                    .collect(),
                notifications: props(r)
                    .get("NotificationsWithSubscribers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|n| {
                        let n = n.get("Notification")?;
                        Some(Notification {
                            kind: str_of(n.get("NotificationType"))?,
                            comparison: str_of(n.get("ComparisonOperator"))?,
                            threshold: threshold_text(n.get("Threshold")?.as_f64()?),
                            threshold_type: str_of(n.get("ThresholdType"))
                                .unwrap_or_else(|| "PERCENTAGE".into()),
                        })
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The `(key, value)` tag pairs of a budget's `TagKeyValue` filters
/// (`user:Project$RetailForecast` → `(Project, RetailForecast)`).
pub fn tag_filters(cost_filters: &BTreeMap<String, Vec<String>>) -> Vec<(String, String)> {
    cost_filters
        .get("TagKeyValue")
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let f = f.strip_prefix("user:").unwrap_or(f);
            let (k, v) = f.split_once('$')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// Two amounts equal as numbers (`100` and `100.0`).
pub fn same_amount(a: &str, b: &str) -> bool {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() < 1e-9,
        _ => a.trim() == b.trim(),
    }
}

// ---------------------------------------------------------------------------------------
// EventBridge Scheduler

/// A schedule as synthesized.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleExpectation {
    /// Stack.
    pub stack: String,
    /// Logical id.
    pub logical_id: String,
    /// Literal name, if the template gives one.
    pub name: Option<String>,
    /// Description (what it does), for reports.
    pub description: String,
    /// Schedule expression.
    pub expression: String,
    /// Time zone (`UTC` when the template gives none: Scheduler's default).
    pub timezone: String,
    /// `ENABLED` (the default) or `DISABLED`.
    pub state: String,
    /// Target ARN.
    pub target_arn: String,
    /// Target input, parsed.
    pub input: Option<Value>,
}

/// Every `AWS::Scheduler::Schedule` with a literal target.
pub fn schedules(app: &AppView) -> Vec<ScheduleExpectation> {
    app.resources_of("AWS::Scheduler::Schedule")
        .filter_map(|(s, id, r)| {
            let p = props(r);
            Some(ScheduleExpectation {
                stack: s.name().to_owned(),
                logical_id: id.to_owned(),
                name: s.string(p.get("Name")),
                description: str_of(p.get("Description")).unwrap_or_else(|| id.to_owned()),
                expression: str_of(p.get("ScheduleExpression"))?,
                timezone: str_of(p.get("ScheduleExpressionTimezone"))
                    .unwrap_or_else(|| "UTC".into()),
                state: str_of(p.get("State")).unwrap_or_else(|| "ENABLED".into()),
                target_arn: str_of(p.pointer("/Target/Arn"))?,
                input: p
                    .pointer("/Target/Input")
                    .and_then(Value::as_str)
                    .and_then(|i| serde_json::from_str(i).ok()),
            })
        })
        .collect()
}

/// A deployed schedule, as read from Scheduler.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundSchedule {
    /// Name.
    pub name: String,
    /// Group name.
    pub group: String,
    /// Schedule expression.
    pub expression: String,
    /// Time zone, if set.
    pub timezone: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    /// Target ARN.
    pub target_arn: String,
    /// Target input, parsed.
    pub input: Option<Value>,
}

/// The deployed schedule doing what `expected` does (same target and input); with several,
/// the one named `preferred` (its physical id), else the first.
pub fn match_schedule<'a>(
    expected: &ScheduleExpectation,
    found: &'a [FoundSchedule],
    preferred: Option<&str>,
) -> Option<&'a FoundSchedule> {
    let same =
        |f: &&FoundSchedule| f.target_arn == expected.target_arn && f.input == expected.input;
    let by_name = expected.name.as_deref().or(preferred);
    by_name
        .and_then(|n| found.iter().filter(same).find(|f| f.name == n))
        .or_else(|| found.iter().find(same))
}

/// What differs between a matched schedule and the synthesized one (empty: as synthesized).
pub fn diff_schedule(expected: &ScheduleExpectation, found: &FoundSchedule) -> Vec<String> {
    let mut out = Vec::new();
    if found.state != expected.state {
        out.push(format!(
            "state {} (expected {})",
            found.state, expected.state
        ));
    }
    if found.expression != expected.expression {
        out.push(format!(
            "expression {} (expected {})",
            found.expression, expected.expression
        ));
    }
    let tz = found.timezone.as_deref().unwrap_or("UTC");
    if tz != expected.timezone {
        out.push(format!("time zone {tz} (expected {})", expected.timezone));
    }
    out
}

// ---------------------------------------------------------------------------------------
// Names for --gone

/// SageMaker endpoint names the app gives (scheduler inputs and literal outputs).
pub fn endpoint_names(app: &AppView) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for e in schedules(app) {
        if e.target_arn.contains(":sagemaker:") {
            if let Some(n) = e
                .input
                .as_ref()
                .and_then(|i| i.get("EndpointName"))
                .and_then(Value::as_str)
            {
                names.insert(n.to_owned());
            }
        }
    }
    for s in &app.stacks {
        if let Some(outputs) = s.template.get("Outputs").and_then(Value::as_object) {
            for (k, o) in outputs {
                if k.contains("EndpointName") {
                    if let Some(v) = o.get("Value").and_then(Value::as_str) {
                        names.insert(v.to_owned());
                    }
                }
            }
        }
    }
    names
}

/// The EKS clusters the app's node groups join.
pub fn clusters(app: &AppView) -> BTreeSet<String> {
    nodegroups(app).into_iter().map(|n| n.cluster).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view(template: Value, params: &[(&str, &str)]) -> AppView {
        AppView {
            app: "shop".into(),
            env: "dev".into(),
            stacks: vec![StackView {
                manifest: StackManifest {
                    name: "Shop-dev".into(),
                    template: "t.json".into(),
                    region: None,
                    tags: BTreeMap::from([("Environment".into(), "dev".into())]),
                    parameters: params
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                    dependencies: vec![],
                    resource_count: 0,
                    sha256: String::new(),
                    protected: false,
                },
                template,
            }],
        }
    }

    #[test]
    fn lifecycle_rules_compare_by_id_and_content() {
        let bucket = json!({"Type":"AWS::S3::Bucket","Properties":{"LifecycleConfiguration":{"Rules":[
            {"Id":"tier-raw","Prefix":"raw/","Status":"Enabled","Transitions":[{"StorageClass":"INTELLIGENT_TIERING","TransitionInDays":30}]},
            {"Id":"tmp","Prefix":"tmp/","Status":"Enabled","ExpirationInDays":7,"TagFilters":[{"Key":"temporary","Value":"true"}]},
            {"Id":"abort","Status":"Enabled","AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7}}
        ]}}});
        let expected = template_lifecycle(&bucket);
        assert_eq!(expected.len(), 3);
        assert_eq!(expected[1].tags["temporary"], "true");
        assert!(diff_lifecycle(&expected, &expected.clone()).is_empty());

        let mut found = expected.clone();
        found.remove(0);
        found[0].expiration_days = Some(30);
        let d = diff_lifecycle(&expected, &found);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("missing tier-raw"), "{d:?}");
        assert!(
            d[1].contains("expire@30d") && d[1].contains("expected"),
            "{d:?}"
        );

        found.push(LifecycleRule {
            id: "extra".into(),
            ..Default::default()
        });
        assert!(diff_lifecycle(&expected, &found)
            .iter()
            .any(|l| l.starts_with("unexpected extra")));
    }

    #[test]
    fn tiering_configurations_compare_regardless_of_order() {
        let bucket = json!({"Properties":{"IntelligentTieringConfigurations":[
            {"Id":"archive-raw","Prefix":"raw/","Status":"Enabled","Tierings":[
                {"AccessTier":"DEEP_ARCHIVE_ACCESS","Days":180},{"AccessTier":"ARCHIVE_ACCESS","Days":90}]}]}});
        let e = template_tiering(&bucket);
        assert_eq!(
            e[0].tierings,
            vec![
                ("ARCHIVE_ACCESS".to_owned(), 90),
                ("DEEP_ARCHIVE_ACCESS".to_owned(), 180)
            ]
        );
        assert!(diff_tiering(&e, &e).is_empty());
        assert_eq!(diff_tiering(&e, &[]), vec!["missing archive-raw Enabled, prefix raw/, ARCHIVE_ACCESS@90d, DEEP_ARCHIVE_ACCESS@180d"]);
    }

    #[test]
    fn ecr_policies_compare_semantically_and_name_the_rule() {
        let a = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}"#;
        let reordered = r#"{"rules":[{"action":{"type":"expire"},"rulePriority":2,"selection":{"countNumber":10,"countType":"imageCountMoreThan","tagStatus":"any"}},{"rulePriority":1,"description":"","selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}"#;
        assert!(diff_policy(a, reordered).is_empty());
        let changed = a.replace("\"countNumber\":10", "\"countNumber\":50");
        let d = diff_policy(a, &changed);
        assert_eq!(d.len(), 1);
        assert!(d[0].starts_with("rule 2 is"), "{d:?}");
        assert!(diff_policy(a, "nope")[0].starts_with("deployed policy"));
    }

    #[test]
    fn budget_expectation_resolves_parameters_and_parses_tag_filters() {
        let t = json!({"Resources":{"B":{"Type":"AWS::Budgets::Budget","Properties":{
            "Budget":{"BudgetName":"Shop-dev-Budget","BudgetLimit":{"Amount":{"Ref":"Limit"},"Unit":"USD"},
                      "TimeUnit":"MONTHLY","BudgetType":"COST","CostFilters":{"TagKeyValue":["user:Project$Shop"]}},
            "NotificationsWithSubscribers":[{"Notification":{"NotificationType":"ACTUAL","ComparisonOperator":"GREATER_THAN","Threshold":80,"ThresholdType":"PERCENTAGE"},"Subscribers":[]}]}}}});
        let b = &budgets(&view(t, &[("Limit", "100")]))[0];
        assert_eq!(b.limit.as_deref(), Some("100"));
        assert!(same_amount("100", "100.0"));
        assert_eq!(
            tag_filters(&b.cost_filters),
            vec![("Project".to_owned(), "Shop".to_owned())]
        );
        assert_eq!(
            b.notifications.iter().next().unwrap().to_string(),
            "ACTUAL greater than 80%"
        );
    }

    #[test]
    fn log_groups_include_the_ones_services_create() {
        let t = json!({"Resources":{
            "Api":{"Type":"AWS::Logs::LogGroup","DeletionPolicy":"Retain","Properties":{"LogGroupName":"/aws/shop/api","RetentionInDays":7}},
            "Keep":{"Type":"AWS::Scheduler::Schedule","Properties":{"ScheduleExpression":"rate(1 day)",
                "Target":{"Arn":PUT_RETENTION_TARGET,"Input":"{\"logGroupName\":\"/aws/eks/c/cluster\",\"retentionInDays\":7}","RoleArn":"r"}}}}});
        let logs = log_groups(&view(t, &[]));
        assert_eq!(logs.len(), 2);
        assert_eq!(logs[0].owner, LogOwner::Stack("Api".into()));
        assert!(logs[0].retained);
        assert_eq!(logs[1].name, "/aws/eks/c/cluster");
        assert_eq!(logs[1].owner, LogOwner::Service("Keep".into()));
    }

    #[test]
    fn schedules_match_by_what_they_do_then_compare() {
        let t = json!({"Resources":{"Stop":{"Type":"AWS::Scheduler::Schedule","Properties":{
            "ScheduleExpression":"cron(0 19 ? * MON-FRI *)","ScheduleExpressionTimezone":"Europe/Paris","State":"ENABLED",
            "Target":{"Arn":"arn:aws:scheduler:::aws-sdk:sagemaker:deleteEndpoint","Input":"{\"EndpointName\":\"shop-dev\"}"}}}}});
        let app = view(t, &[]);
        let e = &schedules(&app)[0];
        assert_eq!(
            endpoint_names(&app),
            BTreeSet::from(["shop-dev".to_owned()])
        );
        let good = FoundSchedule {
            name: "Shop-dev-Stop-ABC".into(),
            group: "g".into(),
            expression: e.expression.clone(),
            timezone: Some("Europe/Paris".into()),
            state: "ENABLED".into(),
            target_arn: e.target_arn.clone(),
            input: Some(json!({"EndpointName":"shop-dev"})),
        };
        let other = FoundSchedule {
            name: "other".into(),
            input: Some(json!({"EndpointName":"elsewhere"})),
            ..good.clone()
        };
        let found = [other, good.clone()];
        let m = match_schedule(e, &found, None).unwrap();
        assert_eq!(m.name, "Shop-dev-Stop-ABC");
        assert!(diff_schedule(e, m).is_empty());
        let bad = FoundSchedule {
            state: "DISABLED".into(),
            timezone: None,
            ..good
        };
        assert_eq!(
            diff_schedule(e, &bad),
            vec![
                "state DISABLED (expected ENABLED)",
                "time zone UTC (expected Europe/Paris)"
            ]
        );
    }

    #[test]
    fn tags_missing_or_different_are_named() {
        let want = BTreeMap::from([
            ("Project".to_owned(), "Shop".to_owned()),
            ("Environment".to_owned(), "dev".to_owned()),
        ]);
        let found = BTreeMap::from([("Project".to_owned(), "Other".to_owned())]);
        assert_eq!(
            missing_tags(&want, &found),
            vec![
                "Environment=dev (absent)",
                "Project=Shop (found Project=Other)"
            ]
        );
        let r = json!({"Properties":{"Tags":{"Project":"Shop"}}});
        assert_eq!(template_tags(&r).unwrap()["Project"], "Shop");
        assert!(template_tags(&json!({"Properties":{}})).is_none());
    }

    #[test]
    fn nodegroups_default_to_on_demand_and_compare_types_as_sets() {
        let t = json!({"Resources":{"N":{"Type":"AWS::EKS::Nodegroup","Properties":{
            "ClusterName":"c","NodegroupName":"n","InstanceTypes":["t3.medium","t3a.medium"]}}}});
        let n = &nodegroups(&view(t, &[]))[0];
        assert_eq!(n.capacity, "ON_DEMAND");
        assert_eq!(n.resource(), "c/n");
        assert!(same_instance_types(
            &n.instance_types,
            &["t3a.medium".into(), "t3.medium".into()]
        ));
        assert!(!same_instance_types(
            &n.instance_types,
            &["t3.medium".into()]
        ));
    }
}
