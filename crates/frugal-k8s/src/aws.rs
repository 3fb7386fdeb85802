//! [`ClusterAutoscaler`]: the Cluster Autoscaler's AWS side — an IAM role for EKS Pod
//! Identity and its association — and, from the same props, its Kubernetes objects.

use frugal_cfn::eks::pod_identity_association::PodIdentityAssociation;
use frugal_cfn::iam::role::{Policy, Role};
use frugal_constructs::iam::{PolicyDocument, Principal, Statement};
use frugal_core::{fns, Expr, ResourceHandle, Scope, Violations};

use crate::autoscaler::{
    cluster_tag_key, ClusterAutoscalerSpec, CLUSTER_AUTOSCALER_NAMESPACE,
    CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
};
use crate::{names, Error, KubernetesVersion, Object};

/// The service principal of EKS Pod Identity.
pub const POD_IDENTITY_PRINCIPAL: &str = "pods.eks.amazonaws.com";

/// Read-only actions the Cluster Autoscaler calls on every loop. None of them supports
/// resource-level permissions except `eks:DescribeNodegroup`, which is scoped to the node
/// groups separately; `ec2:GetInstanceTypesFromInstanceRequirements` is read-only too and
/// takes only `*`.
pub const READ_ACTIONS: [&str; 9] = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
];

/// The two actions that change capacity, allowed only on Auto Scaling groups tagged
/// `k8s.io/cluster-autoscaler/<cluster> = owned`.
pub const WRITE_ACTIONS: [&str; 2] = [
    "autoscaling:SetDesiredCapacity",
    "autoscaling:TerminateInstanceInAutoScalingGroup",
];

/// Input of [`ClusterAutoscaler`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterAutoscalerProps {
    /// The EKS cluster.
    pub cluster_name: String,
    /// The cluster's Kubernetes version (picks the image).
    pub version: KubernetesVersion,
    /// The EKS managed node groups it scales (scopes `eks:DescribeNodegroup`). Their Auto
    /// Scaling groups carry the auto-discovery tags already: EKS tags the Auto Scaling
    /// group of every managed node group with `k8s.io/cluster-autoscaler/enabled` and
    /// `k8s.io/cluster-autoscaler/<cluster>` (node group `Tags` are not propagated to it).
    pub node_group_names: Vec<String>,
}

impl ClusterAutoscalerProps {
    /// Props for `cluster_name` at `version`, scaling `node_group_names`.
    pub fn new<S: Into<String>>(
        cluster_name: impl Into<String>,
        version: KubernetesVersion,
        node_group_names: impl IntoIterator<Item = S>,
    ) -> Self {
        ClusterAutoscalerProps {
            cluster_name: cluster_name.into(),
            version,
            node_group_names: node_group_names.into_iter().map(Into::into).collect(),
        }
    }

    fn validate(&self) -> Result<(), Error> {
        names::cluster_name("cluster_name", &self.cluster_name)?;
        if self.node_group_names.is_empty() {
            return Err(Error::InvalidName {
                field: "node_group_names".to_owned(),
                value: String::new(),
                rule: "at least one node group to scale".to_owned(),
            });
        }
        for (i, name) in self.node_group_names.iter().enumerate() {
            names::nodegroup_name(&format!("node_group_names[{i}]"), name)?;
        }
        Ok(())
    }
}

/// The trust policy of a role for EKS Pod Identity, limited by the session tags EKS
/// attaches to one cluster, namespace and service account (EKS User Guide, "Create IAM
/// role with trust policy required by EKS Pod Identity").
pub fn pod_identity_trust_policy(
    cluster_name: &str,
    namespace: &str,
    service_account: &str,
) -> PolicyDocument {
    PolicyDocument::new([Statement::allow(["sts:AssumeRole", "sts:TagSession"], [])
        .sid("AllowEksPodIdentity")
        .principal(Principal::Service(POD_IDENTITY_PRINCIPAL.to_owned()))
        .condition(
            "StringEquals",
            "aws:RequestTag/eks-cluster-name",
            cluster_name,
        )
        .condition(
            "StringEquals",
            "aws:RequestTag/kubernetes-namespace",
            namespace,
        )
        .condition(
            "StringEquals",
            "aws:RequestTag/kubernetes-service-account",
            service_account,
        )])
}

/// The Cluster Autoscaler's permissions: [`READ_ACTIONS`] on `*`, `eks:DescribeNodegroup`
/// on the named node groups, and [`WRITE_ACTIONS`] only on Auto Scaling groups tagged
/// `k8s.io/cluster-autoscaler/<cluster> = owned`.
pub fn cluster_autoscaler_policy(
    cluster_name: &str,
    node_group_names: &[String],
) -> PolicyDocument {
    let node_groups = node_group_names.iter().map(|name| {
        fns::sub(
            format!(
                "arn:${{AWS::Partition}}:eks:${{AWS::Region}}:${{AWS::AccountId}}:nodegroup/{cluster_name}/{name}/*"
            ),
            [],
        )
    });
    PolicyDocument::new([
        Statement::allow(READ_ACTIONS, [Expr::from("*")]).sid("Discover"),
        Statement::allow(["eks:DescribeNodegroup"], node_groups).sid("DescribeNodegroups"),
        Statement::allow(WRITE_ACTIONS, [Expr::from("*")])
            .sid("ScaleOwnedGroups")
            .condition(
                "StringEquals",
                &format!("aws:ResourceTag/{}", cluster_tag_key(cluster_name)),
                "owned",
            ),
    ])
}

/// The Cluster Autoscaler's AWS permissions through EKS Pod Identity: an IAM role trusted
/// by `pods.eks.amazonaws.com` for the `kube-system/cluster-autoscaler` service account
/// only, and the `AWS::EKS::PodIdentityAssociation` binding them. [`Self::objects`] gives
/// the matching Kubernetes objects, with the same service account and cluster.
///
/// Needs the EKS Pod Identity Agent add-on on the cluster.
///
/// ```
/// use frugal_k8s::{ClusterAutoscaler, ClusterAutoscalerProps, KubernetesVersion};
/// let mut app = frugal_core::App::new("demo");
/// let mut stack = app.new_stack("Compute");
/// let ca = ClusterAutoscaler::new(&mut stack.root(), "ClusterAutoscaler", ClusterAutoscalerProps {
///     cluster_name: "demo-cluster".into(),
///     version: KubernetesVersion::expect(1, 34),
///     node_group_names: vec!["demo-nodes".into()],
/// }).expect("valid");
/// assert_eq!(ca.objects().unwrap().len(), 6);
/// ```
#[derive(Clone, Debug)]
pub struct ClusterAutoscaler {
    spec: ClusterAutoscalerSpec,
    role: ResourceHandle,
    association: ResourceHandle,
}

impl ClusterAutoscaler {
    /// Validates `props` and adds the role (`<id>Role`) and the association
    /// (`<id>PodIdentity`) below `id`.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        props: ClusterAutoscalerProps,
    ) -> Result<Self, Violations> {
        let mut scope = scope.child(id);
        if let Err(e) = props.validate() {
            let field = match &e {
                Error::InvalidName { field, .. } => field.clone(),
                _ => "props".to_owned(),
            };
            return Err(Violations::from(frugal_core::Violation::new(
                scope.path(),
                field,
                e.to_string(),
            )));
        }
        let trust = pod_identity_trust_policy(
            &props.cluster_name,
            CLUSTER_AUTOSCALER_NAMESPACE,
            CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
        );
        let mut role = Role::new(trust.to_value());
        role.description = Some(
            format!(
                "Cluster Autoscaler of {} (EKS Pod Identity, {}/{})",
                props.cluster_name,
                CLUSTER_AUTOSCALER_NAMESPACE,
                CLUSTER_AUTOSCALER_SERVICE_ACCOUNT
            )
            .into(),
        );
        role.policies = Some(vec![Policy::new(
            cluster_autoscaler_policy(&props.cluster_name, &props.node_group_names).to_value(),
            "cluster-autoscaler",
        )]);
        let role = scope.add_resource("Role", role);
        let association = scope.add_resource(
            "PodIdentity",
            PodIdentityAssociation::new(
                props.cluster_name.as_str(),
                CLUSTER_AUTOSCALER_NAMESPACE,
                role.arn(),
                CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
            ),
        );
        Ok(ClusterAutoscaler {
            spec: ClusterAutoscalerSpec::new(props.cluster_name, props.version),
            role,
            association,
        })
    }

    /// The cluster and version the objects are built for.
    pub fn spec(&self) -> &ClusterAutoscalerSpec {
        &self.spec
    }

    /// The IAM role.
    pub fn role(&self) -> &ResourceHandle {
        &self.role
    }

    /// The IAM role's ARN.
    pub fn role_arn(&self) -> Expr<String> {
        self.role.arn()
    }

    /// The `AWS::EKS::PodIdentityAssociation`.
    pub fn association(&self) -> &ResourceHandle {
        &self.association
    }

    /// The Kubernetes objects (ServiceAccount, RBAC, Deployment), in apply order.
    pub fn objects(&self) -> Result<Vec<Object>, Error> {
        self.spec.objects()
    }
}
