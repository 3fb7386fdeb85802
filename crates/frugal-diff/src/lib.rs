//! # frugal-diff
//!
//! What Frugal knows about a template without asking AWS: per-resource, per-property diffs
//! of two templates with create-only properties marked as replacements ([`template_diff`]),
//! IAM permission broadening between two templates ([`iam`]), and template facts such as
//! stateful types, construct paths and required capabilities ([`template`]).
//!
//! The deploy engine (`frugal-deploy`) builds on it; this crate stays free of the AWS SDK so
//! that anything that only reads templates — benchmarks, linters, CI checks — compiles fast.
//!
//! ```
//! use serde_json::json;
//! let old = json!({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup",
//!     "Properties": {"LogGroupName": "/a", "RetentionInDays": 7}}}});
//! let new = json!({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup",
//!     "Properties": {"LogGroupName": "/b", "RetentionInDays": 7}}}});
//! let diff = frugal_diff::template_diff::diff_templates(Some(&old), &new, &frugal_diff::schema_of);
//! assert!(!diff.is_empty());
//! ```

#![warn(missing_docs)]

pub mod iam;
pub mod node;
pub mod template;
pub mod template_diff;

/// The registry-schema facts of a resource type (create-only properties and more), from
/// `frugal-cfn`.
pub fn schema_of(type_name: &str) -> Option<&'static frugal_core::ResourceSchema> {
    frugal_cfn::schema_of(type_name)
}
