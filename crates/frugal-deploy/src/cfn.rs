//! Thin CloudFormation calls, converting responses into the library's plain types.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, Tag, TemplateStage};
use aws_sdk_cloudformation::Client;

use crate::aws::aws_error;
use crate::error::Result;
use crate::events::StackEvent;
use crate::plan::{Action, PlannedChange, Replacement};

/// What `DescribeStacks` says about a stack.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackInfo {
    /// Stack id (ARN).
    pub id: String,
    /// Status.
    pub status: String,
    /// Status reason.
    pub reason: Option<String>,
    /// Parameter values.
    pub parameters: BTreeMap<String, String>,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// Termination protection.
    pub termination_protection: bool,
}

fn to_system_time(t: Option<&aws_smithy_types::DateTime>) -> SystemTime {
    t.and_then(|t| u64::try_from(t.secs()).ok())
        .map(|s| {
            UNIX_EPOCH
                + Duration::from_secs(s)
                + Duration::from_nanos(u64::from(t.map_or(0, |t| t.subsec_nanos())))
        })
        .unwrap_or(UNIX_EPOCH)
}

/// Whether an error says the stack does not exist.
fn is_missing<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ValidationError") && e.message().is_some_and(|m| m.contains("does not exist"))
}

/// The stack, or None when it does not exist.
pub async fn describe_stack(cfn: &Client, name: &str) -> Result<Option<StackInfo>> {
    let out = match cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(is_missing) => return Ok(None),
        Err(e) => return Err(aws_error("DescribeStacks", e)),
    };
    let Some(s) = out.stacks().first() else {
        return Ok(None);
    };
    let status = s
        .stack_status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    if status == "DELETE_COMPLETE" {
        return Ok(None);
    }
    Ok(Some(StackInfo {
        id: s.stack_id().unwrap_or(name).to_owned(),
        status,
        reason: s.stack_status_reason().map(str::to_owned),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    p.parameter_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        termination_protection: s.enable_termination_protection().unwrap_or(false),
    }))
}

/// The deployed template's text (`Original` stage), or None when the stack does not exist.
pub async fn get_template(cfn: &Client, name: &str) -> Result<Option<String>> {
    match cfn
        .get_template()
        .stack_name(name)
        .template_stage(TemplateStage::Original)
        .send()
        .await
    {
        Ok(out) => Ok(out.template_body().map(str::to_owned)),
        Err(e) if e.as_service_error().is_some_and(is_missing) => Ok(None),
        Err(e) => Err(aws_error("GetTemplate", e)),
    }
}

/// Where the template comes from.
#[derive(Clone, Debug)]
pub enum TemplateSource {
    /// Inline text.
    Body(String),
    /// A staged object's URL.
    Url(String),
}

/// A change set request.
#[derive(Clone, Debug)]
pub struct ChangeSetRequest<'a> {
    /// Stack name.
    pub stack: &'a str,
    /// Change set name.
    pub name: &'a str,
    /// CREATE (new stack) or UPDATE.
    pub create: bool,
    /// The template.
    pub template: TemplateSource,
    /// Parameter values.
    pub parameters: &'a BTreeMap<String, String>,
    /// Stack tags.
    pub tags: &'a BTreeMap<String, String>,
    /// Capabilities.
    pub capabilities: &'a [&'static str],
}

/// Creates a change set; returns its id.
pub async fn create_change_set(cfn: &Client, req: &ChangeSetRequest<'_>) -> Result<String> {
    let mut call = cfn
        .create_change_set()
        .stack_name(req.stack)
        .change_set_name(req.name)
        .change_set_type(if req.create {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        })
        .description("frugal deploy");
    call = match &req.template {
        TemplateSource::Body(b) => call.template_body(b),
        TemplateSource::Url(u) => call.template_url(u),
    };
    for (k, v) in req.parameters {
        call = call.parameters(
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build(),
        );
    }
    for (k, v) in req.tags {
        call = call.tags(Tag::builder().key(k).value(v).build());
    }
    for c in req.capabilities {
        call = call.capabilities(Capability::from(*c));
    }
    let out = call
        .send()
        .await
        .map_err(|e| aws_error("CreateChangeSet", e))?;
    Ok(out.id().unwrap_or(req.name).to_owned())
}

/// A described change set.
#[derive(Clone, Debug, Default)]
pub struct ChangeSetInfo {
    /// `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `FAILED`…
    pub status: String,
    /// Why it failed.
    pub reason: Option<String>,
    /// Execution status (`AVAILABLE`, `UNAVAILABLE`, …).
    pub execution_status: Option<String>,
    /// The resource changes.
    pub changes: Vec<PlannedChange>,
}

/// Whether a failed change set failed only because nothing changes.
pub fn is_empty_change_set(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

/// Describes a change set (all pages of changes).
pub async fn describe_change_set(cfn: &Client, stack: &str, id: &str) -> Result<ChangeSetInfo> {
    let mut info = ChangeSetInfo::default();
    let mut token: Option<String> = None;
    loop {
        let out = cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(id)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| aws_error("DescribeChangeSet", e))?;
        info.status = out
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        info.reason = out.status_reason().map(str::to_owned);
        info.execution_status = out.execution_status().map(|s| s.as_str().to_owned());
        for c in out.changes() {
            let Some(rc) = c.resource_change() else {
                continue;
            };
            info.changes.push(PlannedChange {
                action: Action::parse(rc.action().map(|a| a.as_str()).unwrap_or("Modify")),
                logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: rc.physical_resource_id().map(str::to_owned),
                resource_type: rc.resource_type().unwrap_or_default().to_owned(),
                replacement: rc
                    .replacement()
                    .and_then(|r| Replacement::parse(r.as_str())),
                scope: rc.scope().iter().map(|s| s.as_str().to_owned()).collect(),
                details: rc
                    .details()
                    .iter()
                    .filter_map(|d| d.target())
                    .map(|t| {
                        let name = t
                            .name()
                            .or(t.path())
                            .or(t.attribute().map(|a| a.as_str()))
                            .unwrap_or("?");
                        match t.requires_recreation().map(|r| r.as_str()) {
                            Some(r @ ("Always" | "Conditionally")) => {
                                format!("{name} (recreation: {r})")
                            }
                            _ => name.to_owned(),
                        }
                    })
                    .collect(),
                path: None,
                retained: false,
            });
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(info),
        }
    }
}

/// Executes a change set.
pub async fn execute_change_set(cfn: &Client, stack: &str, id: &str, token: &str) -> Result<()> {
    cfn.execute_change_set()
        .stack_name(stack)
        .change_set_name(id)
        .client_request_token(token)
        .send()
        .await
        .map_err(|e| aws_error("ExecuteChangeSet", e))?;
    Ok(())
}

/// Deletes a change set.
pub async fn delete_change_set(cfn: &Client, stack: &str, id: &str) -> Result<()> {
    cfn.delete_change_set()
        .stack_name(stack)
        .change_set_name(id)
        .send()
        .await
        .map_err(|e| aws_error("DeleteChangeSet", e))?;
    Ok(())
}

/// Deletes a stack.
pub async fn delete_stack(cfn: &Client, stack: &str, token: &str) -> Result<()> {
    cfn.delete_stack()
        .stack_name(stack)
        .client_request_token(token)
        .send()
        .await
        .map_err(|e| aws_error("DeleteStack", e))?;
    Ok(())
}

/// Turns termination protection on or off.
pub async fn set_termination_protection(cfn: &Client, stack: &str, on: bool) -> Result<()> {
    cfn.update_termination_protection()
        .stack_name(stack)
        .enable_termination_protection(on)
        .send()
        .await
        .map_err(|e| aws_error("UpdateTerminationProtection", e))?;
    Ok(())
}

/// The id of the stack's newest event (the marker to watch from), None when it has none.
pub async fn latest_event_id(cfn: &Client, stack: &str) -> Result<Option<String>> {
    match cfn.describe_stack_events().stack_name(stack).send().await {
        Ok(p) => Ok(p
            .stack_events()
            .first()
            .and_then(|e| e.event_id())
            .map(str::to_owned)),
        Err(e) if e.as_service_error().is_some_and(is_missing) => Ok(None),
        Err(e) => Err(aws_error("DescribeStackEvents", e)),
    }
}

/// The stack's events newer than the event `since` (None: all), oldest first. Pages back
/// until `since` is found, at most `max_pages` pages.
pub async fn events_since(
    cfn: &Client,
    stack: &str,
    since: Option<&str>,
    max_pages: usize,
) -> Result<Vec<StackEvent>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..max_pages {
        let page = match cfn
            .describe_stack_events()
            .stack_name(stack)
            .set_next_token(token.take())
            .send()
            .await
        {
            Ok(p) => p,
            Err(e) if e.as_service_error().is_some_and(is_missing) => break,
            Err(e) => return Err(aws_error("DescribeStackEvents", e)),
        };
        for e in page.stack_events() {
            let id = e.event_id().unwrap_or_default();
            if since == Some(id) {
                out.reverse();
                return Ok(out);
            }
            out.push(StackEvent {
                id: id.to_owned(),
                timestamp: to_system_time(e.timestamp()),
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: e.physical_resource_id().map(str::to_owned),
                resource_type: e.resource_type().unwrap_or_default().to_owned(),
                status: e
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_owned),
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    out.reverse();
    Ok(out)
}

/// A stack's resource: logical id, physical id, type, status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackResource {
    /// Logical id.
    pub logical_id: String,
    /// Physical id.
    pub physical_id: Option<String>,
    /// Type.
    pub resource_type: String,
    /// Status.
    pub status: String,
}

/// The stack's resources (empty when the stack does not exist).
pub async fn stack_resources(cfn: &Client, stack: &str) -> Result<Vec<StackResource>> {
    match cfn
        .describe_stack_resources()
        .stack_name(stack)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .stack_resources()
            .iter()
            .map(|r| StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: r.physical_resource_id().map(str::to_owned),
                resource_type: r.resource_type().unwrap_or_default().to_owned(),
                status: r
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            })
            .collect()),
        Err(e) if e.as_service_error().is_some_and(is_missing) => Ok(Vec::new()),
        Err(e) => Err(aws_error("DescribeStackResources", e)),
    }
}

/// A unique-enough name part from the clock (change sets, request tokens).
pub fn unique_suffix() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}{:03}", now.as_secs(), now.subsec_millis())
}
