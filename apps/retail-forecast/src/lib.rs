//! The retail-forecast MLOps stack (EKS serving an API, SageMaker training, an S3 data
//! lake, CloudWatch logs, ECR images) as a Frugal app, for the `dev` and `prod`
//! environments.
//!
//! Each environment is three stacks, split by lifetime:
//! - `RetailForecast-<env>-Data`: what must outlive compute — the data bucket, the image
//!   repository, the log groups, and the execution role of SageMaker training jobs;
//! - `RetailForecast-<env>-Compute`: what a demo can destroy — the Spot node group, its
//!   off-hours schedules and the Cluster Autoscaler's Pod Identity role;
//! - `RetailForecast-<env>-Guardrails`: the account's budget and alert topic.
//!
//! Synthesis also writes the Kubernetes side of each environment to `k8s/<env>/`: the
//! API's PodDisruptionBudget and the Cluster Autoscaler (`kubectl apply -f`).
//!
//! Every name below is written once here and derived everywhere else. Each environment
//! is assumed to be its own AWS account, so only globally unique names (the bucket)
//! carry the environment.

#![warn(missing_docs)]

use frugal_constructs::iam::{PolicyDocument, Statement};
use frugal_constructs::{
    rules, Budget, BudgetProps, EndpointTarget, KeepRule, LogGroupName, OfficeHours, PrefixTier,
    PrunedRepo, PrunedRepoProps, RetainedLogGroup, RetainedLogGroupProps, RetentionDays, Scaling,
    Scheduler, SchedulerProps, ServiceRole, SpotNodeGroup, SpotNodeGroupProps, StorageClass,
    TieredBucket, TieredBucketProps, TimeOfDay, Transition,
};
use frugal_core::{fns, App, Output, Parameter, ParameterType, Stack, Violation, Violations};
use frugal_k8s::{
    pod_disruption_budget, render_yaml, ClusterAutoscaler, ClusterAutoscalerProps,
    KubernetesVersion, Labels,
};

/// App name.
pub const APP_NAME: &str = "retail-forecast";
/// Value of the `Project` tag on every taggable resource (the budget filters on it).
pub const PROJECT: &str = "RetailForecast";
/// Name prefix of the resources.
pub const NAME: &str = "retail-forecast";
/// The existing EKS cluster the node group joins.
pub const CLUSTER_NAME: &str = "retail-forecast-cluster";
/// The Kubernetes namespace of the API.
pub const NAMESPACE: &str = "retail-forecast";
/// The label identifying the API: on its pods (the PodDisruptionBudget selects it) and
/// on the nodes that serve it.
pub const API_LABEL: (&str, &str) = ("app", "retail-forecast-api");
/// The cluster's Kubernetes version: the Cluster Autoscaler image follows its minor
/// version. Change it with the cluster (an unsupported version fails compilation).
pub const KUBERNETES_VERSION: KubernetesVersion = KubernetesVersion::expect(1, 34);
/// Name of the API's PodDisruptionBudget.
pub const API_PDB_NAME: &str = "retail-forecast-api";
/// Instance types of the node group: interchangeable (2 vCPU, 4 GiB) for Spot diversity.
pub const NODE_INSTANCE_TYPES: [&str; 3] = ["t3.medium", "t3a.medium", "t2.medium"];

/// What differs between environments.
#[derive(Clone, Debug)]
pub struct Environment {
    /// `dev` or `prod`.
    pub name: &'static str,
    /// Termination protection on, destroy refuses, data is never purged.
    pub protected: bool,
    /// Subnets of the node group (the cluster's private subnets).
    pub subnet_ids: &'static [&'static str],
    /// Node counts.
    pub scaling: Scaling,
    /// When compute runs; `None` runs it around the clock.
    pub office_hours: Option<OfficeHours>,
    /// Retention of every log group.
    pub log_retention: RetentionDays,
    /// Monthly budget in USD.
    pub budget_usd: f64,
    /// Who gets budget alerts.
    pub budget_emails: &'static [&'static str],
    /// The SageMaker endpoint serving forecasts, if the environment has one.
    pub endpoint: Option<EndpointTarget>,
}

/// The environments: dev works office hours, prod serves around the clock.
pub fn environments() -> Vec<Environment> {
    vec![
        Environment {
            name: "dev",
            protected: false,
            subnet_ids: &["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
            scaling: Scaling {
                min: 2,
                desired: 2,
                max: 5,
            },
            office_hours: Some(OfficeHours::workdays(
                "UTC",
                TimeOfDay::new(7, 0),
                TimeOfDay::new(19, 0),
            )),
            log_retention: RetentionDays::OneWeek,
            budget_usd: 100.0,
            budget_emails: &["mlops-team@example.com"],
            endpoint: Some(EndpointTarget {
                endpoint_name: format!("{NAME}-dev"),
                endpoint_config_name: format!("{NAME}-dev-config"),
            }),
        },
        Environment {
            name: "prod",
            protected: true,
            subnet_ids: &["subnet-0f1e2d3c4b5a60001", "subnet-0f1e2d3c4b5a60002"],
            scaling: Scaling {
                min: 2,
                desired: 2,
                max: 5,
            },
            office_hours: None,
            log_retention: RetentionDays::OneMonth,
            budget_usd: 250.0,
            budget_emails: &["mlops-team@example.com"],
            endpoint: None,
        },
    ]
}

/// Stack name of `part` (`Data`, `Compute`, `Guardrails`) in `env`.
pub fn stack_name(env: &str, part: &str) -> String {
    format!("RetailForecast-{env}-{part}")
}

/// The API's labels, from [`API_LABEL`]: the node group's labels and the
/// PodDisruptionBudget's selector are this one value.
pub fn api_labels() -> Labels {
    Labels::from([(API_LABEL.0.to_owned(), API_LABEL.1.to_owned())])
}

/// Path of a Kubernetes file of `env` in the synthesized output, e.g. `k8s/dev/pdb.yaml`.
pub fn k8s_file(env: &str, file: &str) -> String {
    format!("k8s/{env}/{file}")
}

/// The data bucket's name in `env`.
pub fn bucket_name(env: &str) -> String {
    format!("{NAME}-data-{env}")
}

/// The whole app: every environment, tagged, with the cost-and-safety rule pack.
pub fn app() -> Result<App, Violations> {
    let mut app = App::new(APP_NAME);
    app.set_tag("Project", PROJECT);
    app.require_tags(["Project", "Environment"]);
    rules::add_rule_pack(&mut app);
    let mut errors = Violations::new();
    for env in environments() {
        match environment(&mut app, &env) {
            Ok(stacks) => stacks.into_iter().for_each(|s| app.add_stack(s)),
            Err(e) => errors.extend(e),
        }
    }
    errors.into_result(app)
}

fn env_stack(app: &App, env: &Environment, part: &str, description: &str) -> Stack {
    let mut stack = app.new_stack(stack_name(env.name, part));
    stack.set_tag("Environment", env.name);
    stack.set_protected(env.protected);
    stack.set_description(format!(
        "{PROJECT} {} ({}): {description}",
        env.name,
        part.to_lowercase()
    ));
    stack
}

/// The three stacks of one environment; adds its Kubernetes files to `app`.
pub fn environment(app: &mut App, env: &Environment) -> Result<Vec<Stack>, Violations> {
    let mut errors = Violations::new();

    // Data: outlives compute; retained on delete.
    let mut data = env_stack(app, env, "Data", "data lake, images and logs");
    let bucket = TieredBucket::new(
        &mut data.root(),
        "DataBucket",
        TieredBucketProps::new(bucket_name(env.name))
            .tier(PrefixTier::intelligent_tiering("raw/", 30).with_archive(90, 180))
            .tier(PrefixTier::intelligent_tiering("silver/", 30).with_archive(90, 180))
            .tier(PrefixTier::transitions("artifacts/", cold_storage()))
            .tier(PrefixTier::transitions("logs/", cold_storage()))
            .expire_tagged("tmp/", "temporary", "true", 7),
    );
    let repo = PrunedRepo::new(
        &mut data.root(),
        "ImageRepo",
        PrunedRepoProps::new(
            NAME,
            vec![
                KeepRule::Untagged { keep: 3 },
                KeepRule::TagPrefix {
                    prefix: "prod".into(),
                    keep: 3,
                },
                KeepRule::TagPrefix {
                    prefix: "stage".into(),
                    keep: 3,
                },
                KeepRule::TagPrefix {
                    prefix: "dev".into(),
                    keep: 3,
                },
                KeepRule::Any { keep: 10 },
            ],
        ),
    );
    let logs = [
        (
            "ClusterLogs",
            RetainedLogGroupProps::service_owned(
                LogGroupName::eks_cluster(CLUSTER_NAME),
                env.log_retention,
            ),
        ),
        (
            "ApiLogs",
            RetainedLogGroupProps::new(
                LogGroupName::custom(format!("/aws/{NAME}/api")),
                env.log_retention,
            ),
        ),
        (
            "TrainingLogs",
            RetainedLogGroupProps::service_owned(
                LogGroupName::sagemaker_training_jobs(),
                env.log_retention,
            ),
        ),
    ];
    for (id, props) in logs {
        if let Err(e) = RetainedLogGroup::new(&mut data.root(), id, props) {
            errors.extend(e);
        }
    }
    let (bucket, repo) = match (bucket, repo) {
        (Ok(b), Ok(r)) => (b, r),
        (b, r) => {
            errors.extend(b.err().unwrap_or_default());
            errors.extend(r.err().unwrap_or_default());
            return Err(errors);
        }
    };
    data.add_output(
        "DataBucketName",
        output(bucket.resource().ref_().into(), "The data lake bucket"),
    );
    data.add_output(
        "ImageRepositoryUri",
        output(repo.uri().into(), "Where images are pushed"),
    );
    // SageMaker training (`cargo xtask train`): the execution role jobs run with, allowed
    // only what a job does — read train/, write output/, read and write checkpoints/ (spot
    // jobs resume from them), pull the app's image, write the training-job logs.
    let training_role = ServiceRole::new(
        &mut data.root(),
        "TrainingRole",
        "sagemaker.amazonaws.com",
        training_policy(&bucket, &repo),
    );
    data.add_output(
        "TrainingRoleArn",
        output(
            training_role.arn().into(),
            "Execution role of SageMaker training jobs",
        ),
    );
    // Where jobs read, write and checkpoint: the prefixes the role allows, written once.
    for (id, prefix, description) in [
        (
            "TrainingDataUri",
            TRAIN_PREFIX,
            "Train channel of SageMaker training jobs",
        ),
        (
            "TrainingOutputUri",
            OUTPUT_PREFIX,
            "Where training jobs write models",
        ),
        (
            "TrainingCheckpointUri",
            CHECKPOINT_PREFIX,
            "Where spot training jobs keep checkpoints (one folder per job)",
        ),
    ] {
        data.add_output(
            id,
            output(
                format!("s3://{}/{prefix}", bucket.name()).into(),
                description,
            ),
        );
    }

    // Compute: can be destroyed after a demo.
    let mut compute = env_stack(app, env, "Compute", "Spot nodes and off-hours schedules");
    let subnets = compute.add_parameter(
        "NodeSubnetIds",
        Parameter::new(
            ParameterType::Aws("List<AWS::EC2::Subnet::Id>".into()),
            "Private subnets of the cluster",
        )
        .value(env.subnet_ids.join(",")),
    );
    let mut node_props = SpotNodeGroupProps::new(
        CLUSTER_NAME,
        format!("{NAME}-nodes"),
        subnets.as_list(),
        &NODE_INSTANCE_TYPES,
        env.scaling,
    );
    node_props.labels = api_labels();
    // The API reads model artifacts from the data stack's bucket (an export/import pair).
    node_props
        .node_policy_statements
        .push(frugal_constructs::iam::Statement::allow(
            ["s3:GetObject"],
            [fns::sub(
                "${Bucket}/artifacts/*",
                [("Bucket", bucket.arn().into_value())],
            )],
        ));
    let nodes = SpotNodeGroup::new(&mut compute.root(), "Nodes", node_props)?;
    if let Some(hours) = &env.office_hours {
        let mut props = SchedulerProps::new(hours.clone(), vec![nodes.clone()]);
        props.endpoints.extend(env.endpoint.clone());
        Scheduler::new(&mut compute.root(), "OffHours", props)?;
    }
    compute.add_output(
        "NodegroupName",
        output(nodes.nodegroup_name().into(), "The Spot node group"),
    );

    // Kubernetes side. The Cluster Autoscaler finds the node group's Auto Scaling group
    // by the tags EKS puts on the Auto Scaling group of every managed node group
    // (`k8s.io/cluster-autoscaler/enabled`, `k8s.io/cluster-autoscaler/<cluster>`); the
    // node group's own Tags would not reach it. Its AWS permissions (Pod Identity role and
    // association) live here, its objects in k8s/<env>/cluster-autoscaler.yaml.
    let autoscaler = ClusterAutoscaler::new(
        &mut compute.root(),
        "ClusterAutoscaler",
        ClusterAutoscalerProps::new(CLUSTER_NAME, KUBERNETES_VERSION, [nodes.nodegroup_name()]),
    )?;
    let header = |what: &str| {
        format!(
            "{what} of {PROJECT} {env}, cluster {CLUSTER_NAME} (Kubernetes {KUBERNETES_VERSION}).\n\
             Written by `cargo xtask synth` from apps/retail-forecast; do not edit.\n\
             Apply: kubectl apply -f cfn-out/{}",
            k8s_file(env.name, ""),
            env = env.name
        )
    };
    let pdb = pod_disruption_budget(API_PDB_NAME, NAMESPACE, &api_labels(), 1)
        .and_then(|pdb| render_yaml(&header("The API's PodDisruptionBudget"), &[pdb.into()]))
        .map_err(|e| k8s_error(&compute, "ApiPodDisruptionBudget", e))?;
    app.add_file(k8s_file(env.name, "pdb.yaml"), pdb);
    let objects = autoscaler
        .objects()
        .and_then(|objects| render_yaml(&header("Cluster Autoscaler"), &objects))
        .map_err(|e| k8s_error(&compute, "ClusterAutoscaler", e))?;
    app.add_file(k8s_file(env.name, "cluster-autoscaler.yaml"), objects);
    // Names the teardown workflow reads from the deployed stack instead of retyping them.
    compute.add_output(
        "ClusterName",
        output(CLUSTER_NAME.into(), "The EKS cluster the node group joins"),
    );
    compute.add_output(
        "ApiNamespace",
        output(NAMESPACE.into(), "Kubernetes namespace of the API"),
    );
    if let Some(endpoint) = &env.endpoint {
        compute.add_output(
            "ServingEndpointName",
            output(
                endpoint.endpoint_name.as_str().into(),
                "SageMaker endpoint serving forecasts",
            ),
        );
    }

    // Guardrails: budget and alert topic, filtered by the app's own Project tag.
    let mut guardrails = env_stack(app, env, "Guardrails", "budget and alerts");
    Budget::new(
        &mut guardrails.root(),
        "MonthlyBudget",
        BudgetProps::new(
            env.budget_usd,
            env.budget_emails.iter().map(|e| (*e).to_owned()).collect(),
        ),
    )?;
    errors.into_result(vec![data, compute, guardrails])
}

/// Prefixes of the data bucket a training job reads (train/), writes (output/) and
/// reads and writes (checkpoints/).
pub const TRAIN_PREFIX: &str = "train/";
/// Where training jobs write models.
pub const OUTPUT_PREFIX: &str = "output/";
/// Where spot training jobs keep checkpoints.
pub const CHECKPOINT_PREFIX: &str = "checkpoints/";

/// Least privilege for a SageMaker training job on the app's bucket and repository.
fn training_policy(bucket: &TieredBucket, repo: &PrunedRepo) -> PolicyDocument {
    let logs = LogGroupName::sagemaker_training_jobs();
    let log_arn = |suffix: &str| {
        fns::sub(
            format!(
                "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{}{suffix}",
                logs.as_str()
            ),
            [],
        )
    };
    PolicyDocument::new([
        Statement::allow(["s3:ListBucket"], [bucket.arn()])
            .sid("ListTrainingPrefixes")
            .condition(
                "StringLike",
                "s3:prefix",
                frugal_core::Value::List(
                    [TRAIN_PREFIX, CHECKPOINT_PREFIX]
                        .iter()
                        .map(|p| frugal_core::Value::from(format!("{p}*")))
                        .collect(),
                ),
            ),
        Statement::allow(
            ["s3:GetObject"],
            [
                bucket.objects_arn(TRAIN_PREFIX),
                bucket.objects_arn(CHECKPOINT_PREFIX),
            ],
        )
        .sid("ReadTrainingData"),
        Statement::allow(
            ["s3:PutObject", "s3:AbortMultipartUpload"],
            [
                bucket.objects_arn(OUTPUT_PREFIX),
                bucket.objects_arn(CHECKPOINT_PREFIX),
            ],
        )
        .sid("WriteModelsAndCheckpoints"),
        Statement::allow(
            [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            [repo.arn()],
        )
        .sid("PullTrainingImage"),
        // ECR's login token is not a resource: it cannot be scoped.
        Statement::allow(["ecr:GetAuthorizationToken"], ["*".into()]).sid("EcrLogin"),
        Statement::allow(
            [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            [log_arn(""), log_arn(":log-stream:*")],
        )
        .sid("TrainingJobLogs"),
        Statement::allow(["cloudwatch:PutMetricData"], ["*".into()])
            .sid("TrainingJobMetrics")
            .condition(
                "StringEquals",
                "cloudwatch:namespace",
                "/aws/sagemaker/TrainingJobs",
            ),
    ])
}

/// The plan's cold path for artifacts and logs: Glacier Instant Retrieval at 90 days,
/// Deep Archive at 180.
fn cold_storage() -> [Transition; 2] {
    [
        Transition {
            class: StorageClass::GlacierIr,
            after_days: 90,
        },
        Transition {
            class: StorageClass::DeepArchive,
            after_days: 180,
        },
    ]
}

fn k8s_error(stack: &Stack, id: &str, e: frugal_k8s::Error) -> Violations {
    Violation::new(
        format!("{}/{id}", stack.name()),
        "kubernetes",
        e.to_string(),
    )
    .into()
}

fn output(value: frugal_core::Value, description: &str) -> Output {
    Output {
        value,
        description: Some(description.to_owned()),
        export_name: None,
    }
}
