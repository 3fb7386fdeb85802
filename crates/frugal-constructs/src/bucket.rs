//! [`TieredBucket`]: an S3 bucket whose data moves to cheaper storage as it ages.

use frugal_cfn::s3::bucket as cfn;
use frugal_core::{fns, Expr, ResourceHandle, ResourceOptions, Scope, Violations};

use crate::validate::Check;

/// S3 storage classes a lifecycle rule can move objects into, in the order S3 allows
/// transitions (an object only ever moves down this list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StorageClass {
    /// `STANDARD_IA` (at least 30 days after creation).
    StandardIa,
    /// `INTELLIGENT_TIERING`.
    IntelligentTiering,
    /// `ONEZONE_IA` (at least 30 days after creation).
    OneZoneIa,
    /// `GLACIER_IR` (Glacier Instant Retrieval).
    GlacierIr,
    /// `GLACIER` (Glacier Flexible Retrieval).
    Glacier,
    /// `DEEP_ARCHIVE`.
    DeepArchive,
}

impl StorageClass {
    /// The S3 name.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageClass::StandardIa => "STANDARD_IA",
            StorageClass::IntelligentTiering => "INTELLIGENT_TIERING",
            StorageClass::OneZoneIa => "ONEZONE_IA",
            StorageClass::GlacierIr => "GLACIER_IR",
            StorageClass::Glacier => "GLACIER",
            StorageClass::DeepArchive => "DEEP_ARCHIVE",
        }
    }

    fn is_infrequent_access(self) -> bool {
        matches!(self, StorageClass::StandardIa | StorageClass::OneZoneIa)
    }

    fn to_cfn(self) -> cfn::TransitionStorageClass {
        match self {
            StorageClass::StandardIa => cfn::TransitionStorageClass::StandardIa,
            StorageClass::IntelligentTiering => cfn::TransitionStorageClass::IntelligentTiering,
            StorageClass::OneZoneIa => cfn::TransitionStorageClass::OnezoneIa,
            StorageClass::GlacierIr => cfn::TransitionStorageClass::GlacierIr,
            StorageClass::Glacier => cfn::TransitionStorageClass::Glacier,
            StorageClass::DeepArchive => cfn::TransitionStorageClass::DeepArchive,
        }
    }
}

/// Move objects into `class` `after_days` days after creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// Target class.
    pub class: StorageClass,
    /// Days after creation.
    pub after_days: u32,
}

/// Intelligent-Tiering's optional archive tiers, for objects that reached Intelligent-Tiering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchiveTiers {
    /// `ARCHIVE_ACCESS` after this many days without access (90 to 730).
    pub archive_after_days: Option<u32>,
    /// `DEEP_ARCHIVE_ACCESS` after this many days without access (180 to 730, after archive).
    pub deep_archive_after_days: Option<u32>,
}

/// What happens to the objects under one prefix as they age.
///
/// The lifecycle rule and the Intelligent-Tiering archive configuration are both
/// rendered from this one value, so they always cover the same prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixTier {
    /// Key prefix, e.g. `raw/` (empty: the whole bucket).
    pub prefix: String,
    /// Transitions, in time order.
    pub transitions: Vec<Transition>,
    /// Archive tiers once objects are in Intelligent-Tiering.
    pub archive: Option<ArchiveTiers>,
    /// Delete objects this many days after creation.
    pub expire_after_days: Option<u32>,
}

impl PrefixTier {
    /// Objects under `prefix` move to Intelligent-Tiering after `after_days`.
    pub fn intelligent_tiering(prefix: &str, after_days: u32) -> Self {
        Self::transitions(
            prefix,
            [Transition {
                class: StorageClass::IntelligentTiering,
                after_days,
            }],
        )
    }

    /// Objects under `prefix` follow `transitions`.
    pub fn transitions(prefix: &str, transitions: impl IntoIterator<Item = Transition>) -> Self {
        PrefixTier {
            prefix: prefix.to_owned(),
            transitions: transitions.into_iter().collect(),
            archive: None,
            expire_after_days: None,
        }
    }

    /// Adds Intelligent-Tiering archive tiers (days without access).
    pub fn with_archive(mut self, archive_after_days: u32, deep_archive_after_days: u32) -> Self {
        self.archive = Some(ArchiveTiers {
            archive_after_days: Some(archive_after_days),
            deep_archive_after_days: Some(deep_archive_after_days),
        });
        self
    }

    /// Deletes objects `days` after creation.
    pub fn expire_after(mut self, days: u32) -> Self {
        self.expire_after_days = Some(days);
        self
    }
}

/// Delete objects under `prefix` carrying tag `key=value` `after_days` after creation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagExpiry {
    /// Key prefix.
    pub prefix: String,
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: String,
    /// Days after creation.
    pub after_days: u32,
}

/// Input of [`TieredBucket`].
#[derive(Clone, Debug)]
pub struct TieredBucketProps {
    /// The bucket's name (S3 naming rules are checked).
    pub name: String,
    /// Per-prefix tier plans.
    pub tiers: Vec<PrefixTier>,
    /// Tag-filtered expirations.
    pub tag_expiries: Vec<TagExpiry>,
    /// Abort incomplete multipart uploads after this many days (`None` keeps them,
    /// and their storage charges, forever).
    pub abort_incomplete_uploads_after_days: Option<u32>,
    /// Keep old object versions (noncurrent versions expire after `noncurrent_expire_days`).
    pub versioned: bool,
    /// Days noncurrent versions are kept, when versioned.
    pub noncurrent_expire_days: u32,
    /// Keep the bucket and its data when the stack is deleted or the bucket replaced.
    pub retain: bool,
}

impl TieredBucketProps {
    /// A bucket named `name` with the cheap and safe defaults: uploads aborted after 7
    /// days, unversioned, retained on delete. Add tiers to it.
    pub fn new(name: impl Into<String>) -> Self {
        TieredBucketProps {
            name: name.into(),
            tiers: Vec::new(),
            tag_expiries: Vec::new(),
            abort_incomplete_uploads_after_days: Some(7),
            versioned: false,
            noncurrent_expire_days: 30,
            retain: true,
        }
    }

    /// Adds a tier plan.
    pub fn tier(mut self, tier: PrefixTier) -> Self {
        self.tiers.push(tier);
        self
    }

    /// Adds a tag-filtered expiration.
    pub fn expire_tagged(mut self, prefix: &str, key: &str, value: &str, after_days: u32) -> Self {
        self.tag_expiries.push(TagExpiry {
            prefix: prefix.to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
            after_days,
        });
        self
    }
}

/// An encrypted, private S3 bucket with a lifecycle per prefix.
///
/// ```
/// use frugal_constructs::{PrefixTier, StorageClass, TieredBucket, TieredBucketProps, Transition};
/// let mut app = frugal_core::App::new("demo");
/// app.set_tag("Project", "Demo");
/// let mut stack = app.new_stack("Data");
/// let bucket = TieredBucket::new(
///     &mut stack.root(),
///     "DataBucket",
///     TieredBucketProps::new("demo-data-dev")
///         .tier(PrefixTier::intelligent_tiering("raw/", 30).with_archive(90, 180))
///         .tier(PrefixTier::transitions("artifacts/", [
///             Transition { class: StorageClass::GlacierIr, after_days: 90 },
///             Transition { class: StorageClass::DeepArchive, after_days: 180 },
///         ]))
///         .expire_tagged("tmp/", "temporary", "true", 7),
/// )
/// .expect("valid");
/// assert_eq!(bucket.name(), "demo-data-dev");
/// ```
#[derive(Clone, Debug)]
pub struct TieredBucket {
    name: String,
    resource: ResourceHandle,
}

impl TieredBucket {
    /// Validates `props` and adds the bucket at `id`.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        props: TieredBucketProps,
    ) -> Result<Self, Violations> {
        let mut scope = scope.child(id);
        let mut check = Check::new(scope.path());
        validate(&mut check, &props);
        check.finish(|| ())?;
        let bucket = render(&props);
        let options = if props.retain {
            ResourceOptions::retain()
        } else {
            ResourceOptions::default()
        };
        let resource = scope.add_resource_with("Resource", bucket, options);
        Ok(TieredBucket {
            name: props.name,
            resource,
        })
    }

    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bucket's ARN.
    pub fn arn(&self) -> Expr<String> {
        self.resource.arn()
    }

    /// ARN of the objects under `prefix` (for IAM statements).
    pub fn objects_arn(&self, prefix: &str) -> Expr<String> {
        fns::sub(
            format!("arn:${{AWS::Partition}}:s3:::{}/{prefix}*", self.name),
            [],
        )
    }

    /// The CloudFormation resource.
    pub fn resource(&self) -> &ResourceHandle {
        &self.resource
    }
}

fn overlaps(a: &str, b: &str) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

fn validate(check: &mut Check<'_>, props: &TieredBucketProps) {
    validate_bucket_name(check, &props.name);
    for (i, tier) in props.tiers.iter().enumerate() {
        let field = format!("tiers[{i}]");
        for (j, other) in props.tiers.iter().enumerate().skip(i + 1) {
            check.ensure(
                !overlaps(&tier.prefix, &other.prefix),
                format!("{field}.prefix"),
                format!(
                    "`{}` overlaps tiers[{j}] `{}`: two rules would move the same objects",
                    tier.prefix, other.prefix
                ),
            );
        }
        check.ensure(
            !tier.transitions.is_empty() || tier.expire_after_days.is_some(),
            format!("{field}.transitions"),
            "a tier needs at least one transition or an expiry",
        );
        let mut previous: Option<Transition> = None;
        for (k, t) in tier.transitions.iter().enumerate() {
            let f = format!("{field}.transitions[{k}]");
            if t.class.is_infrequent_access() {
                check.ensure(
                    t.after_days >= 30,
                    format!("{f}.after_days"),
                    format!(
                        "{} needs at least 30 days after creation (S3 rejects {})",
                        t.class.as_str(),
                        t.after_days
                    ),
                );
            }
            if let Some(p) = previous {
                check.ensure(
                    t.class > p.class,
                    format!("{f}.class"),
                    format!("{} cannot follow {}: S3 only moves objects down Standard-IA → Intelligent-Tiering → One Zone-IA → Glacier IR → Glacier → Deep Archive", t.class.as_str(), p.class.as_str()),
                );
                check.ensure(
                    t.after_days > p.after_days,
                    format!("{f}.after_days"),
                    format!(
                        "transition days must increase: {} after {}",
                        t.after_days, p.after_days
                    ),
                );
                if p.class.is_infrequent_access() {
                    check.ensure(
                        t.after_days >= p.after_days + 30,
                        format!("{f}.after_days"),
                        format!(
                            "objects must stay 30 days in {} before moving on (S3 rejects day {})",
                            p.class.as_str(),
                            t.after_days
                        ),
                    );
                }
            }
            previous = Some(*t);
        }
        if let Some(exp) = tier.expire_after_days {
            check.ensure(
                exp >= 1,
                format!("{field}.expire_after_days"),
                "expiry takes at least 1 day",
            );
        }
        if let (Some(exp), Some(last)) = (tier.expire_after_days, tier.transitions.last()) {
            check.ensure(
                exp > last.after_days,
                format!("{field}.expire_after_days"),
                format!(
                    "expiry at day {exp} is not after the last transition (day {}); S3 rejects it",
                    last.after_days
                ),
            );
        }
        if let Some(a) = tier.archive {
            check.ensure(
                tier.transitions.iter().any(|t| t.class == StorageClass::IntelligentTiering),
                format!("{field}.archive"),
                "archive tiers only apply to objects in Intelligent-Tiering; this prefix never transitions there",
            );
            check.ensure(
                a.archive_after_days.is_some() || a.deep_archive_after_days.is_some(),
                format!("{field}.archive"),
                "set archive_after_days, deep_archive_after_days or both",
            );
            if let Some(d) = a.archive_after_days {
                check.ensure(
                    (90..=730).contains(&d),
                    format!("{field}.archive.archive_after_days"),
                    format!("ARCHIVE_ACCESS takes 90 to 730 days, not {d}"),
                );
            }
            if let Some(d) = a.deep_archive_after_days {
                check.ensure(
                    (180..=730).contains(&d),
                    format!("{field}.archive.deep_archive_after_days"),
                    format!("DEEP_ARCHIVE_ACCESS takes 180 to 730 days, not {d}"),
                );
                if let Some(arch) = a.archive_after_days {
                    check.ensure(
                        d > arch,
                        format!("{field}.archive.deep_archive_after_days"),
                        format!("deep archive (day {d}) must come after archive (day {arch})"),
                    );
                }
            }
        }
    }
    for (i, e) in props.tag_expiries.iter().enumerate() {
        let field = format!("tag_expiries[{i}]");
        check.ensure(
            e.after_days >= 1,
            format!("{field}.after_days"),
            "expiry takes at least 1 day",
        );
        check.ensure(
            !e.key.is_empty() && e.key.len() <= 128,
            format!("{field}.key"),
            "tag keys are 1 to 128 characters",
        );
        check.ensure(
            e.value.len() <= 256,
            format!("{field}.value"),
            "tag values are at most 256 characters",
        );
    }
    if let Some(d) = props.abort_incomplete_uploads_after_days {
        check.ensure(
            d >= 1,
            "abort_incomplete_uploads_after_days",
            "takes at least 1 day",
        );
    }
    if props.versioned {
        check.ensure(
            props.noncurrent_expire_days >= 1,
            "noncurrent_expire_days",
            "takes at least 1 day",
        );
    }
}

/// S3 general purpose bucket naming rules.
fn validate_bucket_name(check: &mut Check<'_>, name: &str) {
    let ok_chars = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    check.name(
        "name",
        name,
        (3, 63),
        ok_chars,
        "bucket names take lowercase letters, digits, `-` and `.`",
    );
    if !check.ok() {
        return;
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    check.ensure(
        edge_ok(name.chars().next()) && edge_ok(name.chars().last()),
        "name",
        format!("`{name}` must begin and end with a letter or digit"),
    );
    check.ensure(
        !name.contains(".."),
        "name",
        format!("`{name}` has two adjacent periods"),
    );
    let ip_like = name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok());
    check.ensure(
        !ip_like,
        "name",
        format!("`{name}` is formatted as an IP address"),
    );
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        check.ensure(
            !name.starts_with(prefix),
            "name",
            format!("`{name}` starts with the reserved prefix `{prefix}`"),
        );
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        check.ensure(
            !name.ends_with(suffix),
            "name",
            format!("`{name}` ends with the reserved suffix `{suffix}`"),
        );
    }
}

/// Short rule-id form of a prefix: `raw/` → `raw`, `` → `all`.
fn prefix_id(prefix: &str) -> String {
    let id: String = prefix
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let id = id.trim_matches('-');
    if id.is_empty() {
        "all".to_owned()
    } else {
        id.to_owned()
    }
}

/// Longest id rendered (S3 takes 255 for lifecycle rules; Intelligent-Tiering
/// configuration ids are kept as short as the other bucket configuration ids).
const MAX_ID_LEN: usize = 64;

/// Hands out ids unique within one list: a readable base, shortened to fit, with
/// `-2`, `-3`, … appended when two bases collide (`raw/` and `raw-` both read `raw`).
#[derive(Default)]
struct UniqueIds(std::collections::BTreeSet<String>);

impl UniqueIds {
    fn take(&mut self, base: &str) -> String {
        let base: String = base.chars().take(MAX_ID_LEN - 4).collect();
        let mut id = base.clone();
        let mut n = 2;
        while !self.0.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

fn render(props: &TieredBucketProps) -> cfn::Bucket {
    let mut rules = Vec::new();
    let mut rule_ids = UniqueIds::default();
    for tier in &props.tiers {
        let mut rule = cfn::Rule::new(cfn::RuleStatus::Enabled);
        rule.id = Some(
            rule_ids
                .take(&format!("tier-{}", prefix_id(&tier.prefix)))
                .into(),
        );
        if !tier.prefix.is_empty() {
            rule.prefix = Some(tier.prefix.as_str().into());
        }
        if !tier.transitions.is_empty() {
            rule.transitions = Some(
                tier.transitions
                    .iter()
                    .map(|t| {
                        let mut tr = cfn::Transition::new(t.class.to_cfn());
                        tr.transition_in_days = Some(i64::from(t.after_days).into());
                        tr
                    })
                    .collect(),
            );
        }
        rule.expiration_in_days = tier.expire_after_days.map(|d| i64::from(d).into());
        rules.push(rule);
    }
    for e in &props.tag_expiries {
        let mut rule = cfn::Rule::new(cfn::RuleStatus::Enabled);
        rule.id = Some(
            rule_ids
                .take(&format!(
                    "expire-{}-{}-{}",
                    prefix_id(&e.prefix),
                    prefix_id(&e.key),
                    prefix_id(&e.value)
                ))
                .into(),
        );
        if !e.prefix.is_empty() {
            rule.prefix = Some(e.prefix.as_str().into());
        }
        rule.tag_filters = Some(vec![cfn::TagFilter::new(e.key.as_str(), e.value.as_str())]);
        rule.expiration_in_days = Some(i64::from(e.after_days).into());
        rules.push(rule);
    }
    if let Some(days) = props.abort_incomplete_uploads_after_days {
        let mut rule = cfn::Rule::new(cfn::RuleStatus::Enabled);
        rule.id = Some(rule_ids.take("abort-incomplete-uploads").into());
        rule.abort_incomplete_multipart_upload =
            Some(cfn::AbortIncompleteMultipartUpload::new(i64::from(days)));
        rules.push(rule);
    }
    if props.versioned {
        let mut rule = cfn::Rule::new(cfn::RuleStatus::Enabled);
        rule.id = Some(rule_ids.take("expire-noncurrent-versions").into());
        rule.noncurrent_version_expiration_in_days =
            Some(i64::from(props.noncurrent_expire_days).into());
        rules.push(rule);
    }
    let mut archive_ids = UniqueIds::default();
    let archives: Vec<cfn::IntelligentTieringConfiguration> = props
        .tiers
        .iter()
        .filter_map(|tier| {
            let a = tier.archive?;
            let mut tierings = Vec::new();
            if let Some(d) = a.archive_after_days {
                tierings.push(cfn::Tiering::new(
                    cfn::TieringAccessTier::ArchiveAccess,
                    i64::from(d),
                ));
            }
            if let Some(d) = a.deep_archive_after_days {
                tierings.push(cfn::Tiering::new(
                    cfn::TieringAccessTier::DeepArchiveAccess,
                    i64::from(d),
                ));
            }
            let mut conf = cfn::IntelligentTieringConfiguration::new(
                archive_ids.take(&format!("archive-{}", prefix_id(&tier.prefix))),
                cfn::IntelligentTieringConfigurationStatus::Enabled,
                tierings,
            );
            if !tier.prefix.is_empty() {
                conf.prefix = Some(tier.prefix.as_str().into());
            }
            Some(conf)
        })
        .collect();

    let sse_rule = cfn::ServerSideEncryptionRule {
        bucket_key_enabled: Some(true.into()),
        server_side_encryption_by_default: Some(cfn::ServerSideEncryptionByDefault::new(
            cfn::ServerSideEncryptionByDefaultSseAlgorithm::Aes256,
        )),
        ..Default::default()
    };
    let ownership = cfn::OwnershipControlsRule {
        object_ownership: Some(
            cfn::OwnershipControlsRuleObjectOwnership::BucketOwnerEnforced.into(),
        ),
    };

    cfn::Bucket {
        bucket_name: Some(props.name.as_str().into()),
        bucket_encryption: Some(cfn::BucketEncryption::new(vec![sse_rule])),
        public_access_block_configuration: Some(cfn::PublicAccessBlockConfiguration {
            block_public_acls: Some(true.into()),
            block_public_policy: Some(true.into()),
            ignore_public_acls: Some(true.into()),
            restrict_public_buckets: Some(true.into()),
        }),
        ownership_controls: Some(cfn::OwnershipControls::new(vec![ownership])),
        lifecycle_configuration: (!rules.is_empty())
            .then(|| cfn::LifecycleConfiguration::new(rules)),
        intelligent_tiering_configurations: (!archives.is_empty()).then_some(archives),
        versioning_configuration: props.versioned.then(|| {
            cfn::VersioningConfiguration::new(cfn::VersioningConfigurationStatus::Enabled)
        }),
        ..Default::default()
    }
}
