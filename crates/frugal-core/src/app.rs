//! The app: stacks, app-wide tags, policy checks, and synthesis into an [`Assembly`].

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::assembly::Assembly;
use crate::stack::{Stack, Tags};
use crate::Violations;

/// A policy rule run on every synthesized resource (cost and safety checks). Checks
/// run on several threads for large stacks, hence `Send + Sync`.
pub trait Check: Send + Sync {
    /// Rule id, e.g. `FRUGAL-LOG-RETENTION`; acknowledgements name it.
    fn rule(&self) -> &'static str;
    /// Adds a finding when `resource` breaks the rule.
    fn check(
        &self,
        ctx: &CheckContext<'_>,
        resource: &CheckedResource<'_>,
        findings: &mut Vec<Finding>,
    );
}

/// The stack a checked resource belongs to.
pub struct CheckContext<'a> {
    /// The app-wide tags.
    pub app_tags: &'a Tags,
    /// The stack's tags (app tags included).
    pub stack_tags: &'a Tags,
    /// The stack's name.
    pub stack: &'a str,
}

/// A resource as it will be written: tags applied, references resolved.
pub struct CheckedResource<'a> {
    /// Logical id.
    pub logical_id: &'a str,
    /// CloudFormation type, e.g. `AWS::S3::Bucket`.
    pub type_name: &'a str,
    /// The `Properties` object.
    pub properties: &'a Json,
}

/// How a resource breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The property at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl Finding {
    /// A finding on `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A finding the app acknowledged, printed by synth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acknowledged {
    /// Construct path of the resource.
    pub path: String,
    /// The rule.
    pub rule: String,
    /// The finding.
    pub message: String,
    /// The reason the app gave.
    pub reason: String,
}

/// A Frugal app: named stacks sharing app-wide tags.
pub struct App {
    pub(crate) name: String,
    pub(crate) tags: Tags,
    pub(crate) required_tags: Vec<String>,
    pub(crate) stacks: Vec<Stack>,
    pub(crate) checks: Vec<Box<dyn Check>>,
    pub(crate) files: BTreeMap<String, String>,
}

impl App {
    /// An empty app.
    pub fn new(name: impl Into<String>) -> Self {
        App {
            name: name.into(),
            tags: Tags::new(),
            required_tags: Vec::new(),
            stacks: Vec::new(),
            checks: Vec::new(),
            files: BTreeMap::new(),
        }
    }

    /// The app's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets an app-wide tag; stacks created afterwards carry it. Set tags first.
    pub fn set_tag(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.tags.insert(key.into(), value.into());
    }

    /// The app-wide tags.
    pub fn tags(&self) -> &Tags {
        &self.tags
    }

    /// Makes synthesis fail when a taggable resource lacks one of `keys`.
    pub fn require_tags<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, keys: I) {
        self.required_tags.extend(keys.into_iter().map(Into::into));
    }

    /// A new stack carrying the app's tags; add it back with [`App::add_stack`].
    pub fn new_stack(&self, name: impl Into<String>) -> Stack {
        Stack::new(name, self.tags.clone())
    }

    /// Adds a stack.
    pub fn add_stack(&mut self, stack: Stack) {
        self.stacks.push(stack);
    }

    /// The stacks, in the order they were added.
    pub fn stacks(&self) -> &[Stack] {
        &self.stacks
    }

    /// Adds a policy check run on every stack at synthesis.
    pub fn add_check(&mut self, check: Box<dyn Check>) {
        self.checks.push(check);
    }

    /// Adds a file synthesized beside the templates, at a relative path (e.g. `k8s/pdb.yaml`).
    pub fn add_file(&mut self, relative_path: impl Into<String>, contents: impl Into<String>) {
        self.files.insert(relative_path.into(), contents.into());
    }

    /// Synthesizes every stack: applies tags, resolves references (cross-stack ones into
    /// generated exports and imports), orders stacks by dependency, runs the checks,
    /// and serializes templates deterministically. Nothing is written.
    pub fn synth(self) -> Result<Assembly, Violations> {
        crate::synth::synthesize(self)
    }
}
