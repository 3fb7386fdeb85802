//! The PodDisruptionBudget that keeps an API serving while Spot nodes are reclaimed and
//! the Cluster Autoscaler drains nodes.

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::{names, Error, Labels};

/// A `policy/v1` PodDisruptionBudget named `name` in `namespace`, keeping at least
/// `min_available` (≥ 1) of the pods that carry every label of `selector` running during
/// voluntary disruptions (drains, scale-down).
///
/// Pass the very labels the pods get (one value for both), so the budget cannot select
/// nothing. An empty selector is refused: in `policy/v1` it selects every pod of the
/// namespace.
///
/// ```
/// use frugal_k8s::{pod_disruption_budget, Labels};
/// let api: Labels = [("app".to_owned(), "retail-forecast-api".to_owned())].into();
/// let pdb = pod_disruption_budget("retail-forecast-api", "retail-forecast", &api, 1).unwrap();
/// let spec = pdb.spec.unwrap();
/// assert_eq!(spec.selector.unwrap().match_labels.unwrap(), api);
/// ```
pub fn pod_disruption_budget(
    name: &str,
    namespace: &str,
    selector: &Labels,
    min_available: u16,
) -> Result<PodDisruptionBudget, Error> {
    names::dns_label("name", name)?;
    names::dns_label("namespace", namespace)?;
    names::labels("selector", selector)?;
    if min_available == 0 {
        return Err(Error::InvalidName {
            field: "min_available".to_owned(),
            value: "0".to_owned(),
            rule: "at least 1 (0 allows evicting every pod)".to_owned(),
        });
    }
    Ok(PodDisruptionBudget {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(selector.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(PodDisruptionBudgetSpec {
            min_available: Some(IntOrString::Int(i32::from(min_available))),
            selector: Some(LabelSelector {
                match_labels: Some(selector.clone()),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_would_protect_nothing_or_everything() {
        let api: Labels = [("app".to_owned(), "api".to_owned())].into();
        assert!(pod_disruption_budget("api", "ns", &Labels::new(), 1).is_err());
        assert!(pod_disruption_budget("api", "ns", &api, 0).is_err());
        assert!(pod_disruption_budget("API", "ns", &api, 1).is_err());
        assert!(pod_disruption_budget("api", "Bad_NS", &api, 1).is_err());
        assert!(pod_disruption_budget("api", "ns", &api, 1).is_ok());
    }
}
