//! A change set's resource changes, and the approval decision over them.

use std::fmt::Write as _;
use std::str::FromStr;

use crate::iam::Broadening;
use crate::template::is_stateful;
use crate::template_diff::Painter;

/// What CloudFormation will do to a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Create it.
    Add,
    /// Update it (maybe by replacement).
    Modify,
    /// Delete it.
    Remove,
    /// Import an existing resource.
    Import,
    /// Decided at execution time.
    Dynamic,
}

impl Action {
    /// Parses CloudFormation's `Action` (`Add`, `Modify`, `Remove`, `Import`, `Dynamic`).
    pub fn parse(s: &str) -> Action {
        match s {
            "Add" => Action::Add,
            "Remove" => Action::Remove,
            "Import" => Action::Import,
            "Dynamic" => Action::Dynamic,
            _ => Action::Modify,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Modify => "modify",
            Action::Remove => "remove",
            Action::Import => "import",
            Action::Dynamic => "dynamic",
        }
    }
}

/// Whether a modification replaces the resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replacement {
    /// It does.
    Yes,
    /// It does not.
    No,
    /// It may (depends on values known at execution).
    Conditional,
}

impl Replacement {
    /// Parses CloudFormation's `Replacement` (`True`, `False`, `Conditional`).
    pub fn parse(s: &str) -> Option<Replacement> {
        match s {
            "True" => Some(Replacement::Yes),
            "False" => Some(Replacement::No),
            "Conditional" => Some(Replacement::Conditional),
            _ => None,
        }
    }
}

/// One resource change of a change set.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedChange {
    /// What happens.
    pub action: Action,
    /// Logical id.
    pub logical_id: String,
    /// Physical id (existing resources).
    pub physical_id: Option<String>,
    /// CloudFormation type.
    pub resource_type: String,
    /// Replacement (modifications; absent when the service does not say, like moto).
    pub replacement: Option<Replacement>,
    /// Changed scopes (`Properties`, `Tags`, `Metadata`…).
    pub scope: Vec<String>,
    /// Changed properties, e.g. `BucketName (requires recreation: Always)`.
    pub details: Vec<String>,
    /// Construct path from the template metadata.
    pub path: Option<String>,
    /// The resource's data survives its removal or replacement (retain policy in the
    /// deployed template).
    pub retained: bool,
}

impl PlannedChange {
    /// Whether this change replaces the resource, or may.
    pub fn replaces(&self) -> bool {
        self.action == Action::Modify
            && matches!(
                self.replacement,
                Some(Replacement::Yes | Replacement::Conditional)
            )
    }

    /// Whether this change deletes or replaces a stateful resource whose data is not
    /// retained.
    pub fn loses_data(&self) -> bool {
        is_stateful(&self.resource_type)
            && !self.retained
            && (self.action == Action::Remove || self.replaces())
    }
}

/// When deploy asks before executing a change set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ApprovalLevel {
    /// Never ask.
    Never,
    /// Ask when IAM permissions broaden or a stateful resource is replaced or deleted.
    #[default]
    Broadening,
    /// Ask for any change.
    AnyChange,
}

impl FromStr for ApprovalLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "never" => Ok(ApprovalLevel::Never),
            "broadening" => Ok(ApprovalLevel::Broadening),
            "any-change" => Ok(ApprovalLevel::AnyChange),
            other => Err(format!(
                "unknown approval level `{other}` (never, broadening, any-change)"
            )),
        }
    }
}

/// Why a change set is risky: stateful resources losing data, IAM broadening.
pub fn risks(changes: &[PlannedChange], broadening: &[Broadening]) -> Vec<String> {
    let mut out: Vec<String> = changes
        .iter()
        .filter(|c| c.loses_data())
        .map(|c| {
            let what = if c.action == Action::Remove {
                "deletes"
            } else {
                "replaces"
            };
            format!("{what} stateful {} {}", c.resource_type, c.logical_id)
        })
        .collect();
    out.extend(broadening.iter().map(|b| format!("broadens IAM: {b}")));
    out
}

/// Whether the change set needs an answer before it runs, and why (empty: no).
pub fn approval_reasons(
    level: ApprovalLevel,
    changes: &[PlannedChange],
    risks: &[String],
) -> Vec<String> {
    match level {
        ApprovalLevel::Never => Vec::new(),
        ApprovalLevel::Broadening => risks.to_vec(),
        ApprovalLevel::AnyChange if risks.is_empty() && !changes.is_empty() => {
            vec![format!("{} resource changes", changes.len())]
        }
        ApprovalLevel::AnyChange => risks.to_vec(),
    }
}

/// Renders the changes, one line each: action, type, logical id, construct path,
/// replacement.
pub fn render_changes(changes: &[PlannedChange], color: bool) -> String {
    let paint = Painter(color);
    let mut s = String::new();
    for c in changes {
        let mut line = format!(
            "  {:<7} {} {}",
            c.action.word(),
            c.resource_type,
            c.logical_id
        );
        if let Some(p) = &c.path {
            let _ = write!(line, " ({p})");
        }
        match c.replacement {
            Some(Replacement::Yes) if c.action == Action::Modify => {
                line.push_str(" replacement: yes")
            }
            Some(Replacement::Conditional) if c.action == Action::Modify => {
                line.push_str(" replacement: conditional")
            }
            _ => {}
        }
        if !c.details.is_empty() {
            let _ = write!(line, " [{}]", c.details.join(", "));
        }
        let line = match c.action {
            Action::Add | Action::Import => paint.green(&line),
            Action::Remove => paint.red(&line),
            _ if c.replaces() => paint.red(&line),
            _ => paint.yellow(&line),
        };
        let _ = writeln!(s, "{line}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: Action, ty: &str, replacement: Option<Replacement>) -> PlannedChange {
        PlannedChange {
            action,
            logical_id: "X".into(),
            physical_id: None,
            resource_type: ty.into(),
            replacement,
            scope: vec![],
            details: vec![],
            path: Some("S/X".into()),
            retained: false,
        }
    }

    #[test]
    fn stateful_deletes_and_replacements_are_risks() {
        let changes = [
            change(Action::Remove, "AWS::S3::Bucket", None),
            change(
                Action::Modify,
                "AWS::Logs::LogGroup",
                Some(Replacement::Conditional),
            ),
            change(
                Action::Modify,
                "AWS::ECR::Repository",
                Some(Replacement::No),
            ),
            change(Action::Remove, "AWS::SNS::Topic", None),
            change(Action::Add, "AWS::S3::Bucket", None),
        ];
        let r = risks(&changes, &[]);
        assert_eq!(
            r,
            [
                "deletes stateful AWS::S3::Bucket X",
                "replaces stateful AWS::Logs::LogGroup X"
            ]
        );
        let mut retained = change(Action::Remove, "AWS::S3::Bucket", None);
        retained.retained = true;
        assert!(risks(&[retained], &[]).is_empty());
    }

    #[test]
    fn approval_levels() {
        let changes = [change(
            Action::Modify,
            "AWS::SNS::Topic",
            Some(Replacement::No),
        )];
        assert!(approval_reasons(ApprovalLevel::Broadening, &changes, &[]).is_empty());
        assert_eq!(
            approval_reasons(ApprovalLevel::AnyChange, &changes, &[]),
            ["1 resource changes"]
        );
        let risky = vec!["deletes stateful AWS::S3::Bucket X".to_owned()];
        assert_eq!(
            approval_reasons(ApprovalLevel::Broadening, &changes, &risky),
            risky
        );
        assert!(approval_reasons(ApprovalLevel::Never, &changes, &risky).is_empty());
        assert_eq!(
            "any-change".parse::<ApprovalLevel>(),
            Ok(ApprovalLevel::AnyChange)
        );
        assert!("sometimes".parse::<ApprovalLevel>().is_err());
    }

    #[test]
    fn rendering_shows_replacement() {
        let text = render_changes(
            &[
                change(Action::Modify, "AWS::S3::Bucket", Some(Replacement::Yes)),
                change(Action::Add, "AWS::SNS::Topic", None),
            ],
            false,
        );
        assert_eq!(text, "  modify  AWS::S3::Bucket X (S/X) replacement: yes\n  add     AWS::SNS::Topic X (S/X)\n");
    }
}
