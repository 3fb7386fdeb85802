//! Prints the Cluster Autoscaler and a PodDisruptionBudget for a demo cluster as YAML.

use frugal_k8s::{
    pod_disruption_budget, render_yaml, ClusterAutoscalerSpec, KubernetesVersion, Labels,
};

fn main() -> Result<(), frugal_k8s::Error> {
    let api: Labels = [("app".to_owned(), "demo-api".to_owned())].into();
    let mut objects =
        ClusterAutoscalerSpec::new("demo-cluster", KubernetesVersion::expect(1, 34)).objects()?;
    objects.push(pod_disruption_budget("demo-api", "demo", &api, 1)?.into());
    print!("{}", render_yaml("demo objects", &objects)?);
    Ok(())
}
