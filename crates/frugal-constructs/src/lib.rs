//! # frugal-constructs
//!
//! Cost-saving CloudFormation constructs. Each defaults to the cheap setting, validates
//! its input when the app is built (errors name the construct path and field), and
//! derives names and tags from the app instead of asking for them twice.
//!
//! | construct | resources | saves by |
//! |---|---|---|
//! | [`SpotNodeGroup`] | `AWS::EKS::Nodegroup` (+ node role) | Spot capacity over interchangeable types |
//! | [`TieredBucket`] | `AWS::S3::Bucket` | per-prefix lifecycle + Intelligent-Tiering archive |
//! | [`RetainedLogGroup`] | `AWS::Logs::LogGroup` (or a retention schedule) | bounded retention |
//! | [`PrunedRepo`] | `AWS::ECR::Repository` | image expiry rules |
//! | [`Budget`] | `AWS::Budgets::Budget` + SNS topic | alerts before the bill |
//! | [`Scheduler`] | `AWS::Scheduler::Schedule`s + role + DLQ | compute off outside office hours |
//!
//! [`rules::add_rule_pack`] adds the cost-and-safety checks synthesis runs on every stack.

#![warn(missing_docs)]

mod bucket;
mod budget;
pub mod iam;
mod log_group;
mod node_group;
mod repo;
mod role;
pub mod rules;
mod scheduler;
mod validate;

pub use bucket::{
    ArchiveTiers, PrefixTier, StorageClass, TagExpiry, TieredBucket, TieredBucketProps, Transition,
};
pub use budget::{
    is_email, Alert, AlertKind, Budget, BudgetProps, MAX_EMAIL_SUBSCRIBERS, MAX_NOTIFICATIONS,
};
pub use log_group::{
    LogClass, LogGroupName, Ownership, RetainedLogGroup, RetainedLogGroupProps, RetentionDays,
};
pub use node_group::{
    instance_shape, Arch, Capacity, InstanceShape, MaxUnavailable, Scaling, SpotNodeGroup,
    SpotNodeGroupProps, Taint, TaintEffect, INSTANCE_CATALOG, SPOT_RULE,
};
pub use repo::{lifecycle_policy_text, KeepRule, PrunedRepo, PrunedRepoProps};
pub use role::ServiceRole;
pub use scheduler::{
    cron_expression, is_time_zone, parse_cron, EndpointTarget, OfficeHours, Scheduler,
    SchedulerProps, TimeOfDay, Weekday,
};
