//! Where a prefix's objects sit under a bucket's lifecycle rules and Intelligent-Tiering
//! archive configuration, given how its GB spread over object age.
//!
//! The model, stated once:
//! - the usage's GB are what the prefix holds when nothing expires, spread over object age
//!   by an [`AgeProfile`] (uniform within each band);
//! - a lifecycle transition at `d` days moves every object older than `d`; an expiration
//!   at `e` days removes every object older than `e`;
//! - objects in Intelligent-Tiering are not read after they arrive (cold data): they move
//!   to Infrequent Access after 30 days there, Archive Instant Access after 90, and —
//!   where an archive configuration covers them — Archive Access and Deep Archive Access
//!   after its days. A read would bring an object back to Frequent Access;
//! - transition requests a month = objects crossing the transition's age a month.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

use crate::usage::{AgeBand, PrefixUsage};

/// How a prefix's GB spread over object age.
#[derive(Clone, Debug, PartialEq)]
pub struct AgeProfile {
    bands: Vec<AgeBand>,
}

impl AgeProfile {
    /// Bands of `from..to` days holding `share` of the GB each; shares sum to 1.
    pub fn new(bands: Vec<AgeBand>) -> Result<AgeProfile, String> {
        if bands.is_empty() {
            return Err("age_bands is empty".to_owned());
        }
        for b in &bands {
            if !(b.from >= 0.0 && b.to > b.from && b.to.is_finite() && b.share >= 0.0) {
                return Err(format!(
                    "age band {}..{} (share {}) needs 0 ≤ from < to and share ≥ 0",
                    b.from, b.to, b.share
                ));
            }
        }
        let total: f64 = bands.iter().map(|b| b.share).sum();
        if (total - 1.0).abs() > 1e-6 {
            return Err(format!("age band shares sum to {total}, not 1"));
        }
        Ok(AgeProfile { bands })
    }

    /// Data written at a steady rate over the last `days` days.
    pub fn uniform(days: f64) -> Result<AgeProfile, String> {
        AgeProfile::new(vec![AgeBand {
            from: 0.0,
            to: days,
            share: 1.0,
        }])
    }

    /// Share of the GB (and objects) aged `from` to `to` days (`to` may be infinite).
    pub fn share_between(&self, from: f64, to: f64) -> f64 {
        self.bands
            .iter()
            .map(|b| {
                let overlap = (to.min(b.to) - from.max(b.from)).max(0.0);
                b.share * overlap / (b.to - b.from)
            })
            .sum()
    }

    /// Share of the objects aged exactly `day` days, per day: how many cross that age
    /// each day, as a share of all.
    pub fn density(&self, day: f64) -> f64 {
        self.bands
            .iter()
            .filter(|b| b.from <= day && day < b.to)
            .map(|b| b.share / (b.to - b.from))
            .sum()
    }
}

/// A storage class or Intelligent-Tiering access tier, each priced on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// S3 Standard.
    Standard,
    /// Intelligent-Tiering, Frequent Access tier.
    ItFrequent,
    /// Intelligent-Tiering, Infrequent Access tier.
    ItInfrequent,
    /// Intelligent-Tiering, Archive Instant Access tier.
    ItArchiveInstant,
    /// Intelligent-Tiering, Archive Access tier (opt-in).
    ItArchive,
    /// Intelligent-Tiering, Deep Archive Access tier (opt-in).
    ItDeepArchive,
    /// Standard-IA.
    StandardIa,
    /// One Zone-IA.
    OneZoneIa,
    /// Glacier Instant Retrieval.
    GlacierIr,
    /// Glacier Flexible Retrieval.
    Glacier,
    /// Glacier Deep Archive.
    DeepArchive,
}

impl Tier {
    /// The catalog id of the storage price.
    pub fn catalog_id(self) -> &'static str {
        match self {
            Tier::Standard => "s3/standard",
            Tier::ItFrequent => "s3/it-frequent",
            Tier::ItInfrequent => "s3/it-infrequent",
            Tier::ItArchiveInstant => "s3/it-archive-instant",
            Tier::ItArchive => "s3/it-archive",
            Tier::ItDeepArchive => "s3/it-deep-archive",
            Tier::StandardIa => "s3/standard-ia",
            Tier::OneZoneIa => "s3/onezone-ia",
            Tier::GlacierIr => "s3/glacier-ir",
            Tier::Glacier => "s3/glacier",
            Tier::DeepArchive => "s3/deep-archive",
        }
    }

    /// Whether the tier is part of Intelligent-Tiering (monitored).
    pub fn is_intelligent_tiering(self) -> bool {
        matches!(
            self,
            Tier::ItFrequent
                | Tier::ItInfrequent
                | Tier::ItArchiveInstant
                | Tier::ItArchive
                | Tier::ItDeepArchive
        )
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::Standard => "STANDARD",
            Tier::ItFrequent => "INTELLIGENT_TIERING Frequent",
            Tier::ItInfrequent => "INTELLIGENT_TIERING Infrequent",
            Tier::ItArchiveInstant => "INTELLIGENT_TIERING Archive Instant",
            Tier::ItArchive => "INTELLIGENT_TIERING Archive",
            Tier::ItDeepArchive => "INTELLIGENT_TIERING Deep Archive",
            Tier::StandardIa => "STANDARD_IA",
            Tier::OneZoneIa => "ONEZONE_IA",
            Tier::GlacierIr => "GLACIER_IR",
            Tier::Glacier => "GLACIER",
            Tier::DeepArchive => "DEEP_ARCHIVE",
        })
    }
}

/// A class a lifecycle rule transitions objects into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetClass {
    /// `INTELLIGENT_TIERING`.
    IntelligentTiering,
    /// `STANDARD_IA`.
    StandardIa,
    /// `ONEZONE_IA`.
    OneZoneIa,
    /// `GLACIER_IR`.
    GlacierIr,
    /// `GLACIER`.
    Glacier,
    /// `DEEP_ARCHIVE`.
    DeepArchive,
}

impl TargetClass {
    /// Parses the CloudFormation name.
    pub fn parse(s: &str) -> Option<TargetClass> {
        Some(match s {
            "INTELLIGENT_TIERING" => TargetClass::IntelligentTiering,
            "STANDARD_IA" => TargetClass::StandardIa,
            "ONEZONE_IA" => TargetClass::OneZoneIa,
            "GLACIER_IR" => TargetClass::GlacierIr,
            "GLACIER" => TargetClass::Glacier,
            "DEEP_ARCHIVE" => TargetClass::DeepArchive,
            _ => return None,
        })
    }

    /// The CloudFormation name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetClass::IntelligentTiering => "INTELLIGENT_TIERING",
            TargetClass::StandardIa => "STANDARD_IA",
            TargetClass::OneZoneIa => "ONEZONE_IA",
            TargetClass::GlacierIr => "GLACIER_IR",
            TargetClass::Glacier => "GLACIER",
            TargetClass::DeepArchive => "DEEP_ARCHIVE",
        }
    }

    /// The catalog id of the transition request price.
    pub fn transition_id(self) -> &'static str {
        match self {
            TargetClass::IntelligentTiering => "s3/transition/intelligent-tiering",
            TargetClass::StandardIa => "s3/transition/standard-ia",
            TargetClass::OneZoneIa => "s3/transition/onezone-ia",
            TargetClass::GlacierIr => "s3/transition/glacier-ir",
            TargetClass::Glacier => "s3/transition/glacier",
            TargetClass::DeepArchive => "s3/transition/deep-archive",
        }
    }

    fn tier(self) -> Tier {
        match self {
            TargetClass::IntelligentTiering => Tier::ItFrequent,
            TargetClass::StandardIa => Tier::StandardIa,
            TargetClass::OneZoneIa => Tier::OneZoneIa,
            TargetClass::GlacierIr => Tier::GlacierIr,
            TargetClass::Glacier => Tier::Glacier,
            TargetClass::DeepArchive => Tier::DeepArchive,
        }
    }

    /// Storage price order, cheapest last, to break ties between rules.
    fn rank(self) -> u8 {
        match self {
            TargetClass::IntelligentTiering => 0,
            TargetClass::StandardIa => 1,
            TargetClass::OneZoneIa => 2,
            TargetClass::GlacierIr => 3,
            TargetClass::Glacier => 4,
            TargetClass::DeepArchive => 5,
        }
    }
}

/// A lifecycle rule as synthesized.
#[derive(Clone, Debug, PartialEq)]
pub struct LifecycleRule {
    /// Rule id.
    pub id: String,
    /// Key prefix the rule applies to (empty: the whole bucket).
    pub prefix: String,
    /// Tags an object must carry.
    pub tags: BTreeMap<String, String>,
    /// Transitions: class and days after creation.
    pub transitions: Vec<(TargetClass, f64)>,
    /// Expiration, days after creation.
    pub expiration_days: Option<f64>,
}

/// An Intelligent-Tiering archive configuration as synthesized.
#[derive(Clone, Debug, PartialEq)]
pub struct ArchiveConfig {
    /// Configuration id.
    pub id: String,
    /// Key prefix (empty: the whole bucket).
    pub prefix: String,
    /// Tags an object must carry.
    pub tags: BTreeMap<String, String>,
    /// Days without access before Archive Access.
    pub archive_days: Option<f64>,
    /// Days without access before Deep Archive Access.
    pub deep_archive_days: Option<f64>,
}

fn applies(prefix: &str, tags: &BTreeMap<String, String>, usage: &PrefixUsage) -> bool {
    usage.prefix.starts_with(prefix) && tags.iter().all(|(k, v)| usage.tags.get(k) == Some(v))
}

impl LifecycleRule {
    /// Whether the rule covers every object of `usage`.
    pub fn applies_to(&self, usage: &PrefixUsage) -> bool {
        applies(&self.prefix, &self.tags, usage)
    }
}

impl ArchiveConfig {
    /// Whether the configuration covers every object of `usage`.
    pub fn applies_to(&self, usage: &PrefixUsage) -> bool {
        applies(&self.prefix, &self.tags, usage)
    }
}

/// Where one prefix's objects sit in a steady month.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Placement {
    /// GB-month per tier.
    pub gb: BTreeMap<Tier, f64>,
    /// Objects a month transitioned into each class.
    pub transitions: BTreeMap<TargetClass, f64>,
    /// Objects monitored by Intelligent-Tiering.
    pub monitored_objects: f64,
    /// GB-month removed by expiration (compared with keeping everything).
    pub expired_gb: f64,
    /// Lifecycle rules and archive configurations that apply, by id.
    pub applied: Vec<String>,
}

/// Places `usage`'s objects under `rules` and `archive` (the archive configurations of
/// the bucket). `objects` stands for the usage's object count (0 if unknown).
pub fn place(
    usage: &PrefixUsage,
    profile: &AgeProfile,
    rules: &[LifecycleRule],
    archive: &[ArchiveConfig],
    days_per_month: f64,
) -> Placement {
    let mut out = Placement::default();
    let objects = usage.objects.unwrap_or(0.0);
    let applicable: Vec<&LifecycleRule> = rules.iter().filter(|r| r.applies_to(usage)).collect();
    // Rules that neither move nor expire objects (aborting uploads) change no line.
    out.applied.extend(
        applicable
            .iter()
            .filter(|r| !r.transitions.is_empty() || r.expiration_days.is_some())
            .map(|r| r.id.clone()),
    );
    let expiration = applicable
        .iter()
        .filter_map(|r| r.expiration_days)
        .fold(f64::INFINITY, f64::min);
    let mut transitions: Vec<(TargetClass, f64)> = applicable
        .iter()
        .flat_map(|r| r.transitions.iter().copied())
        .collect();
    // By day; on the same day the cheaper class wins.
    transitions.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.rank().cmp(&b.0.rank())));
    transitions.dedup_by(|later, earlier| {
        if later.1 == earlier.1 {
            *earlier = *later;
            true
        } else {
            false
        }
    });
    let archive = archive.iter().find(|a| a.applies_to(usage));
    if let Some(a) = archive {
        if transitions
            .iter()
            .any(|(c, _)| *c == TargetClass::IntelligentTiering)
        {
            out.applied.push(a.id.clone());
        }
    }

    // Segments of age: [start, end) in one class.
    let mut starts: Vec<(f64, Option<TargetClass>)> = vec![(0.0, None)];
    starts.extend(
        transitions
            .iter()
            .filter(|(_, d)| *d < expiration)
            .map(|&(c, d)| (d, Some(c))),
    );
    for (i, &(start, class)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(expiration, |s| s.0);
        if end <= start {
            continue;
        }
        match class {
            None => add(
                &mut out.gb,
                Tier::Standard,
                usage.gb * profile.share_between(start, end),
            ),
            Some(TargetClass::IntelligentTiering) => {
                for (tier, from, to) in it_tiers(archive) {
                    let (a, b) = (start + from, (start + to).min(end));
                    if b > a {
                        add(&mut out.gb, tier, usage.gb * profile.share_between(a, b));
                    }
                }
                out.monitored_objects += objects * profile.share_between(start, end);
            }
            Some(c) => add(
                &mut out.gb,
                c.tier(),
                usage.gb * profile.share_between(start, end),
            ),
        }
        if let Some(c) = class {
            let crossing = objects * profile.density(start) * days_per_month;
            if crossing > 0.0 {
                *out.transitions.entry(c).or_insert(0.0) += crossing;
            }
        }
    }
    if expiration.is_finite() {
        out.expired_gb = usage.gb * profile.share_between(expiration, f64::INFINITY);
    }
    out
}

fn add(gb: &mut BTreeMap<Tier, f64>, tier: Tier, x: f64) {
    if x > 0.0 {
        *gb.entry(tier).or_insert(0.0) += x;
    }
}

/// Intelligent-Tiering tiers by days in Intelligent-Tiering without access:
/// `(tier, from, to)`.
fn it_tiers(archive: Option<&ArchiveConfig>) -> Vec<(Tier, f64, f64)> {
    let mut points = vec![
        (0.0, Tier::ItFrequent),
        (30.0, Tier::ItInfrequent),
        (90.0, Tier::ItArchiveInstant),
    ];
    if let Some(a) = archive {
        points.extend(a.archive_days.map(|d| (d, Tier::ItArchive)));
        points.extend(a.deep_archive_days.map(|d| (d, Tier::ItDeepArchive)));
    }
    // Stable: at equal days the opt-in tier (listed later) wins.
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut tiers: Vec<(Tier, f64, f64)> = Vec::new();
    for (i, &(from, tier)) in points.iter().enumerate() {
        let to = points.get(i + 1).map_or(f64::INFINITY, |p| p.0);
        if to > from {
            tiers.push((tier, from, to));
        }
    }
    tiers
}

/// Reads `LifecycleConfiguration.Rules` of a bucket's properties (enabled rules only).
pub fn lifecycle_rules(props: &Json) -> Result<Vec<LifecycleRule>, String> {
    let Some(rules) = props.pointer("/LifecycleConfiguration/Rules") else {
        return Ok(Vec::new());
    };
    let rules = rules
        .as_array()
        .ok_or("LifecycleConfiguration.Rules is not a list")?;
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        if r.get("Status").and_then(Json::as_str) != Some("Enabled") {
            continue;
        }
        let id = r
            .get("Id")
            .and_then(Json::as_str)
            .map_or(format!("rule {}", i + 1), str::to_owned);
        let mut transitions = Vec::new();
        let listed = r
            .get("Transitions")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        for t in listed.iter().chain(r.get("Transition")) {
            let class = t
                .get("StorageClass")
                .and_then(Json::as_str)
                .unwrap_or_default();
            let class = TargetClass::parse(class)
                .ok_or(format!("rule {id}: unknown storage class `{class}`"))?;
            let days = t
                .get("TransitionInDays")
                .and_then(Json::as_f64)
                .ok_or(format!(
                    "rule {id}: a transition without TransitionInDays (dates are not modeled)"
                ))?;
            transitions.push((class, days));
        }
        out.push(LifecycleRule {
            prefix: r
                .get("Prefix")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
            tags: tag_filters(r.get("TagFilters")),
            transitions,
            expiration_days: r.get("ExpirationInDays").and_then(Json::as_f64),
            id,
        });
    }
    Ok(out)
}

/// Reads `IntelligentTieringConfigurations` of a bucket's properties (enabled only).
pub fn archive_configs(props: &Json) -> Result<Vec<ArchiveConfig>, String> {
    let Some(configs) = props.get("IntelligentTieringConfigurations") else {
        return Ok(Vec::new());
    };
    let configs = configs
        .as_array()
        .ok_or("IntelligentTieringConfigurations is not a list")?;
    let mut out = Vec::new();
    for c in configs {
        if c.get("Status").and_then(Json::as_str) != Some("Enabled") {
            continue;
        }
        let mut config = ArchiveConfig {
            id: c
                .get("Id")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
            prefix: c
                .get("Prefix")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
            tags: tag_filters(c.get("TagFilters")),
            archive_days: None,
            deep_archive_days: None,
        };
        for t in c
            .get("Tierings")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let days = t.get("Days").and_then(Json::as_f64);
            match t.get("AccessTier").and_then(Json::as_str) {
                Some("ARCHIVE_ACCESS") => config.archive_days = days,
                Some("DEEP_ARCHIVE_ACCESS") => config.deep_archive_days = days,
                other => {
                    return Err(format!(
                        "archive configuration {}: unknown access tier {other:?}",
                        config.id
                    ))
                }
            }
        }
        out.push(config);
    }
    Ok(out)
}

fn tag_filters(v: Option<&Json>) -> BTreeMap<String, String> {
    v.and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some((
                t.get("Key")?.as_str()?.to_owned(),
                t.get("Value")?.as_str()?.to_owned(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DAYS: f64 = 730.0 / 24.0;

    fn usage(prefix: &str, gb: f64, objects: f64, days: f64) -> PrefixUsage {
        PrefixUsage {
            bucket: "b".into(),
            prefix: prefix.into(),
            gb,
            objects: Some(objects),
            uniform_age_days: Some(days),
            age_bands: None,
            tags: BTreeMap::new(),
        }
    }

    fn bucket() -> (Vec<LifecycleRule>, Vec<ArchiveConfig>) {
        let props = json!({
            "LifecycleConfiguration": {"Rules": [
                {"Id": "tier-raw", "Prefix": "raw/", "Status": "Enabled",
                 "Transitions": [{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30}]},
                {"Id": "tier-artifacts", "Prefix": "artifacts/", "Status": "Enabled",
                 "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": 90},
                                 {"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 180}]},
                {"Id": "expire-tmp", "Prefix": "tmp/", "Status": "Enabled", "ExpirationInDays": 7,
                 "TagFilters": [{"Key": "temporary", "Value": "true"}]},
                {"Id": "off", "Prefix": "", "Status": "Disabled", "ExpirationInDays": 1},
                {"Id": "abort", "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}
            ]},
            "IntelligentTieringConfigurations": [
                {"Id": "archive-raw", "Prefix": "raw/", "Status": "Enabled",
                 "Tierings": [{"AccessTier": "ARCHIVE_ACCESS", "Days": 90},
                              {"AccessTier": "DEEP_ARCHIVE_ACCESS", "Days": 180}]}
            ]
        });
        (
            lifecycle_rules(&props).expect("rules"),
            archive_configs(&props).expect("configs"),
        )
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn age_profile_shares_and_density() {
        let p = AgeProfile::uniform(365.0).expect("profile");
        close(p.share_between(0.0, 30.0), 30.0 / 365.0);
        close(p.share_between(300.0, f64::INFINITY), 65.0 / 365.0);
        close(p.density(30.0), 1.0 / 365.0);
        close(p.density(400.0), 0.0);
        let bands = AgeProfile::new(vec![
            AgeBand {
                from: 0.0,
                to: 30.0,
                share: 0.5,
            },
            AgeBand {
                from: 30.0,
                to: 330.0,
                share: 0.5,
            },
        ])
        .expect("bands");
        close(bands.share_between(15.0, 180.0), 0.25 + 0.25);
        assert!(AgeProfile::uniform(0.0).is_err());
    }

    #[test]
    fn without_rules_everything_is_standard() {
        let u = usage("raw/", 100.0, 1000.0, 365.0);
        let p = place(&u, &u.age_profile().expect("profile"), &[], &[], DAYS);
        assert_eq!(p.gb.len(), 1);
        close(p.gb[&Tier::Standard], 100.0);
        assert!(p.transitions.is_empty());
        close(p.monitored_objects, 0.0);
    }

    #[test]
    fn intelligent_tiering_with_archive_configuration() {
        // 365 GB written evenly over 365 days: 1 GB per day of age.
        // Standard 0-30 d; IT from 30 d: Frequent 30-60, Infrequent 60-120,
        // Archive 120-210 (90 d in IT), Deep Archive 210-365 (180 d in IT).
        let (rules, archive) = bucket();
        let u = usage("raw/", 365.0, 3650.0, 365.0);
        let p = place(
            &u,
            &u.age_profile().expect("profile"),
            &rules,
            &archive,
            DAYS,
        );
        close(p.gb[&Tier::Standard], 30.0);
        close(p.gb[&Tier::ItFrequent], 30.0);
        close(p.gb[&Tier::ItInfrequent], 60.0);
        close(p.gb[&Tier::ItArchive], 90.0);
        close(p.gb[&Tier::ItDeepArchive], 155.0);
        assert!(!p.gb.contains_key(&Tier::ItArchiveInstant));
        // 10 objects a day cross 30 days: 10 × 730/24 a month.
        close(p.transitions[&TargetClass::IntelligentTiering], 10.0 * DAYS);
        close(p.monitored_objects, 3650.0 * 335.0 / 365.0);
        assert_eq!(
            p.applied,
            vec!["tier-raw".to_owned(), "archive-raw".to_owned()]
        );
    }

    #[test]
    fn intelligent_tiering_without_archive_configuration_stops_at_archive_instant() {
        let (rules, _) = bucket();
        let u = usage("raw/", 365.0, 0.0, 365.0);
        let p = place(&u, &u.age_profile().expect("profile"), &rules, &[], DAYS);
        close(p.gb[&Tier::ItArchiveInstant], 365.0 - 120.0);
        assert!(!p.gb.contains_key(&Tier::ItArchive));
    }

    #[test]
    fn glacier_ir_then_deep_archive() {
        let (rules, archive) = bucket();
        let u = usage("artifacts/", 365.0, 365.0, 365.0);
        let p = place(
            &u,
            &u.age_profile().expect("profile"),
            &rules,
            &archive,
            DAYS,
        );
        close(p.gb[&Tier::Standard], 90.0);
        close(p.gb[&Tier::GlacierIr], 90.0);
        close(p.gb[&Tier::DeepArchive], 185.0);
        close(p.transitions[&TargetClass::GlacierIr], DAYS);
        close(p.transitions[&TargetClass::DeepArchive], DAYS);
    }

    #[test]
    fn expiration_only_applies_to_tagged_objects() {
        let (rules, archive) = bucket();
        let mut u = usage("tmp/", 70.0, 0.0, 70.0);
        let p = place(
            &u,
            &u.age_profile().expect("profile"),
            &rules,
            &archive,
            DAYS,
        );
        close(p.gb[&Tier::Standard], 70.0);
        u.tags.insert("temporary".into(), "true".into());
        let p = place(
            &u,
            &u.age_profile().expect("profile"),
            &rules,
            &archive,
            DAYS,
        );
        close(p.gb[&Tier::Standard], 7.0);
        close(p.expired_gb, 63.0);
    }

    #[test]
    fn unknown_storage_class_is_an_error() {
        let props = json!({"LifecycleConfiguration": {"Rules": [
            {"Id": "x", "Status": "Enabled", "Transitions": [{"StorageClass": "REDUCED", "TransitionInDays": 1}]}
        ]}});
        assert!(lifecycle_rules(&props).is_err());
    }
}
