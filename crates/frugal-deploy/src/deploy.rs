//! `deploy`: change sets in dependency order, approval, execution with live events.

use serde_json::Value;
use tokio::task::JoinSet;

use crate::assembly::{waves, Assembly, StackArtifact};
use crate::aws::{Clients, Session};
use crate::cfn::{self, ChangeSetRequest, TemplateSource};
use crate::console::{Cancel, Console};
use crate::error::{DeployError, Result};
use crate::events::{failures, root_cause};
use crate::iam::Broadening;
use crate::plan::{
    approval_reasons, render_changes, risks, ApprovalLevel, PlannedChange, Replacement,
};
use crate::poll::{Backoff, PollConfig};
use crate::state::{classify, deploy_way_out, is_success, StackState};
use crate::template::{
    construct_paths, needs_staging, required_capabilities, retained_on_delete, retained_on_replace,
};
use crate::template_diff::{diff_templates, TemplateDiff};
use crate::watch::Watch;

/// What `deploy` does.
#[derive(Clone, Debug)]
pub struct DeployOptions {
    /// Stacks to deploy (empty with `all`: every stack).
    pub stacks: Vec<String>,
    /// Deploy every stack.
    pub all: bool,
    /// When to ask before executing.
    pub approval: ApprovalLevel,
    /// Answer yes to approval questions (CI).
    pub yes: bool,
    /// Execute change sets (false: `--no-execute`, create them and stop).
    pub execute: bool,
    /// Delete and recreate stacks whose creation failed (`ROLLBACK_COMPLETE`).
    pub replace_failed: bool,
    /// Wait for a stack busy in another operation instead of refusing.
    pub wait_busy: bool,
    /// Staging bucket for large templates (default `frugal-staging-<account>-<region>`).
    pub staging_bucket: Option<String>,
    /// Polling schedule.
    pub poll: PollConfig,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            stacks: Vec::new(),
            all: false,
            approval: ApprovalLevel::Broadening,
            yes: false,
            execute: true,
            replace_failed: false,
            wait_busy: false,
            staging_bucket: None,
            poll: PollConfig::default(),
        }
    }
}

/// How one stack's deployment ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StackOutcome {
    /// Nothing to change.
    NoChanges,
    /// The change set ran and the stack settled in `status`.
    Deployed {
        /// `CREATE_COMPLETE` or `UPDATE_COMPLETE`.
        status: String,
    },
    /// `--no-execute`: the change set waits for review.
    ChangeSetCreated {
        /// The change set id.
        id: String,
    },
}

/// What `deploy` did, per stack, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeployReport {
    /// Stack name and outcome.
    pub stacks: Vec<(String, StackOutcome)>,
}

/// A change set waiting for approval and execution.
#[derive(Clone, Debug)]
struct Pending {
    stack: StackArtifact,
    clients: Clients,
    stack_id: String,
    change_set: String,
    /// The stack was created by this change set (CREATE type).
    created: bool,
    changes: Vec<PlannedChange>,
    broadening: Vec<Broadening>,
    risks: Vec<String>,
    termination_protection: bool,
}

enum Prepared {
    NoChanges,
    Pending(Box<Pending>),
}

#[derive(Clone)]
struct Ctx {
    session: Session,
    options: DeployOptions,
    console: Console,
    cancel: Cancel,
}

/// Deploys the selected stacks of `assembly`: dependency waves in order, the stacks of a
/// wave in parallel. Stops after a wave in which a stack failed.
pub async fn deploy(
    session: &Session,
    assembly: &Assembly,
    options: &DeployOptions,
    console: &Console,
    cancel: &Cancel,
) -> Result<DeployReport> {
    let selected: Vec<StackArtifact> = assembly
        .select(&options.stacks, options.all)?
        .into_iter()
        .cloned()
        .collect();
    let manifests: Vec<_> = selected.iter().map(|s| &s.manifest).collect();
    let ctx = Ctx {
        session: session.clone(),
        options: options.clone(),
        console: console.clone(),
        cancel: cancel.clone(),
    };
    let mut report = DeployReport::default();
    let all_waves = waves(&manifests);
    for (n, wave) in all_waves.iter().enumerate() {
        let mut errors = Vec::new();
        // Prepare (describe, change set) in parallel.
        let mut set = JoinSet::new();
        for &i in wave {
            let (ctx, stack) = (ctx.clone(), selected[i].clone());
            set.spawn(async move { (i, prepare(&ctx, stack).await) });
        }
        let mut prepared = Vec::new();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(r) => prepared.push(r),
                Err(e) => errors.push(DeployError::Other(format!("deploy task failed: {e}"))),
            }
        }
        prepared.sort_by_key(|(i, _)| *i);
        // Show and approve one by one.
        let mut approved = Vec::new();
        for (i, result) in prepared {
            let name = selected[i].name().to_owned();
            match result {
                Ok(Prepared::NoChanges) => report.stacks.push((name, StackOutcome::NoChanges)),
                // After a refusal or Ctrl-C, ask nothing more: the wave will not run.
                Ok(Prepared::Pending(p)) if !errors.is_empty() || ctx.cancel.is_cancelled() => {
                    abandon(&ctx.console, &p).await;
                }
                Ok(Prepared::Pending(p)) => match review(&ctx, &p).await {
                    Ok(true) => approved.push(*p),
                    Ok(false) => report.stacks.push((
                        name,
                        StackOutcome::ChangeSetCreated {
                            id: p.change_set.clone(),
                        },
                    )),
                    Err(e) => {
                        abandon(&ctx.console, &p).await;
                        errors.push(e);
                    }
                },
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() || ctx.cancel.is_cancelled() {
            for p in &approved {
                abandon(&ctx.console, p).await;
            }
            approved.clear();
        }
        // Execute in parallel.
        let mut set = JoinSet::new();
        for p in approved {
            let ctx = ctx.clone();
            set.spawn(async move { (p.stack.name().to_owned(), execute(&ctx, p).await) });
        }
        let mut done = Vec::new();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((name, Ok(outcome))) => done.push((name, outcome)),
                Ok((_, Err(e))) => errors.push(e),
                Err(e) => errors.push(DeployError::Other(format!("deploy task failed: {e}"))),
            }
        }
        done.sort_by_key(|(name, _)| selected.iter().position(|s| s.name() == name));
        report.stacks.extend(done);
        if ctx.cancel.is_cancelled() && errors.is_empty() {
            errors.push(DeployError::Interrupted(
                "nothing was executed; run the same command again to deploy".into(),
            ));
        }
        if !errors.is_empty() {
            let rest: Vec<&str> = all_waves[n + 1..]
                .iter()
                .flatten()
                .map(|&i| selected[i].name())
                .collect();
            if !rest.is_empty() {
                console.line(format!(
                    "not deployed (an earlier stack failed): {}",
                    rest.join(", ")
                ));
            }
            return Err(if errors.len() == 1 {
                errors.remove(0)
            } else {
                DeployError::Multiple(errors)
            });
        }
    }
    Ok(report)
}

/// Deletes a change set that will not run (and the empty stack a CREATE change set made).
async fn abandon(console: &Console, p: &Pending) {
    let cfn = &p.clients.cfn;
    if p.created {
        if cfn::delete_stack(
            cfn,
            &p.stack_id,
            &format!("frugal-abandon-{}", cfn::unique_suffix()),
        )
        .await
        .is_err()
        {
            console.line(format!(
                "{}: could not delete the empty stack left by change set {}",
                p.stack.name(),
                p.change_set
            ));
        }
    } else if cfn::delete_change_set(cfn, &p.stack_id, &p.change_set)
        .await
        .is_err()
    {
        console.line(format!(
            "{}: could not delete change set {}",
            p.stack.name(),
            p.change_set
        ));
    }
}

fn parse_template(body: Option<String>) -> Option<Value> {
    body.and_then(|b| serde_json::from_str(&b).ok())
}

/// Gets the stack into a state a change set can start from.
async fn settle_state(
    ctx: &Ctx,
    clients: &Clients,
    stack: &StackArtifact,
) -> Result<Option<cfn::StackInfo>> {
    let name = stack.name();
    let paths = construct_paths(&stack.template);
    let mut info = cfn::describe_stack(&clients.cfn, name).await?;
    let state = classify(info.as_ref().map(|i| i.status.as_str()));
    if state == StackState::Busy && ctx.options.wait_busy {
        let status = info.as_ref().map(|i| i.status.clone()).unwrap_or_default();
        ctx.console.line(format!(
            "{name}: waiting for the running operation ({status}) to finish"
        ));
        let since = cfn::latest_event_id(&clients.cfn, name).await?;
        let progress = ctx.console.progress(name, 1);
        let watched = Watch {
            cfn: &clients.cfn,
            stack: name,
            name,
            since,
            paths: &paths,
            console: &ctx.console,
            progress: &progress,
            cancel: &ctx.cancel,
            poll: ctx.options.poll,
            interrupted: format!("stopped waiting for {name}; its operation goes on. Run `frugal deploy {name} --wait` to follow it again"),
        }
        .run()
        .await?;
        progress.finish(&watched.status);
        info = cfn::describe_stack(&clients.cfn, name).await?;
    }
    let state = classify(info.as_ref().map(|i| i.status.as_str()));
    if state == StackState::NeverCreated && ctx.options.replace_failed {
        let Some(i) = &info else { return Ok(None) };
        ctx.console.line(format!(
            "{name}: deleting the stack that failed to create ({}) to create it again",
            i.status
        ));
        let since = cfn::latest_event_id(&clients.cfn, &i.id).await?;
        cfn::delete_stack(
            &clients.cfn,
            &i.id,
            &format!("frugal-replace-{}", cfn::unique_suffix()),
        )
        .await?;
        let progress = ctx.console.progress(name, 1);
        let watched = Watch {
            cfn: &clients.cfn,
            stack: &i.id,
            name,
            since,
            paths: &paths,
            console: &ctx.console,
            progress: &progress,
            cancel: &ctx.cancel,
            poll: ctx.options.poll,
            interrupted: format!("stopped waiting for the deletion of {name}; run `frugal deploy {name} --replace-failed` again"),
        }
        .run()
        .await?;
        progress.finish(&watched.status);
        if watched.status != "DELETE_COMPLETE" {
            return Err(DeployError::StackState {
                stack: name.to_owned(),
                status: watched.status,
                way_out: "deleting the failed stack did not finish; see its events, then `frugal destroy` it".into(),
            });
        }
        return Ok(None);
    }
    if let Some(way_out) = deploy_way_out(name, &state) {
        return Err(DeployError::StackState {
            stack: name.to_owned(),
            status: info.map(|i| i.status).unwrap_or_default(),
            way_out,
        });
    }
    Ok(info)
}

async fn prepare(ctx: &Ctx, stack: StackArtifact) -> Result<Prepared> {
    let name = stack.name().to_owned();
    let clients = ctx.session.clients(stack.manifest.region.as_deref());
    let info = settle_state(ctx, &clients, &stack).await?;
    let state = classify(info.as_ref().map(|i| i.status.as_str()));
    let create = matches!(state, StackState::Missing | StackState::Review);
    let deployed = if create {
        None
    } else {
        parse_template(cfn::get_template(&clients.cfn, &name).await?)
    };
    let protection = info.as_ref().is_some_and(|i| i.termination_protection);
    if let (Some(i), Some(old)) = (&info, &deployed) {
        let params_same = stack
            .manifest
            .parameters
            .iter()
            .all(|(k, v)| i.parameters.get(k) == Some(v));
        if *old == stack.template && params_same && i.tags == stack.manifest.tags {
            ctx.console.line(format!("{name}: no changes"));
            ensure_protection(ctx, &clients, &name, stack.manifest.protected, protection).await?;
            return Ok(Prepared::NoChanges);
        }
    }
    let template = if needs_staging(stack.body.len()) {
        ctx.console.line(format!(
            "{name}: template is {} bytes, staging it in S3",
            stack.body.len()
        ));
        let url = crate::staging::stage_template(
            &clients,
            ctx.session.endpoint_url(),
            ctx.options.staging_bucket.as_deref(),
            &name,
            &stack.body,
        )
        .await?;
        TemplateSource::Url(url)
    } else {
        TemplateSource::Body(stack.body.clone())
    };
    let capabilities = required_capabilities(&stack.template);
    let cs_name = format!("frugal-{}", cfn::unique_suffix());
    let request = ChangeSetRequest {
        stack: &name,
        name: &cs_name,
        create,
        template,
        parameters: &stack.manifest.parameters,
        tags: &stack.manifest.tags,
        capabilities: &capabilities,
    };
    let id = match cfn::create_change_set(&clients.cfn, &request).await {
        Ok(id) => id,
        // Some emulators refuse an unchanged update outright instead of failing the change set.
        Err(DeployError::Aws { message, .. }) if cfn::is_empty_change_set(&message) => {
            ctx.console.line(format!("{name}: no changes"));
            ensure_protection(ctx, &clients, &name, stack.manifest.protected, protection).await?;
            return Ok(Prepared::NoChanges);
        }
        Err(e) => return Err(e),
    };
    let stack_id = match &info {
        Some(i) => i.id.clone(),
        None => name.clone(),
    };
    let mut pending = Pending {
        stack,
        clients,
        stack_id,
        change_set: id,
        created: create,
        changes: Vec::new(),
        broadening: Vec::new(),
        risks: Vec::new(),
        termination_protection: protection,
    };
    let described = match wait_change_set(ctx, &pending).await {
        Ok(d) => d,
        Err(e) => {
            abandon(&ctx.console, &pending).await;
            return Err(e);
        }
    };
    if described.status == "FAILED" {
        let reason = described.reason.unwrap_or_default();
        abandon(&ctx.console, &pending).await;
        if cfn::is_empty_change_set(&reason) {
            ctx.console.line(format!("{name}: no changes"));
            ensure_protection(
                ctx,
                &pending.clients,
                &name,
                pending.stack.manifest.protected,
                protection,
            )
            .await?;
            return Ok(Prepared::NoChanges);
        }
        return Err(DeployError::ChangeSetFailed {
            stack: name,
            reason,
        });
    }
    let diff = diff_templates(
        deployed.as_ref(),
        &pending.stack.template,
        &crate::schema_of,
    );
    pending.changes = annotate(
        described.changes,
        deployed.as_ref(),
        &pending.stack.template,
        &diff,
    );
    pending.broadening = diff.broadening;
    pending.risks = risks(&pending.changes, &pending.broadening);
    Ok(Prepared::Pending(Box::new(pending)))
}

/// Adds construct paths and retention to change-set changes, and the replacement of
/// `diff` (the templates' diff) where the service did not say (emulators).
pub fn annotate(
    mut changes: Vec<PlannedChange>,
    deployed: Option<&Value>,
    template: &Value,
    diff: &TemplateDiff,
) -> Vec<PlannedChange> {
    let mut paths = deployed.map(construct_paths).unwrap_or_default();
    paths.extend(construct_paths(template));
    for c in &mut changes {
        c.path = paths.get(&c.logical_id).cloned();
        let old = deployed
            .and_then(|d| d.get("Resources"))
            .and_then(|r| r.get(&c.logical_id));
        c.retained = match c.action {
            crate::plan::Action::Remove => old.is_some_and(retained_on_delete),
            _ => old.is_some_and(retained_on_replace),
        };
        if c.replacement.is_none() && c.action == crate::plan::Action::Modify {
            let replaced = diff
                .resources
                .iter()
                .any(|r| r.logical_id == c.logical_id && r.replacement);
            c.replacement = Some(if replaced {
                Replacement::Yes
            } else {
                Replacement::No
            });
        }
    }
    changes
}

async fn wait_change_set(ctx: &Ctx, p: &Pending) -> Result<cfn::ChangeSetInfo> {
    let mut backoff = Backoff::new(ctx.options.poll);
    let start = std::time::Instant::now();
    loop {
        let info = cfn::describe_change_set(&p.clients.cfn, &p.stack_id, &p.change_set).await?;
        if matches!(
            info.status.as_str(),
            "CREATE_COMPLETE" | "FAILED" | "DELETE_COMPLETE" | "DELETE_FAILED"
        ) {
            return Ok(info);
        }
        if start.elapsed() > ctx.options.poll.timeout {
            return Err(DeployError::ChangeSetFailed {
                stack: p.stack.name().to_owned(),
                reason: format!(
                    "still {} after {} s",
                    info.status,
                    ctx.options.poll.timeout.as_secs()
                ),
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_delay()) => {}
            _ = ctx.cancel.cancelled() => {
                return Err(DeployError::Interrupted(format!(
                    "{}: change set deleted, nothing was executed; run the same command again to deploy",
                    p.stack.name()
                )))
            }
        }
    }
}

/// Shows the change set and decides whether it runs (false: `--no-execute`).
async fn review(ctx: &Ctx, p: &Pending) -> Result<bool> {
    let name = p.stack.name();
    let console = &ctx.console;
    let kind = if p.created { "create" } else { "update" };
    console.line(format!(
        "{name}: change set to {kind} the stack, {} resource changes",
        p.changes.len()
    ));
    console.line(render_changes(&p.changes, console.color()));
    for b in &p.broadening {
        console.line(format!("  IAM broadening: {b}"));
    }
    if !ctx.options.execute {
        console.line(format!(
            "{name}: change set {} created and not executed; review it in the console, then run `aws cloudformation execute-change-set --change-set-name {}` or deploy again without --no-execute",
            p.change_set, p.change_set
        ));
        return Ok(false);
    }
    let reasons = approval_reasons(ctx.options.approval, &p.changes, &p.risks);
    if reasons.is_empty() || ctx.options.yes {
        return Ok(true);
    }
    if !console.is_interactive() {
        return Err(DeployError::ApprovalRequired {
            stack: name.to_owned(),
            reasons,
        });
    }
    // IAM broadening is listed above; name the other reasons.
    for r in reasons.iter().filter(|r| !r.starts_with("broadens IAM")) {
        console.line(format!("  ! {r}"));
    }
    if !p.broadening.is_empty() && ctx.options.approval != ApprovalLevel::Never {
        console.line(format!(
            "  ! broadens IAM permissions ({} grants listed above)",
            p.broadening.len()
        ));
    }
    let answer = console
        .ask(
            &format!("Deploy these changes to {name}? [y/N]"),
            &ctx.cancel,
        )
        .await;
    if ctx.cancel.is_cancelled() {
        return Err(DeployError::Interrupted(format!(
            "{name}: change set deleted, nothing was executed"
        )));
    }
    match answer.as_deref().map(str::to_lowercase).as_deref() {
        Some("y" | "yes") => Ok(true),
        _ => Err(DeployError::Declined {
            stack: name.to_owned(),
            what: "deployment".into(),
        }),
    }
}

async fn ensure_protection(
    ctx: &Ctx,
    clients: &Clients,
    name: &str,
    protected: bool,
    current: bool,
) -> Result<()> {
    if protected && !current {
        cfn::set_termination_protection(&clients.cfn, name, true).await?;
        ctx.console
            .line(format!("{name}: termination protection enabled"));
    }
    Ok(())
}

async fn execute(ctx: &Ctx, p: Pending) -> Result<StackOutcome> {
    let name = p.stack.name().to_owned();
    let cfn = &p.clients.cfn;
    if ctx.cancel.is_cancelled() {
        abandon(&ctx.console, &p).await;
        return Err(DeployError::Interrupted(format!(
            "{name}: change set deleted, nothing was executed"
        )));
    }
    let since = cfn::latest_event_id(cfn, &p.stack_id).await?;
    let token = format!("frugal-{}", cfn::unique_suffix());
    if let Err(e) = cfn::execute_change_set(cfn, &p.stack_id, &p.change_set, &token).await {
        // The service refused it: nothing ran, so do not leave the change set (or an empty
        // stack) behind. A transport error may hide a started execution: leave that alone.
        if matches!(&e, DeployError::Aws { code: Some(_), .. }) {
            abandon(&ctx.console, &p).await;
        }
        return Err(e);
    }
    let paths = construct_paths(&p.stack.template);
    let progress = ctx.console.progress(&name, p.changes.len() as u64);
    let watched = Watch {
        cfn,
        stack: &p.stack_id,
        name: &name,
        since,
        paths: &paths,
        console: &ctx.console,
        progress: &progress,
        cancel: &ctx.cancel,
        poll: ctx.options.poll,
        interrupted: format!(
            "stopped waiting for {name}; CloudFormation goes on with the change set on its own. Follow it with `frugal deploy {name} --wait`"
        ),
    }
    .run()
    .await?;
    progress.finish(&watched.status);
    if is_success(&watched.status) {
        ctx.console.line(format!("{name}: {}", watched.status));
        ensure_protection(
            ctx,
            &p.clients,
            &name,
            p.stack.manifest.protected,
            p.termination_protection,
        )
        .await?;
        return Ok(StackOutcome::Deployed {
            status: watched.status,
        });
    }
    let found = failures(&watched.events, &paths);
    let root = root_cause(&found).cloned().map(Box::new);
    ctx.console.line(format!("{name}: {}", watched.status));
    if !found.is_empty() {
        ctx.console.line(format!("{name}: resource failures:"));
        for f in &found {
            ctx.console.line(format!("  {f}"));
        }
    }
    if let Some(r) = &root {
        ctx.console.line(format!("{name}: root cause: {r}"));
    }
    if watched.status == "ROLLBACK_COMPLETE" {
        ctx.console.line(format!(
            "{name}: the stack was never created; fix the cause, then deploy with --replace-failed to delete and recreate it"
        ));
    }
    Err(DeployError::StackFailed {
        stack: name,
        status: watched.status,
        root_cause: root,
        failures: found,
    })
}
