//! Starts the example-axum binary on a free port and talks to it over
//! HTTP: deliveries, duplicates, health, metrics, 404, and a graceful stop
//! on SIGTERM that still answers a request already in flight. The cases are
//! shared by the examples.

const BIN: &str = env!("CARGO_BIN_EXE_example-axum");

#[path = "../../common/binary_suite.rs"]
mod binary_suite;
