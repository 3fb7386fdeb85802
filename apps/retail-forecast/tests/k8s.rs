//! The Kubernetes side of each environment (`k8s/<env>/*.yaml`) agrees with its Compute
//! stack: one label set for the nodes and the PodDisruptionBudget, one cluster, one
//! service account for the Cluster Autoscaler and its Pod Identity association.

mod common;

use common::*;
use frugal_k8s::k8s_openapi::api::apps::v1::Deployment;
use frugal_k8s::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use frugal_k8s::{parse_yaml, Object};
use retail_forecast::{
    api_labels, k8s_file, API_LABEL, API_PDB_NAME, CLUSTER_NAME, KUBERNETES_VERSION, NAMESPACE,
};
use serde_json::{json, Value as Json};

fn objects(assembly: &frugal_core::Assembly, env: &str, file: &str) -> Vec<Object> {
    let path = k8s_file(env, file);
    let text = assembly
        .files
        .get(&path)
        .unwrap_or_else(|| panic!("synthesis wrote no {path}"));
    assert!(
        assembly.manifest.files.contains(&path),
        "{path} not in the manifest"
    );
    parse_yaml(text).unwrap_or_else(|e| panic!("{path}: {e}"))
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
fn the_budget_selects_the_api_label_the_nodes_carry() {
    let assembly = assembly();
    for env in env_names() {
        let objects = objects(&assembly, env, "pdb.yaml");
        let [Object::PodDisruptionBudget(pdb)] = objects.as_slice() else {
            panic!("pdb.yaml holds one PodDisruptionBudget: {objects:?}");
        };
        assert_eq!(pdb.metadata.name.as_deref(), Some(API_PDB_NAME));
        assert_eq!(pdb.metadata.namespace.as_deref(), Some(NAMESPACE));
        let spec = pdb.spec.as_ref().unwrap();
        assert_eq!(spec.min_available, Some(IntOrString::Int(1)));
        let selector = spec
            .selector
            .as_ref()
            .unwrap()
            .match_labels
            .clone()
            .unwrap();
        assert_eq!(selector, api_labels());
        assert_eq!(
            selector.get(API_LABEL.0).map(String::as_str),
            Some(API_LABEL.1)
        );
        let nodes = only(template(&assembly, env, "Compute"), "AWS::EKS::Nodegroup");
        let node_labels: Json = serde_json::to_value(&selector).unwrap();
        assert_eq!(nodes["Properties"]["Labels"], node_labels);
    }
}

#[test]
fn the_autoscaler_discovers_this_clusters_groups_with_the_plans_flags() {
    let assembly = assembly();
    for env in env_names() {
        let objects = objects(&assembly, env, "cluster-autoscaler.yaml");
        let kinds: Vec<&str> = objects.iter().map(Object::kind).collect();
        assert_eq!(
            kinds,
            [
                "ServiceAccount",
                "ClusterRole",
                "ClusterRoleBinding",
                "Role",
                "RoleBinding",
                "Deployment"
            ]
        );
        let pod = deployment(&objects)
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap();
        let args = pod.containers[0].args.clone().unwrap();
        for flag in [
            "--expander=least-waste".to_owned(),
            "--balance-similar-node-groups".to_owned(),
            format!(
                "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/{CLUSTER_NAME}"
            ),
            "--cloud-provider=aws".to_owned(),
            "--skip-nodes-with-local-storage=false".to_owned(),
        ] {
            assert!(args.contains(&flag), "{env}: {flag} missing from {args:?}");
        }
        let image = pod.containers[0].image.as_deref().unwrap();
        let (repo, tag) = image.rsplit_once(':').unwrap();
        assert_eq!(repo, "registry.k8s.io/autoscaling/cluster-autoscaler");
        assert!(
            tag.starts_with(&format!(
                "v{}.{}.",
                KUBERNETES_VERSION.major(),
                KUBERNETES_VERSION.minor()
            )),
            "{image} does not follow Kubernetes {KUBERNETES_VERSION}"
        );
    }
}

#[test]
fn the_service_account_is_the_one_the_pod_identity_association_names() {
    let assembly = assembly();
    for env in env_names() {
        let objects = objects(&assembly, env, "cluster-autoscaler.yaml");
        let Object::ServiceAccount(sa) = &objects[0] else {
            panic!("the ServiceAccount comes first");
        };
        let pod_sa = deployment(&objects)
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .service_account_name
            .clone();
        assert_eq!(pod_sa, sa.metadata.name);
        let compute = template(&assembly, env, "Compute");
        let association = &only(compute, "AWS::EKS::PodIdentityAssociation")["Properties"];
        assert_eq!(
            association["ServiceAccount"],
            sa.metadata.name.as_deref().unwrap()
        );
        assert_eq!(
            association["Namespace"],
            sa.metadata.namespace.as_deref().unwrap()
        );
        assert_eq!(association["ClusterName"], CLUSTER_NAME);
        let role_id = association["RoleArn"]["Fn::GetAtt"][0].as_str().unwrap();
        assert_eq!(resource(compute, role_id)["Type"], "AWS::IAM::Role");
    }
}

#[test]
fn the_autoscaler_role_writes_only_to_groups_tagged_for_the_cluster() {
    let assembly = assembly();
    for env in env_names() {
        let compute = template(&assembly, env, "Compute");
        let association = &only(compute, "AWS::EKS::PodIdentityAssociation")["Properties"];
        let role = resource(
            compute,
            association["RoleArn"]["Fn::GetAtt"][0].as_str().unwrap(),
        );
        let statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap();
        let writes: Vec<&Json> = statements
            .iter()
            .filter(|s| {
                serde_json::to_string(&s["Action"])
                    .unwrap()
                    .contains("autoscaling:SetDesiredCapacity")
            })
            .collect();
        assert_eq!(writes.len(), 1);
        assert_eq!(
            writes[0]["Action"],
            json!([
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup"
            ])
        );
        assert_eq!(
            writes[0]["Condition"]["StringEquals"],
            json!({ format!("aws:ResourceTag/k8s.io/cluster-autoscaler/{CLUSTER_NAME}"): "owned" })
        );
        let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(trust["Principal"]["Service"], "pods.eks.amazonaws.com");
    }
}

#[test]
fn the_compute_stack_outputs_the_names_teardown_reads() {
    let assembly = assembly();
    for env in retail_forecast::environments() {
        let outputs = &template(&assembly, env.name, "Compute")["Outputs"];
        assert_eq!(outputs["ClusterName"]["Value"], CLUSTER_NAME);
        assert_eq!(outputs["ApiNamespace"]["Value"], NAMESPACE);
        match &env.endpoint {
            Some(e) => assert_eq!(outputs["ServingEndpointName"]["Value"], e.endpoint_name),
            None => assert!(outputs.get("ServingEndpointName").is_none()),
        }
    }
}
