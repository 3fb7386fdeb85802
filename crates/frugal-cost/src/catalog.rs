//! The price catalog: AWS public list prices per region, each with its unit, source,
//! date and confidence, loaded from `data/prices.toml` (compiled in).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::CostError;

/// The catalog shipped with the crate.
pub const CATALOG_TOML: &str = include_str!("../data/prices.toml");

/// The region of entries that hold in every region (discounts, free services).
pub const GLOBAL_REGION: &str = "global";

/// How much to trust a price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Confidence {
    /// An AWS page or price-list data, or two independent sources that agree.
    A,
    /// One secondary source, or several that agree without a primary source.
    B,
    /// Weak sources: a placeholder, flagged in reports.
    C,
    /// Not found, or the sources conflict: the entry has no price.
    #[serde(rename = "unknown")]
    Unknown,
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::A => "A",
            Confidence::B => "B",
            Confidence::C => "C",
            Confidence::Unknown => "unknown",
        })
    }
}

/// The unit a price is quoted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    /// Per hour.
    #[serde(rename = "hour")]
    Hour,
    /// Per GB stored for a month.
    #[serde(rename = "GB-month")]
    GbMonth,
    /// Per GB (ingested, processed).
    #[serde(rename = "GB")]
    Gb,
    /// Per 1,000 objects monitored for a month.
    #[serde(rename = "1000 objects-month")]
    ThousandObjectMonths,
    /// Per 1,000 requests.
    #[serde(rename = "1000 requests")]
    ThousandRequests,
    /// Per million invocations.
    #[serde(rename = "million invocations")]
    MillionInvocations,
    /// Per budget and day.
    #[serde(rename = "budget-day")]
    BudgetDay,
    /// Per load-balancer capacity unit and hour.
    #[serde(rename = "LCU-hour")]
    LcuHour,
    /// A fraction (a discount: 0.70 is 70 % off).
    #[serde(rename = "fraction")]
    Fraction,
}

impl Unit {
    /// The unit as the catalog writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Hour => "hour",
            Unit::GbMonth => "GB-month",
            Unit::Gb => "GB",
            Unit::ThousandObjectMonths => "1000 objects-month",
            Unit::ThousandRequests => "1000 requests",
            Unit::MillionInvocations => "million invocations",
            Unit::BudgetDay => "budget-day",
            Unit::LcuHour => "LCU-hour",
            Unit::Fraction => "fraction",
        }
    }

    /// How many units one "per" covers (1,000 for per-1,000 units, a million for
    /// per-million), so that `quantity / divisor × price` is the cost.
    pub fn divisor(self) -> f64 {
        match self {
            Unit::ThousandObjectMonths | Unit::ThousandRequests => 1_000.0,
            Unit::MillionInvocations => 1_000_000.0,
            _ => 1.0,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A source the catalog cites.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// What the source is.
    pub title: String,
    /// Where it is.
    pub url: String,
    /// Its date or version.
    pub date: String,
}

/// One catalog entry: a price of one thing in one region.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceEntry {
    /// What is priced, e.g. `ec2/t3.medium`, `s3/standard`.
    pub id: String,
    /// AWS region, or [`GLOBAL_REGION`].
    pub region: String,
    /// USD per `unit`; absent when unknown.
    #[serde(default)]
    pub price: Option<f64>,
    /// Unit of the price.
    pub unit: Unit,
    /// Quantity free each month before the price applies (account-wide).
    #[serde(default)]
    pub free_per_month: Option<f64>,
    /// Keys of [`Catalog::sources`].
    pub source: Vec<String>,
    /// Date of the source the price was read from.
    pub date: String,
    /// How much to trust the price.
    pub confidence: Confidence,
    /// Anything a reader of the price should know.
    #[serde(default)]
    pub note: Option<String>,
}

impl PriceEntry {
    /// `id@region`, how reports cite the entry.
    pub fn citation(&self) -> String {
        format!("{}@{}", self.id, self.region)
    }
}

/// The price catalog.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Currency of every price.
    pub currency: String,
    /// Hours in the month every monthly figure assumes.
    pub hours_per_month: f64,
    /// When the prices were gathered.
    pub gathered: String,
    /// Sources by key.
    pub sources: BTreeMap<String, Source>,
    /// The entries.
    pub prices: Vec<PriceEntry>,
}

/// A price looked up for a line: the entry it came from (if any), and whether a usage
/// file overrode it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PriceRef {
    /// Catalog id.
    pub id: String,
    /// Region asked for.
    pub region: String,
    /// The price used; `None` is unknown.
    pub price: Option<f64>,
    /// Unit.
    pub unit: Unit,
    /// Confidence of the price used.
    pub confidence: Confidence,
    /// The catalog entry's citation (`id@region`), if the catalog has one.
    pub entry: Option<String>,
    /// The catalog's price when a usage file overrides it.
    pub overridden_catalog_price: Option<Option<f64>>,
    /// Free quantity a month.
    pub free_per_month: Option<f64>,
    /// Source keys.
    pub source: Vec<String>,
    /// The source's date.
    pub date: Option<String>,
    /// The entry's note.
    pub note: Option<String>,
}

impl PriceRef {
    /// `0.0416 $/hour [ec2/t3.medium@us-east-1, A]`, or `unknown [...]`.
    pub fn describe(&self) -> String {
        let value = match self.price {
            Some(p) if self.unit == Unit::Fraction => format!("{} %", trim(p * 100.0)),
            Some(p) => format!("{} $/{}", trim(p), self.unit),
            None => format!("unknown $/{}", self.unit),
        };
        let origin = match (&self.overridden_catalog_price, &self.entry) {
            (Some(catalog), _) => format!(
                "usage override; catalog {} = {}",
                self.id,
                catalog.map_or("unknown".to_owned(), trim)
            ),
            (None, Some(entry)) => format!("{entry}, {}", self.confidence),
            (None, None) => format!("{}@{}: no catalog entry", self.id, self.region),
        };
        format!("{value} [{origin}]")
    }
}

/// A number without trailing zeros (`0.0416`, `730`, `0.1`).
pub fn trim(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

impl Catalog {
    /// The catalog shipped with the crate.
    pub fn builtin() -> Result<Catalog, CostError> {
        Catalog::from_toml(CATALOG_TOML)
    }

    /// Parses and checks a catalog: every source cited exists, no entry is listed
    /// twice, known prices are non-negative, unknown entries have no price.
    pub fn from_toml(text: &str) -> Result<Catalog, CostError> {
        let catalog: Catalog =
            toml::from_str(text).map_err(|e| CostError::Catalog(e.to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        for p in &catalog.prices {
            if !seen.insert((p.id.as_str(), p.region.as_str())) {
                return Err(CostError::Catalog(format!(
                    "{} is listed twice",
                    p.citation()
                )));
            }
            if let Some(s) = p.source.iter().find(|s| !catalog.sources.contains_key(*s)) {
                return Err(CostError::Catalog(format!(
                    "{} cites unknown source {s}",
                    p.citation()
                )));
            }
            match (p.price, p.confidence) {
                (Some(_), Confidence::Unknown) => {
                    return Err(CostError::Catalog(format!(
                        "{} is unknown but has a price",
                        p.citation()
                    )))
                }
                (None, c) if c != Confidence::Unknown => {
                    return Err(CostError::Catalog(format!(
                        "{} has no price; grade it unknown",
                        p.citation()
                    )))
                }
                (Some(x), _) if !(x.is_finite() && x >= 0.0) => {
                    return Err(CostError::Catalog(format!(
                        "{} has a negative or non-finite price",
                        p.citation()
                    )))
                }
                _ => {}
            }
        }
        Ok(catalog)
    }

    /// The entry for `id` in `region`, falling back to a [`GLOBAL_REGION`] entry.
    pub fn entry(&self, id: &str, region: &str) -> Option<&PriceEntry> {
        let find = |r: &str| self.prices.iter().find(|p| p.id == id && p.region == r);
        find(region).or_else(|| find(GLOBAL_REGION))
    }

    /// The price of `id` in `region` in `unit`, with `overrides` (from a usage file)
    /// taking precedence. A missing entry, or one in another unit, is unknown.
    pub fn price(
        &self,
        id: &str,
        region: &str,
        unit: Unit,
        overrides: &BTreeMap<String, f64>,
    ) -> PriceRef {
        let entry = self.entry(id, region).filter(|e| e.unit == unit);
        let mut r = PriceRef {
            id: id.to_owned(),
            region: region.to_owned(),
            price: entry.and_then(|e| e.price),
            unit,
            confidence: entry.map_or(Confidence::Unknown, |e| e.confidence),
            entry: entry.map(PriceEntry::citation),
            overridden_catalog_price: None,
            free_per_month: entry.and_then(|e| e.free_per_month),
            source: entry.map(|e| e.source.clone()).unwrap_or_default(),
            date: entry.map(|e| e.date.clone()),
            note: entry.and_then(|e| e.note.clone()),
        };
        if let Some(&p) = overrides.get(id) {
            r.overridden_catalog_price = Some(r.price);
            r.price = Some(p);
            r.confidence = Confidence::B;
        }
        r
    }

    /// Every region with at least one entry, global excluded.
    pub fn regions(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .prices
            .iter()
            .map(|p| p.region.clone())
            .filter(|r| r != GLOBAL_REGION)
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses_and_cites_known_sources() {
        let c = Catalog::builtin().expect("catalog");
        assert_eq!(c.currency, "USD");
        assert_eq!(c.hours_per_month, 730.0);
        assert!(c.regions().contains(&"us-east-1".to_owned()));
        for p in &c.prices {
            assert!(!p.date.is_empty(), "{} has no date", p.citation());
        }
    }

    #[test]
    fn us_east_1_has_every_price_the_model_uses() {
        let c = Catalog::builtin().expect("catalog");
        let none = BTreeMap::new();
        for (id, unit) in [
            ("ec2/t3.medium", Unit::Hour),
            ("ec2/t3a.medium", Unit::Hour),
            ("ec2/t2.medium", Unit::Hour),
            ("ec2/spot-discount", Unit::Fraction),
            ("ebs/gp2", Unit::GbMonth),
            ("ebs/gp3", Unit::GbMonth),
            ("eks/cluster", Unit::Hour),
            ("s3/standard", Unit::GbMonth),
            ("s3/it-frequent", Unit::GbMonth),
            ("s3/it-infrequent", Unit::GbMonth),
            ("s3/it-archive-instant", Unit::GbMonth),
            ("s3/it-archive", Unit::GbMonth),
            ("s3/it-deep-archive", Unit::GbMonth),
            ("s3/it-monitoring", Unit::ThousandObjectMonths),
            ("s3/glacier-ir", Unit::GbMonth),
            ("s3/deep-archive", Unit::GbMonth),
            ("s3/transition/intelligent-tiering", Unit::ThousandRequests),
            ("s3/transition/glacier-ir", Unit::ThousandRequests),
            ("s3/transition/deep-archive", Unit::ThousandRequests),
            ("logs/ingest-standard", Unit::Gb),
            ("logs/storage-standard", Unit::GbMonth),
            ("elb/alb-hour", Unit::Hour),
            ("elb/alb-lcu", Unit::LcuHour),
            ("ecr/storage", Unit::GbMonth),
            ("sagemaker/training/ml.m5.large", Unit::Hour),
            ("sagemaker/hosting/ml.m5.large", Unit::Hour),
            ("scheduler/invocations", Unit::MillionInvocations),
            ("budgets/budget", Unit::BudgetDay),
        ] {
            let p = c.price(id, "us-east-1", unit, &none);
            assert!(p.price.is_some(), "{id} has no us-east-1 price");
        }
    }

    #[test]
    fn unknown_region_wrong_unit_and_conflicting_sources_are_unknown() {
        let c = Catalog::builtin().expect("catalog");
        let none = BTreeMap::new();
        assert_eq!(
            c.price("ecr/storage", "eu-north-1", Unit::GbMonth, &none)
                .price,
            None
        );
        assert_eq!(
            c.price("ec2/t3.medium", "us-east-1", Unit::GbMonth, &none)
                .price,
            None
        );
        let conflict = c.price("logs/storage-infrequent", "us-east-1", Unit::GbMonth, &none);
        assert_eq!(
            (conflict.price, conflict.confidence),
            (None, Confidence::Unknown)
        );
        // Global entries hold in any region.
        assert_eq!(
            c.price("ec2/spot-discount", "eu-north-1", Unit::Fraction, &none)
                .price,
            Some(0.70)
        );
    }

    #[test]
    fn overrides_win_and_say_what_the_catalog_had() {
        let c = Catalog::builtin().expect("catalog");
        let overrides = BTreeMap::from([("ec2/t3.medium".to_owned(), 0.04)]);
        let p = c.price("ec2/t3.medium", "us-east-1", Unit::Hour, &overrides);
        assert_eq!(p.price, Some(0.04));
        assert_eq!(p.overridden_catalog_price, Some(Some(0.0416)));
        assert_eq!(
            p.describe(),
            "0.04 $/hour [usage override; catalog ec2/t3.medium = 0.0416]"
        );
    }

    #[test]
    fn inconsistent_catalogs_are_rejected() {
        let head = "currency = \"USD\"\nhours_per_month = 730\ngathered = \"x\"\n[sources.S]\ntitle = \"t\"\nurl = \"u\"\ndate = \"d\"\n";
        let entry = |extra: &str| {
            format!("{head}[[prices]]\nid = \"a\"\nregion = \"r\"\nunit = \"hour\"\nsource = [\"S\"]\ndate = \"d\"\n{extra}")
        };
        assert!(Catalog::from_toml(&entry("price = 1.0\nconfidence = \"A\"\n")).is_ok());
        assert!(Catalog::from_toml(&entry("confidence = \"A\"\n")).is_err());
        assert!(Catalog::from_toml(&entry("price = 1.0\nconfidence = \"unknown\"\n")).is_err());
        assert!(Catalog::from_toml(&entry("price = -1.0\nconfidence = \"A\"\n")).is_err());
        let twice = format!("{}{}", entry("price = 1.0\nconfidence = \"A\"\n"), "[[prices]]\nid = \"a\"\nregion = \"r\"\nunit = \"hour\"\nsource = [\"S\"]\ndate = \"d\"\nprice = 2.0\nconfidence = \"A\"\n");
        assert!(Catalog::from_toml(&twice).is_err());
    }
}
