//! Starts the example-actix binary on a free port and talks to it over
//! HTTP. The cases are shared by the examples.

const BIN: &str = env!("CARGO_BIN_EXE_example-actix");

#[path = "../../common/binary_suite.rs"]
mod binary_suite;
