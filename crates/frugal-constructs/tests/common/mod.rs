//! Helpers shared by the construct tests: a tagged app with the rule pack, one stack,
//! synthesis, template walking and violation assertions.

#![allow(dead_code)]

use std::fmt::Debug;

use frugal_constructs::rules;
use frugal_core::{App, Assembly, Expr, Parameter, ParameterType, Stack, Violations};
use serde_json::Value as Json;

/// The stack every test builds in; construct paths start with it.
pub const STACK: &str = "Stack";
/// The app's `Project` tag value.
pub const PROJECT: &str = "Demo";

/// An app tagged `Project=Demo`, requiring `Project` on every taggable resource, with
/// the rule pack.
pub fn app() -> App {
    let mut app = App::new("test");
    app.set_tag("Project", PROJECT);
    app.require_tags(["Project"]);
    rules::add_rule_pack(&mut app);
    app
}

/// The app and its (empty) stack `Stack`.
pub fn app_and_stack() -> (App, Stack) {
    let app = app();
    let stack = app.new_stack(STACK);
    (app, stack)
}

/// A subnet list parameter on `stack`.
pub fn subnets(stack: &mut Stack) -> Expr<Vec<Expr<String>>> {
    stack
        .add_parameter(
            "Subnets",
            Parameter::new(
                ParameterType::Aws("List<AWS::EC2::Subnet::Id>".into()),
                "Node subnets",
            ),
        )
        .as_list()
}

/// Adds `stack` to `app` and synthesizes; the error text when it fails.
pub fn try_synth(mut app: App, stack: Stack) -> Result<Assembly, Violations> {
    app.add_stack(stack);
    app.synth()
}

/// Adds `stack` to `app` and synthesizes, panicking with the violations on failure.
pub fn synth(app: App, stack: Stack) -> Assembly {
    try_synth(app, stack).unwrap_or_else(|e| panic!("synthesis failed:\n{e}"))
}

/// The template of stack `Stack`.
pub fn template(assembly: &Assembly) -> &Json {
    assembly
        .stack(STACK)
        .expect("stack `Stack` synthesized")
        .template()
}

/// `(logical id, resource)` of every resource of `type_name`, in logical id order.
pub fn resources_of_type<'a>(template: &'a Json, type_name: &str) -> Vec<(&'a str, &'a Json)> {
    template["Resources"]
        .as_object()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == type_name)
        .map(|(id, r)| (id.as_str(), r))
        .collect()
}

/// The only resource of `type_name`.
pub fn only<'a>(template: &'a Json, type_name: &str) -> &'a Json {
    let found = resources_of_type(template, type_name);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {type_name}, got {found:?}"
    );
    found[0].1
}

/// The resource with logical id `id`.
pub fn resource<'a>(template: &'a Json, id: &str) -> &'a Json {
    let r = &template["Resources"][id];
    assert!(!r.is_null(), "no resource `{id}` in {template:#}");
    r
}

/// A string property as `&str`, panicking with context.
pub fn str_of<'a>(v: &'a Json, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

/// Asserts `result` failed with a violation printed as `path: field: …fragment…`.
#[track_caller]
pub fn expect_violation<T: Debug>(
    result: Result<T, Violations>,
    path: &str,
    field: &str,
    fragment: &str,
) -> Violations {
    let err = match result {
        Ok(v) => panic!("expected `{path}: {field}: …{fragment}…`, but it was accepted: {v:?}"),
        Err(e) => e,
    };
    assert_violation(&err, path, field, fragment);
    err
}

/// Asserts `err` lists a violation printed as `path: field: …fragment…`.
#[track_caller]
pub fn assert_violation(err: &Violations, path: &str, field: &str, fragment: &str) {
    let text = err.to_string();
    let prefix = format!("{path}: {field}: ");
    let found = text
        .lines()
        .map(|l| l.trim_start().trim_start_matches("- "))
        .any(|l| l.starts_with(&prefix) && l[prefix.len()..].contains(fragment));
    assert!(found, "expected a line `{prefix}…{fragment}…` in:\n{text}");
    assert!(
        err.iter()
            .any(|v| v.path == path && v.field == field && v.message.contains(fragment)),
        "structured violation `{path}` / `{field}` / `{fragment}` missing in {err:?}"
    );
}

/// The tag value of `key` on a resource's `Tags` (list or map form).
pub fn tag<'a>(resource: &'a Json, key: &str) -> Option<&'a str> {
    match &resource["Properties"]["Tags"] {
        Json::Array(list) => list
            .iter()
            .find(|t| t["Key"] == key)
            .and_then(|t| t["Value"].as_str()),
        Json::Object(map) => map.get(key).and_then(Json::as_str),
        _ => None,
    }
}

/// The statements of a policy document (a single statement object counts as one).
pub fn statements(document: &Json) -> Vec<&Json> {
    match &document["Statement"] {
        Json::Array(a) => a.iter().collect(),
        s @ Json::Object(_) => vec![s],
        _ => Vec::new(),
    }
}

/// A value that may be one item or a list of items, as a list.
pub fn one_or_many(v: &Json) -> Vec<&Json> {
    match v {
        Json::Array(a) => a.iter().collect(),
        Json::Null => Vec::new(),
        other => vec![other],
    }
}
