//! Staging templates over the inline limit in an S3 bucket.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration,
};
use sha2::{Digest, Sha256};

use crate::aws::{aws_error, Clients};
use crate::error::Result;

/// The default staging bucket name for an account and region.
pub fn default_bucket(account: &str, region: &str) -> String {
    format!("frugal-staging-{account}-{region}")
}

/// The URL CloudFormation reads a staged template from.
pub fn template_url(endpoint: Option<&str>, bucket: &str, region: &str, key: &str) -> String {
    match endpoint {
        Some(e) => format!("{}/{bucket}/{key}", e.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
    }
}

/// Uploads `body` (creating the bucket, private, when missing) and returns its URL.
pub async fn stage_template(
    clients: &Clients,
    endpoint: Option<&str>,
    bucket: Option<&str>,
    stack: &str,
    body: &str,
) -> Result<String> {
    let bucket = match bucket {
        Some(b) => b.to_owned(),
        None => {
            let id = clients
                .sts
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| aws_error("GetCallerIdentity", e))?;
            default_bucket(id.account().unwrap_or("account"), &clients.region)
        }
    };
    if clients
        .s3
        .head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .is_err()
    {
        let mut create = clients.s3.create_bucket().bucket(&bucket);
        if clients.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(clients.region.as_str()))
                    .build(),
            );
        }
        create
            .send()
            .await
            .map_err(|e| aws_error("CreateBucket", e))?;
        clients
            .s3
            .put_public_access_block()
            .bucket(&bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .block_public_policy(true)
                    .ignore_public_acls(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| aws_error("PutPublicAccessBlock", e))?;
    }
    let sha: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let key = format!("templates/{stack}/{sha}.json");
    clients
        .s3
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .content_type("application/json")
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .map_err(|e| aws_error("PutObject", e))?;
    Ok(template_url(endpoint, &bucket, &clients.region, &key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            template_url(None, "b", "eu-west-1", "k.json"),
            "https://b.s3.eu-west-1.amazonaws.com/k.json"
        );
        assert_eq!(
            template_url(Some("http://127.0.0.1:5000/"), "b", "us-east-1", "k"),
            "http://127.0.0.1:5000/b/k"
        );
        assert_eq!(
            default_bucket("123456789012", "us-east-1"),
            "frugal-staging-123456789012-us-east-1"
        );
    }
}
