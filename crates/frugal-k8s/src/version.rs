//! [`KubernetesVersion`]: the cluster's minor version, limited to the versions Frugal has a
//! Cluster Autoscaler release for.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// Registry and repository of the Cluster Autoscaler image (the community registry;
/// `k8s.gcr.io` is frozen and serves no new releases).
pub const CLUSTER_AUTOSCALER_IMAGE_REPOSITORY: &str =
    "registry.k8s.io/autoscaling/cluster-autoscaler";

/// The latest Cluster Autoscaler patch release for each supported Kubernetes minor version
/// (Kubernetes 1.x), as `(minor, patch)`: image `v1.<minor>.<patch>`.
///
/// Cluster Autoscaler's minor version must match the cluster's (its README's version
/// table). Source: the image promotions of `registry.k8s.io/autoscaling/cluster-autoscaler`
/// in the kubernetes/k8s.io repository — pull request #9676 "[cluster-autoscaler] Add
/// v1.36.0, v1.35.1, v1.34.4, v1.33.5", merged 2026-07-03 — checked 2026-12-03. To support a
/// new minor or patch, add or bump its row after checking that the tag exists on
/// `registry.k8s.io`; versions outside this table are rejected.
pub const CLUSTER_AUTOSCALER_RELEASES: &[(u32, u32)] = &[(33, 5), (34, 4), (35, 1), (36, 0)];

/// A Kubernetes `major.minor` version that Frugal can deploy a matching Cluster Autoscaler
/// for: major 1 and a minor listed in [`CLUSTER_AUTOSCALER_RELEASES`].
///
/// ```
/// use frugal_k8s::KubernetesVersion;
/// const V: KubernetesVersion = KubernetesVersion::expect(1, 34); // checked at compile time
/// assert_eq!(V.to_string(), "1.34");
/// assert_eq!(
///     V.cluster_autoscaler_image(),
///     "registry.k8s.io/autoscaling/cluster-autoscaler:v1.34.4"
/// );
/// assert!(KubernetesVersion::new(1, 26).is_err());
/// assert_eq!("1.35".parse::<KubernetesVersion>().unwrap().minor(), 35);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubernetesVersion {
    major: u32,
    minor: u32,
}

impl KubernetesVersion {
    /// The version, if supported.
    pub const fn checked(major: u32, minor: u32) -> Option<Self> {
        if major != 1 {
            return None;
        }
        let mut i = 0;
        while i < CLUSTER_AUTOSCALER_RELEASES.len() {
            if CLUSTER_AUTOSCALER_RELEASES[i].0 == minor {
                return Some(KubernetesVersion { major, minor });
            }
            i += 1;
        }
        None
    }

    /// The version, or an error naming the supported ones.
    pub fn new(major: u32, minor: u32) -> Result<Self, Error> {
        Self::checked(major, minor).ok_or_else(|| Error::UnsupportedVersion {
            version: format!("{major}.{minor}"),
            supported: Self::supported()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// The version; for constants, where an unsupported version fails compilation.
    ///
    /// # Panics
    /// When the version is not supported (at compile time in a `const`).
    pub const fn expect(major: u32, minor: u32) -> Self {
        match Self::checked(major, minor) {
            Some(v) => v,
            None => panic!("Kubernetes version not in frugal_k8s::CLUSTER_AUTOSCALER_RELEASES"),
        }
    }

    /// Every supported version, oldest first.
    pub fn supported() -> impl Iterator<Item = KubernetesVersion> {
        CLUSTER_AUTOSCALER_RELEASES
            .iter()
            .map(|&(minor, _)| KubernetesVersion { major: 1, minor })
    }

    /// The major version (1).
    pub const fn major(&self) -> u32 {
        self.major
    }

    /// The minor version.
    pub const fn minor(&self) -> u32 {
        self.minor
    }

    /// The Cluster Autoscaler image tag for this version, e.g. `v1.34.4`.
    pub fn cluster_autoscaler_tag(&self) -> String {
        // `checked` admits only minors of the table, so the lookup always succeeds.
        let patch = CLUSTER_AUTOSCALER_RELEASES
            .iter()
            .find(|(minor, _)| *minor == self.minor)
            .map_or(0, |(_, patch)| *patch);
        format!("v{}.{}.{patch}", self.major, self.minor)
    }

    /// The full Cluster Autoscaler image reference, e.g.
    /// `registry.k8s.io/autoscaling/cluster-autoscaler:v1.34.4`.
    pub fn cluster_autoscaler_image(&self) -> String {
        format!(
            "{CLUSTER_AUTOSCALER_IMAGE_REPOSITORY}:{}",
            self.cluster_autoscaler_tag()
        )
    }
}

impl fmt::Display for KubernetesVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for KubernetesVersion {
    type Err = Error;

    /// Parses `1.34` (a patch, `1.34.2`, is accepted and ignored).
    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = || Error::UnsupportedVersion {
            version: s.to_owned(),
            supported: Self::supported()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let mut parts = s.trim().trim_start_matches('v').split('.');
        let major = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        let minor = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        if parts.next().is_some_and(|p| p.parse::<u32>().is_err()) || parts.next().is_some() {
            return Err(invalid());
        }
        Self::new(major, minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in CLUSTER_AUTOSCALER_RELEASES.windows(2) {
            assert!(w[0].0 < w[1].0, "{w:?}");
        }
    }

    #[test]
    fn every_supported_minor_has_its_own_image() {
        for v in KubernetesVersion::supported() {
            let image = v.cluster_autoscaler_image();
            let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
            assert!(
                tag.starts_with(&format!("v1.{}.", v.minor())),
                "{v} -> {image}"
            );
            assert!(image.starts_with("registry.k8s.io/"));
        }
    }

    #[test]
    fn rejects_versions_outside_the_table() {
        for (major, minor) in [(1, 26), (1, 32), (1, 99), (2, 34), (0, 34)] {
            let e = KubernetesVersion::new(major, minor).unwrap_err();
            assert!(e.to_string().contains("1.33, 1.34, 1.35, 1.36"), "{e}");
        }
    }

    #[test]
    fn parses() {
        assert_eq!(
            "1.34".parse::<KubernetesVersion>().unwrap(),
            KubernetesVersion::expect(1, 34)
        );
        assert_eq!(
            "v1.35.2".parse::<KubernetesVersion>().unwrap(),
            KubernetesVersion::expect(1, 35)
        );
        for bad in ["", "1", "1.x", "1.34.x", "1.34.1.1", "1.26"] {
            assert!(bad.parse::<KubernetesVersion>().is_err(), "{bad}");
        }
    }
}
