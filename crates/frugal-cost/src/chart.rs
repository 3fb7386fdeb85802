//! An SVG bar chart of before vs after per component, written by hand: deterministic,
//! no dependency.

use crate::catalog::trim;
use crate::render::money;
use crate::report::Report;

const WIDTH: f64 = 760.0;
const LABEL: f64 = 180.0;
const VALUE: f64 = 110.0;
const ROW: f64 = 42.0;
const TOP: f64 = 92.0;
const BEFORE: &str = "#adb5bd";
const AFTER: &str = "#2f9e44";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn n(x: f64) -> String {
    trim((x * 10.0).round() / 10.0)
}

/// The chart: one pair of bars per component with a cost (zero-cost components left out).
pub fn svg(r: &Report) -> String {
    let comps: Vec<_> = r
        .components()
        .into_iter()
        .filter(|c| c.before > 0.005 || c.after > 0.005 || c.unknown > 0)
        .collect();
    let max = comps
        .iter()
        .map(|c| c.before.max(c.after))
        .fold(0.0, f64::max);
    let bar_space = WIDTH - LABEL - VALUE;
    let scale = if max > 0.0 { bar_space / max } else { 0.0 };
    let height = TOP + ROW * comps.len() as f64 + 56.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
        w = n(WIDTH),
        h = n(height)
    );
    s.push_str(&format!(
        "<rect width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n",
        n(WIDTH),
        n(height)
    ));
    s.push_str(&format!(
        "<text x=\"16\" y=\"28\" font-size=\"16\" font-weight=\"bold\">{}</text>\n",
        esc(&format!(
            "{} {}: monthly cost before vs after ({}, {})",
            r.app, r.env, r.currency, r.region
        ))
    ));
    let saving = r
        .saving_pct
        .map_or(String::new(), |p| format!(" (−{p:.1} %)"));
    s.push_str(&format!(
        "<text x=\"16\" y=\"48\" fill=\"#495057\">{}</text>\n",
        esc(&format!(
            "Total {} → {}{saving}; monthly = {} h; usage: {}",
            money(Some(r.total_before)),
            money(Some(r.total_after)),
            trim(r.hours_per_month),
            r.usage
        ))
    ));
    for (i, (label, color)) in [
        ("before: cost controls off", BEFORE),
        ("after: as configured", AFTER),
    ]
    .iter()
    .enumerate()
    {
        let x = 16.0 + 220.0 * i as f64;
        s.push_str(&format!(
            "<rect x=\"{}\" y=\"60\" width=\"12\" height=\"12\" fill=\"{color}\"/>\n",
            n(x)
        ));
        s.push_str(&format!(
            "<text x=\"{}\" y=\"70\">{}</text>\n",
            n(x + 18.0),
            esc(label)
        ));
    }
    for (i, c) in comps.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            n(LABEL - 10.0),
            n(y + 21.0),
            esc(c.component.name())
        ));
        for (j, (v, color)) in [(c.before, BEFORE), (c.after, AFTER)].iter().enumerate() {
            let by = y + 4.0 + 16.0 * j as f64;
            let bw = (v * scale).max(if *v > 0.0 { 1.0 } else { 0.0 });
            s.push_str(&format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"{color}\"/>\n",
                n(LABEL),
                n(by),
                n(bw)
            ));
            let unknown = if c.unknown > 0 { " + unknown" } else { "" };
            s.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" fill=\"#212529\">{}{unknown}</text>\n",
                n(LABEL + bw + 6.0),
                n(by + 11.0),
                money(Some(*v))
            ));
        }
    }
    let fy = TOP + ROW * comps.len() as f64 + 24.0;
    let note = if r.unknown.is_empty() {
        "Every line cites its price, quantity and catalog entry: cargo xtask cost --format markdown"
            .to_owned()
    } else {
        format!(
            "Totals exclude {} line(s) whose price or usage is unknown.",
            r.unknown.len()
        )
    };
    s.push_str(&format!(
        "<text x=\"16\" y=\"{}\" fill=\"#495057\">{}</text>\n",
        n(fy),
        esc(&note)
    ));
    s.push_str("</svg>\n");
    s
}
