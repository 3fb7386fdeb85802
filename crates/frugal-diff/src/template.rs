//! Facts read from a synthesized (or deployed) CloudFormation template.

use std::collections::BTreeMap;

use frugal_core::PATH_METADATA;
use serde_json::Value;

use crate::node::Node;

/// Resource types that hold data: replacing or deleting one loses it.
pub const STATEFUL_TYPES: &[&str] = &[
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
    "AWS::ECR::Repository",
    "AWS::Budgets::Budget",
];

/// Largest template CloudFormation accepts inline (`TemplateBody`), in bytes; larger ones
/// go through a staging bucket (`TemplateURL`).
pub const INLINE_TEMPLATE_LIMIT: usize = 51_200;

/// Whether resources of `type_name` hold data (see [`STATEFUL_TYPES`]).
pub fn is_stateful(type_name: &str) -> bool {
    STATEFUL_TYPES.contains(&type_name)
}

/// Whether a template of `len` bytes must be uploaded rather than sent inline.
pub fn needs_staging(len: usize) -> bool {
    len > INLINE_TEMPLATE_LIMIT
}

/// The template's `Resources` as `(logical id, resource)` pairs, in template order.
pub fn resources(template: &Value) -> impl Iterator<Item = (&str, &Value)> {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v))
}

/// Read access to a parsed JSON value: what the resource facts below need, so they hold
/// for a [`Value`] and for the borrowed [`Node`] the diff parses into alike.
pub trait JsonView {
    /// The value of `key` when this is an object that has it.
    fn field(&self, key: &str) -> Option<&Self>;
    /// The string, when this is one.
    fn text(&self) -> Option<&str>;
}

impl JsonView for Value {
    fn field(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }
    fn text(&self) -> Option<&str> {
        self.as_str()
    }
}

impl JsonView for Node<'_> {
    fn field(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }
    fn text(&self) -> Option<&str> {
        self.as_str()
    }
}

/// A resource's `Type`.
pub fn resource_type<J: JsonView + ?Sized>(resource: &J) -> &str {
    resource.field("Type").and_then(J::text).unwrap_or("")
}

/// A resource's construct path from its `Metadata` (`frugal:path`).
pub fn construct_path<J: JsonView + ?Sized>(resource: &J) -> Option<&str> {
    resource
        .field("Metadata")
        .and_then(|m| m.field(PATH_METADATA))
        .and_then(J::text)
}

/// Logical id → construct path for every resource that records one.
pub fn construct_paths(template: &Value) -> BTreeMap<String, String> {
    resources(template)
        .filter_map(|(id, r)| construct_path(r).map(|p| (id.to_owned(), p.to_owned())))
        .collect()
}

/// Whether the resource survives the stack's deletion (`DeletionPolicy` `Retain`,
/// `RetainExceptOnCreate` or `Snapshot` for the data it keeps).
pub fn retained_on_delete<J: JsonView + ?Sized>(resource: &J) -> bool {
    matches!(
        resource.field("DeletionPolicy").and_then(J::text),
        Some("Retain" | "RetainExceptOnCreate")
    )
}

/// Whether the old physical resource survives a replacement (`UpdateReplacePolicy: Retain`).
pub fn retained_on_replace<J: JsonView + ?Sized>(resource: &J) -> bool {
    matches!(
        resource.field("UpdateReplacePolicy").and_then(J::text),
        Some("Retain")
    )
}

/// IAM resource types that need `CAPABILITY_IAM`, with the property that names them
/// (a custom name needs `CAPABILITY_NAMED_IAM`).
const IAM_TYPES: &[(&str, Option<&str>)] = &[
    ("AWS::IAM::Role", Some("RoleName")),
    ("AWS::IAM::User", Some("UserName")),
    ("AWS::IAM::Group", Some("GroupName")),
    ("AWS::IAM::ManagedPolicy", Some("ManagedPolicyName")),
    ("AWS::IAM::InstanceProfile", Some("InstanceProfileName")),
    ("AWS::IAM::Policy", None),
    ("AWS::IAM::AccessKey", None),
    ("AWS::IAM::UserToGroupAddition", None),
    ("AWS::IAM::RolePolicy", None),
    ("AWS::IAM::UserPolicy", None),
    ("AWS::IAM::GroupPolicy", None),
];

/// The capabilities CloudFormation demands for this template: `CAPABILITY_IAM` for IAM
/// resources, `CAPABILITY_NAMED_IAM` when one has a custom name, `CAPABILITY_AUTO_EXPAND`
/// for transforms.
pub fn required_capabilities(template: &Value) -> Vec<&'static str> {
    let mut iam = false;
    let mut named = false;
    for (_, r) in resources(template) {
        let t = resource_type(r);
        if let Some((_, name_prop)) = IAM_TYPES.iter().find(|(ty, _)| *ty == t) {
            iam = true;
            if let Some(p) = name_prop {
                named |= r
                    .get("Properties")
                    .and_then(|props| props.get(*p))
                    .is_some();
            }
        }
    }
    let mut caps = Vec::new();
    if named {
        caps.push("CAPABILITY_NAMED_IAM");
    } else if iam {
        caps.push("CAPABILITY_IAM");
    }
    if template.get("Transform").is_some() {
        caps.push("CAPABILITY_AUTO_EXPAND");
    }
    caps
}

/// One resource of a template, as destroy lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSummary {
    /// Logical id.
    pub logical_id: String,
    /// CloudFormation type.
    pub type_name: String,
    /// Construct path, when the template records it.
    pub path: Option<String>,
    /// Kept when the stack is deleted.
    pub retained: bool,
}

/// Every resource of the template, in template order.
pub fn summarize(template: &Value) -> Vec<ResourceSummary> {
    resources(template)
        .map(|(id, r)| ResourceSummary {
            logical_id: id.to_owned(),
            type_name: resource_type(r).to_owned(),
            path: construct_path(r).map(str::to_owned),
            retained: retained_on_delete(r),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn capabilities_follow_iam_resources_and_names() {
        let plain = json!({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}});
        assert!(required_capabilities(&plain).is_empty());
        let role = json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {}}}});
        assert_eq!(required_capabilities(&role), ["CAPABILITY_IAM"]);
        let named = json!({"Resources": {
            "R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}},
            "P": {"Type": "AWS::IAM::Policy"}}});
        assert_eq!(required_capabilities(&named), ["CAPABILITY_NAMED_IAM"]);
        let transform = json!({"Transform": "AWS::Serverless-2016-10-31", "Resources": {}});
        assert_eq!(
            required_capabilities(&transform),
            ["CAPABILITY_AUTO_EXPAND"]
        );
    }

    #[test]
    fn summary_reads_paths_and_retention() {
        let t = json!({"Resources": {
            "Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain",
                     "Metadata": {"frugal:path": "Storage/Data"}},
            "Logs": {"Type": "AWS::Logs::LogGroup"}}});
        let s = summarize(&t);
        assert_eq!(s[0].path.as_deref(), Some("Storage/Data"));
        assert!(s[0].retained);
        assert!(!s[1].retained);
        assert_eq!(construct_paths(&t).len(), 1);
        assert!(is_stateful("AWS::ECR::Repository"));
        assert!(!is_stateful("AWS::IAM::Role"));
        assert!(!needs_staging(51_200));
        assert!(needs_staging(51_201));
    }
}
