//! The AWS clients the operations use, built from one SDK configuration.

use aws_config::SdkConfig;
use frugal_deploy::AwsOptions;

/// One client per service the operations read (or, for training, write).
#[derive(Clone, Debug)]
pub struct OpsClients {
    /// CloudFormation: stacks, outputs, stack resources.
    pub cfn: aws_sdk_cloudformation::Client,
    /// S3: lifecycle, Intelligent-Tiering, tags, existence.
    pub s3: aws_sdk_s3::Client,
    /// ECR: lifecycle policy, tags, existence.
    pub ecr: aws_sdk_ecr::Client,
    /// EKS: node groups.
    pub eks: aws_sdk_eks::Client,
    /// CloudWatch Logs: retention.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// Budgets.
    pub budgets: aws_sdk_budgets::Client,
    /// EventBridge Scheduler.
    pub scheduler: aws_sdk_scheduler::Client,
    /// Resource Groups Tagging: resources by tag.
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// Cost Explorer: cost allocation tags.
    pub ce: aws_sdk_costexplorer::Client,
    /// SageMaker: endpoints, training jobs.
    pub sagemaker: aws_sdk_sagemaker::Client,
    /// IAM: role tags.
    pub iam: aws_sdk_iam::Client,
    /// SQS: queue tags.
    pub sqs: aws_sdk_sqs::Client,
    /// STS: the account id (budget ARNs).
    pub sts: aws_sdk_sts::Client,
}

impl OpsClients {
    /// Clients for `config` (S3 path-style when an endpoint is set: a local emulator).
    pub fn from_config(config: &SdkConfig) -> OpsClients {
        OpsClients {
            cfn: aws_sdk_cloudformation::Client::new(config),
            s3: frugal_deploy::aws::s3_client(config),
            ecr: aws_sdk_ecr::Client::new(config),
            eks: aws_sdk_eks::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            budgets: aws_sdk_budgets::Client::new(config),
            scheduler: aws_sdk_scheduler::Client::new(config),
            tagging: aws_sdk_resourcegroupstagging::Client::new(config),
            ce: aws_sdk_costexplorer::Client::new(config),
            sagemaker: aws_sdk_sagemaker::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
        }
    }

    /// Loads configuration and credentials through the standard chain (environment,
    /// shared files, SSO, …) with `options`' profile, region and endpoint overrides, and
    /// the deploy engine's retry settings.
    pub async fn connect(options: &AwsOptions) -> OpsClients {
        OpsClients::from_config(&frugal_deploy::aws::load_config(options).await)
    }
}
