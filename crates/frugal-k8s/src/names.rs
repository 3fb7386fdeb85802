//! Kubernetes and EKS name rules, checked before an object is built.

use crate::{Error, Labels};

fn invalid(field: &str, value: &str, rule: &str) -> Error {
    Error::InvalidName {
        field: field.to_owned(),
        value: value.to_owned(),
        rule: rule.to_owned(),
    }
}

/// An RFC 1123 label: namespaces, and most object names Frugal writes.
pub(crate) fn dns_label(field: &str, value: &str) -> Result<(), Error> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            value,
            "1 to 63 lowercase letters, digits and -, starting and ending with a letter or digit",
        ))
    }
}

/// An RFC 1123 subdomain (DNS label parts joined by dots, at most 253 characters).
fn dns_subdomain(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 253
        && value.split('.').all(|part| dns_label("", part).is_ok())
}

fn label_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Label keys and values; an empty set is refused (a selector without labels selects
/// every pod of the namespace).
pub(crate) fn labels(field: &str, labels: &Labels) -> Result<(), Error> {
    if labels.is_empty() {
        return Err(invalid(
            field,
            "",
            "at least one label (an empty selector matches every pod)",
        ));
    }
    for (k, v) in labels {
        let key_ok = match k.split_once('/') {
            Some((prefix, name)) => dns_subdomain(prefix) && label_name(name),
            None => label_name(k),
        };
        if !key_ok {
            return Err(invalid(
                field,
                k,
                "label keys are [DNS subdomain/]name, the name 1 to 63 letters, digits, - _ .",
            ));
        }
        if !(v.is_empty() || label_name(v)) {
            return Err(invalid(
                &format!("{field}.{k}"),
                v,
                "label values are 0 to 63 letters, digits, - _ ., starting and ending alphanumeric",
            ));
        }
    }
    Ok(())
}

/// An EKS cluster name: 1 to 100 letters, digits, - and _, starting alphanumeric.
pub(crate) fn cluster_name(field: &str, value: &str) -> Result<(), Error> {
    let ok = !value.is_empty()
        && value.len() <= 100
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            value,
            "EKS cluster names are 1 to 100 letters, digits, - and _, starting alphanumeric",
        ))
    }
}

/// An EKS node group name: 1 to 63 letters, digits, - and _, starting alphanumeric.
pub(crate) fn nodegroup_name(field: &str, value: &str) -> Result<(), Error> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            value,
            "EKS node group names are 1 to 63 letters, digits, - and _, starting alphanumeric",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn label_rules() {
        assert!(labels("s", &l(&[("app", "retail-forecast-api")])).is_ok());
        assert!(labels("s", &l(&[("app.kubernetes.io/name", "x"), ("tier", "")])).is_ok());
        assert!(labels("s", &l(&[])).is_err());
        assert!(labels("s", &l(&[("-app", "x")])).is_err());
        assert!(labels("s", &l(&[("Bad_Prefix/app", "x")])).is_err());
        assert!(labels("s", &l(&[("app", "has space")])).is_err());
        assert!(labels("s", &l(&[("app", &"x".repeat(64))])).is_err());
    }

    #[test]
    fn name_rules() {
        assert!(dns_label("n", "retail-forecast").is_ok());
        for bad in ["", "Retail", "a_b", "-a", "a-", &"a".repeat(64)] {
            assert!(dns_label("n", bad).is_err(), "{bad}");
        }
        assert!(cluster_name("c", "retail-forecast-cluster").is_ok());
        assert!(cluster_name("c", "_x").is_err());
        assert!(cluster_name("c", "a/b").is_err());
        assert!(nodegroup_name("g", "retail-forecast-nodes").is_ok());
        assert!(nodegroup_name("g", &"a".repeat(64)).is_err());
    }
}
