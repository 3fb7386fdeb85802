//! Typed IAM policy documents, so least-privilege statements are built, not hand-written JSON.

use std::collections::BTreeMap;

use frugal_core::{Expr, Value};

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

/// Who a resource policy or trust policy applies to.
#[derive(Clone, Debug, PartialEq)]
pub enum Principal {
    /// An AWS service, e.g. `scheduler.amazonaws.com`.
    Service(String),
    /// An AWS principal (account or role ARN).
    Aws(Value),
}

/// One policy statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// Optional statement id.
    pub sid: Option<String>,
    /// Allow or deny.
    pub effect: Effect,
    /// Principal (resource and trust policies only).
    pub principal: Option<Principal>,
    /// Actions, e.g. `eks:UpdateNodegroupConfig`.
    pub actions: Vec<String>,
    /// Resources (ARNs or intrinsics yielding them). Empty means none (trust policies).
    pub resources: Vec<Value>,
    /// Conditions: operator → key → value.
    pub conditions: BTreeMap<String, BTreeMap<String, Value>>,
}

impl Statement {
    /// An `Allow` of `actions` on `resources`.
    pub fn allow<A: Into<String>>(
        actions: impl IntoIterator<Item = A>,
        resources: impl IntoIterator<Item = Expr<String>>,
    ) -> Self {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            actions: actions.into_iter().map(Into::into).collect(),
            resources: resources.into_iter().map(Expr::into_value).collect(),
            conditions: BTreeMap::new(),
        }
    }

    /// Sets the statement id.
    pub fn sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    /// Sets the principal.
    pub fn principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    /// Adds a condition, e.g. `("StringEquals", "aws:SourceAccount", account)`.
    pub fn condition(mut self, operator: &str, key: &str, value: impl Into<Value>) -> Self {
        self.conditions
            .entry(operator.to_owned())
            .or_default()
            .insert(key.to_owned(), value.into());
        self
    }

    /// Whether this statement allows every action on every resource.
    pub fn is_admin(&self) -> bool {
        self.effect == Effect::Allow
            && self.actions.iter().any(|a| a == "*")
            && self.resources.iter().any(|r| r.as_str() == Some("*"))
    }

    fn to_value(&self) -> Value {
        let mut m = BTreeMap::new();
        if let Some(sid) = &self.sid {
            m.insert("Sid".to_owned(), Value::from(sid.as_str()));
        }
        let effect = match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        m.insert("Effect".to_owned(), effect.into());
        if let Some(p) = &self.principal {
            let (kind, v) = match p {
                Principal::Service(s) => ("Service", Value::from(s.as_str())),
                Principal::Aws(v) => ("AWS", v.clone()),
            };
            m.insert("Principal".to_owned(), Value::map([(kind, v)]));
        }
        m.insert(
            "Action".to_owned(),
            one_or_many(
                self.actions
                    .iter()
                    .map(|a| Value::from(a.as_str()))
                    .collect(),
            ),
        );
        if !self.resources.is_empty() {
            m.insert("Resource".to_owned(), one_or_many(self.resources.clone()));
        }
        if !self.conditions.is_empty() {
            let conds = self
                .conditions
                .iter()
                .map(|(op, kv)| {
                    (
                        op.clone(),
                        Value::Map(kv.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                    )
                })
                .collect();
            m.insert("Condition".to_owned(), Value::Map(conds));
        }
        Value::Map(m)
    }
}

fn one_or_many(mut items: Vec<Value>) -> Value {
    if items.len() == 1 {
        items.remove(0)
    } else {
        Value::List(items)
    }
}

/// An IAM policy document (version 2012-10-17).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyDocument {
    /// The statements.
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// A document with `statements`.
    pub fn new(statements: impl IntoIterator<Item = Statement>) -> Self {
        PolicyDocument {
            statements: statements.into_iter().collect(),
        }
    }

    /// The trust policy letting `service` assume a role, only on behalf of this account.
    pub fn assume_role(service: &str) -> Self {
        let mut s = Statement::allow(["sts:AssumeRole"], [])
            .principal(Principal::Service(service.to_owned()));
        if service != "ec2.amazonaws.com" {
            // Confused-deputy guard: the service may assume the role only for this account.
            s = s.condition(
                "StringEquals",
                "aws:SourceAccount",
                frugal_core::fns::account_id(),
            );
        }
        PolicyDocument::new([s])
    }

    /// The document as a CloudFormation value.
    pub fn to_value(&self) -> Value {
        Value::map([
            ("Version", Value::from("2012-10-17")),
            (
                "Statement",
                Value::List(self.statements.iter().map(Statement::to_value).collect()),
            ),
        ])
    }
}

/// ARN of an AWS managed policy, partition-aware.
pub fn managed_policy_arn(name: &str) -> Expr<String> {
    frugal_core::fns::sub(
        format!("arn:${{AWS::Partition}}:iam::aws:policy/{name}"),
        [],
    )
}
