//! `cargo xtask test`: every check, in order, stopping at the first failure.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::{cargo, venv};

/// A named check; `Ok(false)` means it ran and failed (its output says why).
type Step<'a> = (&'static str, Box<dyn Fn() -> Result<bool> + 'a>);

/// Runs fmt, clippy, the Python tools' install, cargo test, synth --check, cfn-lint,
/// kubernetes-validate and actionlint.
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
                    &[
                        ("FRUGAL_MOTO_SERVER", moto.to_string_lossy().as_ref()),
                        ("FRUGAL_VENV_BIN", bin.to_string_lossy().as_ref()),
                    ],
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
        (
            "kubernetes-validate",
            Box::new(|| kubernetes_validate(root)),
        ),
        ("actionlint", Box::new(|| actionlint(root))),
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
    // The benchmark app's one-copy template must be as valid as the app's own.
    let bench_dir = root.join("target").join("bench-lint");
    let bench = bench_synth::app(1)
        .and_then(|app| app.synth())
        .map_err(|e| anyhow::anyhow!("synthesizing the benchmark app: {e}"))?;
    bench
        .write(&bench_dir)
        .context("writing the benchmark template")?;
    templates.extend(bench.stacks.iter().map(|s| bench_dir.join(&s.file)));
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

/// Files under `dir` (recursively) whose name ends with one of `suffixes`, sorted.
fn files_under(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                pending.push(p);
            } else if suffixes.iter().any(|s| p.to_string_lossy().ends_with(s)) {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

/// Every `cfn-out/k8s/**/*.yaml` against the Kubernetes OpenAPI schema of the app's
/// cluster version, strictly (unknown fields are errors): zero failures.
fn kubernetes_validate(root: &Path) -> Result<bool> {
    let bin = venv::ensure(root)?;
    let files = files_under(&root.join("cfn-out/k8s"), &[".yaml", ".yml"]);
    if files.is_empty() {
        eprintln!("cfn-out/k8s/ holds no manifests; run `cargo xtask synth`");
        return Ok(false);
    }
    let v = retail_forecast::KUBERNETES_VERSION;
    let version = format!("{}.{}.0", v.major(), v.minor());
    let status = Command::new(bin.join("kubernetes-validate"))
        .args(["--strict", "--quiet", "--kubernetes-version", &version])
        .args(&files)
        .status()
        .context("running kubernetes-validate")?;
    if status.success() {
        println!(
            "    kubernetes-validate: {} files valid for Kubernetes {version}",
            files.len()
        );
    }
    Ok(status.success())
}

/// actionlint on `.github/workflows/*.yml`, with shellcheck checking every `run:` script:
/// zero findings. actionlint silently skips shellcheck when it cannot find it, so the
/// venv's shellcheck is passed explicitly and must exist. pyflakes is off: no workflow
/// runs Python scripts inline.
fn actionlint(root: &Path) -> Result<bool> {
    let bin = venv::ensure(root)?;
    let shellcheck = bin.join("shellcheck");
    if !shellcheck.is_file() {
        eprintln!(
            "{} is missing; delete .venv/ to reinstall",
            shellcheck.display()
        );
        return Ok(false);
    }
    let workflows: Vec<PathBuf> = files_under(&root.join(".github/workflows"), &[".yml", ".yaml"]);
    if workflows.is_empty() {
        eprintln!(".github/workflows/ holds no workflows");
        return Ok(false);
    }
    let status = Command::new(bin.join("actionlint"))
        .arg(format!("-shellcheck={}", shellcheck.display()))
        .arg("-pyflakes=")
        .args(&workflows)
        .current_dir(root)
        .status()
        .context("running actionlint")?;
    if status.success() {
        println!("    actionlint: {} workflows, no findings", workflows.len());
    }
    Ok(status.success())
}
