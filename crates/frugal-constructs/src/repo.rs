//! [`PrunedRepo`]: an ECR repository that expires images it no longer needs.

use frugal_cfn::ecr::repository as cfn;
use frugal_core::{Expr, ResourceHandle, ResourceOptions, Scope, Violations};
use serde_json::json;

use crate::validate::Check;

/// One typed lifecycle rule. Priorities follow the order of the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeepRule {
    /// Keep the `keep` newest untagged images.
    Untagged {
        /// How many to keep.
        keep: u32,
    },
    /// Keep the `keep` newest images with a tag starting with `prefix`. One prefix per
    /// rule: ECR requires an image to match *every* prefix of a rule's list.
    TagPrefix {
        /// Tag prefix, e.g. `prod`.
        prefix: String,
        /// How many to keep.
        keep: u32,
    },
    /// Keep the `keep` newest images of any kind; must be the last rule.
    Any {
        /// How many to keep.
        keep: u32,
    },
}

impl KeepRule {
    fn keep(&self) -> u32 {
        match self {
            KeepRule::Untagged { keep }
            | KeepRule::TagPrefix { keep, .. }
            | KeepRule::Any { keep } => *keep,
        }
    }
}

/// Input of [`PrunedRepo`].
#[derive(Clone, Debug)]
pub struct PrunedRepoProps {
    /// Repository name.
    pub name: String,
    /// Lifecycle rules, highest priority first.
    pub rules: Vec<KeepRule>,
    /// Scan images for vulnerabilities on push.
    pub scan_on_push: bool,
    /// Refuse to overwrite an existing tag.
    pub immutable_tags: bool,
    /// Keep the repository and its images when the stack is deleted.
    pub retain: bool,
}

impl PrunedRepoProps {
    /// A repository named `name` with scan on push, mutable tags, retained on delete.
    pub fn new(name: impl Into<String>, rules: Vec<KeepRule>) -> Self {
        PrunedRepoProps {
            name: name.into(),
            rules,
            scan_on_push: true,
            immutable_tags: false,
            retain: true,
        }
    }
}

/// An ECR repository with a lifecycle policy rendered from typed rules.
///
/// ```
/// use frugal_constructs::{KeepRule, PrunedRepo, PrunedRepoProps};
/// let mut app = frugal_core::App::new("demo");
/// app.set_tag("Project", "Demo");
/// let mut stack = app.new_stack("Images");
/// let repo = PrunedRepo::new(&mut stack.root(), "Repo", PrunedRepoProps::new("demo", vec![
///     KeepRule::Untagged { keep: 3 },
///     KeepRule::TagPrefix { prefix: "prod".into(), keep: 3 },
///     KeepRule::Any { keep: 10 },
/// ])).expect("valid");
/// assert!(repo.lifecycle_policy().contains(r#""tagPrefixList":["prod"]"#));
/// ```
#[derive(Clone, Debug)]
pub struct PrunedRepo {
    name: String,
    policy: String,
    resource: ResourceHandle,
}

impl PrunedRepo {
    /// Validates `props` and adds the repository at `id`.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        props: PrunedRepoProps,
    ) -> Result<Self, Violations> {
        let mut scope = scope.child(id);
        let mut check = Check::new(scope.path());
        validate(&mut check, &props);
        check.finish(|| ())?;
        let policy = lifecycle_policy_text(&props.rules);
        let scan = cfn::ImageScanningConfiguration {
            scan_on_push: Some(props.scan_on_push.into()),
        };
        let lifecycle = cfn::LifecyclePolicy {
            lifecycle_policy_text: Some(policy.as_str().into()),
            ..Default::default()
        };
        let mutability = if props.immutable_tags {
            cfn::RepositoryImageTagMutability::Immutable
        } else {
            cfn::RepositoryImageTagMutability::Mutable
        };
        let repo = cfn::Repository {
            repository_name: Some(props.name.as_str().into()),
            image_scanning_configuration: Some(scan),
            image_tag_mutability: Some(mutability.into()),
            lifecycle_policy: Some(lifecycle),
            empty_on_delete: Some((!props.retain).into()),
            ..Default::default()
        };
        let options = if props.retain {
            ResourceOptions::retain()
        } else {
            ResourceOptions::default()
        };
        let resource = scope.add_resource_with("Resource", repo, options);
        Ok(PrunedRepo {
            name: props.name,
            policy,
            resource,
        })
    }

    /// The repository's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lifecycle policy text, as synthesized.
    pub fn lifecycle_policy(&self) -> &str {
        &self.policy
    }

    /// The repository's ARN.
    pub fn arn(&self) -> Expr<String> {
        self.resource.arn()
    }

    /// The repository's URI (`account.dkr.ecr.region.amazonaws.com/name`).
    pub fn uri(&self) -> Expr<String> {
        self.resource.get_att("RepositoryUri")
    }

    /// The CloudFormation resource.
    pub fn resource(&self) -> &ResourceHandle {
        &self.resource
    }
}

fn validate(check: &mut Check<'_>, props: &PrunedRepoProps) {
    let name = &props.name;
    let ok_chars = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c);
    check.name(
        "name",
        name,
        (2, 256),
        ok_chars,
        "repository names take lowercase letters, digits and . _ - /",
    );
    check.ensure(
        name.split('/').all(is_name_segment),
        "name",
        format!(
            "`{name}`: each /-separated part must start and end with a letter or digit, \
             with `.`, `_`, `__` or hyphens between them"
        ),
    );
    check.ensure(
        !props.rules.is_empty(),
        "rules",
        "a repository without lifecycle rules keeps every image forever",
    );
    check.ensure(
        props.rules.len() <= 50,
        "rules",
        "ECR allows at most 50 lifecycle rules",
    );
    let mut prefixes = Vec::new();
    let mut untagged = 0;
    for (i, rule) in props.rules.iter().enumerate() {
        let field = format!("rules[{i}]");
        check.ensure(
            rule.keep() >= 1,
            format!("{field}.keep"),
            "keep at least 1 image",
        );
        match rule {
            KeepRule::Any { .. } => check.ensure(
                i + 1 == props.rules.len(),
                field.clone(),
                "the keep-any rule must be the last (lowest priority) rule: ECR requires tagStatus `any` to have the highest rulePriority",
            ),
            KeepRule::Untagged { .. } => {
                untagged += 1;
                check.ensure(untagged == 1, field.clone(), "only one untagged rule can take effect");
            }
            KeepRule::TagPrefix { prefix, .. } => {
                check.ensure(!prefix.is_empty(), format!("{field}.prefix"), "tag prefix must not be empty");
                check.ensure(
                    !prefix.contains(',') && !prefix.contains(' '),
                    format!("{field}.prefix"),
                    format!("`{prefix}` is one prefix; list several prefixes as separate rules"),
                );
                let one_prefix = !prefix.contains(',') && !prefix.contains(' ');
                check.ensure(
                    !one_prefix || (prefix.len() <= 128 && prefix.chars().all(is_tag_char)),
                    format!("{field}.prefix"),
                    format!(
                        "`{prefix}` is not an image tag prefix: tags take at most 128 letters, \
                         digits, `_`, `.` and `-` (no wildcards)"
                    ),
                );
                if prefixes.contains(&prefix.as_str()) {
                    check.fail(format!("{field}.prefix"), format!("prefix `{prefix}` already has a rule"));
                }
                prefixes.push(prefix.as_str());
            }
        }
    }
}

/// One `/`-separated part of a repository name, as ECR's pattern has it: lowercase
/// letters and digits, joined by `.`, `_`, `__` or a run of hyphens.
fn is_name_segment(segment: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !segment.starts_with(alnum) || !segment.ends_with(alnum) {
        return false;
    }
    segment
        .split(alnum)
        .filter(|sep| !sep.is_empty())
        .all(|sep| matches!(sep, "." | "_" | "__") || sep.chars().all(|c| c == '-'))
}

/// A character an image tag may hold.
fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.-".contains(c)
}

/// Renders `rules` into ECR lifecycle policy JSON, priorities 1, 2, … in order.
pub fn lifecycle_policy_text(rules: &[KeepRule]) -> String {
    let rendered: Vec<serde_json::Value> = rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let (description, selection) = match rule {
                KeepRule::Untagged { keep } => (
                    format!("Keep the {keep} newest untagged images"),
                    json!({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": keep}),
                ),
                KeepRule::TagPrefix { prefix, keep } => (
                    format!("Keep the {keep} newest images tagged {prefix}*"),
                    json!({"tagStatus": "tagged", "tagPrefixList": [prefix], "countType": "imageCountMoreThan", "countNumber": keep}),
                ),
                KeepRule::Any { keep } => (
                    format!("Keep the {keep} newest images"),
                    json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep}),
                ),
            };
            json!({
                "rulePriority": i + 1,
                "description": description,
                "selection": selection,
                "action": {"type": "expire"},
            })
        })
        .collect();
    json!({ "rules": rendered }).to_string()
}
