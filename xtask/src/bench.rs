//! `cargo xtask bench`: whole-process time and peak memory of synthesis and diff at scale.
//!
//! Builds `bench-synth` and `bench-diff` (apps/bench-synth) in release mode, then per copy
//! count: runs `bench-synth --copies N` (synthesis including writing the template) and
//! `bench-diff` of the N-copy template against a copy with one property changed in every
//! resource. Reports the median wall time of the runs and the peak RSS the process
//! measured itself (`VmHWM`). Nothing in `cargo test` depends on these numbers.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::cargo;

/// Arguments of `cargo xtask bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Copy counts of the 12-resource unit, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,10,100,1000")]
    copies: Vec<usize>,
    /// Runs per measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Print `{"results":[…]}` instead of a table.
    #[arg(long)]
    json: bool,
}

struct Measurement {
    what: &'static str,
    copies: usize,
    resources: u64,
    median_s: f64,
    peak_rss_kb: u64,
}

/// Runs the benchmark.
pub fn run(root: &Path, args: BenchArgs) -> Result<ExitCode> {
    if args.runs == 0 || args.copies.is_empty() {
        bail!("--runs and --copies need at least one value");
    }
    eprintln!("==> building bench-synth and bench-diff (release)");
    let built = Command::new(cargo())
        .current_dir(root)
        .args([
            "build",
            "--quiet",
            "--release",
            "--package",
            "bench-synth",
            "--bins",
        ])
        .status()
        .context("cargo build --release -p bench-synth")?;
    if !built.success() {
        bail!("building the benchmark binaries failed");
    }
    let bin_dir = target_dir(root).join("release");
    let work = target_dir(root).join("bench");
    let mut results = Vec::new();
    for &copies in &args.copies {
        let out = work.join(copies.to_string());
        std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
        let out_arg = out.to_string_lossy().into_owned();
        let synth = measure(
            &bin_dir.join("bench-synth"),
            &["--copies", &copies.to_string(), "--out", &out_arg],
            args.runs,
        )?;
        results.push(Measurement {
            what: "synth",
            copies,
            resources: synth.resources,
            median_s: synth.median_s,
            peak_rss_kb: synth.peak_rss_kb,
        });
        let template = out.join("FrugalBench.template.json");
        let changed = out.join("FrugalBench.changed.json");
        let template_arg = template.to_string_lossy().into_owned();
        let changed_arg = changed.to_string_lossy().into_owned();
        let prepared = Command::new(bin_dir.join("bench-diff"))
            .args(["--prepare", &template_arg, &changed_arg])
            .output()
            .context("preparing the changed template")?;
        if !prepared.status.success() {
            bail!(
                "bench-diff --prepare failed: {}",
                String::from_utf8_lossy(&prepared.stderr)
            );
        }
        let diff = measure(
            &bin_dir.join("bench-diff"),
            &[&template_arg, &changed_arg],
            args.runs,
        )?;
        results.push(Measurement {
            what: "diff",
            copies,
            resources: diff.resources,
            median_s: diff.median_s,
            peak_rss_kb: diff.peak_rss_kb,
        });
    }
    if args.json {
        let rows: Vec<_> = results
            .iter()
            .map(|m| {
                json!({"what": m.what, "copies": m.copies, "resources": m.resources,
                       "median_s": m.median_s, "peak_rss_kb": m.peak_rss_kb})
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "results": rows }))?
        );
    } else {
        println!(
            "{:<6} {:>7} {:>10} {:>12} {:>14}",
            "what", "copies", "resources", "median", "peak RSS"
        );
        for m in &results {
            println!(
                "{:<6} {:>7} {:>10} {:>9.1} ms {:>11.1} MB",
                m.what,
                m.copies,
                m.resources,
                m.median_s * 1000.0,
                m.peak_rss_kb as f64 / 1024.0
            );
        }
        println!(
            "median of {} runs; whole process, release build, {} cores",
            args.runs,
            cores()
        );
    }
    Ok(ExitCode::SUCCESS)
}

struct Run {
    resources: u64,
    median_s: f64,
    peak_rss_kb: u64,
}

/// Runs `bin args` `runs` times; the program prints `resources=… peak_rss_kb=…`.
fn measure(bin: &Path, args: &[&str], runs: usize) -> Result<Run> {
    let mut times = Vec::with_capacity(runs);
    let mut peak = 0;
    let mut resources = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let output = Command::new(bin)
            .args(args)
            .output()
            .with_context(|| format!("running {}", bin.display()))?;
        times.push(started.elapsed().as_secs_f64());
        if !output.status.success() {
            bail!(
                "{} failed: {}",
                bin.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        peak = peak.max(field(&stdout, "peak_rss_kb").unwrap_or(0));
        resources = field(&stdout, "resources").unwrap_or(0);
    }
    times.sort_by(f64::total_cmp);
    Ok(Run {
        resources,
        median_s: times[times.len() / 2],
        peak_rss_kb: peak,
    })
}

/// The number after `name=` in a `key=value` line.
fn field(text: &str, name: &str) -> Option<u64> {
    text.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
