//! The report as a terminal table, markdown (for a pull-request comment) and JSON.

use serde_json::{json, Value as Json};

use crate::catalog::trim;
use crate::report::{Line, Report};

/// USD to cents, `unknown` when unknown.
pub fn money(x: Option<f64>) -> String {
    match x {
        Some(v) => {
            let s = format!("{v:.2}");
            if s == "-0.00" {
                "0.00".to_owned()
            } else {
                s
            }
        }
        None => "unknown".to_owned(),
    }
}

fn saving(report: &Report) -> String {
    report.saving_pct.map_or("n/a".to_owned(), |p| {
        format!("−{p:.1} %").replace("−-", "+")
    })
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

fn lpad(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}

fn title(r: &Report) -> String {
    format!(
        "Monthly cost of {}, env {}, {} ({}, {} h a month)",
        r.app,
        r.env,
        r.region,
        r.currency,
        trim(r.hours_per_month)
    )
}

/// A plain-text table for the terminal.
pub fn table(r: &Report) -> String {
    let mut rows: Vec<[String; 5]> = vec![[
        "COMPONENT".into(),
        "RESOURCE".into(),
        "BEFORE".into(),
        "AFTER".into(),
        "LEVER".into(),
    ]];
    for l in &r.lines {
        rows.push([
            l.component.to_string(),
            l.resource.clone(),
            money(l.before_usd()),
            money(l.after_usd()),
            l.lever.clone(),
        ]);
    }
    rows.push([
        "TOTAL".into(),
        String::new(),
        money(Some(r.total_before)),
        money(Some(r.total_after)),
        saving(r),
    ]);
    let w: Vec<usize> = (0..5)
        .map(|i| rows.iter().map(|row| width(&row[i])).max().unwrap_or(0))
        .collect();
    let mut out = format!("{}\nusage: {}\n\n", title(r), r.usage);
    for (i, row) in rows.iter().enumerate() {
        if i == rows.len() - 1 {
            out.push_str(&format!("{}\n", "-".repeat(w.iter().sum::<usize>() + 8)));
        }
        let line = format!(
            "{}  {}  {}  {}  {}",
            pad(&row[0], w[0]),
            pad(&row[1], w[1]),
            lpad(&row[2], w[2]),
            lpad(&row[3], w[3]),
            row[4]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }

    out.push_str("\nBy component\n");
    let comps = r.components();
    let cw = comps
        .iter()
        .map(|c| width(c.component.name()))
        .max()
        .unwrap_or(0);
    for c in &comps {
        let unknown = if c.unknown > 0 {
            format!("  ({} unknown)", c.unknown)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {}  {}  {}{unknown}\n",
            pad(c.component.name(), cw),
            lpad(&money(Some(c.before)), 9),
            lpad(&money(Some(c.after)), 9)
        ));
    }

    out.push_str("\nHow each line is priced\n");
    for l in &r.lines {
        out.push_str(&format!("  {} · {}\n", l.component, l.resource));
        for (side, amount, usd) in [
            ("before", &l.before, l.before_usd()),
            ("after ", &l.after, l.after_usd()),
        ] {
            for (i, d) in amount.describe().iter().enumerate() {
                let head = if i == 0 { side } else { "      " };
                out.push_str(&format!("    {head}  {d}\n"));
            }
            out.push_str(&format!("            = {}\n", money(usd)));
        }
        for n in &l.notes {
            out.push_str(&format!("    note    {n}\n"));
        }
    }
    out.push_str(&footer(r, "  "));
    if let Some(p) = &r.plan_check {
        out.push_str(&plan_table(p));
    }
    out
}

fn footer(r: &Report, indent: &str) -> String {
    let mut out = String::from("\nAssumptions\n");
    for a in &r.assumptions {
        out.push_str(&format!("{indent}{a}\n"));
    }
    if !r.unknown.is_empty() {
        out.push_str("\nUnknown (excluded from the totals)\n");
        for u in &r.unknown {
            out.push_str(&format!("{indent}{u}\n"));
        }
    }
    if !r.warnings.is_empty() {
        out.push_str("\nWarnings\n");
        for w in &r.warnings {
            out.push_str(&format!("{indent}{w}\n"));
        }
    }
    if !r.unpriced.is_empty() {
        out.push_str("\nResources without a line\n");
        for u in &r.unpriced {
            out.push_str(&format!(
                "{indent}{} {} ({}): {}\n",
                u.resource_type, u.origin.logical_id, u.origin.stack, u.reason
            ));
        }
    }
    out
}

fn plan_table(p: &crate::plan::PlanCheck) -> String {
    let mut out = format!("\nThe plan's table, checked ({})\n", p.source);
    out.push_str(&format!(
        "  before column reproduced from the plan's own assumptions: {} ({} of {} rows to the cent, total {} vs {})\n",
        if p.before_reproduced { "yes" } else { "NO" },
        p.rows.iter().filter(|r| r.before_matches).count(),
        p.rows.len(),
        money(Some(p.reproduced_total_before)),
        money(Some(p.plan_total_before)),
    ));
    let head = [
        "COMPONENT",
        "PLAN BEFORE",
        "REPRODUCED",
        "CONFIGURED BEFORE",
        "PLAN AFTER",
        "CONFIGURED AFTER",
    ];
    let mut rows: Vec<Vec<String>> = vec![head.iter().map(|s| (*s).to_owned()).collect()];
    for r in &p.rows {
        rows.push(vec![
            r.component.clone(),
            money(Some(r.plan_before)),
            format!(
                "{}{}",
                money(r.reproduced_before),
                if r.before_matches { " ✓" } else { " ✗" }
            ),
            money(r.configured_before),
            money(Some(r.plan_after)),
            money(r.configured_after),
        ]);
    }
    rows.push(vec![
        "the plan's components".into(),
        money(Some(p.plan_total_before)),
        money(Some(p.reproduced_total_before)),
        money(Some(p.configured_total_before)),
        money(Some(p.plan_total_after)),
        money(Some(p.configured_total_after)),
    ]);
    for m in &p.missing {
        rows.push(vec![
            format!("{} (missing)", m.component),
            "—".into(),
            "—".into(),
            money(m.configured_before),
            "—".into(),
            money(m.configured_after),
        ]);
    }
    rows.push(vec![
        "the whole bill".into(),
        money(Some(p.plan_total_before)),
        money(Some(p.reproduced_total_before)),
        money(Some(p.configured_bill_before)),
        money(Some(p.plan_total_after)),
        money(Some(p.configured_bill_after)),
    ]);
    let w: Vec<usize> = (0..head.len())
        .map(|i| rows.iter().map(|row| width(&row[i])).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| if i == 0 { pad(c, w[i]) } else { lpad(c, w[i]) })
            .collect();
        out.push_str(&format!("  {}\n", cells.join("  ")));
    }
    out.push_str("\n  Why the after column differs\n");
    for r in p.rows.iter().filter(|r| !r.reason.is_empty()) {
        out.push_str(&format!("  - {}: {}\n", r.component, r.reason));
    }
    for m in &p.missing {
        out.push_str(&format!("  - {} (missing): {}\n", m.component, m.reason));
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Markdown for a pull-request comment.
pub fn markdown(r: &Report) -> String {
    let mut out = format!(
        "### {}: {} → {} {} a month ({})\n\n",
        title(r),
        money(Some(r.total_before)),
        money(Some(r.total_after)),
        r.currency,
        saving(r)
    );
    out.push_str(&format!(
        "Usage: `{}`. Monthly = {} h.\n\n",
        r.usage,
        trim(r.hours_per_month)
    ));
    out.push_str("| Component | Resource | Before | After | Lever |\n|---|---|---:|---:|---|\n");
    for l in &r.lines {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            l.component,
            cell(&l.resource),
            money(l.before_usd()),
            money(l.after_usd()),
            cell(&l.lever)
        ));
    }
    out.push_str(&format!(
        "| **Total** | | **{}** | **{}** | **{}** |\n\n",
        money(Some(r.total_before)),
        money(Some(r.total_after)),
        saving(r)
    ));
    if !r.unknown.is_empty() {
        out.push_str(&format!(
            "Totals exclude {} unknown line(s): {}.\n\n",
            r.unknown.len(),
            r.unknown
                .iter()
                .map(|u| cell(u))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    out.push_str("| Component | Before | After |\n|---|---:|---:|\n");
    for c in r.components() {
        let unknown = if c.unknown > 0 {
            format!(" ({} unknown)", c.unknown)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "| {}{unknown} | {} | {} |\n",
            c.component,
            money(Some(c.before)),
            money(Some(c.after))
        ));
    }
    out.push_str("\n<details><summary>How each line is priced</summary>\n\n");
    for l in &r.lines {
        out.push_str(&format!("- **{} · {}**\n", l.component, cell(&l.resource)));
        out.push_str(&derivation("before", l, true));
        out.push_str(&derivation("after", l, false));
        for n in &l.notes {
            out.push_str(&format!("  - note: {n}\n"));
        }
    }
    out.push_str("\n</details>\n\n<details><summary>Assumptions, warnings, resources without a line</summary>\n");
    out.push_str(&footer(r, "- "));
    out.push_str("\n</details>\n");
    if let Some(p) = &r.plan_check {
        out.push_str(&plan_markdown(p));
    }
    out
}

fn derivation(side: &str, l: &Line, before: bool) -> String {
    let (amount, usd) = if before {
        (&l.before, l.before_usd())
    } else {
        (&l.after, l.after_usd())
    };
    format!(
        "  - {side} = {}: {}\n",
        money(usd),
        amount.describe().join("; + ")
    )
}

fn plan_markdown(p: &crate::plan::PlanCheck) -> String {
    let mut out = format!(
        "\n#### The plan's table, checked\n\nSource: {}. Before column reproduced from the plan's own assumptions: \
         **{}** ({} of {} rows to the cent; total {} vs {}).\n\n",
        p.source,
        if p.before_reproduced { "yes" } else { "no" },
        p.rows.iter().filter(|r| r.before_matches).count(),
        p.rows.len(),
        money(Some(p.reproduced_total_before)),
        money(Some(p.plan_total_before)),
    );
    out.push_str(
        "| Component | Plan before | Reproduced | Configured before | Plan after | Configured after | Why the after differs |\n\
         |---|---:|---:|---:|---:|---:|---|\n",
    );
    for r in &p.rows {
        out.push_str(&format!(
            "| {} | {} | {}{} | {} | {} | {} | {} |\n",
            r.component,
            money(Some(r.plan_before)),
            money(r.reproduced_before),
            if r.before_matches { " ✓" } else { " ✗" },
            money(r.configured_before),
            money(Some(r.plan_after)),
            money(r.configured_after),
            cell(&r.reason)
        ));
    }
    out.push_str(&format!(
        "| *the plan's components* | *{}* | *{}* | *{}* | *{}* | *{}* | |\n",
        money(Some(p.plan_total_before)),
        money(Some(p.reproduced_total_before)),
        money(Some(p.configured_total_before)),
        money(Some(p.plan_total_after)),
        money(Some(p.configured_total_after)),
    ));
    for m in &p.missing {
        out.push_str(&format!(
            "| {} (missing) | — | — | {} | — | {} | {} |\n",
            m.component,
            money(m.configured_before),
            money(m.configured_after),
            cell(&m.reason)
        ));
    }
    out.push_str(&format!(
        "| **The whole bill** | **{}** | **{}** | **{}** | **{}** | **{}** | plan: −{} %, configured: {} |\n",
        money(Some(p.plan_total_before)),
        money(Some(p.reproduced_total_before)),
        money(Some(p.configured_bill_before)),
        money(Some(p.plan_total_after)),
        money(Some(p.configured_bill_after)),
        trim(p.plan_saving_pct),
        if p.configured_bill_before > 0.0 {
            format!("−{:.1} %", (p.configured_bill_before - p.configured_bill_after) / p.configured_bill_before * 100.0)
        } else {
            "n/a".to_owned()
        }
    ));
    out
}

fn cents(x: Option<f64>) -> Json {
    match x {
        Some(v) => json!((v * 100.0).round() / 100.0),
        None => Json::Null,
    }
}

/// JSON: `{"currency","hours_per_month","lines":[{"component","resource","before","after",
/// "lever"}],"total_before","total_after","saving_pct"}` plus the derivations, notes and
/// the plan check. Amounts are rounded to the cent; totals add the unrounded amounts.
pub fn json(r: &Report) -> Json {
    let lines: Vec<Json> = r
        .lines
        .iter()
        .map(|l| {
            json!({
                "component": l.component,
                "resource": l.resource,
                "before": cents(l.before_usd()),
                "after": cents(l.after_usd()),
                "lever": l.lever,
                "levers": l.levers,
                "before_detail": l.before.describe(),
                "after_detail": l.after.describe(),
                "before_terms": l.before.terms,
                "after_terms": l.after.terms,
                "notes": l.notes,
            })
        })
        .collect();
    json!({
        "currency": r.currency,
        "hours_per_month": r.hours_per_month,
        "app": r.app,
        "env": r.env,
        "region": r.region,
        "usage": r.usage,
        "catalog_gathered": r.catalog_gathered,
        "lines": lines,
        "total_before": cents(Some(r.total_before)),
        "total_after": cents(Some(r.total_after)),
        "saving_pct": r.saving_pct.map(|p| (p * 10.0).round() / 10.0),
        "unknown": r.unknown,
        "assumptions": r.assumptions,
        "warnings": r.warnings,
        "unpriced": r.unpriced,
        "plan_check": r.plan_check,
    })
}
