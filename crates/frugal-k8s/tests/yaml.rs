//! Rendering: YAML parses back into the same k8s-openapi objects, byte-for-byte stable,
//! and carries what the Cluster Autoscaler and the PodDisruptionBudget must say.

use frugal_k8s::k8s_openapi::api::apps::v1::Deployment;
use frugal_k8s::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use frugal_k8s::{
    auto_discovery_tags, parse_yaml, pod_disruption_budget, render_yaml, ClusterAutoscalerSpec,
    KubernetesVersion, Labels, Object, CLUSTER_AUTOSCALER_NAMESPACE,
    CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
};

fn api() -> Labels {
    [("app".to_owned(), "shop-api".to_owned())].into()
}

fn objects(version: KubernetesVersion) -> Vec<Object> {
    let mut objects = ClusterAutoscalerSpec::new("shop-cluster", version)
        .objects()
        .expect("valid");
    objects.push(
        pod_disruption_budget("shop-api", "shop", &api(), 1)
            .expect("valid")
            .into(),
    );
    objects
}

fn deployment(objects: &[Object]) -> &Deployment {
    objects
        .iter()
        .find_map(|o| match o {
            Object::Deployment(d) => Some(d),
            _ => None,
        })
        .expect("a Deployment")
}

#[test]
fn rendered_yaml_parses_back_into_the_same_objects() {
    for version in KubernetesVersion::supported() {
        let objects = objects(version);
        let text = render_yaml("header line 1\nline 2", &objects).unwrap();
        assert!(
            text.starts_with("# header line 1\n# line 2\n---\n"),
            "{text}"
        );
        assert_eq!(parse_yaml(&text).unwrap(), objects);
    }
}

#[test]
fn rendering_is_deterministic() {
    let v = KubernetesVersion::expect(1, 34);
    assert_eq!(
        render_yaml("", &objects(v)).unwrap(),
        render_yaml("", &objects(v)).unwrap()
    );
}

#[test]
fn parse_rejects_unknown_kinds_and_wrong_types() {
    assert!(parse_yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n").is_err());
    assert!(parse_yaml("apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: one}\n").is_err());
    assert_eq!(parse_yaml("---\n").unwrap(), vec![]);
}

#[test]
fn the_autoscaler_objects_are_complete_and_in_apply_order() {
    let objects = objects(KubernetesVersion::expect(1, 34));
    let kinds: Vec<&str> = objects.iter().map(Object::kind).collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Deployment",
            "PodDisruptionBudget"
        ]
    );
    for o in &objects[..6] {
        assert_eq!(o.name(), CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, "{}", o.kind());
    }
    // Both bindings grant their role to the one service account the pod runs as.
    for o in &objects {
        let subjects = match o {
            Object::ClusterRoleBinding(b) => b.subjects.clone(),
            Object::RoleBinding(b) => b.subjects.clone(),
            _ => continue,
        };
        let s = &subjects.unwrap()[0];
        assert_eq!(
            (s.kind.as_str(), s.name.as_str(), s.namespace.as_deref()),
            (
                "ServiceAccount",
                CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
                Some(CLUSTER_AUTOSCALER_NAMESPACE)
            )
        );
    }
    let pod = deployment(&objects)
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap();
    assert_eq!(
        pod.service_account_name.as_deref(),
        Some(CLUSTER_AUTOSCALER_SERVICE_ACCOUNT)
    );
}

#[test]
fn the_image_follows_the_cluster_minor_version_from_registry_k8s_io() {
    for version in KubernetesVersion::supported() {
        let objects = objects(version);
        let container = &deployment(&objects)
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0];
        let image = container.image.as_deref().unwrap();
        let (repo, tag) = image.rsplit_once(':').unwrap();
        assert_eq!(repo, "registry.k8s.io/autoscaling/cluster-autoscaler");
        assert!(
            tag.starts_with(&format!("v1.{}.", version.minor())),
            "{image}"
        );
        assert!(!image.contains("k8s.gcr.io"));
    }
}

#[test]
fn the_autoscaler_runs_with_the_plans_flags_for_this_cluster() {
    let objects = objects(KubernetesVersion::expect(1, 34));
    let container = &deployment(&objects)
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0];
    let args = container.args.clone().unwrap();
    let [(enabled, _), (cluster, _)] = auto_discovery_tags("shop-cluster");
    for flag in [
        "--cloud-provider=aws".to_owned(),
        "--expander=least-waste".to_owned(),
        "--balance-similar-node-groups".to_owned(),
        "--skip-nodes-with-local-storage=false".to_owned(),
        format!("--node-group-auto-discovery=asg:tag={enabled},{cluster}"),
    ] {
        assert!(args.contains(&flag), "{flag} missing from {args:?}");
    }
    assert_eq!(cluster, "k8s.io/cluster-autoscaler/shop-cluster");
}

#[test]
fn the_budget_selects_exactly_the_labels_it_was_given() {
    let pdb = pod_disruption_budget("shop-api", "shop", &api(), 1).unwrap();
    let spec = pdb.spec.unwrap();
    assert_eq!(spec.min_available, Some(IntOrString::Int(1)));
    assert_eq!(spec.selector.unwrap().match_labels, Some(api()));
    assert_eq!(pdb.metadata.namespace.as_deref(), Some("shop"));
}

#[test]
fn invalid_inputs_are_refused_naming_the_field() {
    let e = ClusterAutoscalerSpec::new("bad/cluster", KubernetesVersion::expect(1, 34))
        .objects()
        .unwrap_err();
    assert!(e.to_string().starts_with("cluster_name:"), "{e}");
    let e = pod_disruption_budget("shop-api", "shop", &Labels::new(), 1).unwrap_err();
    assert!(e.to_string().contains("empty selector"), "{e}");
}
