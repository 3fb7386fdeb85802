//! The ClusterAutoscaler construct synthesized: a Pod Identity role allowed only what the
//! autoscaler needs, and an association naming the service account its objects use.

use frugal_core::App;
use frugal_k8s::{
    ClusterAutoscaler, ClusterAutoscalerProps, KubernetesVersion, Object,
    CLUSTER_AUTOSCALER_NAMESPACE, CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, READ_ACTIONS, WRITE_ACTIONS,
};
use serde_json::{json, Value as Json};

fn synth(props: ClusterAutoscalerProps) -> (Json, Vec<Object>) {
    let mut app = App::new("shop");
    let mut stack = app.new_stack("Shop-Compute");
    let ca = ClusterAutoscaler::new(&mut stack.root(), "ClusterAutoscaler", props).expect("valid");
    let objects = ca.objects().expect("objects");
    app.add_stack(stack);
    let assembly = app.synth().expect("synthesizes");
    (assembly.stacks[0].template().clone(), objects)
}

fn props() -> ClusterAutoscalerProps {
    ClusterAutoscalerProps::new(
        "shop-cluster",
        KubernetesVersion::expect(1, 35),
        ["shop-nodes", "shop-gpu"],
    )
}

fn actions(statement: &Json) -> Vec<&str> {
    match &statement["Action"] {
        Json::String(a) => vec![a.as_str()],
        Json::Array(a) => a.iter().filter_map(Json::as_str).collect(),
        _ => vec![],
    }
}

#[test]
fn the_association_names_the_service_account_the_objects_use() {
    let (t, objects) = synth(props());
    let a = &t["Resources"]["ClusterAutoscalerPodIdentity"];
    assert_eq!(a["Type"], "AWS::EKS::PodIdentityAssociation");
    let p = &a["Properties"];
    assert_eq!(p["ClusterName"], "shop-cluster");
    assert_eq!(
        p["RoleArn"],
        json!({"Fn::GetAtt": ["ClusterAutoscalerRole", "Arn"]})
    );
    let Object::ServiceAccount(sa) = &objects[0] else {
        panic!("the first object is the ServiceAccount");
    };
    assert_eq!(p["ServiceAccount"], sa.metadata.name.as_deref().unwrap());
    assert_eq!(p["Namespace"], sa.metadata.namespace.as_deref().unwrap());
    assert_eq!(
        (p["Namespace"].as_str(), p["ServiceAccount"].as_str()),
        (
            Some(CLUSTER_AUTOSCALER_NAMESPACE),
            Some(CLUSTER_AUTOSCALER_SERVICE_ACCOUNT)
        )
    );
    // No outputs on EKS resources (the local emulator cannot resolve them).
    assert!(t.get("Outputs").is_none());
}

#[test]
fn only_eks_pod_identity_for_that_service_account_may_assume_the_role() {
    let (t, _) = synth(props());
    let trust = &t["Resources"]["ClusterAutoscalerRole"]["Properties"]["AssumeRolePolicyDocument"];
    let s = &trust["Statement"][0];
    assert_eq!(s["Principal"], json!({"Service": "pods.eks.amazonaws.com"}));
    assert_eq!(actions(s), ["sts:AssumeRole", "sts:TagSession"]);
    assert_eq!(
        s["Condition"]["StringEquals"],
        json!({
            "aws:RequestTag/eks-cluster-name": "shop-cluster",
            "aws:RequestTag/kubernetes-namespace": CLUSTER_AUTOSCALER_NAMESPACE,
            "aws:RequestTag/kubernetes-service-account": CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
        })
    );
}

#[test]
fn the_role_may_change_capacity_only_of_groups_tagged_for_its_cluster() {
    let (t, _) = synth(props());
    let policies = &t["Resources"]["ClusterAutoscalerRole"]["Properties"]["Policies"];
    let statements = policies[0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let mut seen = Vec::new();
    for s in statements {
        assert_eq!(s["Effect"], "Allow");
        let acts = actions(s);
        seen.extend(acts.iter().map(|a| (*a).to_owned()));
        if s["Resource"] == "*" && s.get("Condition").is_none() {
            // Unconditional `*` only for read-only calls.
            for a in &acts {
                assert!(READ_ACTIONS.contains(a), "{a} on * without a condition");
                let verb = a.split(':').nth(1).unwrap();
                assert!(
                    verb.starts_with("Describe") || verb.starts_with("Get"),
                    "{a}"
                );
            }
        }
        if acts.iter().any(|a| WRITE_ACTIONS.contains(a)) {
            assert_eq!(acts, WRITE_ACTIONS);
            assert_eq!(
                s["Condition"],
                json!({"StringEquals": {
                    "aws:ResourceTag/k8s.io/cluster-autoscaler/shop-cluster": "owned"
                }})
            );
        }
        if acts == ["eks:DescribeNodegroup"] {
            let arns: Vec<&str> = s["Resource"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["Fn::Sub"].as_str().unwrap())
                .collect();
            assert_eq!(
                arns,
                [
                    "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:nodegroup/shop-cluster/shop-nodes/*",
                    "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:nodegroup/shop-cluster/shop-gpu/*",
                ]
            );
        }
    }
    seen.sort();
    let mut wanted: Vec<String> = READ_ACTIONS
        .iter()
        .chain(&WRITE_ACTIONS)
        .chain(&["eks:DescribeNodegroup"])
        .map(|a| (*a).to_owned())
        .collect();
    wanted.sort();
    assert_eq!(seen, wanted);
}

#[test]
fn invalid_props_fail_at_the_construct_path() {
    let app = App::new("shop");
    let mut stack = app.new_stack("Shop-Compute");
    for (props, field) in [
        (
            ClusterAutoscalerProps::new("bad cluster", KubernetesVersion::expect(1, 34), ["n"]),
            "cluster_name",
        ),
        (
            ClusterAutoscalerProps::new(
                "c",
                KubernetesVersion::expect(1, 34),
                Vec::<String>::new(),
            ),
            "node_group_names",
        ),
        (
            ClusterAutoscalerProps::new("c", KubernetesVersion::expect(1, 34), ["bad/name"]),
            "node_group_names[0]",
        ),
    ] {
        let e = ClusterAutoscaler::new(&mut stack.root(), "Ca", props).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("Shop-Compute/Ca"), "{text}");
        assert!(text.contains(field), "{text}");
    }
}
