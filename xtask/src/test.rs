//! `cargo xtask test`: every check, in order, stopping at the first failure.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::{cargo, venv};

/// A named check; `Ok(false)` means it ran and failed (its output says why).
type Step<'a> = (&'static str, Box<dyn Fn() -> Result<bool> + 'a>);

/// Runs fmt, clippy, the Python tools' install, cargo test, synth --check, cfn-lint and actionlint.
pub fn run(root: &Path) -> Result<ExitCode> {
    let started = Instant::now();
    let steps: Vec<Step<'_>> = vec![
        (
            "cargo fmt --check",
            Box::new(|| cargo_step(&["fmt", "--all", "--check"], &[])),
        ),
        (
            "cargo clippy",
            Box::new(|| {
                cargo_step(
                    &[
                        "clippy",
                        "--workspace",
                        "--all-targets",
                        "--",
                        "-D",
                        "warnings",
                    ],
                    &[],
                )
            }),
        ),
        (
            "python tools (.venv)",
            Box::new(|| venv::ensure(root).map(|_| true)),
        ),
        (
            "cargo test",
            Box::new(|| {
                let bin = venv::ensure(root)?;
                let moto = bin.join("moto_server");
                cargo_step(
                    &["test", "--workspace"],
                    &[("FRUGAL_MOTO_SERVER", moto.to_string_lossy().as_ref())],
                )
            }),
        ),
        (
            "synth --check",
            Box::new(|| {
                crate::synth::run(&root.join("cfn-out"), true).map(|c| c == ExitCode::SUCCESS)
            }),
        ),
        ("cfn-lint", Box::new(|| cfn_lint(root))),
    ];
    for (name, step) in &steps {
        let t = Instant::now();
        println!("==> {name}");
        let ok = step().with_context(|| format!("step `{name}`"))?;
        if !ok {
            eprintln!(
                "FAILED: {name} (after {:.0} s in all)",
                started.elapsed().as_secs_f64()
            );
            return Ok(ExitCode::FAILURE);
        }
        println!("    ok: {name} ({:.1} s)", t.elapsed().as_secs_f64());
    }
    println!(
        "all checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn cargo_step(args: &[&str], env: &[(&str, &str)]) -> Result<bool> {
    let mut cmd = Command::new(cargo());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Ok(cmd
        .status()
        .with_context(|| format!("cargo {}", args.join(" ")))?
        .success())
}

/// cfn-lint on every template in cfn-out/: zero errors and zero warnings.
fn cfn_lint(root: &Path) -> Result<bool> {
    let bin = venv::ensure(root)?;
    let mut templates: Vec<_> = std::fs::read_dir(root.join("cfn-out"))
        .context("reading cfn-out/")?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".template.json"))
        .collect();
    templates.sort();
    if templates.is_empty() {
        eprintln!("cfn-out/ holds no templates");
        return Ok(false);
    }
    let status = Command::new(bin.join("cfn-lint"))
        .args(["--format", "parseable", "--"])
        .args(&templates)
        .status()
        .context("running cfn-lint")?;
    // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
    let code = status.code().unwrap_or(1);
    let clean = code & !8 == 0;
    if clean {
        println!(
            "    cfn-lint: {} templates, no errors or warnings",
            templates.len()
        );
    }
    Ok(clean)
}
