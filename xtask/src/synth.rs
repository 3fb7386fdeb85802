//! `cargo xtask synth [--check]`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};

/// Synthesizes the retail-forecast app into `out`, or with `check` compares it.
pub fn run(out: &Path, check: bool) -> Result<ExitCode> {
    let started = Instant::now();
    let assembly = match retail_forecast::app().and_then(|app| app.synth()) {
        Ok(a) => a,
        Err(violations) => {
            eprint!("synth failed, {violations}");
            eprintln!("nothing was written to {}", out.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    for ack in &assembly.acknowledged {
        println!(
            "acknowledged {} at {}: {} (reason: {})",
            ack.rule, ack.path, ack.message, ack.reason
        );
    }
    if check {
        let diffs = assembly.differences(out);
        if diffs.is_empty() {
            println!(
                "{} is up to date ({} stacks)",
                out.display(),
                assembly.stacks.len()
            );
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "{} differs from a fresh synth; run `cargo xtask synth` and commit:",
            out.display()
        );
        for d in diffs {
            eprintln!("  {d}");
        }
        return Ok(ExitCode::FAILURE);
    }
    assembly
        .write(out)
        .with_context(|| format!("writing {}", out.display()))?;
    for s in &assembly.manifest.stacks {
        let deps = if s.dependencies.is_empty() {
            String::new()
        } else {
            format!(" after {}", s.dependencies.join(", "))
        };
        println!(
            "{:<36} {:>4} resources  {}{}",
            s.name, s.resource_count, s.template, deps
        );
    }
    for f in assembly.files.keys() {
        println!("{f}");
    }
    println!(
        "synthesized {} stacks into {} in {:.1} ms",
        assembly.stacks.len(),
        out.display(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(ExitCode::SUCCESS)
}
