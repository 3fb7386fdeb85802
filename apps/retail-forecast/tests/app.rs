//! The retail-forecast app as synthesized: every item of the plan the cost constructs
//! cover, per environment, read from the templates.

mod common;

use std::collections::BTreeSet;

use common::*;
use retail_forecast::{
    bucket_name, environments, stack_name, API_LABEL, CLUSTER_NAME, NAME, NODE_INSTANCE_TYPES,
    PROJECT,
};
use serde_json::{json, Value as Json};

/// Resource types that take no tags.
const UNTAGGABLE: &[&str] = &[
    "AWS::Scheduler::Schedule",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::SNS::Subscription",
];

fn tags_of(resource: &Json) -> Option<Vec<(String, String)>> {
    let p = &resource["Properties"];
    let list = |v: &Json| {
        v.as_array().map(|a| {
            a.iter()
                .map(|t| {
                    (
                        t["Key"].as_str().unwrap().to_owned(),
                        t["Value"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
    };
    match (&p["Tags"], &p["ResourceTags"]) {
        (Json::Array(_), _) => list(&p["Tags"]),
        (Json::Object(m), _) => Some(
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect(),
        ),
        (_, Json::Array(_)) => list(&p["ResourceTags"]),
        _ => None,
    }
}

#[test]
fn the_app_builds_and_synthesizes_three_stacks_per_environment() {
    let assembly = assembly();
    for env in env_names() {
        for part in ["Data", "Compute", "Guardrails"] {
            assert!(
                assembly.stack(&stack_name(env, part)).is_some(),
                "{env} {part}"
            );
        }
    }
    assert_eq!(assembly.manifest.app, "retail-forecast");
    assert_eq!(
        assembly.manifest.tags.get("Project").map(String::as_str),
        Some(PROJECT)
    );
    // Nothing in the app needs an acknowledgement: it runs on Spot, with lifecycles
    // and retentions everywhere.
    assert!(
        assembly.acknowledged.is_empty(),
        "{:?}",
        assembly.acknowledged
    );
}

#[test]
fn synthesis_is_deterministic() {
    let a = assembly();
    let b = assembly();
    assert_eq!(a.outputs(), b.outputs());
}

#[test]
fn every_taggable_resource_carries_project_and_environment() {
    let assembly = assembly();
    let mut checked = 0;
    for env in env_names() {
        for part in ["Data", "Compute", "Guardrails"] {
            let t = template(&assembly, env, part);
            for (id, r) in t["Resources"].as_object().unwrap() {
                let kind = r["Type"].as_str().unwrap();
                if UNTAGGABLE.contains(&kind) {
                    continue;
                }
                let tags =
                    tags_of(r).unwrap_or_else(|| panic!("{env} {part} {id} ({kind}) has no tags"));
                assert!(
                    tags.contains(&("Project".into(), PROJECT.into())),
                    "{env} {part} {id}: {tags:?}"
                );
                assert!(
                    tags.contains(&("Environment".into(), env.into())),
                    "{env} {part} {id}: {tags:?}"
                );
                checked += 1;
            }
        }
        for s in &assembly.manifest.stacks {
            if s.name.starts_with(&format!("RetailForecast-{env}-")) {
                assert_eq!(s.tags.get("Environment").map(String::as_str), Some(env));
                assert_eq!(s.tags.get("Project").map(String::as_str), Some(PROJECT));
            }
        }
    }
    assert!(checked >= 20, "only {checked} taggable resources");
}

#[test]
fn data_outlives_compute() {
    let assembly = assembly();
    for env in environments() {
        let data = template(&assembly, env.name, "Data");
        for kind in [
            "AWS::S3::Bucket",
            "AWS::ECR::Repository",
            "AWS::Logs::LogGroup",
        ] {
            for (id, r) in of_type(data, kind) {
                assert_eq!(r["DeletionPolicy"], "Retain", "{} {id}", env.name);
                assert_eq!(r["UpdateReplacePolicy"], "Retain", "{} {id}", env.name);
            }
        }
        let manifest = |part: &str| {
            assembly
                .manifest
                .stacks
                .iter()
                .find(|s| s.name == stack_name(env.name, part))
                .unwrap()
        };
        assert!(manifest("Compute")
            .dependencies
            .contains(&stack_name(env.name, "Data")));
        assert_eq!(manifest("Data").protected, env.protected);
        assert_eq!(manifest("Compute").protected, env.protected);
    }
}

#[test]
fn node_group_is_spot_over_the_plans_interchangeable_types() {
    let assembly = assembly();
    for env in environments() {
        let t = template(&assembly, env.name, "Compute");
        let g = &only(t, "AWS::EKS::Nodegroup")["Properties"];
        assert_eq!(g["CapacityType"], "SPOT");
        assert_eq!(g["ClusterName"], CLUSTER_NAME);
        assert_eq!(g["NodegroupName"], format!("{NAME}-nodes"));
        assert_eq!(g["InstanceTypes"], json!(NODE_INSTANCE_TYPES));
        assert_eq!(
            g["ScalingConfig"],
            json!({"MinSize": env.scaling.min, "DesiredSize": env.scaling.desired, "MaxSize": env.scaling.max})
        );
        assert_eq!(g["Labels"][API_LABEL.0], API_LABEL.1);
        assert_eq!(
            assembly
                .manifest
                .stacks
                .iter()
                .find(|s| s.name == stack_name(env.name, "Compute"))
                .unwrap()
                .parameters["NodeSubnetIds"],
            env.subnet_ids.join(",")
        );
        // The node role: the three EKS worker policies plus read access to artifacts/.
        let role = resource(t, "NodesNodeRole");
        assert_eq!(
            role["Properties"]["ManagedPolicyArns"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let stmt = &role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(stmt.as_array().unwrap().len(), 1);
        assert_eq!(stmt[0]["Action"], "s3:GetObject");
        assert_eq!(
            stmt[0]["Resource"],
            json!({"Fn::Sub": ["${Bucket}/artifacts/*", {"Bucket": {"Fn::ImportValue": format!("{}:DataBucket:Arn", stack_name(env.name, "Data"))}}]})
        );
    }
}

#[test]
fn dev_stops_outside_office_hours_and_prod_runs_around_the_clock() {
    let assembly = assembly();
    for env in environments() {
        let t = template(&assembly, env.name, "Compute");
        let schedules = of_type(t, "AWS::Scheduler::Schedule");
        let Some(hours) = &env.office_hours else {
            assert!(schedules.is_empty(), "{} has no office hours", env.name);
            continue;
        };
        let expected = 2 * (1 + usize::from(env.endpoint.is_some()));
        assert_eq!(schedules.len(), expected, "{}", env.name);
        for (id, s) in &schedules {
            let p = &s["Properties"];
            assert_eq!(
                p["ScheduleExpressionTimezone"],
                hours.time_zone.as_str(),
                "{id}"
            );
            let expr = p["ScheduleExpression"].as_str().unwrap();
            let want = if id.ends_with("Start") {
                hours.start_expression()
            } else {
                hours.stop_expression()
            };
            assert_eq!(expr, want, "{id}");
        }
        let start = resource(t, "OffHoursretailforecastnodesStart");
        assert_eq!(
            input(start)["scalingConfig"],
            json!({"minSize": env.scaling.min, "desiredSize": env.scaling.desired, "maxSize": env.scaling.max})
        );
        let stop = resource(t, "OffHoursretailforecastnodesStop");
        assert_eq!(
            input(stop)["scalingConfig"],
            json!({"minSize": 0, "desiredSize": 0, "maxSize": env.scaling.max})
        );
        if let Some(e) = &env.endpoint {
            let start = of_type(t, "AWS::Scheduler::Schedule")
                .into_iter()
                .find(|(_, s)| {
                    s["Properties"]["Target"]["Arn"]
                        == "arn:aws:scheduler:::aws-sdk:sagemaker:createEndpoint"
                })
                .expect("endpoint recreated at start");
            assert_eq!(
                input(start.1),
                json!({"EndpointName": e.endpoint_name, "EndpointConfigName": e.endpoint_config_name})
            );
        }
        // 07:00–19:00 on workdays: 60 hours a week, about 261 a month.
        assert_eq!(hours.hours_per_week(), 60.0);
    }
}

#[test]
fn every_log_group_keeps_the_environments_retention() {
    let assembly = assembly();
    for env in environments() {
        let days = env.log_retention.days();
        let t = template(&assembly, env.name, "Data");
        let groups = of_type(t, "AWS::Logs::LogGroup");
        assert_eq!(groups.len(), 1, "only the API's group is the stack's");
        let api = &groups[0].1["Properties"];
        assert_eq!(api["LogGroupName"], format!("/aws/{NAME}/api"));
        assert_eq!(api["RetentionInDays"], days);
        let names: BTreeSet<String> = of_type(t, "AWS::Scheduler::Schedule")
            .into_iter()
            .map(|(_, s)| {
                let i = input(s);
                assert_eq!(i["retentionInDays"], days);
                i["logGroupName"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(
            names,
            BTreeSet::from([
                format!("/aws/eks/{CLUSTER_NAME}/cluster"),
                "/aws/sagemaker/TrainingJobs".to_owned()
            ])
        );
    }
    let by_env: Vec<(&str, u32)> = environments()
        .iter()
        .map(|e| (e.name, e.log_retention.days()))
        .collect();
    assert_eq!(by_env, [("dev", 7), ("prod", 30)]);
}

#[test]
fn the_data_bucket_follows_the_plans_lifecycle() {
    let assembly = assembly();
    for env in env_names() {
        let t = template(&assembly, env, "Data");
        let b = &only(t, "AWS::S3::Bucket")["Properties"];
        assert_eq!(b["BucketName"], bucket_name(env));
        assert_eq!(bucket_name(env), format!("retail-forecast-data-{env}"));
        let rules = b["LifecycleConfiguration"]["Rules"].as_array().unwrap();
        let by_prefix = |p: &str| -> &Json {
            let found: Vec<&Json> = rules.iter().filter(|r| r["Prefix"] == p).collect();
            assert_eq!(found.len(), 1, "{p}");
            found[0]
        };
        for p in ["raw/", "silver/"] {
            assert_eq!(
                by_prefix(p)["Transitions"],
                json!([{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30}])
            );
        }
        for p in ["artifacts/", "logs/"] {
            assert_eq!(
                by_prefix(p)["Transitions"],
                json!([
                    {"StorageClass": "GLACIER_IR", "TransitionInDays": 90},
                    {"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 180},
                ])
            );
        }
        let tmp = by_prefix("tmp/");
        assert_eq!(
            tmp["TagFilters"],
            json!([{"Key": "temporary", "Value": "true"}])
        );
        assert_eq!(tmp["ExpirationInDays"], 7);
        let abort: Vec<&Json> = rules
            .iter()
            .filter(|r| r.get("AbortIncompleteMultipartUpload").is_some())
            .collect();
        assert_eq!(abort.len(), 1);
        assert!(abort[0].get("Prefix").is_none());
        let archives = b["IntelligentTieringConfigurations"].as_array().unwrap();
        for c in archives {
            assert_eq!(
                c["Tierings"],
                json!([{"AccessTier": "ARCHIVE_ACCESS", "Days": 90}, {"AccessTier": "DEEP_ARCHIVE_ACCESS", "Days": 180}])
            );
        }
        assert_eq!(
            b["PublicAccessBlockConfiguration"]["BlockPublicPolicy"],
            true
        );
    }
}

#[test]
fn the_image_repository_keeps_what_the_plan_keeps() {
    let assembly = assembly();
    for env in env_names() {
        let r = &only(template(&assembly, env, "Data"), "AWS::ECR::Repository")["Properties"];
        assert_eq!(r["RepositoryName"], NAME);
        assert_eq!(r["ImageScanningConfiguration"]["ScanOnPush"], true);
        let policy: Json = serde_json::from_str(
            r["LifecyclePolicy"]["LifecyclePolicyText"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let summary: Vec<(u64, &str, Option<&Json>, u64)> = policy["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["rulePriority"].as_u64().unwrap(),
                    r["selection"]["tagStatus"].as_str().unwrap(),
                    r["selection"].get("tagPrefixList"),
                    r["selection"]["countNumber"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (1, "untagged", None, 3),
                (2, "tagged", Some(&json!(["prod"])), 3),
                (3, "tagged", Some(&json!(["stage"])), 3),
                (4, "tagged", Some(&json!(["dev"])), 3),
                (5, "any", None, 10),
            ]
        );
    }
}

#[test]
fn each_environment_has_its_budget_on_the_apps_project_tag() {
    let assembly = assembly();
    for env in environments() {
        let t = template(&assembly, env.name, "Guardrails");
        let b = &only(t, "AWS::Budgets::Budget")["Properties"];
        assert_eq!(
            b["Budget"]["CostFilters"],
            json!({"TagKeyValue": [format!("user:Project${PROJECT}")]})
        );
        let kinds: Vec<(&str, f64)> = b["NotificationsWithSubscribers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["Notification"]["NotificationType"].as_str().unwrap(),
                    n["Notification"]["Threshold"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [("ACTUAL", 80.0), ("ACTUAL", 100.0), ("FORECASTED", 100.0)]
        );
        let params = &assembly
            .manifest
            .stacks
            .iter()
            .find(|s| s.name == stack_name(env.name, "Guardrails"))
            .unwrap()
            .parameters;
        assert_eq!(
            params["MonthlyBudgetLimitUsd"].parse::<f64>().unwrap(),
            env.budget_usd
        );
        assert_eq!(params["MonthlyBudgetEmail1"], env.budget_emails[0]);
        let policy =
            &only(t, "AWS::SNS::TopicPolicy")["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(
            policy["Principal"],
            json!({"Service": "budgets.amazonaws.com"})
        );
        assert_eq!(
            policy["Condition"]["StringEquals"]["aws:SourceAccount"],
            json!({"Ref": "AWS::AccountId"})
        );
    }
}

#[test]
fn the_training_role_reaches_exactly_the_locations_the_outputs_name() {
    let assembly = assembly();
    for env in env_names() {
        let data = template(&assembly, env, "Data");
        let bucket = bucket_name(env);
        let outputs = &data["Outputs"];
        let uri = |id: &str| outputs[id]["Value"].as_str().unwrap().to_owned();
        let train = uri("TrainingDataUri");
        let output = uri("TrainingOutputUri");
        let checkpoints = uri("TrainingCheckpointUri");
        assert_eq!(
            train,
            format!("s3://{bucket}/{}", retail_forecast::TRAIN_PREFIX)
        );
        assert_eq!(
            output,
            format!("s3://{bucket}/{}", retail_forecast::OUTPUT_PREFIX)
        );
        assert_eq!(
            checkpoints,
            format!("s3://{bucket}/{}", retail_forecast::CHECKPOINT_PREFIX)
        );

        let role = resource(data, "TrainingRole");
        assert_eq!(
            role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
            "sagemaker.amazonaws.com"
        );
        let statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap();
        // Object ARNs each statement allows, as `s3://bucket/prefix`.
        let objects = |sid: &str| -> BTreeSet<String> {
            let st = statements.iter().find(|s| s["Sid"] == sid).unwrap();
            st["Resource"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let sub = r["Fn::Sub"].as_str().unwrap();
                    let path = sub.strip_prefix("arn:${AWS::Partition}:s3:::").unwrap();
                    format!("s3://{}", path.strip_suffix('*').unwrap())
                })
                .collect()
        };
        assert_eq!(
            objects("ReadTrainingData"),
            BTreeSet::from([train.clone(), checkpoints.clone()])
        );
        assert_eq!(
            objects("WriteModelsAndCheckpoints"),
            BTreeSet::from([output.clone(), checkpoints.clone()])
        );
        // Nothing else of the bucket: no s3:* and no whole-bucket object access.
        for st in statements {
            let text = st.to_string();
            assert!(
                !text.contains("\"s3:*\"") && !text.contains(&format!("{bucket}/*")),
                "{env}: {st}"
            );
        }
    }
}
