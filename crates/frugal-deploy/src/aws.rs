//! AWS access: the standard credential chain, per-region clients, retry settings, and
//! turning SDK errors into [`DeployError`]s (expired credentials get one clear line).

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex, PoisonError};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::retry::RetryConfig;

use crate::error::DeployError;

/// How to reach AWS: profile, region and endpoint (a local emulator) overrides of the
/// standard chain (environment, shared config and credentials files, SSO, …).
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    /// Named profile (`--profile`).
    pub profile: Option<String>,
    /// Region (`--region`).
    pub region: Option<String>,
    /// Endpoint for every service (`--endpoint-url`), e.g. `http://127.0.0.1:5000`.
    pub endpoint_url: Option<String>,
}

/// The retry settings: the SDK's standard mode (exponential backoff with jitter, for
/// throttling, 5xx and transient network errors), with more attempts than its default 3
/// because stack polling runs long.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(6)
}

/// Loads configuration and credentials through the standard chain (environment, shared
/// files, SSO, …) with `options`' profile, region and endpoint overrides and
/// [`retry_config`]: the one way every Frugal command reaches AWS.
pub async fn load_config(options: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
    if let Some(p) = &options.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &options.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(e) = &options.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    loader.load().await
}

/// An S3 client for `config`, path-style when an endpoint is set (a local emulator on
/// `localhost` cannot serve virtual-hosted bucket names).
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(config.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// The clients one region needs.
#[derive(Clone, Debug)]
pub struct Clients {
    /// CloudFormation.
    pub cfn: aws_sdk_cloudformation::Client,
    /// S3 (staging uploads, purging buckets).
    pub s3: aws_sdk_s3::Client,
    /// ECR (purging repositories).
    pub ecr: aws_sdk_ecr::Client,
    /// STS (the account id for the staging bucket name).
    pub sts: aws_sdk_sts::Client,
    /// CloudWatch Logs (deleting retained log groups).
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// The region.
    pub region: String,
}

impl Clients {
    /// Clients for the region of `config` (S3 path-style when an endpoint is set).
    pub fn from_config(config: &SdkConfig) -> Clients {
        Clients {
            cfn: aws_sdk_cloudformation::Client::new(config),
            s3: s3_client(config),
            ecr: aws_sdk_ecr::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            region: config
                .region()
                .map(ToString::to_string)
                .unwrap_or_else(|| "us-east-1".to_owned()),
        }
    }
}

/// A connection to AWS: the loaded configuration and clients per region.
#[derive(Clone, Debug)]
pub struct Session {
    config: SdkConfig,
    default: Clients,
    by_region: Arc<Mutex<HashMap<String, Clients>>>,
}

impl Session {
    /// Loads configuration and credentials through the standard chain with `options`'
    /// overrides.
    pub async fn connect(options: &AwsOptions) -> Session {
        Session::from_config(load_config(options).await)
    }

    /// A session over an already loaded configuration.
    pub fn from_config(config: SdkConfig) -> Session {
        let default = Clients::from_config(&config);
        Session {
            config,
            default,
            by_region: Arc::default(),
        }
    }

    /// A session over given clients (tests: mocked clients); other regions are not
    /// available.
    pub fn from_clients(clients: Clients) -> Session {
        let config = SdkConfig::builder()
            .region(Region::new(clients.region.clone()))
            .behavior_version(BehaviorVersion::latest())
            .build();
        let mut by_region = HashMap::new();
        by_region.insert(clients.region.clone(), clients.clone());
        Session {
            config,
            default: clients,
            by_region: Arc::new(Mutex::new(by_region)),
        }
    }

    /// The clients for `region` (None: the configured region).
    pub fn clients(&self, region: Option<&str>) -> Clients {
        let Some(region) = region.filter(|r| *r != self.default.region) else {
            return self.default.clone();
        };
        let mut map = self
            .by_region
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(region.to_owned())
            .or_insert_with(|| {
                let conf = self
                    .config
                    .to_builder()
                    .region(Region::new(region.to_owned()))
                    .build();
                Clients::from_config(&conf)
            })
            .clone()
    }

    /// The configured endpoint override, if any.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.config.endpoint_url()
    }
}

const EXPIRED_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "TokenRefreshRequired",
];
const INVALID_CODES: &[&str] = &[
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "IncompleteSignature",
];

fn source_chain(e: &dyn StdError) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    parts.join(": ")
}

/// The chain's messages on one line, whitespace (a provider list's newlines) collapsed.
fn one_line(e: &dyn StdError) -> String {
    source_chain(e)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Converts an SDK error of `operation` into a [`DeployError`]: expired or missing
/// credentials become their own variants, everything else keeps code and message.
pub fn aws_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> DeployError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let message = err.message().map(str::to_owned);
    match (&err, code.as_deref()) {
        (_, Some(c)) if EXPIRED_CODES.contains(&c) => {
            DeployError::ExpiredCredentials(format!("{c}: {}", message.unwrap_or_default()))
        }
        (_, Some(c)) if INVALID_CODES.contains(&c) => {
            DeployError::NoCredentials(format!("{c}: {}", message.unwrap_or_default()))
        }
        (SdkError::ConstructionFailure(_) | SdkError::DispatchFailure(_), _) => {
            let chain = one_line(&err);
            let lower = chain.to_lowercase();
            let expired = lower.contains("expired")
                && (lower.contains("token")
                    || lower.contains("credential")
                    || lower.contains("sso"));
            if expired || lower.contains("sso token") {
                DeployError::ExpiredCredentials(chain)
            } else if lower.contains("credentials") || lower.contains("identity") {
                DeployError::NoCredentials(chain)
            } else {
                DeployError::Aws {
                    operation,
                    code,
                    message: chain,
                }
            }
        }
        _ => DeployError::Aws {
            operation,
            // Without a service message, the causes (the SDK's debug form would add the
            // whole raw response).
            message: message.unwrap_or_else(|| one_line(&err)),
            code,
        },
    }
}
