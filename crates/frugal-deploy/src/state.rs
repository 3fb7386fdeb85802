//! Stack-state classification: what deploy and destroy can do from a stack's status.

/// What a stack's status means for the next operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StackState {
    /// No such stack (or it was deleted).
    Missing,
    /// Created by a change set that never ran (`REVIEW_IN_PROGRESS`): a CREATE change
    /// set applies.
    Review,
    /// Settled and updatable (`CREATE_COMPLETE`, `UPDATE_COMPLETE`,
    /// `UPDATE_ROLLBACK_COMPLETE`, `IMPORT_…_COMPLETE`).
    Ready,
    /// Another operation is running (`…_IN_PROGRESS`).
    Busy,
    /// Creation failed and the stack was never created (`ROLLBACK_COMPLETE`,
    /// `ROLLBACK_FAILED`, `CREATE_FAILED`): it can only be deleted.
    NeverCreated,
    /// An update's rollback failed (`UPDATE_ROLLBACK_FAILED`): continue the rollback.
    UpdateRollbackFailed,
    /// Deleting failed (`DELETE_FAILED`): only another delete helps.
    DeleteFailed,
}

/// Classifies a stack status (None: the stack does not exist).
pub fn classify(status: Option<&str>) -> StackState {
    match status {
        None | Some("DELETE_COMPLETE") => StackState::Missing,
        Some("REVIEW_IN_PROGRESS") => StackState::Review,
        Some("ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED") => StackState::NeverCreated,
        Some("UPDATE_ROLLBACK_FAILED") => StackState::UpdateRollbackFailed,
        Some("DELETE_FAILED") => StackState::DeleteFailed,
        Some(s) if s.ends_with("_IN_PROGRESS") => StackState::Busy,
        Some(_) => StackState::Ready,
    }
}

/// Whether an operation has finished (no longer `…_IN_PROGRESS`).
pub fn is_settled(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS")
}

/// Whether a settled status means the operation succeeded.
pub fn is_success(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" | "DELETE_COMPLETE"
    )
}

/// The message and exact way out for a state deploy cannot proceed from (None: deploy
/// can proceed).
pub fn deploy_way_out(stack: &str, state: &StackState) -> Option<String> {
    match state {
        StackState::Missing | StackState::Review | StackState::Ready => None,
        StackState::Busy => Some(format!(
            "another operation is running on it; wait for it to finish, or follow it and deploy after it with `frugal deploy {stack} --wait`"
        )),
        StackState::NeverCreated => Some(format!(
            "its creation failed and it can only be deleted; `frugal deploy {stack} --replace-failed` deletes it and creates it again"
        )),
        StackState::UpdateRollbackFailed => Some(format!(
            "the rollback of its last update failed; fix the cause shown in its events, then run `aws cloudformation continue-update-rollback --stack-name {stack}` (add `--resources-to-skip <LogicalId>` for resources that cannot roll back) and deploy again"
        )),
        StackState::DeleteFailed => Some(format!(
            "its deletion failed; run `frugal destroy {stack}` again (with `--purge-data` if a bucket or repository was not empty)"
        )),
    }
}

/// The message and way out for a state destroy cannot proceed from.
pub fn destroy_way_out(stack: &str, state: &StackState) -> Option<String> {
    match state {
        StackState::Busy => Some(format!(
            "another operation is running on it; wait for it to finish (`frugal deploy {stack} --wait` follows it), then destroy again"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(None), StackState::Missing);
        assert_eq!(classify(Some("REVIEW_IN_PROGRESS")), StackState::Review);
        assert_eq!(
            classify(Some("UPDATE_ROLLBACK_COMPLETE")),
            StackState::Ready
        );
        assert_eq!(
            classify(Some("IMPORT_ROLLBACK_COMPLETE")),
            StackState::Ready
        );
        assert_eq!(
            classify(Some("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")),
            StackState::Busy
        );
        assert_eq!(
            classify(Some("ROLLBACK_COMPLETE")),
            StackState::NeverCreated
        );
        assert_eq!(
            classify(Some("UPDATE_ROLLBACK_FAILED")),
            StackState::UpdateRollbackFailed
        );
        assert_eq!(classify(Some("DELETE_FAILED")), StackState::DeleteFailed);
        assert!(is_settled("UPDATE_ROLLBACK_COMPLETE") && !is_success("UPDATE_ROLLBACK_COMPLETE"));
        assert!(!is_settled("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"));
        assert!(is_success("CREATE_COMPLETE"));
    }

    #[test]
    fn way_outs_name_the_command() {
        let w = deploy_way_out("S", &StackState::NeverCreated).unwrap_or_default();
        assert!(w.contains("--replace-failed"));
        let w = deploy_way_out("S", &StackState::UpdateRollbackFailed).unwrap_or_default();
        assert!(w.contains("continue-update-rollback --stack-name S"));
        assert!(deploy_way_out("S", &StackState::Busy)
            .unwrap_or_default()
            .contains("--wait"));
        assert!(deploy_way_out("S", &StackState::Ready).is_none());
        assert!(destroy_way_out("S", &StackState::Ready).is_none());
    }
}
