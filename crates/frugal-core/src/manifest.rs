//! `cfn-out/manifest.json`: what deploy, diff, cost and verify read about the synthesized app.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// File name of the manifest inside the output directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The synthesized app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format version.
    pub version: u32,
    /// App name.
    pub app: String,
    /// App-wide tags (also applied to each stack).
    pub tags: BTreeMap<String, String>,
    /// Stacks in deployment order (every stack after the stacks it depends on).
    pub stacks: Vec<StackManifest>,
    /// Other files synthesized beside the templates (e.g. `k8s/pdb.yaml`), relative paths.
    #[serde(default)]
    pub files: Vec<String>,
}

/// One stack of the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StackManifest {
    /// Stack name.
    pub name: String,
    /// Template file name, relative to the manifest.
    pub template: String,
    /// Region the stack is pinned to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Stack tags (app tags included).
    pub tags: BTreeMap<String, String>,
    /// Parameter values deploy passes.
    pub parameters: BTreeMap<String, String>,
    /// Names of stacks this one depends on.
    pub dependencies: Vec<String>,
    /// Number of resources in the template.
    pub resource_count: usize,
    /// Hex SHA-256 of the template file's bytes.
    pub sha256: String,
    /// Whether the stack is protected (termination protection, destroy refuses).
    #[serde(default)]
    pub protected: bool,
}

impl Manifest {
    /// Parses a manifest.
    pub fn from_json(text: &str) -> Result<Manifest, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The stack named `name`.
    pub fn stack(&self, name: &str) -> Option<&StackManifest> {
        self.stacks.iter().find(|s| s.name == name)
    }
}
