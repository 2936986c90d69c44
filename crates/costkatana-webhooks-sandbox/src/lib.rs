//! TODO overview
pub mod bulk;
pub mod sender;

mod api;
mod engine;
mod js;
mod model;
mod random;
mod server;
mod shared;
mod store;
mod validate;

pub use server::{
    ApiKey, ApiKeyError, Emission, EmitError, Emitted, RunningSandbox, Sandbox, SandboxBuilder,
    StartError, DEFAULT_MAX_DELIVERIES,
};
