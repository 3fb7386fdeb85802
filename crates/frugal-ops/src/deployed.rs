//! What CloudFormation says is deployed: stack status, outputs, resources.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use frugal_deploy::cfn::{stack_resources, StackResource};

use crate::clients::OpsClients;
use crate::error::{aws, OpsError, Result};
use crate::expect::AppView;

/// One stack as deployed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeployedStack {
    /// Stack name.
    pub name: String,
    /// Status; `None` when the stack does not exist (or is `DELETE_COMPLETE`).
    pub status: Option<String>,
    /// Output values by key.
    pub outputs: BTreeMap<String, String>,
    /// Resources CloudFormation lists for it (emulators omit the types they skip).
    pub resources: Vec<StackResource>,
}

impl DeployedStack {
    /// Whether the stack exists.
    pub fn exists(&self) -> bool {
        self.status.is_some()
    }

    /// Whether its last operation succeeded.
    pub fn is_complete(&self) -> bool {
        matches!(
            self.status.as_deref(),
            Some("CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE")
        )
    }

    /// The physical id of a logical resource.
    pub fn physical_id(&self, logical_id: &str) -> Option<&str> {
        self.resources
            .iter()
            .find(|r| r.logical_id == logical_id)
            .and_then(|r| r.physical_id.as_deref())
    }
}

/// Describes the stack `name`: status, outputs and (when it exists) resources.
pub async fn describe(clients: &OpsClients, name: &str) -> Result<DeployedStack> {
    let out = match clients.cfn.describe_stacks().stack_name(name).send().await {
        Ok(o) => o,
        Err(e)
            if e.code() == Some("ValidationError")
                && e.message().is_some_and(|m| m.contains("does not exist")) =>
        {
            return Ok(DeployedStack {
                name: name.to_owned(),
                ..Default::default()
            })
        }
        Err(e) => return Err(aws("DescribeStacks", e)),
    };
    let Some(stack) = out.stacks().first() else {
        return Ok(DeployedStack {
            name: name.to_owned(),
            ..Default::default()
        });
    };
    let status = stack.stack_status().map(|s| s.as_str().to_owned());
    if status.as_deref() == Some("DELETE_COMPLETE") {
        return Ok(DeployedStack {
            name: name.to_owned(),
            ..Default::default()
        });
    }
    let outputs = stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect();
    let id = stack.stack_id().unwrap_or(name).to_owned();
    let resources = stack_resources(&clients.cfn, &id)
        .await
        .map_err(OpsError::from)?
        .into_iter()
        // Emulators list the types they skip without an id or type.
        .filter(|r| !r.logical_id.is_empty() && !r.resource_type.is_empty())
        .collect();
    Ok(DeployedStack {
        name: name.to_owned(),
        status,
        outputs,
        resources,
    })
}

/// Describes every stack of the environment, in the app's order.
pub async fn describe_all(clients: &OpsClients, app: &AppView) -> Result<Vec<DeployedStack>> {
    let mut out = Vec::with_capacity(app.stacks.len());
    for s in &app.stacks {
        out.push(describe(clients, s.name()).await?);
    }
    Ok(out)
}

/// The value of output `key` of the deployed stack that declares it.
pub fn output<'a>(app: &AppView, deployed: &'a [DeployedStack], key: &str) -> Result<&'a str> {
    let stack = app.stack_with_output(key).ok_or_else(|| {
        OpsError::Selection(format!(
            "no stack of {} {} declares output {key}; synthesize the current app",
            app.app, app.env
        ))
    })?;
    let d = deployed
        .iter()
        .find(|d| d.name == stack.name())
        .filter(|d| d.exists())
        .ok_or_else(|| OpsError::NotDeployed(stack.name().to_owned()))?;
    d.outputs
        .get(key)
        .map(String::as_str)
        .ok_or_else(|| OpsError::MissingOutput {
            stack: stack.name().to_owned(),
            output: key.to_owned(),
        })
}
