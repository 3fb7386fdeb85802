//! Stack events: progress lines, failure collection and root-cause selection.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// One stack event, as `DescribeStackEvents` reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct StackEvent {
    /// Event id.
    pub id: String,
    /// When it happened.
    pub timestamp: SystemTime,
    /// Logical id (the stack name for stack-level events).
    pub logical_id: String,
    /// Physical id.
    pub physical_id: Option<String>,
    /// Resource type (`AWS::CloudFormation::Stack` for the stack itself).
    pub resource_type: String,
    /// Status, e.g. `CREATE_FAILED`.
    pub status: String,
    /// `ResourceStatusReason`.
    pub reason: Option<String>,
}

impl StackEvent {
    /// Whether the event is about the stack itself.
    pub fn is_stack(&self) -> bool {
        self.resource_type == "AWS::CloudFormation::Stack"
    }
}

/// A resource failure reported during a stack operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// Construct path, when the template records it.
    pub path: Option<String>,
    /// Status, e.g. `CREATE_FAILED`.
    pub status: String,
    /// The reason CloudFormation gave.
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.status, self.resource_type)?;
        match &self.path {
            Some(p) => write!(f, "{p} ({})", self.logical_id)?,
            None => write!(f, "{}", self.logical_id)?,
        }
        write!(f, ": {}", self.reason)
    }
}

/// Reasons that follow from another failure rather than cause one.
pub fn is_consequential(reason: &str) -> bool {
    let r = reason.trim();
    r.starts_with("Resource creation cancelled")
        || r.starts_with("Resource update cancelled")
        || r.starts_with("Resource deletion cancelled")
        || r.starts_with("The following resource(s) failed to")
        || r.starts_with("Rollback requested by user")
        || r.is_empty()
}

/// Whether a status reports a failure.
pub fn is_failure_status(status: &str) -> bool {
    status.ends_with("_FAILED")
}

/// Every failure among `events` (oldest first), resource-level, with construct paths.
/// A stack-level failure with its own reason counts when no resource failed (e.g. a
/// template error caught at execution).
pub fn failures(events: &[StackEvent], paths: &BTreeMap<String, String>) -> Vec<Failure> {
    let to_failure = |e: &StackEvent| Failure {
        logical_id: e.logical_id.clone(),
        resource_type: e.resource_type.clone(),
        path: paths.get(&e.logical_id).cloned(),
        status: e.status.clone(),
        reason: e.reason.clone().unwrap_or_default(),
    };
    let resource: Vec<Failure> = events
        .iter()
        .filter(|e| !e.is_stack() && is_failure_status(&e.status))
        .map(to_failure)
        .collect();
    if !resource.is_empty() {
        return resource;
    }
    events
        .iter()
        .filter(|e| {
            e.is_stack()
                && (is_failure_status(&e.status) || e.status.contains("ROLLBACK_IN_PROGRESS"))
        })
        .filter(|e| e.reason.as_deref().is_some_and(|r| !is_consequential(r)))
        .map(to_failure)
        .collect()
}

/// The root cause: the first failure whose reason is not a consequence of another
/// ("Resource creation cancelled"), else the first failure.
pub fn root_cause(failures: &[Failure]) -> Option<&Failure> {
    failures
        .iter()
        .find(|f| !is_consequential(&f.reason))
        .or_else(|| failures.first())
}

/// `HH:MM:SS` (UTC) of a time.
pub fn clock(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        % 86_400;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// One progress line: time, status, type, construct path (or logical id) and reason.
pub fn format_event(e: &StackEvent, paths: &BTreeMap<String, String>) -> String {
    let who = paths
        .get(&e.logical_id)
        .map(String::as_str)
        .unwrap_or(&e.logical_id);
    let mut line = format!(
        "{} | {:<28} | {:<28} | {}",
        clock(e.timestamp),
        e.status,
        e.resource_type,
        who
    );
    if let Some(r) = e.reason.as_deref().filter(|r| !r.is_empty()) {
        line.push_str(" | ");
        line.push_str(r);
    }
    line
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ev(n: u64, id: &str, ty: &str, status: &str, reason: &str) -> StackEvent {
        StackEvent {
            id: format!("e{n}"),
            timestamp: UNIX_EPOCH + Duration::from_secs(1_700_000_000 + n),
            logical_id: id.into(),
            physical_id: None,
            resource_type: ty.into(),
            status: status.into(),
            reason: (!reason.is_empty()).then(|| reason.to_owned()),
        }
    }

    #[test]
    fn root_cause_skips_cancellations_and_summaries() {
        let paths = BTreeMap::from([("Data".to_owned(), "Storage/Data".to_owned())]);
        let events = [
            ev(1, "S", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated"),
            ev(2, "Logs", "AWS::Logs::LogGroup", "CREATE_IN_PROGRESS", ""),
            ev(3, "Logs", "AWS::Logs::LogGroup", "CREATE_FAILED", "Resource creation cancelled"),
            ev(4, "Data", "AWS::S3::Bucket", "CREATE_FAILED", "frugal-data already exists"),
            ev(5, "S", "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: [Data, Logs]. Rollback requested by user."),
            ev(6, "Logs", "AWS::Logs::LogGroup", "DELETE_COMPLETE", ""),
            ev(7, "S", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", ""),
        ];
        let f = failures(&events, &paths);
        assert_eq!(f.len(), 2);
        let root = root_cause(&f).expect("a root cause");
        assert_eq!(root.logical_id, "Data");
        assert_eq!(
            root.to_string(),
            "CREATE_FAILED AWS::S3::Bucket Storage/Data (Data): frugal-data already exists"
        );
    }

    #[test]
    fn stack_level_reason_when_no_resource_failed() {
        let events = [
            ev(
                1,
                "S",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "Template error: instance of Fn::GetAtt references undefined resource X",
            ),
            ev(
                2,
                "S",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_COMPLETE",
                "",
            ),
        ];
        let f = failures(&events, &BTreeMap::new());
        assert_eq!(f.len(), 1);
        assert!(root_cause(&f).is_some_and(|r| r.reason.starts_with("Template error")));
        assert!(root_cause(&[]).is_none());
    }

    #[test]
    fn event_lines() {
        let paths = BTreeMap::from([("Data".to_owned(), "Storage/Data".to_owned())]);
        let line = format_event(
            &ev(4, "Data", "AWS::S3::Bucket", "CREATE_FAILED", "boom"),
            &paths,
        );
        assert_eq!(
            line,
            "22:13:24 | CREATE_FAILED                | AWS::S3::Bucket              | Storage/Data | boom"
        );
        assert_eq!(clock(UNIX_EPOCH + Duration::from_secs(3661)), "01:01:01");
    }
}
