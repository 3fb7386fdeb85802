//! How many images an ECR lifecycle policy keeps.
//!
//! Rules are applied in priority order. A rule selects the images its tag filter matches
//! that no higher-priority rule matched (ECR: "an image that matches the tagging
//! requirements of a rule cannot be expired by a rule with a lower priority"), keeps
//! `countNumber` of them and expires the rest. `tagPrefixList` and `tagPatternList` are
//! AND lists: an image must match every entry. Each usage image carries one tag.
//! A `tagStatus: any` rule is counted over the images no earlier rule matched, which is
//! an upper bound: ECR ranks all images by push time, so it may keep fewer.
//! `sinceImagePushed` rules need push dates the usage does not have: they keep everything
//! they match, and the policy reports them as not modeled.

use serde_json::Value as Json;

use crate::usage::RepositoryUsage;

/// A rule of a lifecycle policy.
#[derive(Clone, Debug, PartialEq)]
pub struct EcrRule {
    /// Priority (lower first).
    pub priority: i64,
    /// `tagged`, `untagged` or `any`.
    pub tag_status: String,
    /// Every prefix an image's tag must start with.
    pub tag_prefixes: Vec<String>,
    /// Every wildcard pattern an image's tag must match.
    pub tag_patterns: Vec<String>,
    /// Images kept (`imageCountMoreThan`), or `None` for `sinceImagePushed`.
    pub keep: Option<u64>,
}

/// Parses `LifecyclePolicyText`.
pub fn parse_policy(text: &str) -> Result<Vec<EcrRule>, String> {
    let doc: Json =
        serde_json::from_str(text).map_err(|e| format!("LifecyclePolicyText is not JSON: {e}"))?;
    let rules = doc
        .get("rules")
        .and_then(Json::as_array)
        .ok_or("LifecyclePolicyText has no rules list")?;
    let mut out = Vec::new();
    for r in rules {
        let priority = r
            .get("rulePriority")
            .and_then(Json::as_i64)
            .ok_or("a rule without rulePriority")?;
        let sel = r
            .get("selection")
            .ok_or(format!("rule {priority} has no selection"))?;
        let strings = |key: &str| -> Vec<String> {
            sel.get(key)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let keep = match sel.get("countType").and_then(Json::as_str) {
            Some("imageCountMoreThan") => Some(
                sel.get("countNumber")
                    .and_then(Json::as_u64)
                    .ok_or(format!("rule {priority} has no countNumber"))?,
            ),
            _ => None,
        };
        let expire = r.pointer("/action/type").and_then(Json::as_str) == Some("expire");
        out.push(EcrRule {
            priority,
            tag_status: sel
                .get("tagStatus")
                .and_then(Json::as_str)
                .unwrap_or("any")
                .to_owned(),
            tag_prefixes: strings("tagPrefixList"),
            tag_patterns: strings("tagPatternList"),
            keep: if expire { keep } else { None },
        });
    }
    out.sort_by_key(|r| r.priority);
    Ok(out)
}

impl EcrRule {
    /// Whether the rule's tag filter matches an image with `tag` (`None`: untagged).
    pub fn matches(&self, tag: Option<&str>) -> bool {
        match (self.tag_status.as_str(), tag) {
            ("any", _) => true,
            ("untagged", None) => true,
            ("tagged", Some(t)) => {
                self.tag_prefixes.iter().all(|p| t.starts_with(p.as_str()))
                    && self.tag_patterns.iter().all(|p| wildcard(p, t))
            }
            _ => false,
        }
    }
}

/// Images a policy keeps, and what it could not model.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    /// Images kept.
    pub images: u64,
    /// Images before pruning.
    pub total: u64,
    /// Rules not modeled (sinceImagePushed), by priority.
    pub unmodeled: Vec<i64>,
}

/// Images `rules` keep of `usage`'s images.
pub fn kept(rules: &[EcrRule], usage: &RepositoryUsage) -> Kept {
    // Groups of images: (tag, count, still unmatched).
    let mut groups: Vec<(Option<&str>, u64)> = vec![(None, u64::from(usage.untagged))];
    groups.extend(
        usage
            .tagged
            .iter()
            .map(|(t, n)| (Some(t.as_str()), u64::from(*n))),
    );
    let total = groups.iter().map(|g| g.1).sum();
    let mut kept = 0;
    let mut unmodeled = Vec::new();
    for rule in rules {
        let mut matched = 0;
        for g in groups.iter_mut().filter(|g| g.1 > 0 && rule.matches(g.0)) {
            matched += g.1;
            g.1 = 0;
        }
        match rule.keep {
            Some(n) => kept += matched.min(n),
            None => {
                kept += matched;
                unmodeled.push(rule.priority);
            }
        }
    }
    kept += groups.iter().map(|g| g.1).sum::<u64>();
    Kept {
        images: kept,
        total,
        unmodeled,
    }
}

/// ECR tag pattern match: `*` matches any run of characters.
fn wildcard(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first)
        || !s[first.len()..].ends_with(last)
        || s.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn usage(untagged: u32, tagged: &[(&str, u32)]) -> RepositoryUsage {
        RepositoryUsage {
            repository: "r".into(),
            image_gb: 0.5,
            untagged,
            tagged: tagged
                .iter()
                .map(|(t, n)| ((*t).to_owned(), *n))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn rule(priority: i64, selection: &str) -> String {
        format!(
            r#"{{"rulePriority":{priority},"selection":{selection},"action":{{"type":"expire"}}}}"#
        )
    }

    #[test]
    fn the_apps_policy_keeps_three_per_kind_and_ten_others() {
        let text = frugal_constructs::lifecycle_policy_text(&[
            frugal_constructs::KeepRule::Untagged { keep: 3 },
            frugal_constructs::KeepRule::TagPrefix {
                prefix: "prod".into(),
                keep: 3,
            },
            frugal_constructs::KeepRule::TagPrefix {
                prefix: "stage".into(),
                keep: 3,
            },
            frugal_constructs::KeepRule::TagPrefix {
                prefix: "dev".into(),
                keep: 3,
            },
            frugal_constructs::KeepRule::Any { keep: 10 },
        ]);
        let rules = parse_policy(&text).expect("policy");
        // 3 untagged + 3 prod + 3 dev (stage has 1) + 1 stage + min(25 others, 10) = 20.
        let k = kept(
            &rules,
            &usage(
                40,
                &[("prod-1", 12), ("dev-7", 30), ("stage-2", 1), ("v1.", 25)],
            ),
        );
        assert_eq!((k.images, k.total), (20, 108));
        assert!(k.unmodeled.is_empty());
    }

    #[test]
    fn the_plans_three_prefix_rule_matches_nothing() {
        // tagPrefixList is an AND list: no image's tag starts with prod, stage and dev.
        let text = format!(
            r#"{{"rules":[{},{}]}}"#,
            rule(
                1,
                r#"{"tagStatus":"tagged","tagPrefixList":["prod","stage","dev"],"countType":"imageCountMoreThan","countNumber":3}"#
            ),
            rule(
                2,
                r#"{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10}"#
            ),
        );
        let rules = parse_policy(&text).expect("policy");
        assert!(!rules[0].matches(Some("prod-1")));
        let k = kept(&rules, &usage(0, &[("prod-1", 8), ("dev-1", 8)]));
        assert_eq!(k.images, 10);
    }

    #[test]
    fn since_image_pushed_is_not_modeled_and_keeps_everything() {
        let text = format!(
            r#"{{"rules":[{}]}}"#,
            rule(
                1,
                r#"{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14}"#
            )
        );
        let k = kept(&parse_policy(&text).expect("policy"), &usage(9, &[]));
        assert_eq!((k.images, k.unmodeled.clone()), (9, vec![1]));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("prod*", "prod-12"));
        assert!(wildcard("*-rc*", "v1-rc2"));
        assert!(!wildcard("*-rc*", "v1"));
        assert!(wildcard("v1", "v1"));
        assert!(!wildcard("a*a", "a"));
    }
}
