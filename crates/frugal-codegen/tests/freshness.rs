//! The checked-in `frugal-cfn` sources must be exactly what the generator prints from
//! the vendored schemas.

use std::fs;
use std::path::{Path, PathBuf};

use frugal_codegen::{generate, write, GeneratedFile, GENERATED_DIR, SCHEMA_DIR, SRC_DIR};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scratch folder unique to this test process, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("frugal-codegen-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Paths (relative to `src/`) whose checked-in contents differ from `files`, plus
/// generated `.rs` files on disk that the generator no longer produces.
fn stale_files(files: &[GeneratedFile], src_dir: &Path) -> Vec<String> {
    let mut stale = Vec::new();
    for file in files {
        let on_disk = fs::read_to_string(src_dir.join(&file.path)).unwrap_or_default();
        if on_disk != file.contents {
            let line = on_disk
                .lines()
                .zip(file.contents.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| on_disk.lines().count().min(file.contents.lines().count()));
            stale.push(format!(
                "{} (first difference at line {})",
                file.path.display(),
                line + 1
            ));
        }
    }
    let generated = src_dir.join(GENERATED_DIR);
    for entry in fs::read_dir(&generated)
        .expect("generated dir exists")
        .flatten()
    {
        let path = entry.path();
        let relative = Path::new(GENERATED_DIR).join(entry.file_name());
        if path.extension().is_some_and(|e| e == "rs") && !files.iter().any(|f| f.path == relative)
        {
            stale.push(format!("{} (no longer generated)", relative.display()));
        }
    }
    stale
}

#[test]
fn checked_in_code_matches_the_vendored_schemas() {
    let root = workspace_root();
    let files = generate(&root.join(SCHEMA_DIR)).expect("vendored schemas generate");
    let stale = stale_files(&files, &root.join(SRC_DIR));
    assert!(
        stale.is_empty(),
        "generated code in {SRC_DIR}/{GENERATED_DIR} is out of date; run `cargo xtask codegen`:\n  {}",
        stale.join("\n  ")
    );
}

#[test]
fn a_schema_change_makes_the_check_fail_in_that_file_only() {
    let root = workspace_root();
    let scratch = Scratch::new("schemas");
    for entry in fs::read_dir(root.join(SCHEMA_DIR))
        .expect("schema dir")
        .flatten()
    {
        fs::copy(entry.path(), scratch.0.join(entry.file_name())).expect("copy schema");
    }
    let bucket = scratch.0.join("aws-s3-bucket.json");
    let mut schema: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&bucket).expect("read bucket schema"))
            .expect("valid JSON");
    schema["properties"]["FrugalTestProperty"] = serde_json::json!({"type": "string"});
    fs::write(&bucket, serde_json::to_string(&schema).expect("serialize"))
        .expect("write bucket schema");

    let files = generate(&scratch.0).expect("modified schemas generate");
    let stale = stale_files(&files, &root.join(SRC_DIR));
    assert_eq!(stale.len(), 1, "only the bucket file changes: {stale:?}");
    assert!(stale[0].starts_with("generated/s3_bucket.rs"), "{stale:?}");
    let bucket_rs = files
        .iter()
        .find(|f| f.path.ends_with("s3_bucket.rs"))
        .expect("bucket file");
    assert!(bucket_rs.contents.contains("#[serde(rename = \"FrugalTestProperty\", skip_serializing_if = \"Option::is_none\")]\n    pub frugal_test_property: Option<Expr<String>>,"));
}

#[test]
fn generation_is_deterministic() {
    let dir = workspace_root().join(SCHEMA_DIR);
    assert_eq!(
        generate(&dir).expect("first"),
        generate(&dir).expect("second")
    );
}

#[test]
fn write_updates_changed_files_and_removes_stale_ones() {
    let scratch = Scratch::new("write");
    let generated = scratch.0.join(GENERATED_DIR);
    fs::create_dir_all(&generated).expect("mkdir");
    fs::write(generated.join("gone.rs"), "// stale").expect("stale file");
    fs::write(generated.join("keep.txt"), "not rust").expect("other file");
    fs::write(generated.join("same.rs"), "same").expect("same file");
    let files = [
        GeneratedFile {
            path: Path::new(GENERATED_DIR).join("same.rs"),
            contents: "same".into(),
        },
        GeneratedFile {
            path: Path::new(GENERATED_DIR).join("new.rs"),
            contents: "new".into(),
        },
    ];
    let summary = write(&files, &scratch.0).expect("write");
    assert_eq!(
        (summary.written, summary.unchanged, summary.removed),
        (1, 1, 1)
    );
    assert!(!generated.join("gone.rs").exists());
    assert!(generated.join("keep.txt").exists());
    assert_eq!(
        fs::read_to_string(generated.join("new.rs")).expect("new"),
        "new"
    );
}

#[test]
fn invalid_schemas_are_reported_with_file_and_pointer() {
    let scratch = Scratch::new("invalid");
    fs::write(scratch.0.join("broken.json"), "{ not json").expect("write");
    let err = generate(&scratch.0).expect_err("invalid JSON");
    assert!(err.to_string().contains("broken.json"), "{err}");

    fs::remove_file(scratch.0.join("broken.json")).expect("rm");
    fs::write(
        scratch.0.join("aws-x-y.json"),
        r##"{"typeName": "AWS::X::Y", "properties": {"A": {"$ref": "#/definitions/Nope"}}}"##,
    )
    .expect("write");
    let err = generate(&scratch.0).expect_err("dangling ref");
    let msg = err.to_string();
    assert!(
        msg.contains("aws-x-y.json") && msg.contains("`/properties/A`"),
        "{msg}"
    );
}
