//! [`Scheduler`]: stop compute outside office hours with EventBridge Scheduler's universal
//! targets — the AWS API calls themselves, no Lambda code to maintain.

use std::fmt;

use frugal_cfn::scheduler::schedule::{
    DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Schedule,
    ScheduleState, Target,
};
use frugal_cfn::scheduler::schedule_group::ScheduleGroup;
use frugal_cfn::sqs::queue::Queue;
use frugal_core::{fns, Expr, ResourceHandle, Scope, Value, Violations};
use serde_json::json;

use crate::iam::{PolicyDocument, Statement};
use crate::node_group::SpotNodeGroup;
use crate::role::ServiceRole;
use crate::validate::Check;

static TIME_ZONES: &str = include_str!("../data/iana-time-zones.txt");

/// Whether `tz` is an IANA time zone name EventBridge Scheduler accepts.
pub fn is_time_zone(tz: &str) -> bool {
    // Read once: an app with many schedules asks for every one of them.
    static NAMES: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            TIME_ZONES
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect()
        })
        .contains(tz)
}

/// Days of the week, in the cron order EventBridge uses (Sunday first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    /// Sunday.
    Sun,
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
}

impl Weekday {
    /// All days, Sunday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Sun,
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
    ];

    /// Monday to Friday.
    pub const WORKDAYS: [Weekday; 5] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];

    /// The cron name (`MON`).
    pub fn cron_name(self) -> &'static str {
        ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"][self as usize]
    }

    /// The next day.
    pub fn next(self) -> Weekday {
        Weekday::ALL[(self as usize + 1) % 7]
    }

    fn from_cron_name(s: &str) -> Option<Weekday> {
        Weekday::ALL.into_iter().find(|d| d.cron_name() == s)
    }
}

/// A wall-clock time in the schedule's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
}

impl TimeOfDay {
    /// `hour:minute`.
    pub const fn new(hour: u8, minute: u8) -> Self {
        TimeOfDay { hour, minute }
    }

    fn minutes(self) -> u32 {
        u32::from(self.hour) * 60 + u32::from(self.minute)
    }

    fn is_valid(self) -> bool {
        self.hour < 24 && self.minute < 60
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// When the environment is in use: compute runs from `start` to `stop` on `days`,
/// in `time_zone`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfficeHours {
    /// IANA time zone, e.g. `Asia/Ho_Chi_Minh` or `UTC`.
    pub time_zone: String,
    /// Days compute starts on.
    pub days: Vec<Weekday>,
    /// Start time.
    pub start: TimeOfDay,
    /// Stop time; at or before `start` means the next day.
    pub stop: TimeOfDay,
}

impl OfficeHours {
    /// Monday to Friday from `start` to `stop` in `time_zone`.
    pub fn workdays(time_zone: &str, start: TimeOfDay, stop: TimeOfDay) -> Self {
        OfficeHours {
            time_zone: time_zone.to_owned(),
            days: Weekday::WORKDAYS.to_vec(),
            start,
            stop,
        }
    }

    /// Checks time zone, times and days.
    pub(crate) fn validate(&self, check: &mut Check<'_>, field: &str) {
        check.ensure(
            is_time_zone(&self.time_zone),
            format!("{field}.time_zone"),
            format!(
                "`{}` is not an IANA time zone name (e.g. `UTC`, `Europe/Berlin`)",
                self.time_zone
            ),
        );
        check.ensure(
            !self.days.is_empty(),
            format!("{field}.days"),
            "set at least one day",
        );
        check.ensure(
            self.start.is_valid(),
            format!("{field}.start"),
            format!("{} is not a time of day", self.start),
        );
        check.ensure(
            self.stop.is_valid(),
            format!("{field}.stop"),
            format!("{} is not a time of day", self.stop),
        );
        check.ensure(
            self.start != self.stop,
            format!("{field}.stop"),
            "start and stop are the same time",
        );
        let mut sorted = self.days.clone();
        sorted.sort();
        sorted.dedup();
        check.ensure(
            sorted.len() == self.days.len(),
            format!("{field}.days"),
            "a day is listed twice",
        );
    }

    /// Minutes running per start day.
    pub fn minutes_per_day(&self) -> u32 {
        let (start, stop) = (self.start.minutes(), self.stop.minutes());
        if stop > start {
            stop - start
        } else {
            24 * 60 - start + stop
        }
    }

    /// Hours running per week.
    pub fn hours_per_week(&self) -> f64 {
        f64::from(self.minutes_per_day()) * self.days.len() as f64 / 60.0
    }

    /// Hours running in a 730-hour month (the AWS billing convention): weekly hours × 730 / 168.
    pub fn hours_per_month(&self) -> f64 {
        self.hours_per_week() * 730.0 / 168.0
    }

    /// The schedule expression that starts compute.
    pub fn start_expression(&self) -> String {
        cron_expression(self.start, &self.days)
    }

    /// The schedule expression that stops compute (the next day when overnight).
    pub fn stop_expression(&self) -> String {
        if self.stop > self.start {
            cron_expression(self.stop, &self.days)
        } else {
            let next: Vec<Weekday> = self.days.iter().map(|d| d.next()).collect();
            cron_expression(self.stop, &next)
        }
    }

    /// Recovers office hours from a start and a stop schedule expression (as synthesized).
    pub fn from_expressions(time_zone: &str, start: &str, stop: &str) -> Option<OfficeHours> {
        let (start_time, days) = parse_cron(start)?;
        let (stop_time, stop_days) = parse_cron(stop)?;
        let hours = OfficeHours {
            time_zone: time_zone.to_owned(),
            days,
            start: start_time,
            stop: stop_time,
        };
        let mut expected = if stop_time > start_time {
            hours.days.clone()
        } else {
            hours.days.iter().map(|d| d.next()).collect()
        };
        expected.sort();
        (expected == stop_days).then_some(hours)
    }
}

/// `cron(m h ? * DAYS *)`, days in Sunday-first order with runs of three or more as ranges.
pub fn cron_expression(at: TimeOfDay, days: &[Weekday]) -> String {
    format!("cron({} {} ? * {} *)", at.minute, at.hour, day_field(days))
}

fn day_field(days: &[Weekday]) -> String {
    let mut sorted = days.to_vec();
    sorted.sort();
    sorted.dedup();
    if sorted.len() == 7 {
        return "*".to_owned();
    }
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] as usize == sorted[j] as usize + 1 {
            j += 1;
        }
        if j - i >= 2 {
            parts.push(format!(
                "{}-{}",
                sorted[i].cron_name(),
                sorted[j].cron_name()
            ));
        } else {
            parts.extend(sorted[i..=j].iter().map(|d| d.cron_name().to_owned()));
        }
        i = j + 1;
    }
    parts.join(",")
}

/// Parses the expressions [`cron_expression`] writes: `cron(m h ? * DAYS *)`.
pub fn parse_cron(expr: &str) -> Option<(TimeOfDay, Vec<Weekday>)> {
    let inner = expr.strip_prefix("cron(")?.strip_suffix(')')?;
    let fields: Vec<&str> = inner.split(' ').collect();
    let [minute, hour, "?", "*", days, "*"] = fields.as_slice() else {
        return None;
    };
    let at = TimeOfDay::new(hour.parse().ok()?, minute.parse().ok()?);
    if !at.is_valid() {
        return None;
    }
    let mut out = Vec::new();
    if *days == "*" {
        out.extend(Weekday::ALL);
    } else {
        for part in days.split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (Weekday::from_cron_name(a)?, Weekday::from_cron_name(b)?);
                    if a > b {
                        return None;
                    }
                    out.extend(Weekday::ALL[a as usize..=b as usize].iter().copied());
                }
                None => out.push(Weekday::from_cron_name(part)?),
            }
        }
    }
    out.sort();
    out.dedup();
    Some((at, out))
}

/// A SageMaker real-time endpoint deleted at stop and recreated from its endpoint
/// config at start (an endpoint bills every hour it exists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointTarget {
    /// Endpoint name.
    pub endpoint_name: String,
    /// The endpoint config it is created from.
    pub endpoint_config_name: String,
}

/// Input of [`Scheduler`].
#[derive(Clone, Debug)]
pub struct SchedulerProps {
    /// When compute runs.
    pub hours: OfficeHours,
    /// Node groups scaled to zero at stop and back to their own scaling config at start.
    pub node_groups: Vec<SpotNodeGroup>,
    /// Endpoints deleted at stop and recreated at start.
    pub endpoints: Vec<EndpointTarget>,
    /// Retries of a failed invocation (0 to 185).
    pub retry_attempts: u32,
    /// How long an invocation may be retried, in seconds (60 to 86400).
    pub max_event_age_seconds: u32,
    /// Send invocations that still fail to an SQS dead-letter queue.
    pub dead_letter_queue: bool,
    /// Put the schedules in a schedule group of their own (tagged like the app);
    /// `false` uses the account's `default` group.
    pub schedule_group: bool,
}

impl SchedulerProps {
    /// Schedules for `node_groups` in `hours`, 3 retries within an hour, with a DLQ.
    pub fn new(hours: OfficeHours, node_groups: Vec<SpotNodeGroup>) -> Self {
        SchedulerProps {
            hours,
            node_groups,
            endpoints: Vec::new(),
            retry_attempts: 3,
            max_event_age_seconds: 3600,
            dead_letter_queue: true,
            schedule_group: true,
        }
    }
}

/// Off-hours schedules for node groups and SageMaker endpoints.
///
/// ```
/// use frugal_constructs::{OfficeHours, Scheduler, SchedulerProps, TimeOfDay};
/// let mut app = frugal_core::App::new("demo");
/// app.set_tag("Project", "Demo");
/// let mut stack = app.new_stack("Compute");
/// let hours = OfficeHours::workdays("UTC", TimeOfDay::new(7, 0), TimeOfDay::new(19, 0));
/// assert_eq!(hours.stop_expression(), "cron(0 19 ? * MON-FRI *)");
/// Scheduler::new(&mut stack.root(), "OffHours", SchedulerProps::new(hours, vec![])).expect("valid");
/// ```
#[derive(Clone, Debug)]
pub struct Scheduler {
    hours: OfficeHours,
    group: Option<ResourceHandle>,
    role: ServiceRole,
    dead_letter_queue: Option<ResourceHandle>,
}

impl Scheduler {
    /// Validates `props` and adds the schedule group, role, queue and schedules at `id`.
    pub fn new(scope: &mut Scope<'_>, id: &str, props: SchedulerProps) -> Result<Self, Violations> {
        let mut scope = scope.child(id);
        let mut check = Check::new(scope.path());
        props.hours.validate(&mut check, "hours");
        check.ensure(
            props.retry_attempts <= 185,
            "retry_attempts",
            "takes 0 to 185",
        );
        check.ensure(
            (60..=86_400).contains(&props.max_event_age_seconds),
            "max_event_age_seconds",
            "takes 60 to 86400 seconds",
        );
        for (i, e) in props.endpoints.iter().enumerate() {
            let ok = |s: &str| {
                !s.is_empty()
                    && s.len() <= 63
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !s.starts_with('-')
            };
            check.ensure(
                ok(&e.endpoint_name),
                format!("endpoints[{i}].endpoint_name"),
                "1 to 63 letters, digits and -",
            );
            check.ensure(
                ok(&e.endpoint_config_name),
                format!("endpoints[{i}].endpoint_config_name"),
                "1 to 63 letters, digits and -",
            );
        }
        check.finish(|| ())?;

        let group = props
            .schedule_group
            .then(|| scope.add_resource("Group", ScheduleGroup::default()));
        let dead_letter_queue = props.dead_letter_queue.then(|| {
            let q = Queue {
                message_retention_period: Some(1_209_600.into()),
                sqs_managed_sse_enabled: Some(true.into()),
                ..Default::default()
            };
            scope.add_resource("DeadLetterQueue", q)
        });

        let mut statements = Vec::new();
        if !props.node_groups.is_empty() {
            statements.push(
                Statement::allow(
                    ["eks:UpdateNodegroupConfig"],
                    props.node_groups.iter().map(SpotNodeGroup::arn),
                )
                .sid("ScaleNodeGroups"),
            );
        }
        if !props.endpoints.is_empty() {
            let arn = |kind: &str, name: &str| {
                fns::sub::<String>(format!("arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:{kind}/{}", name.to_lowercase()), [])
            };
            let endpoints = props
                .endpoints
                .iter()
                .map(|e| arn("endpoint", &e.endpoint_name));
            let configs = props
                .endpoints
                .iter()
                .map(|e| arn("endpoint-config", &e.endpoint_config_name));
            statements.push(
                Statement::allow(
                    ["sagemaker:CreateEndpoint", "sagemaker:DeleteEndpoint"],
                    endpoints.chain(configs).collect::<Vec<_>>(),
                )
                .sid("StopStartEndpoints"),
            );
        }
        if let Some(q) = &dead_letter_queue {
            statements.push(Statement::allow(["sqs:SendMessage"], [q.arn()]).sid("DeadLetters"));
        }
        let role = ServiceRole::new(
            &mut scope,
            "Role",
            "scheduler.amazonaws.com",
            PolicyDocument::new(statements),
        );

        let scheduler = Scheduler {
            hours: props.hours.clone(),
            group,
            role,
            dead_letter_queue,
        };
        for ng in &props.node_groups {
            let s = ng.scaling();
            let name = ng.nodegroup_name().to_owned();
            // The cluster name goes into the JSON text; a parameter or import is spliced
            // in with Fn::Sub.
            let cluster = ng.cluster_name().as_value();
            let input = |min: u32, desired: u32| -> Expr<String> {
                let text = json!({
                    "clusterName": cluster.as_str().unwrap_or("${ClusterName}"),
                    "nodegroupName": name,
                    "scalingConfig": {"minSize": min, "maxSize": s.max, "desiredSize": desired},
                })
                .to_string();
                match cluster.as_str() {
                    Some(_) => text.into(),
                    None => fns::sub(text, [("ClusterName", cluster.clone())]),
                }
            };
            let action = "arn:aws:scheduler:::aws-sdk:eks:updateNodegroupConfig";
            let mut ng_scope = scope.child(&name);
            scheduler.add(
                &mut ng_scope,
                "Stop",
                &props,
                false,
                action,
                input(0, 0),
                format!("Scale {name} to zero"),
            );
            scheduler.add(
                &mut ng_scope,
                "Start",
                &props,
                true,
                action,
                input(s.min, s.desired),
                format!(
                    "Restore {name} to min {} / desired {} / max {}",
                    s.min, s.desired, s.max
                ),
            );
        }
        for e in &props.endpoints {
            let mut ep_scope = scope.child(&e.endpoint_name);
            scheduler.add(
                &mut ep_scope,
                "Stop",
                &props,
                false,
                "arn:aws:scheduler:::aws-sdk:sagemaker:deleteEndpoint",
                json!({"EndpointName": e.endpoint_name}).to_string().into(),
                format!("Delete endpoint {}", e.endpoint_name),
            );
            scheduler.add(
                &mut ep_scope,
                "Start",
                &props,
                true,
                "arn:aws:scheduler:::aws-sdk:sagemaker:createEndpoint",
                json!({"EndpointName": e.endpoint_name, "EndpointConfigName": e.endpoint_config_name})
                    .to_string()
                    .into(),
                format!("Recreate endpoint {} from {}", e.endpoint_name, e.endpoint_config_name),
            );
        }
        Ok(scheduler)
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        props: &SchedulerProps,
        start: bool,
        action: &str,
        input: Expr<String>,
        description: String,
    ) {
        let mut target = Target::new(action, self.role.arn());
        target.input = Some(input);
        target.retry_policy = Some(RetryPolicy {
            maximum_retry_attempts: Some(f64::from(props.retry_attempts).into()),
            maximum_event_age_in_seconds: Some(f64::from(props.max_event_age_seconds).into()),
        });
        target.dead_letter_config = self
            .dead_letter_queue
            .as_ref()
            .map(|q| DeadLetterConfig { arn: Some(q.arn()) });
        let expression = if start {
            props.hours.start_expression()
        } else {
            props.hours.stop_expression()
        };
        let mut schedule = Schedule::new(
            FlexibleTimeWindow::new(FlexibleTimeWindowMode::Off),
            expression,
            target,
        );
        schedule.schedule_expression_timezone = Some(props.hours.time_zone.as_str().into());
        schedule.group_name = self.group.as_ref().map(ResourceHandle::ref_);
        schedule.state = Some(ScheduleState::Enabled.into());
        schedule.description = Some(description.into());
        scope.add_resource(id, schedule);
    }

    /// The office hours the schedules implement.
    pub fn hours(&self) -> &OfficeHours {
        &self.hours
    }

    /// The execution role's ARN.
    pub fn role_arn(&self) -> Expr<String> {
        self.role.arn()
    }

    /// The schedule group's name (`default` when the schedules have no group of their own).
    pub fn group_name(&self) -> Expr<String> {
        self.group
            .as_ref()
            .map_or_else(|| "default".into(), ResourceHandle::ref_)
    }

    /// The dead-letter queue's ARN, if any.
    pub fn dead_letter_queue_arn(&self) -> Option<Value> {
        self.dead_letter_queue
            .as_ref()
            .map(|q| q.arn().into_value())
    }
}
