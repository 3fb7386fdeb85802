//! Helpers for the app tests: one synthesis, stack and resource lookup.

#![allow(dead_code)]

use frugal_core::Assembly;
use serde_json::Value as Json;

/// The synthesized app (panics with the violations if it does not build or synthesize).
pub fn assembly() -> Assembly {
    let app = retail_forecast::app().unwrap_or_else(|e| panic!("app does not build:\n{e}"));
    app.synth()
        .unwrap_or_else(|e| panic!("app does not synthesize:\n{e}"))
}

/// The template of `part` (`Data`, `Compute`, `Guardrails`) in `env`.
pub fn template<'a>(assembly: &'a Assembly, env: &str, part: &str) -> &'a Json {
    let name = retail_forecast::stack_name(env, part);
    assembly
        .stack(&name)
        .unwrap_or_else(|| panic!("no stack {name}"))
        .template()
}

/// The resource with logical id `id`.
pub fn resource<'a>(template: &'a Json, id: &str) -> &'a Json {
    let r = &template["Resources"][id];
    assert!(!r.is_null(), "no resource `{id}`");
    r
}

/// `(logical id, resource)` of every resource of `type_name`.
pub fn of_type<'a>(template: &'a Json, type_name: &str) -> Vec<(&'a str, &'a Json)> {
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
    let found = of_type(template, type_name);
    assert_eq!(found.len(), 1, "expected one {type_name}");
    found[0].1
}

/// A schedule's target input, parsed.
pub fn input(schedule: &Json) -> Json {
    let text = schedule["Properties"]["Target"]["Input"]
        .as_str()
        .expect("schedule input");
    serde_json::from_str(text).expect("input is JSON")
}

/// The environments' names.
pub fn env_names() -> Vec<&'static str> {
    retail_forecast::environments()
        .iter()
        .map(|e| e.name)
        .collect()
}
