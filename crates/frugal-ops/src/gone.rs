//! `verify --gone`: after a teardown, list everything of the environment that still exists
//! — stacks, the resources their templates retain, and what no stack owns: SageMaker
//! endpoints the off-hours schedule created, training jobs still running, volumes and
//! load balancers Kubernetes created for the cluster, anything carrying the app's tags.
//! Found by the names the templates give, by name (the app's name), and by tag.

use std::collections::{BTreeMap, BTreeSet};

use crate::clients::OpsClients;
use crate::deployed::{describe, DeployedStack};
use crate::error::{aws, Result};
use crate::expect::{self, AppView};
use crate::report::{Check, Report};
use crate::verify::{
    code, log_groups_named, log_groups_with_prefix, read_schedules, soft, tagged_resources,
};
use frugal_deploy::Assembly;

/// What `--gone` accepts as left on purpose.
#[derive(Clone, Debug, Default)]
pub struct GoneOptions {
    /// The environment, e.g. `dev`.
    pub env: String,
    /// Stacks left standing on purpose (e.g. the budget and alert stack a teardown keeps):
    /// neither they nor their resources count as leftovers.
    pub keep: Vec<String>,
    /// Resources retained by `DeletionPolicy: Retain` (data) are reported but pass.
    pub keep_retained: bool,
}

/// Kubernetes tags the cluster's volume and load balancer controllers put on what they
/// create; `{cluster}` is replaced by the cluster name.
pub const KUBERNETES_TAG_KEYS: &[&str] = &[
    "kubernetes.io/cluster/{cluster}",
    "elbv2.k8s.aws/cluster",
    "KubernetesCluster",
];

/// Resource types Kubernetes creates on AWS that outlive the cluster's objects.
pub const KUBERNETES_RESOURCE_TYPES: &[&str] = &[
    "ec2:volume",
    "elasticloadbalancing:loadbalancer",
    "elasticloadbalancing:targetgroup",
];

/// Whether `arn` names the resource `name` (ends with it as a path or ARN component).
pub fn arn_names(arn: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    arn == name
        || arn
            .strip_suffix(name)
            .is_some_and(|head| head.ends_with(':') || head.ends_with('/'))
        || arn.contains(&format!(":{name}:"))
        || arn.contains(&format!("/{name}/"))
}

/// A leftover row: FAIL, or PASS for what was kept on purpose.
fn leftover(id: &str, resource: &str, what: &str, retained: bool, options: &GoneOptions) -> Check {
    if retained && options.keep_retained {
        Check::pass(
            id,
            resource,
            format!("{what}; retained on purpose (--keep-retained)"),
        )
    } else if retained {
        Check::fail(
            id,
            resource,
            format!(
                "{what}; retained by DeletionPolicy: delete it by hand once its data is not needed"
            ),
        )
    } else {
        Check::fail(id, resource, what.to_owned())
    }
}

/// Lists what of the environment still exists. Exit status follows [`Report::passed`].
pub async fn gone(
    clients: &OpsClients,
    assembly: &Assembly,
    options: &GoneOptions,
) -> Result<Report> {
    let app = AppView::from_assembly(assembly, &options.env)?;
    for k in &options.keep {
        if app.stack(k).is_none() {
            return Err(crate::error::OpsError::Selection(format!(
                "--keep {k}: not a stack of {} {}",
                app.app, app.env
            )));
        }
    }
    let keep: BTreeSet<&str> = options.keep.iter().map(String::as_str).collect();
    let mut report = Report::default();
    // Names of kept stacks' resources: not leftovers.
    let mut kept_ids: Vec<String> = Vec::new();
    let mut deployed: Vec<DeployedStack> = Vec::new();
    for s in &app.stacks {
        let d = describe(clients, s.name()).await?;
        if keep.contains(s.name()) {
            // The stack itself carries the app's tags too.
            kept_ids.push(s.name().to_owned());
            kept_ids.extend(d.resources.iter().filter_map(|r| r.physical_id.clone()));
            kept_ids.extend(d.outputs.values().cloned());
            report.checks.push(Check::pass(
                "gone.stack",
                s.name(),
                match &d.status {
                    Some(st) => format!("{st}; kept on purpose (--keep)"),
                    None => "not deployed (--keep)".into(),
                },
            ));
        } else {
            report.checks.push(match &d.status {
                None => Check::pass("gone.stack", s.name(), "does not exist"),
                Some(st) => Check::fail("gone.stack", s.name(), format!("still exists ({st})")),
            });
        }
        deployed.push(d);
    }
    let is_kept = |name: &str| kept_ids.iter().any(|k| k == name || arn_names(k, name));
    let kept_stack = |stack: &str| keep.contains(stack);
    let mut reported: Vec<String> = Vec::new();

    // Buckets.
    for b in expect::buckets(&app) {
        if kept_stack(&b.stack) {
            continue;
        }
        let Some(name) = b.name.clone() else { continue };
        let exists = soft(match clients.s3.head_bucket().bucket(&name).send().await {
            Ok(_) => Ok(true),
            Err(e) if matches!(code(&e), Some("NotFound" | "NoSuchBucket")) => Ok(false),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
            Err(e) => Err(aws("HeadBucket", e)),
        })?;
        report.checks.push(match exists {
            Err(msg) => Check::fail("gone.bucket", &name, msg),
            Ok(false) => Check::pass("gone.bucket", &name, "does not exist"),
            Ok(true) => {
                reported.push(name.clone());
                leftover(
                    "gone.bucket",
                    &name,
                    "bucket still exists",
                    b.retained,
                    options,
                )
            }
        });
    }

    // Repositories.
    for r in expect::repositories(&app) {
        if kept_stack(&r.stack) {
            continue;
        }
        let exists = soft(
            match clients
                .ecr
                .describe_repositories()
                .repository_names(&r.name)
                .send()
                .await
            {
                Ok(o) => Ok(!o.repositories().is_empty()),
                Err(e) if code(&e) == Some("RepositoryNotFoundException") => Ok(false),
                Err(e) => Err(aws("DescribeRepositories", e)),
            },
        )?;
        report.checks.push(match exists {
            Err(msg) => Check::fail("gone.repository", &r.name, msg),
            Ok(false) => Check::pass("gone.repository", &r.name, "does not exist"),
            Ok(true) => {
                reported.push(r.name.clone());
                leftover(
                    "gone.repository",
                    &r.name,
                    "repository still exists",
                    r.retained,
                    options,
                )
            }
        });
    }

    // Log groups: the app's own, the ones services created, and any named after the app.
    let mut log_names: BTreeMap<String, bool> = BTreeMap::new();
    // Groups AWS services create for what the app does not own (the cluster, SageMaker).
    let mut service_logs: BTreeSet<String> = BTreeSet::new();
    for l in expect::log_groups(&app) {
        if !kept_stack(&l.stack) {
            if matches!(l.owner, expect::LogOwner::Service(_)) {
                service_logs.insert(l.name.clone());
            }
            log_names.insert(l.name, l.retained);
        }
    }
    // Name → retention in days (None: never expires).
    let mut found_logs: BTreeMap<String, Option<i32>> = BTreeMap::new();
    for name in log_names.keys() {
        match soft(log_groups_with_prefix(clients, name).await)? {
            Ok(groups) => found_logs.extend(groups.into_iter().filter(|(n, _)| n == name)),
            Err(msg) => report.checks.push(Check::fail("gone.log-group", name, msg)),
        }
    }
    match soft(log_groups_named(clients, &app.app).await)? {
        Ok(groups) => found_logs.extend(groups),
        Err(msg) => {
            report
                .checks
                .push(Check::fail("gone.log-group", format!("*{}*", app.app), msg))
        }
    }
    for (name, retention) in &found_logs {
        if is_kept(name) {
            continue;
        }
        reported.push(name.clone());
        if let (true, Some(days)) = (service_logs.contains(name), retention) {
            // The service that writes it (the cluster, SageMaker) is not the app's, so a
            // teardown does not delete it; with a retention its stored logs age out.
            report.checks.push(Check::pass(
                "gone.log-group",
                name,
                format!(
                    "exists: AWS created it for a service the app does not own; its logs expire after {days} days"
                ),
            ));
            continue;
        }
        let retained = log_names.get(name).copied().unwrap_or(false);
        report.checks.push(leftover(
            "gone.log-group",
            name,
            "log group still exists (stored logs are billed)",
            retained,
            options,
        ));
    }
    if found_logs.keys().all(|n| is_kept(n)) {
        report.checks.push(Check::pass(
            "gone.log-group",
            format!("*{}*", app.app),
            "no log group of the app exists",
        ));
    }

    // Node groups (the cluster itself is not the app's: its node groups join it).
    for n in expect::nodegroups(&app) {
        let exists = soft(
            match clients
                .eks
                .describe_nodegroup()
                .cluster_name(&n.cluster)
                .nodegroup_name(&n.name)
                .send()
                .await
            {
                Ok(o) => Ok(o.nodegroup().map(|g| {
                    g.status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_else(|| "exists".into())
                })),
                Err(e) if code(&e) == Some("ResourceNotFoundException") => Ok(None),
                Err(e) => Err(aws("DescribeNodegroup", e)),
            },
        )?;
        report.checks.push(match exists {
            Err(msg) => Check::fail("gone.nodegroup", n.resource(), msg),
            Ok(None) => Check::pass("gone.nodegroup", n.resource(), "does not exist"),
            Ok(Some(status)) => Check::fail(
                "gone.nodegroup",
                n.resource(),
                format!("node group still exists ({status}); its Spot nodes are billed"),
            ),
        });
    }

    // Schedules would go on firing (recreating the endpoint, scaling a node group back up).
    let schedules: Vec<_> = expect::schedules(&app)
        .into_iter()
        .filter(|e| !kept_stack(&e.stack))
        .collect();
    if !schedules.is_empty() {
        match soft(read_schedules(clients).await)? {
            Err(msg) => report
                .checks
                .push(Check::fail("gone.schedule", "schedules", msg)),
            Ok(found) => {
                let mut any = false;
                for e in &schedules {
                    if let Some(f) = expect::match_schedule(e, &found, None) {
                        any = true;
                        report.checks.push(Check::fail(
                            "gone.schedule",
                            format!("{}/{}", f.group, f.name),
                            format!(
                                "schedule still exists ({} {}: {})",
                                f.state, f.expression, e.description
                            ),
                        ));
                    }
                }
                if !any {
                    report.checks.push(Check::pass(
                        "gone.schedule",
                        "schedules",
                        format!("none of the app's {} schedules exists", schedules.len()),
                    ));
                }
            }
        }
    }

    // Budgets (of stacks not kept).
    let budgets: Vec<_> = expect::budgets(&app)
        .into_iter()
        .filter(|b| !kept_stack(&b.stack))
        .collect();
    if !budgets.is_empty() {
        let account = soft(account_id(clients).await)?;
        for b in budgets {
            let exists = match &account {
                Err(msg) => Err(msg.clone()),
                Ok(account) => soft(
                    match clients
                        .budgets
                        .describe_budget()
                        .account_id(account)
                        .budget_name(&b.name)
                        .send()
                        .await
                    {
                        Ok(o) => Ok(o.budget().is_some()),
                        Err(e) if code(&e) == Some("NotFoundException") => Ok(false),
                        Err(e) => Err(aws("DescribeBudget", e)),
                    },
                )?,
            };
            report.checks.push(match exists {
                Err(msg) => Check::fail("gone.budget", &b.name, msg),
                Ok(false) => Check::pass("gone.budget", &b.name, "does not exist"),
                Ok(true) => Check::fail("gone.budget", &b.name, "budget still exists"),
            });
        }
    }

    // SageMaker endpoints: the ones the app names, and any named after the app.
    let mut endpoints: BTreeMap<String, String> = BTreeMap::new();
    for name in expect::endpoint_names(&app) {
        match soft(
            match clients
                .sagemaker
                .describe_endpoint()
                .endpoint_name(&name)
                .send()
                .await
            {
                Ok(o) => Ok(Some(
                    o.endpoint_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                )),
                Err(e) if code(&e) == Some("ValidationException") => Ok(None),
                Err(e) => Err(aws("DescribeEndpoint", e)),
            },
        )? {
            Ok(Some(status)) => {
                endpoints.insert(name, status);
            }
            Ok(None) => {}
            Err(msg) => report.checks.push(Check::fail("gone.endpoint", &name, msg)),
        }
    }
    match soft(endpoints_named(clients, &app.app).await)? {
        Ok(found) => endpoints.extend(found),
        Err(msg) => report
            .checks
            .push(Check::fail("gone.endpoint", format!("*{}*", app.app), msg)),
    }
    if endpoints.is_empty() {
        report.checks.push(Check::pass(
            "gone.endpoint",
            format!("*{}*", app.app),
            "no SageMaker endpoint of the app exists",
        ));
    }
    for (name, status) in &endpoints {
        reported.push(name.clone());
        report.checks.push(Check::fail(
            "gone.endpoint",
            name,
            format!("endpoint still exists ({status}); its instances are billed by the hour"),
        ));
    }

    // Training jobs still running.
    match soft(running_training_jobs(clients, &app.app).await)? {
        Err(msg) => report.checks.push(Check::fail(
            "gone.training-job",
            format!("*{}*", app.app),
            msg,
        )),
        Ok(jobs) if jobs.is_empty() => report.checks.push(Check::pass(
            "gone.training-job",
            format!("*{}*", app.app),
            "no training job of the app is running",
        )),
        Ok(jobs) => {
            for j in jobs {
                report.checks.push(Check::fail(
                    "gone.training-job",
                    j,
                    "training job still running",
                ));
            }
        }
    }

    // What Kubernetes created for the app's clusters.
    for cluster in expect::clusters(&app) {
        let mut found: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for key in KUBERNETES_TAG_KEYS {
            let key = key.replace("{cluster}", &cluster);
            let value = if key.contains(&cluster) {
                None
            } else {
                Some(cluster.as_str())
            };
            match soft(
                tagged_resources(clients, KUBERNETES_RESOURCE_TYPES, &[(&key, value)]).await,
            )? {
                Ok(r) => found.extend(r),
                Err(msg) => report
                    .checks
                    .push(Check::fail("gone.kubernetes", &key, msg)),
            }
        }
        if found.is_empty() {
            report.checks.push(Check::pass(
                "gone.kubernetes",
                &cluster,
                "no volume or load balancer tagged for the cluster exists",
            ));
        }
        for arn in found.keys() {
            reported.push(arn.clone());
            report.checks.push(Check::fail(
                "gone.kubernetes",
                arn,
                format!("created by Kubernetes for {cluster} and still exists (billed)"),
            ));
        }
    }

    // Anything else carrying the app's tags (the environment's stack tags).
    let tags: BTreeMap<&str, &str> = app
        .stacks
        .iter()
        .flat_map(|s| s.manifest.tags.iter())
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let filters: Vec<(&str, Option<&str>)> = tags.iter().map(|(k, v)| (*k, Some(*v))).collect();
    match soft(tagged_resources(clients, &[], &filters).await)? {
        Err(msg) => report.checks.push(Check::fail("gone.tagged", "tags", msg)),
        Ok(found) => {
            let rest: Vec<&String> = found
                .keys()
                .filter(|arn| !is_kept(arn) && !reported.iter().any(|n| arn_names(arn, n)))
                .filter(|arn| !kept_ids.iter().any(|k| arn_names(arn, k) || *arn == k))
                .collect();
            let label = filters
                .iter()
                .map(|(k, v)| format!("{k}={}", v.unwrap_or("*")))
                .collect::<Vec<_>>()
                .join(",");
            if rest.is_empty() {
                report.checks.push(Check::pass(
                    "gone.tagged",
                    &label,
                    "nothing else carries the app's tags",
                ));
            }
            for arn in rest {
                report.checks.push(Check::fail(
                    "gone.tagged",
                    arn,
                    format!("carries {label} and still exists"),
                ));
            }
        }
    }
    Ok(report)
}

/// The account id (budgets are addressed by account).
async fn account_id(clients: &OpsClients) -> Result<String> {
    let out = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws("GetCallerIdentity", e))?;
    Ok(out.account().unwrap_or_default().to_owned())
}

/// Endpoints whose name contains `needle`: name → status.
async fn endpoints_named(clients: &OpsClients, needle: &str) -> Result<BTreeMap<String, String>> {
    let endpoints = clients
        .sagemaker
        .list_endpoints()
        .name_contains(needle)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| aws("ListEndpoints", e))?;
    Ok(endpoints
        .iter()
        .map(|e| {
            (
                e.endpoint_name().unwrap_or_default().to_owned(),
                e.endpoint_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect())
}

/// Training jobs in progress whose name contains `needle`.
async fn running_training_jobs(clients: &OpsClients, needle: &str) -> Result<Vec<String>> {
    use aws_sdk_sagemaker::types::TrainingJobStatus;
    let jobs = clients
        .sagemaker
        .list_training_jobs()
        .name_contains(needle)
        .status_equals(TrainingJobStatus::InProgress)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| aws("ListTrainingJobs", e))?;
    Ok(jobs
        .iter()
        .filter_map(|j| j.training_job_name().map(str::to_owned))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_resources_by_their_last_component() {
        assert!(arn_names("arn:aws:s3:::shop-data-dev", "shop-data-dev"));
        assert!(arn_names(
            "arn:aws:logs:us-east-1:1:log-group:/aws/shop/api",
            "/aws/shop/api"
        ));
        assert!(arn_names(
            "arn:aws:logs:us-east-1:1:log-group:/aws/shop/api:*",
            "/aws/shop/api"
        ));
        assert!(!arn_names(
            "arn:aws:s3:::shop-data-dev-old",
            "shop-data-dev"
        ));
        assert!(!arn_names("arn:aws:s3:::x", ""));
    }

    #[test]
    fn retained_leftovers_pass_only_when_kept_on_purpose() {
        let mut o = GoneOptions::default();
        assert!(!leftover("gone.bucket", "b", "exists", true, &o).passed());
        assert!(!leftover("gone.bucket", "b", "exists", false, &o).passed());
        o.keep_retained = true;
        assert!(leftover("gone.bucket", "b", "exists", true, &o).passed());
        assert!(!leftover("gone.bucket", "b", "exists", false, &o).passed());
    }
}
