//! The app: stacks, app-wide tags, policy checks, and synthesis into an [`Assembly`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};

use crate::manifest::{Manifest, StackManifest, MANIFEST_FILE};
use crate::resource::{ResourceSchema, TagFormat};
use crate::stack::{
    ConstructPath, Stack, Tags, ACK_METADATA, MAX_RESOURCES_PER_STACK, PATH_METADATA,
};
use crate::value::STACK_MARKER;
use crate::{Violation, Violations};

/// A policy rule run on every synthesized stack (cost and safety checks).
pub trait Check {
    /// Rule id, e.g. `FRUGAL-LOG-RETENTION`; acknowledgements name it.
    fn rule(&self) -> &'static str;
    /// Adds a finding for every resource of the template that breaks the rule.
    fn check(&self, ctx: &CheckContext<'_>, findings: &mut Vec<Finding>);
}

/// What a [`Check`] sees: one synthesized stack and the app's tags.
pub struct CheckContext<'a> {
    /// The app-wide tags.
    pub app_tags: &'a Tags,
    /// The stack's tags (app tags included).
    pub stack_tags: &'a Tags,
    /// The stack's name.
    pub stack: &'a str,
    /// The stack's template, references resolved and tags applied.
    pub template: &'a Json,
}

impl CheckContext<'_> {
    /// `(logical id, type, properties)` of every resource, in logical id order.
    pub fn resources(&self) -> impl Iterator<Item = (&str, &str, &Json)> {
        self.template["Resources"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(id, r)| {
                (
                    id.as_str(),
                    r["Type"].as_str().unwrap_or_default(),
                    &r["Properties"],
                )
            })
    }

    /// Resources of one type.
    pub fn resources_of_type<'s>(
        &'s self,
        type_name: &'s str,
    ) -> impl Iterator<Item = (&'s str, &'s Json)> {
        self.resources()
            .filter(move |(_, t, _)| *t == type_name)
            .map(|(id, _, p)| (id, p))
    }
}

/// A resource that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Logical id of the resource.
    pub logical_id: String,
    /// The property at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
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
    name: String,
    tags: Tags,
    required_tags: Vec<String>,
    stacks: Vec<Stack>,
    checks: Vec<Box<dyn Check>>,
    files: BTreeMap<String, String>,
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
        Synthesizer::new(self).run()
    }
}

/// Index of what each stack declares, for reference checks.
struct Declared<'a> {
    resources: HashMap<&'a str, &'static ResourceSchema>,
    parameters: BTreeSet<&'a str>,
    conditions: BTreeSet<&'a str>,
}

struct Synthesizer {
    app: App,
    errors: Violations,
}

/// An export some stack must add because another stack references it.
struct ExportRequest {
    output_id: String,
    export_name: String,
    value: Json,
}

impl Synthesizer {
    fn new(app: App) -> Self {
        Synthesizer {
            app,
            errors: Violations::new(),
        }
    }

    fn run(mut self) -> Result<Assembly, Violations> {
        let mut stacks = std::mem::take(&mut self.app.stacks);
        // Properties move into the templates instead of being copied (12,000 resources
        // must stay well under 100 MB).
        let mut properties: Vec<Vec<Json>> = stacks
            .iter_mut()
            .map(|s| {
                s.resources
                    .values_mut()
                    .map(|e| std::mem::take(&mut e.properties))
                    .collect()
            })
            .collect();
        self.check_stack_names(&stacks);
        for s in &stacks {
            self.errors.0.extend(s.errors.iter().cloned());
            if s.resources.len() > MAX_RESOURCES_PER_STACK && s.resource_limit_waiver.is_none() {
                self.errors.push(
                    ConstructPath::root(&s.name),
                    "Resources",
                    format!(
                        "{} resources; CloudFormation allows {MAX_RESOURCES_PER_STACK} per stack: split the stack",
                        s.resources.len()
                    ),
                );
            }
        }
        let declared: HashMap<&str, Declared<'_>> = stacks
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    Declared {
                        resources: s
                            .resources
                            .iter()
                            .map(|(id, e)| (id.as_str(), e.schema))
                            .collect(),
                        parameters: s.parameters.keys().map(String::as_str).collect(),
                        conditions: s.conditions.keys().map(String::as_str).collect(),
                    },
                )
            })
            .collect();

        let mut templates: Vec<Map<String, Json>> = Vec::with_capacity(stacks.len());
        let mut dependencies: Vec<BTreeSet<String>> = Vec::with_capacity(stacks.len());
        let mut exports: HashMap<String, BTreeMap<String, ExportRequest>> = HashMap::new();
        for (stack, properties) in stacks.iter().zip(properties.iter_mut()) {
            let mut deps: BTreeSet<String> = stack.explicit_dependencies.iter().cloned().collect();
            let mut resolver = Resolver {
                declared: &declared,
                current: &stack.name,
                exports: &mut exports,
                deps: &mut deps,
                errors: &mut self.errors,
                path: String::new(),
                location: ConstructPath::root(&stack.name),
            };
            let template =
                resolver.template(stack, std::mem::take(properties), &self.app.required_tags);
            dependencies.push(deps);
            templates.push(template);
        }
        for (stack, template) in stacks.iter().zip(templates.iter_mut()) {
            if let Some(requests) = exports.remove(&stack.name) {
                let outputs = template
                    .entry("Outputs")
                    .or_insert_with(|| Json::Object(Map::new()));
                if let Json::Object(outputs) = outputs {
                    for (_, req) in requests {
                        outputs.insert(
                            req.output_id,
                            json!({"Value": req.value, "Export": {"Name": req.export_name}}),
                        );
                    }
                }
            }
        }
        let order = self.order(&stacks, &dependencies);
        let templates: Vec<Json> = templates.into_iter().map(Json::Object).collect();
        let acknowledged = self.run_checks(&stacks, &templates);
        if !self.errors.is_empty() {
            self.errors.0.sort();
            self.errors.0.dedup();
            return Err(self.errors);
        }

        let mut out_stacks = Vec::with_capacity(stacks.len());
        let mut manifest_stacks = Vec::with_capacity(stacks.len());
        let mut templates: Vec<Option<Json>> = templates.into_iter().map(Some).collect();
        for i in order {
            let stack = &stacks[i];
            let template = templates[i].take().unwrap_or_default();
            let mut text = serde_json::to_string_pretty(&template).map_err(|e| {
                Violations::from(Violation::new(
                    ConstructPath::root(&stack.name),
                    "template",
                    e.to_string(),
                ))
            })?;
            text.push('\n');
            let file = format!("{}.template.json", stack.name);
            manifest_stacks.push(StackManifest {
                name: stack.name.clone(),
                template: file.clone(),
                region: stack.region.clone(),
                tags: stack.tags.clone(),
                parameters: stack
                    .parameters
                    .iter()
                    .filter_map(|(k, p)| p.value.clone().map(|v| (k.clone(), v)))
                    .collect(),
                dependencies: dependencies[i].iter().cloned().collect(),
                resource_count: stack.resources.len(),
                sha256: hex_sha256(text.as_bytes()),
                protected: stack.protected,
            });
            out_stacks.push(SynthesizedStack {
                name: stack.name.clone(),
                file,
                template,
                text,
            });
        }
        let manifest = Manifest {
            version: 1,
            app: self.app.name.clone(),
            tags: self.app.tags.clone(),
            stacks: manifest_stacks,
            files: self.app.files.keys().cloned().collect(),
        };
        let mut manifest_text = serde_json::to_string_pretty(&manifest).map_err(|e| {
            Violations::from(Violation::new(
                ConstructPath::root(&self.app.name),
                "manifest",
                e.to_string(),
            ))
        })?;
        manifest_text.push('\n');
        Ok(Assembly {
            manifest,
            stacks: out_stacks,
            files: std::mem::take(&mut self.app.files),
            acknowledged,
            manifest_text,
        })
    }

    fn check_stack_names(&mut self, stacks: &[Stack]) {
        let mut seen = BTreeSet::new();
        for s in stacks {
            let valid = s.name.len() <= 128
                && s.name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && s.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !valid {
                self.errors.push(
                    ConstructPath::root(&s.name),
                    "name",
                    "stack names start with a letter and hold only letters, digits and hyphens (at most 128)",
                );
            }
            if !seen.insert(s.name.as_str()) {
                self.errors.push(
                    ConstructPath::root(&s.name),
                    "name",
                    "two stacks share this name",
                );
            }
        }
    }

    /// Topological order of stacks (dependencies first; ties in the order added).
    fn order(&mut self, stacks: &[Stack], deps: &[BTreeSet<String>]) -> Vec<usize> {
        let index: HashMap<&str, usize> = stacks
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        for (i, d) in deps.iter().enumerate() {
            for name in d {
                if !index.contains_key(name.as_str()) {
                    self.errors.push(
                        ConstructPath::root(&stacks[i].name),
                        "dependencies",
                        format!("depends on stack `{name}`, which the app does not have"),
                    );
                }
            }
        }
        let mut done = vec![false; stacks.len()];
        let mut order = Vec::with_capacity(stacks.len());
        while order.len() < stacks.len() {
            let next = (0..stacks.len()).find(|&i| {
                !done[i]
                    && deps[i]
                        .iter()
                        .all(|d| index.get(d.as_str()).is_none_or(|&j| done[j]))
            });
            match next {
                Some(i) => {
                    done[i] = true;
                    order.push(i);
                }
                None => {
                    let cycle: Vec<&str> = (0..stacks.len())
                        .filter(|&i| !done[i])
                        .map(|i| stacks[i].name.as_str())
                        .collect();
                    self.errors.push(
                        ConstructPath::root(cycle[0]),
                        "dependencies",
                        format!(
                            "stacks depend on each other in a cycle: {}",
                            cycle.join(", ")
                        ),
                    );
                    order.extend((0..stacks.len()).filter(|&i| !done[i]));
                    break;
                }
            }
        }
        order
    }

    fn run_checks(&mut self, stacks: &[Stack], templates: &[Json]) -> Vec<Acknowledged> {
        let mut acknowledged = Vec::new();
        for (stack, template) in stacks.iter().zip(templates) {
            let ctx = CheckContext {
                app_tags: &self.app.tags,
                stack_tags: &stack.tags,
                stack: &stack.name,
                template,
            };
            for check in &self.app.checks {
                let mut findings = Vec::new();
                check.check(&ctx, &mut findings);
                for f in findings {
                    let entry = stack.resources.get(&f.logical_id);
                    let path = entry.map_or_else(
                        || ConstructPath::root(&stack.name).child(&f.logical_id),
                        |e| e.path.clone(),
                    );
                    let ack = entry.and_then(|e| {
                        e.acknowledgements
                            .iter()
                            .find(|(rule, _)| rule == check.rule())
                    });
                    match ack {
                        Some((_, reason)) => acknowledged.push(Acknowledged {
                            path: path.to_string(),
                            rule: check.rule().to_owned(),
                            message: f.message,
                            reason: reason.clone(),
                        }),
                        None => self.errors.push(
                            path,
                            f.field,
                            format!(
                                "[{}] {} (acknowledge with a reason to accept it)",
                                check.rule(),
                                f.message
                            ),
                        ),
                    }
                }
            }
        }
        acknowledged
    }
}

/// Builds one stack's template and resolves its references.
struct Resolver<'a, 'd> {
    declared: &'a HashMap<&'d str, Declared<'d>>,
    current: &'a str,
    exports: &'a mut HashMap<String, BTreeMap<String, ExportRequest>>,
    deps: &'a mut BTreeSet<String>,
    errors: &'a mut Violations,
    /// Property path of the value being walked (for messages).
    path: String,
    /// Construct path of the resource being walked.
    location: ConstructPath,
}

impl Resolver<'_, '_> {
    fn template(
        &mut self,
        stack: &Stack,
        properties: Vec<Json>,
        required_tags: &[String],
    ) -> Map<String, Json> {
        let mut t = Map::new();
        t.insert("AWSTemplateFormatVersion".into(), "2010-09-09".into());
        if let Some(d) = &stack.description {
            t.insert("Description".into(), d.clone().into());
        }
        if !stack.parameters.is_empty() {
            let params = stack
                .parameters
                .iter()
                .map(|(k, p)| (k.clone(), p.to_json()))
                .collect();
            t.insert("Parameters".into(), Json::Object(params));
        }
        if !stack.conditions.is_empty() {
            let mut conds = Map::new();
            for (name, c) in &stack.conditions {
                self.location = ConstructPath::root(&stack.name);
                self.path = format!("Conditions.{name}");
                let mut v = serde_json::to_value(c).unwrap_or(Json::Null);
                self.walk(&mut v);
                conds.insert(name.clone(), v);
            }
            t.insert("Conditions".into(), Json::Object(conds));
        }
        let mut resources = Map::new();
        for ((id, entry), mut props) in stack.resources.iter().zip(properties) {
            self.location = entry.path.clone();
            let mut r = Map::new();
            r.insert("Type".into(), entry.schema.type_name.into());
            apply_tags(&mut props, entry.schema.tagging, &stack.tags);
            self.check_required(entry, &props, required_tags);
            self.path = "Properties".into();
            self.walk(&mut props);
            if props.as_object().is_some_and(|o| !o.is_empty()) {
                r.insert("Properties".into(), props);
            }
            let o = &entry.options;
            if let Some(p) = o.deletion_policy {
                r.insert("DeletionPolicy".into(), p.as_str().into());
            }
            if let Some(p) = o.update_replace_policy {
                r.insert("UpdateReplacePolicy".into(), p.as_str().into());
            }
            if let Some(c) = &o.condition {
                if !self.declared[self.current].conditions.contains(c.as_str()) {
                    self.error(
                        "Condition",
                        format!(
                            "condition `{c}` is not declared in stack `{}`",
                            self.current
                        ),
                    );
                }
                r.insert("Condition".into(), c.clone().into());
            }
            let mut depends_on = Vec::new();
            for h in &o.depends_on {
                let target = h.logical_ref();
                if target.stack == self.current {
                    self.check_exists(&target.stack, &target.logical_id, None, "DependsOn");
                    depends_on.push(Json::String(target.logical_id.clone()));
                } else {
                    self.deps.insert(target.stack.clone());
                }
            }
            if !depends_on.is_empty() {
                r.insert("DependsOn".into(), Json::Array(depends_on));
            }
            let mut metadata: Map<String, Json> = o.metadata.clone().into_iter().collect();
            metadata.insert(PATH_METADATA.into(), entry.path.to_string().into());
            if !entry.acknowledgements.is_empty() {
                let acks = entry
                    .acknowledgements
                    .iter()
                    .map(|(rule, reason)| json!({"rule": rule, "reason": reason}))
                    .collect();
                metadata.insert(ACK_METADATA.into(), Json::Array(acks));
            }
            r.insert("Metadata".into(), Json::Object(metadata));
            resources.insert(id.clone(), Json::Object(r));
        }
        t.insert("Resources".into(), Json::Object(resources));
        if !stack.outputs.is_empty() {
            let mut outputs = Map::new();
            self.location = ConstructPath::root(&stack.name);
            for (name, o) in &stack.outputs {
                self.path = format!("Outputs.{name}");
                let mut v = serde_json::to_value(&o.value).unwrap_or(Json::Null);
                self.walk(&mut v);
                let mut out = Map::new();
                out.insert("Value".into(), v);
                if let Some(d) = &o.description {
                    out.insert("Description".into(), d.clone().into());
                }
                if let Some(e) = &o.export_name {
                    out.insert("Export".into(), json!({ "Name": e }));
                }
                outputs.insert(name.clone(), Json::Object(out));
            }
            t.insert("Outputs".into(), Json::Object(outputs));
        }
        t
    }

    fn check_required(
        &mut self,
        entry: &crate::stack::ResourceEntry,
        props: &Json,
        required_tags: &[String],
    ) {
        for req in entry.schema.required {
            if props.get(*req).is_none() {
                self.errors.push(
                    &entry.path,
                    *req,
                    format!("{} requires property `{req}`", entry.schema.type_name),
                );
            }
        }
        if required_tags.is_empty() {
            return;
        }
        let present: Vec<&str> = match entry.schema.tagging {
            TagFormat::None => return,
            TagFormat::List(p) => props
                .get(p)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t["Key"].as_str())
                .collect(),
            TagFormat::Map(p) => props
                .get(p)
                .and_then(Json::as_object)
                .into_iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .collect(),
        };
        for key in required_tags {
            if !present.contains(&key.as_str()) {
                self.errors.push(
                    &entry.path,
                    "Tags",
                    format!("taggable resource lacks required tag `{key}`"),
                );
            }
        }
    }

    fn error(&mut self, field: &str, message: String) {
        self.errors.push(&self.location, field, message);
    }

    /// Whether `stack` declares `id` (a resource, or a parameter when `attribute` is None).
    fn check_exists(
        &mut self,
        stack: &str,
        id: &str,
        attribute: Option<&str>,
        field: &str,
    ) -> bool {
        let Some(decl) = self.declared.get(stack) else {
            self.error(
                field,
                format!("references `{id}` in stack `{stack}`, which the app does not have"),
            );
            return false;
        };
        match (decl.resources.get(id), attribute) {
            (Some(schema), Some(attr)) if !schema.has_attribute(attr) => {
                self.error(
                    field,
                    format!(
                        "Fn::GetAtt `{id}.{attr}`: {} has no attribute `{attr}` (it has: {})",
                        schema.type_name,
                        schema.attributes.join(", ")
                    ),
                );
                false
            }
            (Some(_), _) => true,
            (None, None) if decl.parameters.contains(id) => true,
            (None, _) => {
                let what = if attribute.is_some() {
                    "Fn::GetAtt"
                } else {
                    "Ref"
                };
                self.error(
                    field,
                    format!("{what} to `{id}`, which does not exist in stack `{stack}`"),
                );
                false
            }
        }
    }

    fn walk(&mut self, v: &mut Json) {
        match v {
            Json::Object(map) => {
                if let Some(Json::String(stack)) = map.remove(STACK_MARKER) {
                    self.resolve_reference(v, stack);
                    return;
                }
                if let Some(sub) = map.get("Fn::Sub") {
                    self.check_sub(sub.clone());
                }
                if let Some(cond) = map
                    .get("Fn::If")
                    .and_then(|a| a.get(0))
                    .and_then(Json::as_str)
                {
                    if !self.declared[self.current].conditions.contains(cond) {
                        let cond = cond.to_owned();
                        self.error(
                            &self.path.clone(),
                            format!("Fn::If on undeclared condition `{cond}`"),
                        );
                    }
                }
                for (k, child) in map.iter_mut() {
                    let len = self.path.len();
                    self.path.push('.');
                    self.path.push_str(k);
                    self.walk(child);
                    self.path.truncate(len);
                }
            }
            Json::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    let len = self.path.len();
                    self.path.push_str(&format!("[{i}]"));
                    self.walk(child);
                    self.path.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// `v` is `{"Ref": id}` or `{"Fn::GetAtt": [id, attr]}` whose target is in `stack`.
    fn resolve_reference(&mut self, v: &mut Json, stack: String) {
        let (id, attribute) = match v {
            Json::Object(m) if m.contains_key("Ref") => {
                (m["Ref"].as_str().unwrap_or_default().to_owned(), None)
            }
            Json::Object(m) => {
                let a = &m["Fn::GetAtt"];
                (
                    a[0].as_str().unwrap_or_default().to_owned(),
                    a[1].as_str().map(str::to_owned),
                )
            }
            _ => return,
        };
        let field = self.path.clone();
        if !self.check_exists(&stack, &id, attribute.as_deref(), &field) || stack == self.current {
            return;
        }
        // Cross-stack: the target stack exports the value, this one imports it.
        let suffix: String = attribute
            .as_deref()
            .unwrap_or("Ref")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let output_id = format!("Export{id}{suffix}");
        let export_name = format!("{stack}:{id}:{suffix}");
        let value = match &attribute {
            Some(a) => json!({"Fn::GetAtt": [id, a]}),
            None => json!({"Ref": id}),
        };
        self.exports
            .entry(stack.clone())
            .or_default()
            .entry(output_id.clone())
            .or_insert(ExportRequest {
                output_id,
                export_name: export_name.clone(),
                value,
            });
        self.deps.insert(stack);
        *v = json!({"Fn::ImportValue": export_name});
    }

    /// Every `${Name}` / `${Name.Attr}` in a `Fn::Sub` template must be a variable, a
    /// pseudo parameter, or a parameter or resource of this stack.
    fn check_sub(&mut self, sub: Json) {
        let (template, vars) = match &sub {
            Json::String(s) => (s.as_str(), None),
            Json::Array(a) => (
                a.first().and_then(Json::as_str).unwrap_or_default(),
                a.get(1).and_then(Json::as_object),
            ),
            _ => return,
        };
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else { break };
            let name = &after[..end];
            rest = &after[end + 1..];
            if name.starts_with('!')
                || name.starts_with("AWS::")
                || vars.is_some_and(|v| v.contains_key(name))
            {
                continue;
            }
            let (id, attr) = match name.split_once('.') {
                Some((id, attr)) => (id, Some(attr)),
                None => (name, None),
            };
            let field = format!("{}.Fn::Sub", self.path);
            let current = self.current.to_owned();
            self.check_exists(&current, id, attr, &field);
        }
    }
}

/// Merges stack tags into a resource's tag property; tags the resource sets itself win.
fn apply_tags(props: &mut Json, format: TagFormat, tags: &Tags) {
    let Some(obj) = props.as_object_mut() else {
        return;
    };
    match format {
        TagFormat::None => {}
        TagFormat::List(p) => {
            let mut merged: BTreeMap<String, Json> = tags
                .iter()
                .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                .collect();
            if let Some(Json::Array(own)) = obj.get(p) {
                for t in own {
                    if let Some(k) = t["Key"].as_str() {
                        merged.insert(k.to_owned(), t["Value"].clone());
                    }
                }
            }
            if !merged.is_empty() {
                let list = merged
                    .into_iter()
                    .map(|(k, v)| json!({"Key": k, "Value": v}))
                    .collect();
                obj.insert(p.to_owned(), Json::Array(list));
            }
        }
        TagFormat::Map(p) => {
            let mut merged: Map<String, Json> = tags
                .iter()
                .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                .collect();
            if let Some(Json::Object(own)) = obj.get(p) {
                merged.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            if !merged.is_empty() {
                obj.insert(p.to_owned(), Json::Object(merged));
            }
        }
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// One synthesized stack.
#[derive(Debug)]
pub struct SynthesizedStack {
    /// Stack name.
    pub name: String,
    /// Template file name.
    pub file: String,
    /// The template as JSON.
    pub template: Json,
    /// The template as written: pretty-printed, trailing newline.
    pub text: String,
}

/// The result of synthesis: templates, other files and the manifest, not yet written.
#[derive(Debug)]
pub struct Assembly {
    /// The manifest.
    pub manifest: Manifest,
    /// Stacks in deployment order.
    pub stacks: Vec<SynthesizedStack>,
    /// Other files by relative path.
    pub files: BTreeMap<String, String>,
    /// Acknowledged policy findings, for synth to print.
    pub acknowledged: Vec<Acknowledged>,
    /// The manifest as written.
    pub manifest_text: String,
}

impl Assembly {
    /// The stack named `name`.
    pub fn stack(&self, name: &str) -> Option<&SynthesizedStack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// Every output file as `(relative path, contents)`, manifest last.
    pub fn outputs(&self) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = self
            .stacks
            .iter()
            .map(|s| (s.file.as_str(), s.text.as_str()))
            .collect();
        out.extend(self.files.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        out.push((MANIFEST_FILE, self.manifest_text.as_str()));
        out
    }

    /// Writes every file into `dir` (unchanged files are not rewritten) and removes the
    /// files a previous synthesis listed that this one no longer produces.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let previous = read_manifest(dir);
        let outputs = self.outputs();
        for (rel, contents) in &outputs {
            let path = dir.join(rel);
            if same_contents(&path, contents.as_bytes()) {
                continue;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, contents)?;
        }
        if let Some(prev) = previous {
            let keep: BTreeSet<&str> = outputs.iter().map(|(k, _)| *k).collect();
            let stale = prev
                .stacks
                .iter()
                .map(|s| s.template.clone())
                .chain(prev.files.iter().cloned());
            for rel in stale {
                if !keep.contains(rel.as_str()) {
                    let _ = std::fs::remove_file(dir.join(&rel));
                }
            }
        }
        Ok(())
    }

    /// Files in `dir` that differ from this synthesis (missing, changed, or stale).
    pub fn differences(&self, dir: &Path) -> Vec<String> {
        let outputs = self.outputs();
        let mut diffs: Vec<String> = outputs
            .iter()
            .filter(|(rel, contents)| !same_contents(&dir.join(rel), contents.as_bytes()))
            .map(|(rel, _)| (*rel).to_owned())
            .collect();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".template.json") && !outputs.iter().any(|(rel, _)| *rel == name)
                {
                    diffs.push(format!("{name} (stale)"));
                }
            }
        }
        diffs.sort();
        diffs
    }
}

/// Whether the file at `path` holds exactly `expected`, compared in chunks (templates
/// can be megabytes; reading them whole would double synth's peak memory).
fn same_contents(path: &Path, expected: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    if file.metadata().map(|m| m.len()).ok() != Some(expected.len() as u64) {
        return false;
    }
    let mut buf = [0u8; 64 * 1024];
    let mut offset = 0;
    loop {
        match file.read(&mut buf) {
            Ok(0) => return offset == expected.len(),
            Ok(n) => {
                if expected.get(offset..offset + n) != Some(&buf[..n]) {
                    return false;
                }
                offset += n;
            }
            Err(_) => return false,
        }
    }
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).ok()?;
    Manifest::from_json(&text).ok()
}
