//! Template diffing: per section, per resource and per property path, with text diffs for
//! long or structured values (policy documents) and replacement marks from the registry
//! schemas' create-only properties.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use frugal_core::ResourceSchema;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::iam::{broadening, Broadening};
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
    /// Property differences (modified resources).
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

/// Whether a JSON object is an intrinsic function call (`Ref`, `Fn::…`).
fn is_intrinsic(m: &serde_json::Map<String, Value>) -> bool {
    m.len() == 1
        && m.keys()
            .next()
            .is_some_and(|k| k == "Ref" || k.starts_with("Fn::"))
}

/// Values whose changes are shown as one text diff, not split further (objects and
/// equal-length arrays are split by key and index).
fn is_leaf(v: &Value) -> bool {
    match v {
        Value::Object(m) => is_intrinsic(m) || m.contains_key("Statement"),
        _ => true,
    }
}

fn diff_values(
    path: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Vec<(String, Option<Value>, Option<Value>)>,
) {
    if old == new {
        return;
    }
    if let (Some(Value::Object(o)), Some(Value::Object(n))) = (old, new) {
        if !is_leaf(old.unwrap_or(&Value::Null)) && !is_leaf(new.unwrap_or(&Value::Null)) {
            let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}/{k}")
                };
                diff_values(&p, o.get(k), n.get(k), out);
            }
            return;
        }
    }
    if let (Some(Value::Array(o)), Some(Value::Array(n))) = (old, new) {
        if o.len() == n.len() {
            for (i, (ov, nv)) in o.iter().zip(n).enumerate() {
                diff_values(&format!("{path}/{i}"), Some(ov), Some(nv), out);
            }
            return;
        }
    }
    out.push((path.to_owned(), old.cloned(), new.cloned()));
}

fn lookup<'v>(v: Option<&'v Value>, rest: &str) -> Option<&'v Value> {
    rest.split('/').try_fold(v?, |cur, k| cur.get(k))
}

/// Whether changing `path` of a resource from `old` to `new` replaces it: the path or an
/// ancestor is create-only, or a create-only path below it differs.
pub fn replaces(
    schema: &ResourceSchema,
    path: &str,
    old: Option<&Value>,
    new: Option<&Value>,
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
    old: Option<&Value>,
    new: Option<&Value>,
    schema_of: SchemaLookup<'_>,
) -> Option<ResourceDiff> {
    if old == new {
        return None;
    }
    let change = Change::of(old, new);
    let current = new.or(old).unwrap_or(&Value::Null);
    let type_name = resource_type(current).to_owned();
    let mut properties = Vec::new();
    let mut replacement = false;
    if let (Some(o), Some(n)) = (old, new) {
        let mut raw = Vec::new();
        diff_values("", Some(o), Some(n), &mut raw);
        let schema = schema_of(&type_name);
        for (path, ov, nv) in raw {
            let requires_replacement = if path == "Type" {
                true
            } else if let (Some(prop), Some(s)) = (path.strip_prefix("Properties/"), schema) {
                replaces(s, prop, ov.as_ref(), nv.as_ref())
            } else if path == "Properties" {
                schema.is_some_and(|s| {
                    !s.create_only.is_empty()
                        && s.create_only
                            .iter()
                            .any(|c| lookup(ov.as_ref(), c) != lookup(nv.as_ref(), c))
                })
            } else {
                false
            };
            replacement |= requires_replacement;
            properties.push(PropertyDiff {
                path,
                old: ov,
                new: nv,
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
    let empty = serde_json::Map::new();
    let old_map = old.and_then(Value::as_object).unwrap_or(&empty);
    let new_map = new.as_object().unwrap_or(&empty);
    let mut diff = TemplateDiff::default();
    let empty_obj = Value::Object(serde_json::Map::new());
    let sections: BTreeSet<&String> = old_map
        .keys()
        .chain(new_map.keys())
        .filter(|k| *k != "Resources")
        .collect();
    for section in sections {
        let (o, n) = (old_map.get(section), new_map.get(section));
        if o == n {
            continue;
        }
        match (o.or(Some(&empty_obj)), n.or(Some(&empty_obj))) {
            (Some(Value::Object(om)), Some(Value::Object(nm))) => {
                let names: BTreeSet<&String> = om.keys().chain(nm.keys()).collect();
                for name in names {
                    if om.get(name) != nm.get(name) {
                        diff.entries.push(EntryDiff {
                            section: section.clone(),
                            name: name.clone(),
                            old: om.get(name).cloned(),
                            new: nm.get(name).cloned(),
                        });
                    }
                }
            }
            _ => diff.entries.push(EntryDiff {
                section: section.clone(),
                name: String::new(),
                old: o.cloned(),
                new: n.cloned(),
            }),
        }
    }
    let old_res = old_map
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let new_res = new_map
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let ids: BTreeSet<&String> = old_res.keys().chain(new_res.keys()).collect();
    for id in ids {
        if let Some(d) = diff_resource(id, old_res.get(id), new_res.get(id), schema_of) {
            diff.resources.push(d);
        }
    }
    diff.broadening = broadening(old, new);
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
    fn text_diff_marks_lines() {
        let t = text_diff("a\nb\nc\n", "a\nB\nc\n", "", false);
        assert_eq!(t, "  a\n- b\n+ B\n  c\n");
    }
}
