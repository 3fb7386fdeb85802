//! SpotNodeGroup: every validation, the synthesized node group and node role, and the
//! on-demand opt-out that synth prints as acknowledged.

mod common;

use std::collections::BTreeMap;

use common::*;
use frugal_constructs::iam::Statement;
use frugal_constructs::{
    Capacity, MaxUnavailable, Scaling, SpotNodeGroup, SpotNodeGroupProps, Taint, TaintEffect,
    SPOT_RULE,
};
use frugal_core::{fns, Stack};

const PATH: &str = "Stack/Nodes";

fn props(stack: &mut Stack) -> SpotNodeGroupProps {
    SpotNodeGroupProps::new(
        "demo-cluster",
        "demo-nodes",
        subnets(stack),
        &["t3.medium", "t3a.medium", "t2.medium"],
        Scaling {
            min: 2,
            desired: 2,
            max: 5,
        },
    )
}

/// Builds the node group from the default props changed by `change`.
fn build(
    change: impl FnOnce(&mut SpotNodeGroupProps),
) -> Result<SpotNodeGroup, frugal_core::Violations> {
    let (_app, mut stack) = app_and_stack();
    let mut p = props(&mut stack);
    change(&mut p);
    SpotNodeGroup::new(&mut stack.root(), "Nodes", p)
}

fn on_demand(reason: &str) -> Capacity {
    Capacity::OnDemand {
        reason: reason.into(),
    }
}

fn taint(key: &str, value: &str) -> Taint {
    Taint {
        key: key.into(),
        value: value.into(),
        effect: TaintEffect::NoSchedule,
    }
}

type Case = (
    &'static str,
    fn(&mut SpotNodeGroupProps),
    &'static str,
    &'static str,
);

#[test]
fn each_invalid_input_is_rejected_naming_path_and_field() {
    let cases: &[Case] = &[
        (
            "empty cluster name",
            |p| p.cluster_name = "".into(),
            "cluster_name",
            "must be 1 to 100 characters long",
        ),
        (
            "cluster name too long",
            |p| p.cluster_name = "c".repeat(101).into(),
            "cluster_name",
            "must be 1 to 100 characters long",
        ),
        (
            "cluster name with a dot",
            |p| p.cluster_name = "demo.cluster".into(),
            "cluster_name",
            "contains `.`",
        ),
        (
            "empty node group name",
            |p| p.nodegroup_name.clear(),
            "nodegroup_name",
            "must be 1 to 63 characters long",
        ),
        (
            "node group name too long",
            |p| p.nodegroup_name = "n".repeat(64),
            "nodegroup_name",
            "must be 1 to 63 characters long",
        ),
        (
            "node group name with a space",
            |p| p.nodegroup_name = "demo nodes".into(),
            "nodegroup_name",
            "contains ` `",
        ),
        (
            "one Spot instance type",
            |p| p.instance_types = vec!["t3.medium".into()],
            "instance_types",
            "Spot needs at least two interchangeable instance types",
        ),
        (
            "no Spot instance type",
            |p| p.instance_types.clear(),
            "instance_types",
            "got 0",
        ),
        (
            "21 instance types",
            |p| p.instance_types = vec!["t3.medium".into(); 21],
            "instance_types",
            "at most 20 instance types",
        ),
        (
            "unknown instance type",
            |p| p.instance_types[1] = "t3.nano".into(),
            "instance_types[1]",
            "unknown instance type `t3.nano`",
        ),
        (
            "duplicate instance type",
            |p| p.instance_types[2] = "t3.medium".into(),
            "instance_types[2]",
            "`t3.medium` is listed twice",
        ),
        (
            "more memory",
            |p| p.instance_types[1] = "t3.large".into(),
            "instance_types[1]",
            "`t3.large` (2 vCPU, 8 GiB, X86_64) is not interchangeable with `t3.medium`",
        ),
        (
            "more vCPUs",
            |p| p.instance_types[2] = "t3.xlarge".into(),
            "instance_types[2]",
            "is not interchangeable with `t3.medium`",
        ),
        (
            "other architecture",
            |p| p.instance_types[1] = "t4g.medium".into(),
            "instance_types[1]",
            "Arm64) is not interchangeable",
        ),
        (
            "max 0",
            |p| {
                p.scaling = Scaling {
                    min: 0,
                    desired: 0,
                    max: 0,
                }
            },
            "scaling.max",
            "max must be at least 1",
        ),
        (
            "min above desired",
            |p| {
                p.scaling = Scaling {
                    min: 3,
                    desired: 2,
                    max: 5,
                }
            },
            "scaling.min",
            "min (3) exceeds desired (2)",
        ),
        (
            "desired above max",
            |p| {
                p.scaling = Scaling {
                    min: 2,
                    desired: 6,
                    max: 5,
                }
            },
            "scaling.desired",
            "desired (6) exceeds max (5)",
        ),
        (
            "max above 1000",
            |p| {
                p.scaling = Scaling {
                    min: 1,
                    desired: 1,
                    max: 1001,
                }
            },
            "scaling.max",
            "at most 1000 nodes",
        ),
        (
            "statements with a given role",
            |p| {
                p.node_role_arn = Some("arn:aws:iam::123456789012:role/nodes".into());
                p.node_policy_statements.push(Statement::allow(
                    ["s3:GetObject"],
                    ["arn:aws:s3:::b/*".into()],
                ));
            },
            "node_policy_statements",
            "statements only apply to the node role this construct creates",
        ),
        (
            "on-demand without reason",
            |p| p.capacity = on_demand(""),
            "capacity",
            "on-demand capacity needs a reason",
        ),
        (
            "on-demand with a blank reason",
            |p| p.capacity = on_demand("   "),
            "capacity",
            "on-demand capacity needs a reason",
        ),
        (
            "max unavailable 0 nodes",
            |p| p.max_unavailable = MaxUnavailable::Count(0),
            "max_unavailable",
            "takes 1 to 100 nodes",
        ),
        (
            "max unavailable 101 nodes",
            |p| p.max_unavailable = MaxUnavailable::Count(101),
            "max_unavailable",
            "takes 1 to 100 nodes",
        ),
        (
            "max unavailable 0 %",
            |p| p.max_unavailable = MaxUnavailable::Percent(0),
            "max_unavailable",
            "takes 1 to 100 percent",
        ),
        (
            "max unavailable 101 %",
            |p| p.max_unavailable = MaxUnavailable::Percent(101),
            "max_unavailable",
            "takes 1 to 100 percent",
        ),
        (
            "disk 0 GiB",
            |p| p.disk_size_gib = 0,
            "disk_size_gib",
            "takes 1 to 16384 GiB",
        ),
        (
            "disk 16385 GiB",
            |p| p.disk_size_gib = 16_385,
            "disk_size_gib",
            "takes 1 to 16384 GiB",
        ),
        (
            "101 labels",
            |p| {
                p.labels = (0..101)
                    .map(|i| (format!("k{i}"), "v".to_owned()))
                    .collect()
            },
            "labels",
            "at most 100 labels",
        ),
        (
            "label key starting with -",
            |p| {
                p.labels.insert("-app".into(), "api".into());
            },
            "labels.-app",
            "label keys are `[prefix/]name`",
        ),
        (
            "label key with empty prefix",
            |p| {
                p.labels.insert("/app".into(), "api".into());
            },
            "labels./app",
            "label keys are `[prefix/]name`",
        ),
        (
            "label key ending with _",
            |p| {
                p.labels.insert("app_".into(), "api".into());
            },
            "labels.app_",
            "label keys are `[prefix/]name`",
        ),
        (
            "label key prefix in capitals",
            |p| {
                p.labels.insert("Example.COM/tier".into(), "api".into());
            },
            "labels.Example.COM/tier",
            "label keys are `[prefix/]name`",
        ),
        (
            "label key prefix with an underscore",
            |p| {
                p.labels.insert("example_org/tier".into(), "api".into());
            },
            "labels.example_org/tier",
            "label keys are `[prefix/]name`",
        ),
        (
            "label key with two slashes",
            |p| {
                p.labels.insert("example.com/a/b".into(), "api".into());
            },
            "labels.example.com/a/b",
            "label keys are `[prefix/]name`",
        ),
        (
            "label value with a space",
            |p| {
                p.labels.insert("app".into(), "retail api".into());
            },
            "labels.app",
            "label value `retail api` is not 0 to 63",
        ),
        (
            "label value ending with -",
            |p| {
                p.labels.insert("app".into(), "api-".into());
            },
            "labels.app",
            "label value `api-`",
        ),
        (
            "51 taints",
            |p| p.taints = (0..51).map(|i| taint(&format!("k{i}"), "")).collect(),
            "taints",
            "at most 50 taints",
        ),
        (
            "taint key with a space",
            |p| p.taints.push(taint("spot only", "")),
            "taints[0].key",
            "taint keys follow label key rules",
        ),
        (
            "taint value with a colon",
            |p| p.taints.push(taint("spot", "a:b")),
            "taints[0].value",
            "taint values follow label value rules",
        ),
    ];
    for (name, change, field, fragment) in cases {
        eprintln!("case: {name}");
        expect_violation(build(change), PATH, field, fragment);
    }
}

#[test]
fn valid_defaults_pass_and_synthesize() {
    let (app, mut stack) = app_and_stack();
    let p = props(&mut stack);
    let nodes = SpotNodeGroup::new(&mut stack.root(), "Nodes", p).expect("valid defaults");
    assert_eq!(
        nodes.scaling(),
        Scaling {
            min: 2,
            desired: 2,
            max: 5
        }
    );
    assert_eq!(
        nodes.cluster_name().as_value().as_str(),
        Some("demo-cluster")
    );
    assert_eq!(nodes.nodegroup_name(), "demo-nodes");
    let assembly = synth(app, stack);
    assert!(
        assembly.acknowledged.is_empty(),
        "{:?}",
        assembly.acknowledged
    );
}

#[test]
fn valid_edge_inputs_pass() {
    // min 0 (a group that may scale to nothing), one on-demand type with a reason,
    // percentages, prefixed label keys, empty taint values.
    let ok = build(|p| {
        p.scaling = Scaling {
            min: 0,
            desired: 0,
            max: 1,
        }
    });
    assert!(ok.is_ok(), "{ok:?}");
    let ok = build(|p| {
        p.capacity = on_demand("stateful singleton");
        p.instance_types = vec!["m5.large".into()];
    });
    assert!(ok.is_ok(), "{ok:?}");
    let ok = build(|p| {
        p.max_unavailable = MaxUnavailable::Percent(100);
        p.labels.insert("example.com/tier".into(), "api".into());
        p.labels.insert("empty".into(), String::new());
        p.taints.push(taint("dedicated", ""));
    });
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn several_problems_are_reported_together() {
    let err = build(|p| {
        p.instance_types = vec!["t3.medium".into()];
        p.scaling = Scaling {
            min: 3,
            desired: 2,
            max: 5,
        };
    })
    .expect_err("two problems");
    assert_violation(&err, PATH, "instance_types", "at least two");
    assert_violation(&err, PATH, "scaling.min", "exceeds desired");
}

fn synth_nodes(change: impl FnOnce(&mut SpotNodeGroupProps)) -> frugal_core::Assembly {
    let (app, mut stack) = app_and_stack();
    let mut p = props(&mut stack);
    change(&mut p);
    SpotNodeGroup::new(&mut stack.root(), "Nodes", p).expect("valid");
    synth(app, stack)
}

#[test]
fn spot_is_the_default_capacity() {
    let assembly = synth_nodes(|_| {});
    let t = template(&assembly);
    let group = only(t, "AWS::EKS::Nodegroup");
    let p = &group["Properties"];
    assert_eq!(p["CapacityType"], "SPOT");
    assert_eq!(p["ClusterName"], "demo-cluster");
    assert_eq!(p["NodegroupName"], "demo-nodes");
    assert_eq!(
        p["InstanceTypes"],
        serde_json::json!(["t3.medium", "t3a.medium", "t2.medium"])
    );
    assert_eq!(
        p["ScalingConfig"],
        serde_json::json!({"MinSize": 2, "DesiredSize": 2, "MaxSize": 5})
    );
    assert_eq!(p["UpdateConfig"], serde_json::json!({"MaxUnavailable": 1}));
    assert_eq!(p["DiskSize"], 20);
    assert_eq!(p["Subnets"], serde_json::json!({"Ref": "Subnets"}));
    assert_eq!(tag(group, "Project"), Some(PROJECT));
    assert!(assembly.acknowledged.is_empty());
}

#[test]
fn on_demand_needs_a_reason_and_is_printed_as_acknowledged() {
    let assembly = synth_nodes(|p| p.capacity = on_demand("GPU inference has no Spot pool here"));
    let group = only(template(&assembly), "AWS::EKS::Nodegroup");
    assert_eq!(group["Properties"]["CapacityType"], "ON_DEMAND");
    assert_eq!(
        assembly.acknowledged.len(),
        1,
        "{:?}",
        assembly.acknowledged
    );
    let ack = &assembly.acknowledged[0];
    assert_eq!(ack.rule, SPOT_RULE);
    assert_eq!(ack.path, "Stack/Nodes/Resource");
    assert_eq!(ack.reason, "GPU inference has no Spot pool here");
    assert!(ack.message.contains("not on Spot"), "{ack:?}");
    // The acknowledgement is recorded in the template's metadata too.
    assert_eq!(
        group["Metadata"]["frugal:acknowledgements"],
        serde_json::json!([{"rule": SPOT_RULE, "reason": "GPU inference has no Spot pool here"}])
    );
}

#[test]
fn node_role_has_the_three_eks_worker_policies_and_nothing_admin() {
    let assembly = synth_nodes(|p| {
        p.node_policy_statements.push(Statement::allow(
            ["s3:GetObject"],
            [fns::sub("arn:${AWS::Partition}:s3:::models/*", [])],
        ))
    });
    let t = template(&assembly);
    let group = only(t, "AWS::EKS::Nodegroup");
    assert_eq!(
        group["Properties"]["NodeRole"],
        serde_json::json!({"Fn::GetAtt": ["NodesNodeRole", "Arn"]})
    );
    let role = resource(t, "NodesNodeRole");
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let managed: Vec<&str> = role["Properties"]["ManagedPolicyArns"]
        .as_array()
        .expect("managed policies")
        .iter()
        .map(|a| str_of(&a["Fn::Sub"], "managed policy ARN"))
        .collect();
    assert_eq!(
        managed,
        [
            "arn:${AWS::Partition}:iam::aws:policy/AmazonEKSWorkerNodePolicy",
            "arn:${AWS::Partition}:iam::aws:policy/AmazonEKS_CNI_Policy",
            "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        ]
    );
    let trust = statements(&role["Properties"]["AssumeRolePolicyDocument"]);
    assert_eq!(trust.len(), 1);
    assert_eq!(trust[0]["Principal"]["Service"], "ec2.amazonaws.com");
    assert_eq!(trust[0]["Action"], "sts:AssumeRole");
    let policies = role["Properties"]["Policies"]
        .as_array()
        .expect("inline policy");
    assert_eq!(policies.len(), 1);
    let inline = statements(&policies[0]["PolicyDocument"]);
    assert_eq!(inline.len(), 1);
    assert_eq!(inline[0]["Action"], "s3:GetObject");
    assert_eq!(
        inline[0]["Resource"]["Fn::Sub"],
        "arn:${AWS::Partition}:s3:::models/*"
    );
}

#[test]
fn a_given_node_role_creates_no_role() {
    let assembly =
        synth_nodes(|p| p.node_role_arn = Some("arn:aws:iam::123456789012:role/nodes".into()));
    let t = template(&assembly);
    assert!(resources_of_type(t, "AWS::IAM::Role").is_empty());
    assert_eq!(
        only(t, "AWS::EKS::Nodegroup")["Properties"]["NodeRole"],
        "arn:aws:iam::123456789012:role/nodes"
    );
}

#[test]
fn labels_taints_and_update_budget_are_rendered() {
    let assembly = synth_nodes(|p| {
        p.labels = BTreeMap::from([("app".to_owned(), "api".to_owned())]);
        p.taints = vec![
            taint("spot", ""),
            Taint {
                key: "gpu".into(),
                value: "true".into(),
                effect: TaintEffect::NoExecute,
            },
            Taint {
                key: "batch".into(),
                value: "yes".into(),
                effect: TaintEffect::PreferNoSchedule,
            },
        ];
        p.max_unavailable = MaxUnavailable::Percent(25);
        p.disk_size_gib = 50;
    });
    let p = &only(template(&assembly), "AWS::EKS::Nodegroup")["Properties"];
    assert_eq!(p["Labels"], serde_json::json!({"app": "api"}));
    assert_eq!(
        p["Taints"],
        serde_json::json!([
            {"Key": "spot", "Effect": "NO_SCHEDULE"},
            {"Key": "gpu", "Value": "true", "Effect": "NO_EXECUTE"},
            {"Key": "batch", "Value": "yes", "Effect": "PREFER_NO_SCHEDULE"},
        ])
    );
    assert_eq!(
        p["UpdateConfig"],
        serde_json::json!({"MaxUnavailablePercentage": 25})
    );
    assert_eq!(p["DiskSize"], 50);
}

#[test]
fn snapshot_of_a_small_node_group_stack() {
    let assembly = synth_nodes(|p| {
        p.labels.insert("app".into(), "api".into());
    });
    insta::assert_json_snapshot!("node_group_stack", template(&assembly));
}
