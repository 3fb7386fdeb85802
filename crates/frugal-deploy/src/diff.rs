//! `diff`: synthesized templates against deployed ones, optionally with CloudFormation's
//! own answer from a change set.

use serde_json::Value;

use crate::assembly::Assembly;
use crate::aws::Session;
use crate::cfn::{self, ChangeSetRequest, TemplateSource};
use crate::console::{Cancel, Console};
use crate::deploy::annotate;
use crate::error::{DeployError, Result};
use crate::plan::{render_changes, PlannedChange};
use crate::poll::{Backoff, PollConfig};
use crate::state::{classify, StackState};
use crate::template::{needs_staging, required_capabilities};
use crate::template_diff::{diff_templates, TemplateDiff};

/// What `diff` does.
#[derive(Clone, Debug, Default)]
pub struct DiffOptions {
    /// Stacks to compare (empty: all).
    pub stacks: Vec<String>,
    /// Also ask CloudFormation through a change set (created, described, deleted).
    pub change_set: bool,
    /// Polling schedule for the change set.
    pub poll: PollConfig,
}

/// One stack's differences.
#[derive(Clone, Debug)]
pub struct StackDiff {
    /// Stack name.
    pub stack: String,
    /// Whether the stack is deployed.
    pub deployed: bool,
    /// Template, parameter-value and tag differences.
    pub diff: TemplateDiff,
    /// CloudFormation's change set changes (`--change-set`, deployed stacks).
    pub change_set: Option<Vec<PlannedChange>>,
}

impl StackDiff {
    /// Whether anything differs.
    pub fn differs(&self) -> bool {
        !self.deployed
            || !self.diff.is_empty()
            || self.change_set.as_ref().is_some_and(|c| !c.is_empty())
    }
}

/// The differences of every compared stack.
#[derive(Clone, Debug, Default)]
pub struct DiffReport {
    /// Per stack, in dependency order.
    pub stacks: Vec<StackDiff>,
}

impl DiffReport {
    /// Whether any stack differs (the command exits 1 then).
    pub fn has_differences(&self) -> bool {
        self.stacks.iter().any(StackDiff::differs)
    }
}

/// Compares the selected stacks with what is deployed and prints the differences.
pub async fn diff(
    session: &Session,
    assembly: &Assembly,
    options: &DiffOptions,
    console: &Console,
    cancel: &Cancel,
) -> Result<DiffReport> {
    let mut report = DiffReport::default();
    for stack in assembly.select(&options.stacks, options.stacks.is_empty())? {
        let name = stack.name();
        let clients = session.clients(stack.manifest.region.as_deref());
        let info = cfn::describe_stack(&clients.cfn, name).await?;
        let state = classify(info.as_ref().map(|i| i.status.as_str()));
        let deployed: Option<Value> = match state {
            StackState::Missing | StackState::Review => None,
            _ => cfn::get_template(&clients.cfn, name)
                .await?
                .and_then(|b| serde_json::from_str(&b).ok()),
        };
        let mut d = diff_templates(deployed.as_ref(), &stack.template, &crate::schema_of);
        if let Some(i) = &info {
            let wanted_params = &stack.manifest.parameters;
            let deployed_params = i
                .parameters
                .iter()
                .filter(|(k, _)| wanted_params.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            d.add_value_changes("Parameter values", &deployed_params, wanted_params);
            d.add_value_changes("Stack tags", &i.tags, &stack.manifest.tags);
        }
        let header = match (&info, deployed.is_some()) {
            (None, _) => format!("Stack {name}: not deployed; everything is new"),
            (Some(i), _) => format!("Stack {name} ({})", i.status),
        };
        console.line(console_bold(console, &header));
        if d.is_empty() {
            console.line("no differences");
        } else {
            console.line(d.render(console.color()));
        }
        let mut change_set = None;
        if options.change_set && state == StackState::Ready && !d.is_empty() {
            let changes = ask_change_set(
                session,
                stack,
                &clients,
                info.as_ref().map(|i| i.id.as_str()).unwrap_or(name),
                options,
                cancel,
            )
            .await?;
            let changes = annotate(changes, deployed.as_ref(), &stack.template, &d);
            console.line("CloudFormation's change set:");
            if changes.is_empty() {
                console.line("  no resource changes");
            } else {
                console.line(render_changes(&changes, console.color()));
            }
            change_set = Some(changes);
        } else if options.change_set && state != StackState::Ready && info.is_some() {
            console.line(format!(
                "(no change set: the stack is {})",
                info.as_ref().map(|i| i.status.as_str()).unwrap_or("")
            ));
        }
        report.stacks.push(StackDiff {
            stack: name.to_owned(),
            deployed: info.is_some(),
            diff: d,
            change_set,
        });
    }
    Ok(report)
}

fn console_bold(console: &Console, s: &str) -> String {
    if console.color() {
        format!("\x1b[1m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

async fn ask_change_set(
    session: &Session,
    stack: &crate::assembly::StackArtifact,
    clients: &crate::aws::Clients,
    stack_id: &str,
    options: &DiffOptions,
    cancel: &Cancel,
) -> Result<Vec<PlannedChange>> {
    let name = stack.name();
    let template = if needs_staging(stack.body.len()) {
        TemplateSource::Url(
            crate::staging::stage_template(
                clients,
                session.endpoint_url(),
                None,
                name,
                &stack.body,
            )
            .await?,
        )
    } else {
        TemplateSource::Body(stack.body.clone())
    };
    let capabilities = required_capabilities(&stack.template);
    let cs_name = format!("frugal-diff-{}", cfn::unique_suffix());
    let request = ChangeSetRequest {
        stack: name,
        name: &cs_name,
        create: false,
        template,
        parameters: &stack.manifest.parameters,
        tags: &stack.manifest.tags,
        capabilities: &capabilities,
    };
    let id = match cfn::create_change_set(&clients.cfn, &request).await {
        Ok(id) => id,
        Err(DeployError::Aws { message, .. }) if cfn::is_empty_change_set(&message) => {
            return Ok(Vec::new())
        }
        Err(e) => return Err(e),
    };
    let mut backoff = Backoff::new(options.poll);
    let result = loop {
        let info = cfn::describe_change_set(&clients.cfn, stack_id, &id).await;
        match info {
            Ok(i) if i.status == "CREATE_COMPLETE" => break Ok(i.changes),
            Ok(i) if i.status == "FAILED" => {
                let reason = i.reason.unwrap_or_default();
                break if cfn::is_empty_change_set(&reason) {
                    Ok(Vec::new())
                } else {
                    Err(DeployError::ChangeSetFailed {
                        stack: name.to_owned(),
                        reason,
                    })
                };
            }
            Ok(_) => {}
            Err(e) => break Err(e),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_delay()) => {}
            _ = cancel.cancelled() => break Err(DeployError::Interrupted("diff stopped; the change set was deleted".into())),
        }
    };
    cfn::delete_change_set(&clients.cfn, stack_id, &id).await?;
    result
}
