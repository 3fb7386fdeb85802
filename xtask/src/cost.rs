//! `cargo xtask cost [--usage FILE|plan] [--env dev|prod] [--format table|markdown|json]
//! [--chart FILE.svg] [--region REGION]`: the monthly cost before and after the app's cost
//! controls, computed in-process from the same synthesized templates that deploy.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use frugal_cost::{chart, render, Catalog, Estimator, Report, Usage, PLAN_PROFILE};

/// The usage file shipped with the app.
const DEFAULT_USAGE: &str = "apps/retail-forecast/usage.toml";

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A plain-text table with every line's derivation.
    Table,
    /// Markdown, for a pull-request comment.
    Markdown,
    /// JSON.
    Json,
}

/// Arguments of `cargo xtask cost`.
#[derive(clap::Args, Debug)]
pub struct CostArgs {
    /// Usage file (TOML), or `plan` for the plan's own assumptions (its item-14 table
    /// is then checked against the app).
    #[arg(long, default_value = DEFAULT_USAGE)]
    pub usage: String,
    /// Environment: the stacks tagged Environment=<env>.
    #[arg(long, default_value = "dev")]
    pub env: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write an SVG bar chart of before vs after per component to this file.
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,
    /// Price in this region instead of the usage file's.
    #[arg(long)]
    pub region: Option<String>,
}

/// Synthesizes the app, prices the environment under the usage, prints the report.
pub fn run(args: CostArgs) -> Result<ExitCode> {
    let assembly = match retail_forecast::app().and_then(|app| app.synth()) {
        Ok(a) => a,
        Err(violations) => {
            eprint!("synth failed, {violations}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let (usage, usage_name) = if args.usage == PLAN_PROFILE {
        (Usage::plan()?, PLAN_PROFILE.to_owned())
    } else {
        let text = std::fs::read_to_string(&args.usage)
            .with_context(|| format!("reading {}", args.usage))?;
        (Usage::from_toml(&text, &args.usage)?, args.usage.clone())
    };
    let catalog = Catalog::builtin()?;
    let estimator = Estimator::new(
        &assembly,
        &args.env,
        &usage,
        &usage_name,
        &catalog,
        args.region.as_deref(),
    )?;
    let report = Report::build(&estimator);
    match args.format {
        Format::Table => print!("{}", render::table(&report)),
        Format::Markdown => print!("{}", render::markdown(&report)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&render::json(&report))?),
    }
    if let Some(path) = &args.chart {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(path, chart::svg(&report))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
