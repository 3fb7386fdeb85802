//! # frugal-core
//!
//! The template model under every Frugal construct: typed CloudFormation values and
//! intrinsic functions ([`Expr`], [`Value`], [`fns`]), resource schema facts
//! ([`ResourceType`]), and the construct tree ([`App`] → [`Stack`] → [`Scope`]) that
//! synthesizes deterministic CloudFormation JSON ([`Assembly`], [`Manifest`]).
//!
//! ```
//! use frugal_core::App;
//! let mut app = App::new("demo");
//! app.set_tag("Project", "Demo");
//! let stack = app.new_stack("Demo");
//! app.add_stack(stack);
//! let assembly = app.synth().expect("valid app");
//! assert_eq!(assembly.manifest.stacks[0].name, "Demo");
//! ```

#![warn(missing_docs)]

mod app;
mod assembly;
mod error;
mod manifest;
mod resource;
mod stack;
mod synth;
mod value;

pub use app::{Acknowledged, App, Check, CheckContext, CheckedResource, Finding};
pub use assembly::{Assembly, SynthesizedStack};
pub use error::{Violation, Violations};
pub use manifest::{Manifest, StackManifest, MANIFEST_FILE};
pub use resource::{ResourceSchema, ResourceType, TagFormat};
pub use stack::{
    ConstructPath, Output, Parameter, ParameterHandle, ParameterType, RemovalPolicy,
    ResourceHandle, ResourceOptions, Scope, Stack, Tags, ACK_METADATA, MAX_RESOURCES_PER_STACK,
    PATH_METADATA,
};
pub use value::{fns, Expr, Intrinsic, Literal, LogicalRef, Pseudo, Value};
