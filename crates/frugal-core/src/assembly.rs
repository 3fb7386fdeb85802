//! The result of synthesis: template texts and the manifest, and writing them out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::app::Acknowledged;
use crate::manifest::{Manifest, MANIFEST_FILE};

/// Hex SHA-256 of `bytes`.
pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// One synthesized stack.
#[derive(Debug)]
pub struct SynthesizedStack {
    /// Stack name.
    pub name: String,
    /// Template file name.
    pub file: String,
    /// The template as written: pretty-printed, trailing newline.
    pub text: String,
    /// The parsed template, made on first use (synthesis itself never needs it).
    parsed: OnceLock<Json>,
}

impl SynthesizedStack {
    pub(crate) fn new(name: String, file: String, text: String) -> Self {
        SynthesizedStack {
            name,
            file,
            text,
            parsed: OnceLock::new(),
        }
    }

    /// The template as JSON, parsed from [`SynthesizedStack::text`] on first use.
    pub fn template(&self) -> &Json {
        self.parsed
            .get_or_init(|| serde_json::from_str(&self.text).unwrap_or(Json::Null))
    }
}

/// The result of synthesis: templates, other files and the manifest, not yet written.
#[derive(Debug)]
pub struct Assembly {
    /// The manifest.
    pub manifest: Manifest,
    /// Stacks in deployment order.
    pub stacks: Vec<SynthesizedStack>,
    /// Other files by relative path.
    pub files: BTreeMap<String, String>,
    /// Acknowledged policy findings, for synth to print.
    pub acknowledged: Vec<Acknowledged>,
    /// The manifest as written.
    pub manifest_text: String,
}

impl Assembly {
    /// The stack named `name`.
    pub fn stack(&self, name: &str) -> Option<&SynthesizedStack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// Every output file as `(relative path, contents)`, manifest last.
    pub fn outputs(&self) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = self
            .stacks
            .iter()
            .map(|s| (s.file.as_str(), s.text.as_str()))
            .collect();
        out.extend(self.files.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        out.push((MANIFEST_FILE, self.manifest_text.as_str()));
        out
    }

    /// Writes every file into `dir` (unchanged files are not rewritten) and removes the
    /// files a previous synthesis listed that this one no longer produces.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let previous = read_manifest(dir);
        let outputs = self.outputs();
        for (rel, contents) in &outputs {
            let path = dir.join(rel);
            if same_contents(&path, contents.as_bytes()) {
                continue;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, contents)?;
        }
        if let Some(prev) = previous {
            let keep: BTreeSet<&str> = outputs.iter().map(|(k, _)| *k).collect();
            let stale = prev
                .stacks
                .iter()
                .map(|s| s.template.clone())
                .chain(prev.files.iter().cloned());
            for rel in stale {
                if !keep.contains(rel.as_str()) {
                    let _ = std::fs::remove_file(dir.join(&rel));
                }
            }
        }
        Ok(())
    }

    /// Files in `dir` that differ from this synthesis (missing, changed, or stale).
    pub fn differences(&self, dir: &Path) -> Vec<String> {
        let outputs = self.outputs();
        let mut diffs: Vec<String> = outputs
            .iter()
            .filter(|(rel, contents)| !same_contents(&dir.join(rel), contents.as_bytes()))
            .map(|(rel, _)| (*rel).to_owned())
            .collect();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".template.json") && !outputs.iter().any(|(rel, _)| *rel == name)
                {
                    diffs.push(format!("{name} (stale)"));
                }
            }
        }
        diffs.sort();
        diffs
    }
}

/// Whether the file at `path` holds exactly `expected`, compared in chunks (templates
/// can be megabytes; reading them whole would double synth's peak memory).
fn same_contents(path: &Path, expected: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    if file.metadata().map(|m| m.len()).ok() != Some(expected.len() as u64) {
        return false;
    }
    let mut buf = [0u8; 64 * 1024];
    let mut offset = 0;
    loop {
        match file.read(&mut buf) {
            Ok(0) => return offset == expected.len(),
            Ok(n) => {
                if expected.get(offset..offset + n) != Some(&buf[..n]) {
                    return false;
                }
                offset += n;
            }
            Err(_) => return false,
        }
    }
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).ok()?;
    Manifest::from_json(&text).ok()
}
