//! Check results: one row per check, rendered as a table or as JSON.

use serde::Serialize;

/// Whether a check passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Status {
    /// As synthesized (or, for `--gone`, nothing left).
    #[serde(rename = "PASS")]
    Pass,
    /// Differs, is missing, or is left over; the detail says what was found.
    #[serde(rename = "FAIL")]
    Fail,
}

impl Status {
    /// `PASS` or `FAIL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
        }
    }

    /// Pass when `ok`.
    pub fn of(ok: bool) -> Status {
        if ok {
            Status::Pass
        } else {
            Status::Fail
        }
    }
}

/// One check: what was checked, on which resource, and what was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Check id, e.g. `nodegroup.capacity` (the same for every resource it applies to).
    pub id: String,
    /// The resource checked (a name, `cluster/nodegroup`, an ARN, …).
    pub resource: String,
    /// Pass or fail.
    pub status: Status,
    /// What was found (and, on failure, what was expected).
    pub detail: String,
}

impl Check {
    /// A check result.
    pub fn new(
        id: impl Into<String>,
        resource: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            id: id.into(),
            resource: resource.into(),
            status,
            detail: detail.into(),
        }
    }

    /// A passing check.
    pub fn pass(id: &str, resource: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(id, resource, Status::Pass, detail)
    }

    /// A failing check.
    pub fn fail(id: &str, resource: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(id, resource, Status::Fail, detail)
    }

    /// The result of comparing a resource with the synthesized one: passes with
    /// `matched()` when `differences` is empty, fails listing them otherwise.
    pub fn compared(
        id: &str,
        resource: impl Into<String>,
        differences: &[String],
        matched: impl FnOnce() -> String,
    ) -> Check {
        if differences.is_empty() {
            Check::pass(id, resource, matched())
        } else {
            Check::fail(id, resource, differences.join("; "))
        }
    }

    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }
}

/// Every check of one run, in the order they ran.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether every check passed (an empty report does not pass: nothing was checked).
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(Check::passed)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed())
    }

    /// The checks with `id` (tests and callers looking for one kind).
    pub fn with_id<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Check> + 'a {
        self.checks.iter().filter(move |c| c.id == id)
    }

    /// `{"checks":[{"id","resource","status","detail"}]}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{\"checks\":[]}".to_owned())
    }

    /// A plain-text table (STATUS, CHECK, RESOURCE, DETAIL) and a summary line.
    pub fn to_table(&self) -> String {
        let w_id = self
            .checks
            .iter()
            .map(|c| c.id.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        let w_res = self
            .checks
            .iter()
            .map(|c| c.resource.chars().count())
            .max()
            .unwrap_or(0)
            .clamp(8, 60);
        let mut out = format!(
            "{:<6} {:<w_id$}  {:<w_res$}  DETAIL\n",
            "STATUS", "CHECK", "RESOURCE"
        );
        for c in &self.checks {
            out.push_str(&format!(
                "{:<6} {:<w_id$}  {:<w_res$}  {}\n",
                c.status.as_str(),
                c.id,
                c.resource,
                c.detail
            ));
        }
        let failed = self.failures().count();
        out.push_str(&format!(
            "{} checks: {} passed, {} failed\n",
            self.checks.len(),
            self.checks.len() - failed,
            failed
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compared_passes_only_without_differences() {
        let same = Check::compared("ecr.lifecycle", "repo", &[], || "3 rules".into());
        assert!(same.passed());
        assert_eq!(same.detail, "3 rules");
        let differs = [
            "rule 1: keeps 5, expected 3".to_owned(),
            "rule 2 missing".to_owned(),
        ];
        let c = Check::compared("ecr.lifecycle", "repo", &differs, || unreachable!());
        assert!(!c.passed());
        assert_eq!(c.detail, "rule 1: keeps 5, expected 3; rule 2 missing");
    }

    #[test]
    fn json_has_the_documented_shape() {
        let r = Report {
            checks: vec![Check::pass("nodegroup.capacity", "c/n", "SPOT")],
        };
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"checks":[{"id":"nodegroup.capacity","resource":"c/n","status":"PASS","detail":"SPOT"}]})
        );
    }

    #[test]
    fn passes_only_when_every_check_passes_and_there_is_one() {
        assert!(!Report::default().passed());
        let mut r = Report {
            checks: vec![Check::pass("a", "x", "")],
        };
        assert!(r.passed());
        r.checks.push(Check::fail("b", "y", "missing"));
        assert!(!r.passed());
        assert_eq!(r.failures().count(), 1);
        let table = r.to_table();
        assert!(table.contains("FAIL   b"), "{table}");
        assert!(table.ends_with("2 checks: 1 passed, 1 failed\n"), "{table}");
    }
}
