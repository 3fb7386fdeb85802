//! Validation errors that name the construct path and the field at fault.

use std::fmt;

/// One problem found in the app: where (construct path), what (field) and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// Construct path, e.g. `RetailData-dev/DataBucket`.
    pub path: String,
    /// The field or property at fault, e.g. `tiers[1].deep_archive_after_days`.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl Violation {
    /// A violation at `path` / `field`.
    pub fn new(
        path: impl fmt::Display,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Violation {
            path: path.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.path, self.field, self.message)
    }
}

/// One or more violations; the error type of construct constructors and of synthesis.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Violations(Vec::new())
    }

    /// Records a violation at `path` / `field`.
    pub fn push(
        &mut self,
        path: impl fmt::Display,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.0.push(Violation::new(path, field, message));
    }

    /// Appends every violation of `other`.
    pub fn extend(&mut self, other: Violations) {
        self.0.extend(other.0);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The recorded violations.
    pub fn iter(&self) -> impl Iterator<Item = &Violation> {
        self.0.iter()
    }

    /// `Ok(value)` when nothing was recorded, the violations otherwise.
    pub fn into_result<T>(self, value: T) -> Result<T, Violations> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<Violation> for Violations {
    fn from(v: Violation) -> Self {
        Violations(vec![v])
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "{n} validation error{}:", if n == 1 { "" } else { "s" })?;
        for v in &self.0 {
            writeln!(f, "  - {v}")?;
        }
        Ok(())
    }
}
