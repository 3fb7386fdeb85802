//! # frugal-k8s
//!
//! Typed Kubernetes objects for Frugal apps, built with
//! [k8s-openapi](https://docs.rs/k8s-openapi) and rendered as YAML files that synthesis
//! writes beside the templates (`cfn-out/k8s/<env>/*.yaml`, see
//! `frugal_core::App::add_file`):
//!
//! - [`pod_disruption_budget`]: keep an API serving while Spot nodes are reclaimed or
//!   drained — its selector is the pods' own label set, so it cannot select nothing;
//! - [`ClusterAutoscalerSpec::objects`]: a complete Cluster Autoscaler (ServiceAccount,
//!   RBAC, Deployment) whose image follows the cluster's [`KubernetesVersion`] and whose
//!   auto-discovery tags name the cluster;
//! - [`ClusterAutoscaler`]: the same, plus its AWS permissions through EKS Pod Identity (an
//!   IAM role and an `AWS::EKS::PodIdentityAssociation`) in a stack;
//! - [`render_yaml`]: deterministic multi-document YAML; `parse_yaml` (feature `parse`,
//!   for tests: it costs ~30 s of compilation) reads it back into the same objects.
//!
//! Inputs are checked before anything is built (names, labels, versions); errors name the
//! field.

#![warn(missing_docs)]

mod autoscaler;
mod aws;
mod names;
mod object;
mod pdb;
mod version;

use std::collections::BTreeMap;

pub use autoscaler::{
    auto_discovery_tags, cluster_autoscaler_args, cluster_tag_key, ClusterAutoscalerSpec,
    AUTO_DISCOVERY_ENABLED_TAG, CLUSTER_AUTOSCALER_NAMESPACE, CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
};
pub use aws::{
    cluster_autoscaler_policy, pod_identity_trust_policy, ClusterAutoscaler,
    ClusterAutoscalerProps, POD_IDENTITY_PRINCIPAL, READ_ACTIONS, WRITE_ACTIONS,
};
/// The k8s-openapi crate the objects come from (one Kubernetes API version feature).
pub use k8s_openapi;
#[cfg(feature = "parse")]
pub use object::parse_yaml;
pub use object::{render_yaml, Object};
pub use pdb::pod_disruption_budget;
pub use version::{
    KubernetesVersion, CLUSTER_AUTOSCALER_IMAGE_REPOSITORY, CLUSTER_AUTOSCALER_RELEASES,
};

/// Kubernetes labels (key → value), sorted: one value serves as a workload's pod labels
/// and as the selectors that must match them.
pub type Labels = BTreeMap<String, String>;

/// Why an object could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A name, label or number breaks a Kubernetes or EKS rule.
    #[error("{field}: `{value}` is invalid: {rule}")]
    InvalidName {
        /// The input field.
        field: String,
        /// The value given.
        value: String,
        /// The rule it breaks.
        rule: String,
    },
    /// A Kubernetes version Frugal has no Cluster Autoscaler release for.
    #[error("Kubernetes version `{version}` is not supported (supported: {supported}); add it to CLUSTER_AUTOSCALER_RELEASES")]
    UnsupportedVersion {
        /// The version given.
        version: String,
        /// The supported versions.
        supported: String,
    },
    /// YAML could not be written or read.
    #[error("YAML: {0}")]
    Yaml(String),
}
