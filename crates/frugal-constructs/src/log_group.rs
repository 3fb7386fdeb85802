//! [`RetainedLogGroup`]: a CloudWatch log group that never keeps logs forever.

use frugal_cfn::logs::log_group::{LogGroup, LogGroupClass};
use frugal_cfn::scheduler::schedule::{
    FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Schedule, Target,
};
use frugal_core::{fns, ResourceHandle, ResourceOptions, Scope, Violations};

use crate::iam::{PolicyDocument, Statement};
use crate::role::ServiceRole;
use crate::validate::Check;

/// Retention periods CloudWatch Logs accepts, and no others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RetentionDays {
    /// 1 day.
    OneDay,
    /// 3 days.
    ThreeDays,
    /// 5 days.
    FiveDays,
    /// 1 week.
    OneWeek,
    /// 2 weeks.
    TwoWeeks,
    /// 1 month (30 days).
    OneMonth,
    /// 2 months (60 days).
    TwoMonths,
    /// 3 months (90 days).
    ThreeMonths,
    /// 4 months (120 days).
    FourMonths,
    /// 5 months (150 days).
    FiveMonths,
    /// 6 months (180 days).
    SixMonths,
    /// 1 year (365 days).
    OneYear,
    /// 13 months (400 days).
    ThirteenMonths,
    /// 18 months (545 days).
    EighteenMonths,
    /// 2 years (731 days).
    TwoYears,
    /// 3 years (1096 days).
    ThreeYears,
    /// 5 years (1827 days).
    FiveYears,
    /// 6 years (2192 days).
    SixYears,
    /// 7 years (2557 days).
    SevenYears,
    /// 8 years (2922 days).
    EightYears,
    /// 9 years (3288 days).
    NineYears,
    /// 10 years (3653 days).
    TenYears,
}

impl RetentionDays {
    /// Every accepted value, shortest first.
    pub const ALL: [RetentionDays; 22] = [
        RetentionDays::OneDay,
        RetentionDays::ThreeDays,
        RetentionDays::FiveDays,
        RetentionDays::OneWeek,
        RetentionDays::TwoWeeks,
        RetentionDays::OneMonth,
        RetentionDays::TwoMonths,
        RetentionDays::ThreeMonths,
        RetentionDays::FourMonths,
        RetentionDays::FiveMonths,
        RetentionDays::SixMonths,
        RetentionDays::OneYear,
        RetentionDays::ThirteenMonths,
        RetentionDays::EighteenMonths,
        RetentionDays::TwoYears,
        RetentionDays::ThreeYears,
        RetentionDays::FiveYears,
        RetentionDays::SixYears,
        RetentionDays::SevenYears,
        RetentionDays::EightYears,
        RetentionDays::NineYears,
        RetentionDays::TenYears,
    ];

    /// The number of days.
    pub fn days(self) -> u32 {
        const DAYS: [u32; 22] = [
            1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
            2922, 3288, 3653,
        ];
        DAYS[self as usize]
    }

    /// The value for `days`, if CloudWatch Logs accepts it.
    pub fn from_days(days: u32) -> Option<RetentionDays> {
        Self::ALL.into_iter().find(|r| r.days() == days)
    }

    /// Parses a day count from configuration, naming the accepted values on failure.
    pub fn parse(days: u32) -> Result<RetentionDays, String> {
        Self::from_days(days).ok_or_else(|| {
            let accepted: Vec<String> = Self::ALL.iter().map(|r| r.days().to_string()).collect();
            format!(
                "{days} days is not a retention CloudWatch Logs accepts ({})",
                accepted.join(", ")
            )
        })
    }
}

/// The log class: Infrequent Access halves ingestion cost but drops live tail, metric
/// filters and subscription filters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogClass {
    /// Standard.
    #[default]
    Standard,
    /// Infrequent Access.
    InfrequentAccess,
}

/// Who creates the log group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// The stack creates it (the group must not exist yet).
    Stack,
    /// An AWS service creates it (EKS control plane logging, SageMaker training jobs), so
    /// a CloudFormation resource would fail with "already exists". The construct instead
    /// schedules a daily `logs:PutRetentionPolicy` on it through EventBridge Scheduler's
    /// universal target: no Lambda code, idempotent, and it re-applies the retention if
    /// the service ever recreates the group.
    Service,
}

/// Log group names derived from what they log, so they cannot drift from the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogGroupName(String);

impl LogGroupName {
    /// The control-plane log group EKS writes for `cluster`.
    pub fn eks_cluster(cluster: &str) -> Self {
        LogGroupName(format!("/aws/eks/{cluster}/cluster"))
    }

    /// The log group SageMaker training jobs write to (one per account and region).
    pub fn sagemaker_training_jobs() -> Self {
        LogGroupName("/aws/sagemaker/TrainingJobs".to_owned())
    }

    /// Container Insights' application log group for `cluster` (Fluent Bit's default).
    pub fn container_insights_application(cluster: &str) -> Self {
        LogGroupName(format!("/aws/containerinsights/{cluster}/application"))
    }

    /// Any other name (validated when the construct is created).
    pub fn custom(name: impl Into<String>) -> Self {
        LogGroupName(name.into())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Input of [`RetainedLogGroup`].
#[derive(Clone, Debug)]
pub struct RetainedLogGroupProps {
    /// The group's name.
    pub name: LogGroupName,
    /// How long events are kept.
    pub retention: RetentionDays,
    /// The log class (stack-owned groups only; a service-owned group keeps its class).
    pub class: LogClass,
    /// Who creates the group.
    pub ownership: Ownership,
}

impl RetainedLogGroupProps {
    /// A stack-owned group of the Standard class.
    pub fn new(name: LogGroupName, retention: RetentionDays) -> Self {
        RetainedLogGroupProps {
            name,
            retention,
            class: LogClass::Standard,
            ownership: Ownership::Stack,
        }
    }

    /// The same, for a group an AWS service creates.
    pub fn service_owned(name: LogGroupName, retention: RetentionDays) -> Self {
        RetainedLogGroupProps {
            ownership: Ownership::Service,
            ..Self::new(name, retention)
        }
    }
}

/// A log group with a retention from the set AWS accepts.
///
/// Stack-owned groups keep their events when the stack is deleted (`DeletionPolicy:
/// Retain`); the retention still expires them.
///
/// ```
/// use frugal_constructs::{LogGroupName, RetainedLogGroup, RetainedLogGroupProps, RetentionDays};
/// let mut app = frugal_core::App::new("demo");
/// app.set_tag("Project", "Demo");
/// let mut stack = app.new_stack("Logs");
/// let api = RetainedLogGroup::new(
///     &mut stack.root(),
///     "ApiLogs",
///     RetainedLogGroupProps::new(LogGroupName::custom("/demo/api"), RetentionDays::OneWeek),
/// )
/// .expect("valid");
/// assert_eq!(api.name(), "/demo/api");
/// ```
#[derive(Clone, Debug)]
pub struct RetainedLogGroup {
    name: String,
    retention: RetentionDays,
    resource: Option<ResourceHandle>,
}

impl RetainedLogGroup {
    /// Adds the log group (or, for a service-owned one, its retention schedule) at `id`.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        props: RetainedLogGroupProps,
    ) -> Result<Self, Violations> {
        let mut scope = scope.child(id);
        let path = scope.path().clone();
        let mut check = Check::new(&path);
        check.name(
            "name",
            props.name.as_str(),
            (1, 512),
            |c| c.is_ascii_alphanumeric() || "._-/#".contains(c),
            "log group names take letters, digits and . _ - / #",
        );
        check.ensure(
            !(props.ownership == Ownership::Service && props.class == LogClass::InfrequentAccess),
            "class",
            "the class of a service-owned log group is chosen when the service creates it; it cannot be set here",
        );
        check.finish(|| ())?;
        let name = props.name.as_str().to_owned();
        let resource = match props.ownership {
            Ownership::Stack => {
                let class = match props.class {
                    LogClass::Standard => LogGroupClass::Standard,
                    LogClass::InfrequentAccess => LogGroupClass::InfrequentAccess,
                };
                let group = LogGroup {
                    log_group_name: Some(name.as_str().into()),
                    retention_in_days: Some(i64::from(props.retention.days()).into()),
                    log_group_class: Some(class.into()),
                    ..Default::default()
                };
                Some(scope.add_resource_with("Resource", group, ResourceOptions::retain()))
            }
            Ownership::Service => {
                retention_schedule(&mut scope, &name, props.retention);
                None
            }
        };
        Ok(RetainedLogGroup {
            name,
            retention: props.retention,
            resource,
        })
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The retention.
    pub fn retention(&self) -> RetentionDays {
        self.retention
    }

    /// The CloudFormation resource, for a stack-owned group.
    pub fn resource(&self) -> Option<&ResourceHandle> {
        self.resource.as_ref()
    }
}

/// A daily schedule applying `retention` to the service-owned group `name`.
fn retention_schedule(scope: &mut Scope<'_>, name: &str, retention: RetentionDays) {
    let group_arn = fns::sub(
        format!(
            "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{name}"
        ),
        [],
    );
    let role = ServiceRole::new(
        scope,
        "RetentionRole",
        "scheduler.amazonaws.com",
        PolicyDocument::new([Statement::allow(["logs:PutRetentionPolicy"], [group_arn])]),
    );
    let input = serde_json::json!({ "logGroupName": name, "retentionInDays": retention.days() })
        .to_string();
    let mut target = Target::new(
        "arn:aws:scheduler:::aws-sdk:cloudwatchlogs:putRetentionPolicy",
        role.arn(),
    );
    target.input = Some(input.into());
    // A missing group (the service has not created it yet) is retried tomorrow anyway.
    target.retry_policy = Some(RetryPolicy {
        maximum_retry_attempts: Some(0.into()),
        maximum_event_age_in_seconds: Some(3600.into()),
    });
    let mut schedule = Schedule::new(
        FlexibleTimeWindow::new(FlexibleTimeWindowMode::Off),
        "rate(1 day)",
        target,
    );
    schedule.description =
        Some(format!("Keep {name} at {} days of retention", retention.days()).into());
    scope.add_resource("RetentionSchedule", schedule);
}
