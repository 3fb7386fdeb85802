//! `verify`: the deployed app checked against the synthesized one through the service
//! APIs, one [`Check`] per resource and property. The expectations come from the
//! templates ([`crate::expect`]); this module only reads AWS and compares.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use frugal_deploy::Assembly;

use crate::clients::OpsClients;
use crate::deployed::{describe_all, DeployedStack};
use crate::error::{aws, OpsError, Result};
use crate::expect::{
    self, missing_tags, same_amount, same_instance_types, tag_filters, template_tags, AppView,
    FoundSchedule, LifecycleRule, LogOwner, Notification, TieringConfig,
};
use crate::report::{Check, Report, Status};

/// What `verify` checks.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// The environment (`Environment` tag of its stacks), e.g. `dev`.
    pub env: String,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { env: "dev".into() }
    }
}

/// A failed read that becomes a FAIL row; credential errors stop the run instead (every
/// other call would fail the same way).
pub(crate) fn soft<T>(r: Result<T>) -> Result<std::result::Result<T, String>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) if e.is_credentials() => Err(e),
        Err(e) => Ok(Err(format!("could not read: {e}"))),
    }
}

/// The error code of an SDK error (`NoSuchBucket`, `ResourceNotFoundException`, …).
pub(crate) fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.code()
}

/// Checks the deployed environment against the synthesized app.
pub async fn verify(
    clients: &OpsClients,
    assembly: &Assembly,
    options: &VerifyOptions,
) -> Result<Report> {
    let app = AppView::from_assembly(assembly, &options.env)?;
    let deployed = describe_all(clients, &app).await?;
    let mut report = Report::default();
    check_stacks(&app, &deployed, &mut report);
    check_nodegroups(clients, &app, &mut report).await?;
    check_buckets(clients, &app, &deployed, &mut report).await?;
    check_log_groups(clients, &app, &mut report).await?;
    check_repositories(clients, &app, &mut report).await?;
    check_schedules(clients, &app, &deployed, &mut report).await?;
    let carried = check_tags(clients, &app, &deployed, &mut report).await?;
    check_budgets(clients, &app, &carried, &mut report).await?;
    Ok(report)
}

fn check_stacks(app: &AppView, deployed: &[DeployedStack], report: &mut Report) {
    for (s, d) in app.stacks.iter().zip(deployed) {
        let check = match &d.status {
            None => Check::fail("stack", s.name(), "not deployed"),
            Some(status) if d.is_complete() => Check::pass(
                "stack",
                s.name(),
                format!("{status}, {} resources listed", d.resources.len()),
            ),
            Some(status) => Check::fail("stack", s.name(), status.clone()),
        };
        report.checks.push(check);
    }
}

// ---------------------------------------------------------------------------------------

async fn check_nodegroups(clients: &OpsClients, app: &AppView, report: &mut Report) -> Result<()> {
    for n in expect::nodegroups(app) {
        let found = soft(
            match clients
                .eks
                .describe_nodegroup()
                .cluster_name(&n.cluster)
                .nodegroup_name(&n.name)
                .send()
                .await
            {
                Ok(o) => Ok(o.nodegroup().cloned()),
                Err(e) if code(&e) == Some("ResourceNotFoundException") => Ok(None),
                Err(e) => Err(aws("DescribeNodegroup", e)),
            },
        )?;
        let resource = n.resource();
        match found {
            Err(msg) => {
                report
                    .checks
                    .push(Check::fail("nodegroup.capacity", &resource, msg.clone()));
                report
                    .checks
                    .push(Check::fail("nodegroup.instance-types", &resource, msg));
            }
            Ok(None) => {
                for id in ["nodegroup.capacity", "nodegroup.instance-types"] {
                    report
                        .checks
                        .push(Check::fail(id, &resource, "node group does not exist"));
                }
            }
            Ok(Some(g)) => {
                let capacity = g
                    .capacity_type()
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_else(|| "ON_DEMAND".into());
                report.checks.push(if capacity == n.capacity {
                    Check::pass("nodegroup.capacity", &resource, capacity)
                } else {
                    Check::fail(
                        "nodegroup.capacity",
                        &resource,
                        format!("{capacity} (expected {})", n.capacity),
                    )
                });
                let types = g.instance_types().to_vec();
                report.checks.push(Check::new(
                    "nodegroup.instance-types",
                    &resource,
                    Status::of(same_instance_types(&n.instance_types, &types)),
                    if same_instance_types(&n.instance_types, &types) {
                        types.join(", ")
                    } else {
                        format!(
                            "{} (expected {})",
                            types.join(", "),
                            n.instance_types.join(", ")
                        )
                    },
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------

/// A bucket's name: the template's literal, else the deployed physical id.
fn bucket_name(b: &expect::BucketExpectation, deployed: &[DeployedStack]) -> Option<String> {
    b.name.clone().or_else(|| {
        deployed
            .iter()
            .find(|d| d.name == b.stack)
            .and_then(|d| d.physical_id(&b.logical_id))
            .map(str::to_owned)
    })
}

async fn check_buckets(
    clients: &OpsClients,
    app: &AppView,
    deployed: &[DeployedStack],
    report: &mut Report,
) -> Result<()> {
    for b in expect::buckets(app) {
        let Some(name) = bucket_name(&b, deployed) else {
            report.checks.push(Check::fail(
                "bucket.lifecycle",
                format!("{}/{}", b.stack, b.logical_id),
                "bucket not deployed (no name in the template or the stack)",
            ));
            continue;
        };
        if !b.lifecycle.is_empty() {
            let found = soft(read_lifecycle(clients, &name).await)?;
            report.checks.push(match found {
                Err(msg) => Check::fail("bucket.lifecycle", &name, msg),
                Ok(None) => Check::fail("bucket.lifecycle", &name, "no lifecycle configuration"),
                Ok(Some(rules)) => Check::compared(
                    "bucket.lifecycle",
                    &name,
                    &expect::diff_lifecycle(&b.lifecycle, &rules),
                    || {
                        let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
                        format!("{} rules as synthesized ({})", rules.len(), ids.join(", "))
                    },
                ),
            });
        }
        if !b.tiering.is_empty() {
            let found = soft(read_tiering(clients, &name).await)?;
            report.checks.push(match found {
                Err(msg) => Check::fail("bucket.intelligent-tiering", &name, msg),
                Ok(configs) => Check::compared(
                    "bucket.intelligent-tiering",
                    &name,
                    &expect::diff_tiering(&b.tiering, &configs),
                    || {
                        let ids: Vec<&str> = configs.iter().map(|c| c.id.as_str()).collect();
                        format!(
                            "{} archive configurations as synthesized ({})",
                            configs.len(),
                            ids.join(", ")
                        )
                    },
                ),
            });
        }
    }
    Ok(())
}

fn days(d: Option<i32>) -> Option<u32> {
    d.and_then(|d| u32::try_from(d).ok())
}

/// The bucket's lifecycle rules, `None` when it has no configuration.
pub async fn read_lifecycle(
    clients: &OpsClients,
    bucket: &str,
) -> Result<Option<Vec<LifecycleRule>>> {
    let out = match clients
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) if code(&e) == Some("NoSuchLifecycleConfiguration") => return Ok(None),
        Err(e) if code(&e) == Some("NoSuchBucket") => {
            return Err(OpsError::Invalid(format!("bucket {bucket} does not exist")))
        }
        Err(e) => return Err(aws("GetBucketLifecycleConfiguration", e)),
    };
    Ok(Some(
        out.rules()
            .iter()
            .map(|r| {
                let mut prefix = String::new();
                let mut tags = BTreeMap::new();
                #[allow(deprecated)]
                if let Some(p) = r.prefix() {
                    prefix = p.to_owned();
                }
                if let Some(f) = r.filter() {
                    if let Some(p) = f.prefix() {
                        prefix = p.to_owned();
                    }
                    if let Some(t) = f.tag() {
                        tags.insert(t.key().to_owned(), t.value().to_owned());
                    }
                    if let Some(and) = f.and() {
                        if let Some(p) = and.prefix() {
                            prefix = p.to_owned();
                        }
                        for t in and.tags() {
                            tags.insert(t.key().to_owned(), t.value().to_owned());
                        }
                    }
                }
                LifecycleRule {
                    id: r.id().unwrap_or_default().to_owned(),
                    status: r.status().as_str().to_owned(),
                    prefix,
                    tags,
                    transitions: r
                        .transitions()
                        .iter()
                        .filter_map(|t| {
                            Some((t.storage_class()?.as_str().to_owned(), days(t.days())?))
                        })
                        .collect(),
                    expiration_days: r.expiration().and_then(|e| days(e.days())),
                    abort_incomplete_days: r
                        .abort_incomplete_multipart_upload()
                        .and_then(|a| days(a.days_after_initiation())),
                    noncurrent_expiration_days: r
                        .noncurrent_version_expiration()
                        .and_then(|n| days(n.noncurrent_days())),
                    noncurrent_transitions: r
                        .noncurrent_version_transitions()
                        .iter()
                        .filter_map(|t| {
                            Some((
                                t.storage_class()?.as_str().to_owned(),
                                days(t.noncurrent_days())?,
                            ))
                        })
                        .collect(),
                }
                .normalized()
            })
            .collect(),
    ))
}

/// The bucket's Intelligent-Tiering archive configurations.
pub async fn read_tiering(clients: &OpsClients, bucket: &str) -> Result<Vec<TieringConfig>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .s3
            .list_bucket_intelligent_tiering_configurations()
            .bucket(bucket)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| aws("ListBucketIntelligentTieringConfigurations", e))?;
        for c in page.intelligent_tiering_configuration_list() {
            let mut prefix = String::new();
            let mut tags = BTreeMap::new();
            if let Some(f) = c.filter() {
                if let Some(p) = f.prefix() {
                    prefix = p.to_owned();
                }
                if let Some(t) = f.tag() {
                    tags.insert(t.key().to_owned(), t.value().to_owned());
                }
                if let Some(and) = f.and() {
                    if let Some(p) = and.prefix() {
                        prefix = p.to_owned();
                    }
                    for t in and.tags() {
                        tags.insert(t.key().to_owned(), t.value().to_owned());
                    }
                }
            }
            out.push(
                TieringConfig {
                    id: c.id().to_owned(),
                    status: c.status().as_str().to_owned(),
                    prefix,
                    tags,
                    tierings: c
                        .tierings()
                        .iter()
                        .filter_map(|t| {
                            Some((t.access_tier().as_str().to_owned(), days(Some(t.days()))?))
                        })
                        .collect(),
                }
                .normalized(),
            );
        }
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_owned()),
            _ => return Ok(out),
        }
    }
}

// ---------------------------------------------------------------------------------------

/// Log groups whose name starts with `prefix`: `(name, retention days)`.
pub async fn log_groups_with_prefix(
    clients: &OpsClients,
    prefix: &str,
) -> Result<Vec<(String, Option<i32>)>> {
    let groups = clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(prefix)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| aws("DescribeLogGroups", e))?;
    Ok(groups
        .iter()
        .filter_map(|g| Some((g.log_group_name()?.to_owned(), g.retention_in_days())))
        .collect())
}

/// Log groups whose name contains `needle` (the app's name), case-insensitively:
/// `(name, retention days)`. The service filters (`logGroupNamePattern`); the names are
/// checked again here, for endpoints that ignore the pattern.
pub async fn log_groups_named(
    clients: &OpsClients,
    needle: &str,
) -> Result<Vec<(String, Option<i32>)>> {
    let lower = needle.to_lowercase();
    let groups = clients
        .logs
        .describe_log_groups()
        .log_group_name_pattern(needle)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| aws("DescribeLogGroups", e))?;
    Ok(groups
        .iter()
        .filter_map(|g| Some((g.log_group_name()?, g.retention_in_days())))
        .filter(|(n, _)| n.to_lowercase().contains(&lower))
        .map(|(n, r)| (n.to_owned(), r))
        .collect())
}

async fn check_log_groups(clients: &OpsClients, app: &AppView, report: &mut Report) -> Result<()> {
    let expected = expect::log_groups(app);
    for e in &expected {
        let found = soft(log_groups_with_prefix(clients, &e.name).await)?.map(|groups| {
            groups
                .into_iter()
                .find(|(n, _)| *n == e.name)
                .map(|(_, r)| r)
        });
        report.checks.push(match (found, &e.owner) {
            (Err(msg), _) => Check::fail("logs.retention", &e.name, msg),
            (Ok(Some(Some(days))), _) if u32::try_from(days).ok() == Some(e.retention_days) => {
                Check::pass("logs.retention", &e.name, format!("{days} days"))
            }
            (Ok(Some(Some(days))), _) => Check::fail(
                "logs.retention",
                &e.name,
                format!("{days} days (expected {})", e.retention_days),
            ),
            (Ok(Some(None)), _) => Check::fail(
                "logs.retention",
                &e.name,
                format!("never expires (expected {} days)", e.retention_days),
            ),
            (Ok(None), LogOwner::Service(schedule)) => Check::pass(
                "logs.retention",
                &e.name,
                format!(
                    "not created yet (AWS creates it on first use); schedule {schedule} sets {} days",
                    e.retention_days
                ),
            ),
            (Ok(None), LogOwner::Stack(_)) => {
                Check::fail("logs.retention", &e.name, "log group does not exist")
            }
        });
    }
    // Any other log group of the app (by name) that keeps its logs forever.
    let known: BTreeSet<&str> = expected.iter().map(|e| e.name.as_str()).collect();
    let others = soft(log_groups_named(clients, &app.app).await)?;
    match others {
        Err(msg) => {
            report
                .checks
                .push(Check::fail("logs.unbounded", format!("*{}*", app.app), msg))
        }
        Ok(groups) => {
            let forever: Vec<&String> = groups
                .iter()
                .filter(|(n, r)| r.is_none() && !known.contains(n.as_str()))
                .map(|(n, _)| n)
                .collect();
            if forever.is_empty() {
                report.checks.push(Check::pass(
                    "logs.unbounded",
                    format!("*{}*", app.app),
                    format!(
                        "no other log group named after {} keeps logs forever ({} found)",
                        app.app,
                        groups.len()
                    ),
                ));
            }
            for n in forever {
                report.checks.push(Check::fail(
                    "logs.unbounded",
                    n,
                    "never expires and no stack sets its retention",
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------

async fn check_repositories(
    clients: &OpsClients,
    app: &AppView,
    report: &mut Report,
) -> Result<()> {
    for r in expect::repositories(app) {
        let Some(policy) = &r.policy else { continue };
        let found = soft(
            match clients
                .ecr
                .get_lifecycle_policy()
                .repository_name(&r.name)
                .send()
                .await
            {
                Ok(o) => Ok(Some(
                    o.lifecycle_policy_text().unwrap_or_default().to_owned(),
                )),
                Err(e) if code(&e) == Some("LifecyclePolicyNotFoundException") => Ok(None),
                Err(e) if code(&e) == Some("RepositoryNotFoundException") => Err(
                    OpsError::Invalid(format!("repository {} does not exist", r.name)),
                ),
                Err(e) => Err(aws("GetLifecyclePolicy", e)),
            },
        )?;
        report.checks.push(match found {
            Err(msg) => Check::fail("ecr.lifecycle", &r.name, msg),
            Ok(None) => Check::fail("ecr.lifecycle", &r.name, "no lifecycle policy"),
            Ok(Some(text)) => Check::compared(
                "ecr.lifecycle",
                &r.name,
                &expect::diff_policy(policy, &text),
                || {
                    let n = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v.get("rules").and_then(|r| r.as_array()).map(Vec::len))
                        .unwrap_or(0);
                    format!("{n} rules as synthesized")
                },
            ),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------

/// Every schedule of every group, read in full.
pub async fn read_schedules(clients: &OpsClients) -> Result<Vec<FoundSchedule>> {
    let summaries: Vec<(String, Option<String>)> = clients
        .scheduler
        .list_schedules()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| aws("ListSchedules", e))?
        .iter()
        .filter_map(|s| Some((s.name()?.to_owned(), s.group_name().map(str::to_owned))))
        .collect();
    let mut out = Vec::with_capacity(summaries.len());
    for (name, group) in summaries {
        let s = clients
            .scheduler
            .get_schedule()
            .name(&name)
            .set_group_name(group.clone())
            .send()
            .await
            .map_err(|e| aws("GetSchedule", e))?;
        let target = s.target();
        out.push(FoundSchedule {
            name,
            group: s
                .group_name()
                .map(str::to_owned)
                .or(group)
                .unwrap_or_else(|| "default".into()),
            expression: s.schedule_expression().unwrap_or_default().to_owned(),
            timezone: s.schedule_expression_timezone().map(str::to_owned),
            state: s
                .state()
                .map(|st| st.as_str().to_owned())
                .unwrap_or_else(|| "ENABLED".into()),
            target_arn: target.map(|t| t.arn().to_owned()).unwrap_or_default(),
            input: target
                .and_then(|t| t.input())
                .and_then(|i| serde_json::from_str(i).ok()),
        });
    }
    Ok(out)
}

async fn check_schedules(
    clients: &OpsClients,
    app: &AppView,
    deployed: &[DeployedStack],
    report: &mut Report,
) -> Result<()> {
    let expected = expect::schedules(app);
    if expected.is_empty() {
        return Ok(());
    }
    let found = soft(read_schedules(clients).await)?;
    for e in &expected {
        let label = format!("{}/{}", e.stack, e.logical_id);
        let found = match &found {
            Err(msg) => {
                report
                    .checks
                    .push(Check::fail("schedule", &label, msg.clone()));
                continue;
            }
            Ok(f) => f,
        };
        let physical = deployed
            .iter()
            .find(|d| d.name == e.stack)
            .and_then(|d| d.physical_id(&e.logical_id))
            // Scheduler's physical id may be `group|name`.
            .map(|p| p.rsplit('|').next().unwrap_or(p));
        report
            .checks
            .push(match expect::match_schedule(e, found, physical) {
                None => Check::fail(
                    "schedule",
                    &label,
                    format!(
                        "no schedule calls {} with the synthesized input ({})",
                        e.target_arn, e.description
                    ),
                ),
                Some(f) => Check::compared(
                    "schedule",
                    format!("{}/{}", f.group, f.name),
                    &expect::diff_schedule(e, f),
                    || {
                        format!(
                            "{} {} {} -> {}",
                            f.state,
                            f.expression,
                            f.timezone.as_deref().unwrap_or("UTC"),
                            e.target_arn.rsplit(':').next().unwrap_or(&e.target_arn)
                        )
                    },
                ),
            });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------

/// Tags some resource really carries, as read from its service: `(resource, tags)`.
pub type Carried = Vec<(String, BTreeMap<String, String>)>;

async fn check_tags(
    clients: &OpsClients,
    app: &AppView,
    deployed: &[DeployedStack],
    report: &mut Report,
) -> Result<Carried> {
    let mut carried = Carried::new();
    let mut account: Option<String> = None;
    let mut sns: Option<BTreeMap<String, BTreeMap<String, String>>> = None;
    for (s, d) in app.stacks.iter().zip(deployed) {
        if !d.exists() {
            report
                .checks
                .push(Check::fail("tags", s.name(), "stack not deployed"));
            continue;
        }
        let wanted = &s.manifest.tags;
        let mut problems = Vec::new();
        let mut checked = 0;
        for r in &d.resources {
            let Some(template) = s.template.pointer(&format!("/Resources/{}", r.logical_id)) else {
                continue;
            };
            if template_tags(template).is_none() {
                continue; // not taggable (or declares no tags; the rule pack requires them)
            }
            let Some(id) = r.physical_id.as_deref() else {
                problems.push(format!("{}: no physical id", r.logical_id));
                continue;
            };
            let tags = soft(
                read_tags(
                    clients,
                    &r.resource_type,
                    id,
                    template,
                    &mut account,
                    &mut sns,
                )
                .await,
            )?;
            checked += 1;
            match tags {
                Err(msg) => problems.push(format!("{} {id}: {msg}", r.logical_id)),
                Ok(tags) => {
                    let missing = missing_tags(wanted, &tags);
                    if !missing.is_empty() {
                        problems.push(format!("{} {id}: {}", r.logical_id, missing.join(", ")));
                    }
                    carried.push((id.to_owned(), tags));
                }
            }
        }
        let want = wanted
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        report.checks.push(if problems.is_empty() {
            Check::pass(
                "tags",
                s.name(),
                format!("{checked} tagged resources carry {want}"),
            )
        } else {
            Check::fail("tags", s.name(), problems.join("; "))
        });
    }
    Ok(carried)
}

fn map_of<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn account_id(clients: &OpsClients, cache: &mut Option<String>) -> Result<String> {
    if let Some(a) = cache {
        return Ok(a.clone());
    }
    let out = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws("GetCallerIdentity", e))?;
    let a = out.account().unwrap_or_default().to_owned();
    *cache = Some(a.clone());
    Ok(a)
}

/// The tags a deployed resource carries, read from its own service.
async fn read_tags(
    clients: &OpsClients,
    type_name: &str,
    id: &str,
    template: &serde_json::Value,
    account: &mut Option<String>,
    sns: &mut Option<BTreeMap<String, BTreeMap<String, String>>>,
) -> Result<BTreeMap<String, String>> {
    match type_name {
        "AWS::S3::Bucket" => match clients.s3.get_bucket_tagging().bucket(id).send().await {
            Ok(o) => Ok(map_of(o.tag_set().iter().map(|t| (t.key(), t.value())))),
            Err(e) if code(&e) == Some("NoSuchTagSet") => Ok(BTreeMap::new()),
            Err(e) => Err(aws("GetBucketTagging", e)),
        },
        "AWS::Logs::LogGroup" => {
            #[allow(deprecated)]
            let o = clients
                .logs
                .list_tags_log_group()
                .log_group_name(id)
                .send()
                .await
                .map_err(|e| aws("ListTagsLogGroup", e))?;
            Ok(o.tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default())
        }
        "AWS::ECR::Repository" => {
            let repo = clients
                .ecr
                .describe_repositories()
                .repository_names(id)
                .send()
                .await
                .map_err(|e| aws("DescribeRepositories", e))?;
            let arn = repo
                .repositories()
                .first()
                .and_then(|r| r.repository_arn())
                .ok_or_else(|| OpsError::Invalid(format!("repository {id} has no ARN")))?
                .to_owned();
            let o = clients
                .ecr
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .map_err(|e| aws("ListTagsForResource (ECR)", e))?;
            Ok(map_of(o.tags().iter().map(|t| (t.key(), t.value()))))
        }
        "AWS::IAM::Role" => {
            let o = clients
                .iam
                .list_role_tags()
                .role_name(id)
                .send()
                .await
                .map_err(|e| aws("ListRoleTags", e))?;
            Ok(map_of(o.tags().iter().map(|t| (t.key(), t.value()))))
        }
        "AWS::SQS::Queue" => {
            let o = clients
                .sqs
                .list_queue_tags()
                .queue_url(id)
                .send()
                .await
                .map_err(|e| aws("ListQueueTags", e))?;
            Ok(o.tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default())
        }
        "AWS::SNS::Topic" => {
            if sns.is_none() {
                *sns = Some(tagged_resources(clients, &["sns"], &[]).await?);
            }
            Ok(sns
                .as_ref()
                .and_then(|m| m.get(id).cloned())
                .unwrap_or_default())
        }
        "AWS::EKS::Nodegroup" => {
            let (cluster, name) = match id.split_once('/') {
                Some((c, n)) => (c.to_owned(), n.to_owned()),
                None => (
                    template
                        .pointer("/Properties/ClusterName")
                        .and_then(|c| c.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                    id.to_owned(),
                ),
            };
            let o = clients
                .eks
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .send()
                .await
                .map_err(|e| aws("DescribeNodegroup", e))?;
            Ok(o.nodegroup()
                .and_then(|g| g.tags())
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default())
        }
        "AWS::EKS::PodIdentityAssociation" | "AWS::EKS::Cluster" | "AWS::EKS::Addon"
            if id.starts_with("arn:") =>
        {
            let o = clients
                .eks
                .list_tags_for_resource()
                .resource_arn(id)
                .send()
                .await
                .map_err(|e| aws("ListTagsForResource (EKS)", e))?;
            Ok(o.tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default())
        }
        "AWS::Scheduler::ScheduleGroup" => {
            let g = clients
                .scheduler
                .get_schedule_group()
                .name(id)
                .send()
                .await
                .map_err(|e| aws("GetScheduleGroup", e))?;
            let arn = g.arn().unwrap_or_default().to_owned();
            let o = clients
                .scheduler
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .map_err(|e| aws("ListTagsForResource (Scheduler)", e))?;
            Ok(map_of(o.tags().iter().map(|t| (t.key(), t.value()))))
        }
        "AWS::Budgets::Budget" => {
            let account = account_id(clients, account).await?;
            let o = clients
                .budgets
                .list_tags_for_resource()
                .resource_arn(format!("arn:aws:budgets::{account}:budget/{id}"))
                .send()
                .await
                .map_err(|e| aws("ListTagsForResource (Budgets)", e))?;
            Ok(map_of(
                o.resource_tags().iter().map(|t| (t.key(), t.value())),
            ))
        }
        other => Err(OpsError::Invalid(format!(
            "verify cannot read the tags of {other} yet"
        ))),
    }
}

/// Resources of `types` (tagging API type filters, e.g. `sns`, `ec2:volume`) carrying
/// every `(key, optional value)` of `filters`: ARN → tags.
pub async fn tagged_resources(
    clients: &OpsClients,
    types: &[&str],
    filters: &[(&str, Option<&str>)],
) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    use aws_sdk_resourcegroupstagging::types::TagFilter;
    let mut req = clients.tagging.get_resources();
    for t in types {
        req = req.resource_type_filters(*t);
    }
    for (k, v) in filters {
        let mut f = TagFilter::builder().key(*k);
        if let Some(v) = v {
            f = f.values(*v);
        }
        req = req.tag_filters(f.build());
    }
    // The paginator stops on an empty token too, as moto sends on the last page.
    let mappings = req
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| aws("GetResources", e))?;
    Ok(mappings
        .iter()
        .filter_map(|m| {
            Some((
                m.resource_arn()?.to_owned(),
                map_of(m.tags().iter().map(|t| (t.key(), t.value()))),
            ))
        })
        .collect())
}

// ---------------------------------------------------------------------------------------

async fn check_budgets(
    clients: &OpsClients,
    app: &AppView,
    carried: &Carried,
    report: &mut Report,
) -> Result<()> {
    let expected = expect::budgets(app);
    if expected.is_empty() {
        return Ok(());
    }
    let mut account_cache = None;
    let account = soft(account_id(clients, &mut account_cache).await)?;
    for b in &expected {
        let account = match &account {
            Ok(a) => a.clone(),
            Err(msg) => {
                report
                    .checks
                    .push(Check::fail("budget", &b.name, msg.clone()));
                continue;
            }
        };
        let found = soft(
            match clients
                .budgets
                .describe_budget()
                .account_id(&account)
                .budget_name(&b.name)
                .send()
                .await
            {
                Ok(o) => Ok(o.budget().cloned()),
                Err(e) if code(&e) == Some("NotFoundException") => Ok(None),
                Err(e) => Err(aws("DescribeBudget", e)),
            },
        )?;
        let budget = match found {
            Err(msg) => {
                report.checks.push(Check::fail("budget", &b.name, msg));
                continue;
            }
            Ok(None) => {
                report
                    .checks
                    .push(Check::fail("budget", &b.name, "budget does not exist"));
                continue;
            }
            Ok(Some(budget)) => budget,
        };
        // Presence, limit and period.
        let amount = budget
            .budget_limit()
            .map(|l| format!("{} {}", l.amount(), l.unit()))
            .unwrap_or_else(|| "no limit".into());
        let limit_ok = match (&b.limit, budget.budget_limit()) {
            (Some(want), Some(l)) => same_amount(want, l.amount()),
            (None, _) => true,
            (Some(_), None) => false,
        };
        let unit = budget.time_unit().as_str().to_owned();
        let unit_ok = b.time_unit.is_empty() || b.time_unit == unit;
        report.checks.push(Check::new(
            "budget",
            &b.name,
            Status::of(limit_ok && unit_ok),
            if limit_ok && unit_ok {
                format!("{amount} {unit}")
            } else {
                format!(
                    "{amount} {unit} (expected {} USD {})",
                    b.limit.as_deref().unwrap_or("?"),
                    b.time_unit
                )
            },
        ));
        // The filter: as synthesized, and on a tag resources really carry.
        // The construct writes `CostFilters` (what CloudFormation and the emulator take);
        // the SDK marks the field deprecated in favour of `FilterExpression`.
        #[allow(deprecated)]
        let deployed_filters: BTreeMap<String, Vec<String>> = budget
            .cost_filters()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let mut v = v.clone();
                        v.sort();
                        (k.clone(), v)
                    })
                    .collect()
            })
            .unwrap_or_default();
        report.checks.push(filter_check(
            &b.name,
            &b.cost_filters,
            &deployed_filters,
            carried,
        ));
        // Notifications (subscribers are a separate call, not compared).
        let notes = soft(
            clients
                .budgets
                .describe_notifications_for_budget()
                .account_id(&account)
                .budget_name(&b.name)
                .send()
                .await
                .map_err(|e| aws("DescribeNotificationsForBudget", e)),
        )?;
        report.checks.push(match notes {
            Err(msg) => Check::fail("budget.notifications", &b.name, msg),
            Ok(o) => {
                let found: BTreeSet<Notification> = o
                    .notifications()
                    .iter()
                    .map(|n| Notification {
                        kind: n.notification_type().as_str().to_owned(),
                        comparison: n.comparison_operator().as_str().to_owned(),
                        threshold: expect::threshold_text(n.threshold()),
                        threshold_type: n
                            .threshold_type()
                            .map(|t| t.as_str().to_owned())
                            .unwrap_or_else(|| "PERCENTAGE".into()),
                    })
                    .collect();
                notifications_check(&b.name, &b.notifications, &found)
            }
        });
        // Tag filters only work on tags activated for cost allocation.
        for (key, _) in tag_filters(&b.cost_filters) {
            let status = soft(cost_allocation_tag_status(clients, &key).await)?;
            report.checks.push(cost_tag_check(&key, status));
        }
    }
    Ok(())
}

/// The budget filter check: the deployed filters equal the synthesized ones, and every
/// tag they filter on is carried by the resources read in the tag check.
pub fn filter_check(
    budget: &str,
    expected: &BTreeMap<String, Vec<String>>,
    found: &BTreeMap<String, Vec<String>>,
    carried: &Carried,
) -> Check {
    let show = |m: &BTreeMap<String, Vec<String>>| {
        if m.is_empty() {
            "no filter".to_owned()
        } else {
            m.iter()
                .map(|(k, v)| format!("{k}: {}", v.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    if expected != found {
        return Check::fail(
            "budget.filter",
            budget,
            format!("{} (expected {})", show(found), show(expected)),
        );
    }
    let mut notes = Vec::new();
    let mut ok = true;
    for (k, v) in tag_filters(found) {
        let n = carried
            .iter()
            .filter(|(_, tags)| tags.get(&k) == Some(&v))
            .count();
        if n == 0 {
            ok = false;
            notes.push(format!(
                "no resource carries {k}={v} (of {} read): the budget watches nothing",
                carried.len()
            ));
        } else {
            notes.push(format!(
                "{k}={v} carried by {n} of {} resources read",
                carried.len()
            ));
        }
    }
    Check::new(
        "budget.filter",
        budget,
        Status::of(ok),
        format!("{}; {}", show(found), notes.join("; ")),
    )
}

/// The notifications check: the same set of notifications.
pub fn notifications_check(
    budget: &str,
    expected: &BTreeSet<Notification>,
    found: &BTreeSet<Notification>,
) -> Check {
    let show = |s: &BTreeSet<Notification>| {
        s.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if expected == found {
        Check::pass("budget.notifications", budget, show(found))
    } else {
        let missing: BTreeSet<_> = expected.difference(found).cloned().collect();
        let extra: BTreeSet<_> = found.difference(expected).cloned().collect();
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing {}", show(&missing)));
        }
        if !extra.is_empty() {
            parts.push(format!("unexpected {}", show(&extra)));
        }
        Check::fail("budget.notifications", budget, parts.join("; "))
    }
}

/// Cost Explorer's status of a user-defined tag key: `Active`, `Inactive`, or `None`
/// when Billing has never seen it.
pub async fn cost_allocation_tag_status(clients: &OpsClients, key: &str) -> Result<Option<String>> {
    use aws_sdk_costexplorer::types::CostAllocationTagType;
    let out = clients
        .ce
        .list_cost_allocation_tags()
        .tag_keys(key)
        .r#type(CostAllocationTagType::UserDefined)
        .send()
        .await
        .map_err(|e| aws("ListCostAllocationTags", e))?;
    Ok(out
        .cost_allocation_tags()
        .iter()
        .find(|t| t.tag_key() == key)
        .map(|t| t.status().as_str().to_owned()))
}

/// The cost-allocation-tag check from what Cost Explorer answered.
pub fn cost_tag_check(key: &str, status: std::result::Result<Option<String>, String>) -> Check {
    const ID: &str = "cost-allocation-tag";
    match status {
        Err(msg) => Check::fail(ID, key, msg),
        Ok(Some(s)) if s == "Active" => Check::pass(ID, key, "Active: the budget's tag filter can match costs"),
        Ok(Some(s)) => Check::fail(
            ID,
            key,
            format!("{s}: activate it in Billing > Cost allocation tags, or the budget's tag filter matches nothing"),
        ),
        Ok(None) => Check::fail(
            ID,
            key,
            "unknown to Billing (no cost seen with this tag yet, or never activated): the budget's tag filter matches nothing until it is activated",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(kind: &str, t: &str) -> Notification {
        Notification {
            kind: kind.into(),
            comparison: "GREATER_THAN".into(),
            threshold: t.into(),
            threshold_type: "PERCENTAGE".into(),
        }
    }

    #[test]
    fn budget_filter_must_match_and_be_carried() {
        let want = BTreeMap::from([(
            "TagKeyValue".to_owned(),
            vec!["user:Project$Shop".to_owned()],
        )]);
        let carried: Carried = vec![(
            "bucket".into(),
            BTreeMap::from([("Project".into(), "Shop".into())]),
        )];
        assert!(filter_check("b", &want, &want, &carried).passed());
        // The plan's defect: the filter names a value nobody carries.
        let other = BTreeMap::from([(
            "TagKeyValue".to_owned(),
            vec!["user:Project$ShopMLOps".to_owned()],
        )]);
        let c = filter_check("b", &other, &other, &carried);
        assert!(!c.passed());
        assert!(c.detail.contains("budget watches nothing"), "{}", c.detail);
        // Deployed differs from synthesized.
        let c = filter_check("b", &want, &other, &carried);
        assert!(!c.passed());
        assert!(
            c.detail.contains("expected TagKeyValue: user:Project$Shop"),
            "{}",
            c.detail
        );
        assert!(!filter_check("b", &want, &BTreeMap::new(), &carried).passed());
    }

    #[test]
    fn notifications_must_be_the_same_set() {
        let want = BTreeSet::from([note("ACTUAL", "80"), note("ACTUAL", "100")]);
        assert!(notifications_check("b", &want, &want).passed());
        let found = BTreeSet::from([note("ACTUAL", "80"), note("FORECASTED", "100")]);
        let c = notifications_check("b", &want, &found);
        assert!(!c.passed());
        assert_eq!(
            c.detail,
            "missing ACTUAL greater than 100%; unexpected FORECASTED greater than 100%"
        );
    }

    #[test]
    fn cost_allocation_tag_must_be_active() {
        assert!(cost_tag_check("Project", Ok(Some("Active".into()))).passed());
        assert!(!cost_tag_check("Project", Ok(Some("Inactive".into()))).passed());
        assert!(!cost_tag_check("Project", Ok(None)).passed());
        assert!(!cost_tag_check("Project", Err("could not read".into())).passed());
    }
}
