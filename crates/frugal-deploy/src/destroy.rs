//! `destroy`: delete stacks in reverse dependency order, after listing what goes and
//! what stays; optionally purge data first (non-prod only).

use std::collections::BTreeMap;

use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use serde_json::Value;

use crate::assembly::{Assembly, StackArtifact};
use crate::aws::{aws_error, Clients, Session};
use crate::cfn::{self, StackResource};
use crate::console::{Cancel, Console};
use crate::error::{DeployError, Result};
use crate::events::{failures, root_cause};
use crate::poll::PollConfig;
use crate::state::{classify, destroy_way_out};
use crate::template::{construct_paths, summarize, ResourceSummary};
use crate::watch::Watch;

/// What `destroy` does.
#[derive(Clone, Debug, Default)]
pub struct DestroyOptions {
    /// Stacks to destroy.
    pub stacks: Vec<String>,
    /// Destroy every stack.
    pub all: bool,
    /// Do not ask for the stack name.
    pub yes: bool,
    /// Only list what would be deleted and retained.
    pub dry_run: bool,
    /// Empty buckets (every object version) and repositories first; non-protected stacks only.
    pub purge_data: bool,
    /// With `purge_data`: also delete the buckets, repositories and log groups the
    /// template retains (`DeletionPolicy: Retain`), once the stack is gone — a teardown
    /// that leaves no data behind.
    pub delete_retained: bool,
    /// Destroy protected stacks too (turning termination protection off).
    pub force_protected: bool,
    /// Polling schedule.
    pub poll: PollConfig,
}

/// How one stack's destruction ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestroyOutcome {
    /// There was no such stack.
    NotDeployed,
    /// `--dry-run`: listed only.
    Listed,
    /// Deleted.
    Deleted,
}

/// One destroyed stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestroyedStack {
    /// Stack name.
    pub stack: String,
    /// What happened.
    pub outcome: DestroyOutcome,
    /// Resources that still exist: retained ones, skipped or failed deletions, and
    /// buckets or repositories the service still reports.
    pub left_behind: Vec<String>,
}

/// What `destroy` did, stacks in the order destroyed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DestroyReport {
    /// Per stack.
    pub stacks: Vec<DestroyedStack>,
}

/// A resource of the deployed stack with its physical id.
#[derive(Clone, Debug)]
struct Item {
    summary: ResourceSummary,
    physical_id: Option<String>,
}

fn describe(item: &Item) -> String {
    let mut s = format!("{} {}", item.summary.type_name, item.summary.logical_id);
    if let Some(p) = &item.summary.path {
        s.push_str(&format!(" ({p})"));
    }
    if let Some(id) = &item.physical_id {
        s.push_str(&format!(" = {id}"));
    }
    s
}

/// Destroys the selected stacks, last-deployed first.
pub async fn destroy(
    session: &Session,
    assembly: &Assembly,
    options: &DestroyOptions,
    console: &Console,
    cancel: &Cancel,
) -> Result<DestroyReport> {
    let mut selected = assembly.select(&options.stacks, options.all)?;
    selected.reverse();
    let mut report = DestroyReport::default();
    for stack in selected {
        let done = destroy_one(session, stack, options, console, cancel).await?;
        report.stacks.push(done);
    }
    Ok(report)
}

async fn destroy_one(
    session: &Session,
    stack: &StackArtifact,
    options: &DestroyOptions,
    console: &Console,
    cancel: &Cancel,
) -> Result<DestroyedStack> {
    let name = stack.name().to_owned();
    let clients = session.clients(stack.manifest.region.as_deref());
    let Some(info) = cfn::describe_stack(&clients.cfn, &name).await? else {
        console.line(format!("{name}: not deployed, nothing to destroy"));
        return Ok(DestroyedStack {
            stack: name,
            outcome: DestroyOutcome::NotDeployed,
            left_behind: vec![],
        });
    };
    if let Some(way_out) = destroy_way_out(&name, &classify(Some(&info.status))) {
        return Err(DeployError::StackState {
            stack: name,
            status: info.status,
            way_out,
        });
    }
    let deployed: Value = cfn::get_template(&clients.cfn, &info.id)
        .await?
        .and_then(|b| serde_json::from_str(&b).ok())
        .unwrap_or_else(|| stack.template.clone());
    let physical: BTreeMap<String, StackResource> = cfn::stack_resources(&clients.cfn, &info.id)
        .await?
        .into_iter()
        .map(|r| (r.logical_id.clone(), r))
        .collect();
    let items: Vec<Item> = summarize(&deployed)
        .into_iter()
        .map(|s| Item {
            physical_id: physical
                .get(&s.logical_id)
                .and_then(|r| r.physical_id.clone()),
            summary: s,
        })
        .collect();
    let (retained, deleted): (Vec<&Item>, Vec<&Item>) =
        items.iter().partition(|i| i.summary.retained);
    let (purged, kept): (Vec<&Item>, Vec<&Item>) = retained.into_iter().partition(|i| {
        options.delete_retained
            && i.physical_id.is_some()
            && DATA_TYPES.contains(&i.summary.type_name.as_str())
    });
    let mut heading = format!(
        "{name} ({}): {} resources will be deleted, {} retained",
        info.status,
        deleted.len(),
        kept.len()
    );
    if !purged.is_empty() {
        heading.push_str(&format!(
            ", {} retained ones deleted after the stack (--delete-retained)",
            purged.len()
        ));
    }
    console.line(heading);
    for i in &deleted {
        console.line(format!("  delete  {}", describe(i)));
    }
    for i in &purged {
        console.line(format!("  purge   {}", describe(i)));
    }
    for i in &kept {
        console.line(format!("  retain  {}", describe(i)));
    }
    let protected = stack.manifest.protected || info.termination_protection;
    if protected && (options.purge_data || options.delete_retained) {
        return Err(DeployError::PurgeProtected { stack: name });
    }
    if protected && !options.force_protected && !options.dry_run {
        return Err(DeployError::Protected { stack: name });
    }
    if options.dry_run {
        console.line(format!("{name}: dry run, nothing deleted"));
        return Ok(DestroyedStack {
            stack: name,
            outcome: DestroyOutcome::Listed,
            left_behind: vec![],
        });
    }
    if !options.yes {
        if !console.is_interactive() {
            return Err(DeployError::Declined {
                stack: name,
                what: "destroy without a terminal to confirm on (pass --yes)".into(),
            });
        }
        let answer = console
            .ask(
                &format!("Type the stack name ({name}) to destroy it:"),
                cancel,
            )
            .await;
        if answer.as_deref() != Some(name.as_str()) {
            return Err(DeployError::Declined {
                stack: name,
                what: "destroy".into(),
            });
        }
    }
    if cancel.is_cancelled() {
        return Err(DeployError::Interrupted(format!(
            "{name}: nothing was deleted"
        )));
    }
    if info.termination_protection {
        cfn::set_termination_protection(&clients.cfn, &info.id, false).await?;
        console.line(format!("{name}: termination protection turned off"));
    }
    if options.purge_data {
        for i in &deleted {
            let Some(id) = &i.physical_id else { continue };
            match i.summary.type_name.as_str() {
                "AWS::S3::Bucket" => {
                    let n = empty_bucket(&clients, id).await?;
                    console.line(format!("{name}: emptied bucket {id} ({n} object versions)"));
                }
                "AWS::ECR::Repository" => {
                    let n = empty_repository(&clients, id).await?;
                    console.line(format!("{name}: emptied repository {id} ({n} images)"));
                }
                _ => {}
            }
        }
    }
    let since = cfn::latest_event_id(&clients.cfn, &info.id).await?;
    cfn::delete_stack(
        &clients.cfn,
        &info.id,
        &format!("frugal-destroy-{}", cfn::unique_suffix()),
    )
    .await?;
    let paths = construct_paths(&deployed);
    let progress = console.progress(&name, deleted.len() as u64);
    let watched = Watch {
        cfn: &clients.cfn,
        stack: &info.id,
        name: &name,
        since,
        paths: &paths,
        console,
        progress: &progress,
        cancel,
        poll: options.poll,
        interrupted: format!("stopped waiting for {name}; the deletion goes on. Run `frugal destroy {name}` again to see where it is"),
    }
    .run()
    .await?;
    progress.finish(&watched.status);
    let mut left: Vec<String> = kept
        .iter()
        .map(|i| format!("retained: {}", describe(i)))
        .collect();
    for e in &watched.events {
        if !e.is_stack() && (e.status == "DELETE_SKIPPED" || e.status == "DELETE_FAILED") {
            left.push(format!(
                "{}: {} {}{}",
                e.status,
                e.resource_type,
                e.logical_id,
                e.reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ));
        }
    }
    for i in &deleted {
        if let Some(id) = &i.physical_id {
            if still_exists(&clients, &i.summary.type_name, id).await {
                left.push(format!("still exists: {}", describe(i)));
            }
        }
    }
    if watched.status != "DELETE_COMPLETE" {
        let found = failures(&watched.events, &paths);
        console.line(format!("{name}: {}", watched.status));
        for f in &found {
            console.line(format!("  {f}"));
        }
        if found
            .iter()
            .any(|f| f.reason.contains("not empty") || f.reason.contains("contains images"))
        {
            let way = if protected {
                "empty it by hand (this stack is protected)"
            } else {
                "run again with --purge-data"
            };
            console.line(format!(
                "{name}: a bucket or repository still holds data; {way}, then destroy again"
            ));
        } else {
            console.line(format!(
                "{name}: fix the cause, then run `frugal destroy {name}` again"
            ));
        }
        return Err(DeployError::StackFailed {
            stack: name,
            status: watched.status,
            root_cause: root_cause(&found).cloned().map(Box::new),
            failures: found,
        });
    }
    console.line(format!("{name}: DELETE_COMPLETE"));
    for i in &purged {
        let Some(id) = &i.physical_id else { continue };
        let done = delete_data(&clients, &i.summary.type_name, id).await?;
        console.line(format!("{name}: deleted retained {done}"));
    }
    if left.is_empty() {
        console.line(format!("{name}: nothing left behind"));
    } else {
        console.line(format!("{name}: left behind:"));
        for l in &left {
            console.line(format!("  {l}"));
        }
    }
    Ok(DestroyedStack {
        stack: name,
        outcome: DestroyOutcome::Deleted,
        left_behind: left,
    })
}

/// The retained types `delete_retained` deletes: the stateful types
/// ([`crate::template::STATEFUL_TYPES`]) whose state is data; a budget is not purged.
const DATA_TYPES: &[&str] = &[
    "AWS::S3::Bucket",
    "AWS::ECR::Repository",
    "AWS::Logs::LogGroup",
];

/// Deletes a bucket (emptied first), a repository (with its images) or a log group that
/// its stack retained; says what it deleted. One that is already gone is fine.
async fn delete_data(clients: &Clients, type_name: &str, id: &str) -> Result<String> {
    match type_name {
        "AWS::S3::Bucket" => {
            let n = empty_bucket(clients, id).await?;
            let deleted = clients.s3.delete_bucket().bucket(id).send().await;
            unless_gone("DeleteBucket", deleted, "NoSuchBucket")?;
            Ok(format!("bucket {id} ({n} object versions)"))
        }
        "AWS::ECR::Repository" => {
            let n = empty_repository(clients, id).await?;
            let deleted = clients
                .ecr
                .delete_repository()
                .repository_name(id)
                .force(true)
                .send()
                .await;
            unless_gone("DeleteRepository", deleted, "RepositoryNotFoundException")?;
            Ok(format!("repository {id} ({n} images)"))
        }
        "AWS::Logs::LogGroup" => {
            let deleted = clients
                .logs
                .delete_log_group()
                .log_group_name(id)
                .send()
                .await;
            unless_gone("DeleteLogGroup", deleted, "ResourceNotFoundException")?;
            Ok(format!("log group {id}"))
        }
        other => Err(DeployError::Other(format!(
            "{other} {id}: not a data resource --delete-retained deletes"
        ))),
    }
}

/// The outcome of a delete call: an error with `gone_code` (the target no longer
/// exists) counts as done.
fn unless_gone<T, E, R>(
    operation: &'static str,
    result: std::result::Result<T, SdkError<E, R>>,
    gone_code: &str,
) -> Result<()>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(gone_code) => Ok(()),
        Err(e) => Err(aws_error(operation, e)),
    }
}

/// Whether a bucket or repository still exists (other types are not checked).
async fn still_exists(clients: &Clients, type_name: &str, id: &str) -> bool {
    match type_name {
        "AWS::S3::Bucket" => clients.s3.head_bucket().bucket(id).send().await.is_ok(),
        "AWS::ECR::Repository" => clients
            .ecr
            .describe_repositories()
            .repository_names(id)
            .send()
            .await
            .is_ok(),
        _ => false,
    }
}

/// Deletes every object version and delete marker of a bucket; returns how many.
pub async fn empty_bucket(clients: &Clients, bucket: &str) -> Result<usize> {
    let mut count = 0;
    let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
    loop {
        let page = match clients
            .s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
        {
            Ok(p) => p,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.meta().code() == Some("NoSuchBucket")) =>
            {
                return Ok(count)
            }
            Err(e) => return Err(aws_error("ListObjectVersions", e)),
        };
        let mut ids = Vec::new();
        let entries = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            );
        for (key, version) in entries {
            let Some(key) = key else { continue };
            let id = ObjectIdentifier::builder()
                .key(key)
                .set_version_id(version.map(str::to_owned))
                .build()
                .map_err(|e| DeployError::Other(format!("purging {bucket}: {e}")))?;
            ids.push(id);
        }
        for chunk in ids.chunks(1000) {
            let delete = Delete::builder()
                .set_objects(Some(chunk.to_vec()))
                .quiet(true)
                .build()
                .map_err(|e| DeployError::Other(format!("purging {bucket}: {e}")))?;
            let out = clients
                .s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| aws_error("DeleteObjects", e))?;
            if let Some(e) = out.errors().first() {
                return Err(DeployError::Other(format!(
                    "purging bucket {bucket}: {} {}: {}",
                    e.key().unwrap_or_default(),
                    e.code().unwrap_or_default(),
                    e.message().unwrap_or_default()
                )));
            }
            count += chunk.len();
        }
        if page.is_truncated() == Some(true) {
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
            if key_marker.is_none() && version_marker.is_none() {
                return Ok(count);
            }
        } else {
            return Ok(count);
        }
    }
}

/// Deletes every image of a repository; returns how many.
pub async fn empty_repository(clients: &Clients, repository: &str) -> Result<usize> {
    let mut count = 0;
    loop {
        let page = match clients
            .ecr
            .list_images()
            .repository_name(repository)
            .send()
            .await
        {
            Ok(p) => p,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_repository_not_found_exception()) =>
            {
                return Ok(count)
            }
            Err(e) => return Err(aws_error("ListImages", e)),
        };
        let ids = page.image_ids().to_vec();
        if ids.is_empty() {
            return Ok(count);
        }
        for chunk in ids.chunks(100) {
            let out = clients
                .ecr
                .batch_delete_image()
                .repository_name(repository)
                .set_image_ids(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| aws_error("BatchDeleteImage", e))?;
            if let Some(f) = out.failures().first() {
                return Err(DeployError::Other(format!(
                    "purging repository {repository}: {}",
                    f.failure_reason()
                        .unwrap_or("an image could not be deleted")
                )));
            }
            count += chunk.len();
        }
    }
}
