//! Template diffing: per section, per resource and per property path, with text diffs for
//! long or structured values (policy documents) and replacement marks from the registry
//! schemas' create-only properties.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use frugal_core::ResourceSchema;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::iam::{broadening_of, Broadening};
use crate::node::{entries_sorted, merge, same_keys, sorted_entries, Node};
use crate::template::{
    construct_path, is_stateful, resource_type, retained_on_delete, retained_on_replace,
};

/// Looks up a resource type's schema facts (normally [`crate::schema_of`]).
pub type SchemaLookup<'a> = &'a dyn Fn(&str) -> Option<&'static ResourceSchema>;

/// What happened to an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Only in the new template.
    Added,
    /// Only in the old template.
    Removed,
    /// In both, different.
    Modified,
}

impl Change {
    fn of(old: Option<&Value>, new: Option<&Value>) -> Change {
        match (old, new) {
            (None, _) => Change::Added,
            (_, None) => Change::Removed,
            _ => Change::Modified,
        }
    }

    /// `+`, `-` or `~`.
    pub fn symbol(self) -> char {
        match self {
            Change::Added => '+',
            Change::Removed => '-',
            Change::Modified => '~',
        }
    }
}

/// A difference at one property path of a resource.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyDiff {
    /// `/`-separated path from the resource, e.g. `Properties/BucketName` or `DeletionPolicy`.
    pub path: String,
    /// The old value.
    pub old: Option<Value>,
    /// The new value.
    pub new: Option<Value>,
    /// Changing it replaces the resource (a create-only property).
    pub requires_replacement: bool,
}

/// A difference of one resource.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDiff {
    /// Logical id.
    pub logical_id: String,
    /// Type (the new one unless removed).
    pub type_name: String,
    /// Construct path from the metadata.
    pub path: Option<String>,
    /// Added, removed or modified.
    pub change: Change,
    /// Property differences (modified resources), in the template's key order (by key
    /// where the two sides' keys differ).
    pub properties: Vec<PropertyDiff>,
    /// The resource will be replaced (a create-only property or the type changed).
    pub replacement: bool,
    /// The old resource's data survives removal or replacement (`Retain` policies).
    pub retained: bool,
}

impl ResourceDiff {
    /// Whether data would be lost: a stateful resource removed or replaced without a
    /// retain policy.
    pub fn loses_data(&self) -> bool {
        is_stateful(&self.type_name)
            && !self.retained
            && (self.change == Change::Removed
                || (self.change == Change::Modified && self.replacement))
    }
}

/// A difference outside `Resources` (parameters, outputs, conditions, parameter values…).
#[derive(Clone, Debug, PartialEq)]
pub struct EntryDiff {
    /// Section, e.g. `Outputs`.
    pub section: String,
    /// Entry name.
    pub name: String,
    /// Old value.
    pub old: Option<Value>,
    /// New value.
    pub new: Option<Value>,
}

/// The difference between a deployed template and a synthesized one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TemplateDiff {
    /// Sections other than `Resources`.
    pub entries: Vec<EntryDiff>,
    /// Resources, in logical-id order.
    pub resources: Vec<ResourceDiff>,
    /// IAM broadening.
    pub broadening: Vec<Broadening>,
}

/// Values whose changes are shown as one text diff, not split further (objects and
/// equal-length arrays are split by key and index).
fn is_leaf(v: &Node<'_>) -> bool {
    match v {
        Node::Object(_) => v.is_intrinsic() || v.get("Statement").is_some(),
        _ => true,
    }
}

/// One changed path of a resource, borrowing both sides.
type RawChange<'n, 'a> = (String, Option<&'n Node<'a>>, Option<&'n Node<'a>>);

/// Appends every differing path below `path` (a buffer, restored on return). Each node is
/// visited once: equality is only asked of leaves and of values that changed shape.
fn diff_at<'n, 'a>(
    path: &mut String,
    old: Option<&'n Node<'a>>,
    new: Option<&'n Node<'a>>,
    out: &mut Vec<RawChange<'n, 'a>>,
) {
    match (old, new) {
        (Some(o @ Node::Object(om)), Some(n @ Node::Object(nm))) if !is_leaf(o) && !is_leaf(n) => {
            let mut at = |key: &str, a, b| {
                let len = path.len();
                if len > 0 {
                    path.push('/');
                }
                path.push_str(key);
                diff_at(path, a, b, out);
                path.truncate(len);
            };
            if same_keys(om, nm) {
                // The common case: walk side by side, in the template's order.
                for ((key, a), (_, b)) in om.iter().zip(nm) {
                    at(key, Some(a), Some(b));
                }
            } else {
                for (key, a, b) in merge(&sorted_entries(om), &sorted_entries(nm)) {
                    at(key, a, b);
                }
            }
        }
        (Some(Node::Array(oa)), Some(Node::Array(na))) if oa.len() == na.len() => {
            for (i, (a, b)) in oa.iter().zip(na).enumerate() {
                let len = path.len();
                let _ = write!(path, "/{i}");
                diff_at(path, Some(a), Some(b), out);
                path.truncate(len);
            }
        }
        _ => {
            if old != new {
                out.push((path.clone(), old, new));
            }
        }
    }
}

fn lookup<'n, 'a>(v: Option<&'n Node<'a>>, rest: &str) -> Option<&'n Node<'a>> {
    rest.split('/').try_fold(v?, |cur, k| match cur {
        Node::Array(items) => k.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => cur.get(k),
    })
}

/// Whether changing `path` of a resource from `old` to `new` replaces it: the path or an
/// ancestor is create-only, or a create-only path below it differs.
pub fn replaces(
    schema: &ResourceSchema,
    path: &str,
    old: Option<&Node<'_>>,
    new: Option<&Node<'_>>,
) -> bool {
    if schema.requires_replacement(path) {
        return true;
    }
    let prefix = format!("{path}/");
    schema
        .create_only
        .iter()
        .filter_map(|c| c.strip_prefix(&prefix))
        .any(|rest| lookup(old, rest) != lookup(new, rest))
}

fn diff_resource(
    id: &str,
    old: Option<&Node<'_>>,
    new: Option<&Node<'_>>,
    schema_of: SchemaLookup<'_>,
) -> Option<ResourceDiff> {
    let change = match (old, new) {
        (None, None) => return None,
        (None, Some(_)) => Change::Added,
        (Some(_), None) => Change::Removed,
        (Some(_), Some(_)) => Change::Modified,
    };
    let current = new.or(old)?;
    let type_name = resource_type(current).to_owned();
    let mut properties = Vec::new();
    let mut replacement = false;
    if change == Change::Modified {
        let mut raw = Vec::new();
        diff_at(&mut String::new(), old, new, &mut raw);
        if raw.is_empty() {
            return None;
        }
        let schema = schema_of(&type_name);
        for (path, ov, nv) in raw {
            let requires_replacement = if path == "Type" {
                true
            } else if let (Some(prop), Some(s)) = (path.strip_prefix("Properties/"), schema) {
                replaces(s, prop, ov, nv)
            } else if path == "Properties" {
                schema.is_some_and(|s| s.create_only.iter().any(|c| lookup(ov, c) != lookup(nv, c)))
            } else {
                false
            };
            replacement |= requires_replacement;
            properties.push(PropertyDiff {
                path,
                old: ov.map(Node::to_value),
                new: nv.map(Node::to_value),
                requires_replacement,
            });
        }
    }
    let retained = match change {
        Change::Removed => old.is_some_and(retained_on_delete),
        Change::Modified => old.is_some_and(retained_on_replace),
        Change::Added => false,
    };
    Some(ResourceDiff {
        logical_id: id.to_owned(),
        type_name,
        path: construct_path(current).map(str::to_owned),
        change,
        properties,
        replacement,
        retained,
    })
}

/// Compares the deployed template `old` (None: not deployed) with `new`.
pub fn diff_templates(
    old: Option<&Value>,
    new: &Value,
    schema_of: SchemaLookup<'_>,
) -> TemplateDiff {
    let old = old.map(Node::from_value);
    diff_nodes(old.as_ref(), &Node::from_value(new), schema_of)
}

/// Templates larger than this together are parsed on two threads.
const PARALLEL_PARSE_BYTES: usize = 1 << 20;

/// Compares two templates given as JSON text (`old` None: not deployed), parsed with
/// [`parse_templates`]: the fast way for big templates.
pub fn diff_template_texts(
    old: Option<&str>,
    new: &str,
    schema_of: SchemaLookup<'_>,
) -> Result<TemplateDiff, serde_json::Error> {
    let (old, new) = parse_templates(old, new)?;
    Ok(diff_nodes(old.as_ref(), &new, schema_of))
}

/// Parses two template texts into borrowed trees, on two threads when they are large.
pub fn parse_templates<'a>(
    old: Option<&'a str>,
    new: &'a str,
) -> Result<(Option<Node<'a>>, Node<'a>), serde_json::Error> {
    let (old, new) = match old {
        Some(o) if o.len() + new.len() > PARALLEL_PARSE_BYTES => std::thread::scope(|s| {
            let parsing = s.spawn(|| Node::parse(o));
            let new = Node::parse(new);
            // A panic in the parser thread is a panic here too.
            let old = parsing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (Some(old), new)
        }),
        _ => (old.map(Node::parse), Node::parse(new)),
    };
    Ok((old.transpose()?, new?))
}

/// Compares two parsed templates (`old` None: not deployed).
pub fn diff_nodes(
    old: Option<&Node<'_>>,
    new: &Node<'_>,
    schema_of: SchemaLookup<'_>,
) -> TemplateDiff {
    let (old_top, new_top) = (entries_sorted(old), entries_sorted(Some(new)));
    let mut diff = TemplateDiff::default();
    let no_entries = Node::Object(Vec::new());
    let mut resources = (None, None);
    for (section, o, n) in merge(&old_top, &new_top) {
        if section == "Resources" {
            resources = (o, n);
            continue;
        }
        if o == n {
            continue;
        }
        match (o.unwrap_or(&no_entries), n.unwrap_or(&no_entries)) {
            (Node::Object(om), Node::Object(nm)) => {
                for (name, a, b) in merge(&sorted_entries(om), &sorted_entries(nm)) {
                    if a != b {
                        diff.entries.push(EntryDiff {
                            section: section.to_owned(),
                            name: name.to_owned(),
                            old: a.map(Node::to_value),
                            new: b.map(Node::to_value),
                        });
                    }
                }
            }
            _ => diff.entries.push(EntryDiff {
                section: section.to_owned(),
                name: String::new(),
                old: o.map(Node::to_value),
                new: n.map(Node::to_value),
            }),
        }
    }
    let (old_res, new_res) = (entries_sorted(resources.0), entries_sorted(resources.1));
    let mut changed = Vec::new();
    for (id, o, n) in merge(&old_res, &new_res) {
        if let Some(d) = diff_resource(id, o, n, schema_of) {
            diff.resources.push(d);
            changed.push((id, o, n));
        }
    }
    diff.broadening = broadening_of(&changed);
    diff
}

impl TemplateDiff {
    /// Whether the templates are the same.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.resources.is_empty()
    }

    /// Adds differences of deployed vs. wanted parameter values (section `Parameter values`).
    pub fn add_value_changes(
        &mut self,
        section: &str,
        old: &std::collections::BTreeMap<String, String>,
        new: &std::collections::BTreeMap<String, String>,
    ) {
        let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for name in names {
            if old.get(name) != new.get(name) {
                self.entries.push(EntryDiff {
                    section: section.to_owned(),
                    name: name.clone(),
                    old: old.get(name).map(|v| Value::String(v.clone())),
                    new: new.get(name).map(|v| Value::String(v.clone())),
                });
            }
        }
    }

    /// Resources that lose data: stateful ones removed or replaced without retention.
    pub fn data_losses(&self) -> impl Iterator<Item = &ResourceDiff> {
        self.resources.iter().filter(|r| r.loses_data())
    }

    /// Renders the diff for people, with ANSI colours when `color`.
    pub fn render(&self, color: bool) -> String {
        let paint = Painter(color);
        let mut s = String::new();
        let mut section = "";
        for e in &self.entries {
            if e.section != section {
                section = &e.section;
                let _ = writeln!(s, "{}", paint.bold(section));
            }
            let change = Change::of(e.old.as_ref(), e.new.as_ref());
            let head = format!("[{}] {}", change.symbol(), e.name);
            let _ = writeln!(s, "{}", paint.change(change, &head));
            value_change(&mut s, &paint, "    ", e.old.as_ref(), e.new.as_ref());
        }
        if !self.resources.is_empty() {
            let _ = writeln!(s, "{}", paint.bold("Resources"));
        }
        for r in &self.resources {
            let mut head = format!("[{}] {} {}", r.change.symbol(), r.type_name, r.logical_id);
            if let Some(p) = &r.path {
                let _ = write!(head, " ({p})");
            }
            if r.replacement {
                head.push_str(" requires replacement");
            }
            let _ = writeln!(s, "{}", paint.change(r.change, &head));
            for p in &r.properties {
                let mark = Change::of(p.old.as_ref(), p.new.as_ref());
                let mut line = format!("    [{}] {}", mark.symbol(), p.path);
                if p.requires_replacement {
                    line.push_str(&paint.red(" (requires replacement)"));
                }
                let _ = writeln!(s, "{line}");
                value_change(&mut s, &paint, "        ", p.old.as_ref(), p.new.as_ref());
            }
        }
        let summary = self.summary();
        if !summary.is_empty() {
            let _ = writeln!(s, "{}", paint.bold("Summary"));
            for line in summary {
                let _ = writeln!(s, "  {}", paint.yellow(&line));
            }
        }
        s
    }

    /// One line per risk: counts, data losses and IAM broadening.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.is_empty() {
            return out;
        }
        let count = |c: Change| self.resources.iter().filter(|r| r.change == c).count();
        let replaced = self
            .resources
            .iter()
            .filter(|r| r.change == Change::Modified && r.replacement)
            .count();
        out.push(format!(
            "{} to add, {} to modify ({} replaced), {} to remove, {} other changes",
            count(Change::Added),
            count(Change::Modified),
            replaced,
            count(Change::Removed),
            self.entries.len()
        ));
        for r in self.data_losses() {
            let what = if r.change == Change::Removed {
                "deleted"
            } else {
                "replaced"
            };
            out.push(format!(
                "stateful resource {what}: {} ({})",
                r.logical_id, r.type_name
            ));
        }
        for b in &self.broadening {
            out.push(format!("IAM broadening: {b}"));
        }
        out
    }
}

/// ANSI colouring that can be switched off.
#[derive(Clone, Copy)]
pub struct Painter(pub bool);

impl Painter {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    /// Paints `s` (red).
    pub fn red(self, s: &str) -> String {
        self.wrap("31", s)
    }
    /// Paints `s` (green).
    pub fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }
    /// Paints `s` (yellow).
    pub fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }
    /// Paints `s` (bold).
    pub fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    /// Paints `s` (change).
    pub fn change(self, c: Change, s: &str) -> String {
        match c {
            Change::Added => self.green(s),
            Change::Removed => self.red(s),
            Change::Modified => self.yellow(s),
        }
    }
}

/// The text a value is compared as: strings as they are (pretty JSON when they hold JSON),
/// everything else as pretty JSON.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(j @ (Value::Object(_) | Value::Array(_))) => {
                serde_json::to_string_pretty(&j).unwrap_or_else(|_| s.clone())
            }
            _ => s.clone(),
        },
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

fn short(v: Option<&Value>) -> Option<String> {
    match v {
        None => Some("(absent)".to_owned()),
        Some(Value::String(s))
            if !s.contains('\n')
                && s.len() <= 80
                && serde_json::from_str::<Value>(s)
                    .map_or(true, |j| !j.is_object() && !j.is_array()) =>
        {
            Some(format!("{s:?}"))
        }
        Some(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => Some(v.to_string()),
        Some(v) => {
            let c = v.to_string();
            (c.len() <= 60 && v.get("Statement").is_none()).then_some(c)
        }
    }
}

fn value_change(
    s: &mut String,
    paint: &Painter,
    indent: &str,
    old: Option<&Value>,
    new: Option<&Value>,
) {
    match (short(old), short(new)) {
        (Some(o), Some(n)) => {
            let _ = writeln!(s, "{indent}{} → {}", paint.red(&o), paint.green(&n));
        }
        _ => {
            let o = old.map(as_text).unwrap_or_default();
            let n = new.map(as_text).unwrap_or_default();
            s.push_str(&text_diff(&o, &n, indent, paint.0));
        }
    }
}

/// A line diff of two texts (`similar`), `-`/`+` marked, unchanged lines as context,
/// each line prefixed by `indent`.
pub fn text_diff(old: &str, new: &str, indent: &str, color: bool) -> String {
    let paint = Painter(color);
    let diff = TextDiff::from_lines(old, new);
    let mut s = String::new();
    for group in diff.grouped_ops(3) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let line = change.value().trim_end_matches('\n');
                let _ = match change.tag() {
                    ChangeTag::Delete => writeln!(s, "{indent}{}", paint.red(&format!("- {line}"))),
                    ChangeTag::Insert => {
                        writeln!(s, "{indent}{}", paint.green(&format!("+ {line}")))
                    }
                    ChangeTag::Equal => writeln!(s, "{indent}  {line}"),
                };
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use frugal_core::TagFormat;
    use serde_json::json;

    use super::*;

    static BUCKET: ResourceSchema = ResourceSchema {
        type_name: "AWS::S3::Bucket",
        attributes: &["Arn"],
        create_only: &["BucketName", "ObjectLockEnabled"],
        required: &[],
        tagging: TagFormat::List("Tags"),
    };
    static TABLE: ResourceSchema = ResourceSchema {
        type_name: "AWS::Test::Table",
        attributes: &[],
        create_only: &["KeySchema/HashKey"],
        required: &[],
        tagging: TagFormat::None,
    };

    fn schemas(t: &str) -> Option<&'static ResourceSchema> {
        match t {
            "AWS::S3::Bucket" => Some(&BUCKET),
            "AWS::Test::Table" => Some(&TABLE),
            _ => None,
        }
    }

    fn template(resources: Value) -> Value {
        json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
    }

    #[test]
    fn identical_templates_have_no_diff() {
        let t = template(json!({"B": {"Type": "AWS::S3::Bucket"}}));
        let d = diff_templates(Some(&t), &t, &schemas);
        assert!(d.is_empty());
        assert!(d.summary().is_empty());
    }

    #[test]
    fn property_paths_and_replacement() {
        let old = template(
            json!({"B": {"Type": "AWS::S3::Bucket", "Metadata": {"frugal:path": "S/B"},
            "Properties": {"BucketName": "a", "VersioningConfiguration": {"Status": "Suspended"}}}}),
        );
        let new = template(
            json!({"B": {"Type": "AWS::S3::Bucket", "Metadata": {"frugal:path": "S/B"},
            "Properties": {"BucketName": "b", "VersioningConfiguration": {"Status": "Enabled"}}}}),
        );
        let d = diff_templates(Some(&old), &new, &schemas);
        let r = &d.resources[0];
        assert_eq!(r.change, Change::Modified);
        assert!(r.replacement);
        assert!(r.loses_data());
        let paths: Vec<(&str, bool)> = r
            .properties
            .iter()
            .map(|p| (p.path.as_str(), p.requires_replacement))
            .collect();
        assert_eq!(
            paths,
            [
                ("Properties/BucketName", true),
                ("Properties/VersioningConfiguration/Status", false)
            ]
        );
        let text = d.render(false);
        assert!(
            text.contains("[~] AWS::S3::Bucket B (S/B) requires replacement"),
            "{text}"
        );
        assert!(
            text.contains("[~] Properties/BucketName (requires replacement)"),
            "{text}"
        );
        assert!(text.contains("\"Suspended\" → \"Enabled\""), "{text}");
        assert!(
            d.summary()
                .iter()
                .any(|l| l.contains("stateful resource replaced: B")),
            "{:?}",
            d.summary()
        );
    }

    #[test]
    fn nested_create_only_paths_and_retention() {
        let old = template(
            json!({"T": {"Type": "AWS::Test::Table", "UpdateReplacePolicy": "Retain", "Properties": {}}}),
        );
        let new = template(
            json!({"T": {"Type": "AWS::Test::Table", "UpdateReplacePolicy": "Retain", "Properties": {"KeySchema": {"HashKey": "id"}}}}),
        );
        let d = diff_templates(Some(&old), &new, &schemas);
        assert!(d.resources[0].properties[0].requires_replacement);
        assert!(d.resources[0].retained);
        let removed = diff_templates(Some(&old), &template(json!({})), &schemas);
        assert_eq!(removed.resources[0].change, Change::Removed);
        let gone = template(json!({"B": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"}}));
        let d = diff_templates(Some(&gone), &template(json!({})), &schemas);
        assert!(!d.resources[0].loses_data());
        let d = diff_templates(
            Some(&template(json!({"B": {"Type": "AWS::S3::Bucket"}}))),
            &template(json!({})),
            &schemas,
        );
        assert!(d.resources[0].loses_data());
    }

    #[test]
    fn policy_documents_diff_as_text_and_flag_broadening() {
        let doc = |actions: Value| {
            template(
                json!({"R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}}]}}}),
            )
        };
        let d = diff_templates(
            Some(&doc(json!(["s3:GetObject"]))),
            &doc(json!(["s3:GetObject", "s3:PutObject"])),
            &schemas,
        );
        assert_eq!(d.resources[0].properties.len(), 1);
        assert_eq!(
            d.resources[0].properties[0].path,
            "Properties/Policies/0/PolicyDocument"
        );
        let text = d.render(false);
        assert!(
            text.contains("        +         \"s3:PutObject\""),
            "{text}"
        );
        assert!(
            text.contains("IAM broadening: R Policies/0/PolicyDocument: Allow s3:PutObject on *"),
            "{text}"
        );
        let colored = d.render(true);
        assert!(colored.contains("\x1b[32m"));
    }

    #[test]
    fn sections_and_parameter_values() {
        let old = json!({"Outputs": {"A": {"Value": "1"}}, "Resources": {}});
        let new = json!({"Outputs": {"A": {"Value": "2"}, "B": {"Value": "x"}}, "Resources": {}});
        let mut d = diff_templates(Some(&old), &new, &schemas);
        assert_eq!(d.entries.len(), 2);
        d.add_value_changes(
            "Parameter values",
            &[("Env".to_owned(), "dev".to_owned())].into(),
            &[("Env".to_owned(), "prod".to_owned())].into(),
        );
        assert_eq!(d.entries.len(), 3);
        let text = d.render(false);
        assert!(
            text.contains("Parameter values\n[~] Env\n    \"dev\" → \"prod\""),
            "{text}"
        );
        let fresh = diff_templates(None, &new, &schemas);
        assert_eq!(fresh.entries.len(), 2);
    }

    #[test]
    fn registry_schemas_mark_create_only_properties() {
        let bucket = |name: &str, days: u32| {
            template(json!({
                "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": name, "RetentionInDays": days}}
            }))
        };
        let d = diff_templates(Some(&bucket("/a", 7)), &bucket("/a", 14), &crate::schema_of);
        assert!(!d.resources[0].replacement);
        let d = diff_templates(Some(&bucket("/a", 7)), &bucket("/b", 7), &crate::schema_of);
        assert!(d.resources[0].replacement);
        assert!(d.resources[0].loses_data());
        assert!(d
            .render(false)
            .contains("[~] Properties/LogGroupName (requires replacement)"));
    }

    #[test]
    fn texts_and_values_diff_alike_whatever_the_key_order() {
        let old = r#"{"Resources": {
            "R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p",
                "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]}},
            "B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "a", "Tags": [{"Key": "k", "Value": "1"}]}},
            "Same": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}},
            "Outputs": {"O": {"Value": "1"}}}"#;
        // Keys reordered at every level, one tag value and the bucket name changed, an
        // action added, a resource added.
        let new = r#"{"Outputs": {"O": {"Value": "2"}}, "Resources": {
            "Same": {"Properties": {"TopicName": "t"}, "Type": "AWS::SNS::Topic"},
            "B": {"Properties": {"Tags": [{"Value": "2", "Key": "k"}], "BucketName": "b"}, "Type": "AWS::S3::Bucket"},
            "Q": {"Type": "AWS::SQS::Queue"},
            "R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p",
                "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}]}}]}}}}"#;
        let from_texts = diff_template_texts(Some(old), new, &schemas).expect("parse");
        let values = |t: &str| serde_json::from_str::<Value>(t).expect("json");
        let from_values = diff_templates(Some(&values(old)), &values(new), &schemas);
        assert_eq!(from_texts, from_values);
        let ids: Vec<&str> = from_texts
            .resources
            .iter()
            .map(|r| r.logical_id.as_str())
            .collect();
        assert_eq!(ids, ["B", "Q", "R"], "the unchanged topic is not listed");
        let bucket: Vec<&str> = from_texts.resources[0]
            .properties
            .iter()
            .map(|p| p.path.as_str())
            .collect();
        assert_eq!(bucket, ["Properties/BucketName", "Properties/Tags/0/Value"]);
        assert!(from_texts.resources[0].replacement);
        assert_eq!(
            from_texts.broadening.len(),
            1,
            "{:?}",
            from_texts.broadening
        );
        assert!(from_texts.broadening[0]
            .to_string()
            .contains("s3:PutObject"));
        assert_eq!(from_texts.entries.len(), 1);
        // Not deployed yet: everything is added, every grant is new.
        let fresh = diff_template_texts(None, new, &schemas).expect("parse");
        assert_eq!(fresh.resources.len(), 4);
        assert_eq!(fresh.broadening.len(), 2);
        assert!(diff_template_texts(Some("{"), new, &schemas).is_err());
    }

    #[test]
    fn large_templates_parse_in_parallel_to_the_same_diff() {
        let template = |suffix: &str| {
            let resources: Vec<String> = (0..6000)
                .map(|i| {
                    format!(
                        r#""Log{i}": {{"Type": "AWS::Logs::LogGroup", "Properties": {{"LogGroupName": "/a/{i}{suffix}", "RetentionInDays": 7}}}}"#
                    )
                })
                .collect();
            format!(r#"{{"Resources": {{{}}}}}"#, resources.join(","))
        };
        let (old, new) = (template(""), template("x"));
        assert!(old.len() + new.len() > PARALLEL_PARSE_BYTES);
        let d = diff_template_texts(Some(&old), &new, &crate::schema_of).expect("parse");
        assert_eq!(d.resources.len(), 6000);
        assert!(d.resources.iter().all(|r| r.replacement && r.loses_data()));
    }

    #[test]
    fn text_diff_marks_lines() {
        let t = text_diff("a\nb\nc\n", "a\nB\nc\n", "", false);
        assert_eq!(t, "  a\n- b\n+ B\n  c\n");
    }
}
