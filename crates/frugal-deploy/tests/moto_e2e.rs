//! End to end against a real local emulator: the `frugal` binary drives moto_server through
//! the real SDK; the service APIs confirm what exists before and is gone after.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use frugal_moto::Moto;
use sha2::{Digest, Sha256};

const DATA: &str = "FrugalTestData";
const APP: &str = "FrugalTestApp";

/// A copy of the fixture app in a fresh directory, editable per test.
struct Out {
    dir: PathBuf,
}

impl Out {
    fn new(name: &str) -> Out {
        let dir = std::env::temp_dir().join(format!("frugal-deploy-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the output dir");
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/app");
        for f in [
            "manifest.json",
            "FrugalTestData.template.json",
            "FrugalTestApp.template.json",
        ] {
            std::fs::copy(fixtures.join(f), dir.join(f)).expect("copy a fixture");
        }
        Out { dir }
    }

    /// Rewrites a template with `edit` applied to its text, and its sha256 in the manifest.
    fn edit_template(&self, stack: &str, edit: impl Fn(&str) -> String) {
        let path = self.dir.join(format!("{stack}.template.json"));
        let old = std::fs::read_to_string(&path).expect("read template");
        let new = edit(&old);
        assert_ne!(old, new, "the edit changed nothing");
        std::fs::write(&path, &new).expect("write template");
        self.edit_manifest(|m| {
            let sha: String = Sha256::digest(new.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            for s in m["stacks"].as_array_mut().into_iter().flatten() {
                if s["name"] == stack {
                    s["sha256"] = sha.clone().into();
                }
            }
        });
    }

    fn edit_manifest(&self, edit: impl Fn(&mut serde_json::Value)) {
        let path = self.dir.join("manifest.json");
        let mut m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read manifest"))
                .expect("manifest json");
        edit(&mut m);
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&m).expect("manifest text"),
        )
        .expect("write manifest");
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `frugal` against the emulator, without a terminal, credentials from the environment only.
fn frugal(endpoint: &str, out: &Out, args: &[&str]) -> Run {
    let home = out.dir.join("home");
    let output: Output = Command::new(env!("CARGO_BIN_EXE_frugal"))
        .args(args)
        .args([
            "--out",
            out.dir.to_str().expect("utf-8 path"),
            "--endpoint-url",
            endpoint,
            "--region",
            "us-east-1",
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run frugal");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

struct Services {
    cfn: aws_sdk_cloudformation::Client,
    s3: aws_sdk_s3::Client,
    ecr: aws_sdk_ecr::Client,
}

impl Services {
    fn new(moto: &Moto) -> Services {
        let conf = moto.sdk_config();
        Services {
            cfn: aws_sdk_cloudformation::Client::new(&conf),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&conf)
                    .force_path_style(true)
                    .build(),
            ),
            ecr: aws_sdk_ecr::Client::new(&conf),
        }
    }

    async fn stack_status(&self, name: &str) -> Option<String> {
        let out = self
            .cfn
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .ok()?;
        out.stacks()
            .first()
            .and_then(|s| s.stack_status())
            .map(|s| s.as_str().to_owned())
    }

    async fn bucket_exists(&self, name: &str) -> bool {
        self.s3.head_bucket().bucket(name).send().await.is_ok()
    }

    async fn bucket_tag(&self, bucket: &str, key: &str) -> Option<String> {
        let out = self
            .s3
            .get_bucket_tagging()
            .bucket(bucket)
            .send()
            .await
            .ok()?;
        out.tag_set()
            .iter()
            .find(|t| t.key() == key)
            .map(|t| t.value().to_owned())
    }

    async fn repository_mutability(&self, name: &str) -> Option<String> {
        let out = self
            .ecr
            .describe_repositories()
            .repository_names(name)
            .send()
            .await
            .ok()?;
        out.repositories()
            .first()
            .and_then(|r| r.image_tag_mutability())
            .map(|m| m.as_str().to_owned())
    }

    async fn exports(&self) -> Vec<String> {
        let out = self.cfn.list_exports().send().await.expect("ListExports");
        out.exports()
            .iter()
            .filter_map(|e| e.name())
            .map(str::to_owned)
            .collect()
    }

    async fn change_sets(&self, stack: &str) -> usize {
        self.cfn
            .list_change_sets()
            .stack_name(stack)
            .send()
            .await
            .map(|o| o.summaries().len())
            .unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_redeploy_update_diff_destroy() {
    let moto = Moto::start();
    let aws = Services::new(&moto);
    let out = Out::new("e2e");
    let url = moto.url();

    // Before: nothing exists.
    assert_eq!(aws.stack_status(DATA).await, None);
    assert!(!aws.bucket_exists("frugal-test-data").await);
    assert_eq!(aws.repository_mutability("frugal-test-images").await, None);

    // Deploy (create): both stacks, in dependency order.
    let r = frugal(&url, &out, &["deploy", "--all", "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("FrugalTestData: change set to create the stack, 5 resource changes"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("add     AWS::S3::Bucket DataBucket (FrugalTestData/DataBucket/Resource)"),
        "{r:?}"
    );
    assert!(r.stdout.contains("IAM broadening: WorkerRole"), "{r:?}");
    let created_data = r
        .stdout
        .find("FrugalTestData: CREATE_COMPLETE")
        .expect("data stack created");
    let created_app = r
        .stdout
        .find("FrugalTestApp: CREATE_COMPLETE")
        .expect("app stack created");
    assert!(created_data < created_app, "dependency order: {r:?}");
    assert_eq!(
        aws.stack_status(DATA).await.as_deref(),
        Some("CREATE_COMPLETE")
    );
    assert_eq!(
        aws.stack_status(APP).await.as_deref(),
        Some("CREATE_COMPLETE")
    );
    assert!(aws.bucket_exists("frugal-test-data").await);
    assert!(aws.bucket_exists("frugal-test-archive").await);
    assert_eq!(
        aws.bucket_tag("frugal-test-data", "Tier").await.as_deref(),
        Some("hot")
    );
    assert_eq!(
        aws.bucket_tag("frugal-test-data", "Env").await.as_deref(),
        Some("dev")
    );
    assert_eq!(
        aws.repository_mutability("frugal-test-images")
            .await
            .as_deref(),
        Some("MUTABLE")
    );
    assert!(aws
        .exports()
        .await
        .contains(&"FrugalTestData-BucketName".to_owned()));
    let described = aws
        .cfn
        .describe_stacks()
        .stack_name(DATA)
        .send()
        .await
        .expect("DescribeStacks");
    let tags = described.stacks()[0].tags();
    assert!(
        tags.iter()
            .any(|t| t.key() == Some("Project") && t.value() == Some("FrugalTest")),
        "{tags:?}"
    );

    // Redeploy: unchanged template and parameters skip the change set altogether.
    // (moto keeps executed change sets listed; count them before and after.)
    let change_sets = aws.change_sets(DATA).await;
    let start = Instant::now();
    let r = frugal(&url, &out, &["deploy", "--all"]);
    let redeploy = start.elapsed();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("FrugalTestData: no changes")
            && r.stdout.contains("FrugalTestApp: no changes"),
        "{r:?}"
    );
    assert!(!r.stdout.contains("change set"), "{r:?}");
    assert_eq!(
        aws.change_sets(DATA).await,
        change_sets,
        "no change set created"
    );
    eprintln!("no-op redeploy of 2 stacks took {redeploy:?}");

    // Change properties and deploy (update).
    out.edit_template(DATA, |t| {
        t.replace("\"Value\": \"hot\"", "\"Value\": \"cold\"")
            .replace("\"MUTABLE\"", "\"IMMUTABLE\"")
    });
    let r = frugal(&url, &out, &["deploy", DATA]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("FrugalTestData: change set to update the stack"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("modify  AWS::S3::Bucket DataBucket"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("FrugalTestData: UPDATE_COMPLETE"),
        "{r:?}"
    );
    assert_eq!(
        aws.bucket_tag("frugal-test-data", "Tier").await.as_deref(),
        Some("cold")
    );
    assert_eq!(
        aws.repository_mutability("frugal-test-images")
            .await
            .as_deref(),
        Some("IMMUTABLE")
    );

    // A change that broadens IAM needs approval: without a terminal or --yes it is refused,
    // and the change set is deleted.
    out.edit_template(DATA, |t| {
        t.replace(
            "\"s3:GetObject\"",
            "\"s3:GetObject\",\n                    \"s3:PutObject\"",
        )
    });
    let change_sets = aws.change_sets(DATA).await;
    let r = frugal(&url, &out, &["deploy", DATA]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("need approval") && r.stderr.contains("broadens IAM: WorkerRole"),
        "{r:?}"
    );
    assert!(r.stderr.contains("s3:PutObject"), "{r:?}");
    assert_eq!(
        aws.stack_status(DATA).await.as_deref(),
        Some("UPDATE_COMPLETE")
    );
    assert_eq!(
        aws.change_sets(DATA).await,
        change_sets,
        "the refused change set is deleted"
    );

    // Diff: the data stack differs by the refused change (exit 1, policy text diff).
    let r = frugal(&url, &out, &["diff", DATA]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("[~] AWS::IAM::Role WorkerRole (FrugalTestData/Worker/Role)"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("    [~] Properties/Policies/0/PolicyDocument\n"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.trim_start().starts_with('+') && l.contains("\"s3:PutObject\"")),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("IAM broadening: WorkerRole Policies/0/PolicyDocument: Allow s3:PutObject"),
        "{r:?}"
    );

    // Diff after an out-of-band change: someone updates the app stack outside frugal.
    let r = frugal(&url, &out, &["diff", APP]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("no differences"), "{r:?}");
    let deployed =
        std::fs::read_to_string(out.dir.join("FrugalTestApp.template.json")).expect("template");
    let tampered = deployed.replace("s3:ListBucket", "s3:GetBucketLocation");
    aws.cfn
        .update_stack()
        .stack_name(APP)
        .template_body(tampered)
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityIam)
        .send()
        .await
        .expect("out-of-band UpdateStack");
    let change_sets = aws.change_sets(APP).await;
    let r = frugal(&url, &out, &["diff", APP, "--change-set"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("[~] AWS::IAM::Role AppRole (FrugalTestApp/App/Role)"),
        "{r:?}"
    );
    assert!(
        r.stdout.lines().any(|l| l.trim_start().starts_with("- ")
            && l.contains("\"Action\": \"s3:GetBucketLocation\"")),
        "{r:?}"
    );
    assert!(
        r.stdout.lines().any(
            |l| l.trim_start().starts_with("+ ") && l.contains("\"Action\": \"s3:ListBucket\"")
        ),
        "{r:?}"
    );
    assert!(r.stdout.contains("IAM broadening: AppRole"), "{r:?}");
    assert!(r.stdout.contains("CloudFormation's change set:"), "{r:?}");
    assert_eq!(
        aws.change_sets(APP).await,
        change_sets,
        "diff deletes its change set"
    );

    // Destroy refuses a protected stack unless told explicitly.
    let protected = Out::new("e2e-protected");
    protected.edit_manifest(|m| m["stacks"][0]["protected"] = true.into());
    let r = frugal(&url, &protected, &["destroy", DATA, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("is protected") && r.stderr.contains("--force-protected"),
        "{r:?}"
    );
    let r = frugal(
        &url,
        &protected,
        &[
            "destroy",
            DATA,
            "--yes",
            "--force-protected",
            "--purge-data",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("--purge-data and --delete-retained are only for non-prod"),
        "{r:?}"
    );
    assert_eq!(
        aws.stack_status(DATA).await.as_deref(),
        Some("UPDATE_COMPLETE")
    );

    // Without a terminal and without --yes, destroy asks nobody and refuses.
    let r = frugal(&url, &out, &["destroy", "--all"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("pass --yes"), "{r:?}");

    // Data to purge: object versions, a delete marker, an image.
    aws.s3
        .put_bucket_versioning()
        .bucket("frugal-test-data")
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("PutBucketVersioning");
    for body in ["v1", "v2"] {
        aws.s3
            .put_object()
            .bucket("frugal-test-data")
            .key("forecast.csv")
            .body(ByteStream::from_static(body.as_bytes()))
            .send()
            .await
            .expect("PutObject");
    }
    aws.s3
        .delete_object()
        .bucket("frugal-test-data")
        .key("forecast.csv")
        .send()
        .await
        .expect("DeleteObject");
    aws.ecr
        .put_image()
        .repository_name("frugal-test-images")
        .image_manifest(frugal_moto::IMAGE_MANIFEST)
        .image_tag("v1")
        .send()
        .await
        .expect("PutImage");

    // Dry run lists deletions and retentions, deletes nothing.
    let r = frugal(&url, &out, &["destroy", "--all", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("FrugalTestData (UPDATE_COMPLETE): 4 resources will be deleted, 1 retained"),
        "{r:?}"
    );
    assert!(r.stdout.contains("retain  AWS::S3::Bucket Archive (FrugalTestData/Archive/Resource) = frugal-test-archive"), "{r:?}");
    assert!(
        r.stdout.find("FrugalTestApp (").expect("app listed")
            < r.stdout.find("FrugalTestData (").expect("data listed")
    );
    assert_eq!(
        aws.stack_status(APP).await.as_deref(),
        Some("UPDATE_COMPLETE")
    );

    // Destroy, reverse dependency order, purging data first.
    let r = frugal(&url, &out, &["destroy", "--all", "--yes", "--purge-data"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("emptied bucket frugal-test-data (3 object versions)"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("emptied repository frugal-test-images (1 images)"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .find("FrugalTestApp: DELETE_COMPLETE")
            .expect("app deleted")
            < r.stdout
                .find("FrugalTestData: DELETE_COMPLETE")
                .expect("data deleted")
    );
    assert!(
        r.stdout
            .contains("FrugalTestData: left behind:\n  retained: AWS::S3::Bucket Archive"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("FrugalTestApp: nothing left behind"),
        "{r:?}"
    );
    assert!(!r.stdout.contains("still exists"), "{r:?}");

    // After: gone, except the retained bucket.
    assert_eq!(aws.stack_status(DATA).await, None);
    assert_eq!(aws.stack_status(APP).await, None);
    assert!(!aws.bucket_exists("frugal-test-data").await);
    assert!(aws.bucket_exists("frugal-test-archive").await, "retained");
    assert_eq!(aws.repository_mutability("frugal-test-images").await, None);
    assert!(!aws
        .exports()
        .await
        .contains(&"FrugalTestData-BucketName".to_owned()));

    // Destroying again finds nothing.
    let r = frugal(&url, &out, &["destroy", "--all", "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("FrugalTestData: not deployed"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_templates_go_through_the_staging_bucket() {
    let moto = Moto::start();
    let aws = Services::new(&moto);
    let out = Out::new("staging");
    // Pad the app stack's template over the inline limit with metadata.
    out.edit_template(APP, |t| {
        let pad = "x".repeat(60_000);
        t.replacen(
            "\"Metadata\": {",
            &format!("\"Metadata\": {{\n        \"padding\": \"{pad}\","),
            1,
        )
    });
    out.edit_manifest(|m| {
        m["stacks"].as_array_mut().map(|s| s.remove(0));
        m["stacks"][0]["dependencies"] = serde_json::json!([]);
    });
    // The app stack imports the data stack's export: provide it without frugal.
    let data =
        std::fs::read_to_string(out.dir.join("FrugalTestData.template.json")).expect("template");
    aws.cfn
        .create_stack()
        .stack_name(DATA)
        .template_body(data)
        .parameters(
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key("Env")
                .parameter_value("dev")
                .build(),
        )
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityIam)
        .send()
        .await
        .expect("CreateStack");
    let r = frugal(&moto.localhost_url(), &out, &["deploy", APP, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("staging it in S3"), "{r:?}");
    assert!(r.stdout.contains("FrugalTestApp: CREATE_COMPLETE"), "{r:?}");
    let objects = aws
        .s3
        .list_objects_v2()
        // The default staging bucket: account (from STS) and region.
        .bucket("frugal-staging-123456789012-us-east-1")
        .send()
        .await
        .expect("ListObjectsV2");
    assert_eq!(objects.contents().len(), 1);
    assert!(objects.contents()[0]
        .key()
        .is_some_and(|k| k.starts_with("templates/FrugalTestApp/")));
    assert_eq!(
        aws.stack_status(APP).await.as_deref(),
        Some("CREATE_COMPLETE")
    );
}
