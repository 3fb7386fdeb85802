//! # frugal-codegen
//!
//! Generates `frugal-cfn`'s typed CloudFormation resource types from AWS's registry
//! schemas (the JSON files vendored in `crates/frugal-cfn/schemas`).
//!
//! Each schema becomes one file, `generated/<service>_<resource>.rs`: a property struct
//! per object type (the top-level one named after the resource and implementing
//! `frugal_core::ResourceType`), an enum per string enumeration, and a static
//! `ResourceSchema`. `generated/mod.rs` adds the `service::resource` module tree and the
//! `ALL_SCHEMAS` registry. Output is a pure function of the schema files: names, fields
//! and lists are sorted, so regenerating from the same schemas gives the same bytes.
//!
//! ```no_run
//! let n = frugal_codegen::run(std::path::Path::new("."))?;
//! println!("{n} files generated");
//! # Ok::<(), frugal_codegen::CodegenError>(())
//! ```

#![warn(missing_docs)]

mod emit;
mod model;
mod naming;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Folder (under the `frugal-cfn` source folder) that holds the generated code.
pub const GENERATED_DIR: &str = "generated";

/// Schema folder, relative to the workspace root.
pub const SCHEMA_DIR: &str = "crates/frugal-cfn/schemas";

/// `frugal-cfn` source folder, relative to the workspace root.
pub const SRC_DIR: &str = "crates/frugal-cfn/src";

/// One generated source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to `crates/frugal-cfn/src`, e.g. `generated/s3_bucket.rs`.
    pub path: PathBuf,
    /// The file's contents.
    pub contents: String,
}

/// What [`write()`] changed on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Files created or rewritten because their contents changed.
    pub written: usize,
    /// Files already up to date (left untouched).
    pub unchanged: usize,
    /// Stale `.rs` files removed from the generated folder.
    pub removed: usize,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// Reading or writing a file or folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A schema file is not valid JSON.
    #[error("{}: invalid JSON: {source}", file.display())]
    Json {
        /// The schema file.
        file: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A schema is valid JSON but cannot be turned into Rust types.
    #[error("{}: at `{pointer}`: {message}", file.display())]
    Schema {
        /// The schema file.
        file: PathBuf,
        /// JSON pointer of the offending node (empty for the document root).
        pointer: String,
        /// What is wrong.
        message: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CodegenError + '_ {
    move |source| CodegenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Generates the Rust sources for every `*.json` schema in `schema_dir`.
///
/// Returns one file per resource type plus `generated/mod.rs`, sorted by path. Paths
/// are relative to `crates/frugal-cfn/src`.
pub fn generate(schema_dir: &Path) -> Result<Vec<GeneratedFile>, CodegenError> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(schema_dir).map_err(io_error(schema_dir))? {
        let path = entry.map_err(io_error(schema_dir))?.path();
        if path.extension().is_some_and(|e| e == "json") {
            paths.push(path);
        }
    }
    paths.sort();

    let mut resources: Vec<model::Resource> = Vec::new();
    for path in &paths {
        let text = fs::read_to_string(path).map_err(io_error(path))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| CodegenError::Json {
                file: path.clone(),
                source,
            })?;
        let resource = model::build(path, &json)?;
        if let Some(other) = resources.iter().find(|r| r.file_stem == resource.file_stem) {
            return Err(CodegenError::Schema {
                file: path.clone(),
                pointer: "/typeName".to_owned(),
                message: format!(
                    "`{}` maps to generated/{}.rs, like `{}` from {}",
                    resource.type_name, resource.file_stem, other.type_name, other.source
                ),
            });
        }
        resources.push(resource);
    }

    let mut files: Vec<GeneratedFile> = resources
        .iter()
        .map(|r| GeneratedFile {
            path: Path::new(GENERATED_DIR).join(format!("{}.rs", r.file_stem)),
            contents: emit::resource_file(r),
        })
        .collect();
    files.push(GeneratedFile {
        path: Path::new(GENERATED_DIR).join("mod.rs"),
        contents: emit::mod_file(&resources),
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Writes `files` under `src_dir` (the `frugal-cfn` source folder) and removes `.rs`
/// files in its generated folder that are not among them.
///
/// Files whose contents are already current are not rewritten, so their timestamps
/// (and cargo's incremental state) are left alone.
pub fn write(files: &[GeneratedFile], src_dir: &Path) -> Result<WriteSummary, CodegenError> {
    let mut summary = WriteSummary::default();
    let mut keep = BTreeSet::new();
    for file in files {
        let path = src_dir.join(&file.path);
        keep.insert(path.clone());
        if fs::read_to_string(&path).is_ok_and(|current| current == file.contents) {
            summary.unchanged += 1;
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        fs::write(&path, &file.contents).map_err(io_error(&path))?;
        summary.written += 1;
    }
    let generated = src_dir.join(GENERATED_DIR);
    if generated.is_dir() {
        let mut stale = Vec::new();
        for entry in fs::read_dir(&generated).map_err(io_error(&generated))? {
            let path = entry.map_err(io_error(&generated))?.path();
            if path.extension().is_some_and(|e| e == "rs") && !keep.contains(&path) {
                stale.push(path);
            }
        }
        stale.sort();
        for path in stale {
            fs::remove_file(&path).map_err(io_error(&path))?;
            summary.removed += 1;
        }
    }
    Ok(summary)
}

/// Regenerates `crates/frugal-cfn/src/generated` from `crates/frugal-cfn/schemas`
/// under `workspace_root` (what `cargo xtask codegen` runs). Returns the number of
/// generated files.
pub fn run(workspace_root: &Path) -> Result<usize, CodegenError> {
    let files = generate(&workspace_root.join(SCHEMA_DIR))?;
    write(&files, &workspace_root.join(SRC_DIR))?;
    Ok(files.len())
}
