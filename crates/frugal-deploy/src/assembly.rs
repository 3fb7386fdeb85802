//! The synthesized app on disk: `manifest.json` and the templates beside it.

use std::path::{Path, PathBuf};

use frugal_core::{Manifest, StackManifest, MANIFEST_FILE};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{DeployError, Result};

/// One synthesized stack: its manifest entry and template.
#[derive(Clone, Debug)]
pub struct StackArtifact {
    /// The manifest entry (name, parameters, tags, dependencies, protection).
    pub manifest: StackManifest,
    /// The template file's text, sent to CloudFormation as it is.
    pub body: String,
    /// The template, parsed.
    pub template: Value,
}

impl StackArtifact {
    /// The stack name.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }
}

/// The synthesized app: manifest plus templates, stacks in dependency order.
#[derive(Clone, Debug)]
pub struct Assembly {
    /// The output directory it was read from.
    pub dir: PathBuf,
    /// The manifest.
    pub manifest: Manifest,
    /// The stacks, in the manifest's (dependency) order.
    pub stacks: Vec<StackArtifact>,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| DeployError::Io {
        path: path.to_owned(),
        source,
    })
}

impl Assembly {
    /// Reads `dir/manifest.json` and every template it names, checking each template's
    /// SHA-256 against the manifest (a mismatch means synthesis output is stale).
    pub fn load(dir: &Path) -> Result<Assembly> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let text = read(&manifest_path)?;
        let manifest = Manifest::from_json(&text).map_err(|e| DeployError::Assembly {
            path: manifest_path.clone(),
            message: e.to_string(),
        })?;
        let mut stacks = Vec::with_capacity(manifest.stacks.len());
        for s in &manifest.stacks {
            let path = dir.join(&s.template);
            let body = read(&path)?;
            let sha = Sha256::digest(body.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>();
            if !s.sha256.is_empty() && sha != s.sha256 {
                return Err(DeployError::Assembly {
                    path,
                    message: format!(
                        "does not match the sha256 in {MANIFEST_FILE}; synthesize again"
                    ),
                });
            }
            let template = serde_json::from_str(&body).map_err(|e| DeployError::Assembly {
                path: path.clone(),
                message: format!("not a JSON template: {e}"),
            })?;
            stacks.push(StackArtifact {
                manifest: s.clone(),
                body,
                template,
            });
        }
        Ok(Assembly {
            dir: dir.to_owned(),
            manifest,
            stacks,
        })
    }

    /// The stack named `name`.
    pub fn stack(&self, name: &str) -> Option<&StackArtifact> {
        self.stacks.iter().find(|s| s.name() == name)
    }

    fn names(&self) -> String {
        self.stacks
            .iter()
            .map(StackArtifact::name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The stacks to work on, in dependency order: the named ones, all with `all` (or
    /// when nothing is named and the app has a single stack).
    pub fn select(&self, names: &[String], all: bool) -> Result<Vec<&StackArtifact>> {
        for n in names {
            if self.stack(n).is_none() {
                return Err(DeployError::Selection(format!(
                    "the app has no stack `{n}` (it has: {})",
                    self.names()
                )));
            }
        }
        if all || (names.is_empty() && self.stacks.len() == 1) {
            return Ok(self.stacks.iter().collect());
        }
        if names.is_empty() {
            return Err(DeployError::Selection(format!(
                "name the stacks or pass --all (the app has: {})",
                self.names()
            )));
        }
        Ok(self
            .stacks
            .iter()
            .filter(|s| names.contains(&s.manifest.name))
            .collect())
    }
}

/// Groups stacks (in dependency order) into waves: each wave's stacks depend only on
/// stacks of earlier waves (or stacks outside the list), so a wave can deploy in parallel.
/// Returns indices into `stacks`.
pub fn waves(stacks: &[&StackManifest]) -> Vec<Vec<usize>> {
    let mut level: Vec<usize> = Vec::with_capacity(stacks.len());
    for (i, s) in stacks.iter().enumerate() {
        let l = stacks[..i]
            .iter()
            .enumerate()
            .filter(|(_, d)| s.dependencies.contains(&d.name))
            .map(|(j, _)| level[j] + 1)
            .max()
            .unwrap_or(0);
        level.push(l);
    }
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); level.iter().max().map_or(0, |m| m + 1)];
    for (i, l) in level.into_iter().enumerate() {
        out[l].push(i);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn stack(name: &str, deps: &[&str]) -> StackManifest {
        StackManifest {
            name: name.into(),
            template: format!("{name}.template.json"),
            region: None,
            tags: BTreeMap::new(),
            parameters: BTreeMap::new(),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            resource_count: 0,
            sha256: String::new(),
            protected: false,
        }
    }

    #[test]
    fn waves_follow_dependencies() {
        let s = [
            stack("Net", &[]),
            stack("Data", &[]),
            stack("App", &["Net", "Data"]),
            stack("Ops", &["App"]),
            stack("Cost", &[]),
        ];
        let refs: Vec<&StackManifest> = s.iter().collect();
        assert_eq!(waves(&refs), vec![vec![0, 1, 4], vec![2], vec![3]]);
        assert_eq!(waves(&refs[2..]), vec![vec![0, 2], vec![1]]);
        assert!(waves(&[]).is_empty());
    }
}
