//! TieredBucket: every validation, the meaning of the synthesized bucket (lifecycle and
//! Intelligent-Tiering cover the same prefixes, uploads aborted, encrypted, private,
//! retained), and property tests over random tier plans.

mod common;

use std::collections::BTreeSet;

use common::*;
use frugal_constructs::{
    ArchiveTiers, PrefixTier, StorageClass, TieredBucket, TieredBucketProps, Transition,
};
use frugal_core::Violations;
use proptest::prelude::*;
use serde_json::{json, Value as Json};

const PATH: &str = "Stack/DataBucket";

fn t(class: StorageClass, after_days: u32) -> Transition {
    Transition { class, after_days }
}

/// The plan's data bucket: raw/ to Intelligent-Tiering with archive tiers, artifacts/
/// to Glacier IR then Deep Archive, temporary tmp/ objects expire.
fn props() -> TieredBucketProps {
    TieredBucketProps::new("demo-data-dev")
        .tier(PrefixTier::intelligent_tiering("raw/", 30).with_archive(90, 180))
        .tier(PrefixTier::transitions(
            "artifacts/",
            [
                t(StorageClass::GlacierIr, 90),
                t(StorageClass::DeepArchive, 180),
            ],
        ))
        .expire_tagged("tmp/", "temporary", "true", 7)
}

fn build_with(p: TieredBucketProps) -> Result<TieredBucket, Violations> {
    let (_app, mut stack) = app_and_stack();
    TieredBucket::new(&mut stack.root(), "DataBucket", p)
}

fn build(change: impl FnOnce(&mut TieredBucketProps)) -> Result<TieredBucket, Violations> {
    let mut p = props();
    change(&mut p);
    build_with(p)
}

fn named(name: &str) -> impl FnOnce(&mut TieredBucketProps) + '_ {
    move |p| p.name = name.to_owned()
}

fn third(tier: PrefixTier) -> impl FnOnce(&mut TieredBucketProps) {
    move |p| p.tiers.push(tier)
}

#[test]
fn invalid_bucket_names_are_rejected() {
    let cases: &[(&str, &str)] = &[
        ("ab", "`ab` must be 3 to 63 characters long"),
        (
            "a-bucket-name-that-is-far-too-long-for-s3-to-accept-it-really-yes",
            "must be 3 to 63 characters long",
        ),
        ("Demo-data", "`Demo-data` contains `D`"),
        ("demo_data", "contains `_`"),
        ("-demo-data", "must begin and end with a letter or digit"),
        ("demo-data.", "must begin and end with a letter or digit"),
        ("demo..data", "has two adjacent periods"),
        ("192.168.5.4", "is formatted as an IP address"),
        ("xn--demo", "starts with the reserved prefix `xn--`"),
        ("sthree-demo", "starts with the reserved prefix `sthree-`"),
        (
            "amzn-s3-demo-bucket",
            "starts with the reserved prefix `amzn-s3-demo-`",
        ),
        ("demo-s3alias", "ends with the reserved suffix `-s3alias`"),
        ("demo--ol-s3", "ends with the reserved suffix `--ol-s3`"),
        ("demo.mrap", "ends with the reserved suffix `.mrap`"),
        ("demo--x-s3", "ends with the reserved suffix `--x-s3`"),
        (
            "demo--table-s3",
            "ends with the reserved suffix `--table-s3`",
        ),
    ];
    for (name, fragment) in cases {
        eprintln!("case: {name}");
        expect_violation(build(named(name)), PATH, "name", fragment);
    }
}

#[test]
fn each_invalid_tier_plan_is_rejected_naming_path_and_field() {
    use StorageClass::*;
    type Case = (
        &'static str,
        Box<dyn FnOnce(&mut TieredBucketProps)>,
        &'static str,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "nested prefix",
            Box::new(third(PrefixTier::intelligent_tiering("raw/2024/", 30))),
            "tiers[0].prefix",
            "`raw/` overlaps tiers[2] `raw/2024/`: two rules would move the same objects",
        ),
        (
            "whole-bucket tier beside prefixed ones",
            Box::new(third(PrefixTier::intelligent_tiering("", 30))),
            "tiers[1].prefix",
            "`artifacts/` overlaps tiers[2] ``",
        ),
        (
            "same prefix twice",
            Box::new(third(PrefixTier::intelligent_tiering("raw/", 60))),
            "tiers[0].prefix",
            "overlaps tiers[2] `raw/`",
        ),
        (
            "tier that does nothing",
            Box::new(third(PrefixTier::transitions("gold/", []))),
            "tiers[2].transitions",
            "a tier needs at least one transition or an expiry",
        ),
        (
            "Standard-IA before 30 days",
            Box::new(third(PrefixTier::transitions("gold/", [t(StandardIa, 29)]))),
            "tiers[2].transitions[0].after_days",
            "STANDARD_IA needs at least 30 days after creation (S3 rejects 29)",
        ),
        (
            "One Zone-IA at day 0",
            Box::new(third(PrefixTier::transitions("gold/", [t(OneZoneIa, 0)]))),
            "tiers[2].transitions[0].after_days",
            "ONEZONE_IA needs at least 30 days after creation (S3 rejects 0)",
        ),
        (
            "transition up the storage classes",
            Box::new(third(PrefixTier::transitions("gold/", [t(GlacierIr, 90), t(StandardIa, 120)]))),
            "tiers[2].transitions[1].class",
            "STANDARD_IA cannot follow GLACIER_IR",
        ),
        (
            "same class twice",
            Box::new(third(PrefixTier::transitions("gold/", [t(Glacier, 90), t(Glacier, 120)]))),
            "tiers[2].transitions[1].class",
            "GLACIER cannot follow GLACIER",
        ),
        (
            "transitions out of time order",
            Box::new(third(PrefixTier::transitions("gold/", [t(GlacierIr, 180), t(DeepArchive, 90)]))),
            "tiers[2].transitions[1].after_days",
            "transition days must increase: 90 after 180",
        ),
        (
            "two transitions on the same day",
            Box::new(third(PrefixTier::transitions("gold/", [t(IntelligentTiering, 30), t(Glacier, 30)]))),
            "tiers[2].transitions[1].after_days",
            "transition days must increase: 30 after 30",
        ),
        (
            "leaving Standard-IA within 30 days",
            Box::new(third(PrefixTier::transitions("gold/", [t(StandardIa, 30), t(Glacier, 45)]))),
            "tiers[2].transitions[1].after_days",
            "objects must stay 30 days in STANDARD_IA before moving on (S3 rejects day 45)",
        ),
        (
            "expiry on the last transition's day",
            Box::new(|p: &mut TieredBucketProps| {
                p.tiers[1].expire_after_days = Some(180);
            }),
            "tiers[1].expire_after_days",
            "expiry at day 180 is not after the last transition (day 180); S3 rejects it",
        ),
        (
            "expiry before the last transition",
            Box::new(|p: &mut TieredBucketProps| {
                p.tiers[1].expire_after_days = Some(100);
            }),
            "tiers[1].expire_after_days",
            "expiry at day 100 is not after the last transition (day 180)",
        ),
        (
            "expiry at day 0",
            Box::new(third(PrefixTier::transitions("scratch/", []).expire_after(0))),
            "tiers[2].expire_after_days",
            "expiry takes at least 1 day",
        ),
        (
            "archive on a prefix that never reaches Intelligent-Tiering",
            Box::new(|p: &mut TieredBucketProps| {
                p.tiers[1] = p.tiers[1].clone().with_archive(90, 180);
            }),
            "tiers[1].archive",
            "archive tiers only apply to objects in Intelligent-Tiering; this prefix never transitions there",
        ),
        (
            "archive with no tier set",
            Box::new(|p: &mut TieredBucketProps| {
                p.tiers[0].archive = Some(ArchiveTiers::default());
            }),
            "tiers[0].archive",
            "set archive_after_days, deep_archive_after_days or both",
        ),
        (
            "archive access before 90 days",
            Box::new(|p: &mut TieredBucketProps| {
                p.tiers[0] = p.tiers[0].clone().with_archive(89, 180);
            }),
            "tiers[0].archive.archive_after_days",
            "ARCHIVE_ACCESS takes 90 to 730 days, not 89",
        ),
        (
            "archive access after 730 days",
            Box::new(|p: &mut TieredBucketProps| {
                p.tiers[0].archive = Some(ArchiveTiers {
                    archive_after_days: Some(731),
                    deep_archive_after_days: None,
                });
            }),
            "tiers[0].archive.archive_after_days",
            "ARCHIVE_ACCESS takes 90 to 730 days, not 731",
        ),
        (
            "deep archive before 180 days",
            Box::new(|p: &mut TieredBucketProps| {
                p.tiers[0].archive = Some(ArchiveTiers {
                    archive_after_days: None,
                    deep_archive_after_days: Some(179),
                });
            }),
            "tiers[0].archive.deep_archive_after_days",
            "DEEP_ARCHIVE_ACCESS takes 180 to 730 days, not 179",
        ),
        (
            "deep archive after 730 days",
            Box::new(|p: &mut TieredBucketProps| {
                p.tiers[0] = p.tiers[0].clone().with_archive(90, 731);
            }),
            "tiers[0].archive.deep_archive_after_days",
            "DEEP_ARCHIVE_ACCESS takes 180 to 730 days, not 731",
        ),
        (
            "deep archive not after archive",
            Box::new(|p: &mut TieredBucketProps| {
                p.tiers[0] = p.tiers[0].clone().with_archive(200, 200);
            }),
            "tiers[0].archive.deep_archive_after_days",
            "deep archive (day 200) must come after archive (day 200)",
        ),
        (
            "deep archive before archive",
            Box::new(|p: &mut TieredBucketProps| {
                p.tiers[0] = p.tiers[0].clone().with_archive(400, 300);
            }),
            "tiers[0].archive.deep_archive_after_days",
            "deep archive (day 300) must come after archive (day 400)",
        ),
        (
            "tagged expiry at day 0",
            Box::new(|p: &mut TieredBucketProps| p.tag_expiries[0].after_days = 0),
            "tag_expiries[0].after_days",
            "expiry takes at least 1 day",
        ),
        (
            "tagged expiry without a key",
            Box::new(|p: &mut TieredBucketProps| p.tag_expiries[0].key.clear()),
            "tag_expiries[0].key",
            "tag keys are 1 to 128 characters",
        ),
        (
            "tagged expiry with a 129-character key",
            Box::new(|p: &mut TieredBucketProps| p.tag_expiries[0].key = "k".repeat(129)),
            "tag_expiries[0].key",
            "tag keys are 1 to 128 characters",
        ),
        (
            "tagged expiry with a 257-character value",
            Box::new(|p: &mut TieredBucketProps| p.tag_expiries[0].value = "v".repeat(257)),
            "tag_expiries[0].value",
            "tag values are at most 256 characters",
        ),
        (
            "abort uploads at day 0",
            Box::new(|p: &mut TieredBucketProps| p.abort_incomplete_uploads_after_days = Some(0)),
            "abort_incomplete_uploads_after_days",
            "takes at least 1 day",
        ),
        (
            "noncurrent versions expiring at day 0",
            Box::new(|p: &mut TieredBucketProps| {
                p.versioned = true;
                p.noncurrent_expire_days = 0;
            }),
            "noncurrent_expire_days",
            "takes at least 1 day",
        ),
    ];
    for (name, change, field, fragment) in cases {
        eprintln!("case: {name}");
        expect_violation(build(change), PATH, field, fragment);
    }
}

#[test]
fn valid_defaults_pass() {
    let bucket = build(|_| {}).expect("the plan's bucket is valid");
    assert_eq!(bucket.name(), "demo-data-dev");
    // Bare defaults: no tiers at all is a valid (if useless) bucket.
    build_with(TieredBucketProps::new("demo-data-dev")).expect("bare bucket");
    // Unversioned buckets do not check the noncurrent days they do not use.
    build(|p| p.noncurrent_expire_days = 0).expect("unused when unversioned");
    // Edge values S3 accepts.
    build(|p| {
        p.tiers.push(PrefixTier::transitions(
            "gold/",
            [
                t(StorageClass::StandardIa, 30),
                t(StorageClass::GlacierIr, 60),
                t(StorageClass::DeepArchive, 61),
            ],
        ));
        p.tiers[0] = p.tiers[0].clone().with_archive(90, 730);
        p.tiers
            .push(PrefixTier::transitions("scratch/", []).expire_after(1));
    })
    .expect("edge values");
}

fn synth_bucket(p: TieredBucketProps) -> frugal_core::Assembly {
    let (app, mut stack) = app_and_stack();
    TieredBucket::new(&mut stack.root(), "DataBucket", p).expect("valid");
    synth(app, stack)
}

fn rules_of(bucket: &Json) -> &Vec<Json> {
    bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        .as_array()
        .expect("lifecycle rules")
}

#[test]
fn lifecycle_and_intelligent_tiering_cover_the_same_prefixes() {
    let p = props().tier(PrefixTier::intelligent_tiering("silver/", 30).with_archive(120, 365));
    let assembly = synth_bucket(p);
    let bucket = only(template(&assembly), "AWS::S3::Bucket");
    let into_it: BTreeSet<&str> = rules_of(bucket)
        .iter()
        .filter(|r| {
            one_or_many(&r["Transitions"])
                .iter()
                .any(|t| t["StorageClass"] == "INTELLIGENT_TIERING")
        })
        .map(|r| str_of(&r["Prefix"], "rule prefix"))
        .collect();
    let configs = bucket["Properties"]["IntelligentTieringConfigurations"]
        .as_array()
        .expect("IT configurations");
    let archived: BTreeSet<&str> = configs
        .iter()
        .map(|c| str_of(&c["Prefix"], "IT prefix"))
        .collect();
    assert_eq!(into_it, BTreeSet::from(["raw/", "silver/"]));
    assert_eq!(archived, into_it);
    let silver = configs.iter().find(|c| c["Prefix"] == "silver/").unwrap();
    assert_eq!(silver["Status"], "Enabled");
    assert_eq!(
        silver["Tierings"],
        json!([
            {"AccessTier": "ARCHIVE_ACCESS", "Days": 120},
            {"AccessTier": "DEEP_ARCHIVE_ACCESS", "Days": 365},
        ])
    );
}

#[test]
fn each_tier_is_one_rule_with_its_transitions_in_order() {
    let assembly = synth_bucket(props());
    let bucket = only(template(&assembly), "AWS::S3::Bucket");
    let rules = rules_of(bucket);
    let artifacts: Vec<&Json> = rules
        .iter()
        .filter(|r| r["Prefix"] == "artifacts/")
        .collect();
    assert_eq!(artifacts.len(), 1);
    assert_eq!(artifacts[0]["Status"], "Enabled");
    assert_eq!(
        artifacts[0]["Transitions"],
        json!([
            {"StorageClass": "GLACIER_IR", "TransitionInDays": 90},
            {"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 180},
        ])
    );
    let tmp: Vec<&Json> = rules.iter().filter(|r| r["Prefix"] == "tmp/").collect();
    assert_eq!(tmp.len(), 1);
    assert_eq!(
        tmp[0]["TagFilters"],
        json!([{"Key": "temporary", "Value": "true"}])
    );
    assert_eq!(tmp[0]["ExpirationInDays"], 7);
    assert!(tmp[0].get("Transitions").is_none());
    let ids: Vec<&str> = rules.iter().map(|r| str_of(&r["Id"], "rule id")).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "rule ids must be unique: {ids:?}");
}

#[test]
fn incomplete_uploads_are_aborted_bucket_wide_after_7_days() {
    let assembly = synth_bucket(props());
    let bucket = only(template(&assembly), "AWS::S3::Bucket");
    let aborts: Vec<&Json> = rules_of(bucket)
        .iter()
        .filter(|r| r.get("AbortIncompleteMultipartUpload").is_some())
        .collect();
    assert_eq!(aborts.len(), 1);
    let rule = aborts[0];
    assert_eq!(
        rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"],
        7
    );
    assert_eq!(rule["Status"], "Enabled");
    assert!(rule.get("Prefix").is_none(), "bucket-wide: {rule}");
    assert!(rule.get("TagFilters").is_none(), "bucket-wide: {rule}");
}

#[test]
fn encrypted_private_and_owner_enforced() {
    let assembly = synth_bucket(props());
    let p = &only(template(&assembly), "AWS::S3::Bucket")["Properties"];
    assert_eq!(p["BucketName"], "demo-data-dev");
    assert_eq!(
        p["BucketEncryption"],
        json!({"ServerSideEncryptionConfiguration": [{
            "BucketKeyEnabled": true,
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
        }]})
    );
    assert_eq!(
        p["PublicAccessBlockConfiguration"],
        json!({
            "BlockPublicAcls": true,
            "BlockPublicPolicy": true,
            "IgnorePublicAcls": true,
            "RestrictPublicBuckets": true,
        })
    );
    assert_eq!(
        p["OwnershipControls"],
        json!({"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    );
    assert!(p.get("VersioningConfiguration").is_none());
    assert_eq!(
        only(template(&assembly), "AWS::S3::Bucket")["Properties"]["Tags"],
        json!([{"Key": "Project", "Value": PROJECT}])
    );
}

#[test]
fn retained_by_default_and_deletable_when_asked() {
    let assembly = synth_bucket(props());
    let bucket = only(template(&assembly), "AWS::S3::Bucket");
    assert_eq!(bucket["DeletionPolicy"], "Retain");
    assert_eq!(bucket["UpdateReplacePolicy"], "Retain");

    let mut p = props();
    p.retain = false;
    let assembly = synth_bucket(p);
    let bucket = only(template(&assembly), "AWS::S3::Bucket");
    assert!(bucket.get("DeletionPolicy").is_none(), "{bucket}");
    assert!(bucket.get("UpdateReplacePolicy").is_none(), "{bucket}");
}

#[test]
fn versioned_buckets_expire_noncurrent_versions() {
    let mut p = props();
    p.versioned = true;
    p.noncurrent_expire_days = 14;
    let assembly = synth_bucket(p);
    let bucket = only(template(&assembly), "AWS::S3::Bucket");
    assert_eq!(
        bucket["Properties"]["VersioningConfiguration"],
        json!({"Status": "Enabled"})
    );
    let noncurrent: Vec<&Json> = rules_of(bucket)
        .iter()
        .filter(|r| r.get("NoncurrentVersionExpirationInDays").is_some())
        .collect();
    assert_eq!(noncurrent.len(), 1);
    assert_eq!(noncurrent[0]["NoncurrentVersionExpirationInDays"], 14);
    assert!(noncurrent[0].get("Prefix").is_none());
}

#[test]
fn prefixes_that_reduce_to_the_same_rule_id_still_get_unique_ids() {
    // `raw/` and `raw-` do not overlap, but both shorten to `raw`.
    let p = TieredBucketProps::new("demo-data-dev")
        .tier(PrefixTier::intelligent_tiering("raw/", 30).with_archive(90, 180))
        .tier(PrefixTier::intelligent_tiering("raw-", 30).with_archive(90, 180))
        .expire_tagged("tmp/", "a-b", "c", 7)
        .expire_tagged("tmp/", "a", "b-c", 7);
    let assembly = synth_bucket(p);
    let bucket = only(template(&assembly), "AWS::S3::Bucket");
    let ids: Vec<&str> = rules_of(bucket)
        .iter()
        .map(|r| str_of(&r["Id"], "rule id"))
        .collect();
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "{ids:?}"
    );
    let it_ids: Vec<&str> = bucket["Properties"]["IntelligentTieringConfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| str_of(&c["Id"], "IT id"))
        .collect();
    assert_eq!(
        it_ids.iter().collect::<BTreeSet<_>>().len(),
        it_ids.len(),
        "{it_ids:?}"
    );
}

#[test]
fn objects_arn_names_the_prefix() {
    let bucket = build(|_| {}).unwrap();
    assert_eq!(
        serde_json::to_value(bucket.objects_arn("raw/")).unwrap(),
        json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::demo-data-dev/raw/*"})
    );
}

#[test]
fn snapshot_of_a_small_bucket_stack() {
    let assembly = synth_bucket(props());
    insta::assert_json_snapshot!("bucket_stack", template(&assembly));
}

// ---- property tests ----------------------------------------------------------------

const CLASSES: [StorageClass; 6] = [
    StorageClass::StandardIa,
    StorageClass::IntelligentTiering,
    StorageClass::OneZoneIa,
    StorageClass::GlacierIr,
    StorageClass::Glacier,
    StorageClass::DeepArchive,
];

fn is_ia(c: StorageClass) -> bool {
    matches!(c, StorageClass::StandardIa | StorageClass::OneZoneIa)
}

/// Valid transitions: the classes of `mask` (bit i = `CLASSES[i]`) in storage-class
/// order, on increasing days that respect the 30-day Infrequent Access minimums.
fn valid_transitions(mask: u8, gaps: &[u32]) -> Vec<Transition> {
    let mut out: Vec<Transition> = Vec::new();
    for (i, class) in CLASSES.iter().enumerate() {
        if mask & (1 << i) == 0 {
            continue;
        }
        let previous = out.last().copied();
        let mut day = previous.map_or(0, |p| p.after_days) + gaps[i];
        if is_ia(*class) {
            day = day.max(30);
        }
        if let Some(p) = previous {
            if is_ia(p.class) {
                day = day.max(p.after_days + 30);
            }
        }
        out.push(t(*class, day));
    }
    out
}

/// What archive tiers a valid plan sets: none, archive only, deep only, or both.
fn archive_of(kind: u8, archive: u32, extra: u32, deep: u32) -> Option<ArchiveTiers> {
    match kind {
        0 => None,
        1 => Some(ArchiveTiers {
            archive_after_days: Some(archive),
            deep_archive_after_days: None,
        }),
        2 => Some(ArchiveTiers {
            archive_after_days: None,
            deep_archive_after_days: Some(deep),
        }),
        _ => Some(ArchiveTiers {
            archive_after_days: Some(archive),
            deep_archive_after_days: Some((archive + extra).max(180)),
        }),
    }
}

prop_compose! {
    fn valid_tier(prefix: String)(
        mask in 1u8..64,
        gaps in proptest::collection::vec(1u32..200, 6),
        archive_kind in 0u8..4,
        archive in 90u32..=600,
        extra in 1u32..=130,
        deep in 180u32..=730,
        expiry in proptest::option::of(1u32..400),
    ) -> PrefixTier {
        let transitions = valid_transitions(mask, &gaps);
        let reaches_it = transitions.iter().any(|t| t.class == StorageClass::IntelligentTiering);
        let last = transitions.last().map_or(0, |t| t.after_days);
        PrefixTier {
            prefix: prefix.clone(),
            transitions,
            archive: if reaches_it { archive_of(archive_kind, archive, extra, deep) } else { None },
            expire_after_days: expiry.map(|e| last + e),
        }
    }
}

/// Distinct one-segment prefixes (`name/`), which never overlap.
fn prefixes() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::btree_set("[a-z0-9][a-z0-9_-]{0,9}", 1..=5)
        .prop_map(|names| names.into_iter().map(|n| format!("{n}/")).collect())
}

fn valid_plan() -> impl Strategy<Value = Vec<PrefixTier>> {
    prefixes().prop_flat_map(|ps| ps.into_iter().map(valid_tier).collect::<Vec<_>>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_valid_plans_pass_and_render_each_prefix_once(tiers in valid_plan()) {
        let mut p = TieredBucketProps::new("demo-data-dev");
        p.tiers = tiers.clone();
        let (app, mut stack) = app_and_stack();
        let built = TieredBucket::new(&mut stack.root(), "DataBucket", p);
        prop_assert!(built.is_ok(), "{}", built.unwrap_err());
        let assembly = try_synth(app, stack);
        prop_assert!(assembly.is_ok(), "{}", assembly.unwrap_err());
        let assembly = assembly.unwrap();
        let bucket = only(template(&assembly), "AWS::S3::Bucket");
        let rules = rules_of(bucket);
        for tier in &tiers {
            let matching: Vec<&Json> = rules.iter().filter(|r| r["Prefix"] == tier.prefix.as_str()).collect();
            prop_assert_eq!(matching.len(), 1, "prefix {} in {:?}", tier.prefix, rules);
            let days: Vec<u64> = one_or_many(&matching[0]["Transitions"])
                .iter()
                .map(|t| t["TransitionInDays"].as_u64().unwrap())
                .collect();
            prop_assert!(days.windows(2).all(|w| w[0] < w[1]), "{:?}", days);
            prop_assert_eq!(days.len(), tier.transitions.len());
        }
        let ids: BTreeSet<&str> = rules.iter().map(|r| r["Id"].as_str().unwrap()).collect();
        prop_assert_eq!(ids.len(), rules.len());
        let archived: BTreeSet<&str> = bucket["Properties"]["IntelligentTieringConfigurations"]
            .as_array()
            .map(|a| a.iter().map(|c| c["Prefix"].as_str().unwrap()).collect())
            .unwrap_or_default();
        let expected: BTreeSet<&str> = tiers.iter().filter(|t| t.archive.is_some()).map(|t| t.prefix.as_str()).collect();
        prop_assert_eq!(archived, expected);
    }

    #[test]
    fn random_plans_with_decreasing_days_fail_naming_the_field(
        tiers in valid_plan(),
        broken_prefix in "[a-z]{1,8}",
        mask in 1u8..64,
        gaps in proptest::collection::vec(1u32..200, 6),
        pick in any::<prop::sample::Index>(),
        position in any::<prop::sample::Index>(),
        shrink in any::<prop::sample::Index>(),
    ) {
        // A tier of at least two transitions whose k-th moves back in time.
        let mut transitions = valid_transitions(mask, &gaps);
        prop_assume!(transitions.len() >= 2);
        let k = 1 + pick.index(transitions.len() - 1);
        let before = transitions[k - 1].after_days;
        transitions[k].after_days = before - shrink.index(before as usize + 1) as u32;
        let prefix = format!("broken-{broken_prefix}/");
        let mut all = tiers;
        let i = position.index(all.len() + 1);
        all.insert(i, PrefixTier { prefix, transitions, archive: None, expire_after_days: None });
        let mut p = TieredBucketProps::new("demo-data-dev");
        p.tiers = all;
        let result = build_with(p);
        prop_assert!(result.is_err());
        let err = result.unwrap_err();
        let field = format!("tiers[{i}].transitions[{k}].after_days");
        prop_assert!(
            err.iter().any(|v| v.path == PATH && v.field == field),
            "expected {}: {} in {}", PATH, field, err
        );
        prop_assert!(err.to_string().contains(&format!("{PATH}: {field}: ")), "{}", err);
    }
}
