//! Stacks, construct scopes and the resources, parameters and outputs they declare.

use std::collections::BTreeMap;
use std::fmt;

use crate::resource::{ResourceSchema, ResourceType};
use crate::value::{Expr, Intrinsic, LogicalRef, Value};
use crate::Violation;

/// Tags as an ordered map (stable output).
pub type Tags = BTreeMap<String, String>;

/// Metadata key holding a resource's construct path.
pub const PATH_METADATA: &str = "frugal:path";
/// Metadata key holding a resource's acknowledged policy findings.
pub const ACK_METADATA: &str = "frugal:acknowledgements";

/// CloudFormation's default limit on resources per stack.
pub const MAX_RESOURCES_PER_STACK: usize = 500;

/// A construct's place in the tree: the stack name, then construct ids.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConstructPath(Vec<String>);

impl ConstructPath {
    /// The path of a stack's root.
    pub fn root(stack: &str) -> Self {
        ConstructPath(vec![stack.to_owned()])
    }

    /// The path of child `id` below this one.
    pub fn child(&self, id: &str) -> Self {
        let mut parts = self.0.clone();
        parts.push(id.to_owned());
        ConstructPath(parts)
    }

    /// The components, stack name first.
    pub fn parts(&self) -> &[String] {
        &self.0
    }

    /// A readable logical id: the ids below the stack, each reduced to ASCII letters and
    /// digits, concatenated; `Resource` and `Default` children add nothing (so the main
    /// resource of `Stack/DataBucket` is `DataBucket`).
    pub fn logical_id(&self) -> String {
        let mut id = String::new();
        for part in self.0.iter().skip(1) {
            if part == "Resource" || part == "Default" {
                continue;
            }
            id.extend(part.chars().filter(char::is_ascii_alphanumeric));
        }
        id
    }
}

impl fmt::Display for ConstructPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

/// `DeletionPolicy` / `UpdateReplacePolicy` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovalPolicy {
    /// Delete the physical resource.
    Delete,
    /// Keep the physical resource (and its data).
    Retain,
    /// Keep it unless the stack's creation fails.
    RetainExceptOnCreate,
    /// Snapshot, then delete (types that support snapshots).
    Snapshot,
}

impl RemovalPolicy {
    /// The CloudFormation spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RemovalPolicy::Delete => "Delete",
            RemovalPolicy::Retain => "Retain",
            RemovalPolicy::RetainExceptOnCreate => "RetainExceptOnCreate",
            RemovalPolicy::Snapshot => "Snapshot",
        }
    }
}

/// Resource attributes beside `Properties`.
#[derive(Clone, Debug, Default)]
pub struct ResourceOptions {
    /// `DeletionPolicy`.
    pub deletion_policy: Option<RemovalPolicy>,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Option<RemovalPolicy>,
    /// `DependsOn` (resources in the same stack; other stacks become stack dependencies).
    pub depends_on: Vec<ResourceHandle>,
    /// `Condition`: a condition declared in the stack.
    pub condition: Option<String>,
    /// Extra `Metadata` entries.
    pub metadata: BTreeMap<String, serde_json::Value>,
}

impl ResourceOptions {
    /// Keep the resource and its data on delete and on replacement.
    pub fn retain() -> Self {
        ResourceOptions {
            deletion_policy: Some(RemovalPolicy::Retain),
            update_replace_policy: Some(RemovalPolicy::Retain),
            ..Default::default()
        }
    }

    /// Adds a `DependsOn` entry.
    pub fn depends_on(mut self, handle: &ResourceHandle) -> Self {
        self.depends_on.push(handle.clone());
        self
    }
}

/// A reference to a declared resource, usable from any stack of the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceHandle {
    target: LogicalRef,
    type_name: &'static str,
    path: ConstructPath,
}

impl ResourceHandle {
    /// `Ref` of the resource (its physical id: a name, ARN or id depending on the type).
    pub fn ref_(&self) -> Expr<String> {
        Expr::from_value(Value::intrinsic(Intrinsic::Ref(self.target.clone())))
    }

    /// `Fn::GetAtt` of an attribute; checked against the type's schema at synthesis.
    pub fn get_att(&self, attribute: &str) -> Expr<String> {
        Expr::from_value(Value::intrinsic(Intrinsic::GetAtt(
            self.target.clone(),
            attribute.to_owned(),
        )))
    }

    /// `Fn::GetAtt` of `Arn`.
    pub fn arn(&self) -> Expr<String> {
        self.get_att("Arn")
    }

    /// The stack and logical id.
    pub fn logical_ref(&self) -> &LogicalRef {
        &self.target
    }

    /// The CloudFormation type name.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }
}

/// CloudFormation parameter types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParameterType {
    /// `String`.
    String,
    /// `Number`.
    Number,
    /// `CommaDelimitedList`.
    CommaDelimitedList,
    /// An AWS-specific or SSM type, e.g. `List<AWS::EC2::Subnet::Id>`.
    Aws(String),
}

impl ParameterType {
    fn as_str(&self) -> &str {
        match self {
            ParameterType::String => "String",
            ParameterType::Number => "Number",
            ParameterType::CommaDelimitedList => "CommaDelimitedList",
            ParameterType::Aws(s) => s,
        }
    }
}

/// A template parameter declaration, and the value the app deploys it with.
#[derive(Clone, Debug)]
pub struct Parameter {
    /// The parameter's type.
    pub kind: ParameterType,
    /// `Description`.
    pub description: String,
    /// `Default`.
    pub default: Option<String>,
    /// `AllowedValues`.
    pub allowed_values: Vec<String>,
    /// `AllowedPattern`.
    pub allowed_pattern: Option<String>,
    /// `ConstraintDescription`.
    pub constraint_description: Option<String>,
    /// `MinValue` (numbers).
    pub min_value: Option<f64>,
    /// `MaxValue` (numbers).
    pub max_value: Option<f64>,
    /// `NoEcho`.
    pub no_echo: bool,
    /// The value `deploy` passes (recorded in the manifest), if the app knows it.
    pub value: Option<String>,
}

impl Parameter {
    /// A parameter of `kind` with a description.
    pub fn new(kind: ParameterType, description: impl Into<String>) -> Self {
        Parameter {
            kind,
            description: description.into(),
            default: None,
            allowed_values: Vec::new(),
            allowed_pattern: None,
            constraint_description: None,
            min_value: None,
            max_value: None,
            no_echo: false,
            value: None,
        }
    }

    /// Sets `Default`.
    pub fn default_value(mut self, v: impl Into<String>) -> Self {
        self.default = Some(v.into());
        self
    }

    /// Sets the value deploy passes.
    pub fn value(mut self, v: impl Into<String>) -> Self {
        self.value = Some(v.into());
        self
    }

    /// Sets `AllowedPattern` with its `ConstraintDescription`.
    pub fn pattern(mut self, pattern: impl Into<String>, description: impl Into<String>) -> Self {
        self.allowed_pattern = Some(pattern.into());
        self.constraint_description = Some(description.into());
        self
    }

    /// Sets `MinValue` / `MaxValue`.
    pub fn range(mut self, min: f64, max: f64) -> Self {
        self.min_value = Some(min);
        self.max_value = Some(max);
        self
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("Type".into(), self.kind.as_str().into());
        if !self.description.is_empty() {
            m.insert("Description".into(), self.description.clone().into());
        }
        if let Some(d) = &self.default {
            m.insert("Default".into(), d.clone().into());
        }
        if !self.allowed_values.is_empty() {
            m.insert("AllowedValues".into(), self.allowed_values.clone().into());
        }
        if let Some(p) = &self.allowed_pattern {
            m.insert("AllowedPattern".into(), p.clone().into());
        }
        if let Some(c) = &self.constraint_description {
            m.insert("ConstraintDescription".into(), c.clone().into());
        }
        if let Some(v) = self.min_value {
            m.insert("MinValue".into(), number(v));
        }
        if let Some(v) = self.max_value {
            m.insert("MaxValue".into(), number(v));
        }
        if self.no_echo {
            m.insert("NoEcho".into(), true.into());
        }
        serde_json::Value::Object(m)
    }
}

/// A JSON number, whole values written as integers.
fn number(v: f64) -> serde_json::Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        (v as i64).into()
    } else {
        v.into()
    }
}

/// A reference to a declared parameter.
#[derive(Clone, Debug)]
pub struct ParameterHandle {
    target: LogicalRef,
}

impl ParameterHandle {
    /// The parameter's value as a string.
    pub fn as_string(&self) -> Expr<String> {
        Expr::from_value(self.value())
    }

    /// The parameter's value as a number.
    pub fn as_number(&self) -> Expr<f64> {
        Expr::from_value(self.value())
    }

    /// The parameter's value as a list of strings (list parameter types).
    pub fn as_list(&self) -> Expr<Vec<Expr<String>>> {
        Expr::from_value(self.value())
    }

    /// The untyped `Ref`.
    pub fn value(&self) -> Value {
        Value::intrinsic(Intrinsic::Ref(self.target.clone()))
    }
}

/// A stack output.
#[derive(Clone, Debug)]
pub struct Output {
    /// `Value`.
    pub value: Value,
    /// `Description`.
    pub description: Option<String>,
    /// `Export.Name`.
    pub export_name: Option<String>,
}

/// One declared resource, serialized when added.
#[derive(Clone, Debug)]
pub(crate) struct ResourceEntry {
    pub(crate) path: ConstructPath,
    pub(crate) schema: &'static ResourceSchema,
    /// Compact JSON of the properties, parsed again when the stack is synthesized (a
    /// string is a fraction of a document tree's memory).
    pub(crate) properties: String,
    pub(crate) options: ResourceOptions,
    pub(crate) acknowledgements: Vec<(String, String)>,
}

/// A CloudFormation stack: the unit of deployment.
#[derive(Debug)]
pub struct Stack {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) tags: Tags,
    pub(crate) protected: bool,
    pub(crate) resource_limit_waiver: Option<String>,
    pub(crate) resources: BTreeMap<String, ResourceEntry>,
    pub(crate) parameters: BTreeMap<String, Parameter>,
    pub(crate) conditions: BTreeMap<String, Value>,
    pub(crate) outputs: BTreeMap<String, Output>,
    pub(crate) explicit_dependencies: Vec<String>,
    pub(crate) errors: Vec<Violation>,
}

impl Stack {
    /// An empty stack named `name` carrying `tags` (usually the app's: see
    /// [`crate::App::new_stack`]).
    pub fn new(name: impl Into<String>, tags: Tags) -> Self {
        Stack {
            name: name.into(),
            description: None,
            region: None,
            tags,
            protected: false,
            resource_limit_waiver: None,
            resources: BTreeMap::new(),
            parameters: BTreeMap::new(),
            conditions: BTreeMap::new(),
            outputs: BTreeMap::new(),
            explicit_dependencies: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The stack name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Tags applied to every taggable resource of this stack (app tags included).
    pub fn tags(&self) -> &Tags {
        &self.tags
    }

    /// Adds or replaces a stack-level tag.
    pub fn set_tag(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.tags.insert(key.into(), value.into());
    }

    /// Sets the template `Description`.
    pub fn set_description(&mut self, description: impl Into<String>) {
        self.description = Some(description.into());
    }

    /// Pins the stack to a region (recorded in the manifest).
    pub fn set_region(&mut self, region: impl Into<String>) {
        self.region = Some(region.into());
    }

    /// The pinned region, if any.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Marks the stack protected: deploy turns termination protection on and destroy
    /// refuses it unless told explicitly.
    pub fn set_protected(&mut self, protected: bool) {
        self.protected = protected;
    }

    /// Lifts CloudFormation's 500-resources-per-stack check for this stack; the reason
    /// is required because a real deploy of such a stack fails.
    pub fn waive_resource_limit(&mut self, reason: impl Into<String>) {
        self.resource_limit_waiver = Some(reason.into());
    }

    /// Declares that this stack deploys after `other` even without a reference.
    pub fn add_dependency(&mut self, other: &str) {
        if !self.explicit_dependencies.iter().any(|d| d == other) {
            self.explicit_dependencies.push(other.to_owned());
        }
    }

    /// Declares a parameter.
    pub fn add_parameter(&mut self, name: &str, parameter: Parameter) -> ParameterHandle {
        if self.parameters.insert(name.to_owned(), parameter).is_some() {
            self.errors.push(Violation::new(
                ConstructPath::root(&self.name),
                format!("Parameters.{name}"),
                "parameter declared twice",
            ));
        }
        ParameterHandle {
            target: LogicalRef {
                stack: self.name.clone(),
                logical_id: name.to_owned(),
            },
        }
    }

    /// Declares a condition (use with `Fn::If` or [`ResourceOptions::condition`]).
    pub fn add_condition(&mut self, name: &str, condition: Value) {
        self.conditions.insert(name.to_owned(), condition);
    }

    /// Declares an output.
    pub fn add_output(&mut self, name: &str, output: Output) {
        self.outputs.insert(name.to_owned(), output);
    }

    /// The root scope, for adding constructs.
    pub fn root(&mut self) -> Scope<'_> {
        let path = ConstructPath::root(&self.name);
        Scope { stack: self, path }
    }

    /// Number of declared resources.
    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    fn add_entry(&mut self, path: ConstructPath, entry: ResourceEntry) -> String {
        let id = path.logical_id();
        if id.is_empty() {
            self.errors.push(Violation::new(
                &path,
                "id",
                "the path gives an empty logical id",
            ));
        } else if id.len() > 255 {
            self.errors.push(Violation::new(
                &path,
                "id",
                "logical id longer than 255 characters",
            ));
        } else if let Some(existing) = self.resources.get(&id) {
            self.errors.push(Violation::new(
                &path,
                "id",
                format!("logical id `{id}` is already used by `{}`", existing.path),
            ));
            return id;
        }
        self.resources.insert(id.clone(), entry);
        id
    }
}

/// A place in the construct tree where constructs add resources.
pub struct Scope<'s> {
    stack: &'s mut Stack,
    path: ConstructPath,
}

impl Scope<'_> {
    /// The scope of child `id`.
    pub fn child(&mut self, id: &str) -> Scope<'_> {
        let path = self.path.child(id);
        Scope {
            stack: self.stack,
            path,
        }
    }

    /// This scope's path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The stack this scope belongs to.
    pub fn stack(&mut self) -> &mut Stack {
        self.stack
    }

    /// The stack's name.
    pub fn stack_name(&self) -> &str {
        &self.stack.name
    }

    /// Tags every taggable resource of the stack receives.
    pub fn tags(&self) -> &Tags {
        &self.stack.tags
    }

    /// Adds resource `id` below this scope with default options.
    pub fn add_resource<R: ResourceType>(&mut self, id: &str, properties: R) -> ResourceHandle {
        self.add_resource_with(id, properties, ResourceOptions::default())
    }

    /// Adds resource `id` below this scope with `options`.
    pub fn add_resource_with<R: ResourceType>(
        &mut self,
        id: &str,
        properties: R,
        options: ResourceOptions,
    ) -> ResourceHandle {
        let path = self.path.child(id);
        let properties = match serde_json::to_string(&properties) {
            Ok(v) => v,
            Err(e) => {
                self.stack
                    .errors
                    .push(Violation::new(&path, "Properties", e.to_string()));
                "{}".to_owned()
            }
        };
        let entry = ResourceEntry {
            path: path.clone(),
            schema: R::SCHEMA,
            properties,
            options,
            acknowledgements: Vec::new(),
        };
        let logical_id = self.stack.add_entry(path.clone(), entry);
        ResourceHandle {
            target: LogicalRef {
                stack: self.stack.name.clone(),
                logical_id,
            },
            type_name: R::SCHEMA.type_name,
            path,
        }
    }

    /// Acknowledges a policy rule for a resource of this stack, with the reason synth
    /// prints; without it a finding of that rule fails synthesis.
    pub fn acknowledge(
        &mut self,
        resource: &ResourceHandle,
        rule: &str,
        reason: impl Into<String>,
    ) {
        if let Some(entry) = self.stack.resources.get_mut(&resource.target.logical_id) {
            entry
                .acknowledgements
                .push((rule.to_owned(), reason.into()));
        }
    }
}
