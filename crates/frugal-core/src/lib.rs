//! # frugal-core
//!
//! The template model under every Frugal construct: typed CloudFormation values and
//! intrinsic functions ([`Expr`], [`Value`], [`fns`]), resource schema facts
//! ([`ResourceType`]), and the construct tree ([`App`] → [`Stack`] → [`Scope`]) that
//! synthesizes deterministic CloudFormation JSON.

#![warn(missing_docs)]

mod resource;
mod value;

pub use resource::{ResourceSchema, ResourceType, TagFormat};
pub use value::{fns, Expr, Intrinsic, Literal, LogicalRef, Pseudo, Value};
