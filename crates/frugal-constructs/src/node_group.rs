//! [`SpotNodeGroup`]: an EKS managed node group on Spot capacity by default.

use std::collections::BTreeMap;

use frugal_cfn::eks::nodegroup as cfn;
use frugal_core::{fns, Expr, ResourceHandle, Scope, Violations};

use crate::iam::{managed_policy_arn, PolicyDocument, Statement};
use crate::role::ServiceRole;
use crate::validate::Check;

/// CPU architecture of an instance type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// x86-64.
    X86_64,
    /// 64-bit Arm (Graviton).
    Arm64,
}

/// An instance type the node group accepts, with the shape that makes types interchangeable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceShape {
    /// EC2 instance type name.
    pub name: &'static str,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u32,
    /// Architecture.
    pub arch: Arch,
}

const fn shape(name: &'static str, vcpus: u32, memory_gib: u32, arch: Arch) -> InstanceShape {
    InstanceShape {
        name,
        vcpus,
        memory_mib: memory_gib * 1024,
        arch,
    }
}

/// The instance types Frugal accepts for node groups (general purpose and burstable
/// families Spot pools commonly have). Add a type here, with its real shape, to use it.
pub const INSTANCE_CATALOG: &[InstanceShape] = &[
    shape("t2.medium", 2, 4, Arch::X86_64),
    shape("t2.large", 2, 8, Arch::X86_64),
    shape("t3.medium", 2, 4, Arch::X86_64),
    shape("t3.large", 2, 8, Arch::X86_64),
    shape("t3.xlarge", 4, 16, Arch::X86_64),
    shape("t3a.medium", 2, 4, Arch::X86_64),
    shape("t3a.large", 2, 8, Arch::X86_64),
    shape("t3a.xlarge", 4, 16, Arch::X86_64),
    shape("t4g.medium", 2, 4, Arch::Arm64),
    shape("t4g.large", 2, 8, Arch::Arm64),
    shape("m5.large", 2, 8, Arch::X86_64),
    shape("m5.xlarge", 4, 16, Arch::X86_64),
    shape("m5a.large", 2, 8, Arch::X86_64),
    shape("m5a.xlarge", 4, 16, Arch::X86_64),
    shape("m6i.large", 2, 8, Arch::X86_64),
    shape("m6i.xlarge", 4, 16, Arch::X86_64),
    shape("m6a.large", 2, 8, Arch::X86_64),
    shape("m6g.large", 2, 8, Arch::Arm64),
    shape("m7i.large", 2, 8, Arch::X86_64),
    shape("c5.large", 2, 4, Arch::X86_64),
    shape("c5a.large", 2, 4, Arch::X86_64),
    shape("c6i.large", 2, 4, Arch::X86_64),
    shape("c6a.large", 2, 4, Arch::X86_64),
];

/// The catalog entry of `name`.
pub fn instance_shape(name: &str) -> Option<&'static InstanceShape> {
    INSTANCE_CATALOG.iter().find(|s| s.name == name)
}

/// Spot (default) or on-demand, which must say why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Capacity {
    /// Spot capacity.
    #[default]
    Spot,
    /// On-demand capacity, with the reason synth prints.
    OnDemand {
        /// Why Spot will not do.
        reason: String,
    },
}

/// Node counts: `0 ≤ min ≤ desired ≤ max`, `max ≥ 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scaling {
    /// Minimum nodes.
    pub min: u32,
    /// Desired nodes.
    pub desired: u32,
    /// Maximum nodes.
    pub max: u32,
}

/// Taint effects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaintEffect {
    /// `NO_SCHEDULE`.
    NoSchedule,
    /// `PREFER_NO_SCHEDULE`.
    PreferNoSchedule,
    /// `NO_EXECUTE`.
    NoExecute,
}

/// A Kubernetes taint on every node of the group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value (may be empty).
    pub value: String,
    /// Effect.
    pub effect: TaintEffect,
}

/// How many nodes an update may take down at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxUnavailable {
    /// A node count (1 to 100).
    Count(u32),
    /// A percentage (1 to 100).
    Percent(u32),
}

/// Input of [`SpotNodeGroup`].
#[derive(Clone, Debug)]
pub struct SpotNodeGroupProps {
    /// The EKS cluster's name: a literal (checked) or a parameter or import.
    pub cluster_name: Expr<String>,
    /// The node group's name.
    pub nodegroup_name: String,
    /// Subnets (usually a list parameter).
    pub subnets: Expr<Vec<Expr<String>>>,
    /// Instance types: at least two, from [`INSTANCE_CATALOG`], all of one shape.
    pub instance_types: Vec<String>,
    /// Spot or on-demand.
    pub capacity: Capacity,
    /// Node counts.
    pub scaling: Scaling,
    /// Kubernetes labels.
    pub labels: BTreeMap<String, String>,
    /// Kubernetes taints.
    pub taints: Vec<Taint>,
    /// Update budget.
    pub max_unavailable: MaxUnavailable,
    /// An existing node role ARN; `None` creates one with the three EKS worker policies.
    pub node_role_arn: Option<Expr<String>>,
    /// Extra statements for the created node role (ignored with `node_role_arn`).
    pub node_policy_statements: Vec<Statement>,
    /// Root volume size in GiB.
    pub disk_size_gib: u32,
}

impl SpotNodeGroupProps {
    /// A Spot node group with defaults: one node unavailable during updates, 20 GiB disks.
    pub fn new(
        cluster_name: impl Into<Expr<String>>,
        nodegroup_name: impl Into<String>,
        subnets: Expr<Vec<Expr<String>>>,
        instance_types: &[&str],
        scaling: Scaling,
    ) -> Self {
        SpotNodeGroupProps {
            cluster_name: cluster_name.into(),
            nodegroup_name: nodegroup_name.into(),
            subnets,
            instance_types: instance_types.iter().map(|s| (*s).to_owned()).collect(),
            capacity: Capacity::Spot,
            scaling,
            labels: BTreeMap::new(),
            taints: Vec::new(),
            max_unavailable: MaxUnavailable::Count(1),
            node_role_arn: None,
            node_policy_statements: Vec::new(),
            disk_size_gib: 20,
        }
    }
}

/// Policy rule id acknowledged by on-demand node groups.
pub const SPOT_RULE: &str = "FRUGAL-SPOT";

/// An EKS managed node group, Spot unless opted out, with interchangeable instance types.
///
/// ```
/// use frugal_constructs::{Scaling, SpotNodeGroup, SpotNodeGroupProps};
/// use frugal_core::{Parameter, ParameterType};
/// let mut app = frugal_core::App::new("demo");
/// app.set_tag("Project", "Demo");
/// let mut stack = app.new_stack("Compute");
/// let subnets = stack.add_parameter(
///     "Subnets",
///     Parameter::new(ParameterType::Aws("List<AWS::EC2::Subnet::Id>".into()), "Node subnets"),
/// );
/// let nodes = SpotNodeGroup::new(&mut stack.root(), "Nodes", SpotNodeGroupProps::new(
///     "demo-cluster", "demo-nodes", subnets.as_list(),
///     &["t3.medium", "t3a.medium"], Scaling { min: 1, desired: 1, max: 3 },
/// )).expect("valid");
/// assert_eq!(nodes.scaling().max, 3);
/// ```
#[derive(Clone, Debug)]
pub struct SpotNodeGroup {
    cluster_name: Expr<String>,
    nodegroup_name: String,
    scaling: Scaling,
    labels: BTreeMap<String, String>,
    resource: ResourceHandle,
}

impl SpotNodeGroup {
    /// Validates `props` and adds the node group (and node role) at `id`.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        props: SpotNodeGroupProps,
    ) -> Result<Self, Violations> {
        let mut scope = scope.child(id);
        let mut check = Check::new(scope.path());
        validate(&mut check, &props);
        check.finish(|| ())?;
        let role_arn = match &props.node_role_arn {
            Some(arn) => arn.clone(),
            None => ServiceRole::with_managed_policies(
                &mut scope,
                "NodeRole",
                "ec2.amazonaws.com",
                PolicyDocument::new(props.node_policy_statements.clone()),
                [
                    "AmazonEKSWorkerNodePolicy",
                    "AmazonEKS_CNI_Policy",
                    "AmazonEC2ContainerRegistryReadOnly",
                ]
                .into_iter()
                .map(managed_policy_arn)
                .collect(),
            )
            .arn(),
        };
        let s = props.scaling;
        let scaling = cfn::ScalingConfig {
            min_size: Some(i64::from(s.min).into()),
            desired_size: Some(i64::from(s.desired).into()),
            max_size: Some(i64::from(s.max).into()),
        };
        let mut update = cfn::UpdateConfig::default();
        match props.max_unavailable {
            MaxUnavailable::Count(n) => update.max_unavailable = Some(f64::from(n).into()),
            MaxUnavailable::Percent(p) => {
                update.max_unavailable_percentage = Some(f64::from(p).into())
            }
        }
        let capacity = match props.capacity {
            Capacity::Spot => cfn::NodegroupCapacityType::Spot,
            Capacity::OnDemand { .. } => cfn::NodegroupCapacityType::OnDemand,
        };
        let mut group =
            cfn::Nodegroup::new(props.cluster_name.clone(), role_arn, props.subnets.clone());
        group.nodegroup_name = Some(props.nodegroup_name.as_str().into());
        group.capacity_type = Some(capacity.into());
        group.instance_types = Some(
            props
                .instance_types
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .into(),
        );
        group.scaling_config = Some(scaling);
        group.update_config = Some(update);
        group.disk_size = Some(i64::from(props.disk_size_gib).into());
        if !props.labels.is_empty() {
            group.labels = Some(
                props
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().into()))
                    .collect(),
            );
        }
        if !props.taints.is_empty() {
            group.taints = Some(
                props
                    .taints
                    .iter()
                    .map(|t| cfn::Taint {
                        key: Some(t.key.as_str().into()),
                        value: (!t.value.is_empty()).then(|| t.value.as_str().into()),
                        effect: Some(
                            match t.effect {
                                TaintEffect::NoSchedule => cfn::TaintEffect::NoSchedule,
                                TaintEffect::PreferNoSchedule => cfn::TaintEffect::PreferNoSchedule,
                                TaintEffect::NoExecute => cfn::TaintEffect::NoExecute,
                            }
                            .into(),
                        ),
                    })
                    .collect(),
            );
        }
        let resource = scope.add_resource("Resource", group);
        if let Capacity::OnDemand { reason } = &props.capacity {
            scope.acknowledge(&resource, SPOT_RULE, reason.clone());
        }
        Ok(SpotNodeGroup {
            cluster_name: props.cluster_name,
            nodegroup_name: props.nodegroup_name,
            scaling: props.scaling,
            labels: props.labels,
            resource,
        })
    }

    /// The scaling config as declared (what the scheduler restores each morning).
    pub fn scaling(&self) -> Scaling {
        self.scaling
    }

    /// The cluster's name.
    pub fn cluster_name(&self) -> &Expr<String> {
        &self.cluster_name
    }

    /// The node group's name.
    pub fn nodegroup_name(&self) -> &str {
        &self.nodegroup_name
    }

    /// The Kubernetes labels on every node.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// The ARNs of this node group, for IAM statements:
    /// `arn:…:eks:<region>:<account>:nodegroup/<cluster>/<name>/*` (EKS appends an id).
    ///
    /// Built from the names rather than read with `Fn::GetAtt`, so a policy can name the
    /// group before it exists (and emulators that skip EKS can still deploy the stack).
    pub fn arn(&self) -> Expr<String> {
        let prefix = "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:nodegroup";
        let name = &self.nodegroup_name;
        match self.cluster_name.as_value().as_str() {
            Some(cluster) => fns::sub(format!("{prefix}/{cluster}/{name}/*"), []),
            None => fns::sub(
                format!("{prefix}/${{Cluster}}/{name}/*"),
                [("Cluster", self.cluster_name.as_value().clone())],
            ),
        }
    }

    /// The CloudFormation resource.
    pub fn resource(&self) -> &ResourceHandle {
        &self.resource
    }
}

fn validate(check: &mut Check<'_>, props: &SpotNodeGroupProps) {
    let name_chars = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if let Some(cluster) = props.cluster_name.as_value().as_str() {
        check.name(
            "cluster_name",
            cluster,
            (1, 100),
            name_chars,
            "cluster names take letters, digits, - and _",
        );
    }
    check.name(
        "nodegroup_name",
        &props.nodegroup_name,
        (1, 63),
        name_chars,
        "node group names take letters, digits, - and _",
    );
    let types = &props.instance_types;
    check.ensure(
        types.len() >= 2 || matches!(props.capacity, Capacity::OnDemand { .. }),
        "instance_types",
        format!("Spot needs at least two interchangeable instance types to survive a pool running dry, got {}", types.len()),
    );
    check.ensure(
        types.len() <= 20,
        "instance_types",
        "EKS accepts at most 20 instance types",
    );
    let mut first: Option<&InstanceShape> = None;
    for (i, t) in types.iter().enumerate() {
        let Some(shape) = instance_shape(t) else {
            let known: Vec<&str> = INSTANCE_CATALOG.iter().map(|s| s.name).collect();
            check.fail(
                format!("instance_types[{i}]"),
                format!("unknown instance type `{t}` (known: {})", known.join(", ")),
            );
            continue;
        };
        if types[..i].contains(t) {
            check.fail(
                format!("instance_types[{i}]"),
                format!("`{t}` is listed twice"),
            );
        }
        match first {
            None => first = Some(shape),
            Some(f) => check.ensure(
                f.vcpus == shape.vcpus && f.memory_mib == shape.memory_mib && f.arch == shape.arch,
                format!("instance_types[{i}]"),
                format!(
                    "`{t}` ({} vCPU, {} GiB, {:?}) is not interchangeable with `{}` ({} vCPU, {} GiB, {:?})",
                    shape.vcpus,
                    shape.memory_mib / 1024,
                    shape.arch,
                    f.name,
                    f.vcpus,
                    f.memory_mib / 1024,
                    f.arch
                ),
            ),
        }
    }
    let s = props.scaling;
    check.ensure(s.max >= 1, "scaling.max", "max must be at least 1");
    check.ensure(
        s.min <= s.desired,
        "scaling.min",
        format!("min ({}) exceeds desired ({})", s.min, s.desired),
    );
    check.ensure(
        s.desired <= s.max,
        "scaling.desired",
        format!("desired ({}) exceeds max ({})", s.desired, s.max),
    );
    check.ensure(
        s.max <= 1000,
        "scaling.max",
        "EKS allows at most 1000 nodes per group",
    );
    check.ensure(
        props.node_role_arn.is_none() || props.node_policy_statements.is_empty(),
        "node_policy_statements",
        "statements only apply to the node role this construct creates; add them to the given role instead",
    );
    if let Capacity::OnDemand { reason } = &props.capacity {
        check.ensure(
            !reason.trim().is_empty(),
            "capacity",
            "on-demand capacity needs a reason",
        );
    }
    match props.max_unavailable {
        MaxUnavailable::Count(n) => check.ensure(
            (1..=100).contains(&n),
            "max_unavailable",
            "takes 1 to 100 nodes",
        ),
        MaxUnavailable::Percent(p) => check.ensure(
            (1..=100).contains(&p),
            "max_unavailable",
            "takes 1 to 100 percent",
        ),
    }
    check.ensure(
        (1..=16384).contains(&props.disk_size_gib),
        "disk_size_gib",
        "takes 1 to 16384 GiB",
    );
    check.ensure(props.labels.len() <= 100, "labels", "at most 100 labels");
    for (k, v) in &props.labels {
        check.ensure(
            is_label_key(k),
            format!("labels.{k}"),
            "label keys are `[prefix/]name` with 1 to 63 letters, digits, - _ .",
        );
        check.ensure(
            is_label_value(v),
            format!("labels.{k}"),
            format!("label value `{v}` is not 0 to 63 letters, digits, - _ ."),
        );
    }
    check.ensure(
        props.taints.len() <= 50,
        "taints",
        "EKS allows at most 50 taints",
    );
    for (i, t) in props.taints.iter().enumerate() {
        check.ensure(
            is_label_key(&t.key),
            format!("taints[{i}].key"),
            "taint keys follow label key rules",
        );
        check.ensure(
            is_label_value(&t.value),
            format!("taints[{i}].value"),
            "taint values follow label value rules",
        );
    }
}

fn is_label_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn is_label_key(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_label_name(name),
        None => is_label_name(s),
    }
}

/// A Kubernetes label key prefix: a DNS subdomain (lowercase letters, digits, `-` and
/// `.`, starting and ending with a letter or digit, at most 253 characters).
fn is_dns_subdomain(s: &str) -> bool {
    let edge = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    s.len() <= 253
        && s.starts_with(edge)
        && s.ends_with(edge)
        && s.chars().all(|c| edge(c) || c == '-' || c == '.')
}

fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_label_name(s)
}
