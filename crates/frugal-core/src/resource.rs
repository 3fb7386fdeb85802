//! What the core needs to know about a CloudFormation resource type.
//!
//! The facts come from AWS's registry schemas: `frugal-cfn` generates one property struct
//! per resource type and implements [`ResourceType`] for it.

use serde::Serialize;

/// How a resource type carries tags (from the schema's `tagging` section).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagFormat {
    /// The type cannot be tagged through CloudFormation.
    None,
    /// Tags are a list of `{"Key": k, "Value": v}` objects under the named property.
    List(&'static str),
    /// Tags are a string map `{k: v}` under the named property.
    Map(&'static str),
}

/// Schema facts about a CloudFormation resource type.
#[derive(Debug)]
pub struct ResourceSchema {
    /// The type name, e.g. `AWS::S3::Bucket`.
    pub type_name: &'static str,
    /// Attributes `Fn::GetAtt` may read (the schema's read-only properties, `/` → `.`).
    pub attributes: &'static [&'static str],
    /// Property paths whose change replaces the resource (`createOnlyProperties`),
    /// written with `/` between levels, e.g. `BucketName`.
    pub create_only: &'static [&'static str],
    /// Top-level properties the schema requires.
    pub required: &'static [&'static str],
    /// How the type takes tags.
    pub tagging: TagFormat,
}

impl ResourceSchema {
    /// Whether `Fn::GetAtt` may read `attribute`.
    pub fn has_attribute(&self, attribute: &str) -> bool {
        self.attributes.contains(&attribute)
    }

    /// Whether changing the property at `path` (`/`-separated) replaces the resource:
    /// true when the path or one of its ancestors is create-only.
    pub fn requires_replacement(&self, path: &str) -> bool {
        self.create_only.iter().any(|c| {
            path == *c || (path.starts_with(c) && path.as_bytes().get(c.len()) == Some(&b'/'))
        })
    }
}

/// A typed property set for one CloudFormation resource type.
pub trait ResourceType: Serialize {
    /// The schema facts of this type.
    const SCHEMA: &'static ResourceSchema;
}
