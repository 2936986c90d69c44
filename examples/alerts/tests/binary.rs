//! Starts the example-alerts binary on a free port, with no downstream
//! configured, and talks to it over HTTP. The cases are shared by the
//! examples.

const BIN: &str = env!("CARGO_BIN_EXE_example-alerts");

#[path = "../../common/binary_suite.rs"]
mod binary_suite;
