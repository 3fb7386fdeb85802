//! [`Budget`]: a monthly cost budget scoped by the app's own tag, with alerts.

use frugal_cfn::budgets::budget as cfn;
use frugal_cfn::sns::{topic::Topic, topic_policy::TopicPolicy};
use frugal_core::{
    fns, Expr, Output, Parameter, ParameterType, ResourceHandle, Scope, Value, Violations,
};

use crate::iam::{PolicyDocument, Principal, Statement};
use crate::validate::Check;

/// Whether an alert fires on actual or forecasted spend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// Spend so far this month.
    Actual,
    /// Spend AWS forecasts for the month.
    Forecasted,
}

/// An alert at a percentage of the limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Alert {
    /// Actual or forecasted.
    pub kind: AlertKind,
    /// Percent of the limit, above 0 and at most 100.
    pub threshold_percent: f64,
}

/// AWS Budgets' limit on notifications per budget.
pub const MAX_NOTIFICATIONS: usize = 5;
/// AWS Budgets' limit on e-mail subscribers per notification.
pub const MAX_EMAIL_SUBSCRIBERS: usize = 10;

/// Input of [`Budget`].
#[derive(Clone, Debug)]
pub struct BudgetProps {
    /// Monthly limit in USD (a stack parameter, so it can change without code).
    pub monthly_limit_usd: f64,
    /// E-mail addresses alerted (stack parameters).
    pub emails: Vec<String>,
    /// Alerts; default: actual 80 %, actual 100 %, forecasted 100 %.
    pub alerts: Vec<Alert>,
    /// Also publish alerts to an SNS topic this construct creates (with a policy that
    /// lets only AWS Budgets of this account publish).
    pub sns_topic: bool,
    /// Publish alerts to a topic the app already has instead (its policy must let
    /// `budgets.amazonaws.com` publish); excludes `sns_topic`.
    pub existing_topic_arn: Option<Expr<String>>,
    /// The tag key whose value (taken from the stack's tags) scopes the budget.
    pub filter_tag: String,
}

impl BudgetProps {
    /// A budget of `monthly_limit_usd` alerting `emails` and an SNS topic, filtered on
    /// the `Project` tag.
    pub fn new(monthly_limit_usd: f64, emails: Vec<String>) -> Self {
        BudgetProps {
            monthly_limit_usd,
            emails,
            alerts: vec![
                Alert {
                    kind: AlertKind::Actual,
                    threshold_percent: 80.0,
                },
                Alert {
                    kind: AlertKind::Actual,
                    threshold_percent: 100.0,
                },
                Alert {
                    kind: AlertKind::Forecasted,
                    threshold_percent: 100.0,
                },
            ],
            sns_topic: true,
            existing_topic_arn: None,
            filter_tag: "Project".to_owned(),
        }
    }
}

/// A monthly cost budget over the resources carrying the app's tag, alerting by e-mail
/// and through an SNS topic only AWS Budgets (of this account) may publish to.
///
/// The budget itself carries the stack's tags as they are when it is created (set
/// stack tags first).
///
/// ```
/// use frugal_constructs::{Budget, BudgetProps};
/// let mut app = frugal_core::App::new("demo");
/// app.set_tag("Project", "Demo");
/// let mut stack = app.new_stack("Guardrails");
/// let budget = Budget::new(
///     &mut stack.root(),
///     "MonthlyBudget",
///     BudgetProps::new(50.0, vec!["team@example.com".into()]),
/// )
/// .expect("valid");
/// assert_eq!(budget.cost_filter(), "user:Project$Demo");
/// ```
#[derive(Clone, Debug)]
pub struct Budget {
    resource: ResourceHandle,
    topic: Option<ResourceHandle>,
    cost_filter: String,
}

impl Budget {
    /// Validates `props` and adds the budget (and topic) at `id`.
    pub fn new(scope: &mut Scope<'_>, id: &str, props: BudgetProps) -> Result<Self, Violations> {
        let mut scope = scope.child(id);
        let path = scope.path().clone();
        let mut check = Check::new(&path);
        let tag_value = scope.tags().get(&props.filter_tag).cloned();
        check.ensure(
            tag_value.is_some(),
            "filter_tag",
            format!(
                "the stack carries no `{}` tag, so the budget would watch nothing",
                props.filter_tag
            ),
        );
        check.ensure(
            props.monthly_limit_usd.is_finite() && props.monthly_limit_usd > 0.0,
            "monthly_limit_usd",
            format!("must be a positive amount, not {}", props.monthly_limit_usd),
        );
        check.ensure(
            !props.alerts.is_empty(),
            "alerts",
            "a budget without alerts tells nobody",
        );
        check.ensure(
            props.alerts.len() <= MAX_NOTIFICATIONS,
            "alerts",
            format!(
                "AWS Budgets allows {MAX_NOTIFICATIONS} notifications per budget, not {}",
                props.alerts.len()
            ),
        );
        for (i, a) in props.alerts.iter().enumerate() {
            check.ensure(
                a.threshold_percent > 0.0 && a.threshold_percent <= 100.0,
                format!("alerts[{i}].threshold_percent"),
                format!(
                    "must be above 0 and at most 100, not {}",
                    a.threshold_percent
                ),
            );
            if props.alerts[..i]
                .iter()
                .any(|b| b.kind == a.kind && b.threshold_percent == a.threshold_percent)
            {
                check.fail(format!("alerts[{i}]"), "the same alert twice");
            }
        }
        check.ensure(
            !(props.sns_topic && props.existing_topic_arn.is_some()),
            "existing_topic_arn",
            "either create a topic (sns_topic) or use an existing one, not both",
        );
        check.ensure(
            !props.emails.is_empty() || props.sns_topic || props.existing_topic_arn.is_some(),
            "emails",
            "alerts need a subscriber: an e-mail address or the SNS topic",
        );
        check.ensure(
            props.emails.len() <= MAX_EMAIL_SUBSCRIBERS,
            "emails",
            format!("AWS Budgets allows {MAX_EMAIL_SUBSCRIBERS} e-mail subscribers per notification, not {}", props.emails.len()),
        );
        for (i, e) in props.emails.iter().enumerate() {
            check.ensure(
                is_email(e),
                format!("emails[{i}]"),
                format!("`{e}` is not an e-mail address"),
            );
        }
        let tag_value = check.finish(|| tag_value.unwrap_or_default())?;
        let cost_filter = format!("user:{}${}", props.filter_tag, tag_value);

        let logical = path.logical_id();
        let stack = scope.stack();
        let limit = stack.add_parameter(
            &format!("{logical}LimitUsd"),
            Parameter::new(
                ParameterType::Number,
                format!("Monthly cost limit of {path} in USD"),
            )
            .range(1.0, 1_000_000.0)
            .value(format_amount(props.monthly_limit_usd)),
        );
        let emails: Vec<Value> = props
            .emails
            .iter()
            .enumerate()
            .map(|(i, e)| {
                stack
                    .add_parameter(
                        &format!("{logical}Email{}", i + 1),
                        Parameter::new(ParameterType::String, format!("Address alerted by {path}"))
                            .pattern(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "an e-mail address")
                            .value(e.as_str()),
                    )
                    .value()
            })
            .collect();

        let topic = props.sns_topic.then(|| {
            let topic = scope.add_resource("Topic", Topic::default());
            let publish = Statement::allow(["SNS:Publish"], [topic.ref_()])
                .sid("AwsBudgetsOfThisAccount")
                .principal(Principal::Service("budgets.amazonaws.com".into()))
                .condition("StringEquals", "aws:SourceAccount", fns::account_id())
                .condition(
                    "ArnLike",
                    "aws:SourceArn",
                    fns::sub::<String>("arn:${AWS::Partition}:budgets::${AWS::AccountId}:*", []),
                );
            scope.add_resource(
                "TopicPolicy",
                TopicPolicy::new(
                    PolicyDocument::new([publish]).to_value(),
                    vec![topic.ref_()],
                ),
            );
            topic
        });

        let mut subscribers: Vec<cfn::Subscriber> = emails
            .into_iter()
            .map(|address| cfn::Subscriber::new(Expr::from_value(address), "EMAIL"))
            .collect();
        if let Some(arn) = topic
            .as_ref()
            .map(ResourceHandle::ref_)
            .or(props.existing_topic_arn.clone())
        {
            subscribers.push(cfn::Subscriber::new(arn, "SNS"));
        }
        let notifications = props
            .alerts
            .iter()
            .map(|a| {
                let kind = match a.kind {
                    AlertKind::Actual => "ACTUAL",
                    AlertKind::Forecasted => "FORECASTED",
                };
                let mut n = cfn::Notification::new("GREATER_THAN", kind, a.threshold_percent);
                n.threshold_type = Some("PERCENTAGE".into());
                cfn::NotificationWithSubscribers::new(n, subscribers.clone())
            })
            .collect();
        let mut data = cfn::BudgetData::new("COST", "MONTHLY");
        data.budget_name = Some(format!("{}-{id}", scope.stack_name()).into());
        data.budget_limit = Some(cfn::Spend::new(limit.as_number(), "USD"));
        data.cost_filters = Some(Value::map([(
            "TagKeyValue",
            Value::List(vec![cost_filter.as_str().into()]),
        )]));
        let mut budget = cfn::Budget::new(data);
        budget.notifications_with_subscribers = Some(notifications);
        // The registry schema declares no tag property for budgets, so synthesis does
        // not tag them; the budget carries the stack's tags (as they are now) itself.
        budget.resource_tags = (!scope.tags().is_empty()).then(|| {
            scope
                .tags()
                .iter()
                .map(|(k, v)| cfn::ResourceTag {
                    key: k.as_str().into(),
                    value: Some(v.as_str().into()),
                })
                .collect()
        });
        let resource = scope.add_resource("Resource", budget);
        if let Some(t) = &topic {
            scope.stack().add_output(
                &format!("{logical}TopicArn"),
                Output {
                    value: t.ref_().into(),
                    description: Some(format!("Alert topic of {path}")),
                    export_name: None,
                },
            );
        }
        Ok(Budget {
            resource,
            topic,
            cost_filter,
        })
    }

    /// The cost filter, `user:<tag>$<value>`.
    pub fn cost_filter(&self) -> &str {
        &self.cost_filter
    }

    /// The alert topic's ARN, if the budget has one.
    pub fn topic_arn(&self) -> Option<Expr<String>> {
        self.topic.as_ref().map(ResourceHandle::ref_)
    }

    /// The CloudFormation resource.
    pub fn resource(&self) -> &ResourceHandle {
        &self.resource
    }
}

/// A plain syntax check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && s.len() <= 254
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && domain.split('.').count() >= 2
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

fn format_amount(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}
