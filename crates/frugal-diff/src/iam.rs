//! IAM broadening: does a new template grant anything the deployed one did not?
//!
//! Policy documents are read from identity policies (roles' inline policies and trust
//! policies, `AWS::IAM::Policy`/`ManagedPolicy`), resource policies (bucket, queue, topic,
//! repository and key policies) and `AWS::Lambda::Permission`. Every `Allow` statement is
//! expanded into single grants (principal × action × resource, with its condition); a
//! grant of the new template that no grant of the old one covers (wildcards included)
//! broadens permissions, and so does dropping a `Deny` statement or attaching a managed
//! policy.

use std::collections::{HashMap, HashSet};
use std::fmt;

use std::borrow::Cow;

use serde_json::Value;

use crate::node::{entries_sorted, merge, Node};
use crate::template::resource_type;

/// Where policy documents live: resource type → property paths holding a document.
const DOCUMENT_PROPERTIES: &[(&str, &[&str])] = &[
    ("AWS::IAM::Role", &["AssumeRolePolicyDocument"]),
    ("AWS::IAM::Policy", &["PolicyDocument"]),
    ("AWS::IAM::ManagedPolicy", &["PolicyDocument"]),
    ("AWS::IAM::RolePolicy", &["PolicyDocument"]),
    ("AWS::IAM::UserPolicy", &["PolicyDocument"]),
    ("AWS::IAM::GroupPolicy", &["PolicyDocument"]),
    ("AWS::S3::BucketPolicy", &["PolicyDocument"]),
    ("AWS::SQS::QueuePolicy", &["PolicyDocument"]),
    ("AWS::SNS::TopicPolicy", &["PolicyDocument"]),
    ("AWS::ECR::Repository", &["RepositoryPolicyText"]),
    ("AWS::KMS::Key", &["KeyPolicy"]),
];

/// One single grant (or deny) of a policy statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Grant {
    /// Logical id of the resource carrying the document.
    pub logical_id: String,
    /// Which document, e.g. `Policies/0/PolicyDocument` or `AssumeRolePolicyDocument`.
    pub document: String,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// The principal, compact JSON (`*` when the document has none: identity policies).
    pub principal: String,
    /// The action (or `NotAction:…`).
    pub action: String,
    /// The resource (or `NotResource:…`), compact JSON for intrinsics.
    pub resource: String,
    /// The condition block, compact JSON, empty when absent.
    pub condition: String,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} {} on {}",
            self.logical_id, self.document, self.effect, self.action, self.resource
        )?;
        if self.principal != "*" {
            write!(f, " to {}", self.principal)?;
        }
        if !self.condition.is_empty() {
            write!(f, " when {}", self.condition)?;
        }
        Ok(())
    }
}

/// A change that widens what the template allows.
#[derive(Clone, Debug, PartialEq)]
pub enum Broadening {
    /// A new allowed grant.
    Allow(Grant),
    /// A `Deny` that the new template no longer has.
    DenyRemoved(Grant),
    /// A managed policy newly attached to a role, user or group.
    ManagedPolicy {
        /// The identity's logical id.
        logical_id: String,
        /// The policy ARN (compact JSON for intrinsics).
        arn: String,
    },
    /// A new `AWS::Lambda::Permission`.
    LambdaPermission {
        /// Its logical id.
        logical_id: String,
        /// Principal and action, as written.
        grant: String,
    },
}

impl fmt::Display for Broadening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broadening::Allow(g) => write!(f, "{g}"),
            Broadening::DenyRemoved(g) => write!(f, "removed deny: {g}"),
            Broadening::ManagedPolicy { logical_id, arn } => {
                write!(f, "{logical_id}: attaches managed policy {arn}")
            }
            Broadening::LambdaPermission { logical_id, grant } => {
                write!(f, "{logical_id}: lambda permission {grant}")
            }
        }
    }
}

fn compact(v: &Node<'_>) -> String {
    match v {
        Node::String(s) => s.as_ref().to_owned(),
        other => other.to_string(),
    }
}

fn list<'n, 'a>(v: Option<&'n Node<'a>>) -> Vec<&'n Node<'a>> {
    match v {
        None | Some(Node::Null) => Vec::new(),
        Some(Node::Array(a)) => a.iter().collect(),
        Some(other) => vec![other],
    }
}

/// A policy document may be a JSON object or (ECR) a JSON string.
fn as_document<'n, 'a>(v: &'n Node<'a>) -> Option<Cow<'n, Node<'a>>> {
    match v {
        Node::String(s) => Node::parse(s).ok().map(|d| Cow::Owned(d.into_owned())),
        Node::Object(_) => Some(Cow::Borrowed(v)),
        _ => None,
    }
}

fn principals(stmt: &Node<'_>) -> Vec<String> {
    let p = stmt.get("Principal").or_else(|| stmt.get("NotPrincipal"));
    let prefix = if stmt.get("NotPrincipal").is_some() {
        "NotPrincipal:"
    } else {
        ""
    };
    match p {
        None => vec!["*".to_owned()],
        Some(Node::Object(m)) => m
            .iter()
            .flat_map(|(kind, ids)| {
                list(Some(ids))
                    .into_iter()
                    .map(move |id| format!("{prefix}{kind}:{}", compact(id)))
            })
            .collect(),
        Some(other) => vec![format!("{prefix}{}", compact(other))],
    }
}

fn expand_document(logical_id: &str, document: &str, doc: &Node<'_>, out: &mut Vec<Grant>) {
    for stmt in list(doc.get("Statement")) {
        let effect = stmt
            .get("Effect")
            .and_then(Node::as_str)
            .unwrap_or("Allow")
            .to_owned();
        let condition = stmt
            .get("Condition")
            .map(|c| c.to_string())
            .unwrap_or_default();
        let actions: Vec<String> = match stmt.get("NotAction") {
            Some(na) => list(Some(na))
                .into_iter()
                .map(|a| format!("NotAction:{}", compact(a)))
                .collect(),
            None => list(stmt.get("Action")).into_iter().map(compact).collect(),
        };
        let res: Vec<String> = match stmt.get("NotResource") {
            Some(nr) => list(Some(nr))
                .into_iter()
                .map(|r| format!("NotResource:{}", compact(r)))
                .collect(),
            None if stmt.get("Resource").is_none() => vec!["*".to_owned()],
            None => list(stmt.get("Resource"))
                .into_iter()
                .map(compact)
                .collect(),
        };
        for principal in principals(stmt) {
            for action in &actions {
                for resource in &res {
                    out.push(Grant {
                        logical_id: logical_id.to_owned(),
                        document: document.to_owned(),
                        effect: effect.clone(),
                        principal: principal.clone(),
                        action: action.clone(),
                        resource: resource.clone(),
                        condition: condition.clone(),
                    });
                }
            }
        }
    }
}

/// One resource of two templates, by logical id: `(id, old, new)`, either side absent.
pub type ResourcePair<'n, 'a> = (&'n str, Option<&'n Node<'a>>, Option<&'n Node<'a>>);

/// The old (`new_side` false) or new resources of `pairs`, as `(logical id, resource)`.
fn side<'n, 'a>(
    pairs: &'n [ResourcePair<'n, 'a>],
    new_side: bool,
) -> impl Iterator<Item = (&'n str, &'n Node<'a>)> + 'n {
    pairs
        .iter()
        .filter_map(move |(id, o, n)| if new_side { *n } else { *o }.map(|r| (*id, r)))
}

/// Every grant and deny of every policy document in the template.
pub fn grants(template: &Value) -> Vec<Grant> {
    let template = Node::from_value(template);
    let resources = template.get("Resources").and_then(Node::as_object);
    grants_of(
        resources
            .unwrap_or_default()
            .iter()
            .map(|(id, r)| (id.as_ref(), r)),
    )
}

/// The grants of `resources` (`(logical id, resource)`).
fn grants_of<'n, 'a: 'n>(resources: impl Iterator<Item = (&'n str, &'n Node<'a>)>) -> Vec<Grant> {
    let mut out = Vec::new();
    for (id, r) in resources {
        let t = resource_type(r);
        let Some(props) = r.get("Properties") else {
            continue;
        };
        if let Some((_, paths)) = DOCUMENT_PROPERTIES.iter().find(|(ty, _)| *ty == t) {
            for p in *paths {
                if let Some(doc) = props.get(p).and_then(as_document) {
                    expand_document(id, p, &doc, &mut out);
                }
            }
        }
        if matches!(t, "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group") {
            for (i, policy) in list(props.get("Policies")).into_iter().enumerate() {
                if let Some(doc) = policy.get("PolicyDocument").and_then(as_document) {
                    expand_document(id, &format!("Policies/{i}/PolicyDocument"), &doc, &mut out);
                }
            }
        }
    }
    out
}

fn managed_policies<'n, 'a: 'n>(
    resources: impl Iterator<Item = (&'n str, &'n Node<'a>)>,
) -> Vec<(String, String)> {
    resources
        .filter(|(_, r)| {
            matches!(
                resource_type(*r),
                "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group"
            )
        })
        .flat_map(|(id, r)| {
            list(r.get("Properties").and_then(|p| p.get("ManagedPolicyArns")))
                .into_iter()
                .map(move |arn| (id.to_owned(), compact(arn)))
        })
        .collect()
}

fn lambda_permissions<'n, 'a: 'n>(
    resources: impl Iterator<Item = (&'n str, &'n Node<'a>)>,
) -> Vec<(String, String)> {
    resources
        .filter(|(_, r)| resource_type(*r) == "AWS::Lambda::Permission")
        .map(|(id, r)| {
            (
                id.to_owned(),
                r.get("Properties")
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// IAM-style wildcard match (`*` any run, `?` one character), case-insensitive as
/// actions are.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether `old` allows at least what `new` allows.
fn covers(old: &Grant, new: &Grant) -> bool {
    old.logical_id == new.logical_id
        && old.document == new.document
        && old.effect == new.effect
        && old.principal == new.principal
        && (old.condition.is_empty() || old.condition == new.condition)
        && (old.action == new.action || wildcard_match(&old.action, &new.action))
        && (old.resource == new.resource || wildcard_match(&old.resource, &new.resource))
}

/// What the new template allows beyond the old one (`old` None: nothing deployed yet, so
/// every grant is new).
pub fn broadening(old: Option<&Value>, new: &Value) -> Vec<Broadening> {
    let old = old.map(Node::from_value);
    let new = Node::from_value(new);
    let (old_res, new_res) = (
        entries_sorted(old.as_ref().and_then(|t| t.get("Resources"))),
        entries_sorted(new.get("Resources")),
    );
    let changed: Vec<ResourcePair<'_, '_>> = merge(&old_res, &new_res)
        .into_iter()
        .filter(|(_, o, n)| o != n)
        .collect();
    broadening_of(&changed)
}

/// [`broadening`] over the resources that differ between the two templates. Everything it
/// compares belongs to one resource (grants within one document of one resource,
/// attachments and permissions by logical id), so a resource that did not change cannot
/// broaden anything and is not expanded.
pub fn broadening_of(changed: &[ResourcePair<'_, '_>]) -> Vec<Broadening> {
    let old_grants = grants_of(side(changed, false));
    let new_grants = grants_of(side(changed, true));
    // Grants are compared within one document of one resource: index the old ones so a
    // template with thousands of roles stays linear.
    let mut by_document: HashMap<(&str, &str), Vec<&Grant>> = HashMap::new();
    for o in &old_grants {
        by_document
            .entry((o.logical_id.as_str(), o.document.as_str()))
            .or_default()
            .push(o);
    }
    let mut out = Vec::new();
    for g in new_grants.iter().filter(|g| g.effect == "Allow") {
        let same_document = by_document.get(&(g.logical_id.as_str(), g.document.as_str()));
        if !same_document.is_some_and(|olds| olds.iter().any(|o| covers(o, g))) {
            out.push(Broadening::Allow(g.clone()));
        }
    }
    let new_set: HashSet<&Grant> = new_grants.iter().collect();
    for d in old_grants.iter().filter(|g| g.effect == "Deny") {
        if !new_set.contains(d) {
            out.push(Broadening::DenyRemoved(d.clone()));
        }
    }
    let old_managed: HashSet<(String, String)> =
        managed_policies(side(changed, false)).into_iter().collect();
    for (logical_id, arn) in managed_policies(side(changed, true)) {
        if !old_managed.contains(&(logical_id.clone(), arn.clone())) {
            out.push(Broadening::ManagedPolicy { logical_id, arn });
        }
    }
    let old_perms = lambda_permissions(side(changed, false));
    for (logical_id, grant) in lambda_permissions(side(changed, true)) {
        if !old_perms
            .iter()
            .any(|(i, g)| *i == logical_id && *g == grant)
        {
            out.push(Broadening::LambdaPermission { logical_id, grant });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn role(statements: Value) -> Value {
        json!({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]
        }}}})
    }

    #[test]
    fn new_template_broadens_everything() {
        let t = role(
            json!([{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}]),
        );
        let b = broadening(None, &t);
        assert_eq!(b.len(), 3, "{b:?}");
        assert!(b[0].to_string().contains("sts:AssumeRole"));
    }

    #[test]
    fn same_statements_reordered_or_split_do_not_broaden() {
        let old = role(
            json!([{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}]),
        );
        let new = role(json!([
            {"Sid": "Put", "Effect": "Allow", "Action": "s3:PutObject", "Resource": ["*"]},
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]));
        assert!(broadening(Some(&old), &new).is_empty());
    }

    #[test]
    fn narrowing_is_not_broadening_and_wildcards_cover() {
        let old =
            role(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]));
        let new = role(
            json!([{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/logs/*"}]),
        );
        assert!(broadening(Some(&old), &new).is_empty());
        let wider = role(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]));
        let b = broadening(Some(&old), &wider);
        assert_eq!(b.len(), 1);
        assert!(matches!(&b[0], Broadening::Allow(g) if g.resource == "*" && g.action == "s3:*"));
    }

    #[test]
    fn added_action_removed_deny_and_managed_policy_broaden() {
        let old = role(json!([
            {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]));
        let mut new = role(json!([
            {"Effect": "Allow", "Action": ["logs:PutLogEvents", "logs:CreateLogGroup"], "Resource": "*"}]));
        new["Resources"]["Role"]["Properties"]["ManagedPolicyArns"] =
            json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
        let b = broadening(Some(&old), &new);
        assert_eq!(b.len(), 3, "{b:?}");
        assert!(matches!(&b[0], Broadening::Allow(g) if g.action == "logs:CreateLogGroup"));
        assert!(matches!(&b[1], Broadening::DenyRemoved(g) if g.action == "s3:DeleteBucket"));
        assert!(matches!(&b[2], Broadening::ManagedPolicy { .. }));
    }

    #[test]
    fn only_changed_resources_are_compared() {
        let mut old = role(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]));
        old["Resources"]["Other"] = json!({"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}});
        let mut new = old.clone();
        // The broad role is untouched; the other one gains a trusted service.
        new["Resources"]["Other"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
            ["Principal"]["Service"] = json!(["ec2.amazonaws.com", "lambda.amazonaws.com"]);
        let b = broadening(Some(&old), &new);
        assert_eq!(b.len(), 1, "{b:?}");
        assert!(
            matches!(&b[0], Broadening::Allow(g) if g.logical_id == "Other"
                && g.principal == "Service:lambda.amazonaws.com"),
            "{b:?}"
        );
    }

    #[test]
    fn conditions_and_principals_matter() {
        let old = json!({"Resources": {"P": {"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "s3:GetObject",
             "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}}}}});
        let mut dropped = old.clone();
        dropped["Resources"]["P"]["Properties"]["PolicyDocument"]["Statement"][0]
            .as_object_mut()
            .map(|s| s.remove("Condition"));
        assert_eq!(broadening(Some(&old), &dropped).len(), 1);
        let mut other = old.clone();
        other["Resources"]["P"]["Properties"]["PolicyDocument"]["Statement"][0]["Principal"] =
            json!("*");
        assert_eq!(broadening(Some(&old), &other).len(), 1);
        assert!(broadening(Some(&old), &old).is_empty());
    }

    #[test]
    fn ecr_policy_text_as_string_and_lambda_permissions() {
        let new = json!({"Resources": {
            "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryPolicyText":
                "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:BatchGetImage\"}]}"}},
            "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com"}}}});
        let b = broadening(None, &new);
        assert_eq!(b.len(), 2, "{b:?}");
        assert!(wildcard_match("ecr:*", "ECR:BatchGetImage"));
        assert!(wildcard_match("a?c*", "abcdef"));
        assert!(!wildcard_match("a?c", "abcd"));
    }
}
