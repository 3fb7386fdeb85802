//! # frugal-cost
//!
//! The monthly cost of a synthesized Frugal app, before and after its cost controls,
//! computed from the same templates that deploy.
//!
//! - [`Catalog`]: AWS public list prices per region, each with unit, source, date and
//!   confidence (`data/prices.toml`, compiled in). A price the catalog lacks is unknown,
//!   never guessed.
//! - [`Usage`]: how much the app is used, per environment (TOML): GB per bucket prefix
//!   and their ages, GB of logs ingested, images pushed, nodes, jobs. [`Usage::plan`] is
//!   the user's plan's own profile.
//! - [`Inventory`]: what one environment's templates contain that costs money.
//! - [`Estimator`]: prices the inventory with some [`Controls`] on. "Before" is every
//!   [`Lever`] off (on-demand nodes running all month, no lifecycle, never-expiring logs,
//!   no image pruning); "after" is the app as configured.
//! - [`Report`]: the lines joined, totals, and the published table's check; rendered by
//!   [`render::table`], [`render::markdown`], [`render::json`] and [`chart::svg`].
//!
//! ```
//! use frugal_cost::{Catalog, Estimator, Report, Usage};
//! let assembly = retail_forecast::app().and_then(|a| a.synth()).expect("app");
//! let usage = Usage::plan().expect("plan profile");
//! let catalog = Catalog::builtin().expect("catalog");
//! let estimator = Estimator::new(&assembly, "dev", &usage, "plan", &catalog, None).expect("estimator");
//! let report = Report::build(&estimator);
//! assert!(report.plan_check.expect("the plan has a table").before_reproduced);
//! ```

#![warn(missing_docs)]

pub mod catalog;
pub mod chart;
pub mod ecr;
mod error;
pub mod estimate;
pub mod inventory;
pub mod plan;
pub mod render;
pub mod report;
pub mod s3;
pub mod usage;

pub use catalog::{Catalog, Confidence, PriceEntry, PriceRef, Unit};
pub use error::CostError;
pub use estimate::{Amount, Component, Controls, Estimator, Item, Lever, Term};
pub use inventory::Inventory;
pub use plan::PlanCheck;
pub use report::{ComponentTotal, Line, Report};
pub use usage::{EnvUsage, Usage, PLAN_PROFILE};
