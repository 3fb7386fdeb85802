//! Reading one registry schema into the intermediate model the emitter prints.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use serde_json::Value as Json;

use crate::naming::{
    attribute_name, doc_code, doc_text, field_ident, inline_type_name, numbered, pascal,
    pointer_escape, property_path, property_segments, service_module, snake, variant_ident,
};
use crate::CodegenError;

/// Names the generated code imports or uses unqualified; generated types avoid them.
const RESERVED: &[&str] = &[
    "AsMut",
    "AsRef",
    "BTreeMap",
    "Box",
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "Drop",
    "Eq",
    "Err",
    "Expr",
    "Extend",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "Into",
    "IntoIterator",
    "Iterator",
    "Literal",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "ResourceSchema",
    "ResourceType",
    "Result",
    "Self",
    "Send",
    "Serialize",
    "Sized",
    "Some",
    "String",
    "Sync",
    "TagFormat",
    "ToOwned",
    "ToString",
    "Unpin",
    "Value",
    "Vec",
];

/// Longest `$ref` chain followed before giving up (guards against reference loops).
const MAX_REF_HOPS: usize = 32;

/// One resource type, ready to print.
#[derive(Debug)]
pub(crate) struct Resource {
    /// `AWS::S3::Bucket`.
    pub type_name: String,
    /// `AWS::S3`.
    pub service_name: String,
    /// Service module, e.g. `s3`.
    pub service: String,
    /// Resource module inside the service module, e.g. `bucket`.
    pub module: String,
    /// File stem under `generated/`, e.g. `s3_bucket`.
    pub file_stem: String,
    /// The schema's file name, for the generated header.
    pub source: String,
    /// Name of the top-level property struct, e.g. `Bucket`.
    pub top: String,
    /// Every generated struct and enum by name (includes `top`).
    pub items: BTreeMap<String, Item>,
    /// `Fn::GetAtt` attributes (`A.B`), sorted.
    pub attributes: Vec<String>,
    /// Create-only property paths (`A/B`), sorted.
    pub create_only: Vec<String>,
    /// Required top-level properties, sorted.
    pub required: Vec<String>,
    /// How the type takes tags.
    pub tagging: Tagging,
}

/// How a resource takes tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tagging {
    /// Not taggable through CloudFormation.
    None,
    /// A list of `Key`/`Value` objects under the named property.
    List(String),
    /// A string map under the named property.
    Map(String),
}

/// A generated type.
#[derive(Debug)]
pub(crate) enum Item {
    /// A property struct.
    Struct(StructDef),
    /// An enum of allowed string values.
    Enum(EnumDef),
}

/// A property struct.
#[derive(Debug)]
pub(crate) struct StructDef {
    /// Doc comment text.
    pub doc: String,
    /// Fields sorted by property name.
    pub fields: Vec<Field>,
}

/// One struct field.
#[derive(Debug)]
pub(crate) struct Field {
    /// Exact CloudFormation property name.
    pub property: String,
    /// Rust identifier.
    pub ident: String,
    /// Field type (without the `Option` of optional fields).
    pub ty: Ty,
    /// Whether the schema requires it.
    pub required: bool,
    /// Doc comment text.
    pub doc: String,
}

/// An enum of allowed string values.
#[derive(Debug)]
pub(crate) struct EnumDef {
    /// Doc comment text.
    pub doc: String,
    /// `(variant identifier, AWS value)`, sorted by value.
    pub variants: Vec<(String, String)>,
}

/// The Rust type of a property.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ty {
    /// `Expr<P>`.
    Prim(Prim),
    /// `Expr<Vec<T>>` when the element is an expression, `Vec<T>` otherwise.
    List(Box<Ty>),
    /// `BTreeMap<String, Expr<P>>`.
    Map(Prim),
    /// A generated struct.
    Struct(String),
    /// A generated struct behind a `Box` (recursive definitions).
    Boxed(String),
    /// Untyped `frugal_core::Value`.
    Value,
}

impl Ty {
    /// Whether the type is an `Expr<..>` (so a list of it is itself an expression).
    pub fn is_expr(&self) -> bool {
        match self {
            Ty::Prim(_) => true,
            Ty::List(inner) => inner.is_expr(),
            _ => false,
        }
    }
}

/// A primitive (or enum) value type inside `Expr`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Prim {
    /// `String`.
    String,
    /// `i64`.
    Int,
    /// `f64`.
    Float,
    /// `bool`.
    Bool,
    /// A generated enum.
    Enum(String),
}

/// What a schema node turns into.
enum Kind<'a> {
    Struct,
    Enum(Vec<String>),
    Array(Option<&'a Json>),
    Map(&'a Json),
    Prim(Prim),
    Value,
}

fn schema_types(node: &Json) -> Vec<&str> {
    match node.get("type") {
        Some(Json::String(s)) => vec![s.as_str()],
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(Json::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    }
}

fn prim_of(t: &str) -> Option<Prim> {
    match t {
        "string" => Some(Prim::String),
        "integer" => Some(Prim::Int),
        "number" => Some(Prim::Float),
        "boolean" => Some(Prim::Bool),
        _ => None,
    }
}

/// Classifies a node (already `$ref`-resolved).
fn classify(node: &Json) -> Kind<'_> {
    let types = schema_types(node);
    if types.len() > 1 || (node.get("type").is_some_and(Json::is_array) && types.is_empty()) {
        return Kind::Value;
    }
    let ty = types.first().copied();
    if node.get("properties").is_some_and(Json::is_object) && matches!(ty, None | Some("object")) {
        return Kind::Struct;
    }
    let values: Option<Vec<&Json>> = match (node.get("enum"), node.get("const")) {
        (Some(Json::Array(values)), _) => Some(values.iter().collect()),
        (None, Some(c)) => Some(vec![c]),
        _ => None,
    };
    if let Some(values) = values {
        let strings: Vec<String> = values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        if matches!(ty, None | Some("string"))
            && !strings.is_empty()
            && strings.len() == values.len()
        {
            return Kind::Enum(strings);
        }
    }
    match ty {
        Some("array") => return Kind::Array(node.get("items").filter(|i| i.is_object())),
        Some(t) => {
            if let Some(p) = prim_of(t) {
                return Kind::Prim(p);
            }
        }
        None => {}
    }
    if matches!(ty, None | Some("object")) {
        if let Some(Json::Object(patterns)) = node.get("patternProperties") {
            let mut keys: Vec<&String> = patterns.keys().collect();
            keys.sort();
            if let Some(first) = keys.first() {
                let value = &patterns[*first];
                if keys.iter().all(|k| patterns[*k] == *value) {
                    return Kind::Map(value);
                }
            }
            return Kind::Value;
        }
        if let Some(value @ Json::Object(_)) = node.get("additionalProperties") {
            return Kind::Map(value);
        }
    }
    Kind::Value
}

fn sorted_keys(map: &serde_json::Map<String, Json>) -> Vec<&String> {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    keys
}

fn string_list(node: &Json, key: &str) -> Vec<String> {
    match node.get(key) {
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Builds the model of one schema.
pub(crate) fn build(file: &Path, root: &Json) -> Result<Resource, CodegenError> {
    let err = |pointer: &str, message: String| CodegenError::Schema {
        file: file.to_path_buf(),
        pointer: pointer.to_owned(),
        message,
    };
    let type_name = root
        .get("typeName")
        .and_then(Json::as_str)
        .ok_or_else(|| err("/typeName", "missing string `typeName`".to_owned()))?;
    let parts: Vec<&str> = type_name.split("::").collect();
    let &[vendor, service, resource] = parts.as_slice() else {
        return Err(err(
            "/typeName",
            format!("`{type_name}` is not of the form Vendor::Service::Resource"),
        ));
    };
    if !root.get("properties").is_some_and(Json::is_object) {
        return Err(err("/properties", "missing `properties` object".to_owned()));
    }
    let service_mod = if vendor == "AWS" {
        service_module(service)
    } else {
        service_module(&format!("{vendor}{service}"))
    };
    let resource_snake = snake(resource);
    let top = pascal(resource);

    let mut b = Builder {
        file,
        root,
        type_name,
        taken: RESERVED.iter().map(|s| (*s).to_owned()).collect(),
        def_names: BTreeMap::new(),
        items: BTreeMap::new(),
        queued: BTreeSet::new(),
        queue: VecDeque::new(),
        inline: BTreeMap::new(),
        read_only: BTreeSet::new(),
        create_only: BTreeSet::new(),
    };
    b.taken.insert(top.clone());

    let read_only_paths = string_list(root, "readOnlyProperties");
    let create_only_paths = string_list(root, "createOnlyProperties");
    for path in &read_only_paths {
        if let Some(owner) = b.owner_of(path) {
            b.read_only.insert(owner);
        }
    }
    for path in &create_only_paths {
        if let Some(owner) = b.owner_of(path) {
            b.create_only.insert(owner);
        }
    }
    b.claim_definition_names();

    b.build_struct(
        "",
        root,
        &top,
        format!("Properties of the `{type_name}` resource type."),
    )?;
    while let Some((ptr, name)) = b.queue.pop_front() {
        let node = b
            .lookup(&ptr)
            .ok_or_else(|| err(&ptr, "definition vanished".to_owned()))?;
        let def = ptr.rsplit('/').next().unwrap_or_default();
        match classify(node) {
            Kind::Struct => {
                let doc = b.doc_or(node, format!("The `{def}` property type of `{type_name}`."));
                b.build_struct(&ptr, node, &name, doc)?;
            }
            Kind::Enum(values) => {
                let doc = b.doc_or(
                    node,
                    format!("Allowed values of the `{def}` property type."),
                );
                b.build_enum(&name, doc, values);
            }
            _ => {
                return Err(err(
                    &ptr,
                    "definition is neither an object nor a string enum".to_owned(),
                ))
            }
        }
    }
    box_recursive_fields(&mut b.items);

    let tagging = b.tagging();
    let mut attributes: Vec<String> = read_only_paths
        .iter()
        .filter_map(|p| attribute_name(p))
        .collect();
    attributes.sort();
    attributes.dedup();
    let mut create_only: Vec<String> = create_only_paths
        .iter()
        .filter_map(|p| property_path(p))
        .collect();
    create_only.sort();
    create_only.dedup();
    let mut required = string_list(root, "required");
    required.sort();
    required.dedup();

    Ok(Resource {
        type_name: type_name.to_owned(),
        service_name: format!("{vendor}::{service}"),
        file_stem: format!(
            "{}_{}",
            service_mod.trim_start_matches("r#"),
            resource_snake
        ),
        service: service_mod,
        module: crate::naming::escape_ident(resource_snake),
        source: file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        top,
        items: b.items,
        attributes,
        create_only,
        required,
        tagging,
    })
}

struct Builder<'a> {
    file: &'a Path,
    root: &'a Json,
    type_name: &'a str,
    /// Type names in use.
    taken: BTreeSet<String>,
    /// Canonical pointer of a struct/enum definition → its type name.
    def_names: BTreeMap<String, String>,
    items: BTreeMap<String, Item>,
    /// Definitions already queued (or built).
    queued: BTreeSet<String>,
    queue: VecDeque<(String, String)>,
    /// Canonical pointer of an inline struct or enum already built → its type.
    inline: BTreeMap<String, Ty>,
    /// `(canonical pointer of the owning object, property)` pairs that are read-only.
    read_only: BTreeSet<(String, String)>,
    /// Same for create-only properties (for docs).
    create_only: BTreeSet<(String, String)>,
}

impl<'a> Builder<'a> {
    fn error(&self, pointer: &str, message: String) -> CodegenError {
        CodegenError::Schema {
            file: self.file.to_path_buf(),
            pointer: pointer.to_owned(),
            message,
        }
    }

    fn lookup(&self, pointer: &str) -> Option<&'a Json> {
        self.root.pointer(pointer)
    }

    /// Follows `$ref`s from `node` (at `ptr`) to the node they name; returns its
    /// canonical pointer.
    fn resolve(&self, ptr: &str, node: &'a Json) -> Result<(String, &'a Json), CodegenError> {
        let (mut ptr, mut node) = (ptr.to_owned(), node);
        for _ in 0..MAX_REF_HOPS {
            let Some(reference) = node.get("$ref") else {
                return Ok((ptr, node));
            };
            let target = reference
                .as_str()
                .and_then(|r| r.strip_prefix('#'))
                .ok_or_else(|| self.error(&ptr, format!("unsupported $ref {reference}")))?;
            node = self
                .lookup(target)
                .ok_or_else(|| self.error(&ptr, format!("unresolved $ref {reference}")))?;
            ptr = target.to_owned();
        }
        Err(self.error(&ptr, "$ref chain too long (loop?)".to_owned()))
    }

    /// Claims a unique type name based on `base`.
    fn claim(&mut self, base: &str) -> String {
        let mut name = base.to_owned();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = numbered(base, n);
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    /// Reserves names for every definition that becomes a named type, in sorted order,
    /// so inline types never take a definition's name.
    fn claim_definition_names(&mut self) {
        let Some(Json::Object(defs)) = self.root.get("definitions") else {
            return;
        };
        for key in sorted_keys(defs) {
            let ptr = format!("/definitions/{}", pointer_escape(key));
            if defs[key].get("$ref").is_some() {
                continue; // an alias: resolves to another definition
            }
            if matches!(classify(&defs[key]), Kind::Struct | Kind::Enum(_)) {
                let name = self.claim(&pascal(key));
                self.def_names.insert(ptr, name);
            }
        }
    }

    /// The `(owner pointer, property)` a `/properties/A/B` path names, if it resolves.
    fn owner_of(&self, path: &str) -> Option<(String, String)> {
        let segments = property_segments(path)?;
        let (mut ptr, mut node) = (String::new(), self.root);
        let last = segments.len().checked_sub(1)?;
        for (i, seg) in segments.iter().enumerate() {
            if seg == "*" {
                let items = node.get("items")?;
                (ptr, node) = self.resolve(&format!("{ptr}/items"), items).ok()?;
                continue;
            }
            // Paths sometimes omit `*` when crossing an array.
            if node.get("properties").is_none() {
                if let Some(items) = node.get("items") {
                    (ptr, node) = self.resolve(&format!("{ptr}/items"), items).ok()?;
                }
            }
            if i == last {
                return Some((ptr, seg.clone()));
            }
            let child = node.get("properties")?.get(seg)?;
            (ptr, node) = self
                .resolve(&format!("{ptr}/properties/{}", pointer_escape(seg)), child)
                .ok()?;
        }
        None
    }

    /// The node's description as doc text, or `fallback`.
    fn doc_or(&self, node: &Json, fallback: String) -> String {
        node.get("description")
            .and_then(Json::as_str)
            .and_then(doc_text)
            .unwrap_or(fallback)
    }

    fn build_struct(
        &mut self,
        ptr: &str,
        node: &'a Json,
        name: &str,
        doc: String,
    ) -> Result<(), CodegenError> {
        let Some(Json::Object(props)) = node.get("properties") else {
            return Err(self.error(ptr, "expected a `properties` object".to_owned()));
        };
        let required: BTreeSet<String> = string_list(node, "required").into_iter().collect();
        let mut idents = BTreeSet::new();
        let mut fields = Vec::new();
        for key in sorted_keys(props) {
            let owner = (ptr.to_owned(), key.clone());
            if self.read_only.contains(&owner) {
                continue;
            }
            let prop = &props[key];
            let prop_ptr = format!("{ptr}/properties/{}", pointer_escape(key));
            let ty = self.ty_of(
                &prop_ptr,
                prop,
                &inline_type_name(name, key),
                &format!("{name}.{key}"),
            )?;
            let base = field_ident(key);
            let mut ident = base.clone();
            let mut n = 2;
            while !idents.insert(ident.clone()) {
                ident = format!("{base}_{n}");
                n += 1;
            }
            let mut doc = self.doc_or(prop, format!("The `{key}` property."));
            if self.create_only.contains(&owner) {
                doc.push_str(" Changing it replaces the resource.");
            }
            if let Some(default) = prop.get("default") {
                doc.push_str(&format!(
                    " AWS default: {}.",
                    doc_code(&default.to_string())
                ));
            }
            fields.push(Field {
                property: key.clone(),
                ident,
                ty,
                required: required.contains(key),
                doc,
            });
        }
        self.items
            .insert(name.to_owned(), Item::Struct(StructDef { doc, fields }));
        Ok(())
    }

    fn build_enum(&mut self, name: &str, doc: String, mut values: Vec<String>) {
        values.sort();
        values.dedup();
        let mut used = BTreeSet::new();
        let variants = values
            .into_iter()
            .map(|value| {
                let base = variant_ident(&value);
                let mut ident = base.clone();
                let mut n = 2;
                while !used.insert(ident.clone()) {
                    ident = numbered(&base, n);
                    n += 1;
                }
                (ident, value)
            })
            .collect();
        self.items
            .insert(name.to_owned(), Item::Enum(EnumDef { doc, variants }));
    }

    /// The type of the node at `ptr`; inline structs and enums are named `base`.
    fn ty_of(
        &mut self,
        ptr: &str,
        node: &'a Json,
        base: &str,
        context: &str,
    ) -> Result<Ty, CodegenError> {
        let (canon, target) = self.resolve(ptr, node)?;
        if let Some(name) = self.def_names.get(&canon).cloned() {
            if self.queued.insert(canon.clone()) {
                self.queue.push_back((canon, name.clone()));
            }
            return Ok(match classify(target) {
                Kind::Enum(_) => Ty::Prim(Prim::Enum(name)),
                _ => Ty::Struct(name),
            });
        }
        if let Some(ty) = self.inline.get(&canon) {
            return Ok(ty.clone());
        }
        // Types nested in a non-struct definition (e.g. an array of enums) are named
        // after the definition, wherever it is used.
        let (base, context) = match canon.strip_prefix("/definitions/") {
            Some(def) if canon != ptr && !def.contains('/') => (pascal(def), def.to_owned()),
            _ => (base.to_owned(), context.to_owned()),
        };
        Ok(match classify(target) {
            Kind::Struct => {
                let name = self.claim(&base);
                let doc = self.doc_or(
                    target,
                    format!("The `{context}` property type of `{}`.", self.type_name),
                );
                self.inline.insert(canon.clone(), Ty::Struct(name.clone()));
                self.build_struct(&canon, target, &name, doc)?;
                Ty::Struct(name)
            }
            Kind::Enum(values) => {
                let name = self.claim(&base);
                let doc = self.doc_or(target, format!("Allowed values of `{context}`."));
                self.build_enum(&name, doc, values);
                let ty = Ty::Prim(Prim::Enum(name));
                self.inline.insert(canon, ty.clone());
                ty
            }
            Kind::Array(Some(items)) => {
                let item_base = if canon == ptr {
                    base
                } else {
                    format!("{base}Item")
                };
                let inner = self.ty_of(
                    &format!("{canon}/items"),
                    items,
                    &item_base,
                    &format!("{context}[]"),
                )?;
                Ty::List(Box::new(inner))
            }
            Kind::Array(None) => Ty::List(Box::new(Ty::Value)),
            Kind::Map(value) => {
                let (_, value) = self.resolve(&format!("{canon}/patternProperties"), value)?;
                match classify(value) {
                    Kind::Prim(p) => Ty::Map(p),
                    Kind::Enum(_) => Ty::Map(Prim::String),
                    _ => Ty::Value,
                }
            }
            Kind::Prim(p) => Ty::Prim(p),
            Kind::Value => Ty::Value,
        })
    }

    /// The tagging format: from the `tagging` section (the registry's default is
    /// taggable, with tags under `/properties/Tags`), checked against the shape of the
    /// tag property.
    fn tagging(&self) -> Tagging {
        let section = self.root.get("tagging");
        let taggable = section
            .and_then(|t| t.get("taggable"))
            .or_else(|| self.root.get("taggable"))
            .and_then(Json::as_bool)
            .unwrap_or(true);
        if !taggable {
            return Tagging::None;
        }
        let path = section
            .and_then(|t| t.get("tagProperty"))
            .and_then(Json::as_str)
            .unwrap_or("/properties/Tags");
        let Some(segments) = property_segments(path) else {
            return Tagging::None;
        };
        let [name] = &segments[..] else {
            return Tagging::None;
        };
        let Some(prop) = self.root.get("properties").and_then(|p| p.get(name)) else {
            return Tagging::None;
        };
        let Ok((canon, node)) =
            self.resolve(&format!("/properties/{}", pointer_escape(name)), prop)
        else {
            return Tagging::None;
        };
        match classify(node) {
            Kind::Array(Some(items)) => {
                let key_value =
                    self.resolve(&format!("{canon}/items"), items)
                        .is_ok_and(|(_, item)| {
                            item.get("properties")
                                .is_some_and(|p| p.get("Key").is_some() && p.get("Value").is_some())
                        });
                if key_value {
                    Tagging::List(name.clone())
                } else {
                    Tagging::None
                }
            }
            Kind::Map(_) => Tagging::Map(name.clone()),
            _ => Tagging::None,
        }
    }
}

/// Boxes struct fields whose type can reach back to the containing struct without
/// passing through a collection (which would make the type infinitely large).
fn box_recursive_fields(items: &mut BTreeMap<String, Item>) {
    let edges: BTreeMap<String, Vec<String>> = items
        .iter()
        .filter_map(|(name, item)| match item {
            Item::Struct(s) => Some((
                name.clone(),
                s.fields
                    .iter()
                    .filter_map(|f| match &f.ty {
                        Ty::Struct(t) => Some(t.clone()),
                        _ => None,
                    })
                    .collect(),
            )),
            Item::Enum(_) => None,
        })
        .collect();
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                stack.extend(edges.get(&n).into_iter().flatten().cloned());
            }
        }
        false
    };
    for (name, item) in items.iter_mut() {
        if let Item::Struct(s) = item {
            for f in &mut s.fields {
                if let Ty::Struct(t) = &f.ty {
                    if reaches(t, name) {
                        f.ty = Ty::Boxed(t.clone());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(schema: Json) -> Resource {
        build(Path::new("test.json"), &schema).expect("schema builds")
    }

    fn strukt<'r>(r: &'r Resource, name: &str) -> &'r StructDef {
        match r.items.get(name) {
            Some(Item::Struct(s)) => s,
            other => panic!("{name} is not a struct: {other:?}"),
        }
    }

    fn field<'s>(s: &'s StructDef, property: &str) -> &'s Field {
        s.fields
            .iter()
            .find(|f| f.property == property)
            .expect("field exists")
    }

    #[test]
    fn list_tags_map_tags_and_untaggable() {
        let tag = json!({"type": "object", "properties": {"Key": {"type": "string"}, "Value": {"type": "string"}}});
        let list = model(json!({
            "typeName": "AWS::X::Y",
            "definitions": {"Tag": tag},
            "properties": {"Tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}}},
        }));
        assert_eq!(list.tagging, Tagging::List("Tags".into()));
        let map = model(json!({
            "typeName": "AWS::X::Y",
            "properties": {"Tags": {"type": "object", "patternProperties": {"^.+$": {"type": "string"}}}},
            "tagging": {"taggable": true, "tagProperty": "/properties/Tags"},
        }));
        assert_eq!(map.tagging, Tagging::Map("Tags".into()));
        assert_eq!(field(strukt(&map, "Y"), "Tags").ty, Ty::Map(Prim::String));
        let off = model(json!({
            "typeName": "AWS::X::Y",
            "properties": {"Tags": {"type": "array", "items": tag}},
            "tagging": {"taggable": false},
        }));
        assert_eq!(off.tagging, Tagging::None);
        let legacy_off =
            model(json!({"typeName": "AWS::X::Y", "taggable": false, "properties": {}}));
        assert_eq!(legacy_off.tagging, Tagging::None);
        let no_tags =
            model(json!({"typeName": "AWS::X::Y", "properties": {"Name": {"type": "string"}}}));
        assert_eq!(no_tags.tagging, Tagging::None);
        let custom = model(json!({
            "typeName": "AWS::X::Y",
            "properties": {"Labels": {"type": "object", "additionalProperties": {"type": "string"}}},
            "tagging": {"taggable": true, "tagProperty": "/properties/Labels"},
        }));
        assert_eq!(custom.tagging, Tagging::Map("Labels".into()));
    }

    #[test]
    fn type_mapping() {
        let r = model(json!({
            "typeName": "AWS::X::Thing",
            "definitions": {
                "Inner": {"type": "object", "properties": {"Mode": {"type": "string", "enum": ["ON", "OFF"]}}, "required": ["Mode"]},
                "Level": {"type": "string", "enum": ["HIGH", "LOW"]},
                "Levels": {"type": "array", "items": {"type": "string", "enum": ["A", "B"]}},
                "Expr": {"type": "object", "properties": {"Not": {"$ref": "#/definitions/Expr"}, "And": {"type": "array", "items": {"$ref": "#/definitions/Expr"}}}},
            },
            "properties": {
                "Name": {"type": "string"},
                "Count": {"type": "integer", "enum": [1, 2]},
                "Ratio": {"type": "number"},
                "On": {"type": "boolean"},
                "Names": {"type": "array", "items": {"type": "string"}},
                "Inners": {"type": "array", "items": {"$ref": "#/definitions/Inner"}},
                "Level": {"$ref": "#/definitions/Level"},
                "Levels": {"$ref": "#/definitions/Levels"},
                "Policy": {"type": ["object", "string"]},
                "Free": {"type": "object"},
                "Either": {"oneOf": [{"type": "string"}, {"type": "object"}]},
                "Kms": {"type": "string", "anyOf": [{"format": "a"}, {"format": "b"}]},
                "Nested": {"type": "object", "properties": {"Type": {"type": "string"}}},
                "Filter": {"$ref": "#/definitions/Expr"},
                "Arn": {"type": "string"},
            },
            "required": ["Name"],
            "readOnlyProperties": ["/properties/Arn"],
        }));
        let top = strukt(&r, "Thing");
        let ty = |p: &str| field(top, p).ty.clone();
        assert_eq!(ty("Name"), Ty::Prim(Prim::String));
        assert!(field(top, "Name").required);
        assert_eq!(ty("Count"), Ty::Prim(Prim::Int));
        assert_eq!(ty("Ratio"), Ty::Prim(Prim::Float));
        assert_eq!(ty("On"), Ty::Prim(Prim::Bool));
        assert_eq!(ty("Names"), Ty::List(Box::new(Ty::Prim(Prim::String))));
        assert_eq!(ty("Inners"), Ty::List(Box::new(Ty::Struct("Inner".into()))));
        assert_eq!(ty("Level"), Ty::Prim(Prim::Enum("Level".into())));
        assert_eq!(
            ty("Levels"),
            Ty::List(Box::new(Ty::Prim(Prim::Enum("LevelsItem".into()))))
        );
        assert_eq!(ty("Policy"), Ty::Value);
        assert_eq!(ty("Free"), Ty::Value);
        assert_eq!(ty("Either"), Ty::Value);
        assert_eq!(ty("Kms"), Ty::Prim(Prim::String));
        assert_eq!(ty("Nested"), Ty::Struct("ThingNested".into()));
        assert_eq!(
            ty("Filter"),
            Ty::Struct("Expr2".into()),
            "reserved names are avoided"
        );
        assert!(
            top.fields.iter().all(|f| f.property != "Arn"),
            "read-only properties are not fields"
        );
        assert_eq!(field(strukt(&r, "ThingNested"), "Type").ident, "r#type");
        assert_eq!(
            field(strukt(&r, "Inner"), "Mode").ty,
            Ty::Prim(Prim::Enum("InnerMode".into()))
        );
        let expr = strukt(&r, "Expr2");
        assert_eq!(field(expr, "Not").ty, Ty::Boxed("Expr2".into()));
        assert_eq!(
            field(expr, "And").ty,
            Ty::List(Box::new(Ty::Struct("Expr2".into())))
        );
        assert_eq!(r.attributes, ["Arn"]);
    }

    #[test]
    fn types_inside_shared_non_struct_definitions_are_built_once() {
        let r = model(json!({
            "typeName": "AWS::X::Y",
            "definitions": {"Rules": {"type": "array", "items": {"type": "object", "properties": {"Id": {"type": "string"}}}}},
            "properties": {"A": {"$ref": "#/definitions/Rules"}, "B": {"$ref": "#/definitions/Rules"}},
        }));
        let top = strukt(&r, "Y");
        let rules = Ty::List(Box::new(Ty::Struct("RulesItem".into())));
        assert_eq!(field(top, "A").ty, rules);
        assert_eq!(field(top, "B").ty, rules);
        assert_eq!(r.items.keys().collect::<Vec<_>>(), ["RulesItem", "Y"]);
    }

    #[test]
    fn colliding_enum_values_get_distinct_variants() {
        let r = model(json!({
            "typeName": "AWS::X::Y",
            "properties": {"Class": {"type": "string", "enum": ["Glacier", "GLACIER", "GLACIER_IR"]}},
        }));
        let Some(Item::Enum(e)) = r.items.get("YClass") else {
            panic!("enum YClass")
        };
        let v: Vec<(&str, &str)> = e
            .variants
            .iter()
            .map(|(i, v)| (i.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            v,
            [
                ("Glacier", "GLACIER"),
                ("GlacierIr", "GLACIER_IR"),
                ("Glacier2", "Glacier")
            ]
        );
    }

    #[test]
    fn nested_read_only_and_create_only_paths() {
        let r = model(json!({
            "typeName": "AWS::X::Y",
            "definitions": {"Dest": {"type": "object", "properties": {"Arn": {"type": "string"}, "Name": {"type": "string"}}}},
            "properties": {"Dest": {"$ref": "#/definitions/Dest"}, "Rules": {"type": "array", "items": {"type": "object", "properties": {"Id": {"type": "string"}}}}},
            "readOnlyProperties": ["/properties/Dest/Arn"],
            "createOnlyProperties": ["/properties/Dest/Name", "/properties/Rules/*/Id"],
        }));
        let dest = strukt(&r, "Dest");
        assert!(dest.fields.iter().all(|f| f.property != "Arn"));
        assert!(field(dest, "Name").doc.contains("replaces the resource"));
        assert!(field(strukt(&r, "YRules"), "Id")
            .doc
            .contains("replaces the resource"));
        assert_eq!(r.attributes, ["Dest.Arn"]);
        assert_eq!(r.create_only, ["Dest/Name", "Rules/*/Id"]);
    }

    #[test]
    fn bad_refs_name_the_pointer() {
        let e = build(
            Path::new("bad.json"),
            &json!({"typeName": "AWS::X::Y", "properties": {"A": {"$ref": "#/definitions/Missing"}}}),
        )
        .expect_err("unresolved ref");
        let msg = e.to_string();
        assert!(
            msg.contains("bad.json") && msg.contains("/properties/A"),
            "{msg}"
        );
    }
}
