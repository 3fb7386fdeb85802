//! Synthesis rules of the core model, exercised with two small resource types declared
//! here (the generated AWS types live in `frugal-cfn`, which depends on this crate).

use frugal_core::{
    fns, App, Check, CheckContext, CheckedResource, Expr, Finding, Output, Parameter,
    ParameterType, ResourceOptions, ResourceSchema, ResourceType, TagFormat, Value,
};
use serde::Serialize;
use serde_json::json;

#[derive(Serialize, Default)]
struct Bucket {
    #[serde(rename = "BucketName", skip_serializing_if = "Option::is_none")]
    bucket_name: Option<Expr<String>>,
    #[serde(rename = "Tags", skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<Value>>,
}
impl ResourceType for Bucket {
    const SCHEMA: &'static ResourceSchema = &ResourceSchema {
        type_name: "AWS::S3::Bucket",
        attributes: &["Arn", "DomainName"],
        create_only: &["BucketName"],
        required: &[],
        tagging: TagFormat::List("Tags"),
    };
}

#[derive(Serialize)]
struct TopicPolicy {
    #[serde(rename = "PolicyDocument")]
    policy_document: Value,
    #[serde(rename = "Topics")]
    topics: Expr<Vec<Expr<String>>>,
}
impl ResourceType for TopicPolicy {
    const SCHEMA: &'static ResourceSchema = &ResourceSchema {
        type_name: "AWS::SNS::TopicPolicy",
        attributes: &["Id"],
        create_only: &[],
        required: &["PolicyDocument", "Topics"],
        tagging: TagFormat::None,
    };
}

#[derive(Serialize, Default)]
struct Nodegroup {
    #[serde(rename = "NodegroupName", skip_serializing_if = "Option::is_none")]
    name: Option<Expr<String>>,
}
impl ResourceType for Nodegroup {
    const SCHEMA: &'static ResourceSchema = &ResourceSchema {
        type_name: "AWS::EKS::Nodegroup",
        attributes: &["Arn"],
        create_only: &[],
        required: &[],
        tagging: TagFormat::Map("Tags"),
    };
}

fn tagged_app() -> App {
    let mut app = App::new("test");
    app.set_tag("Project", "RetailForecast");
    app
}

fn errors_of(app: App) -> String {
    app.synth().expect_err("synthesis should fail").to_string()
}

#[test]
fn dangling_ref_names_both_ends() {
    let mut app = tagged_app();
    let mut other = app.new_stack("Other");
    let ghost = other.root().add_resource("Ghost", Bucket::default());
    // `ghost` belongs to stack `Other`, which is never added to the app.
    let mut stack = app.new_stack("Main");
    stack.root().add_resource(
        "Policy",
        TopicPolicy {
            policy_document: json!({}).into(),
            topics: vec![ghost.ref_()].into(),
        },
    );
    app.add_stack(stack);
    let err = errors_of(app);
    assert!(err.contains("Main/Policy"), "{err}");
    assert!(err.contains("`Ghost`"), "{err}");
    assert!(err.contains("Properties.Topics[0]"), "{err}");
}

#[test]
fn get_att_of_unknown_attribute_fails_naming_both_ends() {
    let mut app = tagged_app();
    let mut stack = app.new_stack("Main");
    let bucket = stack.root().add_resource("Data", Bucket::default());
    stack.root().add_resource(
        "Policy",
        TopicPolicy {
            policy_document: json!({}).into(),
            topics: vec![bucket.get_att("Nope")].into(),
        },
    );
    app.add_stack(stack);
    let err = errors_of(app);
    assert!(err.contains("Main/Policy"), "{err}");
    assert!(err.contains("`Data.Nope`"), "{err}");
    assert!(
        err.contains("AWS::S3::Bucket has no attribute `Nope`"),
        "{err}"
    );
}

#[test]
fn sub_reference_to_missing_resource_fails() {
    let mut app = tagged_app();
    let mut stack = app.new_stack("Main");
    stack.root().add_resource(
        "Data",
        Bucket {
            bucket_name: Some(fns::sub("${Missing}-data", [])),
            tags: None,
        },
    );
    app.add_stack(stack);
    let err = errors_of(app);
    assert!(
        err.contains("Main/Data") && err.contains("`Missing`"),
        "{err}"
    );
}

#[test]
fn duplicate_logical_ids_fail() {
    let mut app = tagged_app();
    let mut stack = app.new_stack("Main");
    stack.root().add_resource("Data-Bucket", Bucket::default());
    stack.root().add_resource("DataBucket", Bucket::default());
    app.add_stack(stack);
    let err = errors_of(app);
    assert!(
        err.contains("logical id `DataBucket` is already used by `Main/Data-Bucket`"),
        "{err}"
    );
}

#[test]
fn logical_ids_are_readable_paths() {
    let mut app = tagged_app();
    let mut stack = app.new_stack("Main");
    let mut root = stack.root();
    let mut construct = root.child("DataBucket");
    let main = construct.add_resource("Resource", Bucket::default());
    let extra = construct.add_resource("Access-Logs", Bucket::default());
    assert_eq!(main.logical_ref().logical_id, "DataBucket");
    assert_eq!(extra.logical_ref().logical_id, "DataBucketAccessLogs");
    assert_eq!(main.path().to_string(), "Main/DataBucket/Resource");
    app.add_stack(stack);
    let asm = app.synth().expect("valid");
    let t = asm.stacks[0].template();
    assert_eq!(
        t["Resources"]["DataBucket"]["Metadata"]["frugal:path"],
        "Main/DataBucket/Resource"
    );
}

#[test]
fn tags_reach_every_taggable_resource_and_no_other() {
    let mut app = tagged_app();
    app.require_tags(["Project", "Environment"]);
    let mut stack = app.new_stack("Main");
    stack.set_tag("Environment", "dev");
    let bucket = stack.root().add_resource(
        "Data",
        Bucket {
            bucket_name: None,
            tags: Some(vec![json!({"Key": "Owner", "Value": "ml"}).into()]),
        },
    );
    stack.root().add_resource("Nodes", Nodegroup::default());
    stack.root().add_resource(
        "Policy",
        TopicPolicy {
            policy_document: json!({}).into(),
            topics: vec![bucket.ref_()].into(),
        },
    );
    app.add_stack(stack);
    let asm = app.synth().expect("valid");
    let r = &asm.stacks[0].template()["Resources"];
    assert_eq!(
        r["Data"]["Properties"]["Tags"],
        json!([
            {"Key": "Environment", "Value": "dev"},
            {"Key": "Owner", "Value": "ml"},
            {"Key": "Project", "Value": "RetailForecast"}
        ])
    );
    assert_eq!(
        r["Nodes"]["Properties"]["Tags"],
        json!({"Environment": "dev", "Project": "RetailForecast"})
    );
    assert!(r["Policy"]["Properties"].get("Tags").is_none());
}

#[test]
fn missing_required_tag_fails() {
    let mut app = tagged_app();
    app.require_tags(["Project", "Environment"]);
    let mut stack = app.new_stack("Main");
    stack.root().add_resource("Data", Bucket::default());
    app.add_stack(stack);
    let err = errors_of(app);
    assert!(
        err.contains("Main/Data: Tags: taggable resource lacks required tag `Environment`"),
        "{err}"
    );
}

#[test]
fn missing_required_property_fails() {
    #[derive(Serialize, Default)]
    struct Loose {}
    impl ResourceType for Loose {
        const SCHEMA: &'static ResourceSchema = &ResourceSchema {
            type_name: "AWS::Test::Loose",
            attributes: &[],
            create_only: &[],
            required: &["Name"],
            tagging: TagFormat::None,
        };
    }
    let mut app = tagged_app();
    let mut stack = app.new_stack("Main");
    stack.root().add_resource("Thing", Loose {});
    app.add_stack(stack);
    assert!(errors_of(app).contains("Main/Thing: Name: AWS::Test::Loose requires property `Name`"));
}

#[test]
fn cross_stack_reference_becomes_export_and_import_with_dependency() {
    let mut app = tagged_app();
    let mut data = app.new_stack("Data");
    let bucket = data.root().add_resource("Bucket", Bucket::default());
    let mut compute = app.new_stack("Compute");
    compute.root().add_resource(
        "Policy",
        TopicPolicy {
            policy_document: json!({}).into(),
            topics: vec![bucket.arn()].into(),
        },
    );
    // Added before its dependency on purpose: the manifest must still order it after.
    app.add_stack(compute);
    app.add_stack(data);
    let asm = app.synth().expect("valid");
    let names: Vec<&str> = asm
        .manifest
        .stacks
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["Data", "Compute"]);
    assert_eq!(asm.manifest.stacks[1].dependencies, ["Data"]);
    let data_t = asm.stack("Data").expect("data").template();
    assert_eq!(
        data_t["Outputs"]["ExportBucketArn"],
        json!({"Value": {"Fn::GetAtt": ["Bucket", "Arn"]}, "Export": {"Name": "Data:Bucket:Arn"}})
    );
    let compute_t = asm.stack("Compute").expect("compute").template();
    assert_eq!(
        compute_t["Resources"]["Policy"]["Properties"]["Topics"],
        json!([{"Fn::ImportValue": "Data:Bucket:Arn"}])
    );
    assert!(!asm.stacks.iter().any(|s| s.text.contains("frugal:stack")));
}

#[test]
fn stack_cycle_fails() {
    let mut app = tagged_app();
    let mut a = app.new_stack("A");
    let mut b = app.new_stack("B");
    let ba = a.root().add_resource("Bucket", Bucket::default());
    let bb = b.root().add_resource("Bucket", Bucket::default());
    a.root().add_resource(
        "P",
        TopicPolicy {
            policy_document: json!({}).into(),
            topics: vec![bb.ref_()].into(),
        },
    );
    b.root().add_resource(
        "P",
        TopicPolicy {
            policy_document: json!({}).into(),
            topics: vec![ba.ref_()].into(),
        },
    );
    app.add_stack(a);
    app.add_stack(b);
    assert!(errors_of(app).contains("cycle"));
}

#[test]
fn resource_limit_is_enforced_unless_waived() {
    let build = |waive: bool| {
        let mut app = tagged_app();
        let mut s = app.new_stack("Big");
        for i in 0..501 {
            s.root().add_resource(&format!("B{i}"), Bucket::default());
        }
        if waive {
            s.waive_resource_limit("benchmark only; never deployed");
        }
        app.add_stack(s);
        app.synth()
    };
    assert!(build(false)
        .expect_err("limit")
        .to_string()
        .contains("CloudFormation allows 500"));
    assert_eq!(
        build(true).expect("waived").manifest.stacks[0].resource_count,
        501
    );
}

struct NoPublicNames;
impl Check for NoPublicNames {
    fn rule(&self) -> &'static str {
        "TEST-NAMED-BUCKET"
    }
    fn check(&self, _: &CheckContext<'_>, r: &CheckedResource<'_>, findings: &mut Vec<Finding>) {
        if r.type_name == "AWS::S3::Bucket" && r.properties.get("BucketName").is_some() {
            findings.push(Finding::new("BucketName", "named"));
        }
    }
}

#[test]
fn checks_fail_synth_unless_acknowledged_with_reason() {
    let build = |ack: bool| {
        let mut app = tagged_app();
        app.add_check(Box::new(NoPublicNames));
        let mut s = app.new_stack("Main");
        let mut root = s.root();
        let b = root.add_resource(
            "Data",
            Bucket {
                bucket_name: Some("x".into()),
                tags: None,
            },
        );
        if ack {
            root.acknowledge(&b, "TEST-NAMED-BUCKET", "imported bucket keeps its name");
        }
        app.add_stack(s);
        app.synth()
    };
    let err = build(false).expect_err("unacknowledged").to_string();
    assert!(
        err.contains("Main/Data: BucketName: [TEST-NAMED-BUCKET] named"),
        "{err}"
    );
    let asm = build(true).expect("acknowledged");
    assert_eq!(asm.acknowledged.len(), 1);
    assert_eq!(asm.acknowledged[0].reason, "imported bucket keeps its name");
    let meta =
        &asm.stacks[0].template()["Resources"]["Data"]["Metadata"]["frugal:acknowledgements"];
    assert_eq!(meta[0]["rule"], "TEST-NAMED-BUCKET");
}

fn small_app() -> App {
    let mut app = tagged_app();
    let mut s = app.new_stack("Small");
    s.set_description("A small stack");
    let env = s.add_parameter(
        "Env",
        Parameter::new(ParameterType::String, "Environment")
            .default_value("dev")
            .value("dev"),
    );
    let b = s.root().add_resource_with(
        "Data",
        Bucket {
            bucket_name: Some(fns::sub("data-${Env}-${AWS::AccountId}", [])),
            tags: None,
        },
        ResourceOptions::retain(),
    );
    s.root().add_resource(
        "Policy",
        TopicPolicy {
            policy_document: json!({"Statement": []}).into(),
            topics: vec![b.ref_(), env.as_string()].into(),
        },
    );
    s.add_output(
        "BucketArn",
        Output {
            value: b.arn().into(),
            description: None,
            export_name: None,
        },
    );
    app.add_stack(s);
    app
}

#[test]
fn synthesis_is_byte_identical_and_recorded_in_manifest() {
    let a = small_app().synth().expect("valid");
    let b = small_app().synth().expect("valid");
    assert_eq!(a.outputs(), b.outputs());
    let m = &a.manifest.stacks[0];
    assert_eq!(m.template, "Small.template.json");
    assert_eq!(m.parameters.get("Env").map(String::as_str), Some("dev"));
    assert_eq!(m.resource_count, 2);
    assert_eq!(m.sha256.len(), 64);
    let t = a.stacks[0].template();
    assert_eq!(t["Resources"]["Data"]["DeletionPolicy"], "Retain");
    assert_eq!(t["Resources"]["Data"]["UpdateReplacePolicy"], "Retain");
    assert_eq!(
        t["Resources"]["Policy"]["Properties"]["Topics"],
        json!([{"Ref": "Data"}, {"Ref": "Env"}])
    );
    insta::assert_snapshot!(a.stacks[0].text);
}

#[test]
fn write_removes_stale_templates_and_check_sees_differences() {
    let dir = std::env::temp_dir().join(format!("frugal-core-write-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let asm = small_app().synth().expect("valid");
    asm.write(&dir).expect("write");
    assert!(asm.differences(&dir).is_empty());
    std::fs::write(dir.join("Small.template.json"), "{}").expect("tamper");
    assert_eq!(asm.differences(&dir), ["Small.template.json"]);
    // A later app without the stack removes its template.
    let mut empty = tagged_app();
    empty.add_stack(empty.new_stack("Other"));
    empty.synth().expect("valid").write(&dir).expect("write");
    assert!(!dir.join("Small.template.json").exists());
    assert!(dir.join("Other.template.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
