//! The rendered YAML against the Kubernetes OpenAPI schema, offline, with the
//! `kubernetes-validate` that `cargo xtask test` installs into `.venv/` — and proof that
//! the validator rejects broken manifests, so a passing run means something.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use frugal_k8s::{pod_disruption_budget, render_yaml, ClusterAutoscalerSpec, KubernetesVersion};

/// `kubernetes-validate` from `$FRUGAL_VENV_BIN` or the workspace's `.venv/bin`; fails
/// (never skips) when it is missing.
fn validator() -> PathBuf {
    let bin = std::env::var_os("FRUGAL_VENV_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin"));
    let exe = bin.join("kubernetes-validate");
    assert!(
        exe.is_file(),
        "kubernetes-validate is not installed at {}: run `cargo xtask test`, which installs it \
         into .venv/ (or point FRUGAL_VENV_BIN at a bin directory that has it)",
        exe.display()
    );
    exe
}

/// Runs the validator in strict mode (unknown fields are errors) against `version`.
fn validate(name: &str, yaml: &str, version: KubernetesVersion) -> Output {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("frugal-k8s-{name}.yaml"));
    std::fs::write(&path, yaml).expect("write the manifest");
    Command::new(validator())
        .args(["--strict", "--kubernetes-version"])
        .arg(format!("{version}.0"))
        .arg(&path)
        .output()
        .expect("run kubernetes-validate")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn rendered_objects_match_the_schema_of_every_supported_version() {
    let api = [("app".to_owned(), "shop-api".to_owned())].into();
    for version in KubernetesVersion::supported() {
        let mut objects = ClusterAutoscalerSpec::new("shop-cluster", version)
            .objects()
            .unwrap();
        objects.push(
            pod_disruption_budget("shop-api", "shop", &api, 1)
                .unwrap()
                .into(),
        );
        let yaml = render_yaml("test", &objects).unwrap();
        let out = validate(&format!("valid-{version}"), &yaml, version);
        assert!(out.status.success(), "{version}:\n{}", text(&out));
        assert_eq!(
            text(&out).matches("passed").count(),
            objects.len(),
            "{}",
            text(&out)
        );
    }
}

const BROKEN: &[(&str, &str, &str)] = &[
    (
        "wrong-type",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, namespace: y}\n\
         spec:\n  replicas: one\n  selector: {matchLabels: {app: x}}\n  template:\n    \
         metadata: {labels: {app: x}}\n    spec:\n      containers: [{name: x, image: x}]\n",
        "replicas",
    ),
    (
        "misspelled-field",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x, namespace: y}\n\
         spec:\n  minAvailabel: 1\n  selector: {matchLabels: {app: x}}\n",
        "minAvailabel",
    ),
    (
        "missing-required",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n\
         metadata: {name: x}\nsubjects: [{kind: ServiceAccount, name: x, namespace: y}]\n",
        "roleRef",
    ),
];

#[test]
fn the_validator_rejects_broken_manifests() {
    let version = KubernetesVersion::expect(1, 34);
    for (name, yaml, culprit) in BROKEN {
        let out = validate(name, yaml, version);
        assert!(
            !out.status.success(),
            "{name} passed validation:\n{}",
            text(&out)
        );
        assert!(text(&out).contains(culprit), "{name}:\n{}", text(&out));
    }
}
