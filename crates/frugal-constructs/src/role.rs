//! [`ServiceRole`]: an IAM role an AWS service assumes, with one least-privilege inline policy.

use frugal_cfn::iam::role::{Policy, Role};
use frugal_core::{Expr, ResourceHandle, Scope};

use crate::iam::PolicyDocument;

/// An IAM role for an AWS service (`scheduler.amazonaws.com`, `ec2.amazonaws.com`, …).
///
/// The role's name is left to CloudFormation, so deploying needs only `CAPABILITY_IAM`.
#[derive(Clone, Debug)]
pub struct ServiceRole {
    resource: ResourceHandle,
}

impl ServiceRole {
    /// A role `service` may assume, with `policy` inline (skipped when empty).
    pub fn new(scope: &mut Scope<'_>, id: &str, service: &str, policy: PolicyDocument) -> Self {
        Self::with_managed_policies(scope, id, service, policy, Vec::new())
    }

    /// The same, with AWS managed policies attached.
    pub fn with_managed_policies(
        scope: &mut Scope<'_>,
        id: &str,
        service: &str,
        policy: PolicyDocument,
        managed_policy_arns: Vec<Expr<String>>,
    ) -> Self {
        let mut role = Role::new(PolicyDocument::assume_role(service).to_value());
        if !policy.statements.is_empty() {
            role.policies = Some(vec![Policy::new(policy.to_value(), "least-privilege")]);
        }
        if !managed_policy_arns.is_empty() {
            role.managed_policy_arns = Some(managed_policy_arns.into());
        }
        ServiceRole {
            resource: scope.add_resource(id, role),
        }
    }

    /// The role's ARN.
    pub fn arn(&self) -> Expr<String> {
        self.resource.arn()
    }

    /// The CloudFormation resource.
    pub fn resource(&self) -> &ResourceHandle {
        &self.resource
    }
}
