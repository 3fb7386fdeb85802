//! Failure paths a local emulator cannot produce, replayed through the real SDK client
//! with `aws-smithy-mocks`: every response is the XML CloudFormation sends (awsQuery
//! protocol), event sequences and `ResourceStatusReason` texts as real stacks report them.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::types::ChangeSetStatus;
use aws_sdk_cloudformation::Client;
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode};
use frugal_deploy::{
    Assembly, Cancel, Clients, Console, DeployError, DeployOptions, DiffOptions, PollConfig,
    Session, StackOutcome,
};

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const STACK: &str = "Storage";
const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/Storage/5c6ba2f0-b1a5-11ef-9b5e-0affd3e1a5c7";
const CHANGE_SET_ID: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:changeSet/frugal-1733220000000/0d7c5a3e-8f4e-4b7a-9d55-0d6e3c1f2a11";

const TEMPLATE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "DataBucket": {
      "Type": "AWS::S3::Bucket",
      "Properties": {"BucketName": "retail-data"},
      "Metadata": {"frugal:path": "Storage/Data/Bucket"}
    },
    "Logs": {
      "Type": "AWS::Logs::LogGroup",
      "Properties": {"LogGroupName": "/retail/app", "RetentionInDays": 7},
      "Metadata": {"frugal:path": "Storage/Logs/Resource"}
    }
  }
}
"#;

/// A one-stack app in a temporary directory.
struct App {
    dir: std::path::PathBuf,
}

impl App {
    fn new(test: &str, protected: bool) -> App {
        let dir =
            std::env::temp_dir().join(format!("frugal-replayed-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create dir");
        std::fs::write(dir.join("Storage.template.json"), TEMPLATE).expect("write template");
        let manifest = serde_json::json!({
            "version": 1, "app": "retail", "tags": {"Project": "Retail"},
            "stacks": [{"name": STACK, "template": "Storage.template.json", "tags": {"Project": "Retail"},
                        "parameters": {}, "dependencies": [], "resource_count": 2, "sha256": "", "protected": protected}]
        });
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).expect("write manifest");
        App { dir }
    }

    fn assembly(&self) -> Assembly {
        Assembly::load(&self.dir).expect("load the app")
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn session(rules: &[&Rule]) -> Session {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for r in rules {
        interceptor = interceptor.with_rule(r);
    }
    let credentials = SharedCredentialsProvider::new(Credentials::new(
        "AKIDEXAMPLE",
        "secret",
        None,
        None,
        "test",
    ));
    let conf = aws_sdk_cloudformation::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials.clone())
        .http_client(create_mock_http_client())
        .interceptor(interceptor)
        .retry_config(
            frugal_deploy::aws::retry_config()
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .build();
    let other = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .http_client(create_mock_http_client())
        .build();
    Session::from_clients(Clients {
        cfn: Client::from_conf(conf),
        s3: aws_sdk_s3::Client::new(&other),
        ecr: aws_sdk_ecr::Client::new(&other),
        sts: aws_sdk_sts::Client::new(&other),
        logs: aws_sdk_cloudwatchlogs::Client::new(&other),
        region: "us-east-1".into(),
    })
}

fn options() -> DeployOptions {
    DeployOptions {
        stacks: vec![STACK.into()],
        poll: PollConfig::immediate(),
        ..Default::default()
    }
}

// ---- Responses as CloudFormation writes them.

fn request_id() -> &'static str {
    "<ResponseMetadata><RequestId>8f2c6d1e-3b4a-4c5d-9e6f-7a8b9c0d1e2f</RequestId></ResponseMetadata>"
}

fn error(status: u16, code: &str, message: &str) -> (u16, String) {
    (
        status,
        format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>8f2c6d1e-3b4a-4c5d-9e6f-7a8b9c0d1e2f</RequestId></ErrorResponse>"
        ),
    )
}

fn missing_stack() -> (u16, String) {
    error(
        400,
        "ValidationError",
        &format!("Stack with id {STACK} does not exist"),
    )
}

fn stack(status: &str, reason: Option<&str>, protection: bool) -> (u16, String) {
    let reason = reason
        .map(|r| format!("<StackStatusReason>{r}</StackStatusReason>"))
        .unwrap_or_default();
    (
        200,
        format!(
            "<DescribeStacksResponse xmlns=\"{NS}\"><DescribeStacksResult><Stacks><member>\
             <StackId>{STACK_ID}</StackId><StackName>{STACK}</StackName>\
             <CreationTime>2024-12-03T10:00:00.412Z</CreationTime>\
             <StackStatus>{status}</StackStatus>{reason}\
             <DisableRollback>false</DisableRollback>\
             <EnableTerminationProtection>{protection}</EnableTerminationProtection>\
             <Tags><member><Key>Project</Key><Value>Retail</Value></member></Tags>\
             <DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus></DriftInformation>\
             </member></Stacks></DescribeStacksResult>{}</DescribeStacksResponse>",
            request_id()
        ),
    )
}

fn template_body(body: &str) -> (u16, String) {
    let escaped = body
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    (
        200,
        format!(
            "<GetTemplateResponse xmlns=\"{NS}\"><GetTemplateResult><TemplateBody>{escaped}</TemplateBody>\
             <StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>\
             </GetTemplateResult>{}</GetTemplateResponse>",
            request_id()
        ),
    )
}

fn change_set_created() -> (u16, String) {
    (
        200,
        format!(
            "<CreateChangeSetResponse xmlns=\"{NS}\"><CreateChangeSetResult><Id>{CHANGE_SET_ID}</Id>\
             <StackId>{STACK_ID}</StackId></CreateChangeSetResult>{}</CreateChangeSetResponse>",
            request_id()
        ),
    )
}

fn change_set(status: &str, reason: Option<&str>, changes: &str) -> (u16, String) {
    let reason = reason
        .map(|r| format!("<StatusReason>{r}</StatusReason>"))
        .unwrap_or_default();
    let execution = if status == "CREATE_COMPLETE" {
        "AVAILABLE"
    } else {
        "UNAVAILABLE"
    };
    (
        200,
        format!(
            "<DescribeChangeSetResponse xmlns=\"{NS}\"><DescribeChangeSetResult>\
             <ChangeSetName>frugal-1733220000000</ChangeSetName><ChangeSetId>{CHANGE_SET_ID}</ChangeSetId>\
             <StackId>{STACK_ID}</StackId><StackName>{STACK}</StackName><Description>frugal deploy</Description>\
             <CreationTime>2024-12-03T10:00:01.127Z</CreationTime><ExecutionStatus>{execution}</ExecutionStatus>\
             <Status>{status}</Status>{reason}<NotificationARNs/><Capabilities/>\
             <Changes>{changes}</Changes><IncludeNestedStacks>false</IncludeNestedStacks>\
             </DescribeChangeSetResult>{}</DescribeChangeSetResponse>",
            request_id()
        ),
    )
}

fn add(logical: &str, ty: &str) -> String {
    format!(
        "<member><Type>Resource</Type><ResourceChange><Action>Add</Action><LogicalResourceId>{logical}</LogicalResourceId>\
         <ResourceType>{ty}</ResourceType><Scope/><Details/></ResourceChange></member>"
    )
}

fn modify(
    logical: &str,
    physical: &str,
    ty: &str,
    property: &str,
    replacement: &str,
    recreation: &str,
) -> String {
    format!(
        "<member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>{logical}</LogicalResourceId>\
         <PhysicalResourceId>{physical}</PhysicalResourceId><ResourceType>{ty}</ResourceType>\
         <Replacement>{replacement}</Replacement><Scope><member>Properties</member></Scope>\
         <Details><member><Target><Attribute>Properties</Attribute><Name>{property}</Name>\
         <RequiresRecreation>{recreation}</RequiresRecreation></Target><Evaluation>Static</Evaluation>\
         <ChangeSource>DirectModification</ChangeSource></member></Details></ResourceChange></member>"
    )
}

fn remove(logical: &str, physical: &str, ty: &str) -> String {
    format!(
        "<member><Type>Resource</Type><ResourceChange><Action>Remove</Action><LogicalResourceId>{logical}</LogicalResourceId>\
         <PhysicalResourceId>{physical}</PhysicalResourceId><ResourceType>{ty}</ResourceType>\
         <Scope/><Details/></ResourceChange></member>"
    )
}

/// One event: (seconds after 10:00:00, logical id, physical id, type, status, reason).
type Ev<'a> = (u32, &'a str, &'a str, &'a str, &'a str, &'a str);

/// `DescribeStackEvents` for `events` given oldest first (the service answers newest first).
fn events(events: &[Ev<'_>]) -> (u16, String) {
    let members: String = events
        .iter()
        .rev()
        .map(|(t, logical, physical, ty, status, reason)| {
            let ts = format!("2024-12-03T10:00:{t:02}.{:03}Z", 100 + t);
            let id = if *ty == "AWS::CloudFormation::Stack" {
                format!("{status}-5c6ba2f0-b1a5-11ef-{t:04}-0affd3e1a5c7")
            } else {
                format!("{logical}-{status}-{ts}")
            };
            let reason = if reason.is_empty() {
                String::new()
            } else {
                format!("<ResourceStatusReason>{}</ResourceStatusReason>", reason.replace('"', "&quot;"))
            };
            format!(
                "<member><StackId>{STACK_ID}</StackId><EventId>{id}</EventId><StackName>{STACK}</StackName>\
                 <LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{physical}</PhysicalResourceId>\
                 <ResourceType>{ty}</ResourceType><Timestamp>{ts}</Timestamp>\
                 <ResourceStatus>{status}</ResourceStatus>{reason}</member>"
            )
        })
        .collect();
    (
        200,
        format!(
            "<DescribeStackEventsResponse xmlns=\"{NS}\"><DescribeStackEventsResult><StackEvents>{members}</StackEvents>\
             </DescribeStackEventsResult>{}</DescribeStackEventsResponse>",
            request_id()
        ),
    )
}

fn empty(operation: &str) -> (u16, String) {
    (
        200,
        format!(
            "<{operation}Response xmlns=\"{NS}\"><{operation}Result/>{}</{operation}Response>",
            request_id()
        ),
    )
}

const S: &str = "AWS::CloudFormation::Stack";
const REVIEW: Ev<'static> = (
    0,
    STACK,
    STACK_ID,
    S,
    "REVIEW_IN_PROGRESS",
    "User Initiated",
);

/// A rule answering each call with the next response, the last one repeatedly.
macro_rules! replay {
    ($op:path, [$($resp:expr),+ $(,)?]) => {{
        let seq = mock!($op).sequence();
        $(let (status, body) = $resp; let seq = seq.http_status(status, Some(body));)+
        seq.repeatedly().build()
    }};
}

fn bucket_exists_failure() -> Vec<Ev<'static>> {
    vec![
        REVIEW,
        (2, STACK, STACK_ID, S, "CREATE_IN_PROGRESS", "User Initiated"),
        (3, "Logs", "", "AWS::Logs::LogGroup", "CREATE_IN_PROGRESS", ""),
        (3, "DataBucket", "", "AWS::S3::Bucket", "CREATE_IN_PROGRESS", ""),
        (4, "Logs", "/retail/app", "AWS::Logs::LogGroup", "CREATE_IN_PROGRESS", "Resource creation Initiated"),
        (
            5,
            "DataBucket",
            "retail-data",
            "AWS::S3::Bucket",
            "CREATE_FAILED",
            "Resource handler returned message: \"retail-data already exists (Service: S3, Status Code: 0, Request ID: null)\" (RequestToken: 4b9ec4b2-3c1a-2b36-8d0f-5e9a0e6e2f11, HandlerErrorCode: AlreadyExists)",
        ),
        (6, "Logs", "/retail/app", "AWS::Logs::LogGroup", "CREATE_FAILED", "Resource creation cancelled"),
        (
            7,
            STACK,
            STACK_ID,
            S,
            "ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to create: [DataBucket, Logs]. Rollback requested by user.",
        ),
        (8, "Logs", "/retail/app", "AWS::Logs::LogGroup", "DELETE_IN_PROGRESS", ""),
        (9, "Logs", "/retail/app", "AWS::Logs::LogGroup", "DELETE_COMPLETE", ""),
        (9, "DataBucket", "retail-data", "AWS::S3::Bucket", "DELETE_COMPLETE", ""),
        (10, STACK, STACK_ID, S, "ROLLBACK_COMPLETE", ""),
    ]
}

#[tokio::test]
async fn failed_create_reports_the_root_cause_and_survives_rollback() {
    let app = App::new("create-fails", false);
    let all = bucket_exists_failure();
    let describe = replay!(
        Client::describe_stacks,
        [
            missing_stack(),
            stack("CREATE_IN_PROGRESS", Some("User Initiated"), false),
            stack("ROLLBACK_IN_PROGRESS", Some(all[7].5), false),
            stack("ROLLBACK_COMPLETE", None, false),
        ]
    );
    let create = replay!(Client::create_change_set, [change_set_created()]);
    let describe_cs = replay!(
        Client::describe_change_set,
        [
            change_set("CREATE_IN_PROGRESS", None, ""),
            change_set(
                "CREATE_COMPLETE",
                None,
                &(add("DataBucket", "AWS::S3::Bucket") + &add("Logs", "AWS::Logs::LogGroup"))
            ),
        ]
    );
    let stack_events = replay!(
        Client::describe_stack_events,
        [
            events(&all[..1]),
            events(&all[..5]),
            events(&all[..8]),
            events(&all)
        ]
    );
    let execute = replay!(Client::execute_change_set, [empty("ExecuteChangeSet")]);
    let session = session(&[&describe, &create, &describe_cs, &stack_events, &execute]);
    let console = Console::capture(None);
    let opts = DeployOptions {
        yes: true,
        ..options()
    };

    let err = frugal_deploy::deploy(&session, &app.assembly(), &opts, &console, &Cancel::new())
        .await
        .unwrap_err();

    let DeployError::StackFailed {
        stack,
        status,
        root_cause,
        failures,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (stack.as_str(), status.as_str()),
        (STACK, "ROLLBACK_COMPLETE")
    );
    let root = root_cause.as_ref().expect("a root cause");
    assert_eq!(root.logical_id, "DataBucket");
    assert_eq!(root.path.as_deref(), Some("Storage/Data/Bucket"));
    assert!(
        root.reason.contains("retail-data already exists"),
        "{root:?}"
    );
    assert_eq!(
        failures.len(),
        2,
        "both failures kept after rollback: {failures:?}"
    );
    assert_eq!(failures[1].reason, "Resource creation cancelled");
    assert!(err.to_string().contains("retail-data already exists"));
    assert_eq!(execute.num_calls(), 1);

    let lines = console.captured().join("\n");
    assert!(
        lines.contains("Storage: change set to create the stack, 2 resource changes"),
        "{lines}"
    );
    assert!(lines.contains("| CREATE_FAILED                | AWS::S3::Bucket              | Storage/Data/Bucket | Resource handler returned message"), "{lines}");
    assert!(
        lines.contains("Storage | 10:00:10 | ROLLBACK_COMPLETE"),
        "{lines}"
    );
    assert!(
        lines.contains(
            "Storage: root cause: CREATE_FAILED AWS::S3::Bucket Storage/Data/Bucket (DataBucket)"
        ),
        "{lines}"
    );
    assert!(lines.contains("--replace-failed"), "{lines}");
    // Every event shows once, oldest first, none from before the execution.
    assert_eq!(
        lines.matches("| Resource creation cancelled").count(),
        1,
        "{lines}"
    );
    assert!(!lines.contains("REVIEW_IN_PROGRESS"), "{lines}");
}

#[tokio::test]
async fn failed_update_rolls_back_with_the_first_real_reason() {
    let app = App::new("update-fails", false);
    let evs: Vec<Ev<'static>> = vec![
        (0, STACK, STACK_ID, S, "UPDATE_COMPLETE", ""),
        (2, STACK, STACK_ID, S, "UPDATE_IN_PROGRESS", "User Initiated"),
        (3, "Logs", "/retail/app", "AWS::Logs::LogGroup", "UPDATE_IN_PROGRESS", ""),
        (
            4,
            "Logs",
            "/retail/app",
            "AWS::Logs::LogGroup",
            "UPDATE_FAILED",
            "Resource handler returned message: \"Invalid request provided: AWS::Logs::LogGroup (Service: CloudWatchLogs, Status Code: 400, Request ID: 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0)\" (RequestToken: 2a3b4c5d-6e7f-8091-a2b3-c4d5e6f70819, HandlerErrorCode: InvalidRequest)",
        ),
        (5, STACK, STACK_ID, S, "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: [Logs]. "),
        (6, "Logs", "/retail/app", "AWS::Logs::LogGroup", "UPDATE_COMPLETE", ""),
        (7, STACK, STACK_ID, S, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", ""),
        (8, STACK, STACK_ID, S, "UPDATE_ROLLBACK_COMPLETE", ""),
    ];
    let deployed = TEMPLATE.replace("\"RetentionInDays\": 7", "\"RetentionInDays\": 3");
    let describe = replay!(
        Client::describe_stacks,
        [
            stack("UPDATE_COMPLETE", None, false),
            stack("UPDATE_IN_PROGRESS", None, false),
            stack("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None, false),
            stack("UPDATE_ROLLBACK_COMPLETE", None, false),
        ]
    );
    let get = replay!(Client::get_template, [template_body(&deployed)]);
    let create = replay!(Client::create_change_set, [change_set_created()]);
    let describe_cs = replay!(
        Client::describe_change_set,
        [change_set(
            "CREATE_COMPLETE",
            None,
            &modify(
                "Logs",
                "/retail/app",
                "AWS::Logs::LogGroup",
                "RetentionInDays",
                "False",
                "Never"
            )
        )]
    );
    let stack_events = replay!(
        Client::describe_stack_events,
        [
            events(&evs[..1]),
            events(&evs[..4]),
            events(&evs[..7]),
            events(&evs)
        ]
    );
    let execute = replay!(Client::execute_change_set, [empty("ExecuteChangeSet")]);
    let session = session(&[
        &describe,
        &get,
        &create,
        &describe_cs,
        &stack_events,
        &execute,
    ]);
    let console = Console::capture(None);

    let err = frugal_deploy::deploy(
        &session,
        &app.assembly(),
        &options(),
        &console,
        &Cancel::new(),
    )
    .await
    .unwrap_err();

    let DeployError::StackFailed {
        status, root_cause, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(status, "UPDATE_ROLLBACK_COMPLETE");
    let root = root_cause.as_ref().expect("root cause");
    assert_eq!(
        (root.logical_id.as_str(), root.status.as_str()),
        ("Logs", "UPDATE_FAILED")
    );
    assert!(root.reason.contains("Invalid request provided"));
    let lines = console.captured().join("\n");
    assert!(
        lines
            .contains("modify  AWS::Logs::LogGroup Logs (Storage/Logs/Resource) [RetentionInDays]"),
        "{lines}"
    );
}

#[tokio::test]
async fn rollback_complete_needs_replace_failed_which_deletes_and_recreates() {
    let app = App::new("rollback-complete", false);
    let describe = replay!(
        Client::describe_stacks,
        [stack("ROLLBACK_COMPLETE", None, false)]
    );
    let session1 = session(&[&describe]);
    let err = frugal_deploy::deploy(
        &session1,
        &app.assembly(),
        &options(),
        &Console::capture(None),
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, DeployError::StackState { .. }), "{err:?}");
    assert!(
        text.contains("stack Storage is ROLLBACK_COMPLETE"),
        "{text}"
    );
    assert!(
        text.contains("`frugal deploy Storage --replace-failed` deletes it and creates it again"),
        "{text}"
    );

    let describe = replay!(
        Client::describe_stacks,
        [
            stack("ROLLBACK_COMPLETE", None, false),
            stack("DELETE_IN_PROGRESS", None, false),
            stack("DELETE_COMPLETE", None, false),
            stack("CREATE_IN_PROGRESS", None, false),
            stack("CREATE_COMPLETE", None, false),
        ]
    );
    let delete = replay!(Client::delete_stack, [empty("DeleteStack")]);
    let create = replay!(Client::create_change_set, [change_set_created()]);
    let describe_cs = replay!(
        Client::describe_change_set,
        [change_set(
            "CREATE_COMPLETE",
            None,
            &add("DataBucket", "AWS::S3::Bucket")
        )]
    );
    let stack_events = replay!(Client::describe_stack_events, [events(&[REVIEW])]);
    let execute = replay!(Client::execute_change_set, [empty("ExecuteChangeSet")]);
    let session2 = session(&[
        &describe,
        &delete,
        &create,
        &describe_cs,
        &stack_events,
        &execute,
    ]);
    let opts = DeployOptions {
        replace_failed: true,
        yes: true,
        ..options()
    };
    let console = Console::capture(None);
    let report = frugal_deploy::deploy(&session2, &app.assembly(), &opts, &console, &Cancel::new())
        .await
        .expect("deployed");
    assert_eq!(
        report.stacks,
        [(
            STACK.to_owned(),
            StackOutcome::Deployed {
                status: "CREATE_COMPLETE".into()
            }
        )]
    );
    assert_eq!(delete.num_calls(), 1);
    assert_eq!(execute.num_calls(), 1);
    assert!(console
        .captured()
        .join("\n")
        .contains("deleting the stack that failed to create (ROLLBACK_COMPLETE)"));
}

#[tokio::test]
async fn update_rollback_failed_names_the_way_out() {
    let app = App::new("urf", false);
    let describe = replay!(
        Client::describe_stacks,
        [stack(
            "UPDATE_ROLLBACK_FAILED",
            Some("The following resource(s) failed to update: [Logs]. "),
            false
        )]
    );
    let err = frugal_deploy::deploy(
        &session(&[&describe]),
        &app.assembly(),
        &options(),
        &Console::capture(None),
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("stack Storage is UPDATE_ROLLBACK_FAILED"),
        "{text}"
    );
    assert!(
        text.contains("aws cloudformation continue-update-rollback --stack-name Storage"),
        "{text}"
    );
}

#[tokio::test]
async fn busy_stack_is_refused_or_waited_for() {
    let app = App::new("busy", false);
    let describe = replay!(
        Client::describe_stacks,
        [stack("UPDATE_IN_PROGRESS", Some("User Initiated"), false)]
    );
    let err = frugal_deploy::deploy(
        &session(&[&describe]),
        &app.assembly(),
        &options(),
        &Console::capture(None),
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("stack Storage is UPDATE_IN_PROGRESS: another operation is running on it"),
        "{text}"
    );
    assert!(text.contains("`frugal deploy Storage --wait`"), "{text}");

    // With --wait: follow the running operation, then deploy (nothing to change).
    let evs: Vec<Ev<'static>> = vec![
        (
            1,
            STACK,
            STACK_ID,
            S,
            "UPDATE_IN_PROGRESS",
            "User Initiated",
        ),
        (
            3,
            "Logs",
            "/retail/app",
            "AWS::Logs::LogGroup",
            "UPDATE_COMPLETE",
            "",
        ),
        (4, STACK, STACK_ID, S, "UPDATE_COMPLETE", ""),
    ];
    let describe = replay!(
        Client::describe_stacks,
        [
            stack("UPDATE_IN_PROGRESS", None, false),
            stack("UPDATE_IN_PROGRESS", None, false),
            stack("UPDATE_COMPLETE", None, false),
        ]
    );
    let stack_events = replay!(
        Client::describe_stack_events,
        [events(&evs[..1]), events(&evs)]
    );
    let get = replay!(Client::get_template, [template_body(TEMPLATE)]);
    let create = replay!(Client::create_change_set, [change_set_created()]);
    let session = session(&[&describe, &stack_events, &get, &create]);
    let console = Console::capture(None);
    let opts = DeployOptions {
        wait_busy: true,
        ..options()
    };
    let report = frugal_deploy::deploy(&session, &app.assembly(), &opts, &console, &Cancel::new())
        .await
        .expect("deploy");
    assert_eq!(report.stacks, [(STACK.to_owned(), StackOutcome::NoChanges)]);
    assert_eq!(
        create.num_calls(),
        0,
        "unchanged template and parameters skip the change set"
    );
    let lines = console.captured().join("\n");
    assert!(
        lines.contains("Storage: waiting for the running operation (UPDATE_IN_PROGRESS) to finish"),
        "{lines}"
    );
    assert!(
        lines.contains(
            "UPDATE_COMPLETE              | AWS::Logs::LogGroup          | Storage/Logs/Resource"
        ),
        "{lines}"
    );
    assert!(lines.contains("Storage: no changes"), "{lines}");
}

#[tokio::test]
async fn empty_change_set_prints_no_changes_and_is_deleted() {
    let app = App::new("empty", false);
    let describe = replay!(
        Client::describe_stacks,
        [stack("UPDATE_COMPLETE", None, false)]
    );
    // Deployed from YAML by hand: the texts differ, the stacks do not.
    let get = replay!(
        Client::get_template,
        [template_body(
            "Resources:\n  DataBucket:\n    Type: AWS::S3::Bucket\n"
        )]
    );
    let create = replay!(Client::create_change_set, [change_set_created()]);
    let describe_cs = replay!(
        Client::describe_change_set,
        [change_set(
            "FAILED",
            Some("The submitted information didn't contain changes. Submit different information to create a change set."),
            ""
        )]
    );
    let delete_cs = replay!(Client::delete_change_set, [empty("DeleteChangeSet")]);
    let execute = replay!(Client::execute_change_set, [empty("ExecuteChangeSet")]);
    let session = session(&[&describe, &get, &create, &describe_cs, &delete_cs, &execute]);
    let console = Console::capture(None);
    let report = frugal_deploy::deploy(
        &session,
        &app.assembly(),
        &options(),
        &console,
        &Cancel::new(),
    )
    .await
    .expect("deploy");
    assert_eq!(report.stacks, [(STACK.to_owned(), StackOutcome::NoChanges)]);
    assert_eq!(delete_cs.num_calls(), 1);
    assert_eq!(execute.num_calls(), 0);
    assert_eq!(console.captured(), ["Storage: no changes"]);
}

fn risky_update() -> Vec<Rule> {
    vec![
        replay!(Client::describe_stacks, [stack("UPDATE_COMPLETE", None, false), stack("UPDATE_IN_PROGRESS", None, false), stack("UPDATE_COMPLETE", None, false)]),
        replay!(Client::get_template, [template_body(&TEMPLATE.replace("\"Logs\": {", "\"Old\": {\"Type\": \"AWS::S3::Bucket\"},\n    \"Logs\": {"))]),
        replay!(Client::create_change_set, [change_set_created()]),
        replay!(
            Client::describe_change_set,
            [change_set(
                "CREATE_COMPLETE",
                None,
                &(remove("Old", "retail-old", "AWS::S3::Bucket")
                    + &modify("DataBucket", "retail-data-1", "AWS::S3::Bucket", "BucketName", "True", "Always"))
            )]
        ),
        replay!(Client::describe_stack_events, [events(&[(0, STACK, STACK_ID, S, "UPDATE_COMPLETE", "")])]),
        replay!(Client::delete_change_set, [empty("DeleteChangeSet")]),
        replay!(Client::execute_change_set, [empty("ExecuteChangeSet")]),
        replay!(Client::update_termination_protection, [(200, format!("<UpdateTerminationProtectionResponse xmlns=\"{NS}\"><UpdateTerminationProtectionResult><StackId>{STACK_ID}</StackId></UpdateTerminationProtectionResult>{}</UpdateTerminationProtectionResponse>", request_id()))]),
    ]
}

#[tokio::test]
async fn stateful_deletes_and_replacements_need_approval() {
    let app = App::new("approval", true);
    // No terminal, no --yes: refused, change set deleted, nothing executed.
    let rules = risky_update();
    let refs: Vec<&Rule> = rules.iter().collect();
    let err = frugal_deploy::deploy(
        &session(&refs),
        &app.assembly(),
        &options(),
        &Console::capture(None),
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    let DeployError::ApprovalRequired { reasons, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        reasons,
        &[
            "deletes stateful AWS::S3::Bucket Old",
            "replaces stateful AWS::S3::Bucket DataBucket"
        ]
    );
    assert!(err.to_string().contains("pass --yes"));
    assert_eq!(rules[5].num_calls(), 1, "change set deleted");
    assert_eq!(rules[6].num_calls(), 0, "not executed");

    // On a terminal, "n" declines.
    let rules = risky_update();
    let refs: Vec<&Rule> = rules.iter().collect();
    let console = Console::capture(Some(vec!["n".into()]));
    let err = frugal_deploy::deploy(
        &session(&refs),
        &app.assembly(),
        &options(),
        &console,
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DeployError::Declined { .. }), "{err:?}");
    assert_eq!(rules[6].num_calls(), 0);
    let lines = console.captured().join("\n");
    assert!(lines.contains("modify  AWS::S3::Bucket DataBucket (Storage/Data/Bucket) replacement: yes [BucketName (recreation: Always)]"), "{lines}");
    assert!(lines.contains("remove  AWS::S3::Bucket Old"), "{lines}");
    assert!(
        lines.contains("Deploy these changes to Storage? [y/N]"),
        "{lines}"
    );

    // "y" executes; the protected (prod) stack gets termination protection.
    let rules = risky_update();
    let refs: Vec<&Rule> = rules.iter().collect();
    let console = Console::capture(Some(vec!["y".into()]));
    let report = frugal_deploy::deploy(
        &session(&refs),
        &app.assembly(),
        &options(),
        &console,
        &Cancel::new(),
    )
    .await
    .expect("deploy");
    assert_eq!(
        report.stacks,
        [(
            STACK.to_owned(),
            StackOutcome::Deployed {
                status: "UPDATE_COMPLETE".into()
            }
        )]
    );
    assert_eq!(rules[6].num_calls(), 1);
    assert_eq!(rules[7].num_calls(), 1, "termination protection enabled");
    assert!(console
        .captured()
        .join("\n")
        .contains("Storage: termination protection enabled"));
}

#[tokio::test]
async fn ctrl_c_before_execution_deletes_the_change_set() {
    let app = App::new("ctrlc-before", false);
    let cancel = Cancel::new();
    let trigger = cancel.clone();
    let describe = replay!(Client::describe_stacks, [missing_stack()]);
    let create = replay!(Client::create_change_set, [change_set_created()]);
    // Ctrl-C arrives while CloudFormation computes the change set.
    let describe_cs = mock!(Client::describe_change_set).then_compute_output(move |_| {
        trigger.cancel();
        DescribeChangeSetOutput::builder()
            .status(ChangeSetStatus::CreatePending)
            .build()
    });
    let delete_stack = replay!(Client::delete_stack, [empty("DeleteStack")]);
    let execute = replay!(Client::execute_change_set, [empty("ExecuteChangeSet")]);
    let session = session(&[&describe, &create, &describe_cs, &delete_stack, &execute]);
    let err = frugal_deploy::deploy(
        &session,
        &app.assembly(),
        &DeployOptions {
            yes: true,
            ..options()
        },
        &Console::capture(None),
        &cancel,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DeployError::Interrupted(_)), "{err:?}");
    assert!(err.to_string().contains("nothing was executed"), "{err}");
    assert_eq!(execute.num_calls(), 0);
    assert_eq!(
        delete_stack.num_calls(),
        1,
        "the REVIEW_IN_PROGRESS stack of the CREATE change set is removed"
    );
}

#[tokio::test]
async fn ctrl_c_while_executing_stops_waiting_and_says_how_to_resume() {
    let app = App::new("ctrlc-during", false);
    let cancel = Cancel::new();
    let trigger = Arc::new(cancel.clone());
    let describe = replay!(
        Client::describe_stacks,
        [
            stack("UPDATE_COMPLETE", None, false),
            stack("UPDATE_IN_PROGRESS", None, false)
        ]
    );
    let get = replay!(Client::get_template, [template_body("{}")]);
    let create = replay!(Client::create_change_set, [change_set_created()]);
    let describe_cs = replay!(
        Client::describe_change_set,
        [change_set(
            "CREATE_COMPLETE",
            None,
            &modify(
                "Logs",
                "/retail/app",
                "AWS::Logs::LogGroup",
                "RetentionInDays",
                "False",
                "Never"
            )
        )]
    );
    let stack_events = replay!(
        Client::describe_stack_events,
        [events(&[(0, STACK, STACK_ID, S, "UPDATE_COMPLETE", "")])]
    );
    // Ctrl-C arrives right after the change set starts executing.
    let execute = mock!(Client::execute_change_set).then_compute_output(move |_| {
        trigger.cancel();
        ExecuteChangeSetOutput::builder().build()
    });
    let delete_cs = replay!(Client::delete_change_set, [empty("DeleteChangeSet")]);
    let session = session(&[
        &describe,
        &get,
        &create,
        &describe_cs,
        &stack_events,
        &execute,
        &delete_cs,
    ]);
    let err = frugal_deploy::deploy(
        &session,
        &app.assembly(),
        &DeployOptions {
            yes: true,
            ..options()
        },
        &Console::capture(None),
        &cancel,
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, DeployError::Interrupted(_)), "{err:?}");
    assert!(
        text.contains("CloudFormation goes on with the change set on its own"),
        "{text}"
    );
    assert!(text.contains("`frugal deploy Storage --wait`"), "{text}");
    assert_eq!(
        delete_cs.num_calls(),
        0,
        "an executing change set is left alone"
    );
}

#[tokio::test]
async fn throttling_and_unavailability_are_retried_with_backoff() {
    let app = App::new("throttle", false);
    let (s, throttled) = error(400, "Throttling", "Rate exceeded");
    let unavailable = (
        503,
        format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>\
             <Message>Service is unavailable. Please try again.</Message></Error>\
             <RequestId>8f2c6d1e-3b4a-4c5d-9e6f-7a8b9c0d1e2f</RequestId></ErrorResponse>"
        ),
    );
    let describe = replay!(
        Client::describe_stacks,
        [
            (s, throttled.clone()),
            unavailable,
            (s, throttled),
            stack("UPDATE_COMPLETE", None, false)
        ]
    );
    let get = replay!(
        Client::get_template,
        [
            error(400, "Throttling", "Rate exceeded"),
            template_body(TEMPLATE)
        ]
    );
    let session = session(&[&describe, &get]);
    let opts = DiffOptions {
        stacks: vec![STACK.into()],
        change_set: false,
        poll: PollConfig::immediate(),
    };
    let console = Console::capture(None);
    let report = frugal_deploy::diff(&session, &app.assembly(), &opts, &console, &Cancel::new())
        .await
        .expect("diff");
    assert!(!report.has_differences(), "{:?}", console.captured());
    assert_eq!(describe.num_calls(), 4);
    assert_eq!(get.num_calls(), 2);
}

#[tokio::test]
async fn expired_credentials_get_one_clear_line() {
    let app = App::new("expired", false);
    let describe = replay!(
        Client::describe_stacks,
        [error(
            403,
            "ExpiredToken",
            "The security token included in the request is expired"
        )]
    );
    let err = frugal_deploy::deploy(
        &session(&[&describe]),
        &app.assembly(),
        &options(),
        &Console::capture(None),
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DeployError::ExpiredCredentials(_)), "{err:?}");
    assert!(err.is_credentials());
    let text = err.to_string();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("AWS credentials have expired (ExpiredToken: The security token included in the request is expired)"), "{text}");
    assert!(text.contains("aws sso login"), "{text}");
    assert_eq!(describe.num_calls(), 1, "not retried");
}

#[tokio::test]
async fn an_answer_without_an_error_code_reads_as_one_line() {
    let app = App::new("proxy", false);
    // A proxy's error page instead of CloudFormation's XML: no code, no message.
    let describe = replay!(
        Client::describe_stacks,
        [(
            400,
            "<html><body><h1>400 Bad Request</h1></body></html>".to_owned()
        )]
    );
    let err = frugal_deploy::deploy(
        &session(&[&describe]),
        &app.assembly(),
        &options(),
        &Console::capture(None),
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, DeployError::Aws { code: None, .. }),
        "{err:?}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("DescribeStacks: "), "{text}");
    assert!(!text.contains("raw: Response"), "no SDK debug dump: {text}");
}

#[tokio::test]
async fn no_execute_leaves_the_change_set_for_review() {
    let app = App::new("no-execute", false);
    let describe = replay!(
        Client::describe_stacks,
        [stack("UPDATE_COMPLETE", None, false)]
    );
    let get = replay!(Client::get_template, [template_body("{}")]);
    let create = replay!(Client::create_change_set, [change_set_created()]);
    let describe_cs = replay!(
        Client::describe_change_set,
        [change_set(
            "CREATE_COMPLETE",
            None,
            &modify(
                "Logs",
                "/retail/app",
                "AWS::Logs::LogGroup",
                "LogGroupName",
                "Conditional",
                "Conditionally"
            )
        )]
    );
    let execute = replay!(Client::execute_change_set, [empty("ExecuteChangeSet")]);
    let delete_cs = replay!(Client::delete_change_set, [empty("DeleteChangeSet")]);
    let session = session(&[&describe, &get, &create, &describe_cs, &execute, &delete_cs]);
    let console = Console::capture(None);
    let opts = DeployOptions {
        execute: false,
        ..options()
    };
    let report = frugal_deploy::deploy(&session, &app.assembly(), &opts, &console, &Cancel::new())
        .await
        .expect("deploy");
    assert_eq!(
        report.stacks,
        [(
            STACK.to_owned(),
            StackOutcome::ChangeSetCreated {
                id: CHANGE_SET_ID.into()
            }
        )]
    );
    assert_eq!((execute.num_calls(), delete_cs.num_calls()), (0, 0));
    let lines = console.captured().join("\n");
    assert!(
        lines.contains(
            "modify  AWS::Logs::LogGroup Logs (Storage/Logs/Resource) replacement: conditional"
        ),
        "{lines}"
    );
    assert!(
        lines.contains(&format!(
            "aws cloudformation execute-change-set --change-set-name {CHANGE_SET_ID}"
        )),
        "{lines}"
    );
}

fn stack_resources() -> (u16, String) {
    let member = |logical: &str, physical: &str, ty: &str| {
        format!(
            "<member><StackId>{STACK_ID}</StackId><StackName>{STACK}</StackName>\
             <LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{physical}</PhysicalResourceId>\
             <ResourceType>{ty}</ResourceType><Timestamp>2024-12-03T09:00:00.000Z</Timestamp>\
             <ResourceStatus>CREATE_COMPLETE</ResourceStatus>\
             <DriftInformation><StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus></DriftInformation></member>"
        )
    };
    (
        200,
        format!(
            "<DescribeStackResourcesResponse xmlns=\"{NS}\"><DescribeStackResourcesResult><StackResources>{}{}\
             </StackResources></DescribeStackResourcesResult>{}</DescribeStackResourcesResponse>",
            member("DataBucket", "retail-data", "AWS::S3::Bucket"),
            member("Logs", "/retail/app", "AWS::Logs::LogGroup"),
            request_id()
        ),
    )
}

#[tokio::test]
async fn destroy_failure_names_the_bucket_and_the_way_out() {
    let app = App::new("destroy-fails", false);
    let evs: Vec<Ev<'static>> = vec![
        (0, STACK, STACK_ID, S, "UPDATE_COMPLETE", ""),
        (2, STACK, STACK_ID, S, "DELETE_IN_PROGRESS", "User Initiated"),
        (3, "Logs", "/retail/app", "AWS::Logs::LogGroup", "DELETE_COMPLETE", ""),
        (
            4,
            "DataBucket",
            "retail-data",
            "AWS::S3::Bucket",
            "DELETE_FAILED",
            "Resource handler returned message: \"The bucket you tried to delete is not empty (Service: S3, Status Code: 409, Request ID: 9XQ4W1T0R5Y7Z2A3, Extended Request ID: null)\" (RequestToken: 7c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f, HandlerErrorCode: GeneralServiceException)",
        ),
        (5, STACK, STACK_ID, S, "DELETE_FAILED", "The following resource(s) failed to delete: [DataBucket]. "),
    ];
    let describe = replay!(
        Client::describe_stacks,
        [
            stack("UPDATE_COMPLETE", None, false),
            stack("DELETE_IN_PROGRESS", None, false),
            stack("DELETE_FAILED", None, false)
        ]
    );
    let get = replay!(Client::get_template, [template_body(TEMPLATE)]);
    let resources = replay!(Client::describe_stack_resources, [stack_resources()]);
    let stack_events = replay!(
        Client::describe_stack_events,
        [events(&evs[..1]), events(&evs)]
    );
    let delete = replay!(Client::delete_stack, [empty("DeleteStack")]);
    let session = session(&[&describe, &get, &resources, &stack_events, &delete]);
    let console = Console::capture(Some(vec![STACK.into()]));
    let opts = frugal_deploy::DestroyOptions {
        stacks: vec![STACK.into()],
        poll: PollConfig::immediate(),
        ..Default::default()
    };

    let err = frugal_deploy::destroy(&session, &app.assembly(), &opts, &console, &Cancel::new())
        .await
        .unwrap_err();

    let DeployError::StackFailed {
        status, root_cause, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(status, "DELETE_FAILED");
    assert!(root_cause
        .as_ref()
        .is_some_and(|r| r.logical_id == "DataBucket" && r.reason.contains("is not empty")));
    assert_eq!(delete.num_calls(), 1);
    let lines = console.captured().join("\n");
    assert!(
        lines.contains("Storage (UPDATE_COMPLETE): 2 resources will be deleted, 0 retained"),
        "{lines}"
    );
    assert!(
        lines.contains("  delete  AWS::S3::Bucket DataBucket (Storage/Data/Bucket) = retail-data"),
        "{lines}"
    );
    assert!(
        lines.contains("Type the stack name (Storage) to destroy it:"),
        "{lines}"
    );
    assert!(
        lines.contains(
            "Storage: a bucket or repository still holds data; run again with --purge-data"
        ),
        "{lines}"
    );
}

#[tokio::test]
async fn destroy_refuses_a_stack_protected_in_aws_and_a_wrong_name() {
    let app = App::new("destroy-protected", false);
    let describe = replay!(
        Client::describe_stacks,
        [stack("UPDATE_COMPLETE", None, true)]
    );
    let get = replay!(Client::get_template, [template_body(TEMPLATE)]);
    let resources = replay!(Client::describe_stack_resources, [stack_resources()]);
    let delete = replay!(Client::delete_stack, [empty("DeleteStack")]);
    let session1 = session(&[&describe, &get, &resources, &delete]);
    let opts = frugal_deploy::DestroyOptions {
        stacks: vec![STACK.into()],
        yes: true,
        ..Default::default()
    };
    let err = frugal_deploy::destroy(
        &session1,
        &app.assembly(),
        &opts,
        &Console::capture(None),
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DeployError::Protected { .. }), "{err:?}");

    let describe = replay!(
        Client::describe_stacks,
        [stack("UPDATE_COMPLETE", None, false)]
    );
    let session2 = session(&[&describe, &get, &resources, &delete]);
    let opts = frugal_deploy::DestroyOptions {
        stacks: vec![STACK.into()],
        ..Default::default()
    };
    let console = Console::capture(Some(vec!["Storag".into()]));
    let err = frugal_deploy::destroy(&session2, &app.assembly(), &opts, &console, &Cancel::new())
        .await
        .unwrap_err();
    assert!(matches!(err, DeployError::Declined { .. }), "{err:?}");
    assert_eq!(delete.num_calls(), 0);
}
