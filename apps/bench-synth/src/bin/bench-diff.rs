//! `bench-diff OLD NEW`: diffs two templates as `frugal diff` does (per resource and
//! property, replacement marks from the registry schemas, IAM broadening), renders the
//! result, and prints a summary — one whole process, so `cargo xtask bench` can time it.
//!
//! `bench-diff --prepare IN OUT` writes a copy of IN with one property changed in every
//! resource (the input of the timed run; not timed itself).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--prepare", input, output] => prepare(input, output),
        [old, new] => diff(old, new),
        _ => Err("usage: bench-diff OLD NEW | bench-diff --prepare IN OUT".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &str) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

fn prepare(input: &str, output: &str) -> Result<(), String> {
    let mut template = read(input)?;
    let changed = bench_synth::change_every_resource(&mut template);
    let text = serde_json::to_string_pretty(&template).map_err(|e| e.to_string())?;
    std::fs::write(output, text).map_err(|e| format!("{output}: {e}"))?;
    println!("changed_resources={changed}");
    Ok(())
}

fn diff(old: &str, new: &str) -> Result<(), String> {
    let read = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"));
    let (old_text, new_text) = (read(old)?, read(new)?);
    // Parsed as `frugal diff` parses them: borrowed trees, the two on one core each.
    let (old_tree, new_tree) =
        frugal_diff::template_diff::parse_templates(Some(&old_text), &new_text)
            .map_err(|e| format!("{old} or {new}: {e}"))?;
    let diff = frugal_diff::template_diff::diff_nodes(
        old_tree.as_ref(),
        &new_tree,
        &frugal_diff::schema_of,
    );
    let rendered = diff.render(false);
    let summary = diff.summary();
    let resources = new_tree
        .get("Resources")
        .and_then(frugal_diff::node::Node::as_object)
        .map_or(0, <[_]>::len);
    println!(
        "resources={resources} rendered_bytes={} summary_lines={} peak_rss_kb={}",
        rendered.len(),
        summary.len(),
        peak_rss_kb().unwrap_or(0)
    );
    // The process ends here: freeing the trees piece by piece would only cost time.
    std::mem::forget((old_tree, new_tree, diff, rendered));
    std::mem::forget((old_text, new_text));
    Ok(())
}

/// `VmHWM` of this process, in KiB (Linux).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
