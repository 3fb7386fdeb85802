//! The Cluster Autoscaler's Kubernetes objects: ServiceAccount, RBAC and Deployment.
//!
//! AWS credentials come from EKS Pod Identity (see [`crate::ClusterAutoscaler`]): the
//! ServiceAccount needs no annotation, the association names it.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements,
    SeccompProfile, SecurityContext, ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::{names, Error, KubernetesVersion, Labels, Object};

/// Namespace the Cluster Autoscaler runs in.
pub const CLUSTER_AUTOSCALER_NAMESPACE: &str = "kube-system";
/// Name of its ServiceAccount — the one its EKS Pod Identity association names — and of
/// its RBAC objects and Deployment.
pub const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT: &str = "cluster-autoscaler";
/// Tag key marking Auto Scaling groups the Cluster Autoscaler may manage (value `true`).
pub const AUTO_DISCOVERY_ENABLED_TAG: &str = "k8s.io/cluster-autoscaler/enabled";

/// Tag key marking the Auto Scaling groups of `cluster` (value `owned`):
/// `k8s.io/cluster-autoscaler/<cluster>`.
pub fn cluster_tag_key(cluster_name: &str) -> String {
    format!("k8s.io/cluster-autoscaler/{cluster_name}")
}

/// The auto-discovery tags an Auto Scaling group needs for the Cluster Autoscaler of
/// `cluster` to find it: `k8s.io/cluster-autoscaler/enabled = true` and
/// `k8s.io/cluster-autoscaler/<cluster> = owned`.
///
/// EKS puts both on the Auto Scaling group of every *managed* node group: the EKS User
/// Guide says "Amazon EKS tags managed node group resources so that they are configured to
/// use the Kubernetes Cluster Autoscaler" (managed node groups). A node group's own
/// `Tags` would not help: EKS does not propagate them to the Auto Scaling group.
pub fn auto_discovery_tags(cluster_name: &str) -> [(String, String); 2] {
    [
        (AUTO_DISCOVERY_ENABLED_TAG.to_owned(), "true".to_owned()),
        (cluster_tag_key(cluster_name), "owned".to_owned()),
    ]
}

/// The Cluster Autoscaler's arguments (after the binary), in order:
/// - `--cloud-provider=aws`;
/// - `--node-group-auto-discovery=asg:tag=<enabled tag>,<cluster tag>`: every Auto Scaling
///   group carrying both tag keys (see [`auto_discovery_tags`]);
/// - `--expander=least-waste`: scale up the group that leaves the least idle CPU/memory;
/// - `--balance-similar-node-groups`: keep groups of interchangeable instance types even;
/// - `--skip-nodes-with-local-storage=false` and `--skip-nodes-with-system-pods=false`: let
///   scale-down remove nodes running `emptyDir` pods or kube-system pods (the plan's);
///
/// Log verbosity stays at its default: every log line is paid for at ingestion.
pub fn cluster_autoscaler_args(cluster_name: &str) -> Vec<String> {
    vec![
        "--cloud-provider=aws".to_owned(),
        format!(
            "--node-group-auto-discovery=asg:tag={AUTO_DISCOVERY_ENABLED_TAG},{}",
            cluster_tag_key(cluster_name)
        ),
        "--expander=least-waste".to_owned(),
        "--balance-similar-node-groups".to_owned(),
        "--skip-nodes-with-local-storage=false".to_owned(),
        "--skip-nodes-with-system-pods=false".to_owned(),
    ]
}

/// What the Cluster Autoscaler's objects depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterAutoscalerSpec {
    /// The EKS cluster's name (auto-discovery tags).
    pub cluster_name: String,
    /// The cluster's Kubernetes version; the image's minor version follows it.
    pub version: KubernetesVersion,
}

impl ClusterAutoscalerSpec {
    /// A spec for `cluster_name` at `version`.
    pub fn new(cluster_name: impl Into<String>, version: KubernetesVersion) -> Self {
        ClusterAutoscalerSpec {
            cluster_name: cluster_name.into(),
            version,
        }
    }

    /// The labels on the Cluster Autoscaler's objects and pods (and its Deployment's
    /// selector).
    pub fn labels() -> Labels {
        [(
            "app".to_owned(),
            CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.to_owned(),
        )]
        .into()
    }

    /// The objects, in apply order: ServiceAccount, ClusterRole, ClusterRoleBinding, Role,
    /// RoleBinding, Deployment.
    pub fn objects(&self) -> Result<Vec<Object>, Error> {
        names::cluster_name("cluster_name", &self.cluster_name)?;
        let name = CLUSTER_AUTOSCALER_SERVICE_ACCOUNT;
        let subject = Subject {
            kind: "ServiceAccount".to_owned(),
            name: name.to_owned(),
            namespace: Some(CLUSTER_AUTOSCALER_NAMESPACE.to_owned()),
            api_group: None,
        };
        Ok(vec![
            ServiceAccount {
                metadata: meta(true),
                ..ServiceAccount::default()
            }
            .into(),
            ClusterRole {
                metadata: meta(false),
                rules: Some(cluster_rules()),
                aggregation_rule: None,
            }
            .into(),
            ClusterRoleBinding {
                metadata: meta(false),
                role_ref: role_ref("ClusterRole"),
                subjects: Some(vec![subject.clone()]),
            }
            .into(),
            Role {
                metadata: meta(true),
                rules: Some(namespace_rules()),
            }
            .into(),
            RoleBinding {
                metadata: meta(true),
                role_ref: role_ref("Role"),
                subjects: Some(vec![subject]),
            }
            .into(),
            self.deployment().into(),
        ])
    }

    fn deployment(&self) -> Deployment {
        let labels = Self::labels();
        let quantities = |cpu: &str, memory: &str| {
            BTreeMap::from([
                ("cpu".to_owned(), Quantity(cpu.to_owned())),
                ("memory".to_owned(), Quantity(memory.to_owned())),
            ])
        };
        let container = Container {
            name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.to_owned(),
            image: Some(self.version.cluster_autoscaler_image()),
            image_pull_policy: Some("IfNotPresent".to_owned()),
            command: Some(vec!["./cluster-autoscaler".to_owned()]),
            args: Some(cluster_autoscaler_args(&self.cluster_name)),
            // Upstream's sizing for a small cluster; requests = limits gives it Guaranteed QoS.
            resources: Some(ResourceRequirements {
                requests: Some(quantities("100m", "600Mi")),
                limits: Some(quantities("100m", "600Mi")),
                ..ResourceRequirements::default()
            }),
            security_context: Some(SecurityContext {
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                capabilities: Some(Capabilities {
                    drop: Some(vec!["ALL".to_owned()]),
                    add: None,
                }),
                ..SecurityContext::default()
            }),
            ..Container::default()
        };
        Deployment {
            metadata: ObjectMeta {
                labels: Some(labels.clone()),
                ..meta(true)
            },
            spec: Some(DeploymentSpec {
                replicas: Some(1),
                selector: LabelSelector {
                    match_labels: Some(labels.clone()),
                    ..LabelSelector::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels),
                        // Never evict the autoscaler to remove its own node mid-decision.
                        annotations: Some(BTreeMap::from([(
                            "cluster-autoscaler.kubernetes.io/safe-to-evict".to_owned(),
                            "false".to_owned(),
                        )])),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(PodSpec {
                        priority_class_name: Some("system-cluster-critical".to_owned()),
                        service_account_name: Some(CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.to_owned()),
                        // The image is distroless and ships its CA certificates: no hostPath
                        // certificate mount (the plan's mount pointed at a file Ubuntu
                        // nodes do not have).
                        security_context: Some(PodSecurityContext {
                            run_as_non_root: Some(true),
                            run_as_user: Some(65534),
                            run_as_group: Some(65534),
                            fs_group: Some(65534),
                            seccomp_profile: Some(SeccompProfile {
                                type_: "RuntimeDefault".to_owned(),
                                localhost_profile: None,
                            }),
                            ..PodSecurityContext::default()
                        }),
                        containers: vec![container],
                        ..PodSpec::default()
                    }),
                },
                ..DeploymentSpec::default()
            }),
            status: None,
        }
    }
}

fn meta(namespaced: bool) -> ObjectMeta {
    ObjectMeta {
        name: Some(CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.to_owned()),
        namespace: namespaced.then(|| CLUSTER_AUTOSCALER_NAMESPACE.to_owned()),
        labels: Some(ClusterAutoscalerSpec::labels()),
        ..ObjectMeta::default()
    }
}

fn role_ref(kind: &str) -> RoleRef {
    RoleRef {
        api_group: "rbac.authorization.k8s.io".to_owned(),
        kind: kind.to_owned(),
        name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.to_owned(),
    }
}

fn rule(groups: &[&str], resources: &[&str], names: &[&str], verbs: &[&str]) -> PolicyRule {
    let strings = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        resource_names: (!names.is_empty()).then(|| strings(names)),
        verbs: strings(verbs),
        non_resource_urls: None,
    }
}

/// Cluster-wide permissions: those of the upstream Helm chart's ClusterRole (AWS provider,
/// no Cluster API, no PodSecurityPolicy, no long-gone `extensions` group).
fn cluster_rules() -> Vec<PolicyRule> {
    let read = ["watch", "list", "get"];
    let ca = CLUSTER_AUTOSCALER_SERVICE_ACCOUNT;
    vec![
        rule(&[""], &["events", "endpoints"], &[], &["create", "patch"]),
        rule(&[""], &["pods/eviction"], &[], &["create"]),
        rule(&[""], &["pods/status"], &[], &["update"]),
        rule(&[""], &["endpoints"], &[ca], &["get", "update"]),
        rule(&[""], &["nodes"], &[], &["watch", "list", "get", "update"]),
        rule(
            &[""],
            &[
                "namespaces",
                "pods",
                "services",
                "replicationcontrollers",
                "persistentvolumeclaims",
                "persistentvolumes",
            ],
            &[],
            &read,
        ),
        rule(&[""], &["configmaps"], &[], &read),
        rule(&["batch"], &["jobs", "cronjobs"], &[], &read),
        rule(&["batch"], &["jobs"], &[], &["patch"]),
        rule(
            &["policy"],
            &["poddisruptionbudgets"],
            &[],
            &["watch", "list"],
        ),
        rule(
            &["apps"],
            &["daemonsets", "replicasets", "statefulsets"],
            &[],
            &read,
        ),
        rule(
            &["storage.k8s.io"],
            &[
                "storageclasses",
                "csinodes",
                "csidrivers",
                "csistoragecapacities",
                "volumeattachments",
            ],
            &[],
            &read,
        ),
        rule(&["coordination.k8s.io"], &["leases"], &[], &["create"]),
        rule(
            &["coordination.k8s.io"],
            &["leases"],
            &[ca],
            &["get", "update"],
        ),
    ]
}

/// Permissions in kube-system: its status ConfigMap.
fn namespace_rules() -> Vec<PolicyRule> {
    vec![
        rule(&[""], &["configmaps"], &[], &["create"]),
        rule(
            &[""],
            &["configmaps"],
            &["cluster-autoscaler-status"],
            &["delete", "get", "update"],
        ),
    ]
}
