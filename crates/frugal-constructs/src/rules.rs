//! The cost-and-safety rule pack run on every synthesized stack (like cdk-nag, for cost).
//!
//! A finding fails synthesis unless the resource carries an acknowledgement of that
//! rule with a reason ([`frugal_core::Scope::acknowledge`]); synth prints those.

use frugal_core::{App, Check, CheckContext, CheckedResource, Finding};
use serde_json::Value as Json;

use crate::node_group::SPOT_RULE;

/// Every log group has a retention.
pub const LOG_RETENTION_RULE: &str = "FRUGAL-LOG-RETENTION";
/// Every bucket has a lifecycle that aborts incomplete multipart uploads.
pub const BUCKET_LIFECYCLE_RULE: &str = "FRUGAL-BUCKET-LIFECYCLE";
/// Every ECR repository has a lifecycle policy.
pub const REPO_LIFECYCLE_RULE: &str = "FRUGAL-ECR-LIFECYCLE";
/// Every budget's tag filter matches a tag the app applies.
pub const BUDGET_FILTER_RULE: &str = "FRUGAL-BUDGET-FILTER";
/// No IAM statement allows `*` actions on `*` resources.
pub const IAM_ADMIN_RULE: &str = "FRUGAL-IAM-ADMIN";

/// Adds every rule of the pack to `app`.
pub fn add_rule_pack(app: &mut App) {
    app.add_check(Box::new(LogRetention));
    app.add_check(Box::new(BucketLifecycle));
    app.add_check(Box::new(RepoLifecycle));
    app.add_check(Box::new(SpotCapacity));
    app.add_check(Box::new(BudgetFilter));
    app.add_check(Box::new(NoAdminStatements));
}

/// The resource's properties when it is of `type_name`.
fn of_type<'a>(r: &'a CheckedResource<'_>, type_name: &str) -> Option<&'a Json> {
    (r.type_name == type_name).then_some(r.properties)
}

/// [`LOG_RETENTION_RULE`].
pub struct LogRetention;
impl Check for LogRetention {
    fn rule(&self) -> &'static str {
        LOG_RETENTION_RULE
    }
    fn check(&self, _: &CheckContext<'_>, r: &CheckedResource<'_>, out: &mut Vec<Finding>) {
        if of_type(r, "AWS::Logs::LogGroup").is_some_and(|p| p.get("RetentionInDays").is_none()) {
            out.push(Finding::new(
                "RetentionInDays",
                "log group keeps events forever (storage grows every month)",
            ));
        }
    }
}

/// [`BUCKET_LIFECYCLE_RULE`].
pub struct BucketLifecycle;
impl Check for BucketLifecycle {
    fn rule(&self) -> &'static str {
        BUCKET_LIFECYCLE_RULE
    }
    fn check(&self, _: &CheckContext<'_>, r: &CheckedResource<'_>, out: &mut Vec<Finding>) {
        let Some(p) = of_type(r, "AWS::S3::Bucket") else {
            return;
        };
        match p["LifecycleConfiguration"]["Rules"].as_array() {
            None => out.push(Finding::new(
                "LifecycleConfiguration",
                "bucket has no lifecycle rules",
            )),
            Some(rules) => {
                let aborts = rules.iter().any(|r| {
                    r.get("AbortIncompleteMultipartUpload").is_some()
                        && r.get("Prefix").is_none()
                        && r.get("TagFilters").is_none()
                });
                if !aborts {
                    out.push(Finding::new(
                        "LifecycleConfiguration",
                        "no bucket-wide rule aborts incomplete multipart uploads (their parts are billed forever)",
                    ));
                }
            }
        }
    }
}

/// [`REPO_LIFECYCLE_RULE`].
pub struct RepoLifecycle;
impl Check for RepoLifecycle {
    fn rule(&self) -> &'static str {
        REPO_LIFECYCLE_RULE
    }
    fn check(&self, _: &CheckContext<'_>, r: &CheckedResource<'_>, out: &mut Vec<Finding>) {
        if of_type(r, "AWS::ECR::Repository")
            .is_some_and(|p| p["LifecyclePolicy"]["LifecyclePolicyText"].is_null())
        {
            out.push(Finding::new(
                "LifecyclePolicy",
                "repository keeps every image forever",
            ));
        }
    }
}

/// [`SPOT_RULE`]: node groups run on Spot.
pub struct SpotCapacity;
impl Check for SpotCapacity {
    fn rule(&self) -> &'static str {
        SPOT_RULE
    }
    fn check(&self, _: &CheckContext<'_>, r: &CheckedResource<'_>, out: &mut Vec<Finding>) {
        if of_type(r, "AWS::EKS::Nodegroup")
            .is_some_and(|p| p["CapacityType"].as_str() != Some("SPOT"))
        {
            out.push(Finding::new(
                "CapacityType",
                "node group is not on Spot capacity",
            ));
        }
    }
}

/// [`BUDGET_FILTER_RULE`].
pub struct BudgetFilter;
impl Check for BudgetFilter {
    fn rule(&self) -> &'static str {
        BUDGET_FILTER_RULE
    }
    fn check(&self, ctx: &CheckContext<'_>, r: &CheckedResource<'_>, out: &mut Vec<Finding>) {
        let Some(p) = of_type(r, "AWS::Budgets::Budget") else {
            return;
        };
        let Some(filters) = p["Budget"]["CostFilters"]["TagKeyValue"].as_array() else {
            out.push(Finding::new(
                "Budget.CostFilters",
                "budget is not scoped by a tag of the app",
            ));
            return;
        };
        for f in filters {
            let matched = f
                .as_str()
                .and_then(|s| s.strip_prefix("user:"))
                .and_then(|s| s.split_once('$'))
                .is_some_and(|(k, v)| ctx.stack_tags.get(k).is_some_and(|tv| tv == v));
            if !matched {
                out.push(Finding::new(
                    "Budget.CostFilters.TagKeyValue",
                    format!(
                        "filter {f} matches no tag the app applies, so the budget watches nothing"
                    ),
                ));
            }
        }
    }
}

/// [`IAM_ADMIN_RULE`].
pub struct NoAdminStatements;
impl Check for NoAdminStatements {
    fn rule(&self) -> &'static str {
        IAM_ADMIN_RULE
    }
    fn check(&self, _: &CheckContext<'_>, r: &CheckedResource<'_>, out: &mut Vec<Finding>) {
        let p = r.properties;
        let documents: Vec<(&str, &Json)> = match r.type_name {
            "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => p["Policies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|pol| ("Policies.PolicyDocument", &pol["PolicyDocument"]))
                .collect(),
            "AWS::IAM::Policy"
            | "AWS::IAM::ManagedPolicy"
            | "AWS::SNS::TopicPolicy"
            | "AWS::SQS::QueuePolicy"
            | "AWS::S3::BucketPolicy" => vec![("PolicyDocument", &p["PolicyDocument"])],
            _ => return,
        };
        for (field, doc) in documents {
            if statements(doc).any(is_admin_statement) {
                out.push(Finding::new(
                    field,
                    "a statement allows every action (`*`) on every resource (`*`)",
                ));
            }
        }
    }
}

fn statements(doc: &Json) -> impl Iterator<Item = &Json> {
    match &doc["Statement"] {
        Json::Array(a) => a.iter().collect::<Vec<_>>().into_iter(),
        s @ Json::Object(_) => vec![s].into_iter(),
        _ => Vec::new().into_iter(),
    }
}

fn contains_star(v: &Json) -> bool {
    match v {
        Json::String(s) => s == "*",
        Json::Array(a) => a.iter().any(|x| x.as_str() == Some("*")),
        _ => false,
    }
}

fn is_admin_statement(s: &Json) -> bool {
    s["Effect"].as_str() == Some("Allow")
        && contains_star(&s["Action"])
        && contains_star(&s["Resource"])
}
