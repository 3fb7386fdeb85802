//! The plan's known defects (`shared/reference/README.md`) on the retail-forecast app
//! itself: one test each, named after the defect, showing the app cannot have it.

mod common;

use std::collections::BTreeSet;

use common::*;
use frugal_constructs::{LogGroupName, Weekday};
use retail_forecast::{environments, API_LABEL, CLUSTER_NAME, NAME, NAMESPACE, PROJECT};
use serde_json::{json, Value as Json};

#[test]
fn budget_filters_on_a_tag_value_the_app_does_not_apply() {
    let assembly = assembly();
    let applied = assembly
        .manifest
        .tags
        .get("Project")
        .expect("the app's Project tag");
    assert_eq!(applied, PROJECT);
    for env in env_names() {
        let b = only(
            template(&assembly, env, "Guardrails"),
            "AWS::Budgets::Budget",
        );
        assert_eq!(
            b["Properties"]["Budget"]["CostFilters"]["TagKeyValue"],
            json!([format!("user:Project${applied}")])
        );
        // …and the resources it should watch carry exactly that value.
        let g = only(template(&assembly, env, "Compute"), "AWS::EKS::Nodegroup");
        assert_eq!(g["Properties"]["Tags"]["Project"], applied.as_str());
    }
}

#[test]
fn log_group_name_retyped_disagrees_with_the_cluster_name() {
    assert_eq!(
        LogGroupName::eks_cluster(CLUSTER_NAME).as_str(),
        format!("/aws/eks/{CLUSTER_NAME}/cluster")
    );
    let assembly = assembly();
    for env in env_names() {
        let data = template(&assembly, env, "Data");
        let schedule = resource(data, "ClusterLogsRetentionSchedule");
        assert_eq!(
            input(schedule)["logGroupName"],
            format!("/aws/eks/{CLUSTER_NAME}/cluster")
        );
        let compute = template(&assembly, env, "Compute");
        assert_eq!(
            only(compute, "AWS::EKS::Nodegroup")["Properties"]["ClusterName"],
            CLUSTER_NAME
        );
        let text = serde_json::to_string(data).unwrap();
        assert!(!text.contains("mlops-retail-cluster"));
    }
}

#[test]
fn names_retyped_in_teardown_disagree_with_the_stack() {
    // Namespace and repository come from the app's one name, not `mlops`.
    assert_eq!(NAMESPACE, NAME);
    let assembly = assembly();
    for env in env_names() {
        let repo = only(template(&assembly, env, "Data"), "AWS::ECR::Repository");
        assert_eq!(repo["Properties"]["RepositoryName"], NAME);
    }
}

#[test]
fn ecr_rule_lists_three_tag_prefixes_in_one_rule() {
    let assembly = assembly();
    for env in env_names() {
        let repo = only(template(&assembly, env, "Data"), "AWS::ECR::Repository");
        let policy: Json = serde_json::from_str(
            repo["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        for rule in policy["rules"].as_array().unwrap() {
            if let Some(list) = rule["selection"].get("tagPrefixList") {
                assert_eq!(list.as_array().unwrap().len(), 1, "{rule}");
            }
        }
    }
}

#[test]
fn intelligent_tiering_archive_filters_on_a_prefix_no_lifecycle_rule_uses() {
    let assembly = assembly();
    for env in env_names() {
        let b = &only(template(&assembly, env, "Data"), "AWS::S3::Bucket")["Properties"];
        let moved: BTreeSet<&str> = b["LifecycleConfiguration"]["Rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["Transitions"].as_array().is_some_and(|ts| {
                    ts.iter()
                        .any(|t| t["StorageClass"] == "INTELLIGENT_TIERING")
                })
            })
            .map(|r| r["Prefix"].as_str().unwrap())
            .collect();
        let archived: BTreeSet<&str> = b["IntelligentTieringConfigurations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["Prefix"].as_str().unwrap())
            .collect();
        assert_eq!(archived, moved);
        assert_eq!(archived, BTreeSet::from(["raw/", "silver/"]));
        assert!(!archived.contains("data/"));
    }
}

#[test]
fn scheduler_resizes_the_auto_scaling_group_directly() {
    let assembly = assembly();
    let t = template(&assembly, "dev", "Compute");
    for id in [
        "OffHoursretailforecastnodesStop",
        "OffHoursretailforecastnodesStart",
    ] {
        assert_eq!(
            resource(t, id)["Properties"]["Target"]["Arn"],
            "arn:aws:scheduler:::aws-sdk:eks:updateNodegroupConfig"
        );
    }
    let role = resource(t, "OffHoursRole");
    let text = serde_json::to_string(role).unwrap();
    assert!(!text.contains("autoscaling:"));
    assert!(text.contains("eks:UpdateNodegroupConfig"));
}

#[test]
fn scheduler_restores_a_hard_coded_size() {
    let assembly = assembly();
    for env in environments()
        .into_iter()
        .filter(|e| e.office_hours.is_some())
    {
        let t = template(&assembly, env.name, "Compute");
        let declared = &only(t, "AWS::EKS::Nodegroup")["Properties"]["ScalingConfig"];
        let restored = &input(resource(t, "OffHoursretailforecastnodesStart"))["scalingConfig"];
        assert_eq!(restored["minSize"], declared["MinSize"]);
        assert_eq!(restored["desiredSize"], declared["DesiredSize"]);
        assert_eq!(restored["maxSize"], declared["MaxSize"]);
    }
}

#[test]
fn scheduler_deletes_the_endpoint_and_never_recreates_it() {
    let assembly = assembly();
    for env in environments() {
        let (Some(_), Some(e)) = (&env.office_hours, &env.endpoint) else {
            continue;
        };
        let t = template(&assembly, env.name, "Compute");
        let calls: BTreeSet<&str> = of_type(t, "AWS::Scheduler::Schedule")
            .into_iter()
            .map(|(_, s)| s["Properties"]["Target"]["Arn"].as_str().unwrap())
            .collect();
        assert!(calls.contains("arn:aws:scheduler:::aws-sdk:sagemaker:deleteEndpoint"));
        assert!(calls.contains("arn:aws:scheduler:::aws-sdk:sagemaker:createEndpoint"));
        let role = serde_json::to_string(resource(t, "OffHoursRole")).unwrap();
        assert!(role.contains(&format!("endpoint-config/{}", e.endpoint_config_name)));
    }
}

#[test]
fn scheduler_cron_runs_every_day_not_on_workdays() {
    let assembly = assembly();
    for env in environments() {
        let Some(hours) = &env.office_hours else {
            continue;
        };
        assert_eq!(hours.days, Weekday::WORKDAYS);
        for (id, s) in of_type(
            template(&assembly, env.name, "Compute"),
            "AWS::Scheduler::Schedule",
        ) {
            let expr = s["Properties"]["ScheduleExpression"].as_str().unwrap();
            assert!(expr.contains(" MON-FRI "), "{id}: {expr}");
        }
    }
}

#[test]
fn scheduler_iam_role_is_never_defined() {
    let assembly = assembly();
    let t = template(&assembly, "dev", "Compute");
    for (id, s) in of_type(t, "AWS::Scheduler::Schedule") {
        assert_eq!(
            s["Properties"]["Target"]["RoleArn"],
            json!({"Fn::GetAtt": ["OffHoursRole", "Arn"]}),
            "{id}"
        );
    }
    assert_eq!(resource(t, "OffHoursRole")["Type"], "AWS::IAM::Role");
    assert!(
        of_type(t, "AWS::Lambda::Function").is_empty(),
        "no Lambda, so no python3.9 runtime"
    );
}

#[test]
fn node_label_and_pod_selector_disagree() {
    // One constant labels the nodes and is what the PodDisruptionBudget selects.
    assert_eq!(API_LABEL, ("app", "retail-forecast-api"));
    let assembly = assembly();
    for env in env_names() {
        let g = only(template(&assembly, env, "Compute"), "AWS::EKS::Nodegroup");
        assert_eq!(g["Properties"]["Labels"], json!({API_LABEL.0: API_LABEL.1}));
    }
}
