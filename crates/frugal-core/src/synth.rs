//! Synthesis: stacks in, deterministic template text out.
//!
//! Resources are processed one at a time — properties parsed from their compact JSON,
//! tags applied, references checked and resolved (cross-stack ones into generated
//! exports and imports), policy checks run, then rendered — so memory stays proportional
//! to the output, not to a document tree of the whole app.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Map, Value as Json};

use crate::app::{Acknowledged, App, Check, CheckContext, CheckedResource};
use crate::assembly::{hex_sha256, Assembly, SynthesizedStack};
use crate::manifest::{Manifest, StackManifest};
use crate::resource::{ResourceSchema, TagFormat};
use crate::stack::{
    ConstructPath, ResourceEntry, Stack, Tags, ACK_METADATA, MAX_RESOURCES_PER_STACK, PATH_METADATA,
};
use crate::value::STACK_MARKER;
use crate::{Violation, Violations};

/// Index of what each stack declares, for reference checks.
struct Declared<'a> {
    resources: HashMap<&'a str, &'static ResourceSchema>,
    parameters: BTreeSet<&'a str>,
    conditions: BTreeSet<&'a str>,
}

/// An export some stack must add because another stack references it.
struct ExportRequest {
    output_id: String,
    export_name: String,
    value: Json,
}

/// One stack, rendered but for its outputs (exports arrive from other stacks).
struct RenderedStack {
    /// `"Key": value` entries before `Resources`, each already rendered.
    head: Vec<(&'static str, String)>,
    /// `(logical id, rendered resource)` in logical id order.
    resources: Vec<(String, String)>,
    outputs: Map<String, Json>,
    dependencies: BTreeSet<String>,
}

/// Stacks with at least this many resources are rendered on several threads.
const PARALLEL_MIN_RESOURCES: usize = 512;

/// Runs synthesis for `app`.
pub(crate) fn synthesize(mut app: App) -> Result<Assembly, Violations> {
    let mut stacks = std::mem::take(&mut app.stacks);
    let mut errors = Violations::new();
    check_stack_names(&mut errors, &stacks);
    for s in &stacks {
        errors.0.extend(s.errors.iter().cloned());
        if s.resources.len() > MAX_RESOURCES_PER_STACK && s.resource_limit_waiver.is_none() {
            errors.push(
                ConstructPath::root(&s.name),
                "Resources",
                format!(
                    "{} resources; CloudFormation allows {MAX_RESOURCES_PER_STACK} per stack: split the stack",
                    s.resources.len()
                ),
            );
        }
    }
    // Properties move out of the stacks into the renderer, one resource at a time.
    let mut properties: Vec<Vec<String>> = stacks
        .iter_mut()
        .map(|s| {
            s.resources
                .values_mut()
                .map(|e| std::mem::take(&mut e.properties))
                .collect()
        })
        .collect();
    let declared: HashMap<&str, Declared<'_>> = stacks
        .iter()
        .map(|s| {
            let decl = Declared {
                resources: s
                    .resources
                    .iter()
                    .map(|(id, e)| (id.as_str(), e.schema))
                    .collect(),
                parameters: s.parameters.keys().map(String::as_str).collect(),
                conditions: s.conditions.keys().map(String::as_str).collect(),
            };
            (s.name.as_str(), decl)
        })
        .collect();

    let mut exports: HashMap<String, BTreeMap<String, ExportRequest>> = HashMap::new();
    let mut acknowledged = Vec::new();
    let mut rendered = Vec::with_capacity(stacks.len());
    for (stack, properties) in stacks.iter().zip(properties.iter_mut()) {
        let mut resolver = Resolver::new(&declared, stack);
        let checks = Checks {
            list: &app.checks,
            app_tags: &app.tags,
            required_tags: &app.required_tags,
        };
        rendered.push(resolver.render(stack, std::mem::take(properties), &checks));
        for (target, requests) in resolver.exports.drain() {
            let mine = exports.entry(target).or_default();
            for (id, req) in requests {
                mine.entry(id).or_insert(req);
            }
        }
        errors.extend(std::mem::take(&mut resolver.errors));
        acknowledged.append(&mut resolver.acknowledged);
    }
    for (stack, r) in stacks.iter().zip(rendered.iter_mut()) {
        for (_, req) in exports.remove(&stack.name).unwrap_or_default() {
            r.outputs.insert(
                req.output_id,
                json!({"Value": req.value, "Export": {"Name": req.export_name}}),
            );
        }
    }
    let dependencies: Vec<&BTreeSet<String>> = rendered.iter().map(|r| &r.dependencies).collect();
    let order = order(&mut errors, &stacks, &dependencies);
    if !errors.is_empty() {
        errors.0.sort();
        errors.0.dedup();
        return Err(errors);
    }

    let mut rendered: Vec<Option<RenderedStack>> = rendered.into_iter().map(Some).collect();
    let mut out_stacks = Vec::with_capacity(stacks.len());
    let mut manifest_stacks = Vec::with_capacity(stacks.len());
    for i in order {
        let stack = &stacks[i];
        let Some(r) = rendered[i].take() else {
            continue;
        };
        let dependencies: Vec<String> = r.dependencies.iter().cloned().collect();
        let text = assemble_text(r);
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
            dependencies,
            resource_count: stack.resources.len(),
            sha256: hex_sha256(text.as_bytes()),
            protected: stack.protected,
        });
        out_stacks.push(SynthesizedStack::new(stack.name.clone(), file, text));
    }
    let manifest = Manifest {
        version: 1,
        app: app.name.clone(),
        tags: app.tags.clone(),
        stacks: manifest_stacks,
        files: app.files.keys().cloned().collect(),
    };
    let mut manifest_text = serde_json::to_string_pretty(&manifest).map_err(|e| {
        Violations::from(Violation::new(
            ConstructPath::root(&app.name),
            "manifest",
            e.to_string(),
        ))
    })?;
    manifest_text.push('\n');
    Ok(Assembly {
        manifest,
        stacks: out_stacks,
        files: std::mem::take(&mut app.files),
        acknowledged,
        manifest_text,
    })
}

/// Writes `value` pretty-printed (two-space indent, like `serde_json::to_string_pretty`)
/// as if nested `depth` levels deep.
fn write_pretty(out: &mut String, value: &Json, depth: usize) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    let indent = "  ".repeat(depth);
    let mut lines = text.split('\n');
    if let Some(first) = lines.next() {
        out.push_str(first);
    }
    for line in lines {
        out.push('\n');
        out.push_str(&indent);
        out.push_str(line);
    }
}

fn json_key(out: &mut String, key: &str) {
    out.push_str(&serde_json::to_string(key).unwrap_or_default());
    out.push_str(": ");
}

/// The template text: the rendered parts in CloudFormation's usual order, formatted
/// exactly as `serde_json::to_string_pretty` formats the whole document.
fn assemble_text(r: RenderedStack) -> String {
    let resources_len: usize = r
        .resources
        .iter()
        .map(|(id, t)| id.len() + t.len() + 16)
        .sum();
    let mut out = String::with_capacity(resources_len + 4096);
    out.push_str("{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\"");
    for (key, value) in &r.head {
        out.push_str(",\n  ");
        json_key(&mut out, key);
        out.push_str(value);
    }
    out.push_str(",\n  \"Resources\": ");
    if r.resources.is_empty() {
        out.push_str("{}");
    } else {
        out.push('{');
        for (i, (id, text)) in r.resources.iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            json_key(&mut out, id);
            out.push_str(text);
        }
        out.push_str("\n  }");
    }
    if !r.outputs.is_empty() {
        out.push_str(",\n  \"Outputs\": ");
        write_pretty(&mut out, &Json::Object(r.outputs), 1);
    }
    out.push_str("\n}\n");
    out
}

/// The policy checks and tag requirements applied to every resource.
struct Checks<'a> {
    list: &'a [Box<dyn Check>],
    app_tags: &'a Tags,
    required_tags: &'a [String],
}

fn check_stack_names(errors: &mut Violations, stacks: &[Stack]) {
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
            errors.push(
                    ConstructPath::root(&s.name),
                    "name",
                    "stack names start with a letter and hold only letters, digits and hyphens (at most 128)",
                );
        }
        if !seen.insert(s.name.as_str()) {
            errors.push(
                ConstructPath::root(&s.name),
                "name",
                "two stacks share this name",
            );
        }
    }
}

/// Topological order of stacks (dependencies first; ties in the order added).
fn order(errors: &mut Violations, stacks: &[Stack], deps: &[&BTreeSet<String>]) -> Vec<usize> {
    let index: HashMap<&str, usize> = stacks
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    for (i, d) in deps.iter().enumerate() {
        for name in d.iter() {
            if !index.contains_key(name.as_str()) {
                errors.push(
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
                errors.push(
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

/// Renders one stack's resources and resolves their references.
struct Resolver<'a, 'd> {
    declared: &'a HashMap<&'d str, Declared<'d>>,
    current: &'a str,
    exports: HashMap<String, BTreeMap<String, ExportRequest>>,
    deps: BTreeSet<String>,
    errors: Violations,
    acknowledged: Vec<Acknowledged>,
    /// Property path of the value being walked (for messages).
    path: String,
    /// Construct path of the resource being walked.
    location: ConstructPath,
}

impl<'a, 'd> Resolver<'a, 'd> {
    fn new(declared: &'a HashMap<&'d str, Declared<'d>>, stack: &'a Stack) -> Self {
        Resolver {
            declared,
            current: &stack.name,
            exports: HashMap::new(),
            deps: stack.explicit_dependencies.iter().cloned().collect(),
            errors: Violations::new(),
            acknowledged: Vec::new(),
            path: String::new(),
            location: ConstructPath::root(&stack.name),
        }
    }

    /// Takes over what `other` (a resolver of the same stack) collected.
    fn absorb(&mut self, other: Resolver<'_, '_>) {
        for (stack, requests) in other.exports {
            let mine = self.exports.entry(stack).or_default();
            for (id, req) in requests {
                mine.entry(id).or_insert(req);
            }
        }
        self.deps.extend(other.deps);
        self.errors.extend(other.errors);
        self.acknowledged.extend(other.acknowledged);
    }

    /// Renders `(logical id, entry, properties)` triples in order; large stacks are split
    /// across the machine's cores (synthesis is pure CPU work) and joined in order.
    fn render_resources(
        &mut self,
        stack: &'a Stack,
        items: Vec<(&'a String, &'a ResourceEntry, String)>,
        checks: &Checks<'_>,
    ) -> Vec<(String, String)> {
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(8);
        if threads < 2 || items.len() < PARALLEL_MIN_RESOURCES {
            return self.render_chunk(stack, items, checks);
        }
        let chunk_len = items.len().div_ceil(threads);
        let mut chunks = Vec::with_capacity(threads);
        let mut rest = items;
        while rest.len() > chunk_len {
            let tail = rest.split_off(chunk_len);
            chunks.push(rest);
            rest = tail;
        }
        chunks.push(rest);
        let declared = self.declared;
        let results: Vec<(Vec<(String, String)>, Resolver<'a, 'd>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|chunk| {
                    scope.spawn(move || {
                        let mut worker = Resolver::new(declared, stack);
                        worker.deps.clear();
                        let rendered = worker.render_chunk(stack, chunk, checks);
                        (rendered, worker)
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let mut out = Vec::new();
        for (rendered, worker) in results {
            out.extend(rendered);
            self.absorb(worker);
        }
        out
    }

    fn render_chunk(
        &mut self,
        stack: &Stack,
        items: Vec<(&String, &ResourceEntry, String)>,
        checks: &Checks<'_>,
    ) -> Vec<(String, String)> {
        let ctx = CheckContext {
            app_tags: checks.app_tags,
            stack_tags: &stack.tags,
            stack: &stack.name,
        };
        items
            .into_iter()
            .map(|(id, entry, props)| {
                let resource = self.resource(stack, id, entry, &props, checks, &ctx);
                let mut text = String::new();
                write_pretty(&mut text, &resource, 2);
                (id.clone(), text)
            })
            .collect()
    }

    fn render(
        &mut self,
        stack: &'a Stack,
        properties: Vec<String>,
        checks: &Checks<'_>,
    ) -> RenderedStack {
        let mut head = Vec::new();
        if let Some(d) = &stack.description {
            head.push(("Description", serde_json::to_string(d).unwrap_or_default()));
        }
        if !stack.parameters.is_empty() {
            let params: Map<String, Json> = stack
                .parameters
                .iter()
                .map(|(k, p)| (k.clone(), p.to_json()))
                .collect();
            let mut text = String::new();
            write_pretty(&mut text, &Json::Object(params), 1);
            head.push(("Parameters", text));
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
            let mut text = String::new();
            write_pretty(&mut text, &Json::Object(conds), 1);
            head.push(("Conditions", text));
        }
        let items = stack
            .resources
            .iter()
            .zip(properties)
            .map(|((id, entry), props)| (id, entry, props))
            .collect();
        let resources = self.render_resources(stack, items, checks);
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
        RenderedStack {
            head,
            resources,
            outputs,
            dependencies: std::mem::take(&mut self.deps),
        }
    }

    /// One resource as JSON: properties with tags, references resolved, checks run.
    #[allow(clippy::too_many_arguments)]
    fn resource(
        &mut self,
        stack: &Stack,
        id: &str,
        entry: &ResourceEntry,
        props: &str,
        checks: &Checks<'_>,
        ctx: &CheckContext<'_>,
    ) -> Json {
        self.location = entry.path.clone();
        let mut props: Json = serde_json::from_str(props).unwrap_or_else(|e| {
            self.errors.push(&entry.path, "Properties", e.to_string());
            Json::Object(Map::new())
        });
        apply_tags(&mut props, entry.schema.tagging, &stack.tags);
        self.check_required(entry, &props, checks.required_tags);
        self.path = "Properties".into();
        self.walk(&mut props);
        let checked = CheckedResource {
            logical_id: id,
            type_name: entry.schema.type_name,
            properties: &props,
        };
        for check in checks.list {
            let mut findings = Vec::new();
            check.check(ctx, &checked, &mut findings);
            for f in findings {
                let ack = entry
                    .acknowledgements
                    .iter()
                    .find(|(rule, _)| rule == check.rule());
                match ack {
                    Some((_, reason)) => self.acknowledged.push(Acknowledged {
                        path: entry.path.to_string(),
                        rule: check.rule().to_owned(),
                        message: f.message,
                        reason: reason.clone(),
                    }),
                    None => self.errors.push(
                        &entry.path,
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
        let mut r = Map::new();
        r.insert("Type".into(), entry.schema.type_name.into());
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
        Json::Object(r)
    }

    fn check_required(&mut self, entry: &ResourceEntry, props: &Json, required_tags: &[String]) {
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
