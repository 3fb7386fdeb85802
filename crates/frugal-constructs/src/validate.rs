//! Shared input checks; every failure names the construct path and field.

use frugal_core::{ConstructPath, Violations};

/// Collects violations for one construct.
pub(crate) struct Check<'p> {
    path: &'p ConstructPath,
    violations: Violations,
}

impl<'p> Check<'p> {
    /// Starts checking the construct at `path`.
    pub(crate) fn new(path: &'p ConstructPath) -> Self {
        Check {
            path,
            violations: Violations::new(),
        }
    }

    /// Records `message` for `field` unless `ok`.
    pub(crate) fn ensure(
        &mut self,
        ok: bool,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        if !ok {
            self.violations.push(self.path, field, message);
        }
    }

    /// Records `message` for `field`.
    pub(crate) fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.violations.push(self.path, field, message);
    }

    /// Checks `value` against a name rule: length bounds and allowed characters.
    pub(crate) fn name(
        &mut self,
        field: &str,
        value: &str,
        (min, max): (usize, usize),
        allowed: impl Fn(char) -> bool,
        what: &str,
    ) {
        if value.len() < min || value.len() > max {
            self.fail(
                field,
                format!("`{value}` must be {min} to {max} characters long"),
            );
        } else if let Some(c) = value.chars().find(|c| !allowed(*c)) {
            self.fail(field, format!("`{value}` contains `{c}`; {what}"));
        }
    }

    /// The violations, or `Ok(value)` when there are none.
    pub(crate) fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Violations> {
        if self.violations.is_empty() {
            Ok(value())
        } else {
            Err(self.violations)
        }
    }

    /// Whether nothing failed so far.
    pub(crate) fn ok(&self) -> bool {
        self.violations.is_empty()
    }
}
