//! PrunedRepo: every validation, the synthesized repository, and properties of the
//! lifecycle policy renderer.

mod common;

use common::*;
use frugal_constructs::{lifecycle_policy_text, KeepRule, PrunedRepo, PrunedRepoProps};
use frugal_core::Violations;
use proptest::prelude::*;
use serde_json::{json, Value as Json};

const PATH: &str = "Stack/ImageRepo";

fn untagged(keep: u32) -> KeepRule {
    KeepRule::Untagged { keep }
}

fn prefix(prefix: &str, keep: u32) -> KeepRule {
    KeepRule::TagPrefix {
        prefix: prefix.into(),
        keep,
    }
}

fn keep_any(keep: u32) -> KeepRule {
    KeepRule::Any { keep }
}

/// The plan's rules, one prefix per rule.
fn plan_rules() -> Vec<KeepRule> {
    vec![
        untagged(3),
        prefix("prod", 3),
        prefix("stage", 3),
        prefix("dev", 3),
        keep_any(10),
    ]
}

fn build(name: &str, rules: Vec<KeepRule>) -> Result<PrunedRepo, Violations> {
    let (_app, mut stack) = app_and_stack();
    PrunedRepo::new(
        &mut stack.root(),
        "ImageRepo",
        PrunedRepoProps::new(name, rules),
    )
}

#[test]
fn invalid_repository_names_are_rejected() {
    let cases: &[(&str, &str)] = &[
        ("r", "`r` must be 2 to 256 characters long"),
        ("Retail", "`Retail` contains `R`"),
        ("retail forecast", "contains ` `"),
        ("retail:api", "contains `:`"),
        (
            "-retail",
            "each /-separated part must start and end with a letter or digit",
        ),
        (
            "retail-",
            "each /-separated part must start and end with a letter or digit",
        ),
        (
            "retail//api",
            "each /-separated part must start and end with a letter or digit",
        ),
        (
            "/retail",
            "each /-separated part must start and end with a letter or digit",
        ),
        (
            "retail..api",
            "each /-separated part must start and end with a letter or digit",
        ),
        ("retail._api", "with `.`, `_`, `__` or hyphens between them"),
        (
            "retail___api",
            "with `.`, `_`, `__` or hyphens between them",
        ),
        ("retail-_api", "with `.`, `_`, `__` or hyphens between them"),
        (
            "retail/api.-v2",
            "with `.`, `_`, `__` or hyphens between them",
        ),
    ];
    for (name, fragment) in cases {
        eprintln!("case: {name}");
        expect_violation(build(name, plan_rules()), PATH, "name", fragment);
    }
    let long = "r".repeat(257);
    expect_violation(
        build(&long, plan_rules()),
        PATH,
        "name",
        "must be 2 to 256 characters long",
    );
}

#[test]
fn each_invalid_rule_list_is_rejected_naming_path_and_field() {
    let cases: Vec<(&str, Vec<KeepRule>, &str, &str)> = vec![
        (
            "no rules",
            vec![],
            "rules",
            "a repository without lifecycle rules keeps every image forever",
        ),
        (
            "51 rules",
            (0..51).map(|i| prefix(&format!("p{i}"), 1)).collect(),
            "rules",
            "ECR allows at most 50 lifecycle rules",
        ),
        (
            "keep 0 untagged",
            vec![untagged(0), keep_any(10)],
            "rules[0].keep",
            "keep at least 1 image",
        ),
        (
            "keep 0 per prefix",
            vec![untagged(3), prefix("prod", 0)],
            "rules[1].keep",
            "keep at least 1 image",
        ),
        (
            "keep 0 of any",
            vec![keep_any(0)],
            "rules[0].keep",
            "keep at least 1 image",
        ),
        (
            "keep-any first",
            vec![keep_any(10), prefix("prod", 3)],
            "rules[0]",
            "the keep-any rule must be the last (lowest priority) rule",
        ),
        (
            "keep-any twice",
            vec![keep_any(10), keep_any(20)],
            "rules[0]",
            "must be the last",
        ),
        (
            "two untagged rules",
            vec![untagged(3), untagged(5)],
            "rules[1]",
            "only one untagged rule can take effect",
        ),
        (
            "empty prefix",
            vec![prefix("", 3)],
            "rules[0].prefix",
            "tag prefix must not be empty",
        ),
        (
            "three prefixes in one rule",
            vec![untagged(3), prefix("prod,stage,dev", 3)],
            "rules[1].prefix",
            "`prod,stage,dev` is one prefix; list several prefixes as separate rules",
        ),
        (
            "prefixes separated by spaces",
            vec![prefix("prod stage", 3)],
            "rules[0].prefix",
            "is one prefix",
        ),
        (
            "same prefix twice",
            vec![prefix("prod", 3), prefix("dev", 3), prefix("prod", 5)],
            "rules[2].prefix",
            "prefix `prod` already has a rule",
        ),
        (
            "wildcard in a prefix",
            vec![prefix("prod*", 3)],
            "rules[0].prefix",
            "`prod*` is not an image tag prefix: tags take at most 128 letters, digits, `_`, `.` and `-` (no wildcards)",
        ),
        (
            "prefix longer than a tag",
            vec![prefix(&"p".repeat(129), 3)],
            "rules[0].prefix",
            "is not an image tag prefix",
        ),
    ];
    for (name, rules, field, fragment) in cases {
        eprintln!("case: {name}");
        expect_violation(build("retail-forecast", rules), PATH, field, fragment);
    }
}

#[test]
fn valid_defaults_pass() {
    let repo = build("retail-forecast", plan_rules()).expect("the plan's rules");
    assert_eq!(repo.name(), "retail-forecast");
    build("mlops/retail-api", vec![keep_any(10)]).expect("namespaced name");
    build("ab", vec![untagged(1)]).expect("shortest name");
    build("a.b_c-d/e", vec![prefix("v1", 50)]).expect("every separator once");
    // ECR's pattern joins parts with `.`, `_`, `__` or any run of hyphens.
    build("retail__api/v--2", vec![prefix("v1", 5)]).expect("double underscore, hyphen runs");
    build(
        "retail",
        (0..50).map(|i| prefix(&format!("p{i}"), 1)).collect(),
    )
    .expect("50 rules");
}

/// Parses a policy and returns its rules.
fn policy_rules(text: &str) -> Vec<Json> {
    let policy: Json = serde_json::from_str(text).expect("policy text is JSON");
    policy["rules"].as_array().expect("rules").clone()
}

#[test]
fn synthesized_repository_has_one_rule_per_prefix_and_any_last() {
    let (app, mut stack) = app_and_stack();
    let repo = PrunedRepo::new(
        &mut stack.root(),
        "ImageRepo",
        PrunedRepoProps::new("retail-forecast", plan_rules()),
    )
    .unwrap();
    let assembly = synth(app, stack);
    let r = only(template(&assembly), "AWS::ECR::Repository");
    let p = &r["Properties"];
    assert_eq!(p["RepositoryName"], "retail-forecast");
    assert_eq!(p["ImageScanningConfiguration"], json!({"ScanOnPush": true}));
    assert_eq!(p["ImageTagMutability"], "MUTABLE");
    assert_eq!(p["EmptyOnDelete"], false);
    assert_eq!(r["DeletionPolicy"], "Retain");
    assert_eq!(r["UpdateReplacePolicy"], "Retain");
    assert_eq!(tag(r, "Project"), Some(PROJECT));

    let text = str_of(&p["LifecyclePolicy"]["LifecyclePolicyText"], "policy text");
    assert_eq!(text, repo.lifecycle_policy());
    let rules = policy_rules(text);
    assert_eq!(rules.len(), 5);
    let priorities: Vec<u64> = rules
        .iter()
        .map(|r| r["rulePriority"].as_u64().unwrap())
        .collect();
    assert_eq!(priorities, [1, 2, 3, 4, 5]);
    assert_eq!(
        rules[0]["selection"],
        json!({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 3})
    );
    for (rule, p) in rules[1..4].iter().zip(["prod", "stage", "dev"]) {
        assert_eq!(
            rule["selection"],
            json!({"tagStatus": "tagged", "tagPrefixList": [p], "countType": "imageCountMoreThan", "countNumber": 3})
        );
        assert_eq!(rule["action"], json!({"type": "expire"}));
    }
    assert_eq!(
        rules[4]["selection"],
        json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10})
    );
}

#[test]
fn not_retained_repositories_are_emptied_on_delete() {
    let (app, mut stack) = app_and_stack();
    let mut props = PrunedRepoProps::new("retail-forecast", plan_rules());
    props.retain = false;
    props.immutable_tags = true;
    props.scan_on_push = false;
    PrunedRepo::new(&mut stack.root(), "ImageRepo", props).unwrap();
    let assembly = synth(app, stack);
    let r = only(template(&assembly), "AWS::ECR::Repository");
    assert!(r.get("DeletionPolicy").is_none());
    assert!(r.get("UpdateReplacePolicy").is_none());
    assert_eq!(r["Properties"]["EmptyOnDelete"], true);
    assert_eq!(r["Properties"]["ImageTagMutability"], "IMMUTABLE");
    assert_eq!(
        r["Properties"]["ImageScanningConfiguration"],
        json!({"ScanOnPush": false})
    );
}

#[test]
fn uri_and_arn_are_attributes_of_the_repository() {
    let repo = build("retail-forecast", plan_rules()).unwrap();
    let uri = serde_json::to_value(repo.uri()).unwrap();
    assert_eq!(uri["Fn::GetAtt"], json!(["ImageRepo", "RepositoryUri"]));
    let arn = serde_json::to_value(repo.arn()).unwrap();
    assert_eq!(arn["Fn::GetAtt"], json!(["ImageRepo", "Arn"]));
}

#[test]
fn snapshot_of_a_small_repository_stack() {
    let (app, mut stack) = app_and_stack();
    PrunedRepo::new(
        &mut stack.root(),
        "ImageRepo",
        PrunedRepoProps::new("retail-forecast", plan_rules()),
    )
    .unwrap();
    let assembly = synth(app, stack);
    insta::assert_json_snapshot!("repo_stack", template(&assembly));
}

// ---- property tests ----------------------------------------------------------------

/// Valid rule lists: distinct single prefixes and at most one untagged rule in any
/// order, optionally closed by a keep-any rule.
fn valid_rules() -> impl Strategy<Value = Vec<KeepRule>> {
    (
        proptest::collection::btree_set("[a-z0-9][a-z0-9._-]{0,11}", 0..8),
        proptest::option::of(1u32..100),
        proptest::option::of(1u32..100),
        proptest::collection::vec(1u32..100, 8),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(prefixes, untagged_keep, any_keep, keeps, at)| {
            let mut rules: Vec<KeepRule> = prefixes
                .into_iter()
                .zip(keeps)
                .map(|(p, keep)| KeepRule::TagPrefix { prefix: p, keep })
                .collect();
            if let Some(keep) = untagged_keep {
                rules.insert(at.index(rules.len() + 1), KeepRule::Untagged { keep });
            }
            if let Some(keep) = any_keep {
                rules.push(KeepRule::Any { keep });
            }
            if rules.is_empty() {
                rules.push(KeepRule::Any { keep: 1 });
            }
            rules
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn lifecycle_policy_is_json_with_increasing_priorities_and_any_last(rules in valid_rules()) {
        prop_assert!(build("retail-forecast", rules.clone()).is_ok());
        let rendered = policy_rules(&lifecycle_policy_text(&rules));
        prop_assert_eq!(rendered.len(), rules.len());
        for (i, (r, typed)) in rendered.iter().zip(&rules).enumerate() {
            prop_assert_eq!(r["rulePriority"].as_u64(), Some(i as u64 + 1));
            prop_assert_eq!(&r["action"], &json!({"type": "expire"}));
            prop_assert_eq!(&r["selection"]["countType"], "imageCountMoreThan");
            let status = r["selection"]["tagStatus"].as_str().unwrap();
            prop_assert!(status != "any" || i + 1 == rules.len(), "`any` at {} of {}", i, rules.len());
            match typed {
                KeepRule::Untagged { keep } => {
                    prop_assert_eq!(status, "untagged");
                    prop_assert_eq!(r["selection"]["countNumber"].as_u64(), Some(u64::from(*keep)));
                }
                KeepRule::TagPrefix { prefix, keep } => {
                    prop_assert_eq!(status, "tagged");
                    prop_assert_eq!(&r["selection"]["tagPrefixList"], &json!([prefix]));
                    prop_assert_eq!(r["selection"]["countNumber"].as_u64(), Some(u64::from(*keep)));
                }
                KeepRule::Any { keep } => {
                    prop_assert_eq!(status, "any");
                    prop_assert_eq!(r["selection"]["countNumber"].as_u64(), Some(u64::from(*keep)));
                }
            }
        }
        let priorities: Vec<u64> = rendered.iter().map(|r| r["rulePriority"].as_u64().unwrap()).collect();
        prop_assert!(priorities.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_keep_any_rule_anywhere_but_last_is_rejected(rules in valid_rules(), at in any::<prop::sample::Index>()) {
        let mut rules: Vec<KeepRule> = rules.into_iter().filter(|r| !matches!(r, KeepRule::Any { .. })).collect();
        prop_assume!(!rules.is_empty());
        let i = at.index(rules.len());
        rules.insert(i, KeepRule::Any { keep: 5 });
        let err = build("retail-forecast", rules).expect_err("any not last");
        let field = format!("rules[{i}]");
        prop_assert!(err.iter().any(|v| v.path == PATH && v.field == field && v.message.contains("must be the last")), "{}", err);
    }
}
